package inspect

import (
	"encoding/binary"
	"io"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// Report is what an image holds: its records as read, in order, and a
// summary of them. Show and ShowJSON print it.
type Report struct {
	Records []*Record
	Summary Summary
	// Err is why reading stopped before the end of the stream (a cut or
	// malformed image, an *image.Error with the offset), or nil.
	Err error
}

// Record is one record, its fixed part decoded field by field.
type Record struct {
	Index  int   // from 0, in stream order
	Offset int64 // of the record's header
	Type   image.Type
	Length int // of the payload: fixed part and tail, without header and padding
	Fields []*Field
	Tail   []byte
	// Parts are the tail's parts as a reader wants them (a path, the root
	// and working directory, pipe bytes, registers), rendered.
	Parts []Part
	// CRC is, for a tail record, the checksum of the bytes before it as
	// computed while reading (the stored one is the CRC field).
	CRC uint32
}

// Field is one field of a record's fixed part with its raw value.
type Field struct {
	image.Field
	// Bits is an integer field's value, zero-extended from its width; Int
	// gives it sign-extended for a signed field.
	Bits uint64
	// Bytes is a byte array field's value.
	Bytes []byte
	// Symbol renders the value for people ("O_RDWR|O_APPEND", "zombie"),
	// "" when the number says it all.
	Symbol string
	// Mark is set on a field that names an objref: MarkFirst, MarkRef or
	// MarkDangling.
	Mark string
}

// The marks of objref fields.
const (
	// MarkFirst is the object's first encounter: on an OBJREF record, the
	// objref it introduces; on a field that names an objref, the
	// reference whose encounter wrote the object's state (the OBJREF record
	// before it, or for a FILE's Pipe, the one after it).
	MarkFirst = "first"
	// MarkRef is a later reference to an object already written.
	MarkRef = "ref"
	// MarkDangling is a reference to an objref that no OBJREF record of the
	// right object type introduces where it should, or an objref
	// introduced twice.
	MarkDangling = "dangling"
)

// Part is one rendered part of a record's tail.
type Part struct {
	Name string // "path", "root", "cwd", "data", "contents", "message", "rip", ...
	Text string // quoted text, or a number
}

// IsArray reports whether the field is a byte array rather than an integer.
func (f *Field) IsArray() bool { return f.Kind[0] == '[' }

// Signed reports whether the field is a signed integer.
func (f *Field) Signed() bool { return f.Kind[0] == 'i' }

// Int returns an integer field's value, sign-extended for a signed field.
func (f *Field) Int() int64 {
	if f.Signed() {
		shift := 64 - 8*f.Size
		return int64(f.Bits<<shift) >> shift
	}
	return int64(f.Bits)
}

// Field returns the record's field of that name, or nil.
func (r *Record) Field(name string) *Field {
	for _, f := range r.Fields {
		if f.Name == name {
			return f
		}
	}
	return nil
}

// value returns the named field's value sign-extended, 0 when it is
// missing.
func (r *Record) value(name string) int64 {
	if f := r.Field(name); f != nil {
		return f.Int()
	}
	return 0
}

// Size returns the bytes the record takes in the image: header, payload
// and padding.
func (r *Record) Size() int64 { return image.RecordSize(r.Length) }

// Inspect reads an image to its end and returns what it holds. When the
// image is cut (inside a record, or between two, before its tail) or
// malformed, the report holds the records read before the fault and its Err
// (also returned) says what and where.
func Inspect(img io.Reader) (*Report, error) {
	recs, err := image.ReadAll(img)
	if err == nil {
		err = ended(recs)
	}
	rep := &Report{Err: err}
	for i, raw := range recs {
		rep.Records = append(rep.Records, decode(i, raw))
	}
	markObjrefs(rep.Records)
	for _, r := range rep.Records {
		r.Parts = tailParts(r)
	}
	rep.Summary = summarize(rep)
	return rep, err
}

// ended checks that an image read to the end of its stream without a fault
// ends where an image ends: with its tail, or with the error record of a
// failed checkpoint. Anything else was cut at a record boundary.
func ended(recs []*image.Record) error {
	var end int64
	if n := len(recs); n > 0 {
		last := recs[n-1]
		if last.Type == image.TypeTail || last.Type == image.TypeError {
			return nil
		}
		end = last.End()
	}
	return &image.Error{Offset: end, Msg: "image ends without a tail or error record: cut short"}
}

// decode splits a record's fixed part into its fields, generically, from
// the record type's field table: every value is kept, whatever it is, so
// that a damaged record can be shown and re-encoded.
func decode(i int, raw *image.Record) *Record {
	r := &Record{Index: i, Offset: raw.Offset, Type: raw.Type, Length: len(raw.Fixed) + len(raw.Tail),
		Tail: raw.Tail, CRC: raw.CRC}
	for _, f := range image.SpecOf(raw.Type).Fields() {
		fv := &Field{Field: f}
		b := raw.Fixed[f.Offset : f.Offset+f.Size]
		if fv.IsArray() {
			fv.Bytes = append([]byte(nil), b...)
		} else {
			fv.Bits = getUint(b)
		}
		fv.Symbol = symbol(r, fv)
		r.Fields = append(r.Fields, fv)
	}
	return r
}

// getUint reads a little-endian integer of 1, 2, 4 or 8 bytes.
func getUint(b []byte) uint64 {
	switch len(b) {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

// putUint writes a little-endian integer of 1, 2, 4 or 8 bytes.
func putUint(b []byte, v uint64) {
	switch len(b) {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}

// fixed returns the record's fixed part, encoded again from its fields.
func (r *Record) fixed() []byte {
	b := make([]byte, image.SpecOf(r.Type).FixedSize())
	for _, f := range r.Fields {
		if f.IsArray() {
			copy(b[f.Offset:f.Offset+f.Size], f.Bytes)
		} else {
			putUint(b[f.Offset:f.Offset+f.Size], f.Bits)
		}
	}
	return b
}
