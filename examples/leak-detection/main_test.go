package main

import (
	"bytes"
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// TestRefusedNamingObjects: the container shares a pipe and a file with
// the host; checkpoint refuses with EBUSY, names both, and leaves the world
// and every reference count as they were.
func TestRefusedNamingObjects(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	before := world.K.View()
	refused, err := checkpoint(world.K, 0)
	require.NoError(t, err)
	require.ErrorIs(t, refused.Err, errno.EBUSY)
	var leaks *objhash.LeakError
	require.True(t, errors.As(refused.Err, &leaks))
	var named []string
	for _, l := range leaks.Leaks {
		named = append(named, fmt.Sprintf("%s %d", l.Name, l.Objref))
		require.Equal(t, int64(1), l.Outside(), l.String())
	}
	require.Equal(t, []string{"pipe 3", "file 4"}, named)
	require.Empty(t, refused.Changed, "a refused checkpoint must not change a reference count")
	require.NoError(t, equiv.Equal(before, world.K.View()))
	require.NoError(t, world.K.Check())
}

// TestSubtreeSaves: CHECKPOINT_SUBTREE saves the container, and restored
// alone its pipe has lost the host's writer.
func TestSubtreeSaves(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	saved, err := checkpoint(world.K, ckpt.CHECKPOINT_SUBTREE)
	require.NoError(t, err)
	require.NoError(t, saved.Err)
	require.Empty(t, saved.Changed)
	k2, pid, err := (&ckpt.Engine{}).RestartCopy(world.K, saved.Image, 0)
	require.NoError(t, err)
	require.Equal(t, root, pid)
	got, err := k2.Read(worker, world.ReadFd, 64)
	require.NoError(t, err)
	require.Equal(t, message, string(got))
	got, err = k2.Read(worker, world.ReadFd, 64)
	require.NoError(t, err)
	require.Empty(t, got, "end of file: no writer was restored")
	_, err = k2.Write(root, world.LogFd, []byte("log line"))
	require.NoError(t, err, "the log file is restored in the container")
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), "EBUSY")
	require.Contains(t, out.String(), "ObjType=4(pipe) Objref=3(first)")
	require.Contains(t, out.String(), "then blocks")
}
