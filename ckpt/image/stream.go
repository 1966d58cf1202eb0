package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// headerSize is the size of a record header: type and length.
const headerSize = 8

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// pad returns the padding after a payload of n bytes.
func pad(n int) int { return (8 - n%8) % 8 }

// RecordSize returns the bytes a record with an n-byte payload takes in an
// image: header, payload and padding.
func RecordSize(n int) int64 { return int64(headerSize + n + pad(n)) }

// End returns the offset just past the record: where the next one starts.
func (r *Record) End() int64 { return r.Offset + RecordSize(len(r.Fixed)+len(r.Tail)) }

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Error is a malformed image: where (the offset of the record's header)
// and what. It wraps EINVAL.
type Error struct {
	Offset int64
	Type   Type // 0 when the record type is not known yet
	Msg    string
}

func (e *Error) Error() string {
	if e.Type != 0 {
		return fmt.Sprintf("image offset %d: %v record: %s", e.Offset, e.Type, e.Msg)
	}
	return fmt.Sprintf("image offset %d: %s", e.Offset, e.Msg)
}

// Unwrap returns EINVAL: a malformed image is invalid input.
func (e *Error) Unwrap() error { return errno.EINVAL }

// Writer writes records to a stream, never seeking.
type Writer struct {
	w   io.Writer
	off int64
	crc hash.Hash32
	err error
	buf bytes.Buffer
	// OnRecord, when set, is called after each record is written, with its
	// offset and type, for debug logs.
	OnRecord func(off int64, t Type, length int)
}

// NewWriter returns a writer to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, crc: crc32.New(castagnoli)}
}

// Offset returns the number of bytes written so far.
func (w *Writer) Offset() int64 { return w.off }

// Write writes one record: fixed (a pointer to, or value of, the type's
// fixed struct; nil when it has none) then tail. The first error sticks:
// later writes return it.
func (w *Writer) Write(t Type, fixed any, tail []byte) error {
	if w.err != nil {
		return w.err
	}
	s := SpecOf(t)
	if s == nil {
		return fmt.Errorf("image: writing unknown record type %d", t)
	}
	w.buf.Reset()
	var hdr [headerSize]byte
	w.buf.Write(hdr[:])
	if fixed != nil {
		if reflect.Indirect(reflect.ValueOf(fixed)).Type() != s.Fixed {
			return fmt.Errorf("image: %v record with a %T", t, fixed)
		}
		if err := binary.Write(&w.buf, binary.LittleEndian, fixed); err != nil {
			return err
		}
	} else if s.Fixed != nil {
		return fmt.Errorf("image: %v record without its fixed part", t)
	}
	if len(tail) < s.MinTail || len(tail) > s.MaxTail {
		return fmt.Errorf("image: %v record with a %d-byte tail, allowed %d..%d", t, len(tail), s.MinTail, s.MaxTail)
	}
	w.buf.Write(tail)
	n := w.buf.Len() - headerSize
	w.buf.Write(make([]byte, pad(n)))
	b := w.buf.Bytes()
	binary.LittleEndian.PutUint32(b[0:], uint32(t))
	binary.LittleEndian.PutUint32(b[4:], uint32(n))
	return w.emit(t, b, n)
}

func (w *Writer) emit(t Type, b []byte, n int) error {
	off := w.off
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("image: writing %v record at offset %d: %w", t, off, err)
		return w.err
	}
	w.off += int64(len(b))
	if t != TypeTail {
		w.crc.Write(b)
	}
	if w.OnRecord != nil {
		w.OnRecord(off, t, n)
	}
	return nil
}

// WriteTail closes the image with a tail record holding the CRC32C of
// every byte written before it.
func (w *Writer) WriteTail() error {
	return w.Write(TypeTail, &Tail{Magic: TailMagic, CRC: w.crc.Sum32()}, nil)
}

// WriteError ends an incomplete image with an error record saying why. It
// writes even after a failed write of an earlier record, but not after a
// failure of the stream itself.
func (w *Writer) WriteError(msg string) error {
	if len(msg) > MaxMessage {
		msg = msg[:MaxMessage]
	}
	return w.Write(TypeError, nil, []byte(msg))
}

// Record is one record as read.
type Record struct {
	Offset int64 // of its header in the stream
	Type   Type
	Fixed  []byte // the fixed part
	Tail   []byte // the variable tail
	// CRC is, for a tail record, the CRC32C of every byte before it.
	CRC uint32
}

// Errorf returns an *Error about this record.
func (r *Record) Errorf(format string, args ...any) error {
	return &Error{Offset: r.Offset, Type: r.Type, Msg: fmt.Sprintf(format, args...)}
}

// Decode fills v, a pointer to the record type's fixed struct, and checks
// that every field named Pad... is zero, as the format requires.
func (r *Record) Decode(v any) error {
	s := SpecOf(r.Type)
	if reflect.TypeOf(v).Elem() != s.Fixed {
		return fmt.Errorf("image: decoding %v record into %T", r.Type, v)
	}
	if err := binary.Read(bytes.NewReader(r.Fixed), binary.LittleEndian, v); err != nil {
		return r.Errorf("%v", err)
	}
	// Straight from the struct, not through Fields: this runs for every
	// record restart reads, and Fields formats documentation.
	rv := reflect.ValueOf(v).Elem()
	for i := range rv.NumField() {
		if name := s.Fixed.Field(i).Name; strings.HasPrefix(name, "Pad") && !rv.Field(i).IsZero() {
			return r.Errorf("%s is not zero", name)
		}
	}
	return nil
}

// Reader reads records from a stream, never seeking.
type Reader struct {
	r    io.Reader
	off  int64
	crc  hash.Hash32
	peek *Record
	// OnRecord, when set, is called after each record is read.
	OnRecord func(rec *Record)
}

// NewReader returns a reader of r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: r, crc: crc32.New(castagnoli)}
}

// Offset returns the number of bytes consumed so far (not counting a peeked
// record).
func (r *Reader) Offset() int64 {
	if r.peek != nil {
		return r.peek.Offset
	}
	return r.off
}

// Peek returns the next record without consuming it.
func (r *Reader) Peek() (*Record, error) {
	if r.peek == nil {
		rec, err := r.read()
		if err != nil {
			return nil, err
		}
		r.peek = rec
	}
	return r.peek, nil
}

// Next returns the next record. It checks the record type, that the length
// fits the type's bounds (before reading the payload), and that the padding
// is zero. At the end of the stream it returns io.EOF; a stream cut inside a
// record is an *Error.
func (r *Reader) Next() (*Record, error) {
	if rec := r.peek; rec != nil {
		r.peek = nil
		return rec, nil
	}
	return r.read()
}

// Expect returns the next record, which must be of type t.
func (r *Reader) Expect(t Type) (*Record, error) {
	rec, err := r.Next()
	if err == io.EOF {
		return nil, &Error{Offset: r.off, Msg: fmt.Sprintf("image ends where a %v record was expected", t)}
	}
	if err != nil {
		return nil, err
	}
	if rec.Type != t {
		return nil, rec.Errorf("found where a %v record was expected", t)
	}
	return rec, nil
}

func (r *Reader) read() (*Record, error) {
	off := r.off
	var hdr [headerSize]byte
	n, err := io.ReadFull(r.r, hdr[:])
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, r.readError(off, 0, n, headerSize, err)
	}
	rec := &Record{Offset: off, Type: Type(binary.LittleEndian.Uint32(hdr[0:]))}
	length := int64(binary.LittleEndian.Uint32(hdr[4:]))
	s := SpecOf(rec.Type)
	if s == nil {
		return nil, &Error{Offset: off, Msg: fmt.Sprintf("unknown record type %d", rec.Type)}
	}
	fixed := int64(s.FixedSize())
	if length < fixed+int64(s.MinTail) || length > fixed+int64(s.MaxTail) {
		return nil, rec.Errorf("length %d, allowed %d..%d", length, fixed+int64(s.MinTail), fixed+int64(s.MaxTail))
	}
	if rec.Type == TypeTail {
		rec.CRC = r.crc.Sum32()
	} else {
		r.crc.Write(hdr[:])
	}
	body, err := readBody(r.r, int(length)+pad(int(length)))
	if err != nil {
		return nil, r.readError(off, rec.Type, headerSize+len(body), headerSize+int(length)+pad(int(length)), err)
	}
	if rec.Type != TypeTail {
		r.crc.Write(body)
	}
	r.off = off + headerSize + int64(len(body))
	for _, b := range body[length:] {
		if b != 0 {
			return nil, rec.Errorf("padding is not zero")
		}
	}
	rec.Fixed, rec.Tail = body[:fixed:fixed], body[fixed:length:length]
	if r.OnRecord != nil {
		r.OnRecord(rec)
	}
	return rec, nil
}

// chunk is the most a reader allocates ahead of the bytes it has read: a
// record's length is only a claim until its bytes arrive, and a cut or
// hostile image may claim up to 16 MiB in a few bytes.
const chunk = 64 << 10

// readBody reads a payload of n bytes. Up to chunk bytes are read in one
// go; a longer payload is read chunk by chunk into a buffer that grows with
// what arrived, so the memory a record costs tracks the bytes present (at
// most twice them), not its declared length. On error it returns what it
// read so far.
func readBody(r io.Reader, n int) ([]byte, error) {
	if n <= chunk {
		body := make([]byte, n)
		got, err := io.ReadFull(r, body)
		return body[:got], err
	}
	body := make([]byte, 0, chunk)
	for len(body) < n {
		m := min(n-len(body), chunk)
		body = slices.Grow(body, m)
		got, err := io.ReadFull(r, body[len(body):len(body)+m])
		body = body[:len(body)+got]
		if err != nil {
			return body, err
		}
	}
	return body, nil
}

// readError describes a failed read: the image was cut short, or the
// stream itself failed.
func (r *Reader) readError(off int64, t Type, got, want int, err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return &Error{Offset: off, Type: t, Msg: fmt.Sprintf("image cut short: %d of %d bytes", got, want)}
	}
	return fmt.Errorf("image offset %d: reading: %w", off, err)
}

// crc32Of returns the CRC32C (Castagnoli) of b, the image's checksum.
func crc32Of(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
