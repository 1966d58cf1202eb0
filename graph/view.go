package graph

import (
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// FromView returns the object graph of a world: every task of the view,
// and everything they refer to.
func FromView(v *kernel.View) *Graph {
	return draw(viewModel(v))
}

// A view is typed, not self-describing as an image is: this file knows
// each kind of object of kernel.View, and draws it as FromImage draws the
// records a checkpoint would write of it. Objects come in the order a
// checkpoint meets them (so in objref order), each labelled with the facts
// its image's first record holds, in the same words (labelLines), or with
// the same Label function its record's spec uses (vfs.PipeLabel,
// socket.PairLabel, mm.MMLabel, mm.SegmentLabel); references come in the
// order the image's records name them, labelled as refLabel labels them
// (refWords). The property tests keep the two the same shape. A new kind
// of object in kernel.View is drawn here too, by its type's own code.

// The kinds of a view's objects: their object types' names.
var (
	kindFileTable = objKind(task.ObjFileTable)
	kindFS        = objKind(task.ObjFS)
	kindFile      = objKind(vfs.ObjFile)
	kindPipe      = objKind(vfs.ObjPipe)
	kindGhost     = objKind(vfs.ObjGhost)
	kindSocket    = objKind(socket.ObjSocketPair)
	kindMM        = objKind(mm.ObjMM)
	kindSegment   = objKind(mm.ObjSegment)
)

func objKind(t image.ObjType) Kind { return Kind(image.ObjTypeName(t)) }

// viewModel reads a view into the model. Kernel ids name nodes (they are
// unique) but never appear in labels.
func viewModel(v *kernel.View) *model {
	b := &viewBuilder{v: v, m: &model{}, seen: map[string]bool{}, tails: map[uint64]bool{}}
	done := map[int]bool{}
	var order []*kernel.TaskView
	var walk func(pid int)
	walk = func(pid int) {
		tv := v.Task(pid)
		if tv == nil || done[pid] {
			return
		}
		done[pid] = true
		order = append(order, tv)
		b.m.tasks = append(b.m.tasks, &mTask{pid: tv.Pid, ppid: tv.PPid, comm: tv.Comm, zombie: tv.State == task.Zombie, exitCode: tv.ExitCode})
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
	for _, tv := range order {
		b.task(tv)
	}
	return b.m
}

type viewBuilder struct {
	v    *kernel.View
	m    *model
	seen map[string]bool // the nodes met already
	// tails are the inodes whose page-cache tail a file's label showed:
	// an image's FILE record carries it with the first file met on the
	// inode.
	tails map[uint64]bool
}

// first reports whether the node is met for the first time.
func (b *viewBuilder) first(name string) bool {
	if b.seen[name] {
		return false
	}
	b.seen[name] = true
	return true
}

// task meets a task's file table and fs state, as its TASK_OBJS record
// names them after their state, then its address space, as its TASK_MM
// record does.
func (b *viewBuilder) task(tv *kernel.TaskView) {
	if tv.FileTable == 0 {
		return
	}
	table, fs := b.table(tv.FileTable), nodeName(kindFS, kid(tv.FS))
	if b.first(fs) {
		fv := b.v.FSStates[tv.FS]
		b.m.obj(fs, "", kindFS, labelLines(nil, nil, []named{{"root", fv.Root}, {"cwd", fv.Cwd}}))
	}
	b.m.ref(taskName(tv.Pid), table, true, "file table")
	b.m.ref(taskName(tv.Pid), fs, true, "fs")
	if tv.MM != 0 {
		b.m.ref(taskName(tv.Pid), b.mm(tv.MM), true, "mm")
	}
}

// mm meets an address space: its node, labelled as its MM record's spec
// labels it (mm.MMLabel), then each VMA's file or segment, before the VMA
// record that refers to it, labelled as refLabel labels a VMA record.
func (b *viewBuilder) mm(id uint64) string {
	name := nodeName(kindMM, kid(id))
	if !b.first(name) {
		return name
	}
	mv := b.v.MMs[id]
	var mapped uint64
	for _, v := range mv.VMAs {
		mapped += v.End - v.Start
	}
	b.m.obj(name, "", kindMM, mm.MMLabel(len(mv.VMAs), mapped, len(mv.Pages), mv.StartBrk, mv.Brk))
	for _, v := range mv.VMAs {
		to := ""
		switch {
		case v.File != 0:
			to = b.file(v.File)
		case v.Segment != 0:
			to = nodeName(kindSegment, kid(v.Segment))
			if b.first(to) {
				sv := b.v.Segments[v.Segment]
				b.m.obj(to, "", kindSegment, mm.SegmentLabel(sv.Pages, len(sv.Frames)))
			}
		default:
			continue // private anonymous memory: a record of the address space, no reference
		}
		b.m.ref(name, to, false, refWords([]labelItem{
			{name: "start", number: hex(v.Start), hex: true, zero: v.Start == 0},
			{name: "end", number: hex(v.End), hex: true, zero: v.End == 0},
			{name: "pgoff", number: hex(v.PgOff), hex: true, zero: v.PgOff == 0},
			{symbol: v.Prot.String()},
			{symbol: v.Flags.String()},
			{name: "anon"}, {name: "chain"}, {name: "runs"}, // numberings and counts, never shown
		}))
	}
	return name
}

func hex(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }

func kid(id uint64) string { return "k" + strconv.FormatUint(id, 10) }

// table meets a file table: its descriptors' files, each before its FD
// record.
func (b *viewBuilder) table(id uint64) string {
	name := nodeName(kindFileTable, kid(id))
	if !b.first(name) {
		return name
	}
	ft := b.v.FileTables[id]
	b.m.obj(name, "", kindFileTable, labelLines(nil, []named{{"fds", strconv.Itoa(len(ft.Fds))}}, nil))
	for _, fd := range ft.Fds {
		file := b.file(fd.File)
		label := "fd " + strconv.Itoa(fd.Fd)
		if fd.CloseOnExec {
			label += " cloexec"
		}
		b.m.ref(name, file, false, label)
	}
	return name
}

// file meets a file: its node, its ghost's before its FILE record, the
// pipe or socket pair it opens after (their objrefs follow the file's);
// then the references its FILE record (pipe, ghost) and SOCKET record
// (the pair's end) make.
func (b *viewBuilder) file(id uint64) string {
	name := nodeName(kindFile, kid(id))
	if !b.first(name) {
		return name
	}
	fv := b.v.Files[id]
	symbols := nonEmpty(fv.Type.String(), vfs.FormatOpenFlags(fv.Flags), fv.Mode.String())
	numbers := []named{{"pos", strconv.FormatInt(fv.Pos, 10)}, {"version", strconv.FormatUint(fv.Version, 10)}}
	if fv.Type == vfs.TypeRegular && fv.Inode != nil {
		numbers = append(numbers, named{"size", strconv.FormatInt(fv.Inode.Size, 10)}, named{"changes", strconv.FormatUint(fv.Inode.Changes, 10)})
	}
	var parts []named
	if fv.Type == vfs.TypeRegular && fv.Inode != nil && !b.tails[fv.Inode.Ino] {
		b.tails[fv.Inode.Ino] = true
		parts = append(parts, named{"page tail", string(fv.Inode.Tail)})
	}
	if !fv.Unlinked {
		parts = append(parts, named{"path", fv.Path})
	}
	b.m.obj(name, "", kindFile, labelLines(symbols, numbers, parts))
	ghost := ""
	if fv.Unlinked && fv.Inode != nil {
		ghost = b.ghost(fv)
	}
	if fv.Pipe != 0 {
		pipe := nodeName(kindPipe, kid(fv.Pipe))
		if b.first(pipe) {
			b.m.obj(pipe, "", kindPipe, vfs.PipeLabel(b.v.Pipes[fv.Pipe].Buffers))
		}
		b.m.ref(name, pipe, false, "pipe")
	}
	if ghost != "" {
		b.m.ref(name, ghost, false, "ghost")
	}
	if fv.Socket != 0 {
		pair := nodeName(kindSocket, kid(fv.Socket))
		if b.first(pair) {
			sp := b.v.Sockets[fv.Socket]
			b.m.obj(pair, "", kindSocket, socket.PairLabel(sp.Type, sp.Ends))
		}
		b.m.ref(name, pair, false, "end "+strconv.Itoa(fv.SocketEnd))
	}
	return name
}

// ghost meets the inode of an unlinked file, named by its inode number:
// the files open on it share it.
func (b *viewBuilder) ghost(fv kernel.FileView) string {
	in := fv.Inode
	name := nodeName(kindGhost, "i"+strconv.FormatUint(in.Ino, 10))
	if b.first(name) {
		// The view's path of an unlinked file ends in " (deleted)"; the
		// ghost keeps the path it had, as an image does.
		path := strings.TrimSuffix(fv.Path, " (deleted)")
		b.m.obj(name, "", kindGhost, labelLines(nonEmpty(vfs.FormatMode(in.Mode)),
			[]named{{"changes", strconv.FormatUint(in.Changes, 10)}},
			[]named{{"path", path}, {"contents", string(in.Contents)}}))
	}
	return name
}

// nonEmpty returns the strings that are not empty.
func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}
