package inspect

import (
	"encoding/binary"
	"fmt"
	"io"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// Report is what an image holds, as the walker (Inspect) found it: its
// records as read, in order, each decoded field by field from its record
// type's spec; the shared objects the records describe, and the tasks; and
// a summary. Show, ShowJSON, Diff, the ps and fds views, package graph and
// package runner all read an image through it.
type Report struct {
	Records []*Record
	// Objects are the image's shared objects, in the order of their OBJREF
	// records (objref order, in an image a checkpoint wrote).
	Objects []*Object
	// Tasks are the tasks of the image's tree, in its order (preorder).
	Tasks   []*Task
	Summary Summary
	// Err is why reading stopped before the end of the stream (a cut or
	// malformed image, an *image.Error with the offset), or nil.
	Err error
	// Faults are what the walker could not follow in records that are
	// each well formed (a record of an object's state where no such object
	// is open, a reference to an objref never introduced), each an
	// *image.Error naming the record; restart would refuse such an image.
	Faults []error
}

// Record is one record, its fixed part decoded field by field.
type Record struct {
	Index  int   // from 0, in stream order
	Offset int64 // of the record's header
	Type   image.Type
	Spec   *image.Spec
	Length int // of the payload: fixed part and tail, without header and padding
	Fields []*Field
	Tail   []byte
	// Parts are the tail's parts as its spec splits it (a path, the root
	// and working directory, pipe bytes), rendered.
	Parts []Part
	// CRC is, for a tail record, the checksum of the bytes before it as
	// computed while reading (the stored one is the CRC field).
	CRC uint32
	// Object is the shared object whose state the record belongs to (by
	// its spec's Object), or, for an OBJREF record, the object it
	// introduces; nil for the records of the stream and of the tree.
	Object *Object
	// Task is the task whose records the record is among: its own (such
	// as TASK_OBJS and REGS), or, through Object, those of the objects it
	// met first. Nil for the stream and the tree.
	Task *Task
	raw  *image.Record
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
	// Target is the object an objref field names, nil when it names none
	// (0, or dangling).
	Target *Object
}

// The marks of objref fields.
const (
	// MarkFirst is the object's first encounter: on an OBJREF record, the
	// objref it introduces; on a field that names an objref, the
	// reference whose encounter wrote the object's state (the OBJREF record
	// before it, or for a field whose spec says After, the one after it).
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
	Name string // "path", "root", "cwd", "data", "contents", "message", ...
	Text string // quoted text
	Data []byte // the part's bytes
}

// Object is one shared object of an image: the OBJREF record that
// introduces it and the records of its state, which its type's records
// say are its (image.Spec.Object), with the objects nested in it (a file's
// pipe, ghost or socket pair) apart.
type Object struct {
	Type image.ObjType
	Ref  int32
	// Intro is its OBJREF record.
	Intro *Record
	// State are the records of its state, in order; the first is its main
	// record (FILE, PIPE, SOCKET_PAIR...).
	State []*Record
	// Parent is the object in whose state it was introduced (the file of
	// a pipe), nil for an object a task's own records refer to.
	Parent *Object
	// Nested are the objects introduced in its state, in order.
	Nested []*Object
	// Task is the task among whose records it was met first.
	Task *Task
	// Refs are the fields that name it, in stream order.
	Refs []Ref
}

// Ref is one field naming an object.
type Ref struct {
	Record *Record
	Field  *Field
}

// Name names the object as tools print it: its type's name and its
// objref, "file table #1".
func (o *Object) Name() string {
	return fmt.Sprintf("%s #%d", ObjTypeName(o.Type), o.Ref)
}

// ObjTypeName names an object type, "type N" for one no package registered.
func ObjTypeName(t image.ObjType) string {
	if name := image.ObjTypeName(t); name != "" {
		return name
	}
	return fmt.Sprintf("type %d", t)
}

// Task is one task of the image's tree.
type Task struct {
	Pid, PPid int
	Comm      string
	// State is the symbol of its TASK record's state ("live", "zombie").
	State    string
	ExitCode int
	// Record is its TASK record; Records are its own records after the
	// tree (TASK_OBJS, REGS...), in order.
	Record  *Record
	Records []*Record
	// Objects are the objects its records met first, outermost ones only
	// (those of its file table, say, are nested in the table), in order.
	Objects  []*Object
	Parent   *Task
	Children []*Task
}

// Zombie reports whether the task has exited and waits to be reaped: its
// TASK record's state, as the record's spec names it.
func (t *Task) Zombie() bool { return t.State == "zombie" }

// Name names the task as tools print it: "pid 3".
func (t *Task) Name() string { return fmt.Sprintf("pid %d", t.Pid) }

// IsArray reports whether the field is a byte array rather than an integer.
func (f *Field) IsArray() bool { return f.Field.Bytes }

// Signed reports whether the field is a signed integer.
func (f *Field) Signed() bool { return f.Field.Signed }

// Int returns an integer field's value, sign-extended for a signed field.
func (f *Field) Int() int64 {
	if f.Signed() {
		shift := 64 - 8*f.Size
		return int64(f.Bits<<shift) >> shift
	}
	return int64(f.Bits)
}

// IsPad reports whether the field is padding, which the format requires
// to be zero: one named Pad, or Pad and a number (Pad2), at any depth.
func (f *Field) IsPad() bool {
	name := f.Name[strings.LastIndex(f.Name, ".")+1:]
	digits := strings.TrimPrefix(name, "Pad")
	return digits != name && strings.Trim(digits, "0123456789") == ""
}

// NumberText renders an integer field's value as its spec writes numbers:
// in hex for registers and checksums, signed for a signed field.
func (f *Field) NumberText() string { return f.Number(uint64(f.Int())) }

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

// Owner names what the record belongs to: the object whose state it is
// ("file table #1"), or the task whose own record it is ("pid 2"); "" for
// the records of the stream and the tree. An OBJREF record belongs to
// where its object was met: the object it is nested in, or the task.
func (r *Record) Owner() string {
	o := r.Object
	if o != nil && r.Type == image.TypeObjref {
		o = o.Parent
	}
	switch {
	case o != nil:
		return o.Name()
	case r.Task != nil:
		return r.Task.Name()
	}
	return ""
}

// Raw returns the record as read.
func (r *Record) Raw() *image.Record { return r.raw }

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
	walk(rep)
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
// the record type's spec: every value is kept, whatever it is, so that a
// damaged record can be shown and re-encoded. Each field gets the symbol
// its spec's meaning gives it, and the tail its parts.
func decode(i int, raw *image.Record) *Record {
	spec := image.SpecOf(raw.Type)
	r := &Record{Index: i, Offset: raw.Offset, Type: raw.Type, Spec: spec, Length: len(raw.Fixed) + len(raw.Tail),
		Tail: raw.Tail, CRC: raw.CRC, raw: raw}
	for _, f := range spec.Fields() {
		fv := &Field{Field: f}
		b := raw.Fixed[f.Offset : f.Offset+f.Size]
		if fv.IsArray() {
			fv.Bytes = append([]byte(nil), b...)
		} else {
			fv.Bits = getUint(b)
			fv.Symbol = symbol(r, fv)
		}
		r.Fields = append(r.Fields, fv)
	}
	r.Parts = tailParts(r)
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
