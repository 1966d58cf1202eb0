// Package imgedit reads and changes the records of a checkpoint image by
// the names FORMAT.md gives them: record types by name ("FILE"), fields by
// name ("Pos"). It goes through the record types' specs (package image),
// so it follows the format rather than the Go types that hold the records
// in the engine. It is for tests and tools that craft images, and for the
// equivalence checker's reading of images; it checks nothing of what an
// image means.
package imgedit

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// maxType bounds the record type numbers Type looks through.
const maxType = 256

// Type returns the record type called name, such as "FILE_TABLE". It
// panics for a name no record type has: a test that names one is wrong.
func Type(name string) image.Type {
	for t := image.Type(1); t < maxType; t++ {
		if s := image.SpecOf(t); s != nil && s.Name == name {
			return t
		}
	}
	panic(fmt.Sprintf("imgedit: no record type is called %q", name))
}

// Is reports whether rec is of the record type called name.
func Is(rec *image.Record, name string) bool {
	s := image.SpecOf(rec.Type)
	return s != nil && s.Name == name
}

// field finds a field of rec's fixed part by name.
func field(rec *image.Record, name string) (offset, size int, signed bool, err error) {
	s := image.SpecOf(rec.Type)
	if s == nil {
		return 0, 0, false, fmt.Errorf("imgedit: unknown record type %d", rec.Type)
	}
	for _, f := range s.Fields() {
		if f.Name == name {
			if f.Offset+f.Size > len(rec.Fixed) {
				return 0, 0, false, fmt.Errorf("imgedit: %v record of %d fixed bytes has no room for %s", rec.Type, len(rec.Fixed), name)
			}
			if strings.HasPrefix(f.Kind, "[") {
				return 0, 0, false, fmt.Errorf("imgedit: %v field %s is an array (%s)", rec.Type, name, f.Kind)
			}
			return f.Offset, f.Size, strings.HasPrefix(f.Kind, "i"), nil
		}
	}
	return 0, 0, false, fmt.Errorf("imgedit: %v records have no field %s", rec.Type, name)
}

// Get returns a field of rec's fixed part, sign-extended when the field is
// signed. It panics when the record has no such field.
func Get(rec *image.Record, name string) int64 {
	off, size, signed, err := field(rec, name)
	if err != nil {
		panic(err)
	}
	var b [8]byte
	copy(b[:], rec.Fixed[off:off+size])
	v := binary.LittleEndian.Uint64(b[:])
	if signed && size < 8 && v>>(8*size-1) == 1 {
		v |= ^uint64(0) << (8 * size)
	}
	return int64(v)
}

// Set stores v, cut to the field's width, in a field of rec's fixed part.
// The record's fixed part is copied first, so that records sharing bytes
// with others (as read) stay apart. It panics when the record has no such
// field.
func Set(rec *image.Record, name string, v int64) {
	off, size, _, err := field(rec, name)
	if err != nil {
		panic(err)
	}
	rec.Fixed = bytes.Clone(rec.Fixed)
	var b [8]byte
	binary.LittleEndian.PutUint64(b[:], uint64(v))
	copy(rec.Fixed[off:off+size], b[:size])
}

// Bytes returns a byte-array field of rec's fixed part (a command name, a
// magic number), copied.
func Bytes(rec *image.Record, name string) []byte {
	s := image.SpecOf(rec.Type)
	for _, f := range s.Fields() {
		if f.Name == name && f.Offset+f.Size <= len(rec.Fixed) {
			return bytes.Clone(rec.Fixed[f.Offset : f.Offset+f.Size])
		}
	}
	panic(fmt.Sprintf("imgedit: %v records have no field %s", rec.Type, name))
}

// SetBytes stores b, NUL-padded or cut, in a byte-array field.
func SetBytes(rec *image.Record, name string, b []byte) {
	s := image.SpecOf(rec.Type)
	for _, f := range s.Fields() {
		if f.Name == name && f.Offset+f.Size <= len(rec.Fixed) {
			rec.Fixed = bytes.Clone(rec.Fixed)
			dst := rec.Fixed[f.Offset : f.Offset+f.Size]
			clear(dst)
			copy(dst, b)
			return
		}
	}
	panic(fmt.Sprintf("imgedit: %v records have no field %s", rec.Type, name))
}

// Payload returns rec's payload, fixed part and tail together: what the
// format defines, however the engine splits it.
func Payload(rec *image.Record) []byte {
	return append(bytes.Clone(rec.Fixed), rec.Tail...)
}

// SetPayload replaces rec's payload, splitting it at the fixed part's size.
func SetPayload(rec *image.Record, b []byte) {
	n := min(image.SpecOf(rec.Type).FixedSize(), len(b))
	rec.Fixed, rec.Tail = bytes.Clone(b[:n]), bytes.Clone(b[n:])
}

// Clone deep-copies records, so that an edit leaves the originals alone.
func Clone(recs []*image.Record) []*image.Record {
	out := make([]*image.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Fixed, c.Tail = bytes.Clone(r.Fixed), bytes.Clone(r.Tail)
		out[i] = &c
	}
	return out
}

// Read reads an image's records up to and including its tail record, and
// not beyond: what restart reads of a stream.
func Read(img []byte) ([]*image.Record, error) {
	r := image.NewReader(bytes.NewReader(img))
	var out []*image.Record
	for {
		rec, err := r.Next()
		if err != nil {
			return out, err
		}
		out = append(out, rec)
		if Is(rec, "TAIL") {
			return out, nil
		}
	}
}

// Compressed reports whether img starts with a HEADER record whose flags
// say that the records after it are compressed (image.FlagZstd), from the
// bytes alone: the header is never compressed.
func Compressed(img []byte) bool {
	const flagsAt = 8 + 8 + 2 + 2 // record header, Magic, Major, Minor
	return len(img) >= flagsAt+4 && image.Type(binary.LittleEndian.Uint32(img)) == image.TypeHeader &&
		binary.LittleEndian.Uint32(img[flagsAt:])&image.FlagZstd != 0
}
