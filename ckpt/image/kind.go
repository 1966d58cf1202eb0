package image

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"reflect"
	"slices"
	"unsafe"
)

// Kind is a record type together with the Go struct of its fixed part: it
// writes and decodes records of that type without reflection. Packages
// make one per record type with Define, at init, and keep it beside the
// struct.
type Kind[T any] struct {
	spec *Spec
	size int
}

// NoFixed is the fixed part of a record type that has none: its records
// are all tail.
type NoFixed struct{}

// Define registers a record type whose fixed part is T (NoFixed for none)
// and returns its Kind. s.Fixed is set from T. It panics when the spec
// breaks what the format promises (see Register): a programming error
// found at init.
func Define[T any](s Spec) *Kind[T] {
	t := reflect.TypeFor[T]()
	if t != reflect.TypeFor[NoFixed]() {
		s.Fixed = t
	}
	spec := &s
	Register(spec)
	return &Kind[T]{spec: spec, size: spec.FixedSize()}
}

// Spec returns the record type's spec.
func (k *Kind[T]) Spec() *Spec { return k.spec }

// Type returns the record type's number.
func (k *Kind[T]) Type() Type { return k.spec.Type }

// hostLittleEndian is true where a fixed struct's memory is already its
// encoding: the format is little-endian, and Register has made sure Go
// puts no padding in it.
var hostLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Encode returns v's encoding. On a little-endian host it is v's own
// memory, valid while v is, so it costs nothing; elsewhere it is encoded
// field by field.
func (k *Kind[T]) Encode(v *T) []byte {
	if k.size == 0 {
		return nil
	}
	if hostLittleEndian {
		return unsafe.Slice((*byte)(unsafe.Pointer(v)), k.size)
	}
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, v) // cannot fail: Register checked the fields
	return b.Bytes()
}

// Decode returns the fixed part of a record of this type, checking that
// every Pad field is zero, as the format requires.
func (k *Kind[T]) Decode(r *Record) (T, error) {
	var v T
	if r.Type != k.spec.Type || len(r.Fixed) != k.size {
		return v, r.Errorf("decoded as a %s record", k.spec.Name)
	}
	if hostLittleEndian {
		if k.size > 0 {
			copy(unsafe.Slice((*byte)(unsafe.Pointer(&v)), k.size), r.Fixed)
		}
	} else if err := binary.Read(bytes.NewReader(r.Fixed), binary.LittleEndian, &v); err != nil {
		return v, r.Errorf("%v", err)
	}
	return v, k.spec.checkPads(r)
}

// Write writes one record of this type: v's fixed part, then the tail, in
// as many pieces as the caller has it (a path, then contents), which are
// written as they are, not copied together.
//
// Writing a record costs no allocation when w is a *Writer or hands one
// over (ImageWriter): v and tail are only read, so they stay where the
// caller has them. Any other writer is given copies of the fixed part and
// of the list of tail parts, since it may keep them.
func (k *Kind[T]) Write(w RecordWriter, v *T, tail ...[]byte) error {
	var fixed []byte
	if k.size > 0 {
		if hostLittleEndian {
			fixed = unsafe.Slice((*byte)(unsafe.Pointer(v)), k.size)
		} else {
			c := *v // what binary.Write is given escapes; v must not
			fixed = k.Encode(&c)
		}
	}
	if iw, ok := w.(ImageWriter); ok {
		if direct := iw.ImageWriter(); direct != nil {
			return direct.WriteRecord(k.spec, fixed, tail...)
		}
	}
	return w.WriteRecord(k.spec, bytes.Clone(fixed), slices.Clone(tail)...)
}

// ImageWriter is a RecordWriter that writes through a *Writer and says
// which, so that Kind.Write can call it directly. It returns nil when it
// has none (an engine context on the restart side); Kind.Write then calls
// WriteRecord, which says what is wrong.
type ImageWriter interface {
	RecordWriter
	ImageWriter() *Writer
}

// ImageWriter returns w itself.
func (w *Writer) ImageWriter() *Writer { return w }

// StringTail returns the bytes of s, not copied, as a tail part for
// Kind.Write or WriteRecord: a writer only reads the tail it is given (as
// io.Writer's contract has it), so a string's bytes can be written as they
// are, without the copy that []byte(s) makes.
func StringTail(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// Read reads the next record, which must be of this type, and decodes it.
func (k *Kind[T]) Read(r RecordReader) (T, *Record, error) {
	rec, err := r.Expect(k.spec.Type)
	if err != nil {
		var zero T
		return zero, nil, err
	}
	v, err := k.Decode(rec)
	return v, rec, err
}

// Record returns a record of this type holding v and tail, for tools and
// tests that build or edit images.
func (k *Kind[T]) Record(v *T, tail []byte) *Record {
	return &Record{Type: k.spec.Type, Fixed: append([]byte(nil), k.Encode(v)...), Tail: tail}
}

// RecordWriter is where records are written: a Writer, or a checkpoint in
// progress, which writes into one.
type RecordWriter interface {
	// WriteRecord writes a record of type s with the encoded fixed part
	// and the tail, in pieces.
	WriteRecord(s *Spec, fixed []byte, tail ...[]byte) error
}

// RecordReader is where records are read from: a Reader, or a restart in
// progress, which reads from one (and restores the shared objects met on
// the way).
type RecordReader interface {
	// Expect returns the next record, which must be of type t.
	Expect(t Type) (*Record, error)
}

// checkPads checks that every Pad field of a record is zero.
func (s *Spec) checkPads(r *Record) error {
	for _, f := range s.pads {
		for _, b := range r.Fixed[f.Offset : f.Offset+f.Size] {
			if b != 0 {
				return r.Errorf("%s is not zero", f.Name)
			}
		}
	}
	return nil
}

// Decode fills v, a pointer to the record type's fixed struct, and checks
// that every Pad field is zero. It uses reflection: it is for tools and
// tests; the engine decodes through a Kind.
func (r *Record) Decode(v any) error {
	s := SpecOf(r.Type)
	if s == nil || s.Fixed == nil || reflect.TypeOf(v).Elem() != s.Fixed {
		return fmt.Errorf("image: decoding %v record into %T", r.Type, v)
	}
	if err := binary.Read(bytes.NewReader(r.Fixed), binary.LittleEndian, v); err != nil {
		return r.Errorf("%v", err)
	}
	return s.checkPads(r)
}
