package main

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// TestJSONRoundTrip: the JSON form encodes back to the identical image.
func TestJSONRoundTrip(t *testing.T) {
	k, err := build()
	require.NoError(t, err)
	img, err := checkpoint(k)
	require.NoError(t, err)
	var js bytes.Buffer
	require.NoError(t, inspect.ShowJSON(&js, bytes.NewReader(img)))
	again, err := encode(js.String(), false)
	require.NoError(t, err)
	require.Equal(t, img, again)
}

// TestEditRefusedAtOffset: the edited FD record is marked dangling and
// refused by restart with EINVAL at its offset, whether the checksum was
// fixed or not, and restart leaves no task behind.
func TestEditRefusedAtOffset(t *testing.T) {
	k, err := build()
	require.NoError(t, err)
	img, err := checkpoint(k)
	require.NoError(t, err)
	var js bytes.Buffer
	require.NoError(t, inspect.ShowJSON(&js, bytes.NewReader(img)))
	edit, err := editJSON(js.String())
	require.NoError(t, err)
	require.NotEqual(t, edit.Before, edit.After)
	for _, fix := range []bool{true, false} {
		bad, err := encode(edit.JSON, fix)
		require.NoError(t, err)
		require.Len(t, bad, len(img), "the edit changes a value, not a length")
		rec, err := edited(bad, inspect.MarkDangling)
		require.NoError(t, err)
		require.Equal(t, "FD", rec.Type.String())
		require.Equal(t, int64(dangling), rec.Field("File").Int())
		r := restart(k, bad)
		require.ErrorIs(t, r.Err, errno.EINVAL)
		require.Contains(t, r.Err.Error(), fmt.Sprintf("image offset %d: FD record", rec.Offset))
		require.Contains(t, r.Err.Error(), fmt.Sprintf("objref %d", dangling))
		require.Zero(t, r.Tasks)
	}
}

// TestCorruptByteRefusedByChecksum: a changed pipe byte is refused by the
// checksum alone, and the unchanged image restarts.
func TestCorruptByteRefusedByChecksum(t *testing.T) {
	k, err := build()
	require.NoError(t, err)
	img, err := checkpoint(k)
	require.NoError(t, err)
	bad, start, end, err := corrupt(img)
	require.NoError(t, err)
	require.Equal(t, "in flight", string(img[start:end]))
	require.Equal(t, "In flight", string(bad[start:end]))
	rep, err := inspect.Inspect(bytes.NewReader(bad))
	require.NoError(t, err, "the framing is intact")
	require.Equal(t, inspect.ChecksumMismatch, rep.Summary.Checksum)
	r := restart(k, bad)
	require.ErrorIs(t, r.Err, errno.EINVAL)
	require.Contains(t, r.Err.Error(), "checksum")
	require.Zero(t, r.Tasks)
	require.NoError(t, restart(k, img).Err)
}

// TestOutput: the narration runs to its end.
func TestOutput(t *testing.T) {
	var out bytes.Buffer
	require.NoError(t, run(&out))
	require.Contains(t, out.String(), "File=99(dangling)")
	require.Contains(t, out.String(), "the image is corrupt")
}
