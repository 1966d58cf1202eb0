package image_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/allocs"
)

// corpusBytes reads a []byte input kept in a fuzz corpus file.
func corpusBytes(t *testing.T, path string) []byte {
	raw, err := os.ReadFile(path)
	require.NoError(t, err)
	_, arg, ok := strings.Cut(strings.TrimSpace(string(raw)), "\n")
	require.True(t, ok && strings.HasPrefix(arg, "[]byte(") && strings.HasSuffix(arg, ")"), "%s is no corpus file of one []byte", path)
	s, err := strconv.Unquote(strings.TrimSuffix(strings.TrimPrefix(arg, "[]byte("), ")"))
	require.NoError(t, err)
	return []byte(s)
}

// TestZstdWindowIsBounded: a compressed stream whose frame asks for a
// larger window than the writer uses is refused at the frame's header,
// before the decoder allocates the window (the kept fuzz input asks for 8
// MiB, which cost 8.8 MB while 8 MiB was allowed), and the writer's own
// frames fit the bound, whatever they hold.
func TestZstdWindowIsBounded(t *testing.T) {
	img := corpusBytes(t, filepath.Join("testdata", "fuzz", "FuzzReader", "zstd-frame-asking-an-8MiB-window"))
	var err error
	spent := allocs.Exact(func() {
		r := image.NewReader(bytes.NewReader(img))
		defer r.Close()
		for err == nil {
			_, err = r.Next()
		}
	})
	require.ErrorContains(t, err, "window")
	require.Less(t, spent, uint64(image.ZstdWindow), "refusing the frame allocated %d bytes", spent)

	// The writer's frame of 4 MiB of incompressible bytes: its header
	// gives the window it needs, which must be within the bound.
	noise := make([]byte, 4<<20)
	for i := range noise {
		noise[i] = byte(i*2654435761>>13 ^ i>>7)
	}
	var out bytes.Buffer
	w := image.NewWriter(&out)
	require.NoError(t, image.HeaderKind.Write(w, &image.Header{Magic: image.HeaderMagic, Flags: image.FlagZstd}))
	require.NoError(t, w.Compress())
	for off := 0; off < len(noise); off += image.MaxMessage {
		require.NoError(t, image.ErrorKind.Write(w, &image.NoFixed{}, noise[off:min(off+image.MaxMessage, len(noise))]))
	}
	require.NoError(t, w.WriteTail())
	var h zstd.Header
	require.NoError(t, h.Decode(out.Bytes()[image.RecordSize(image.HeaderKind.Spec().FixedSize()):]))
	require.LessOrEqual(t, h.WindowSize, uint64(image.ZstdWindow))
}
