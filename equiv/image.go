package equiv

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// EqualImages compares two images as the worlds they describe, field by
// field, with shared objects named by a fixed walk rather than by their
// objrefs: the records of the stream in order (the task tree, each task's
// objects and registers), each object listed where the walk first refers to
// it, through any objref field (a file table from TASK_OBJS, a file from
// FD, a ghost or pipe from FILE, ...). An object gets its name ("file
// table 1", "file 3", ...) in that order, so two images that number their
// objects differently, or that introduce an object nothing refers to, still
// describe the same world. The header (time, uts strings, flags) and
// whatever follows the tail are not part of the world.
//
// It reads records through the format's specs (which fields are objrefs,
// to what; which object each record's state belongs to), so a record type
// or field added to the format is compared without a change here. It
// checks nothing restart checks: it is an oracle for images restart has
// accepted. It returns nil, a *DiffError listing the differences, or the
// error that stopped it reading an image.
func EqualImages(a, b []byte) error {
	da, err := describeImage(a)
	if err != nil {
		return fmt.Errorf("first image: %w", err)
	}
	db, err := describeImage(b)
	if err != nil {
		return fmt.Errorf("second image: %w", err)
	}
	var lines []string
	for i := range max(len(da), len(db)) {
		var x, y entry
		if i < len(da) {
			x = da[i]
		}
		if i < len(db) {
			y = db[i]
		}
		switch {
		case x.key != y.key:
			// Past a difference of structure the walks no longer line up.
			lines = append(lines, fmt.Sprintf("%s: %s != %s: %s", orNothing(x.key), x.value, orNothing(y.key), y.value))
			return &DiffError{Lines: lines}
		case x.value != y.value && x.regs != nil && y.regs != nil:
			for _, d := range x.regs.Diff(*y.regs) {
				lines = append(lines, x.key+": "+d)
			}
		case x.value != y.value:
			lines = append(lines, fmt.Sprintf("%s: %s != %s", x.key, x.value, y.value))
		}
	}
	if len(lines) > 0 {
		return &DiffError{Lines: lines}
	}
	return nil
}

func orNothing(key string) string {
	if key == "" {
		return "(nothing)"
	}
	return key
}

// entry is one fact of a described world: what it is about (a record of
// the stream, an object by its walk name) and its value.
type entry struct {
	key, value string
	regs       *x86cpu.State // a register entry's, to name the fields that differ
}

// imgObject is one shared object: its type and the records of its state,
// in order (a file table's FILE_TABLE and FD records, a pipe's PIPE and
// PIPE_BUF records, ...).
type imgObject struct {
	typ  image.ObjType
	recs []*image.Record
}

// describeImage reads an image and lists the world it describes, in the
// walk's order.
func describeImage(img []byte) ([]entry, error) {
	recs, err := imgedit.Read(img)
	if len(recs) < 2 || !imgedit.Is(recs[0], "HEADER") || !imgedit.Is(recs[len(recs)-1], "TAIL") {
		return nil, fmt.Errorf("not a whole image: %v", err)
	}
	// Sort the records between header and tail into the stream's own and
	// the objects' states. An object's records follow its OBJREF, with
	// the records of objects nested in it (a file's in a table's) among
	// them: a record belongs to the innermost object open of its type, or
	// of any type for a record that belongs to none (PAGES, in a VMA's or
	// a segment's state).
	objs := map[int64]*imgObject{}
	var stream []*image.Record
	var open []*imgObject
	for _, r := range recs[1 : len(recs)-1] {
		s := image.SpecOf(r.Type)
		switch {
		case s.Name == "OBJREF":
			o := &imgObject{typ: image.ObjType(imgedit.Get(r, "ObjType"))}
			// A later introduction under the same objref replaces the
			// earlier one: nothing can refer to the earlier any more.
			objs[imgedit.Get(r, "Objref")] = o
			open = append(open, o)
		case s.Object != 0:
			for len(open) > 0 && open[len(open)-1].typ != s.Object {
				open = open[:len(open)-1]
			}
			if len(open) == 0 {
				return nil, r.Errorf("a %v record outside any %s", r.Type, image.ObjTypeName(s.Object))
			}
			o := open[len(open)-1]
			o.recs = append(o.recs, r)
		case len(open) > 0 && len(s.Refs()) == 0:
			// A record of no object of its own (PAGES) inside an
			// object's state is part of the innermost one open.
			o := open[len(open)-1]
			o.recs = append(o.recs, r)
		default:
			// The stream's own records (TASK_OBJS, REGS, ...) end
			// every object open: those with objrefs use them.
			open = nil
			stream = append(stream, r)
		}
	}
	w := &walker{objs: objs, names: map[int64]string{}, counts: map[image.ObjType]int{}}
	seen := map[string]int{}
	for _, r := range stream {
		name := image.SpecOf(r.Type).Name
		if err := w.record(fmt.Sprintf("%s %d", name, seen[name]), r); err != nil {
			return nil, err
		}
		seen[name]++
	}
	return w.out, nil
}

// walker names objects in the order the walk first refers to them and
// lists each one's entries at that point.
type walker struct {
	objs   map[int64]*imgObject
	out    []entry
	names  map[int64]string // objref -> walk name
	counts map[image.ObjType]int
}

// record lists a record under key: its fields, with the objects it refers
// to by their walk names; those objects' own entries follow it.
func (w *walker) record(key string, r *image.Record) error {
	s := image.SpecOf(r.Type)
	at := len(w.out)
	w.out = append(w.out, entry{key: key})
	if s.Name == "REGS" {
		var regs x86cpu.State
		if err := regs.UnmarshalBinary(imgedit.Payload(r)); err != nil {
			return err
		}
		w.out[at].regs = &regs
	}
	var refs []string
	for _, f := range s.Refs() {
		name, err := w.refer(imgedit.Get(r, f.Name), f.Meaning.Ref)
		if err != nil {
			return err
		}
		refs = append(refs, f.Name+"="+name)
	}
	w.out[at].value = strings.TrimSpace(fields(r) + " " + strings.Join(refs, " "))
	return nil
}

// refer returns the walk name of the object objref names, "-" for objref
// 0 (none); on the object's first reference its records are listed.
func (w *walker) refer(ref int64, t image.ObjType) (string, error) {
	if ref == 0 {
		return "-", nil
	}
	if name, ok := w.names[ref]; ok {
		return name, nil
	}
	o := w.objs[ref]
	if o == nil || o.typ != t {
		return "", fmt.Errorf("objref %d names no %s", ref, image.ObjTypeName(t))
	}
	w.counts[t]++
	name := fmt.Sprintf("%s %d", image.ObjTypeName(t), w.counts[t])
	w.names[ref] = name
	seen := map[image.Type]int{}
	for i, r := range o.recs {
		key := name
		if i > 0 {
			// "file table 1 FD 0": the object's first FD record.
			key = fmt.Sprintf("%s %v %d", name, r.Type, seen[r.Type])
			seen[r.Type]++
		}
		if err := w.record(key, r); err != nil {
			return "", err
		}
	}
	return name, nil
}

// fields renders every field of a record's fixed part but its objrefs, and
// its tail.
func fields(rec *image.Record) string {
	s := image.SpecOf(rec.Type)
	var parts []string
	for _, f := range s.Fields() {
		switch {
		case f.Meaning.Ref != 0:
		case strings.HasPrefix(f.Kind, "["):
			parts = append(parts, fmt.Sprintf("%s=%q", f.Name, bytes.TrimRight(imgedit.Bytes(rec, f.Name), "\x00")))
		default:
			parts = append(parts, fmt.Sprintf("%s=%d", f.Name, imgedit.Get(rec, f.Name)))
		}
	}
	if len(rec.Tail) > 0 {
		parts = append(parts, "tail="+digest(rec.Tail))
	}
	return strings.Join(parts, " ")
}

// digest renders bytes for an entry: short ones quoted, long ones by
// length, start and SHA-256, so that entries stay small however big a file.
func digest(b []byte) string {
	if len(b) <= 48 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%q...(%d bytes, sha256 %x)", b[:32], len(b), sha256.Sum256(b))
}
