package kernel

import (
	"bytes"
	"errors"
	"slices"
	"sort"
	"sync/atomic"
	"testing"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The model: just enough of a kernel to predict every result of the calls
// the state machine makes, written without looking at the kernel's data
// structures. Pipe writes stay small, so a pipe never fills and its page
// layout never shows; that layout has tests of its own.

type mFile struct {
	id       int // the model's own identity
	inode    *mInode
	pipe     *mPipe
	read     bool
	write    bool
	appendTo bool
	pos      int
}

type mPipe struct{ data []byte }

// mInode is a regular file's contents; unlinking drops the name, and open
// files keep the inode.
type mInode struct{ data []byte }

type mTable struct {
	fds     map[int]*mFile
	cloexec map[int]bool
}

type mTask struct {
	pid      int
	parent   *mTask
	children []*mTask
	table    *mTable
	mem      *mMem // the address space (model_mem_test.go); nil for a zombie
	zombie   bool
	code     int
}

type kernelModel struct {
	k      *Kernel
	noFile int
	tasks  map[int]*mTask
	disk   map[string]*mInode
	nextID int
	// kernelFile maps a model file to the kernel file id it stands for.
	kernelFile map[*mFile]uint64
	// kernelSeg does the same for shared memory segments.
	kernelSeg map[*mSeg]uint64
	steps     *atomic.Int64
}

var modelPaths = []string{"/a", "/b", "/c"}

func newKernelModel(t *rapid.T, steps *atomic.Int64) *kernelModel {
	noFile := rapid.IntRange(4, 12).Draw(t, "nofile")
	m := &kernelModel{
		k:          New(Config{NoFile: noFile}),
		noFile:     noFile,
		tasks:      map[int]*mTask{},
		disk:       map[string]*mInode{},
		kernelFile: map[*mFile]uint64{},
		kernelSeg:  map[*mSeg]uint64{},
		steps:      steps,
	}
	m.spawn(t, 1)
	return m
}

func (m *kernelModel) spawn(t *rapid.T, pid int) {
	_, err := m.k.Spawn(pid, "")
	m.expect(t, "spawn", err, nil)
	m.tasks[pid] = &mTask{pid: pid, table: &mTable{fds: map[int]*mFile{}, cloexec: map[int]bool{}}, mem: newMem()}
}

func (m *kernelModel) expect(t *rapid.T, what string, got, want error) {
	if want == nil && got != nil {
		t.Fatalf("%s: unexpected error %v", what, got)
	}
	if want != nil && !errors.Is(got, want) {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

// live returns the pids of the tasks that may make calls, in order.
func (m *kernelModel) live() []int {
	var out []int
	for pid, mt := range m.tasks {
		if !mt.zombie {
			out = append(out, pid)
		}
	}
	sort.Ints(out)
	return out
}

// caller draws a live task, or now and then a pid that cannot call (a zombie
// or nobody), which must fail with ESRCH.
func (m *kernelModel) caller(t *rapid.T) (*mTask, int) {
	live := m.live()
	if len(live) == 0 || rapid.IntRange(0, 20).Draw(t, "bad caller") == 0 {
		return nil, rapid.IntRange(90, 99).Draw(t, "dead pid")
	}
	pid := rapid.SampledFrom(live).Draw(t, "pid")
	return m.tasks[pid], pid
}

func (m *kernelModel) fd(t *rapid.T) int { return rapid.IntRange(-1, m.noFile).Draw(t, "fd") }

func (m *kernelModel) lowestFree(tb *mTable, from int) (int, error) {
	for fd := from; fd < m.noFile; fd++ {
		if tb.fds[fd] == nil {
			return fd, nil
		}
	}
	return 0, errno.EMFILE
}

func (m *kernelModel) newFile(f *mFile) *mFile {
	m.nextID++
	f.id = m.nextID
	return f
}

// bind records which kernel file a new model file is, from the view.
func (m *kernelModel) bind(pid, fd int, f *mFile) {
	for _, d := range m.fileTableView(pid).Fds {
		if d.Fd == fd {
			m.kernelFile[f] = d.File
		}
	}
}

func (m *kernelModel) fileTableView(pid int) FileTableView {
	v := m.k.View()
	return v.FileTables[v.Task(pid).FileTable]
}

func (m *kernelModel) Spawn(t *rapid.T) {
	pid := rapid.IntRange(1, 40).Draw(t, "new pid")
	if m.tasks[pid] != nil {
		_, err := m.k.Spawn(pid, "")
		m.expect(t, "spawn taken pid", err, errno.EEXIST)
		return
	}
	m.spawn(t, pid)
}

func (m *kernelModel) Open(t *rapid.T) {
	mt, pid := m.caller(t)
	path := rapid.SampledFrom(modelPaths).Draw(t, "path")
	flags := rapid.SampledFrom([]int{vfs.O_RDONLY, vfs.O_WRONLY, vfs.O_RDWR}).Draw(t, "access")
	if rapid.Bool().Draw(t, "creat") {
		flags |= vfs.O_CREAT
	}
	if rapid.Bool().Draw(t, "append") {
		flags |= vfs.O_APPEND
	}
	cloexec := rapid.Bool().Draw(t, "cloexec")
	if cloexec {
		flags |= vfs.O_CLOEXEC
	}
	fd, err := m.k.Open(pid, path, flags, 0644)
	if mt == nil {
		m.expect(t, "open by dead task", err, errno.ESRCH)
		return
	}
	want, werr := m.lowestFree(mt.table, 0)
	if werr == nil {
		if _, exists := m.disk[path]; !exists && flags&vfs.O_CREAT == 0 {
			werr = errno.ENOENT
		}
	}
	m.expect(t, "open", err, werr)
	if werr != nil {
		return
	}
	if fd != want {
		t.Fatalf("open returned fd %d, want the lowest free %d", fd, want)
	}
	if _, exists := m.disk[path]; !exists {
		m.disk[path] = &mInode{}
	}
	acc := flags & vfs.O_ACCMODE
	f := m.newFile(&mFile{inode: m.disk[path], read: acc != vfs.O_WRONLY, write: acc != vfs.O_RDONLY, appendTo: flags&vfs.O_APPEND != 0})
	mt.table.fds[fd] = f
	mt.table.cloexec[fd] = cloexec
	m.bind(pid, fd, f)
}

func (m *kernelModel) Pipe(t *rapid.T) {
	mt, pid := m.caller(t)
	fds, err := m.k.Pipe2(pid, 0)
	if mt == nil {
		m.expect(t, "pipe by dead task", err, errno.ESRCH)
		return
	}
	r, werr := m.lowestFree(mt.table, 0)
	var w int
	if werr == nil {
		w, werr = m.lowestFree(mt.table, r+1)
	}
	m.expect(t, "pipe", err, werr)
	if werr != nil {
		return
	}
	if fds != [2]int{r, w} {
		t.Fatalf("pipe returned %v, want %v", fds, [2]int{r, w})
	}
	p := &mPipe{}
	rf := m.newFile(&mFile{pipe: p, read: true})
	wf := m.newFile(&mFile{pipe: p, write: true})
	mt.table.fds[r], mt.table.fds[w] = rf, wf
	mt.table.cloexec[r], mt.table.cloexec[w] = false, false
	m.bind(pid, r, rf)
	m.bind(pid, w, wf)
}

// drop removes a model file from a slot; nothing more is needed, since
// liveness is derived from the tables.
func (tb *mTable) drop(fd int) {
	delete(tb.fds, fd)
	delete(tb.cloexec, fd)
}

func (m *kernelModel) Close(t *rapid.T) {
	mt, pid := m.caller(t)
	fd := m.fd(t)
	err := m.k.Close(pid, fd)
	switch {
	case mt == nil:
		m.expect(t, "close by dead task", err, errno.ESRCH)
	case mt.table.fds[fd] == nil:
		m.expect(t, "close", err, errno.EBADF)
	default:
		m.expect(t, "close", err, nil)
		mt.table.drop(fd)
	}
}

func (m *kernelModel) Dup(t *rapid.T) {
	mt, pid := m.caller(t)
	fd := m.fd(t)
	newfd, err := m.k.Dup(pid, fd)
	if mt == nil {
		m.expect(t, "dup by dead task", err, errno.ESRCH)
		return
	}
	f := mt.table.fds[fd]
	if f == nil {
		m.expect(t, "dup", err, errno.EBADF)
		return
	}
	want, werr := m.lowestFree(mt.table, 0)
	m.expect(t, "dup", err, werr)
	if werr == nil {
		if newfd != want {
			t.Fatalf("dup returned %d, want %d", newfd, want)
		}
		mt.table.fds[newfd] = f
		mt.table.cloexec[newfd] = false
	}
}

func (m *kernelModel) Dup2(t *rapid.T) {
	mt, pid := m.caller(t)
	oldfd, newfd := m.fd(t), m.fd(t)
	got, err := m.k.Dup2(pid, oldfd, newfd)
	if mt == nil {
		m.expect(t, "dup2 by dead task", err, errno.ESRCH)
		return
	}
	f := mt.table.fds[oldfd]
	switch {
	case f != nil && oldfd == newfd:
		m.expect(t, "dup2 onto itself", err, nil)
	case f == nil || newfd < 0 || newfd >= m.noFile:
		m.expect(t, "dup2", err, errno.EBADF)
		return
	default:
		m.expect(t, "dup2", err, nil)
		mt.table.fds[newfd] = f
		mt.table.cloexec[newfd] = false
	}
	if got != newfd {
		t.Fatalf("dup2 returned %d, want %d", got, newfd)
	}
}

func (m *kernelModel) Write(t *rapid.T) {
	mt, pid := m.caller(t)
	fd := m.fd(t)
	data := rapid.SliceOfN(rapid.ByteRange('a', 'z'), 0, 40).Draw(t, "data")
	n, err := m.k.Write(pid, fd, data)
	if mt == nil {
		m.expect(t, "write by dead task", err, errno.ESRCH)
		return
	}
	f := mt.table.fds[fd]
	switch {
	case f == nil || !f.write:
		m.expect(t, "write", err, errno.EBADF)
		return
	case len(data) == 0:
		m.expect(t, "empty write", err, nil)
	case f.pipe != nil && m.pipeEnds(f.pipe, false) == 0:
		m.expect(t, "write to a pipe without readers", err, errno.EPIPE)
		return
	case f.pipe != nil:
		m.expect(t, "pipe write", err, nil)
		f.pipe.data = append(f.pipe.data, data...)
	default:
		m.expect(t, "file write", err, nil)
		in := f.inode
		if f.appendTo {
			f.pos = len(in.data)
		}
		if end := f.pos + len(data); end > len(in.data) {
			in.data = append(in.data, make([]byte, end-len(in.data))...)
		}
		copy(in.data[f.pos:], data)
		f.pos += len(data)
	}
	if n != len(data) {
		t.Fatalf("write returned %d, want %d", n, len(data))
	}
}

func (m *kernelModel) Read(t *rapid.T) {
	mt, pid := m.caller(t)
	fd := m.fd(t)
	count := rapid.IntRange(0, 50).Draw(t, "count")
	got, err := m.k.Read(pid, fd, count)
	if mt == nil {
		m.expect(t, "read by dead task", err, errno.ESRCH)
		return
	}
	f := mt.table.fds[fd]
	var want []byte
	switch {
	case f == nil || !f.read:
		m.expect(t, "read", err, errno.EBADF)
		return
	case count == 0:
	case f.pipe != nil && len(f.pipe.data) == 0 && m.pipeEnds(f.pipe, true) > 0:
		m.expect(t, "read from an empty pipe with a writer", err, errno.BLOCKED)
		return
	case f.pipe != nil:
		want = f.pipe.data[:min(count, len(f.pipe.data))]
		f.pipe.data = f.pipe.data[len(want):]
	default:
		if data := f.inode.data; f.pos < len(data) {
			want = data[f.pos:min(f.pos+count, len(data))]
		}
		f.pos += len(want)
	}
	m.expect(t, "read", err, nil)
	if !bytes.Equal(got, want) {
		t.Fatalf("read returned %q, want %q", got, want)
	}
}

func (m *kernelModel) Unlink(t *rapid.T) {
	mt, pid := m.caller(t)
	path := rapid.SampledFrom(modelPaths).Draw(t, "path")
	err := m.k.Unlink(pid, path)
	_, exists := m.disk[path]
	switch {
	case mt == nil:
		m.expect(t, "unlink by dead task", err, errno.ESRCH)
	case !exists:
		m.expect(t, "unlink", err, errno.ENOENT)
	default:
		m.expect(t, "unlink", err, nil)
		delete(m.disk, path)
	}
}

func (m *kernelModel) Clone(t *rapid.T) {
	mt, pid := m.caller(t)
	child := rapid.IntRange(1, 40).Draw(t, "child pid")
	shareFiles := rapid.Bool().Draw(t, "CLONE_FILES")
	shareMem := rapid.IntRange(0, 3).Draw(t, "CLONE_VM") == 0
	flags := 0
	if shareFiles {
		flags = CLONE_FILES
	}
	if shareMem {
		flags |= CLONE_VM
	}
	_, err := m.k.Clone(pid, child, flags, "")
	switch {
	case mt == nil:
		m.expect(t, "clone by dead task", err, errno.ESRCH)
		return
	case m.tasks[child] != nil:
		m.expect(t, "clone onto a taken pid", err, errno.EEXIST)
		return
	}
	m.expect(t, "clone", err, nil)
	c := &mTask{pid: child, parent: mt, table: mt.table, mem: mt.mem}
	if !shareFiles {
		c.table = &mTable{fds: maps(mt.table.fds), cloexec: maps(mt.table.cloexec)}
	}
	if !shareMem {
		c.mem = mt.mem.fork()
	}
	mt.children = append(mt.children, c)
	m.tasks[child] = c
}

func maps[K comparable, V any](in map[K]V) map[K]V {
	out := make(map[K]V, len(in))
	for k, v := range in {
		out[k] = v
	}
	return out
}

func (m *kernelModel) Exit(t *rapid.T) {
	mt, pid := m.caller(t)
	code := rapid.IntRange(0, 300).Draw(t, "code")
	err := m.k.Exit(pid, code)
	if mt == nil {
		m.expect(t, "exit by dead task", err, errno.ESRCH)
		return
	}
	m.expect(t, "exit", err, nil)
	m.exit(mt, code)
}

func (m *kernelModel) exit(mt *mTask, code int) {
	mt.zombie, mt.code, mt.table, mt.mem = true, code&0xff, nil, nil
	for _, c := range mt.children {
		c.parent = nil
		if c.zombie {
			delete(m.tasks, c.pid)
		}
	}
	mt.children = nil
	if mt.parent == nil {
		delete(m.tasks, mt.pid)
	}
}

func (m *kernelModel) Wait(t *rapid.T) {
	mt, pid := m.caller(t)
	child := rapid.IntRange(1, 40).Draw(t, "child pid")
	code, err := m.k.Wait(pid, child)
	if mt == nil {
		m.expect(t, "wait by dead task", err, errno.ESRCH)
		return
	}
	c := m.tasks[child]
	switch {
	case c == nil || c.parent != mt:
		m.expect(t, "wait", err, errno.ECHILD)
	case !c.zombie:
		m.expect(t, "wait for a running child", err, errno.BLOCKED)
	default:
		m.expect(t, "wait", err, nil)
		if code != c.code {
			t.Fatalf("wait returned %d, want %d", code, c.code)
		}
		mt.children = slices.DeleteFunc(mt.children, func(x *mTask) bool { return x == c })
		delete(m.tasks, child)
	}
}

// openFiles returns every model file some live table holds, with the number
// of slots holding it.
func (m *kernelModel) openFiles() map[*mFile]int {
	out := map[*mFile]int{}
	for tb := range m.tables() {
		for _, f := range tb.fds {
			out[f]++
		}
	}
	return out
}

// tables returns the live tables with the number of tasks using each.
func (m *kernelModel) tables() map[*mTable]int {
	out := map[*mTable]int{}
	for _, mt := range m.tasks {
		if mt.table != nil {
			out[mt.table]++
		}
	}
	return out
}

// pipeEnds counts the open files on p that read (or write).
func (m *kernelModel) pipeEnds(p *mPipe, writers bool) int {
	n := 0
	for f := range m.openFiles() {
		if f.pipe == p && (writers && f.write || !writers && f.read) {
			n++
		}
	}
	return n
}

// Check compares the kernel with the model after every step: the tasks, each
// table's descriptors and which files they hold, which tasks share a table,
// reference counts of tables, files and pipes, and the kernel's own
// consistency check.
func (m *kernelModel) Check(t *rapid.T) {
	m.steps.Add(1)
	if err := m.k.Check(); err != nil {
		t.Fatalf("kernel inconsistent: %v", err)
	}
	v := m.k.View()
	var pids []int
	for _, tv := range v.Tasks {
		pids = append(pids, tv.Pid)
	}
	var want []int
	for pid := range m.tasks {
		want = append(want, pid)
	}
	sort.Ints(want)
	if !slices.Equal(pids, want) {
		t.Fatalf("tasks %v, model has %v", pids, want)
	}
	m.checkMemory(t, v)
	tableOf := map[*mTable]uint64{}
	openFiles := m.openFiles()
	for _, tv := range v.Tasks {
		mt := m.tasks[tv.Pid]
		if mt.zombie != (tv.FileTable == 0) {
			t.Fatalf("task %d: zombie %v but file table %d", tv.Pid, mt.zombie, tv.FileTable)
		}
		if mt.table == nil {
			continue
		}
		if id, seen := tableOf[mt.table]; seen && id != tv.FileTable {
			t.Fatalf("task %d should share file table %d, has %d", tv.Pid, id, tv.FileTable)
		}
		tableOf[mt.table] = tv.FileTable
		ft := v.FileTables[tv.FileTable]
		if ft.Refs != int64(m.tables()[mt.table]) {
			t.Fatalf("file table of task %d has %d refs, want %d", tv.Pid, ft.Refs, m.tables()[mt.table])
		}
		if len(ft.Fds) != len(mt.table.fds) {
			t.Fatalf("task %d has %d fds, model %d", tv.Pid, len(ft.Fds), len(mt.table.fds))
		}
		for _, d := range ft.Fds {
			f := mt.table.fds[d.Fd]
			if f == nil || m.kernelFile[f] != d.File {
				t.Fatalf("task %d fd %d holds kernel file %d, model says %v", tv.Pid, d.Fd, d.File, f)
			}
			if d.CloseOnExec != mt.table.cloexec[d.Fd] {
				t.Fatalf("task %d fd %d close-on-exec %v, want %v", tv.Pid, d.Fd, d.CloseOnExec, mt.table.cloexec[d.Fd])
			}
			fv := v.Files[d.File]
			if fv.Refs != int64(openFiles[f]) {
				t.Fatalf("file at task %d fd %d has %d refs, want %d", tv.Pid, d.Fd, fv.Refs, openFiles[f])
			}
			if f.pipe != nil {
				pv := v.Pipes[fv.Pipe]
				if got := joinBuffers(pv.Buffers); !bytes.Equal(got, f.pipe.data) {
					t.Fatalf("pipe holds %q, model %q", got, f.pipe.data)
				}
				if pv.Readers != m.pipeEnds(f.pipe, false) || pv.Writers != m.pipeEnds(f.pipe, true) {
					t.Fatalf("pipe has %d readers and %d writers, model %d and %d", pv.Readers, pv.Writers,
						m.pipeEnds(f.pipe, false), m.pipeEnds(f.pipe, true))
				}
			} else if fv.Pos != int64(f.pos) {
				t.Fatalf("task %d fd %d at %d, model %d", tv.Pid, d.Fd, fv.Pos, f.pos)
			}
		}
	}
}

func joinBuffers(bufs []vfs.PipeBuffer) []byte {
	var out []byte
	for _, b := range bufs {
		out = append(out, b.Data...)
	}
	return out
}

// TestKernelAgainstModel runs random system calls on the kernel and on the
// model, and at the end lets every task exit and be reaped: then no file,
// file table, fs state, pipe, task, address space, segment or frame may be
// left alive.
func TestKernelAgainstModel(t *testing.T) {
	var steps atomic.Int64
	rapid.Check(t, func(t *rapid.T) {
		m := newKernelModel(t, &steps)
		t.Repeat(rapid.StateMachineActions(m))
		for len(m.live()) > 0 {
			for _, pid := range m.live() {
				if err := m.k.Exit(pid, 0); err != nil {
					t.Fatalf("final exit of %d: %v", pid, err)
				}
				m.exit(m.tasks[pid], 0)
			}
		}
		// Zombies whose parents exited were reaped; the rest wait for
		// parents that have exited too, so nothing is left.
		m.Check(t)
		for _, k := range []kref.Kind{kref.File, kref.FileTable, kref.FSState, kref.Pipe, kref.Task, kref.MM, kref.Segment, kref.Frame} {
			if n := m.k.Registry().Count(k); n != 0 {
				t.Fatalf("%d %v objects alive after every task exited: %v", n, k, m.k.Registry().Snapshot())
			}
		}
	})
	t.Logf("%d state-machine steps checked", steps.Load())
}
