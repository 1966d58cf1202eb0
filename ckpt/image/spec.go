package image

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
)

// Spec describes one record type, once, beside the Go struct of its fixed
// part: what the bytes are (fields, offsets, widths, the tail and its
// bounds) and what they mean (names of enum values, flag sets, which fields
// are objrefs and of which object type, how the tail splits into parts, what
// the record adds to an image's summary). The reader checks lengths against
// it, FORMAT.md is generated from it, and every tool that shows, diffs,
// encodes, summarises or draws an image reads it from here, so that a new
// record type is one definition, read everywhere.
//
// A package defines its record types with Define, at init; importing
// package ckpt registers every record type of the simulator.
type Spec struct {
	Type Type
	Name string // such as "FILE_TABLE"
	Doc  string // one sentence: what the record is
	// Place says where the record goes in the stream, for FORMAT.md ("" for
	// the records the Order section places).
	Place string
	// Fixed is the Go type of the fixed part, nil when there is none. Its
	// fields are fixed-width integers, byte arrays, and structs and arrays
	// of those, naturally aligned with no padding the Go compiler would add
	// (explicit Pad fields instead), each with a `doc:"..."` tag.
	Fixed reflect.Type
	// Meaning says what fields of the fixed part mean, by field name (a
	// nested field is named with dots: "FPU.Mxcsr"); a field not listed is
	// a plain number.
	Meaning map[string]Meaning
	// Hex shows every number of the fixed part in hexadecimal (registers).
	Hex bool
	// Tail is the variable part after the fixed one.
	Tail TailSpec
	// Object is the type of the shared object whose state this record
	// belongs to (0 for the records of the stream and the task tree).
	Object ObjType
	// Count names what the record adds to an image's summary: a record
	// counted as "tasks", broken down by the symbol of field By ("live",
	// "zombie"), or by its tail's length when Bytes is set. Empty: not
	// counted.
	Count Count
	// Label, when set, says in a few short lines what an object holds,
	// for pictures (package graph draws each object as a box): the bytes
	// waiting in a pipe, the messages of a socket pair. It is set on the
	// spec of an object type's first state record, and given the records
	// of one object's state in order (not those of the objects nested in
	// it), as a reader found them: it must not trust their lengths. Nil:
	// a picture shows the first record's fields that have a meaning or are
	// not zero, and its tail.
	Label func(state []*Record) []string

	fields []Field // flattened fixed part, filled by Define
	pads   []Field // the fields named Pad..., which must be zero
	refs   []Field // the fields that are objrefs
}

// Meaning is what one field's number stands for.
type Meaning struct {
	// Names gives enum values their names.
	Names map[uint64]string
	// Format renders a value for people, such as a flag set or a time; ""
	// when the number says it all. It is used when Names has no entry.
	Format func(v uint64) string
	// Ref, when not 0, says the field is an objref naming an object of this
	// type; 0 in the field names nothing.
	Ref ObjType
	// After says that the object's state follows this record rather than
	// coming before it: nested sharing, where the object (a pipe) is met
	// inside the record of the first object that refers to it (a file).
	After bool
	// Hex shows the number in hexadecimal.
	Hex bool
	// Octal shows the number in octal with a leading 0, as C writes file
	// modes and open flags (0100644, 02).
	Octal bool
}

// TailSpec describes a record's variable part: its length bounds and how it
// splits into parts for people.
type TailSpec struct {
	Doc      string // what the tail holds, "" when the record has none
	Min, Max int
	// Parts split the tail, in order. A part's length is the value of the
	// fixed-part field LenField, or the rest of the tail when LenField is
	// "". No parts: the tail is one part named "tail".
	Parts []TailPart
}

// TailPart is one named part of a tail.
type TailPart struct {
	Name     string
	LenField string // the fixed field holding its length; "" for the rest
}

// Count is how a record counts in an image's summary.
type Count struct {
	Name  string // "tasks", "files", "pipe bytes"...
	By    string // field whose symbol breaks the count down; "" for none
	Bytes bool   // add the tail's length instead of one per record
}

// Field is one field of a record type's fixed part, nested structs and
// arrays flattened into their elements.
type Field struct {
	Name    string // "Pid", or for a nested one "FPU.ST[2].Mantissa"
	Offset  int    // from the start of the payload
	Size    int
	Kind    string // u16, i32, [16]byte, ...
	Doc     string
	Meaning Meaning
	// Signed reports a signed integer; Bytes a byte array, shown as text.
	Signed, Bytes bool
}

// Value reads the field's number from a fixed part, sign-extended for a
// signed field; byte arrays read as 0.
func (f *Field) Value(fixed []byte) (v uint64, ok bool) {
	if f.Bytes || f.Offset+f.Size > len(fixed) {
		return 0, false
	}
	b := fixed[f.Offset : f.Offset+f.Size]
	for i := f.Size - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if f.Signed && f.Size < 8 && v>>(8*f.Size-1) == 1 {
		v |= ^uint64(0) << (8 * f.Size)
	}
	return v, true
}

// Symbol renders a value of the field for people: its enum name or its
// formatting, or "" when the number says it all.
func (f *Field) Symbol(v uint64) string {
	if name, ok := f.Meaning.Names[v]; ok {
		return name
	}
	if f.Meaning.Format != nil {
		return f.Meaning.Format(v)
	}
	return ""
}

// Number renders a value of the field as a number, in hex or octal when
// its meaning says so, and signed for a signed field.
func (f *Field) Number(v uint64) string {
	switch {
	case f.Meaning.Hex:
		return "0x" + strconv.FormatUint(v, 16)
	case f.Meaning.Octal && v != 0:
		return "0" + strconv.FormatUint(v, 8)
	case f.Signed:
		return strconv.FormatInt(int64(v), 10)
	}
	return strconv.FormatUint(v, 10)
}

// FixedSize returns the length of the fixed part.
func (s *Spec) FixedSize() int {
	if s.Fixed == nil {
		return 0
	}
	return int(s.Fixed.Size())
}

// Fields lists the fields of the fixed part, flattened, in order.
func (s *Spec) Fields() []Field { return s.fields }

// Field returns the field of that name, or nil.
func (s *Spec) Field(name string) *Field {
	for i := range s.fields {
		if s.fields[i].Name == name {
			return &s.fields[i]
		}
	}
	return nil
}

// Refs returns the fields that are objrefs.
func (s *Spec) Refs() []Field { return s.refs }

// Parts splits a record's tail into its named parts, by the lengths its
// fixed part gives. ok is false when the lengths do not add up to the tail;
// the whole tail is then one part named "tail".
func (s *Spec) Parts(r *Record) (parts []Part, ok bool) {
	if len(s.Tail.Parts) == 0 {
		if len(r.Tail) == 0 {
			return nil, true
		}
		return []Part{{Name: "tail", Data: r.Tail}}, true
	}
	rest := r.Tail
	for _, p := range s.Tail.Parts {
		n := len(rest)
		if p.LenField != "" {
			v, vok := s.Field(p.LenField).Value(r.Fixed)
			if !vok || v > uint64(len(rest)) {
				return []Part{{Name: "tail", Data: r.Tail}}, false
			}
			n = int(v)
		}
		parts = append(parts, Part{Name: p.Name, Data: rest[:n]})
		rest = rest[n:]
	}
	if len(rest) > 0 {
		return []Part{{Name: "tail", Data: r.Tail}}, false
	}
	return parts, true
}

// Part is one named part of a record's tail.
type Part struct {
	Name string
	Data []byte
}

// The registry of record types.
var registry struct {
	sync.Mutex
	byType map[Type]*Spec
	byName map[string]*Spec
	// small is byType for the types below smallTypes, as an array that
	// Register replaces whole: SpecOf runs several times for every record
	// written or read, and reads it with one atomic load, no lock.
	small atomic.Pointer[[smallTypes]*Spec]
}

// smallTypes bounds the record types SpecOf finds without the lock.
const smallTypes = 256

// Register enters a record type's spec, after checking what the format
// promises of it (see Define); it panics on a spec that breaks them, or
// whose type number or name is taken, since both are programming errors
// found at init.
func Register(s *Spec) {
	if err := s.prepare(); err != nil {
		panic(fmt.Sprintf("image: record type %d %s: %v", s.Type, s.Name, err))
	}
	registry.Lock()
	defer registry.Unlock()
	if registry.byType == nil {
		registry.byType, registry.byName = map[Type]*Spec{}, map[string]*Spec{}
	}
	if old := registry.byType[s.Type]; old != nil {
		panic(fmt.Sprintf("image: record type %d is both %s and %s", s.Type, old.Name, s.Name))
	}
	if old := registry.byName[s.Name]; old != nil {
		panic(fmt.Sprintf("image: record name %s is both type %d and %d", s.Name, old.Type, s.Type))
	}
	registry.byType[s.Type], registry.byName[s.Name] = s, s
	if s.Type < smallTypes {
		var small [smallTypes]*Spec
		if old := registry.small.Load(); old != nil {
			small = *old
		}
		small[s.Type] = s
		registry.small.Store(&small)
	}
}

// SpecOf returns the spec of a record type, or nil for an unknown one.
func SpecOf(t Type) *Spec {
	if t < smallTypes {
		if small := registry.small.Load(); small != nil {
			return small[t]
		}
		return nil
	}
	registry.Lock()
	defer registry.Unlock()
	return registry.byType[t]
}

// SpecNamed returns the spec of the record type with that name, or nil.
func SpecNamed(name string) *Spec {
	registry.Lock()
	defer registry.Unlock()
	return registry.byName[name]
}

// Specs returns every registered record type, by type number.
func Specs() []*Spec {
	registry.Lock()
	defer registry.Unlock()
	out := make([]*Spec, 0, len(registry.byType))
	for _, s := range registry.byType {
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b *Spec) int { return int(a.Type) - int(b.Type) })
	return out
}

// String returns the record type's name, such as "FILE_TABLE".
func (t Type) String() string {
	if s := SpecOf(t); s != nil {
		return s.Name
	}
	return "type " + strconv.FormatUint(uint64(t), 10)
}

// prepare flattens the fixed part into fields and checks the spec: a name,
// a fixed part that is a multiple of 8 bytes of documented, naturally
// aligned fields with no padding of Go's, meanings that name fields that
// exist, tail bounds that make sense, tail parts whose length fields exist.
func (s *Spec) prepare() error {
	if s.Type == 0 || s.Name == "" || s.Doc == "" {
		return fmt.Errorf("a record type needs a number, a name and a doc")
	}
	if s.Fixed != nil {
		if s.Fixed.Kind() != reflect.Struct {
			return fmt.Errorf("fixed part %v is not a struct", s.Fixed)
		}
		s.fields, s.pads, s.refs = nil, nil, nil
		if err := s.flatten(s.Fixed, "", 0, ""); err != nil {
			return err
		}
		if s.FixedSize()%8 != 0 {
			return fmt.Errorf("fixed part of %d bytes is not a multiple of 8", s.FixedSize())
		}
		end := 0
		for _, f := range s.fields {
			if f.Offset != end {
				return fmt.Errorf("%s at offset %d: Go pads before it (use an explicit Pad field)", f.Name, f.Offset)
			}
			end = f.Offset + f.Size
		}
		if end != s.FixedSize() {
			return fmt.Errorf("Go pads the end of the fixed part (use an explicit Pad field)")
		}
	}
	for name := range s.Meaning {
		if s.Field(name) == nil {
			return fmt.Errorf("meaning given for %s, which is no field", name)
		}
	}
	for i := range s.fields {
		s.fields[i].Meaning = s.Meaning[s.fields[i].Name]
		s.fields[i].Meaning.Hex = s.fields[i].Meaning.Hex || s.Hex
		if m := s.fields[i].Meaning; m.Ref != 0 && (s.fields[i].Size != 4 || !s.fields[i].Signed) {
			return fmt.Errorf("objref field %s is not an i32", s.fields[i].Name)
		}
		if m := s.fields[i].Meaning; m.Hex && m.Octal {
			return fmt.Errorf("field %s is both hexadecimal and octal", s.fields[i].Name)
		}
		if s.fields[i].Meaning.Ref != 0 {
			s.refs = append(s.refs, s.fields[i])
		}
		if isPad(s.fields[i].Name) {
			s.pads = append(s.pads, s.fields[i])
		}
	}
	switch {
	case s.Tail.Min < 0 || s.Tail.Min > s.Tail.Max:
		return fmt.Errorf("tail bounds %d..%d", s.Tail.Min, s.Tail.Max)
	case (s.Tail.Doc != "") != (s.Tail.Max > 0):
		return fmt.Errorf("a tail needs a description and a bound")
	case s.FixedSize()+s.Tail.Max > 1<<31:
		return fmt.Errorf("a record of up to %d bytes does not fit the length field", s.FixedSize()+s.Tail.Max)
	}
	for _, p := range s.Tail.Parts {
		if p.LenField != "" && s.Field(p.LenField) == nil {
			return fmt.Errorf("tail part %s: no length field %s", p.Name, p.LenField)
		}
	}
	if s.Count.By != "" && s.Field(s.Count.By) == nil {
		return fmt.Errorf("counted by %s, which is no field", s.Count.By)
	}
	return nil
}

// isPad reports whether a field is padding the format requires to be zero:
// one named Pad, or Pad and a number (Pad2), at any depth.
func isPad(name string) bool {
	name = name[strings.LastIndex(name, ".")+1:]
	digits := strings.TrimPrefix(name, "Pad")
	return digits != name && strings.Trim(digits, "0123456789") == ""
}

// flatten appends the fields of t, at offset base, named with prefix.
func (s *Spec) flatten(t reflect.Type, prefix string, base int, doc string) error {
	switch t.Kind() {
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			d := f.Tag.Get("doc")
			if d == "" {
				d = doc // an element of a documented array or struct
			}
			if d == "" {
				return fmt.Errorf("field %s%s has no doc tag", prefix, f.Name)
			}
			name := prefix + f.Name
			if f.Type.Kind() == reflect.Struct {
				name += "."
			}
			if err := s.flatten(f.Type, name, base+int(f.Offset), d); err != nil {
				return err
			}
		}
		return nil
	case reflect.Array:
		if t.Elem().Kind() == reflect.Uint8 {
			break // a byte array is one field: text or bytes
		}
		for i := range t.Len() {
			name := fmt.Sprintf("%s[%d]", prefix, i)
			if t.Elem().Kind() == reflect.Struct {
				name += "."
			}
			if err := s.flatten(t.Elem(), name, base+i*int(t.Elem().Size()), doc); err != nil {
				return err
			}
		}
		return nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
	default:
		return fmt.Errorf("field %s of kind %v is not fixed-width", prefix, t.Kind())
	}
	if base%int(t.Align()) != 0 {
		return fmt.Errorf("field %s at offset %d is not aligned", prefix, base)
	}
	s.fields = append(s.fields, Field{
		Name: strings.TrimSuffix(prefix, "."), Offset: base, Size: int(t.Size()), Kind: kindName(t), Doc: doc,
		Signed: t.Kind() >= reflect.Int8 && t.Kind() <= reflect.Int64,
		Bytes:  t.Kind() == reflect.Array,
	})
	return nil
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Array:
		return fmt.Sprintf("[%d]%s", t.Len(), kindName(t.Elem()))
	case reflect.Uint8:
		return "byte"
	case reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("u%d", t.Bits())
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return fmt.Sprintf("i%d", t.Bits())
	}
	return t.String()
}

// ObjType identifies a kind of shared object in OBJREF records. The
// numbers are part of the format. Package object registers each type's
// name here, so that tools can name object types without knowing them.
type ObjType uint16

var objTypes struct {
	sync.Mutex
	names map[ObjType]string
}

// RegisterObjType names an object type; it panics when the number is
// taken by another name.
func RegisterObjType(t ObjType, name string) {
	objTypes.Lock()
	defer objTypes.Unlock()
	if objTypes.names == nil {
		objTypes.names = map[ObjType]string{}
	}
	if old, ok := objTypes.names[t]; ok && old != name {
		panic(fmt.Sprintf("image: object type %d is both %q and %q", t, old, name))
	}
	objTypes.names[t] = name
}

// ObjTypeName returns an object type's name, such as "file table", or ""
// for a number that names none.
func ObjTypeName(t ObjType) string {
	objTypes.Lock()
	defer objTypes.Unlock()
	return objTypes.names[t]
}

// ObjTypes returns every named object type, in number order.
func ObjTypes() []ObjType {
	objTypes.Lock()
	defer objTypes.Unlock()
	out := make([]ObjType, 0, len(objTypes.names))
	for t := range objTypes.names {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}
