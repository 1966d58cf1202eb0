// Package testworld holds the helpers that tests of more than one package
// need to build a world from a scenario script and take its image: a fixed
// clock, so that images are reproducible, and the demo world, whose image
// tests pin down byte offset by byte offset. It is for tests only; every
// helper fails the test it is given rather than returning a setup error.
package testworld

import (
	"bytes"
	"errors"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// T is what the helpers need of a test: *testing.T and *rapid.T have it.
type T interface {
	require.TestingT
	Helper()
}

// Clock is the fixed time every image of these helpers records in its
// header, so that the same world always gives the same bytes.
func Clock() time.Time { return time.Unix(1700000000, 0) }

// Build returns a new kernel on which a script's system calls have run, its
// checkpoint lines skipped (scenario.Replay). Every line must give the
// result it states, or the test fails.
func Build(t T, script string) *kernel.Kernel {
	t.Helper()
	s, err := scenario.ParseString("world", script)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	return k
}

// Checkpoint returns the image of the container rooted at pid, frozen for
// the checkpoint and thawed after, with the time of Clock, and the
// checkpoint's error: a failed checkpoint's image ends in its error record.
// The freeze and the thaw must succeed.
func Checkpoint(t T, k *kernel.Kernel, pid int) ([]byte, error) {
	t.Helper()
	img, err := (&ckpt.Engine{Kernel: k, Clock: Clock}).Snapshot(pid, 0)
	if !errors.As(err, new(*ckpt.Error)) {
		require.NoError(t, err, "freeze or thaw")
	}
	return img, err
}

// Image returns the image of the container rooted at pid 1 (see
// Checkpoint), which must succeed.
func Image(t T, k *kernel.Kernel) []byte {
	t.Helper()
	img, err := Checkpoint(t, k, 1)
	require.NoError(t, err)
	return img
}

// RestartRefused restarts img in a fresh kernel on a copy of disk's disk
// and requires that restart refuses it with want, in a message holding
// msg, and leaves nothing behind: every object the kernel held before, and
// no other, and its consistency check passing.
func RestartRefused(t T, disk *kernel.Kernel, img []byte, want error, msg string) {
	t.Helper()
	k := kernel.New(kernel.Config{DiskFrom: disk})
	before := k.Registry().Snapshot()
	_, err := ckpt.New(k).Restart(bytes.NewReader(img), 0)
	require.ErrorIs(t, err, want)
	require.ErrorContains(t, err, msg)
	require.Empty(t, before.Diff(k.Registry().Snapshot()), "the refused restart left objects behind")
	require.NoError(t, k.Check())
}

// Demo is a world with every kind of object and sharing: a file table
// shared through CLONE_FILES, a dup'd file with close-on-exec on the copy,
// a pipe with bytes in flight between parent and child, an unlinked file
// still open, and a zombie. Tests pin down exact offsets of its image, so
// any change to it moves them.
const Demo = `
	spawn 1 init
	open 1 /data O_RDWR|O_CREAT 0644 = 0
	write 1 0 "hello, world" = 12
	fcntl 1 0 F_DUPFD_CLOEXEC 0 = 1
	pipe 1 = 2 3
	write 1 3 "in flight" = 9
	clone 1 2 CLONE_FILES worker
	fork 1 3
	close 3 3
	open 1 /scratch O_RDWR|O_CREAT 0600 = 4
	write 1 4 "ghost contents" = 14
	unlink 1 /scratch
	fork 1 4
	exit 4 7
`

// Memory is a world whose tasks have memory of every kind an image holds:
// a private anonymous mapping with a written page, which fork shares copy
// on write (one frame, saved once); shared anonymous memory, one segment
// both address spaces map; a private mapping of a file whose descriptor
// was closed (the mapping holds the file); and a thread, cloned with
// CLONE_VM, that shares pid 1's address space.
const Memory = `
	spawn 1 init
	open 1 /data O_RDWR|O_CREAT 0644 = 0
	write 1 0 "hello, world" = 12
	mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS = 0x10000000
	memwrite 1 0x10000000 "parent" = 6
	mmap 1 0x10010000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS = 0x10010000
	memwrite 1 0x10010000 "shared" = 6
	mmap 1 0x10020000 4096 PROT_READ MAP_PRIVATE 0 0 = 0x10020000
	close 1 0 = 0
	fork 1 2
	clone 1 3 CLONE_VM thread
`
