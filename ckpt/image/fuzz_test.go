package image_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	_ "github.com/ckptsim/ckptsim/ckpt" // the record types of every object
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/allocs"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// readerAllocs bounds what reading an image's records may allocate for n
// bytes of input: 256 KiB + 16*n. A record's payload is allocated as its
// bytes arrive, at most 64 KiB ahead of them, so a record that claims 16
// MiB in a cut image costs what is there (this bound caught a reader that
// allocated a claimed length up front: 16.8 MB for a 2.7 KB image); each
// record, 8 bytes at the least, costs its Record and slices besides.
var readerAllocs = allocs.Bound{Base: 256 << 10, PerByte: 16}

// zstdReaderAllocs bounds the same for a compressed image (FlagZstd), n
// the length of its plain records when longer than the input: the
// decompressor takes its whole window up front, whatever follows, and the
// reader allows the writer's, image.ZstdWindow (1 MiB), no more: a frame
// that asks for 8 MiB is refused at its header (with 8 MiB allowed, a 7.5
// KB image whose frame asked for it cost 8.8 MB).
var zstdReaderAllocs = allocs.Bound{Base: 2 << 20, PerByte: 16}

// FuzzReader reads arbitrary bytes as records with image.NewReader, as
// restart, show, diff and graph do: it must never panic, must allocate
// within readerAllocs, and each record it returns must fit the framing
// (a known type, a length within the type's bounds, right after the
// previous record); it must end with io.EOF at a record boundary (the
// input's end, for a plain image), or with an *image.Error (EINVAL) at the
// offset where the last record ended.
//
//	go test -run XXX -fuzz FuzzReader -fuzztime 5m ./ckpt/image
//
// The seeds are the golden images, plain and compressed (added at run
// time), and the inputs kept in testdata/fuzz/FuzzReader.
func FuzzReader(f *testing.F) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "golden", "testdata", "golden", "*.ckpt"))
	require.NoError(f, err)
	require.NotEmpty(f, paths)
	for _, p := range paths {
		img, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(img)
		f.Add(compressed(f, img))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var recs []*image.Record
		var end error
		if imgedit.Compressed(data) {
			recs, _ = readAll(data)
			n := len(data)
			if len(recs) > 0 {
				n = max(n, int(recs[len(recs)-1].End()))
			}
			zstdReaderAllocs.Within(t, "reading compressed records", n, func() { recs, end = readAll(data) })
		} else {
			readerAllocs.Within(t, "reading records", len(data), func() { recs, end = readAll(data) })
		}
		var off int64
		for _, r := range recs {
			s := image.SpecOf(r.Type)
			payload := len(r.Fixed) + len(r.Tail)
			switch {
			case s == nil:
				t.Fatalf("record at %d of unknown type %d returned", r.Offset, r.Type)
			case r.Offset != off:
				t.Fatalf("record at %d, the previous one ended at %d", r.Offset, off)
			case len(r.Fixed) != s.FixedSize():
				t.Fatalf("%v record at %d with a %d-byte fixed part, not %d", r.Type, r.Offset, len(r.Fixed), s.FixedSize())
			case len(r.Tail) < s.Tail.Min || len(r.Tail) > s.Tail.Max:
				t.Fatalf("%v record at %d with a %d-byte tail, allowed %d..%d", r.Type, r.Offset, len(r.Tail), s.Tail.Min, s.Tail.Max)
			case r.End() != r.Offset+image.RecordSize(payload):
				t.Fatalf("%v record at %d ends at %d", r.Type, r.Offset, r.End())
			}
			off = r.End()
		}
		// A compressed image's offsets are those of its plain records.
		zstd := len(recs) > 0 && imgedit.Is(recs[0], "HEADER") && imgedit.Get(recs[0], "Flags")&image.FlagZstd != 0
		if off > int64(len(data)) && !zstd {
			t.Fatalf("records end at %d, past the input's %d bytes", off, len(data))
		}
		if end == io.EOF {
			if off != int64(len(data)) && !zstd {
				t.Fatalf("io.EOF at %d, inside the input's %d bytes", off, len(data))
			}
			return
		}
		var ie *image.Error
		if !errors.As(end, &ie) || !errors.Is(end, errno.EINVAL) {
			t.Fatalf("reading stopped with %v, not an image error", end)
		}
		if ie.Offset != off {
			t.Fatalf("the error is at %d, the last record ended at %d: %v", ie.Offset, off, end)
		}
		if len(end.Error()) > 300 {
			t.Fatalf("an error of %d bytes: %.300s", len(end.Error()), end)
		}
	})
}

// readAll reads every record of data, and the error that ended the
// reading: io.EOF for an input that ends cleanly (image.ReadAll says nil).
func readAll(data []byte) ([]*image.Record, error) {
	recs, err := image.ReadAll(bytes.NewReader(data))
	if err == nil {
		err = io.EOF
	}
	return recs, err
}

// compressed returns a plain image as a compressed one (FlagZstd): the
// header plain, with the flag set and the checksum recomputed, the records
// after it one zstd frame.
func compressed(t testing.TB, img []byte) []byte {
	recs, err := imgedit.Read(img)
	require.NoError(t, err)
	imgedit.Set(recs[0], "Flags", imgedit.Get(recs[0], "Flags")|image.FlagZstd)
	plain := image.Encode(recs, true)
	n := int(recs[0].End())
	var out bytes.Buffer
	out.Write(plain[:n])
	enc, err := zstd.NewWriter(&out, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(image.ZstdWindow))
	require.NoError(t, err)
	_, err = enc.Write(plain[n:])
	require.NoError(t, err)
	require.NoError(t, enc.Close())
	return out.Bytes()
}
