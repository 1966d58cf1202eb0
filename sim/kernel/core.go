package kernel

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Core is the inside of a kernel, for the checkpoint/restart engine, which
// in Linux is part of the kernel itself. A Core exists only during a call to
// Kernel.Locked, with the kernel's lock held: nothing else runs meanwhile.
type Core struct {
	k *Kernel
}

// Locked runs fn with the kernel's lock held and its inside open to fn.
// fn must not call the kernel's system calls (they would deadlock), nor
// keep the Core after it returns.
func (k *Kernel) Locked(fn func(c *Core) error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return fn(&Core{k: k})
}

// FS returns the filesystem.
func (c *Core) FS() *vfs.FS { return c.k.fs }

// Registry returns the registry of live objects.
func (c *Core) Registry() *kref.Registry { return c.k.reg }

// NoFile returns RLIMIT_NOFILE: descriptor numbers are below it.
func (c *Core) NoFile() int { return c.k.noFile }

// NrOpen returns fs.nr_open: no file table holds more descriptors.
func (c *Core) NrOpen() int { return c.k.nrOpen }

// PidMax returns pid_max: pids are below it.
func (c *Core) PidMax() int { return c.k.pidMax }

// Owner returns a file's F_SETOWN owner as F_GETOWN reports it: 0 once
// the task it named has been reaped.
func (c *Core) Owner(f *vfs.File) int { return c.k.getown(f) }

// Task returns task pid, or nil.
func (c *Core) Task(pid int) *task.Task { return c.k.tasks[pid] }

// Subtree returns the task pid and its descendants in preorder: a parent
// before its children, children in creation order.
func (c *Core) Subtree(root *task.Task) []*task.Task {
	var out []*task.Task
	walkSubtree(root, func(t *task.Task) { out = append(out, t) })
	return out
}

// LastPid returns the last pid the allocator handed out: the next pid the
// kernel picks is the first free one after it.
func (c *Core) LastPid() int { return c.k.lastPid }

// SetLastPid sets the allocator's position, as a restart restores its
// container's (Linux's ns_last_pid); it must be below pid_max.
func (c *Core) SetLastPid(pid int) error {
	if pid < 0 || pid >= c.k.pidMax {
		return fmt.Errorf("last pid %d out of range 0..%d: %w", pid, c.k.pidMax-1, errno.EINVAL)
	}
	c.k.lastPid = pid
	return nil
}

// NextCheckpointID returns a new checkpoint id, unique within this kernel.
func (c *Core) NextCheckpointID() int64 {
	c.k.ckptID++
	return c.k.ckptID
}

// Attach enters a detached task tree, built by restart, into the kernel:
// every task in the pid table, the root as a top-level task, and every
// live task that has no address space an empty one. Its pids must
// be free and below pid_max (EEXIST, EINVAL naming the pid); otherwise
// nothing changes. The pid table takes over the tasks' references.
func (c *Core) Attach(root *task.Task) error {
	if root.Parent() != nil {
		return fmt.Errorf("attach: task %d has a parent: %w", root.Pid(), errno.EINVAL)
	}
	tasks := c.Subtree(root)
	for _, t := range tasks {
		if err := c.PidFree(t.Pid()); err != nil {
			return err
		}
	}
	for _, t := range tasks {
		if t.State() != task.Zombie && t.MM() == nil {
			// Images that hold no memory restore tasks without an
			// address space: each live one gets an empty one.
			t.SetMM(mm.New(c.k.reg, c.k.maxMaps))
		}
		c.k.tasks[t.Pid()] = t
	}
	c.k.top = append(c.k.top, root)
	return nil
}

// MaxMapCount returns vm.max_map_count, for the address spaces restart
// builds.
func (c *Core) MaxMapCount() int { return c.k.maxMaps }

// PidFree returns nil when pid can be given to a new task: EINVAL when it is
// out of range, EEXIST when a task has it.
func (c *Core) PidFree(pid int) error {
	switch {
	case pid <= 0 || pid >= c.k.pidMax:
		return fmt.Errorf("pid %d out of range 1..%d: %w", pid, c.k.pidMax-1, errno.EINVAL)
	case c.k.tasks[pid] != nil:
		return fmt.Errorf("pid %d is taken: %w", pid, errno.EEXIST)
	}
	return nil
}
