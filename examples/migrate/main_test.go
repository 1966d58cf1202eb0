package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// TestMigrate: the world arrives equivalent, through the pipe went exactly
// the image a buffered checkpoint gives, and the restored pipe and file
// carry on.
func TestMigrate(t *testing.T) {
	world, err := build()
	require.NoError(t, err)

	img, err := (&ckpt.Engine{Kernel: world.K, Clock: clock}).Snapshot(server, 0)
	require.NoError(t, err)

	tr, err := migrate(world.K, server, 0)
	require.NoError(t, err)
	require.Equal(t, len(img), tr.Bytes, "the streamed image is the buffered one")
	require.NoError(t, equiv.Equal(world.K.View(), tr.Dest.View()))
	require.NoError(t, tr.Dest.Check())

	steps := lockstep(world, tr.Dest)
	for _, s := range steps {
		require.Equal(t, s.Source, s.Dest, s.Call)
	}
	require.Equal(t, fmt.Sprintf("%q", request), steps[0].Dest, "the bytes in flight reach the worker")
	require.Equal(t, fmt.Sprintf("%q", records[firstLen:]), steps[1].Dest, "the file position is kept")
	_, err = tr.Dest.Read(worker, world.ReadFd, 64)
	require.ErrorIs(t, err, errno.BLOCKED, "the server still holds the write end")
}

// TestCutTransfer: a transfer cut short fails on both sides, leaves the
// destination empty and the source as it was.
func TestCutTransfer(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	before := world.K.Registry().Snapshot()
	for _, cut := range []int{1, 500, 2000} {
		tr, err := migrate(world.K, server, cut)
		require.Error(t, err)
		require.ErrorIs(t, tr.Received, errno.EINVAL, "cut at %d", cut)
		require.ErrorIs(t, tr.Sent, errno.EIO, "cut at %d", cut)
		require.Zero(t, tr.Dest.Registry().Count(kref.Task))
		require.Zero(t, tr.Dest.Registry().Count(kref.File))
		require.Empty(t, before.Diff(world.K.Registry().Snapshot()))
	}
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), "the two worlds are equivalent")
	require.Contains(t, out.String(), "destination is\nleft with 0 tasks")
}
