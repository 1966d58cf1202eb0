package image

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"

	"github.com/klauspost/compress/zstd"

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
	w io.Writer
	// plain is the stream beneath the zstd encoder zenc, when the records
	// are compressed (Compress).
	plain io.Writer
	zenc  *zstd.Encoder
	off   int64
	crc   hash.Hash32
	err   error
	// small holds a record's header, fixed part, short tail and padding,
	// written in one piece; a long tail goes to the stream as it is.
	small []byte
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

// copyMax is the longest tail copied into a record's first piece; a longer
// one (pipe bytes, file contents) is written from the caller's memory.
const copyMax = 512

// WriteRecord writes one record of type s: the encoded fixed part, then
// the tail in the pieces given. It checks the fixed part's length and the
// tail's bounds. The first error sticks: later writes return it.
func (w *Writer) WriteRecord(s *Spec, fixed []byte, tail ...[]byte) error {
	if w.err != nil {
		return w.err
	}
	if SpecOf(s.Type) != s {
		return fmt.Errorf("image: writing unregistered record type %d", s.Type)
	}
	if len(fixed) != s.FixedSize() {
		return fmt.Errorf("image: %v record with a %d-byte fixed part, not %d", s.Type, len(fixed), s.FixedSize())
	}
	tailLen := 0
	for _, t := range tail {
		tailLen += len(t)
	}
	if tailLen < s.Tail.Min || tailLen > s.Tail.Max {
		return fmt.Errorf("image: %v record with a %d-byte tail, allowed %d..%d", s.Type, tailLen, s.Tail.Min, s.Tail.Max)
	}
	n := len(fixed) + tailLen
	off := w.off
	b := binary.LittleEndian.AppendUint32(w.small[:0], uint32(s.Type))
	b = binary.LittleEndian.AppendUint32(b, uint32(n))
	b = append(b, fixed...)
	if tailLen <= copyMax {
		for _, t := range tail {
			b = append(b, t...)
		}
		tail = nil
	}
	if tail == nil {
		b = append(b, zeros[:pad(n)]...)
	}
	w.small = b
	if err := w.emit(s.Type, off, b); err != nil {
		return err
	}
	if tail != nil {
		for _, t := range tail {
			if err := w.emit(s.Type, off, t); err != nil {
				return err
			}
		}
		if err := w.emit(s.Type, off, zeros[:pad(n)]); err != nil {
			return err
		}
	}
	if w.OnRecord != nil {
		w.OnRecord(off, s.Type, n)
	}
	return nil
}

var zeros [8]byte

// emit writes one piece of the record of type t that starts at off.
func (w *Writer) emit(t Type, off int64, b []byte) error {
	if len(b) == 0 {
		return nil
	}
	if _, err := w.w.Write(b); err != nil {
		w.err = fmt.Errorf("image: writing %v record at offset %d: %w", t, off, err)
		return w.err
	}
	w.off += int64(len(b))
	if t != TypeTail {
		w.crc.Write(b)
	}
	return nil
}

// WriteTail closes the image with a tail record holding the CRC32C of
// every byte written before it.
func (w *Writer) WriteTail() error {
	if err := TailKind.Write(w, &Tail{Magic: TailMagic, CRC: w.crc.Sum32()}); err != nil {
		w.finish()
		return err
	}
	return w.finish()
}

// WriteError ends an incomplete image with an error record saying why. It
// writes even after a failed write of an earlier record, but not after a
// failure of the stream itself.
func (w *Writer) WriteError(msg string) error {
	if len(msg) > MaxMessage {
		msg = msg[:MaxMessage]
	}
	err := ErrorKind.Write(w, &NoFixed{}, []byte(msg))
	if ferr := w.finish(); err == nil {
		err = ferr
	}
	return err
}

// Record is one record as read.
type Record struct {
	Offset int64 // of its header in the stream
	Type   Type
	Fixed  []byte // the fixed part
	Tail   []byte // the variable tail
	// CRC is, for a tail record, the CRC32C of every byte before it.
	CRC uint32
	// shared is set when the record's bytes are carved from a block the
	// reader shares between small records (OwnTail).
	shared bool
}

// OwnTail returns the record's tail for an object to keep: the tail itself
// when the record's bytes are its own, a copy when they are part of a
// block the reader shares between small records, which one kept tail
// would otherwise hold in memory whole.
func (r *Record) OwnTail() []byte {
	if r.shared && len(r.Tail) > 0 {
		return append([]byte(nil), r.Tail...)
	}
	return r.Tail
}

// Wrap adds the record's offset and type to an error about it, unless the
// error already is an *Error naming a record.
func (r *Record) Wrap(err error) error {
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	return fmt.Errorf("image offset %d: %v record: %w", r.Offset, r.Type, err)
}

// Errorf returns an *Error about this record.
func (r *Record) Errorf(format string, args ...any) error {
	return &Error{Offset: r.Offset, Type: r.Type, Msg: fmt.Sprintf(format, args...)}
}

// Reader reads records from a stream, never seeking.
type Reader struct {
	r    io.Reader
	zdec *zstd.Decoder // the decompressor of a compressed image
	off  int64
	crc  hash.Hash32
	peek *Record

	// Records and the bytes of small ones are carved from blocks, so that
	// reading a record costs no allocation of its own: what a restart
	// keeps of a small record it copies (OwnTail), and a block goes when
	// its records do.
	hdr [headerSize]byte
	// ahead is set when hdr holds the next record's header, or aheadN
	// bytes of it and the error that cut it short (aheadErr), read with
	// the last record.
	ahead    bool
	aheadN   int
	aheadErr error
	recs     []Record
	bytes    []byte
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
	hdr := r.hdr[:]
	var n int
	var err error
	if r.ahead {
		// The header came with the last record's bytes, as far as the
		// source had it.
		n, err, r.ahead, r.aheadErr = r.aheadN, r.aheadErr, false, nil
	} else {
		n, err = io.ReadFull(r.r, hdr)
	}
	if err == io.EOF {
		return nil, io.EOF
	}
	if err != nil {
		return nil, r.readError(off, 0, n, headerSize, err)
	}
	// A fresh record of the block is zero: its fields are set one by one,
	// since a whole-struct store of one with pointers costs the collector's
	// bulk write barrier while a collection runs.
	rec := r.newRecord()
	rec.Offset, rec.Type = off, Type(binary.LittleEndian.Uint32(hdr[0:]))
	length := int64(binary.LittleEndian.Uint32(hdr[4:]))
	s := SpecOf(rec.Type)
	if s == nil {
		return nil, &Error{Offset: off, Msg: fmt.Sprintf("unknown record type %d", rec.Type)}
	}
	fixed := int64(s.FixedSize())
	if length < fixed+int64(s.Tail.Min) || length > fixed+int64(s.Tail.Max) {
		return nil, rec.Errorf("length %d, allowed %d..%d", length, fixed+int64(s.Tail.Min), fixed+int64(s.Tail.Max))
	}
	if rec.Type == TypeTail {
		rec.CRC = r.crc.Sum32()
	} else {
		r.crc.Write(hdr)
	}
	// A small record's bytes come from the shared block. A larger one's
	// tail (and padding) is an allocation of its own, of exactly its
	// length, since a restored object may keep it (a page, a pipe buffer,
	// a ghost's contents): with the fixed part in front, a page of tail
	// took the next size class up, 4864 bytes for 4096. The fixed part
	// then comes from the shared block, when it fits.
	size := int(length) + pad(int(length))
	var head, tail []byte // the fixed part, and the tail with the padding
	// A small record other than the first and the last two kinds is
	// read with the next record's header, in one read of the source: an
	// image goes on after it, and a read less per record is a tenth of a
	// restart of small objects. The first record is followed by a
	// compressed stream, perhaps; TAIL and ERROR end the image, and no
	// byte after them is read.
	lookahead := size <= smallBody && off != 0 && rec.Type != TypeTail && rec.Type != TypeError
	if lookahead {
		buf := r.smallBody(size + headerSize)
		got, err := io.ReadFull(r.r, buf)
		if got >= size {
			r.ahead, r.aheadN = true, copy(r.hdr[:], buf[size:got])
			switch {
			case err == nil:
			case r.aheadN == 0 && errors.Is(err, io.ErrUnexpectedEOF):
				r.aheadErr = io.EOF // the image ends right after this record
			default:
				r.aheadErr = err
			}
			err = nil
		}
		head, rec.shared = buf[:min(got, size):size], true
		if err != nil {
			return nil, r.readError(off, rec.Type, headerSize+len(head), headerSize+size, err)
		}
	} else if size <= smallBody {
		head, rec.shared = r.smallBody(size), true
	} else if fixed <= smallBody {
		head = r.smallBody(int(fixed))
	} else {
		head = make([]byte, fixed)
	}
	if !lookahead {
		got, err := io.ReadFull(r.r, head)
		head = head[:got]
		if err != nil {
			return nil, r.readError(off, rec.Type, headerSize+len(head), headerSize+size, err)
		}
	}
	if size > len(head) {
		tail, err = readBody(r.r, size-len(head))
	}
	if err != nil {
		return nil, r.readError(off, rec.Type, headerSize+len(head)+len(tail), headerSize+size, err)
	}
	if rec.Type != TypeTail {
		r.crc.Write(head)
		r.crc.Write(tail)
	}
	r.off = off + headerSize + int64(size)
	if tail == nil { // all in head
		head, tail = head[:fixed:fixed], head[fixed:]
	}
	tailLen := int(length - fixed)
	for _, b := range tail[tailLen:] {
		if b != 0 {
			return nil, rec.Errorf("padding is not zero")
		}
	}
	rec.Fixed, rec.Tail = head, tail[:tailLen:tailLen]
	if off == 0 && rec.Type == TypeHeader {
		if err := r.decompress(rec); err != nil {
			return nil, err
		}
	}
	if r.OnRecord != nil {
		r.OnRecord(rec)
	}
	return rec, nil
}

// chunk is the most a reader allocates ahead of the bytes it has read: a
// record's length is only a claim until its bytes arrive, and a cut or
// hostile image may claim up to 16 MiB in a few bytes.
const chunk = 64 << 10

// smallBody is the largest body carved from a shared block; recBlock and
// byteBlock are the sizes of the blocks, in records and in bytes.
const (
	smallBody = 256
	recBlock  = 128
	byteBlock = 16 << 10
)

func (r *Reader) newRecord() *Record {
	if len(r.recs) == 0 {
		r.recs = make([]Record, recBlock)
	}
	rec := &r.recs[0]
	r.recs = r.recs[1:]
	return rec
}

// smallBody returns n bytes of the current block, capped at n so that an
// append to one record's bytes never runs into the next one's.
func (r *Reader) smallBody(n int) []byte {
	if len(r.bytes) < n {
		r.bytes = make([]byte, byteBlock)
	}
	b := r.bytes[:n:n]
	r.bytes = r.bytes[n:]
	return b
}

// readBody reads a payload of n bytes. When the source says how much it
// holds (a bytes.Reader, a bytes.Buffer: anything with Len) and holds the
// payload, the payload is read in one go into a buffer of its size. Up to
// chunk bytes are too. A longer payload from a stream is read chunk by
// chunk into a buffer that doubles as bytes arrive, so the memory a record
// costs tracks the bytes present (at most twice them), not the length it
// claims. On error it returns what it read so far.
func readBody(r io.Reader, n int) ([]byte, error) {
	if l, ok := r.(interface{ Len() int }); n <= chunk || ok && l.Len() >= n {
		body := make([]byte, n)
		got, err := io.ReadFull(r, body)
		return body[:got], err
	}
	body := make([]byte, 0, chunk)
	for len(body) < n {
		if len(body) == cap(body) {
			grown := make([]byte, len(body), min(2*cap(body), n))
			copy(grown, body)
			body = grown
		}
		m := min(n, cap(body)) - len(body)
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
	if errors.Is(err, errCorrupt) {
		return &Error{Offset: off, Type: t, Msg: err.Error()}
	}
	return fmt.Errorf("image offset %d: reading: %w", off, err)
}

// crc32Of returns the CRC32C (Castagnoli) of b, the image's checksum.
func crc32Of(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }
