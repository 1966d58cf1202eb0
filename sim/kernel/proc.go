package kernel

import (
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// Clone flags the simulator accepts, with Linux's values.
const (
	CLONE_VM    = 0x100
	CLONE_FS    = 0x200
	CLONE_FILES = 0x400
)

// DefaultComm is the command name of a spawned task given none.
const DefaultComm = "sim"

// allocPid returns pid if it is free, or the next free pid after the last
// one allocated when pid is 0, as clone3's set_tid and the pid allocator do.
func (k *Kernel) allocPid(pid int) (int, error) {
	if pid < 0 || pid >= k.pidMax {
		return 0, errno.EINVAL
	}
	if pid != 0 {
		if k.tasks[pid] != nil {
			return 0, errno.EEXIST
		}
		return pid, nil
	}
	// Pids 1..pidMax-1 are candidates, tried from the one after the last
	// allocated, wrapping around.
	for range k.pidMax - 1 {
		k.lastPid++
		if k.lastPid >= k.pidMax {
			k.lastPid = 1
		}
		if k.tasks[k.lastPid] == nil {
			return k.lastPid, nil
		}
	}
	return 0, errno.EAGAIN
}

// Spawn creates a top-level task with the given pid (or the next free one
// when pid is 0): an empty file table, root and working directory at the
// root of the disk, an empty address space, and a fresh register state. It
// returns the pid.
func (k *Kernel) Spawn(pid int, comm string) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	asked := pid
	pid, err := k.allocPid(pid)
	if err != nil {
		return 0, fail(0, "spawn", err, asked)
	}
	if comm == "" {
		comm = DefaultComm
	}
	root := k.fs.Root()
	t := task.New(k.reg, pid, comm, task.NewFileTable(k.reg), task.NewFSState(k.reg, root, root), x86cpu.Default())
	t.SetMM(mm.New(k.reg, k.maxMaps))
	k.tasks[pid] = t
	k.top = append(k.top, t)
	return pid, nil
}

// Clone creates a child of pid with pid child (or the next free one when
// child is 0). With CLONE_FILES the child shares the parent's file table,
// with CLONE_FS its fs state, with CLONE_VM its address space (a store or
// mapping by one is the other's); without, it gets a copy, as fork does
// (the address space's private pages then shared copy on write). The
// child starts with the parent's registers, with rax 0: clone's return
// value in the child. An empty comm keeps the parent's. It returns the
// child's pid.
func (k *Kernel) Clone(pid, child int, flags int, comm string) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, err := k.clone(pid, child, flags, comm)
	return c, fail(pid, "clone", err, child, flags)
}

func (k *Kernel) clone(pid, child int, flags int, comm string) (int, error) {
	parent, err := k.caller(pid)
	if err != nil {
		return 0, err
	}
	if flags&^(CLONE_VM|CLONE_FS|CLONE_FILES) != 0 {
		return 0, errno.EINVAL
	}
	child, err = k.allocPid(child)
	if err != nil {
		return 0, err
	}
	files := parent.Files()
	if flags&CLONE_FILES != 0 {
		files.Get()
	} else {
		files = files.Copy(k.reg)
	}
	fs := parent.FS()
	if flags&CLONE_FS != 0 {
		fs.Get()
	} else {
		fs = fs.Copy(k.reg)
	}
	space := parent.MM()
	if flags&CLONE_VM != 0 {
		space.Get()
	} else {
		space = space.Fork()
	}
	if comm == "" {
		comm = parent.Comm()
	}
	regs := parent.Regs()
	regs.Regs.Rax = 0
	c := task.New(k.reg, child, comm, files, fs, regs)
	c.SetMM(space)
	k.tasks[child] = c
	parent.AddChild(c)
	return child, nil
}

// Fork is Clone with no flags.
func (k *Kernel) Fork(pid, child int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	c, err := k.clone(pid, child, 0, "")
	return c, fail(pid, "fork", err, child)
}

// Exit ends task pid with the given code: it becomes a zombie, keeping only
// its exit code, until its parent reaps it. Its address space, file table
// and fs state go (and with them, if no one else holds them, its mappings,
// pages and files). Its live children
// become top-level tasks and its zombie children are reaped, as when init
// adopts them; a top-level task is reaped at once, for the same reason.
func (k *Kernel) Exit(pid, code int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, err := k.caller(pid)
	if err != nil {
		return fail(pid, "exit", err, code)
	}
	t.Exit(code)
	for _, c := range append([]*task.Task(nil), t.Children()...) {
		t.RemoveChild(c)
		if c.State() == task.Zombie {
			k.reap(c)
		} else {
			k.top = append(k.top, c)
		}
	}
	if t.Parent() == nil {
		k.removeTop(t)
		k.reap(t)
	}
	return nil
}

// reap forgets a zombie: the pid table drops its reference.
func (k *Kernel) reap(t *task.Task) {
	delete(k.tasks, t.Pid())
	t.Put()
}

func (k *Kernel) removeTop(t *task.Task) {
	for i, x := range k.top {
		if x == t {
			k.top = append(k.top[:i:i], k.top[i+1:]...)
			return
		}
	}
}

// Wait reaps the zombie child and returns its exit code, as waitpid(2)
// does. With child -1 it reaps the first zombie child. ECHILD when child is
// not a child of pid; BLOCKED while it is still running.
func (k *Kernel) Wait(pid, child int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	code, err := k.wait(pid, child)
	return code, fail(pid, "wait", err, child)
}

func (k *Kernel) wait(pid, child int) (int, error) {
	t, err := k.caller(pid)
	if err != nil {
		return 0, err
	}
	var c *task.Task
	if child == -1 {
		if len(t.Children()) == 0 {
			return 0, errno.ECHILD
		}
		for _, x := range t.Children() {
			if x.State() == task.Zombie {
				c = x
				break
			}
		}
		if c == nil {
			return 0, errno.BLOCKED
		}
	} else {
		c = k.tasks[child]
		if c == nil || c.Parent() != t {
			return 0, errno.ECHILD
		}
		if c.State() != task.Zombie {
			return 0, errno.BLOCKED
		}
	}
	t.RemoveChild(c)
	k.reap(c)
	return c.ExitCode(), nil
}

// Freeze stops every task of the subtree rooted at pid, as the cgroup
// freezer does: their system calls return BLOCKED until Thaw. Zombies stay
// zombies. Freezing a frozen task is not an error.
func (k *Kernel) Freeze(pid int) error {
	return k.setSubtreeState(pid, "freeze", task.Running, task.Frozen)
}

// Thaw lets every frozen task of the subtree rooted at pid run again.
func (k *Kernel) Thaw(pid int) error {
	return k.setSubtreeState(pid, "thaw", task.Frozen, task.Running)
}

func (k *Kernel) setSubtreeState(pid int, call string, from, to task.State) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	if t == nil {
		return fail(0, call, errno.ESRCH, pid)
	}
	walkSubtree(t, func(x *task.Task) {
		if x.State() == from {
			x.SetState(to)
		}
	})
	return nil
}

// walkSubtree calls fn for t and its descendants, parents first, children in
// order.
func walkSubtree(t *task.Task, fn func(*task.Task)) {
	fn(t)
	for _, c := range t.Children() {
		walkSubtree(c, fn)
	}
}

// Regs returns the user register state of task pid, as PTRACE_GETREGS and
// PTRACE_GETFPREGS would.
func (k *Kernel) Regs(pid int) (x86cpu.State, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	if t == nil || t.State() == task.Zombie {
		return x86cpu.State{}, fail(0, "regs", errno.ESRCH, pid)
	}
	return t.Regs(), nil
}

// SetRegs replaces the user register state of task pid, as ptrace's set
// requests would, after x86cpu's validation (EINVAL, naming the field).
func (k *Kernel) SetRegs(pid int, r x86cpu.State) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t := k.tasks[pid]
	if t == nil || t.State() == task.Zombie {
		return fail(0, "set regs", errno.ESRCH, pid)
	}
	if err := r.Validate(); err != nil {
		return fail(0, "set regs", err, pid)
	}
	t.SetRegs(r)
	return nil
}
