package ckpt_test

import (
	"bytes"
	"encoding/binary"
	"testing"

	"github.com/klauspost/compress/zstd"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/internal/scaleworld"
)

// compactSize is what an image's records would take in a compact
// encoding: each record's type and length as varints, each field of its
// fixed part as a varint (zigzag for a signed one, its length and bytes
// for a byte array less its trailing NULs), its tail as it is. It is the
// yardstick of the "compact varint encoding": what dropping the
// fixed width and the alignment would give, without compression.
func compactSize(t testing.TB, img []byte) int {
	recs, err := imgedit.Read(img)
	if err != nil {
		t.Fatal(err)
	}
	var buf [binary.MaxVarintLen64]byte
	n := 0
	for _, rec := range recs {
		n += binary.PutUvarint(buf[:], uint64(rec.Type)) + binary.PutUvarint(buf[:], uint64(len(rec.Fixed)+len(rec.Tail)))
		for _, f := range image.SpecOf(rec.Type).Fields() {
			if f.Bytes {
				b := bytes.TrimRight(rec.Fixed[f.Offset:f.Offset+f.Size], "\x00")
				n += binary.PutUvarint(buf[:], uint64(len(b))) + len(b)
				continue
			}
			v, _ := f.Value(rec.Fixed)
			if f.Signed {
				n += binary.PutVarint(buf[:], int64(v))
			} else {
				n += binary.PutUvarint(buf[:], v)
			}
		}
		n += len(rec.Tail)
	}
	return n
}

// BenchmarkImageSize reports, for each shape of internal/scaleworld at 10k
// objects, the image's bytes per object: as written (plain), compressed
// (zstd, the engine's 1 MiB window), and in the compact encoding that
// compactSize estimates; and x-window8, the compressed size with the
// writer's 1 MiB window over that with zstd's default 8 MiB (1 is as
// small).
func BenchmarkImageSize(b *testing.B) {
	for _, shape := range scaleworld.Shapes {
		b.Run(shape, func(b *testing.B) {
			k, objects, err := scaleworld.Build(shape, 10000)
			if err != nil {
				b.Fatal(err)
			}
			var plain, packed bytes.Buffer
			for range b.N {
				plain.Reset()
				packed.Reset()
				if _, err := ckpt.New(k).Checkpoint(1, &plain, 0); err != nil {
					b.Fatal(err)
				}
				e := ckpt.New(k)
				e.Compress = true
				if _, err := e.Checkpoint(1, &packed, 0); err != nil {
					b.Fatal(err)
				}
			}
			// The same records with an 8 MiB window, the header kept plain.
			recs, err := imgedit.Read(plain.Bytes())
			if err != nil {
				b.Fatal(err)
			}
			head := int(recs[0].End())
			var wide bytes.Buffer
			enc, err := zstd.NewWriter(&wide, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(8<<20))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := enc.Write(plain.Bytes()[head:]); err != nil {
				b.Fatal(err)
			}
			if err := enc.Close(); err != nil {
				b.Fatal(err)
			}
			per := func(n int) float64 { return float64(n) / float64(objects) }
			b.ReportMetric(per(plain.Len()), "plain-B/obj")
			b.ReportMetric(per(packed.Len()), "zstd-B/obj")
			b.ReportMetric(per(compactSize(b, plain.Bytes())), "compact-B/obj")
			b.ReportMetric(float64(packed.Len()-head)/float64(wide.Len()), "x-window8")
		})
	}
}
