package graph

import (
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/task"
)

// FromView returns the object graph of a world: every task of the view,
// and everything they refer to.
func FromView(v *kernel.View) *Graph {
	return draw(viewModel(v))
}

// viewModel reads a view into the model. Kernel ids name nodes (they are
// unique) but never appear in labels.
func viewModel(v *kernel.View) *model {
	b := &viewBuilder{v: v, tables: map[uint64]*mTable{}, fss: map[uint64]*mFS{},
		files: map[uint64]*mFile{}, pipes: map[uint64]*mPipe{}, ghosts: map[uint64]*mGhost{}}
	m := &model{}
	seen := map[int]bool{}
	var walk func(pid int)
	walk = func(pid int) {
		tv := v.Task(pid)
		if tv == nil || seen[pid] {
			return
		}
		seen[pid] = true
		m.tasks = append(m.tasks, b.task(tv))
		for _, c := range tv.Children {
			walk(c)
		}
	}
	for _, pid := range v.Top {
		walk(pid)
	}
	// Every task is below a top-level one; should one not be, it is still
	// drawn, after the tree, in pid order.
	for _, tv := range v.Tasks {
		walk(tv.Pid)
	}
	return m
}

type viewBuilder struct {
	v      *kernel.View
	tables map[uint64]*mTable
	fss    map[uint64]*mFS
	files  map[uint64]*mFile
	pipes  map[uint64]*mPipe
	ghosts map[uint64]*mGhost // by inode number
}

func kname(kind string, id uint64) string { return kind + "_k" + strconv.FormatUint(id, 10) }

func (b *viewBuilder) task(tv *kernel.TaskView) *mTask {
	t := &mTask{pid: tv.Pid, ppid: tv.PPid, comm: tv.Comm, zombie: tv.State == task.Zombie, exitCode: tv.ExitCode}
	if tv.FileTable != 0 {
		t.files = b.table(tv.FileTable)
	}
	if id := tv.FS; id != 0 {
		fs := b.fss[id]
		if fs == nil {
			fv := b.v.FSStates[id]
			fs = &mFS{obj: obj{name: kname("fs", id)}, root: fv.Root, cwd: fv.Cwd}
			b.fss[id] = fs
		}
		t.fs = fs
	}
	return t
}

func (b *viewBuilder) table(id uint64) *mTable {
	if ft := b.tables[id]; ft != nil {
		return ft
	}
	ft := &mTable{obj: obj{name: kname("files", id)}}
	b.tables[id] = ft
	for _, fd := range b.v.FileTables[id].Fds {
		ft.fds = append(ft.fds, mFd{fd: fd.Fd, file: b.file(fd.File), cloexec: fd.CloseOnExec})
	}
	return ft
}

func (b *viewBuilder) file(id uint64) *mFile {
	if f := b.files[id]; f != nil {
		return f
	}
	fv := b.v.Files[id]
	f := &mFile{obj: obj{name: kname("file", id)}, typ: fv.Type, flags: fv.Flags, mode: fv.Mode, pos: fv.Pos, path: fv.Path}
	b.files[id] = f
	if fv.Unlinked && fv.Inode != nil {
		in := fv.Inode
		gh := b.ghosts[in.Ino]
		if gh == nil {
			// The view's path of an unlinked file ends in " (deleted)";
			// the ghost keeps the path it had, as an image does.
			path := strings.TrimSuffix(fv.Path, " (deleted)")
			gh = &mGhost{obj: obj{name: viewName("ghost", in.Ino)}, path: path, mode: in.Mode, size: in.Size}
			b.ghosts[in.Ino] = gh
		}
		f.ghost = gh
	}
	if fv.Pipe != 0 {
		p := b.pipes[fv.Pipe]
		if p == nil {
			pv := b.v.Pipes[fv.Pipe]
			p = &mPipe{obj: obj{name: kname("pipe", fv.Pipe)}, readers: pv.Readers, writers: pv.Writers}
			for _, buf := range pv.Buffers {
				p.buffered(buf.Data)
			}
			b.pipes[fv.Pipe] = p
		}
		f.pipe = p
	}
	return f
}
