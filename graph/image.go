package graph

import (
	"io"
	"strconv"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// objKinds are the graph's kinds of the image's shared-object types.
var objKinds = map[object.Type]Kind{task.ObjFileTable: KindFileTable, task.ObjFS: KindFS, vfs.ObjFile: KindFile, vfs.ObjPipe: KindPipe, vfs.ObjGhost: KindGhost}

// FromImage returns the object graph of the container an image holds,
// its objects labelled with their objrefs. It reads the image's structure
// (which record belongs to which object) and refuses an image it cannot
// follow, an incomplete one (an ERROR record, or no TAIL) included, with the
// offset of the record at fault. It does not check the tail's checksum or
// the objects' states: that is restart's work, and a graph of an edited
// image is useful.
func FromImage(r io.Reader) (*Graph, error) {
	recs, err := image.ReadAll(r)
	if err != nil {
		return nil, err
	}
	b := &imageBuilder{m: &model{}, objs: map[int32]any{}, pipes: map[int32]*mPipe{}}
	for _, rec := range recs {
		if err := b.record(rec); err != nil {
			return nil, err
		}
	}
	if !b.ended {
		return nil, &image.Error{Offset: b.end(recs), Msg: "image ends without a TAIL record"}
	}
	return draw(b.m), nil
}

// imageBuilder follows an image's records, building the model.
type imageBuilder struct {
	m *model
	// objs are the objects introduced so far, by objref; pipes are apart,
	// because a FILE names its pipe before the pipe's OBJREF record.
	objs  map[int32]any
	pipes map[int32]*mPipe
	// pending are the OBJREF records whose state record has not come yet:
	// a stack, because a file's ghost is written inside the file's.
	pending []*image.Objref
	table   *mTable // the file table whose FD records are being read
	pipe    *mPipe  // the pipe whose PIPE_BUF records are being read
	objsFor int     // TASK_OBJS records read: the next one is that task's
	ended   bool
}

// end returns the offset just past the last record.
func (b *imageBuilder) end(recs []*image.Record) int64 {
	if len(recs) == 0 {
		return 0
	}
	return recs[len(recs)-1].End()
}

func refName(kind string, ref int32) obj {
	s := strconv.FormatInt(int64(ref), 10)
	return obj{name: kind + "_" + s, ref: "#" + s}
}

// record takes one record into the model.
func (b *imageBuilder) record(rec *image.Record) error {
	if b.ended {
		return rec.Errorf("after the TAIL record")
	}
	switch rec.Type {
	case image.TypeTail:
		if len(b.pending) > 0 {
			return rec.Errorf("objref %d has no state record", b.pending[0].Objref)
		}
		b.ended = true
	case image.TypeError:
		return rec.Errorf("the checkpoint failed: %s", rec.Tail)
	case ckpt.RecTask:
		var t ckpt.TaskRecord
		if err := rec.Decode(&t); err != nil {
			return err
		}
		b.m.tasks = append(b.m.tasks, &mTask{pid: int(t.Pid), ppid: int(t.PPid), comm: cString(t.Comm[:]),
			zombie: t.State == 1, exitCode: int(t.ExitCode)})
	case image.TypeObjref:
		var o image.Objref
		if err := rec.Decode(&o); err != nil {
			return err
		}
		if objKinds[object.Type(o.ObjType)] == "" {
			return rec.Errorf("unknown object type %d", o.ObjType)
		}
		b.pending = append(b.pending, &o)
	case task.RecFileTable:
		ref, err := b.state(rec, task.ObjFileTable)
		if err != nil {
			return err
		}
		b.table = &mTable{obj: refName("files", ref)}
		b.objs[ref] = b.table
	case task.RecFd:
		return b.fd(rec)
	case task.RecFS:
		return b.fs(rec)
	case vfs.RecFile:
		return b.file(rec)
	case vfs.RecPipe:
		ref, err := b.state(rec, vfs.ObjPipe)
		if err != nil {
			return err
		}
		b.pipe = b.pipeRef(ref)
	case vfs.RecPipeBuf:
		if b.pipe == nil {
			return rec.Errorf("not after a PIPE record")
		}
		b.pipe.buffered(rec.Tail)
	case vfs.RecGhost:
		return b.ghost(rec)
	case ckpt.RecTaskObjs:
		return b.taskObjs(rec)
	}
	return nil
}

// state pops the OBJREF record that the state record rec completes, which
// must be of object type t, and returns its objref.
func (b *imageBuilder) state(rec *image.Record, t object.Type) (int32, error) {
	n := len(b.pending)
	if n == 0 || object.Type(b.pending[n-1].ObjType) != t {
		return 0, rec.Errorf("not after an OBJREF record of a %s", objKinds[t])
	}
	o := b.pending[n-1]
	b.pending = b.pending[:n-1]
	if _, dup := b.objs[o.Objref]; dup {
		return 0, rec.Errorf("objref %d introduced twice", o.Objref)
	}
	return o.Objref, nil
}

// lookup returns the object that field names by its objref, which must be
// a T, a kind of object introduced before.
func lookup[T any](b *imageBuilder, rec *image.Record, field string, ref int32, kind Kind) (T, error) {
	v, ok := b.objs[ref].(T)
	if !ok {
		return v, rec.Errorf("%s names objref %d, which is no %s introduced before", field, ref, kind)
	}
	return v, nil
}

func (b *imageBuilder) pipeRef(ref int32) *mPipe {
	p := b.pipes[ref]
	if p == nil {
		p = &mPipe{obj: refName("pipe", ref)}
		b.pipes[ref] = p
	}
	return p
}

func (b *imageBuilder) fd(rec *image.Record) error {
	var fd task.FdRecord
	if err := rec.Decode(&fd); err != nil {
		return err
	}
	if b.table == nil {
		return rec.Errorf("not inside a file table")
	}
	f, err := lookup[*mFile](b, rec, "File", fd.File, KindFile)
	if err != nil {
		return err
	}
	b.table.fds = append(b.table.fds, mFd{fd: int(fd.Fd), file: f, cloexec: fd.CloseOnExec != 0})
	return nil
}

func (b *imageBuilder) fs(rec *image.Record) error {
	ref, err := b.state(rec, task.ObjFS)
	if err != nil {
		return err
	}
	var fs task.FSRecord
	if err := rec.Decode(&fs); err != nil {
		return err
	}
	if int(fs.RootLen)+int(fs.CwdLen) != len(rec.Tail) {
		return rec.Errorf("RootLen %d and CwdLen %d do not add up to the tail's %d bytes", fs.RootLen, fs.CwdLen, len(rec.Tail))
	}
	b.objs[ref] = &mFS{obj: refName("fs", ref), root: string(rec.Tail[:fs.RootLen]), cwd: string(rec.Tail[fs.RootLen:])}
	return nil
}

func (b *imageBuilder) file(rec *image.Record) error {
	ref, err := b.state(rec, vfs.ObjFile)
	if err != nil {
		return err
	}
	var r vfs.FileRecord
	if err := rec.Decode(&r); err != nil {
		return err
	}
	f := &mFile{obj: refName("file", ref), typ: vfs.FileType(r.FileType), flags: int(r.Flags),
		mode: vfs.FMode(r.Mode), pos: r.Pos, path: string(rec.Tail)}
	if r.Ghost != 0 {
		if f.ghost, err = lookup[*mGhost](b, rec, "Ghost", r.Ghost, KindGhost); err != nil {
			return err
		}
		f.path = f.ghost.path + " (deleted)"
	}
	if r.Pipe != 0 {
		f.pipe = b.pipeRef(r.Pipe)
		if f.mode&vfs.FMODE_READ != 0 {
			f.pipe.readers++
		}
		if f.mode&vfs.FMODE_WRITE != 0 {
			f.pipe.writers++
		}
	}
	b.objs[ref] = f
	return nil
}

func (b *imageBuilder) ghost(rec *image.Record) error {
	ref, err := b.state(rec, vfs.ObjGhost)
	if err != nil {
		return err
	}
	var g vfs.GhostRecord
	if err := rec.Decode(&g); err != nil {
		return err
	}
	if int(g.PathLen) > len(rec.Tail) {
		return rec.Errorf("PathLen %d is longer than the tail's %d bytes", g.PathLen, len(rec.Tail))
	}
	b.objs[ref] = &mGhost{obj: refName("ghost", ref), path: string(rec.Tail[:g.PathLen]), mode: g.Mode,
		size: int64(len(rec.Tail)) - int64(g.PathLen)}
	return nil
}

// taskObjs gives the next task, in the tree's order, its file table and fs
// state.
func (b *imageBuilder) taskObjs(rec *image.Record) error {
	var o ckpt.TaskObjsRecord
	if err := rec.Decode(&o); err != nil {
		return err
	}
	if b.objsFor >= len(b.m.tasks) {
		return rec.Errorf("more TASK_OBJS records than tasks (%d)", len(b.m.tasks))
	}
	t := b.m.tasks[b.objsFor]
	b.objsFor++
	b.table = nil
	var err error
	if o.FileTable != 0 {
		if t.files, err = lookup[*mTable](b, rec, "FileTable", o.FileTable, KindFileTable); err != nil {
			return err
		}
	}
	if o.FS != 0 {
		if t.fs, err = lookup[*mFS](b, rec, "FS", o.FS, KindFS); err != nil {
			return err
		}
	}
	return nil
}

// cString returns the text of a NUL-padded byte array.
func cString(b []byte) string {
	for i, c := range b {
		if c == 0 {
			return string(b[:i])
		}
	}
	return string(b)
}
