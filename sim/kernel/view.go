package kernel

import (
	"sort"

	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// View is a read-only snapshot of a kernel's world, for tools and tests:
// tasks and their tree, each task's descriptors and files, each file's type,
// flags, position and inner objects, and every object's reference count.
// It holds no pointer into the kernel; objects refer to each other by id
// (kref ids, unique within one kernel and meaningless across kernels).
type View struct {
	// Tasks are ordered by pid.
	Tasks []TaskView
	// Top lists the top-level tasks' pids in creation order.
	Top        []int
	FileTables map[uint64]FileTableView
	FSStates   map[uint64]FSView
	Files      map[uint64]FileView
	Pipes      map[uint64]PipeView
	Sockets    map[uint64]SocketPairView
	// MMs are the address spaces, Segments the shared anonymous memory
	// they map. Files holds the files mappings hold too.
	MMs      map[uint64]MMView
	Segments map[uint64]SegmentView
	// Live is the registry's contents when the view was taken.
	Live kref.Snapshot

	anons map[*mm.AnonVMA]uint64 // the anon_vmas met so far, numbered
}

// TaskView is one task.
type TaskView struct {
	Pid      int
	PPid     int // 0 for a top-level task
	Comm     string
	State    task.State
	ExitCode int
	Children []int // in creation order
	// FileTable and FS are ids, 0 for a zombie.
	FileTable uint64
	FS        uint64
	// MM is the address space's id, 0 for a zombie; tasks that share one
	// (CLONE_VM) have the same.
	MM   uint64
	Regs x86cpu.State
	Refs int64
}

// FileTableView is one file table.
type FileTableView struct {
	ID   uint64
	Refs int64
	Fds  []FdView // by descriptor number
}

// FdView is one open descriptor.
type FdView struct {
	Fd          int
	File        uint64
	CloseOnExec bool
}

// FSView is one fs state, its directories as absolute paths.
type FSView struct {
	ID        uint64
	Refs      int64
	Root, Cwd string
}

// FileView is one open file description.
type FileView struct {
	ID    uint64
	Refs  int64
	Type  vfs.FileType
	Flags int
	// AsyncFromOpen says the file's O_ASYNC came from open(2) on a FIFO and
	// F_SETFL cannot clear it (vfs.File.AsyncFromOpen).
	AsyncFromOpen bool
	Mode          vfs.FMode
	Pos           int64
	Version       uint64
	Owner         int // as F_GETOWN reports it
	Lock          int // LOCK_SH, LOCK_EX or 0
	// Path is the absolute path the file was opened through ("" for a pipe
	// end); Unlinked says the name has since been removed.
	Path     string
	Unlinked bool
	// Inode describes the inode of a file opened through a path.
	Inode *InodeView
	// Pipe is the id of a pipe end's or FIFO's pipe, else 0.
	Pipe uint64
	// Socket is the id of a socket's pair, else 0; SocketEnd its end.
	Socket    uint64
	SocketEnd int
}

// InodeView is the inode behind a file opened through a path, with its
// dentry's and its own reference counts.
type InodeView struct {
	Ino      uint64
	Mode     uint32
	Size     int64
	Changes  uint64
	Contents []byte // a regular file's
	// Tail is what a store through a shared mapping left past the end,
	// in the last page, which only memory holds; nil when that is zeros.
	Tail       []byte
	DentryRefs int64
	Refs       int64
}

// PipeView is one pipe.
type PipeView struct {
	ID      uint64
	Refs    int64
	Readers int
	Writers int
	Buffers []vfs.PipeBuffer
}

// SocketPairView is one pair of AF_UNIX sockets.
type SocketPairView struct {
	ID   uint64
	Refs int64
	Type int
	Ends [2]socket.EndState
}

// MMView is one address space: its program break, its VMAs in address
// order, and its private pages in address order.
type MMView struct {
	ID       uint64
	Refs     int64 // the tasks that use it
	StartBrk uint64
	Brk      uint64
	VMAs     []VMAView
	Pages    []PageView
}

// VMAView is one VMA. Its backing is File (a file id of View.Files),
// Segment (an id of View.Segments), or neither (private anonymous
// memory).
type VMAView struct {
	Start, End uint64
	Prot       mm.Prot
	Flags      mm.Flags
	Shared     bool
	Heap       bool // the heap, as maps names it
	PgOff      uint64
	File       uint64
	Segment    uint64
	// Anon numbers the VMA's anon_vma within the view (VMAs with the
	// same number share one; 0 for none), and Chain is the length of its
	// chain: they decide which VMAs may merge later.
	Anon  uint64
	Chain int
	// Line is the VMA's maps line, as `vma` prints it.
	Line string
}

// PageView is a page that has a frame: its address (or, in a segment, its
// index), the frame's serial number (the same frame, the same serial) and
// map count, and the bytes.
type PageView struct {
	Addr     uint64
	Frame    uint64
	MapCount int64
	Data     []byte
}

// SegmentView is one segment of shared anonymous memory: its size and the
// pages that have frames, Addr holding the page index.
type SegmentView struct {
	ID     uint64
	Refs   int64 // the VMAs that map it
	Pages  int64
	Frames []PageView
}

// View takes a snapshot of the world.
func (k *Kernel) View() *View {
	k.mu.Lock()
	defer k.mu.Unlock()
	v := &View{
		FileTables: map[uint64]FileTableView{},
		FSStates:   map[uint64]FSView{},
		Files:      map[uint64]FileView{},
		Pipes:      map[uint64]PipeView{},
		Sockets:    map[uint64]SocketPairView{},
		MMs:        map[uint64]MMView{},
		Segments:   map[uint64]SegmentView{},
	}
	for _, t := range k.top {
		v.Top = append(v.Top, t.Pid())
	}
	for _, t := range k.sortedTasks() {
		tv := TaskView{
			Pid: t.Pid(), Comm: t.Comm(), State: t.State(), ExitCode: t.ExitCode(),
			Regs: t.Regs(), Refs: t.Refs(),
		}
		if p := t.Parent(); p != nil {
			tv.PPid = p.Pid()
		}
		for _, c := range t.Children() {
			tv.Children = append(tv.Children, c.Pid())
		}
		if files := t.Files(); files != nil {
			tv.FileTable = files.ID()
			v.addFileTable(k, files)
		}
		if fs := t.FS(); fs != nil {
			tv.FS = fs.ID()
			v.FSStates[fs.ID()] = FSView{ID: fs.ID(), Refs: fs.Refs(), Root: fs.Root().Path(), Cwd: fs.Cwd().Path()}
		}
		if m := t.MM(); m != nil {
			tv.MM = m.ID()
			v.addMM(k, t, m)
		}
		v.Tasks = append(v.Tasks, tv)
	}
	v.Live = k.reg.Snapshot()
	return v
}

func (k *Kernel) sortedTasks() []*task.Task {
	out := make([]*task.Task, 0, len(k.tasks))
	for _, t := range k.tasks {
		out = append(out, t)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Pid() < out[j].Pid() })
	return out
}

func (v *View) addFileTable(k *Kernel, files *task.FileTable) {
	if _, seen := v.FileTables[files.ID()]; seen {
		return
	}
	ft := FileTableView{ID: files.ID(), Refs: files.Refs()}
	for _, fd := range files.Fds() {
		f, _ := files.File(fd)
		ft.Fds = append(ft.Fds, FdView{Fd: fd, File: f.ID(), CloseOnExec: files.CloseOnExec(fd)})
		v.addFile(k, f)
	}
	v.FileTables[files.ID()] = ft
}

func (v *View) addFile(k *Kernel, f *vfs.File) {
	if _, seen := v.Files[f.ID()]; seen {
		return
	}
	fv := FileView{
		ID: f.ID(), Refs: f.Refs(), Type: f.Type(), Flags: f.Flags(), AsyncFromOpen: f.AsyncFromOpen(), Mode: f.Mode(),
		Pos: f.Pos(), Version: f.Version(), Owner: k.getown(f), Lock: f.Lock(),
	}
	if d := f.Dentry(); d != nil {
		in := d.Inode()
		fv.Path, fv.Unlinked = d.Path(), d.Unlinked()
		fv.Inode = &InodeView{
			Ino: in.Ino(), Mode: in.Mode(), Size: in.Size(), Changes: in.Changes(),
			DentryRefs: d.Refs(), Refs: in.Refs(),
		}
		if in.IsRegular() {
			fv.Inode.Contents = in.Contents()
			fv.Inode.Tail = in.Tail()
		}
	}
	if p := f.Pipe(); p != nil {
		fv.Pipe = p.ID()
		if _, seen := v.Pipes[p.ID()]; !seen {
			v.Pipes[p.ID()] = PipeView{ID: p.ID(), Refs: p.Refs(), Readers: p.Readers(), Writers: p.Writers(), Buffers: p.Buffers()}
		}
	}
	if p, end, ok := socket.Of(f); ok {
		fv.Socket, fv.SocketEnd = p.ID(), end
		if _, seen := v.Sockets[p.ID()]; !seen {
			v.Sockets[p.ID()] = SocketPairView{ID: p.ID(), Refs: p.Refs(), Type: p.Type(), Ends: p.Ends()}
		}
	}
	v.Files[f.ID()] = fv
}

func (v *View) addMM(k *Kernel, t *task.Task, m *mm.MM) {
	if _, seen := v.MMs[m.ID()]; seen {
		return
	}
	mv := MMView{ID: m.ID(), Refs: m.Refs(), StartBrk: m.StartBrk(), Brk: m.Break()}
	for _, vma := range m.VMAs() {
		vv := VMAView{Start: vma.Start(), End: vma.End(), Prot: vma.Prot(), Flags: vma.Flags(), Shared: vma.Shared(),
			Heap: m.IsHeap(vma), PgOff: vma.PgOff(), Line: m.Line(vma, t.FS().Root())}
		if f := vma.File(); f != nil {
			vv.File = f.ID()
			v.addFile(k, f)
		}
		if s := vma.Segment(); s != nil {
			vv.Segment = s.ID()
			v.addSegment(s)
		}
		if a, chain := vma.Anon(); a != nil {
			if v.anons == nil {
				v.anons = map[*mm.AnonVMA]uint64{}
			}
			if v.anons[a] == 0 {
				v.anons[a] = uint64(len(v.anons) + 1)
			}
			vv.Anon, vv.Chain = v.anons[a], chain
		}
		mv.VMAs = append(mv.VMAs, vv)
	}
	m.Pages(func(addr uint64, f *mm.Frame) {
		mv.Pages = append(mv.Pages, PageView{Addr: addr, Frame: f.Serial(), MapCount: f.MapCount(), Data: f.Bytes()})
	})
	v.MMs[m.ID()] = mv
}

func (v *View) addSegment(s *mm.Segment) {
	if _, seen := v.Segments[s.ID()]; seen {
		return
	}
	sv := SegmentView{ID: s.ID(), Refs: s.Refs(), Pages: s.Pages()}
	for _, i := range s.Indexes() {
		f := s.Frame(i)
		sv.Frames = append(sv.Frames, PageView{Addr: uint64(i), Frame: f.Serial(), MapCount: f.MapCount(), Data: f.Bytes()})
	}
	v.Segments[s.ID()] = sv
}

// Task returns the view of task pid, or nil.
func (v *View) Task(pid int) *TaskView {
	i := sort.Search(len(v.Tasks), func(i int) bool { return v.Tasks[i].Pid >= pid })
	if i < len(v.Tasks) && v.Tasks[i].Pid == pid {
		return &v.Tasks[i]
	}
	return nil
}
