package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// TestLogMatchesImage: the events of each area agree with the image they
// describe, and the filter passes on only the areas asked for.
func TestLogMatchesImage(t *testing.T) {
	k, _, _, err := build()
	require.NoError(t, err)
	c, err := checkpoint(k, 1, 0, "objects")
	require.NoError(t, err)
	require.NoError(t, c.Err)
	rep, err := inspect.Inspect(bytes.NewReader(c.Image))
	require.NoError(t, err)
	marks := countMarks(rep)

	require.Equal(t, 1, c.Counts["syscall"])
	require.Equal(t, len(rep.Records), c.Counts["image"])
	require.Equal(t, count(rep, "OBJREF"), strings.Count(c.Text, `msg="first encounter"`))
	require.Equal(t, marks[inspect.MarkRef], strings.Count(c.Text, "msg=reference"))
	require.Equal(t, c.Counts["objects"], strings.Count(c.Text, "\n"), "only the objects area is printed")
	require.NotContains(t, c.Text, "area=image")

	r := restart(k, c.Image, "image")
	require.NoError(t, r.Err)
	require.Equal(t, len(rep.Records), r.Counts["image"])
	require.Equal(t, len(rep.Records), strings.Count(r.Text, "msg=read"))
	require.Equal(t, count(rep, "OBJREF")+marks[inspect.MarkFirst]+marks[inspect.MarkRef], r.Counts["objects"])
}

// TestRefusalLogged: a refused checkpoint logs why in the syscall area.
func TestRefusalLogged(t *testing.T) {
	k, _, _, err := build()
	require.NoError(t, err)
	refused, err := checkpoint(k, 2, 0, "syscall")
	require.NoError(t, err)
	require.ErrorIs(t, refused.Err, errno.EBUSY)
	require.Contains(t, refused.Text, `msg="checkpoint failed"`)
	require.Contains(t, refused.Text, "file objref 2")
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), `msg="first encounter" area=objects type="file table" objref=1`)
	require.Contains(t, out.String(), `msg="checkpoint failed"`)
}
