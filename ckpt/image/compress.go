package image

import (
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
)

// FlagZstd is the HEADER flag of a compressed image: every record after
// the header is a Zstandard stream (one frame). The header itself stays
// plain, so that any reader can tell; offsets in errors, and the tail's
// checksum, are those of the records as they are before compression, so a
// compressed image means exactly what its plain form does. The records
// keep their fixed-width, 8-byte-aligned form inside: compression is the
// stream's, not the format's.
//
// zstd is github.com/klauspost/compress/zstd: pure Go (no cgo, so the
// project still builds with Go alone), streaming both ways, maintained, and
// with decoder limits that bound memory on a hostile stream.
const FlagZstd = 1 << 16

// ZstdWindow is the compressed stream's window: the writer's, and the
// most the reader allows, so that a frame header asking for more is
// refused before the decoder allocates it (with 8 MiB allowed, a 7.5 KB
// image whose frame asked for 8 MiB cost 8.8 MB before its first record
// was refused). A larger window finds matches further back, but an
// object's records sit together: with 1 MiB, BenchmarkImageSize's images
// of 10k objects come out at most 6% larger than with 8 MiB (tasks with
// tables of their own; the other shapes within 0.5%).
const ZstdWindow = 1 << 20

// Compress makes the records written after the header go through a zstd
// encoder; call it right after writing the header, whose Flags must hold
// FlagZstd. WriteTail and WriteError end the compressed stream.
func (w *Writer) Compress() error {
	if w.err != nil {
		return w.err
	}
	enc, err := zstd.NewWriter(w.w, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(ZstdWindow))
	if err != nil {
		return err
	}
	w.plain, w.w, w.zenc = w.w, enc, enc
	return nil
}

// finish ends a compressed stream: the rest of the frame goes out.
func (w *Writer) finish() error {
	if w.zenc == nil {
		return nil
	}
	err := w.zenc.Close()
	w.w, w.zenc = w.plain, nil
	if err != nil && w.err == nil {
		w.err = fmt.Errorf("image: ending the compressed stream: %w", err)
	}
	return w.err
}

// decompress switches the reader to the compressed stream that follows a
// header with FlagZstd. The decoder reads ahead of what it returns, so a
// restart of a compressed image may consume bytes of the stream past the
// image's end.
func (r *Reader) decompress(header *Record) error {
	f := headerKind().Field("Flags")
	if v, _ := f.Value(header.Fixed); v&FlagZstd == 0 {
		return nil
	}
	dec, err := zstd.NewReader(r.r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
		zstd.WithDecoderMaxWindow(ZstdWindow))
	if err != nil {
		return header.Errorf("starting the decompressor: %v", err)
	}
	r.r, r.zdec = zstdErrors{dec}, dec
	return nil
}

// Close releases a decompressor's resources; a reader of a plain image has
// none. It is safe to call more than once.
func (r *Reader) Close() {
	if r.zdec != nil {
		r.zdec.Close()
		r.zdec = nil
	}
}

// zstdErrors reads a decompressed stream, reporting a malformed one as
// such rather than as a failure of the stream beneath.
type zstdErrors struct{ dec *zstd.Decoder }

func (z zstdErrors) Read(p []byte) (int, error) {
	n, err := z.dec.Read(p)
	if err != nil && err != io.EOF && !errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: %v", errCorrupt, err)
	}
	return n, err
}

// errCorrupt marks a compressed stream that cannot be decompressed.
var errCorrupt = errors.New("compressed stream corrupt")

func headerKind() *Spec { return HeaderKind.Spec() }
