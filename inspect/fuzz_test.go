package inspect_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/allocs"
)

// encodeAllocs bounds what Encode may allocate for n bytes of JSON: 256 KiB
// + 64*n. JSON decoding copies each value a few times on its way to a
// field, and a tail's hex digits become half as many bytes.
var encodeAllocs = allocs.Bound{Base: 256 << 10, PerByte: 64}

// FuzzEncode writes images from arbitrary JSON with inspect.EncodeWith,
// with and without the checksum recomputed: it must never panic, must
// allocate within encodeAllocs, must refuse with an error of a few KiB at
// most (however long the input it quotes), and an image it writes
// whose records read back must survive ShowJSON and Encode unchanged.
//
//	go test -run XXX -fuzz FuzzEncode -fuzztime 5m ./inspect
//
// The seeds are the JSON forms of the golden images (made at run time) and
// the inputs kept in testdata/fuzz/FuzzEncode.
func FuzzEncode(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("..", "golden", "testdata", "golden", "*.ckpt"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for i, p := range paths {
		img, err := os.ReadFile(p)
		require.NoError(f, err)
		var js bytes.Buffer
		require.NoError(f, inspect.ShowJSON(&js, bytes.NewReader(img)))
		f.Add(js.Bytes(), i%2 == 0)
	}
	f.Fuzz(func(t *testing.T, js []byte, fixCRC bool) {
		var out bytes.Buffer
		var err error
		encodeAllocs.Within(t, "encode", len(js), func() {
			out.Reset()
			err = inspect.EncodeWith(&out, bytes.NewReader(js), inspect.EncodeOptions{FixCRC: fixCRC})
		})
		if err != nil {
			// The input is quoted in a short prefix; a field unknown to
			// a record lists the record's fields, which for REGS (every
			// register named) makes about 2.2 KB, but never more than
			// the record's spec.
			if len(err.Error()) > 4096 {
				t.Fatalf("an error of %d bytes: %.400s", len(err.Error()), err)
			}
			return
		}
		if _, err := image.ReadAll(bytes.NewReader(out.Bytes())); err != nil {
			return // written as asked, records the reader refuses
		}
		// ShowJSON says so when the image is incomplete (no tail), after
		// writing every record it read: all of them here.
		var again bytes.Buffer
		_ = inspect.ShowJSON(&again, bytes.NewReader(out.Bytes()))
		var back bytes.Buffer
		if err := inspect.Encode(&back, &again); err != nil {
			t.Fatalf("Encode of ShowJSON's output: %v", err)
		}
		if !bytes.Equal(out.Bytes(), back.Bytes()) {
			t.Fatalf("an image of %d bytes came back from its JSON as %d different bytes", out.Len(), back.Len())
		}
	})
}
