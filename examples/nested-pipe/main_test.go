package main

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// TestPipeSavedOnce: the pipe's state is in the image once, after the first
// end's FILE record; the second end refers to it by objref.
func TestPipeSavedOnce(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	img, err := checkpoint(world.K)
	require.NoError(t, err)
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	require.Equal(t, 1, count(rep, "PIPE"))
	require.Equal(t, int64(1), rep.Summary.Count("pipes"))
	require.Equal(t, int64(len(inFlight)), rep.Summary.Count("pipe bytes"))
	groups := pipeRecords(rep)
	require.Len(t, groups, 2, "two pipe ends")
	first, second := rep.Records[groups[0][1]].Field("Pipe"), rep.Records[groups[1][1]].Field("Pipe")
	require.Equal(t, inspect.MarkFirst, first.Mark)
	require.Equal(t, inspect.MarkRef, second.Mark)
	require.Equal(t, first.Int(), second.Int())
	require.Len(t, groups[1], 3, "the second end is OBJREF, FILE, FD: no pipe state")
}

// TestRestoredEndsShareOnePipe: after restart the bytes in flight are
// readable from the restored read end, the second end was found parked,
// and both ends are one pipe.
func TestRestoredEndsShareOnePipe(t *testing.T) {
	world, err := build()
	require.NoError(t, err)
	img, err := checkpoint(world.K)
	require.NoError(t, err)
	k2, events, err := restart(world.K, img)
	require.NoError(t, err)
	require.NoError(t, k2.Check())
	require.Contains(t, events, Event{"reference", "pipe", "3"}, "the second end must be taken from the object hash")

	v := k2.View()
	require.Len(t, v.Pipes, 1)
	require.Equal(t, pipeOf(v, consumer, world.ReadFd), pipeOf(v, producer, world.WriteFd))

	got, err := k2.Read(consumer, world.ReadFd, 4096)
	require.NoError(t, err)
	require.Equal(t, inFlight, string(got))
	_, err = k2.Read(consumer, world.ReadFd, 4096)
	require.ErrorIs(t, err, errno.BLOCKED)
	_, err = k2.Write(producer, world.WriteFd, []byte("x"))
	require.NoError(t, err)
	got, err = k2.Read(consumer, world.ReadFd, 4096)
	require.NoError(t, err)
	require.Equal(t, "x", string(got))
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), "Pipe=3(ref)")
	require.Contains(t, out.String(), "reference: pipe objref 3")
	require.Contains(t, out.String(), `the consumer reads "`+later+`"`)
}
