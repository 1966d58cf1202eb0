// Package kernel is the simulated kernel: tasks, their file tables, fs
// states and address spaces, the filesystem, and the system calls that
// change them.
//
// System calls are methods named after Linux's, taking the calling task's pid
// first:
//
//	k := kernel.New(kernel.Config{})
//	k.Spawn(1, "init")
//	fds, _ := k.Pipe2(1, 0)
//	k.Write(1, fds[1], []byte("hello"))
//
// They return Linux's results and errno values (package errno), wrapped in an
// *Error that names the task and the call; compare with errors.Is. A call
// that would block in Linux returns errno.BLOCKED at once and has no effect.
//
// A Kernel is safe for concurrent use: one lock serialises every call, as if
// the simulated machine had a single CPU and a big kernel lock. The objects
// below it (packages vfs and task) rely on that.
package kernel

import (
	"fmt"
	"strings"
	"sync"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Version and the uts fields identify the simulated kernel, as a checkpoint
// image header records them.
const (
	Version  = "0.1"
	Sysname  = "Linux"
	Release  = "6.18.0-ckptsim"
	Machine  = "x86_64"
	Nodename = "ckptsim"
)

// Limits and their Linux defaults.
const (
	// DefaultNoFile is RLIMIT_NOFILE for every task: descriptors are below it.
	DefaultNoFile = 65536
	// DefaultNrOpen is fs.nr_open, the system-wide bound on a file table.
	DefaultNrOpen = 1 << 20
	// DefaultPidMax is kernel.pid_max on a 64-bit machine with many CPUs:
	// pids are below it.
	DefaultPidMax = 1 << 22
)

// Config sets up a kernel. The zero value gives Linux's defaults and an empty
// disk.
type Config struct {
	// NoFile is RLIMIT_NOFILE (DefaultNoFile when zero).
	NoFile int
	// NrOpen is fs.nr_open (DefaultNrOpen when zero); NoFile is capped by it.
	NrOpen int
	// PidMax is kernel.pid_max (DefaultPidMax when zero).
	PidMax int
	// MaxMapCount is vm.max_map_count, the bound on an address space's
	// VMAs (mm.DefaultMaxMapCount when zero); tests set it low to reach
	// it cheaply.
	MaxMapCount int
	// DiskFrom, when set, gives the new kernel a deep copy of that kernel's
	// filesystem: "the same disk", sharing no state.
	DiskFrom *Kernel
}

// Kernel is one simulated machine.
type Kernel struct {
	mu      sync.Mutex
	noFile  int
	nrOpen  int
	pidMax  int
	maxMaps int
	reg     *kref.Registry
	fs      *vfs.FS
	tasks   map[int]*task.Task
	top     []*task.Task // top-level tasks, in creation order
	lastPid int
	ckptID  int64 // the last checkpoint id handed out
}

// New returns a kernel with no tasks.
func New(cfg Config) *Kernel {
	k := &Kernel{
		noFile:  orDefault(cfg.NoFile, DefaultNoFile),
		nrOpen:  orDefault(cfg.NrOpen, DefaultNrOpen),
		pidMax:  orDefault(cfg.PidMax, DefaultPidMax),
		maxMaps: orDefault(cfg.MaxMapCount, mm.DefaultMaxMapCount),
		reg:     kref.NewRegistry(),
		tasks:   make(map[int]*task.Task),
	}
	k.noFile = min(k.noFile, k.nrOpen)
	if cfg.DiskFrom != nil {
		src := cfg.DiskFrom
		src.mu.Lock()
		k.fs = src.fs.Copy(k.reg)
		src.mu.Unlock()
	} else {
		k.fs = vfs.New(k.reg)
	}
	return k
}

func orDefault(v, d int) int {
	if v <= 0 {
		return d
	}
	return v
}

// Registry returns the kernel's registry of live objects.
func (k *Kernel) Registry() *kref.Registry { return k.reg }

// NoFile returns RLIMIT_NOFILE.
func (k *Kernel) NoFile() int { return k.noFile }

// NrOpen returns fs.nr_open.
func (k *Kernel) NrOpen() int { return k.nrOpen }

// WriteFile creates or replaces a regular file on the disk, for setting up a
// world before its tasks run.
func (k *Kernel) WriteFile(path string, contents []byte, perm uint32) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.fs.WriteFile(path, contents, perm); err != nil {
		return &Error{Call: "write file", Args: []any{path}, Err: err}
	}
	return nil
}

// Error is a failed system call: the task that made it, the call with its
// arguments, and the errno (Err), which errors.Is and errors.As see through
// it.
type Error struct {
	Pid  int // 0 for calls made from outside any task
	Call string
	Args []any
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Pid != 0 {
		fmt.Fprintf(&b, "pid %d: ", e.Pid)
	}
	b.WriteString(e.Call)
	b.WriteByte('(')
	for i, a := range e.Args {
		if i > 0 {
			b.WriteString(", ")
		}
		if s, ok := a.(string); ok {
			fmt.Fprintf(&b, "%q", s)
		} else {
			fmt.Fprint(&b, a)
		}
	}
	b.WriteString("): ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the errno.
func (e *Error) Unwrap() error { return e.Err }

// flagArg and modeArg render arguments in errors as Linux's strace would:
// flags by name, modes in octal.
type (
	flagArg int
	modeArg uint32
)

func (f flagArg) String() string { return vfs.FormatOpenFlags(int(f)) }
func (m modeArg) String() string { return fmt.Sprintf("%#o", uint32(m)) }

// fail wraps err, if any, as the failure of call made by pid.
func fail(pid int, call string, err error, args ...any) error {
	if err == nil {
		return nil
	}
	return &Error{Pid: pid, Call: call, Args: args, Err: err}
}

// caller returns the live task pid, which is making a system call: ESRCH if
// there is none (or it has exited), BLOCKED if it is frozen.
func (k *Kernel) caller(pid int) (*task.Task, error) {
	t := k.tasks[pid]
	switch {
	case t == nil || t.State() == task.Zombie:
		return nil, errno.ESRCH
	case t.State() == task.Frozen:
		return nil, errno.BLOCKED
	}
	return t, nil
}
