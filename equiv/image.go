package equiv

import (
	"bytes"
	"crypto/sha256"
	"fmt"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// EqualImages compares two images as the worlds they describe, record by
// record and field by field, with shared objects named by a fixed walk of
// the task tree rather than by their objrefs: tasks in image order, each
// task's file table and fs state, each table's descriptors in order, each
// file's ghost and pipe. An object gets its name (file table T1, file F3,
// pipe P2, ...) when the walk first refers to it, so two images that
// number their objects differently, or that introduce an object nothing
// refers to, still describe the same world. The header (time, uts strings,
// flags) and the bytes after the tail are not part of the world.
//
// It reads each image in the format's order but checks nothing restart
// checks (lengths of paths, limits, registers): it is an oracle for
// images restart has accepted. It returns nil, a *DiffError listing every
// difference, or the error that stopped it reading an image.
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
			lines = append(lines, fmt.Sprintf("entry %d: %s: %s != %s: %s", i, orNone(x.key), x.value, orNone(y.key), y.value))
			// Past a structural difference the walks no longer line up.
			return &DiffError{Lines: lines}
		case x.value != y.value:
			lines = append(lines, fmt.Sprintf("%s: %s != %s", x.key, x.value, y.value))
			if x.regs != nil && y.regs != nil {
				for _, d := range x.regs.Diff(*y.regs) {
					lines = append(lines, "  "+d)
				}
			}
		}
	}
	if len(lines) > 0 {
		return &DiffError{Lines: lines}
	}
	return nil
}

func orNone(key string) string {
	if key == "" {
		return "(nothing)"
	}
	return key
}

// entry is one fact of a described world: what it is about (a task, an
// object by its walk name, a field group) and its value.
type entry struct {
	key, value string
	regs       *x86cpu.State // for a register entry, to name the fields that differ
}

// imgObject is one shared object's records, as read: its state record and
// what belongs to it (a table's descriptors, a pipe's buffers).
type imgObject struct {
	typ   uint32
	state *image.Record
	fds   []image.Fd      // a file table's
	bufs  []*image.Record // a pipe's PIPE_BUF records
}

// imgReader reads an image's records in the format's order into objects.
type imgReader struct {
	recs []*image.Record
	i    int
	objs map[int32]*imgObject
}

func (r *imgReader) next() (*image.Record, error) {
	if r.i >= len(r.recs) {
		return nil, fmt.Errorf("the image ends early")
	}
	r.i++
	return r.recs[r.i-1], nil
}

// expect returns the next record, after reading the objects introduced
// before it; it must be of type t.
func (r *imgReader) expect(t image.Type) (*image.Record, error) {
	for {
		rec, err := r.next()
		if err != nil {
			return nil, err
		}
		switch rec.Type {
		case t:
			return rec, nil
		case image.TypeObjref:
			if err := r.object(rec); err != nil {
				return nil, err
			}
		default:
			return nil, rec.Errorf("found where a %v record was expected", t)
		}
	}
}

// object reads the state of the object an OBJREF record introduces.
func (r *imgReader) object(rec *image.Record) error {
	var o image.Objref
	if err := rec.Decode(&o); err != nil {
		return err
	}
	obj := &imgObject{typ: o.ObjType}
	var err error
	switch o.ObjType {
	case image.ObjFileTable:
		if obj.state, err = r.expect(image.TypeFileTable); err != nil {
			return err
		}
		var ft image.FileTable
		if err := obj.state.Decode(&ft); err != nil {
			return err
		}
		for range ft.Fds {
			fdRec, err := r.expect(image.TypeFd)
			if err != nil {
				return err
			}
			var fd image.Fd
			if err := fdRec.Decode(&fd); err != nil {
				return err
			}
			obj.fds = append(obj.fds, fd)
		}
	case image.ObjFS:
		obj.state, err = r.expect(image.TypeFS)
	case image.ObjFile:
		obj.state, err = r.expect(image.TypeFile)
	case image.ObjGhost:
		obj.state, err = r.expect(image.TypeGhost)
	case image.ObjPipe:
		if obj.state, err = r.expect(image.TypePipe); err != nil {
			return err
		}
		var p image.Pipe
		if err := obj.state.Decode(&p); err != nil {
			return err
		}
		for range p.Buffers {
			b, err := r.expect(image.TypePipeBuf)
			if err != nil {
				return err
			}
			obj.bufs = append(obj.bufs, b)
		}
	default:
		return rec.Errorf("objref %d of unknown object type %d", o.Objref, o.ObjType)
	}
	if err != nil {
		return err
	}
	// A later introduction under the same objref replaces the earlier
	// one, as nothing can refer to the earlier one any more.
	r.objs[o.Objref] = obj
	return nil
}

// describeImage reads an image and lists the world it describes, in the
// walk's order.
func describeImage(img []byte) ([]entry, error) {
	recs, err := image.ReadAll(bytes.NewReader(img))
	if err != nil && len(recs) == 0 {
		return nil, err
	}
	r := &imgReader{recs: recs, objs: map[int32]*imgObject{}}
	if _, err := r.expect(image.TypeHeader); err != nil {
		return nil, err
	}
	if _, err := r.expect(image.TypeArch); err != nil {
		return nil, err
	}
	rec, err := r.expect(image.TypeTree)
	if err != nil {
		return nil, err
	}
	var tree image.Tree
	if err := rec.Decode(&tree); err != nil {
		return nil, err
	}
	w := &walker{r: r, names: map[int32]string{}, counts: map[uint32]int{}}
	var tasks []image.Task
	for range tree.Tasks {
		rec, err := r.expect(image.TypeTask)
		if err != nil {
			return nil, err
		}
		var t image.Task
		if err := rec.Decode(&t); err != nil {
			return nil, err
		}
		tasks = append(tasks, t)
	}
	for i, t := range tasks {
		key := fmt.Sprintf("task %d", i)
		w.add(key, fmt.Sprintf("pid %d, parent %d, state %d, exit code %d, comm %q",
			t.Pid, t.PPid, t.State, t.ExitCode, bytes.TrimRight(t.Comm[:], "\x00")))
		rec, err := r.expect(image.TypeTaskObjs)
		if err != nil {
			return nil, err
		}
		var objs image.TaskObjs
		if err := rec.Decode(&objs); err != nil {
			return nil, err
		}
		// The entry names the objects before their own entries follow.
		at := len(w.out)
		w.add(key+" objects", "")
		files, err := w.refer(objs.FileTable, image.ObjFileTable)
		if err != nil {
			return nil, err
		}
		fs, err := w.refer(objs.FS, image.ObjFS)
		if err != nil {
			return nil, err
		}
		w.out[at].value = fmt.Sprintf("file table %s, fs state %s", files, fs)
		if rec, err = r.expect(image.TypeRegs); err != nil {
			return nil, err
		}
		var regs x86cpu.State
		if err := regs.UnmarshalBinary(rec.Tail); err != nil {
			return nil, err
		}
		w.out = append(w.out, entry{key: key + " registers", value: fmt.Sprintf("%x", rec.Tail), regs: &regs})
	}
	if _, err := r.expect(image.TypeTail); err != nil {
		return nil, err
	}
	return w.out, nil
}

// walker names objects in the order the walk first refers to them and
// lists each one's entries at that point.
type walker struct {
	r      *imgReader
	out    []entry
	names  map[int32]string // objref -> walk name
	counts map[uint32]int   // object type -> names given
}

func (w *walker) add(key, value string) { w.out = append(w.out, entry{key: key, value: value}) }

var namePrefix = map[uint32]string{image.ObjFileTable: "T", image.ObjFS: "S", image.ObjFile: "F", image.ObjPipe: "P", image.ObjGhost: "G"}

// refer returns the walk name of the object objref, of type t: "-" for
// objref 0 (none), and on the first reference the object's entries are
// listed.
func (w *walker) refer(ref int32, t uint32) (string, error) {
	if ref == 0 {
		return "-", nil
	}
	if name, ok := w.names[ref]; ok {
		return name, nil
	}
	obj := w.r.objs[ref]
	if obj == nil || obj.typ != t {
		return "", fmt.Errorf("objref %d is not a %s", ref, image.ObjTypeName(t))
	}
	w.counts[t]++
	name := fmt.Sprintf("%s%d", namePrefix[t], w.counts[t])
	w.names[ref] = name
	key := image.ObjTypeName(t) + " " + name
	switch t {
	case image.ObjFileTable:
		w.add(key, fmt.Sprintf("%d descriptors", len(obj.fds)))
		for _, fd := range obj.fds {
			at := len(w.out)
			w.add(fmt.Sprintf("%s fd %d", key, fd.Fd), "")
			file, err := w.refer(fd.File, image.ObjFile)
			if err != nil {
				return "", err
			}
			w.out[at].value = fmt.Sprintf("file %s, close-on-exec %d", file, fd.CloseOnExec)
		}
	case image.ObjFS:
		var fs image.FS
		if err := obj.state.Decode(&fs); err != nil {
			return "", err
		}
		n := min(int(fs.RootLen), len(obj.state.Tail))
		w.add(key, fmt.Sprintf("root %q, cwd %q", obj.state.Tail[:n], obj.state.Tail[n:]))
	case image.ObjFile:
		var f image.File
		if err := obj.state.Decode(&f); err != nil {
			return "", err
		}
		at := len(w.out)
		w.add(key, "")
		ghost, err := w.refer(f.Ghost, image.ObjGhost)
		if err != nil {
			return "", err
		}
		pipe, err := w.refer(f.Pipe, image.ObjPipe)
		if err != nil {
			return "", err
		}
		w.out[at].value = fmt.Sprintf("%v, flags %s, mode %v, position %d, version %d, path %q, size %d, changes %d, ghost %s, pipe %s",
			vfs.FileType(f.FileType), vfs.FormatOpenFlags(int(f.Flags)), vfs.FMode(f.Mode), f.Pos, f.Version, obj.state.Tail, f.Size, f.Changes, ghost, pipe)
	case image.ObjPipe:
		var p image.Pipe
		if err := obj.state.Decode(&p); err != nil {
			return "", err
		}
		w.add(key, fmt.Sprintf("%d buffers, %d bytes", p.Buffers, p.Bytes))
		for i, rec := range obj.bufs {
			var b image.PipeBuf
			if err := rec.Decode(&b); err != nil {
				return "", err
			}
			w.add(fmt.Sprintf("%s buffer %d", key, i), fmt.Sprintf("offset %d, flags %#x, %s", b.Offset, b.Flags, digest(rec.Tail)))
		}
	case image.ObjGhost:
		var g image.Ghost
		if err := obj.state.Decode(&g); err != nil {
			return "", err
		}
		n := min(int(g.PathLen), len(obj.state.Tail))
		w.add(key, fmt.Sprintf("mode %#o, path %q, changes %d, contents %s", g.Mode, obj.state.Tail[:n], g.Changes, digest(obj.state.Tail[n:])))
	}
	return name, nil
}

// digest renders bytes for an entry: short ones quoted, long ones by
// length, start and SHA-256, so that entries stay small however big a file.
func digest(b []byte) string {
	if len(b) <= 40 {
		return fmt.Sprintf("%q", b)
	}
	return fmt.Sprintf("%d bytes %q... sha256 %x", len(b), b[:24], sha256.Sum256(b))
}
