// Package task holds the simulated kernel's tasks and the per-task state they
// may share: file tables, fs states and address spaces (package mm).
//
// The kernel (package kernel) creates, links and destroys tasks; this package
// keeps each object's own rules, such as lowest-free descriptor allocation,
// and its reference counting. Like package vfs it is not safe for concurrent
// use on its own: the kernel serialises every call.
package task

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// CommLen is the size of a task's command name buffer, as Linux's
// TASK_COMM_LEN: names keep at most CommLen-1 bytes.
const CommLen = 16

// State is a task's scheduling state, as far as the simulator models it.
type State int

// The states. A frozen task makes no progress (its system calls return
// BLOCKED) until it is thawed; checkpoint needs its tasks frozen. A zombie has
// exited and waits for its parent to reap it.
const (
	Running State = iota
	Frozen
	Zombie
)

func (s State) String() string {
	switch s {
	case Running:
		return "running"
	case Frozen:
		return "frozen"
	case Zombie:
		return "zombie"
	}
	return fmt.Sprintf("state %d", int(s))
}

// Task is a simulated process.
//
// Its reference count is held by the kernel's pid table while the task
// exists, that is until it is reaped.
type Task struct {
	kref.Count
	pid      int
	comm     string
	parent   *Task // nil for a top-level task, whose parent is the simulator
	children []*Task
	state    State
	exitCode int
	files    *FileTable // nil once the task has exited
	fs       *FSState   // nil once the task has exited
	mm       *mm.MM     // nil once the task has exited
	regs     x86cpu.State
}

// Ref implements kref.Object.
func (t *Task) Ref() *kref.Count { return &t.Count }

// New creates a running task with one reference (the pid table's), taking
// over the caller's references to files and fs. It has no address space
// yet (SetMM gives it one) and is not linked to a parent; the kernel does
// both.
func New(reg *kref.Registry, pid int, comm string, files *FileTable, fs *FSState, regs x86cpu.State) *Task {
	t := &Task{pid: pid, comm: TruncComm(comm), files: files, fs: fs, regs: regs}
	t.Init(reg, kref.Task, t)
	return t
}

// TruncComm cuts a command name to what a task keeps: what comes before
// its first NUL, which ends a C string (Linux copies the name with
// strscpy), and at most CommLen-1 bytes.
func TruncComm(comm string) string {
	if i := strings.IndexByte(comm, 0); i >= 0 {
		comm = comm[:i]
	}
	if len(comm) > CommLen-1 {
		return comm[:CommLen-1]
	}
	return comm
}

// Pid returns the task's pid.
func (t *Task) Pid() int { return t.pid }

// Comm returns the command name.
func (t *Task) Comm() string { return t.comm }

// SetComm sets the command name, cut to CommLen-1 bytes.
func (t *Task) SetComm(comm string) { t.comm = TruncComm(comm) }

// Parent returns the parent, or nil for a top-level task.
func (t *Task) Parent() *Task { return t.parent }

// Children returns the children, in the order they were created.
func (t *Task) Children() []*Task { return t.children }

// State returns the scheduling state.
func (t *Task) State() State { return t.state }

// SetState changes the scheduling state.
func (t *Task) SetState(s State) { t.state = s }

// ExitCode returns the exit code of a zombie.
func (t *Task) ExitCode() int { return t.exitCode }

// Files returns the file table (nil after exit).
func (t *Task) Files() *FileTable { return t.files }

// FS returns the fs state (nil after exit).
func (t *Task) FS() *FSState { return t.fs }

// MM returns the address space (nil after exit).
func (t *Task) MM() *mm.MM { return t.mm }

// SetMM replaces the address space, taking over the caller's reference and
// dropping the task's reference to the old one.
func (t *Task) SetMM(m *mm.MM) {
	old := t.mm
	t.mm = m
	if old != nil {
		old.Put()
	}
}

// Regs returns the user register state.
func (t *Task) Regs() x86cpu.State { return t.regs }

// SetRegs replaces the user register state; the caller has validated it.
func (t *Task) SetRegs(r x86cpu.State) { t.regs = r }

// SetFiles replaces the file table, taking over the caller's reference and
// dropping the task's reference to the old one.
func (t *Task) SetFiles(files *FileTable) {
	old := t.files
	t.files = files
	if old != nil {
		old.Put()
	}
}

// SetFS replaces the fs state, as SetFiles does the file table.
func (t *Task) SetFS(fs *FSState) {
	old := t.fs
	t.fs = fs
	if old != nil {
		old.Put()
	}
}

// AddChild appends c to t's children and makes t its parent.
func (t *Task) AddChild(c *Task) {
	c.parent = t
	t.children = append(t.children, c)
}

// RemoveChild unlinks c from t's children.
func (t *Task) RemoveChild(c *Task) {
	for i, x := range t.children {
		if x == c {
			t.children = append(t.children[:i:i], t.children[i+1:]...)
			c.parent = nil
			return
		}
	}
	panic(fmt.Sprintf("task: %d is not a child of %d", c.pid, t.pid))
}

// Exit makes the task a zombie with the given exit code (cut to 8 bits, as
// the wait status keeps it) and lets go of its address space, file table
// and fs state, as Linux's do_exit does before the task is reaped.
func (t *Task) Exit(code int) {
	t.state = Zombie
	t.exitCode = code & 0xff
	t.SetMM(nil)
	t.SetFiles(nil)
	t.SetFS(nil)
}

// Put drops a reference.
func (t *Task) Put() { t.Count.Put(nil) }
