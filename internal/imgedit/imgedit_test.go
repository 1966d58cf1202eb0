package imgedit_test

import (
	"bytes"
	"io"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

func sample(t *testing.T) []byte {
	t.Helper()
	k := kernel.New(kernel.Config{})
	_, err := k.Spawn(1, "init")
	require.NoError(t, err)
	_, err = k.Fork(1, 2)
	require.NoError(t, err)
	require.NoError(t, k.Exit(2, 7))
	img, err := (&ckpt.Engine{Kernel: k, Clock: func() time.Time { return time.Unix(0, 0) }}).Snapshot(1, 0)
	require.NoError(t, err)
	return img
}

func TestTypeAndIs(t *testing.T) {
	for _, name := range []string{"HEADER", "TASK", "FILE_TABLE", "FD", "FILE", "PIPE_BUF", "GHOST", "TAIL"} {
		typ := imgedit.Type(name)
		assert.Equal(t, name, image.SpecOf(typ).Name)
		assert.True(t, imgedit.Is(&image.Record{Type: typ}, name))
		assert.False(t, imgedit.Is(&image.Record{Type: typ}, "OBJREF"))
	}
	assert.Panics(t, func() { imgedit.Type("NO_SUCH_RECORD") })
}

func TestFields(t *testing.T) {
	img := sample(t)
	recs, err := imgedit.Read(img)
	require.NoError(t, err)
	assert.Equal(t, "TAIL", image.SpecOf(recs[len(recs)-1].Type).Name)
	var zombie *image.Record
	for _, r := range recs {
		if imgedit.Is(r, "TASK") && imgedit.Get(r, "Pid") == 2 {
			zombie = r
		}
	}
	require.NotNil(t, zombie)
	assert.Equal(t, int64(7), imgedit.Get(zombie, "ExitCode"))
	assert.Equal(t, []byte("init"), bytes.TrimRight(imgedit.Bytes(zombie, "Comm"), "\x00"))

	// Set copies before it writes: the records read stay as they were.
	c := imgedit.Clone([]*image.Record{zombie})[0]
	imgedit.Set(c, "ExitCode", -1)
	assert.Equal(t, int64(-1), imgedit.Get(c, "ExitCode"), "a signed field reads back sign-extended")
	assert.Equal(t, int64(7), imgedit.Get(zombie, "ExitCode"))
	imgedit.Set(c, "State", -1)
	assert.Equal(t, int64(1<<32-1), imgedit.Get(c, "State"), "an unsigned field is cut to its width")
	imgedit.SetBytes(c, "Comm", []byte("renamed"))
	assert.Equal(t, []byte("renamed\x00\x00\x00\x00\x00\x00\x00\x00\x00"), imgedit.Bytes(c, "Comm"))
	assert.Panics(t, func() { imgedit.Get(c, "NoSuchField") })
	assert.Panics(t, func() { imgedit.Get(c, "Comm") }, "an array is not a number")

	// A register record's payload is the x86cpu image, however the
	// engine splits it into fixed part and tail.
	for _, r := range recs {
		if imgedit.Is(r, "REGS") {
			var s x86cpu.State
			require.NoError(t, s.UnmarshalBinary(imgedit.Payload(r)))
			s.FPU.XMM[3].Hi = 42
			b, err := s.MarshalBinary()
			require.NoError(t, err)
			imgedit.SetPayload(r, b)
			assert.Equal(t, b, imgedit.Payload(r))
		}
	}
}

func TestCompressed(t *testing.T) {
	img := sample(t)
	assert.False(t, imgedit.Compressed(img))
	e := &ckpt.Engine{Kernel: kernel.New(kernel.Config{}), Compress: true}
	_, err := e.Kernel.Spawn(1, "init")
	require.NoError(t, err)
	z, err := e.Snapshot(1, 0)
	require.NoError(t, err)
	assert.True(t, imgedit.Compressed(z))
	assert.False(t, imgedit.Compressed(z[:20]), "too short to say")
	recs, err := imgedit.Read(z)
	require.NoError(t, err, "Read goes through the decompressor")
	assert.True(t, imgedit.Is(recs[len(recs)-1], "TAIL"))
}

func TestReadStopsAtTheTail(t *testing.T) {
	img := sample(t)
	recs, err := imgedit.Read(append(append([]byte(nil), img...), "trailing bytes"...))
	require.NoError(t, err)
	assert.Equal(t, int64(len(img)), recs[len(recs)-1].End())
	_, err = imgedit.Read(img[:recs[len(recs)-1].Offset])
	assert.ErrorIs(t, err, io.EOF, "an image without its tail")
}
