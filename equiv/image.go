package equiv

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// EqualImages compares two images as the worlds they describe, field by
// field, with shared objects named by a fixed walk of the task tree rather
// than by their objrefs: tasks in image order, each task's file table and
// fs state, each table's descriptors in order, each file's ghost and pipe.
// An object gets its name (T1 for the first file table, F3 for the third
// file, ...) when the walk first refers to it, so two images that number
// their objects differently, or that introduce an object nothing refers
// to, still describe the same world. The header (time, uts strings, flags)
// and whatever follows the tail are not part of the world.
//
// Every field of every record the walk reaches is compared, through the
// format's record specs, so a field added to the format is compared
// without a change here. It reads each image in the format's order but
// checks nothing restart checks (lengths, limits, registers): it is an
// oracle for images restart has accepted. It returns nil, a *DiffError
// listing the differences, or the error that stopped it reading an image.
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

// entry is one fact of a described world: what it is about (a task, an
// object by its walk name) and its value.
type entry struct {
	key, value string
	regs       *x86cpu.State // a register entry's, to name the fields that differ
}

// The format's numbers of the shared-object types (OBJREF's ObjType), and
// the fields that hold objrefs, which the walk renames.
const (
	objFileTable = 1
	objFS        = 2
	objFile      = 3
	objPipe      = 4
	objGhost     = 5
)

var objNames = map[int64]string{objFileTable: "file table", objFS: "fs state", objFile: "file", objPipe: "pipe", objGhost: "ghost"}

var refFields = map[string][]string{"TASK_OBJS": {"FileTable", "FS"}, "FD": {"File"}, "FILE": {"Ghost", "Pipe"}}

// imgObject is one shared object's records, as read: its state record and
// the records that belong to it (a table's descriptors, a pipe's buffers).
type imgObject struct {
	typ   int64
	state *image.Record
	parts []*image.Record
}

// imgReader reads an image's records in the format's order into objects.
type imgReader struct {
	recs []*image.Record
	i    int
	objs map[int64]*imgObject
}

// expect returns the next record, after reading the objects introduced
// before it; it must be of the record type called name.
func (r *imgReader) expect(name string) (*image.Record, error) {
	for r.i < len(r.recs) {
		rec := r.recs[r.i]
		r.i++
		switch {
		case imgedit.Is(rec, name):
			return rec, nil
		case imgedit.Is(rec, "OBJREF"):
			if err := r.object(rec); err != nil {
				return nil, err
			}
		default:
			return nil, rec.Errorf("found where a %s record was expected", name)
		}
	}
	return nil, fmt.Errorf("the image ends where a %s record was expected", name)
}

// object reads the state of the object an OBJREF record introduces.
func (r *imgReader) object(rec *image.Record) error {
	obj := &imgObject{typ: imgedit.Get(rec, "ObjType")}
	var err error
	part := func(state, each, count string) error {
		if obj.state, err = r.expect(state); err != nil {
			return err
		}
		for range imgedit.Get(obj.state, count) {
			p, err := r.expect(each)
			if err != nil {
				return err
			}
			obj.parts = append(obj.parts, p)
		}
		return nil
	}
	switch obj.typ {
	case objFileTable:
		err = part("FILE_TABLE", "FD", "Fds")
	case objFS:
		obj.state, err = r.expect("FS")
	case objFile:
		obj.state, err = r.expect("FILE")
	case objGhost:
		obj.state, err = r.expect("GHOST")
	case objPipe:
		err = part("PIPE", "PIPE_BUF", "Buffers")
	default:
		err = rec.Errorf("objref of unknown object type %d", obj.typ)
	}
	if err != nil {
		return err
	}
	// A later introduction under the same objref replaces the earlier
	// one: nothing can refer to the earlier one any more.
	r.objs[imgedit.Get(rec, "Objref")] = obj
	return nil
}

// describeImage reads an image and lists the world it describes, in the
// walk's order.
func describeImage(img []byte) ([]entry, error) {
	recs, err := imgedit.Read(img)
	if len(recs) == 0 || !imgedit.Is(recs[len(recs)-1], "TAIL") {
		return nil, fmt.Errorf("not a whole image: %v", err)
	}
	r := &imgReader{recs: recs, objs: map[int64]*imgObject{}}
	for _, name := range []string{"HEADER", "ARCH"} {
		if _, err := r.expect(name); err != nil {
			return nil, err
		}
	}
	tree, err := r.expect("TREE")
	if err != nil {
		return nil, err
	}
	w := &walker{r: r, names: map[int64]string{}, counts: map[int64]int{}}
	var tasks []*image.Record
	for range imgedit.Get(tree, "Tasks") {
		rec, err := r.expect("TASK")
		if err != nil {
			return nil, err
		}
		tasks = append(tasks, rec)
	}
	for i, t := range tasks {
		key := fmt.Sprintf("task %d", i)
		w.add(key, fields(t))
		objs, err := r.expect("TASK_OBJS")
		if err != nil {
			return nil, err
		}
		if err := w.state(key+" objects", objs); err != nil {
			return nil, err
		}
		regs, err := r.expect("REGS")
		if err != nil {
			return nil, err
		}
		var s x86cpu.State
		if err := s.UnmarshalBinary(imgedit.Payload(regs)); err != nil {
			return nil, err
		}
		w.out = append(w.out, entry{key: key + " registers", value: fmt.Sprintf("%x", imgedit.Payload(regs)), regs: &s})
	}
	if _, err := r.expect("TAIL"); err != nil {
		return nil, err
	}
	return w.out, nil
}

// walker names objects in the order the walk first refers to them and
// lists each one's entries at that point.
type walker struct {
	r      *imgReader
	out    []entry
	names  map[int64]string // objref -> walk name
	counts map[int64]int    // object type -> names given
}

func (w *walker) add(key, value string) { w.out = append(w.out, entry{key: key, value: value}) }

// state lists a record under key: its fields, with the objects it refers
// to by their walk names; those objects' own entries follow it.
func (w *walker) state(key string, rec *image.Record) error {
	at := len(w.out)
	w.add(key, "")
	var refs []string
	for _, f := range refFields[image.SpecOf(rec.Type).Name] {
		name, err := w.refer(imgedit.Get(rec, f))
		if err != nil {
			return err
		}
		refs = append(refs, f+"="+name)
	}
	w.out[at].value = strings.TrimSpace(fields(rec) + " " + strings.Join(refs, " "))
	return nil
}

// refer returns the walk name of the object objref names, "-" for objref
// 0 (none); on the object's first reference its entries are listed.
func (w *walker) refer(ref int64) (string, error) {
	if ref == 0 {
		return "-", nil
	}
	if name, ok := w.names[ref]; ok {
		return name, nil
	}
	obj := w.r.objs[ref]
	if obj == nil {
		return "", fmt.Errorf("objref %d names no object", ref)
	}
	w.counts[obj.typ]++
	name := fmt.Sprintf("%s %d", objNames[obj.typ], w.counts[obj.typ])
	w.names[ref] = name
	if err := w.state(name, obj.state); err != nil {
		return "", err
	}
	for i, p := range obj.parts {
		if err := w.state(fmt.Sprintf("%s %s %d", name, image.SpecOf(p.Type).Name, i), p); err != nil {
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
		case slices.Contains(refFields[s.Name], f.Name):
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
