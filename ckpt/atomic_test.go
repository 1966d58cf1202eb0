package ckpt_test

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// TestRestartOfEveryPrefixFails restarts every proper prefix of the hostile
// world's image, from 0 bytes to all but the last: each must fail with
// EINVAL and leave the target kernel exactly as it was.
func TestRestartOfEveryPrefixFails(t *testing.T) {
	k, img := hostileWorld(t)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	before := k2.Registry().Snapshot()
	for n := range len(img) {
		_, err := ckpt.New(k2).Restart(bytes.NewReader(img[:n]), 0)
		if !assert.Truef(t, errors.Is(err, errno.EINVAL), "prefix of %d bytes: want EINVAL, got %v", n, err) {
			break
		}
		if diff := before.Diff(k2.Registry().Snapshot()); diff != "" {
			require.Failf(t, "a failed restart changed the kernel", "prefix of %d bytes: %v\n%s", n, err, diff)
		}
		if n%512 == 0 {
			require.NoError(t, k2.Check(), "prefix of %d bytes", n)
		}
	}
	require.NoError(t, k2.Check())
	t.Logf("%d prefixes tried", len(img))
	// The whole image restarts into the same kernel: the failures left
	// nothing in the way.
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), 0)
	require.NoError(t, err)
	require.Equal(t, hwRoot, root)
	require.NoError(t, k2.Check())
}

// TestRestartTwiceFailsWithEEXIST restarts an image successfully, then
// again into the same kernel: the second restart finds the pids taken,
// fails with EEXIST naming the root's pid, and changes nothing.
func TestRestartTwiceFailsWithEEXIST(t *testing.T) {
	k, img := hostileWorld(t)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), ckpt.RESTART_FROZEN)
	require.NoError(t, err)
	require.Equal(t, hwRoot, root)
	require.NoError(t, k2.Check())
	view := k2.View()

	_, err = restartAtomically(t, k2, img)
	require.ErrorIs(t, err, errno.EEXIST)
	recs := readRecords(t, img)
	i := findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwRoot))
	assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: TASK record: pid %d is taken", recs[i].Offset, hwRoot))
	assert.Equal(t, view, k2.View(), "the failed restart changed the world")
}

// randomWorld builds a small world through a few random system calls under
// one spawned root, freezes it and returns the kernel, the root and the
// image. Exits are kept to tasks without children, so that every object
// stays inside the container and checkpoint succeeds.
func randomWorld(t *rapid.T) (*kernel.Kernel, []byte) {
	k := kernel.New(kernel.Config{})
	const root = 10
	_, err := k.Spawn(root, "root")
	require.NoError(t, err)
	require.NoError(t, k.Mkdir(root, "/d", 0o755))
	require.NoError(t, k.WriteFile("/d/f", []byte("0123456789"), 0o644))
	require.NoError(t, k.Mkfifo(root, "/fifo", 0o600))
	// A base every world has: a file, a pipe and a FIFO with bytes in
	// them, an unlinked file, a child sharing them. The random calls
	// change it from there.
	_, err = k.Open(root, "/d/f", vfs.O_RDWR, 0)
	require.NoError(t, err)
	fds, err := k.Pipe2(root, 0)
	require.NoError(t, err)
	_, err = k.Write(root, fds[1], []byte("pipe"))
	require.NoError(t, err)
	fifo, err := k.Open(root, "/fifo", vfs.O_RDWR|vfs.O_NONBLOCK, 0)
	require.NoError(t, err)
	_, err = k.Write(root, fifo, []byte("fifo"))
	require.NoError(t, err)
	ghost, err := k.Open(root, "/d/ghost", vfs.O_CREAT|vfs.O_RDWR, 0o600)
	require.NoError(t, err)
	_, err = k.Write(root, ghost, []byte("ghost"))
	require.NoError(t, err)
	require.NoError(t, k.Unlink(root, "/d/ghost"))
	_, err = k.Fork(root, root+1)
	require.NoError(t, err)
	live := []int{root, root + 1}
	children := map[int]int{root: 1}
	parent := map[int]int{root + 1: root}
	nextPid := root + 2
	paths := []string{"/d/f", "/d/g", "/g", "/fifo", "/d", "/"}
	pick := func(label string) int { return rapid.SampledFrom(live).Draw(t, label) }
	var pid int
	// fd draws one of the caller's open descriptors, now and then any.
	fd := func() int {
		if tv := k.View().Task(pid); tv != nil && rapid.IntRange(0, 9).Draw(t, "any fd") > 0 {
			var open []int
			for _, f := range k.View().FileTables[tv.FileTable].Fds {
				open = append(open, f.Fd)
			}
			if len(open) > 0 {
				return rapid.SampledFrom(open).Draw(t, "open fd")
			}
		}
		return rapid.IntRange(0, 8).Draw(t, "fd")
	}
	steps := rapid.IntRange(1, 20).Draw(t, "steps")
	for range steps {
		pid = pick("pid")
		switch rapid.IntRange(0, 12).Draw(t, "call") {
		case 0, 1:
			path := rapid.SampledFrom(paths).Draw(t, "path")
			flags := rapid.SampledFrom([]int{vfs.O_RDONLY, vfs.O_WRONLY, vfs.O_RDWR}).Draw(t, "access")
			if rapid.Bool().Draw(t, "creat") {
				flags |= vfs.O_CREAT
			}
			if rapid.Bool().Draw(t, "append") {
				flags |= vfs.O_APPEND | vfs.O_NONBLOCK
			}
			if rapid.Bool().Draw(t, "cloexec") {
				flags |= vfs.O_CLOEXEC
			}
			k.Open(pid, path, flags, 0o644)
		case 2:
			k.Pipe2(pid, rapid.SampledFrom([]int{0, vfs.O_NONBLOCK, vfs.O_DIRECT}).Draw(t, "pipe flags"))
		case 3, 4:
			k.Write(pid, fd(), bytes.Repeat([]byte{'x'}, rapid.IntRange(1, 5000).Draw(t, "bytes")))
		case 5:
			k.Read(pid, fd(), rapid.IntRange(1, 100).Draw(t, "count"))
		case 6:
			k.Lseek(pid, fd(), int64(rapid.IntRange(0, 20).Draw(t, "offset")), vfs.SEEK_SET)
		case 7:
			k.Dup(pid, fd())
		case 8:
			k.Close(pid, fd())
		case 9:
			flags := rapid.SampledFrom([]int{0, kernel.CLONE_FS, kernel.CLONE_FILES, kernel.CLONE_FS | kernel.CLONE_FILES}).Draw(t, "clone flags")
			if c, err := k.Clone(pid, nextPid, flags, ""); err == nil {
				live = append(live, c)
				children[pid]++
				parent[c] = pid
				nextPid++
			}
		case 10:
			k.Unlink(pid, rapid.SampledFrom(paths[:4]).Draw(t, "unlink path"))
		case 11:
			if pid != root && children[pid] == 0 {
				require.NoError(t, k.Exit(pid, rapid.IntRange(0, 255).Draw(t, "exit code")))
				for i, p := range live {
					if p == pid {
						live = append(live[:i:i], live[i+1:]...)
						break
					}
				}
				if rapid.Bool().Draw(t, "reap") {
					_, err := k.Wait(parent[pid], pid)
					require.NoError(t, err)
				}
			}
		case 12:
			k.Chdir(pid, rapid.SampledFrom([]string{"/", "/d"}).Draw(t, "dir"))
		}
	}
	require.NoError(t, k.Freeze(root))
	var buf bytes.Buffer
	_, err = (&ckpt.Engine{Kernel: k, Clock: epochClock}).Checkpoint(root, &buf, 0)
	require.NoError(t, err)
	return k, buf.Bytes()
}

// interesting values for a mutated field.
var interestingInts = []int64{0, 1, 2, -1, 3, 4, 5, 7, 8, 9, 11, 15, 16, 17, 255, 256, 4095, 4096, 65535, 65536,
	1 << 20, 1 << 22, math.MaxInt32, math.MinInt32, math.MaxUint32, math.MaxInt64, math.MinInt64}

// mutateField sets one field of the record's fixed part, as its spec lays
// it out (nested fields included), to an interesting or random value, or to
// the old value plus or minus one.
func mutateField(t *rapid.T, r *image.Record) {
	s := image.SpecOf(r.Type)
	if s == nil || len(s.Fields()) == 0 || len(r.Fixed) != s.FixedSize() {
		// No fixed part (or it is the wrong size): mutate the tail.
		flipBytes(t, r)
		return
	}
	f := s.Fields()[rapid.IntRange(0, len(s.Fields())-1).Draw(t, "field")]
	r.Fixed = append([]byte(nil), r.Fixed...) // a duplicated record keeps its own
	b := r.Fixed[f.Offset : f.Offset+f.Size]
	if f.Bytes {
		b[rapid.IntRange(0, len(b)-1).Draw(t, "byte")] = rapid.Byte().Draw(t, "value")
		return
	}
	var n int64
	switch rapid.IntRange(0, 3).Draw(t, "value kind") {
	case 0:
		n = rapid.SampledFrom(interestingInts).Draw(t, "interesting")
	case 1:
		n = rapid.Int64().Draw(t, "random")
	case 2, 3:
		old, _ := f.Value(r.Fixed)
		n = int64(old) + rapid.SampledFrom([]int64{-1, 1}).Draw(t, "delta")
	}
	for i := range b {
		b[i] = byte(n >> (8 * i))
	}
}

// flipBytes changes one to three bytes of the record's fixed part or tail.
func flipBytes(t *rapid.T, r *image.Record) {
	for range rapid.IntRange(1, 3).Draw(t, "flips") {
		part := &r.Fixed
		if len(r.Tail) > 0 && (len(r.Fixed) == 0 || rapid.Bool().Draw(t, "in tail")) {
			part = &r.Tail
		}
		if len(*part) == 0 {
			return
		}
		i := rapid.IntRange(0, len(*part)-1).Draw(t, "at")
		(*part)[i] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
	}
}

// mutate changes the records in one of several ways and returns them.
func mutate(t *rapid.T, recs []*image.Record) []*image.Record {
	i := rapid.IntRange(0, len(recs)-1).Draw(t, "record")
	switch rapid.IntRange(0, 6).Draw(t, "mutation") {
	case 0, 1, 2:
		mutateField(t, recs[i])
	case 3:
		flipBytes(t, recs[i])
	case 4:
		return dropRecord(recs, i)
	case 5:
		return insertRecords(recs, i, recs[rapid.IntRange(0, len(recs)-1).Draw(t, "copy of")])
	case 6:
		j := rapid.IntRange(0, len(recs)-1).Draw(t, "swap with")
		recs[i], recs[j] = recs[j], recs[i]
	}
	return recs
}

// restartFailsCleanly restarts img into k2: a failure must carry an errno
// and leave k2's registry as it was; either way k2 must pass its own check.
// A success must restore the world the image describes: checkpointed
// again, with the image's clock and flags, it gives the image back
// (props.SameImage), so that a restart that silently repairs or drops what
// an altered image says fails here. It returns the restart's error.
func restartFailsCleanly(t *rapid.T, k2 *kernel.Kernel, img []byte) error {
	before := k2.Registry().Snapshot()
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), ckpt.RESTART_FROZEN)
	if err != nil {
		_, ok := errno.Of(err)
		require.True(t, ok, "the error carries no errno: %v", err)
		var ce *ckpt.Error
		require.ErrorAs(t, err, &ce)
		require.Empty(t, before.Diff(k2.Registry().Snapshot()), "the failed restart changed the kernel: %v", err)
	}
	require.NoError(t, k2.Check(), "after restart (err %v)", err)
	if err == nil {
		again, err := props.Reimage(k2, root, img)
		require.NoError(t, err, "the restored container cannot be checkpointed")
		require.NoError(t, props.SameImage(img, again))
	}
	return err
}

// TestRestartOfMutatedImages is the property: restart of a random world's
// image, with random fields or bytes changed, records removed, duplicated or
// swapped, and the checksum recomputed, either fails cleanly (an errno,
// nothing changed) or succeeds with a consistent kernel. It never panics.
func TestRestartOfMutatedImages(t *testing.T) {
	var failed, succeeded int
	rapid.Check(t, func(t *rapid.T) {
		k, img := randomWorld(t)
		recs, err := image.ReadAll(bytes.NewReader(img))
		require.NoError(t, err)
		for range rapid.IntRange(1, 3).Draw(t, "mutations") {
			recs = mutate(t, recs)
		}
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		if restartFailsCleanly(t, k2, image.Encode(recs, true)) != nil {
			failed++
		} else {
			succeeded++
		}
	})
	t.Logf("mutated images: %d refused, %d restarted", failed, succeeded)
}

// TestRestartChecksChecksum is the property: without the checksum
// recomputed, any byte changed before the tail makes restart fail, cleanly.
func TestRestartChecksChecksum(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k, img := randomWorld(t)
		recs, err := image.ReadAll(bytes.NewReader(img))
		require.NoError(t, err)
		tail := recs[len(recs)-1]
		require.Equal(t, image.TypeTail, tail.Type)
		bad := append([]byte(nil), img...)
		at := rapid.SliceOfNDistinct(rapid.IntRange(0, int(tail.Offset)-1), 1, 3, rapid.ID[int]).Draw(t, "at")
		for _, i := range at {
			bad[i] ^= rapid.ByteRange(1, 255).Draw(t, "xor")
		}
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		require.Error(t, restartFailsCleanly(t, k2, bad), "restart accepted an image with a byte changed before the tail")
	})
}

// TestRandomWorldsRestart makes sure the mutation properties start from
// images that restart: the random worlds, unchanged, come back.
func TestRandomWorldsRestart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k, img := randomWorld(t)
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		require.NoError(t, restartFailsCleanly(t, k2, img))
	})
}
