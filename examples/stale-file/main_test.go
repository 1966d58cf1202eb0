package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// TestRestartChecksTheDisk: the image restarts on an unchanged disk, and is
// refused with ESTALE once the file changed (at the same size) and ENOENT
// once it is gone, naming the path, with nothing left behind. The unlinked
// file's contents come from the image whatever the disk holds.
func TestRestartChecksTheDisk(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	img, err := checkpoint(world.K)
	require.NoError(t, err)

	k2, err := restart(world.K, img)
	require.NoError(t, err)
	got, err := k2.Read(app, world.NotesFd, 64)
	require.NoError(t, err)
	require.Equal(t, draft, string(got))
	got, err = k2.Read(app, world.ScratchFd, 64)
	require.NoError(t, err)
	require.Equal(t, temp, string(got))

	require.NoError(t, editNotes(world.K))
	k2, err = restart(world.K, img)
	require.ErrorIs(t, err, errno.ESTALE)
	require.Contains(t, err.Error(), notes)
	require.Contains(t, err.Error(), "image offset")
	require.Zero(t, k2.Registry().Count(kref.Task))
	require.Zero(t, k2.Registry().Count(kref.File))

	require.NoError(t, world.K.Unlink(editor, notes))
	k2, err = restart(world.K, img)
	require.ErrorIs(t, err, errno.ENOENT)
	require.Contains(t, err.Error(), notes)
	require.Zero(t, k2.Registry().Count(kref.Task))
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), `path="/notes"`)
	require.Contains(t, out.String(), "ESTALE")
	require.Contains(t, out.String(), "ENOENT")
}
