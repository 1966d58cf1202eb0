package graph_test

import (
	"bytes"
	"time"

	"github.com/stretchr/testify/require"

	"ckptsim/ckpt"
	"ckptsim/scenario"
	"ckptsim/sim/kernel"
)

// T is what the helpers need of a test: *testing.T and *rapid.T have it.
type T interface {
	require.TestingT
	Helper()
}

// testClock makes images reproducible.
func testClock() time.Time { return time.Unix(1700000000, 0) }

// world builds a kernel by running a script's system calls; every line must
// give what it says.
func world(t T, script string) *kernel.Kernel {
	t.Helper()
	s, err := scenario.ParseString("world", script)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	for _, l := range s.Lines {
		o := scenario.Exec(k, l)
		require.True(t, o.Matches(l.Expect), "line %d: %s: got %s", l.Num, l.Text, o)
	}
	return k
}

// checkpoint returns the image of the container rooted at pid, and the
// checkpoint's error.
func checkpoint(t T, k *kernel.Kernel, pid int) ([]byte, error) {
	t.Helper()
	require.NoError(t, k.Freeze(pid))
	var img bytes.Buffer
	_, err := (&ckpt.Engine{Kernel: k, Clock: testClock}).Checkpoint(pid, &img, 0)
	require.NoError(t, k.Thaw(pid))
	return img.Bytes(), err
}

// imageOf is the image of a world, rooted at pid 1.
func imageOf(t T, k *kernel.Kernel) []byte {
	t.Helper()
	img, err := checkpoint(t, k, 1)
	require.NoError(t, err)
	return img
}

// demo is a world with every kind of object and sharing: a file table
// shared through CLONE_FILES, a dup'd file with close-on-exec on the copy,
// a pipe with bytes in flight between parent and child, an unlinked file
// still open, and a zombie.
const demo = `
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
