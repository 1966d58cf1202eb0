package kernel

import (
	"errors"
	"fmt"
	"sort"

	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Check verifies the kernel's invariants and returns an error listing every
// violation, or nil. It recounts every reference from the structure (pid
// table, task tree, file tables, files, pipes, the directory tree, address
// spaces, their VMAs' files and segments, page frames) and compares each
// object's count with the recount, and the registry's live objects with the
// objects reachable from the world: an object alive but unreachable has
// leaked. It also checks the task tree's links, pipes' reader and writer
// counts, FIFOs' links to their pipes, socket pairs' invariants, flock
// state, each address space's own invariants (mm.MM.Check) and each mapped
// file's list of mappings.
func (k *Kernel) Check() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	c := &checker{want: map[*kref.Count]int64{}}
	c.tasks(k)
	c.disk(k.fs)
	c.counts(k.reg)
	return errors.Join(c.problems...)
}

type checker struct {
	want     map[*kref.Count]int64
	problems []error
	tables   map[*task.FileTable]bool
	files    map[*vfs.File]bool
	dentries map[*vfs.Dentry]bool
	pipes    map[*vfs.Pipe][2]int    // readers and writers found
	sockets  map[*socket.Pair][2]int // files found on each end
	mms      map[*mm.MM]bool
	segments map[*mm.Segment]bool
	mapped   map[*vfs.Inode]int // VMAs found mapping each file
}

func (c *checker) problem(format string, args ...any) {
	c.problems = append(c.problems, fmt.Errorf(format, args...))
}

// ref records one reference to obj that the structure accounts for.
func (c *checker) ref(obj kref.Object) { c.want[obj.Ref()]++ }

func (c *checker) tasks(k *Kernel) {
	c.tables = map[*task.FileTable]bool{}
	c.files = map[*vfs.File]bool{}
	c.dentries = map[*vfs.Dentry]bool{}
	c.pipes = map[*vfs.Pipe][2]int{}
	c.sockets = map[*socket.Pair][2]int{}
	c.mms = map[*mm.MM]bool{}
	c.segments = map[*mm.Segment]bool{}
	c.mapped = map[*vfs.Inode]int{}
	fsStates := map[*task.FSState]bool{}

	onTop := map[*task.Task]bool{}
	for _, t := range k.top {
		if onTop[t] {
			c.problem("task %d listed twice as top-level", t.Pid())
		}
		onTop[t] = true
		if t.Parent() != nil || k.tasks[t.Pid()] != t {
			c.problem("top-level task %d has a parent or is not in the pid table", t.Pid())
		}
	}
	for pid, t := range k.tasks {
		c.ref(t) // the pid table's
		if t.Pid() != pid {
			c.problem("pid table slot %d holds task %d", pid, t.Pid())
		}
		if p := t.Parent(); p == nil && !onTop[t] {
			c.problem("task %d has no parent and is not top-level", pid)
		} else if p != nil && (k.tasks[p.Pid()] != p || !hasChild(p, t)) {
			c.problem("task %d's parent %d does not list it", pid, p.Pid())
		}
		for _, ch := range t.Children() {
			if ch.Parent() != t {
				c.problem("task %d lists child %d whose parent is another", pid, ch.Pid())
			}
		}
		if (t.State() == task.Zombie) != (t.Files() == nil) || (t.Files() == nil) != (t.FS() == nil) || (t.FS() == nil) != (t.MM() == nil) {
			c.problem("task %d is %v with file table %v, fs state %v and address space %v", pid, t.State(), t.Files() != nil, t.FS() != nil, t.MM() != nil)
		}
		if m := t.MM(); m != nil {
			c.ref(m)
			c.addressSpace(pid, m)
		}
		if f := t.Files(); f != nil {
			c.ref(f)
			c.fileTable(f)
		}
		if s := t.FS(); s != nil {
			c.ref(s)
			if !fsStates[s] {
				fsStates[s] = true
				c.dentry(s.Root())
				c.dentry(s.Cwd())
			}
		}
	}
	for in, n := range c.mapped {
		if got := len(in.Mappings()); got != n {
			c.problem("inode %d lists %d mappings; %d VMAs map it", in.Ino(), got, n)
		}
	}
	for p, rw := range c.pipes {
		if p.Readers() != rw[0] || p.Writers() != rw[1] {
			c.problem("pipe %d counts %d readers and %d writers; its files are %d and %d",
				p.ID(), p.Readers(), p.Writers(), rw[0], rw[1])
		}
		if in := p.FIFO(); in != nil && in.Pipe() != p {
			c.problem("pipe %d's FIFO inode %d has another pipe", p.ID(), in.Ino())
		}
	}
	for p, files := range c.sockets {
		for _, err := range p.Check(files) {
			c.problem("socket pair %d: %v", p.ID(), err)
		}
	}
}

// addressSpace records the references an address space holds, once: its
// VMAs' files and segments, the frames of its page table and of its
// segments; and checks its own invariants.
func (c *checker) addressSpace(pid int, m *mm.MM) {
	if c.mms[m] {
		return
	}
	c.mms[m] = true
	for _, err := range m.Check() {
		c.problem("task %d's address space: %v", pid, err)
	}
	for _, v := range m.VMAs() {
		if f := v.File(); f != nil {
			c.ref(f)
			c.file(f)
			c.mapped[f.Dentry().Inode()]++
		}
		if s := v.Segment(); s != nil {
			c.ref(s)
			if !c.segments[s] {
				c.segments[s] = true
				for _, i := range s.Indexes() {
					c.ref(s.Frame(i))
				}
			}
		}
	}
	m.Pages(func(_ uint64, f *mm.Frame) { c.ref(f) })
}

func hasChild(p, t *task.Task) bool {
	for _, c := range p.Children() {
		if c == t {
			return true
		}
	}
	return false
}

func (c *checker) fileTable(files *task.FileTable) {
	if c.tables[files] {
		return
	}
	c.tables[files] = true
	for _, fd := range files.Fds() {
		f, _ := files.File(fd)
		c.ref(f)
		c.file(f)
	}
}

// dentry records a reference to d from a file or fs state.
func (c *checker) dentry(d *vfs.Dentry) {
	c.ref(d)
	c.reachDentry(d)
}

// reachDentry notes that d is reachable; its inode is held by it once.
func (c *checker) reachDentry(d *vfs.Dentry) {
	if !c.dentries[d] {
		c.dentries[d] = true
		c.ref(d.Inode())
	}
}

func (c *checker) file(f *vfs.File) {
	if c.files[f] {
		return
	}
	c.files[f] = true
	if d := f.Dentry(); d != nil {
		c.dentry(d)
	}
	if p := f.Pipe(); p != nil {
		c.ref(p)
		rw := c.pipes[p]
		if f.Mode()&vfs.FMODE_READ != 0 {
			rw[0]++
		}
		if f.Mode()&vfs.FMODE_WRITE != 0 {
			rw[1]++
		}
		c.pipes[p] = rw
	}
	if p, end, ok := socket.Of(f); ok {
		c.ref(p)
		files := c.sockets[p]
		files[end]++
		c.sockets[p] = files
	}
	for holder, kind := range f.LockSet() {
		if holder.Lock() != kind {
			c.problem("file %d is listed with flock %d but holds %d", holder.ID(), kind, holder.Lock())
		}
	}
	if f.Lock() != 0 && f.LockSet()[f] != f.Lock() {
		c.problem("file %d holds flock %d that its inode does not list", f.ID(), f.Lock())
	}
}

// disk records the directory tree's references: each linked dentry is held
// by its parent (the root by the filesystem).
func (c *checker) disk(fs *vfs.FS) {
	fs.Walk(func(d *vfs.Dentry) {
		c.ref(d)
		c.reachDentry(d)
		if d.Unlinked() {
			c.problem("dentry %q is in the tree but marked unlinked", d.Path())
		}
		if p := d.Inode().Pipe(); p != nil {
			if _, open := c.pipes[p]; !open {
				c.problem("FIFO %q holds pipe %d that no open file holds", d.Path(), p.ID())
			}
		}
	})
}

// counts compares every counted object's references with the recount, and
// the registry with the reachable objects.
func (c *checker) counts(reg *kref.Registry) {
	reached := map[uint64]bool{}
	var lines []string
	for ref, n := range c.want {
		reached[ref.ID()] = true
		if ref.Refs() != n {
			lines = append(lines, fmt.Sprintf("%v %d has %d references; the world accounts for %d", ref.Kind(), ref.ID(), ref.Refs(), n))
		}
	}
	live := map[uint64]bool{}
	for _, l := range reg.Snapshot() {
		live[l.ID] = true
		if !reached[l.ID] {
			lines = append(lines, fmt.Sprintf("%v leaked: alive but unreachable", l))
		}
	}
	for ref := range c.want {
		if !live[ref.ID()] {
			lines = append(lines, fmt.Sprintf("%v %d is reachable but not registered", ref.Kind(), ref.ID()))
		}
	}
	sort.Strings(lines)
	for _, l := range lines {
		c.problem("%s", l)
	}
}
