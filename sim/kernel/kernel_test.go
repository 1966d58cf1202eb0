package kernel

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// ktMust(f())(t) returns f's value after checking that its error is nil.
func ktMust[T any](v T, err error) func(t testing.TB) T {
	return func(t testing.TB) T {
		t.Helper()
		require.NoError(t, err)
		return v
	}
}

// ktStep is one call of a pid-allocation sequence.
type ktStep struct {
	op   string // "spawn", "fork" (from pid 1), "exit", "wait" (by pid 1)
	pid  int
	want int   // the pid returned
	err  error // or the errno
}

func TestPidAllocation(t *testing.T) {
	for _, tc := range []struct {
		name   string
		pidMax int
		steps  []ktStep
	}{
		{"counts up from 1", 0, []ktStep{
			{"spawn", 0, 1, nil}, {"spawn", 0, 2, nil}, {"spawn", 0, 3, nil},
		}},
		{"skips taken pids", 0, []ktStep{
			{"spawn", 3, 3, nil}, {"spawn", 0, 1, nil}, {"spawn", 0, 2, nil}, {"spawn", 0, 4, nil},
		}},
		{"goes on after the last one, not back to the lowest free", 0, []ktStep{
			{"spawn", 0, 1, nil}, {"spawn", 0, 2, nil}, {"exit", 1, 0, nil}, {"spawn", 0, 3, nil},
		}},
		{"a chosen pid does not move the counter", 0, []ktStep{
			{"spawn", 10, 10, nil}, {"spawn", 0, 1, nil}, {"spawn", 0, 2, nil},
		}},
		{"clone and fork allocate from the same counter", 0, []ktStep{
			{"spawn", 0, 1, nil}, {"fork", 0, 2, nil}, {"spawn", 0, 3, nil}, {"fork", 0, 4, nil},
		}},
		{"wraps around below pid_max, then runs out", 5, []ktStep{
			{"spawn", 0, 1, nil}, {"spawn", 0, 2, nil}, {"spawn", 0, 3, nil}, {"spawn", 0, 4, nil},
			{"spawn", 0, 0, errno.EAGAIN},
			{"fork", 0, 0, errno.EAGAIN},
			{"exit", 3, 0, nil},
			{"spawn", 0, 3, nil},
		}},
		{"pid bounds", 5, []ktStep{
			{"spawn", -1, 0, errno.EINVAL}, {"spawn", 5, 0, errno.EINVAL}, {"spawn", 6, 0, errno.EINVAL},
			{"spawn", 4, 4, nil}, {"spawn", 1, 1, nil},
			{"fork", 5, 0, errno.EINVAL}, {"fork", -7, 0, errno.EINVAL},
		}},
		{"default pid_max", 0, []ktStep{
			{"spawn", DefaultPidMax, 0, errno.EINVAL}, {"spawn", DefaultPidMax - 1, DefaultPidMax - 1, nil},
		}},
		{"a taken pid", 0, []ktStep{
			{"spawn", 1, 1, nil}, {"spawn", 1, 0, errno.EEXIST}, {"fork", 1, 0, errno.EEXIST},
		}},
		{"a zombie's pid is taken until it is reaped", 0, []ktStep{
			{"spawn", 1, 1, nil}, {"fork", 2, 2, nil}, {"exit", 2, 0, nil},
			{"spawn", 2, 0, errno.EEXIST}, {"fork", 2, 0, errno.EEXIST}, {"spawn", 0, 3, nil},
			{"wait", 2, 0, nil}, {"spawn", 2, 2, nil},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := New(Config{PidMax: tc.pidMax})
			for i, s := range tc.steps {
				before := k.reg.Snapshot()
				var got int
				var err error
				switch s.op {
				case "spawn":
					got, err = k.Spawn(s.pid, "")
				case "fork":
					got, err = k.Fork(1, s.pid)
				case "exit":
					err = k.Exit(s.pid, 0)
				case "wait":
					_, err = k.Wait(1, s.pid)
				}
				if s.err != nil {
					assert.ErrorIs(t, err, s.err, "step %d: %s %d", i, s.op, s.pid)
					assert.Equal(t, "", before.Diff(k.reg.Snapshot()), "step %d: a refused call changes nothing", i)
					continue
				}
				require.NoError(t, err, "step %d: %s %d", i, s.op, s.pid)
				if s.op == "spawn" || s.op == "fork" {
					assert.Equal(t, s.want, got, "step %d: %s %d", i, s.op, s.pid)
					assert.NotNil(t, k.View().Task(got))
				}
			}
			assert.NoError(t, k.Check())
		})
	}
}

func TestSpawnComm(t *testing.T) {
	k := New(Config{})
	ktMust(k.Spawn(1, ""))(t)
	ktMust(k.Spawn(2, "a-very-long-command-name"))(t)
	ktMust(k.Clone(2, 3, 0, ""))(t)
	ktMust(k.Clone(2, 4, 0, "child-with-a-long-name"))(t)
	v := k.View()
	assert.Equal(t, DefaultComm, v.Task(1).Comm)
	assert.Equal(t, "a-very-long-com", v.Task(2).Comm)
	assert.Equal(t, "a-very-long-com", v.Task(3).Comm, "an empty comm keeps the parent's")
	assert.Equal(t, "child-with-a-lo", v.Task(4).Comm)
}

func TestCloneRefusesUnknownFlags(t *testing.T) {
	for _, flags := range []int{
		0x11,                    // SIGCHLD in the low byte, as fork(2) passes it
		0x800,                   // CLONE_SIGHAND
		0x10000,                 // CLONE_THREAD
		0x20000,                 // CLONE_NEWNS
		0x1000,                  // CLONE_PIDFD
		CLONE_FILES | 0x8000000, // CLONE_FILES with CLONE_NEWUSER
		-1,
	} {
		k := New(Config{})
		ktMust(k.Spawn(1, "init"))(t)
		before := k.reg.Snapshot()
		pid, err := k.Clone(1, 0, flags, "")
		assert.ErrorIs(t, err, errno.EINVAL, "flags %#x", flags)
		assert.Equal(t, 0, pid)
		assert.Equal(t, "", before.Diff(k.reg.Snapshot()), "flags %#x: no effect", flags)
		assert.Equal(t, 2, ktMust(k.Fork(1, 0))(t), "flags %#x: no pid was used up", flags)
	}
	for _, flags := range []int{0, CLONE_VM, CLONE_FS, CLONE_FILES, CLONE_VM | CLONE_FS | CLONE_FILES} {
		k := New(Config{})
		ktMust(k.Spawn(1, "init"))(t)
		assert.Equal(t, 2, ktMust(k.Clone(1, 0, flags, ""))(t), "flags %#x", flags)
		assert.NoError(t, k.Check())
	}
}

func ktRegs() x86cpu.State {
	r := x86cpu.Default()
	r.Regs.Rax = 42
	r.Regs.Rbx = 0xdeadbeef
	r.Regs.R15 = 15
	r.Regs.Rip = 0x401234
	r.Regs.Rsp = 0x7ffc0000
	r.Regs.Eflags |= x86cpu.FlagCF | x86cpu.FlagZF
	r.Regs.FsBase = 0x7f0000001000
	r.FPU.XMM[3] = x86cpu.XMMReg{Lo: 1, Hi: 2}
	r.FPU.Mxcsr = 0x1fa0
	return r
}

func TestChildStartsWithParentsRegisters(t *testing.T) {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	assert.Equal(t, x86cpu.Default(), ktMust(k.Regs(1))(t), "a spawned task starts fresh")
	parent := ktRegs()
	require.NoError(t, k.SetRegs(1, parent))
	want := parent
	want.Regs.Rax = 0

	for _, c := range []struct {
		name  string
		clone func() (int, error)
	}{
		{"fork", func() (int, error) { return k.Fork(1, 0) }},
		{"clone", func() (int, error) { return k.Clone(1, 0, CLONE_FILES|CLONE_FS|CLONE_VM, "") }},
	} {
		child := ktMust(c.clone())(t)
		got := ktMust(k.Regs(child))(t)
		assert.True(t, got == want, "%s: the parent's registers with rax 0; differences: %v", c.name, got.Diff(want))
		now := ktMust(k.Regs(1))(t)
		assert.True(t, now == parent, "%s: the parent's are untouched: %v", c.name, now.Diff(parent))
		assert.True(t, k.View().Task(child).Regs == want, "%s: the view agrees", c.name)
	}
	// The child's own changes are its own.
	r := ktMust(k.Regs(2))(t)
	r.Regs.Rbx = 7
	require.NoError(t, k.SetRegs(2, r))
	assert.Equal(t, parent, ktMust(k.Regs(1))(t))
	assert.Equal(t, uint64(7), ktMust(k.Regs(2))(t).Regs.Rbx)
}

func TestRegsAndSetRegs(t *testing.T) {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	ktMust(k.Fork(1, 2))(t)
	require.NoError(t, k.Exit(2, 0)) // a zombie: its parent has not reaped it
	good := ktRegs()

	badCS := good
	badCS.Regs.Cs = 0x10
	badMany := good
	badMany.Regs.Ss = 0
	badMany.Regs.Eflags |= x86cpu.FlagIOPL
	badMany.Debug[4] = 1

	for _, tc := range []struct {
		name  string
		pid   int
		regs  x86cpu.State
		want  errno.Errno
		names []string // what the message must name
	}{
		{"no such task", 99, good, errno.ESRCH, []string{"set regs(99)"}},
		{"a zombie", 2, good, errno.ESRCH, []string{"set regs(2)"}},
		{"a zombie, even with bad registers", 2, badCS, errno.ESRCH, nil},
		{"a kernel code selector", 1, badCS, errno.EINVAL, []string{"set regs(1)", "cs 0x10"}},
		{"several bad fields", 1, badMany, errno.EINVAL, []string{"ss", "eflags", "dr4"}},
	} {
		before := ktMust(k.Regs(1))(t)
		err := k.SetRegs(tc.pid, tc.regs)
		assert.ErrorIs(t, err, tc.want, tc.name)
		for _, n := range tc.names {
			assert.Contains(t, strings.ToLower(err.Error()), n, tc.name)
		}
		assert.Equal(t, before, ktMust(k.Regs(1))(t), "%s: nothing changed", tc.name)
	}

	for _, pid := range []int{99, 2, 0, -1} {
		_, err := k.Regs(pid)
		assert.ErrorIs(t, err, errno.ESRCH, "regs(%d)", pid)
	}

	require.NoError(t, k.SetRegs(1, good))
	assert.Equal(t, good, ktMust(k.Regs(1))(t))

	// A frozen task's registers can be read and written, as ptrace does to
	// a stopped task.
	require.NoError(t, k.Freeze(1))
	assert.Equal(t, good, ktMust(k.Regs(1))(t))
	other := good
	other.Regs.R8 = 8
	require.NoError(t, k.SetRegs(1, other))
	assert.Equal(t, other, ktMust(k.Regs(1))(t))
}

// ktTree builds: 1 -> 2 -> 3, 1 -> 4 (a zombie), and a separate top-level 10.
// Task 2 holds fd 0 (a regular file) and fds 1, 2 (a pipe) from 1.
func ktTree(t *testing.T) *Kernel {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	ktMust(k.Spawn(10, "other"))(t)
	ktMust(k.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0644))(t)
	ktMust(k.Pipe2(1, 0))(t)
	ktMust(k.Fork(1, 2))(t)
	ktMust(k.Fork(2, 3))(t)
	ktMust(k.Fork(1, 4))(t)
	require.NoError(t, k.Exit(4, 7))
	require.NoError(t, k.Mkdir(1, "/d", 0755))
	return k
}

func ktStates(k *Kernel) map[int]task.State {
	out := map[int]task.State{}
	for _, tv := range k.View().Tasks {
		out[tv.Pid] = tv.State
	}
	return out
}

func TestFreezeAndThaw(t *testing.T) {
	const (
		R = task.Running
		F = task.Frozen
		Z = task.Zombie
	)
	k := ktTree(t)
	for _, tc := range []struct {
		op   string
		pid  int
		err  error
		want map[int]task.State
	}{
		{"freeze", 2, nil, map[int]task.State{1: R, 2: F, 3: F, 4: Z, 10: R}},
		{"freeze", 2, nil, map[int]task.State{1: R, 2: F, 3: F, 4: Z, 10: R}}, // again: not an error
		{"freeze", 1, nil, map[int]task.State{1: F, 2: F, 3: F, 4: Z, 10: R}},
		{"thaw", 2, nil, map[int]task.State{1: F, 2: R, 3: R, 4: Z, 10: R}},
		{"freeze", 4, nil, map[int]task.State{1: F, 2: R, 3: R, 4: Z, 10: R}}, // a zombie stays one
		{"thaw", 4, nil, map[int]task.State{1: F, 2: R, 3: R, 4: Z, 10: R}},
		{"thaw", 1, nil, map[int]task.State{1: R, 2: R, 3: R, 4: Z, 10: R}},
		{"thaw", 1, nil, map[int]task.State{1: R, 2: R, 3: R, 4: Z, 10: R}}, // thawing running tasks
		{"freeze", 99, errno.ESRCH, map[int]task.State{1: R, 2: R, 3: R, 4: Z, 10: R}},
		{"thaw", 99, errno.ESRCH, map[int]task.State{1: R, 2: R, 3: R, 4: Z, 10: R}},
		{"freeze", 3, nil, map[int]task.State{1: R, 2: R, 3: F, 4: Z, 10: R}},
		{"freeze", 10, nil, map[int]task.State{1: R, 2: R, 3: F, 4: Z, 10: F}},
		{"thaw", 2, nil, map[int]task.State{1: R, 2: R, 3: R, 4: Z, 10: F}},
	} {
		var err error
		if tc.op == "freeze" {
			err = k.Freeze(tc.pid)
		} else {
			err = k.Thaw(tc.pid)
		}
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, "%s %d", tc.op, tc.pid)
			assert.Contains(t, err.Error(), fmt.Sprintf("%s(%d)", tc.op, tc.pid))
		} else {
			assert.NoError(t, err, "%s %d", tc.op, tc.pid)
		}
		assert.Equal(t, tc.want, ktStates(k), "after %s %d", tc.op, tc.pid)
	}
	assert.NoError(t, k.Check())
}

// TestFrozenTasksMakeNoProgress: every system call of a frozen task returns
// BLOCKED and changes nothing; its running parent is not held up, cannot
// reap it, and the task picks up where it was once thawed.
func TestFrozenTasksMakeNoProgress(t *testing.T) {
	k := ktTree(t)
	ktMust(k.Write(1, 2, []byte("in the pipe")))(t)
	require.NoError(t, k.Freeze(2))
	calls := []struct {
		name string
		call func(pid int) error
	}{
		{"open", func(pid int) error { _, err := k.Open(pid, "/f", vfs.O_RDONLY, 0); return err }},
		{"open O_CREAT", func(pid int) error { _, err := k.Open(pid, "/new", vfs.O_RDWR|vfs.O_CREAT, 0644); return err }},
		{"close", func(pid int) error { return k.Close(pid, 0) }},
		{"close a bad fd", func(pid int) error { return k.Close(pid, 77) }},
		{"read", func(pid int) error { _, err := k.Read(pid, 1, 5); return err }},
		{"read a negative count", func(pid int) error { _, err := k.Read(pid, 1, -1); return err }},
		{"write", func(pid int) error { _, err := k.Write(pid, 0, []byte("x")); return err }},
		{"lseek", func(pid int) error { _, err := k.Lseek(pid, 0, 1, vfs.SEEK_SET); return err }},
		{"dup", func(pid int) error { _, err := k.Dup(pid, 0); return err }},
		{"dup2", func(pid int) error { _, err := k.Dup2(pid, 0, 9); return err }},
		{"dup3", func(pid int) error { _, err := k.Dup3(pid, 0, 9, vfs.O_CLOEXEC); return err }},
		{"pipe2", func(pid int) error { _, err := k.Pipe2(pid, 0); return err }},
		{"fcntl F_SETFD", func(pid int) error { _, err := k.Fcntl(pid, 0, F_SETFD, FD_CLOEXEC); return err }},
		{"fcntl F_SETFL", func(pid int) error { _, err := k.Fcntl(pid, 0, F_SETFL, vfs.O_APPEND); return err }},
		{"fcntl F_GETFL", func(pid int) error { _, err := k.Fcntl(pid, 0, F_GETFL, 0); return err }},
		{"fcntl F_SETOWN", func(pid int) error { _, err := k.Fcntl(pid, 0, F_SETOWN, 1); return err }},
		{"flock", func(pid int) error { return k.Flock(pid, 0, vfs.LOCK_EX) }},
		{"flock LOCK_MAND", func(pid int) error { return k.Flock(pid, 0, vfs.LOCK_MAND) }},
		{"mkdir", func(pid int) error { return k.Mkdir(pid, "/e", 0755) }},
		{"mkfifo", func(pid int) error { return k.Mkfifo(pid, "/p", 0644) }},
		{"unlink", func(pid int) error { return k.Unlink(pid, "/f") }},
		{"chdir", func(pid int) error { return k.Chdir(pid, "/d") }},
		{"fork", func(pid int) error { _, err := k.Fork(pid, 0); return err }},
		{"clone", func(pid int) error { _, err := k.Clone(pid, 50, CLONE_FILES, ""); return err }},
		{"exit", func(pid int) error { return k.Exit(pid, 1) }},
		{"wait", func(pid int) error { _, err := k.Wait(pid, -1); return err }},
	}
	for _, pid := range []int{2, 3} {
		for _, c := range calls {
			before := k.View()
			err := c.call(pid)
			assert.ErrorIs(t, err, errno.BLOCKED, "pid %d: %s", pid, c.name)
			assert.Equal(t, before, k.View(), "pid %d: %s changed the world", pid, c.name)
		}
	}
	// The parent runs, but cannot reap a frozen child.
	_, err := k.Wait(1, 2)
	assert.ErrorIs(t, err, errno.BLOCKED)
	assert.Equal(t, "in", string(ktMust(k.Read(1, 1, 2))(t)))

	require.NoError(t, k.Thaw(2))
	assert.Equal(t, " the pipe", string(ktMust(k.Read(2, 1, 20))(t)))
	assert.Equal(t, 3, ktMust(k.Dup(2, 0))(t))
	require.NoError(t, k.Exit(3, 3))
	assert.Equal(t, 3, ktMust(k.Wait(2, -1))(t))
	require.NoError(t, k.Exit(2, 2))
	assert.Equal(t, 2, ktMust(k.Wait(1, 2))(t))
	assert.NoError(t, k.Check())
}

func TestErrorsNameTheCall(t *testing.T) {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	require.NoError(t, k.Mkdir(1, "/d", 0755))
	ktMust(k.Pipe2(1, 0))(t) // fds 0 and 1
	badRegs := x86cpu.Default()
	badRegs.Regs.Cs = 0x10

	for _, tc := range []struct {
		call func() error
		pid  int
		name string
		want errno.Errno
		msg  string
	}{
		{func() error { _, err := k.Read(1, 7, 10); return err }, 1, "read", errno.EBADF,
			"pid 1: read(7, 10): EBADF (bad file descriptor)"},
		{func() error { _, err := k.Read(1, 0, 1); return err }, 1, "read", errno.BLOCKED,
			"pid 1: read(0, 1): BLOCKED (the call would block)"},
		{func() error { _, err := k.Open(1, "/nope", vfs.O_RDONLY, 0); return err }, 1, "open", errno.ENOENT,
			`pid 1: open("/nope", O_RDONLY, 0): ENOENT (no such file or directory)`},
		{func() error { _, err := k.Open(1, "/d", vfs.O_WRONLY|vfs.O_CLOEXEC, 0); return err }, 1, "open", errno.EISDIR,
			`pid 1: open("/d", O_WRONLY|O_CLOEXEC, 0): EISDIR (is a directory)`},
		{func() error { return k.Close(1, -1) }, 1, "close", errno.EBADF,
			"pid 1: close(-1): EBADF (bad file descriptor)"},
		{func() error { _, err := k.Lseek(1, 0, -1, vfs.SEEK_END); return err }, 1, "lseek", errno.ESPIPE,
			"pid 1: lseek(0, -1, 2): ESPIPE (illegal seek)"},
		{func() error { _, err := k.Write(1, 0, []byte("abc")); return err }, 1, "write", errno.EBADF,
			"pid 1: write(0, 3): EBADF (bad file descriptor)"},
		{func() error { _, err := k.Pipe2(1, vfs.O_APPEND); return err }, 1, "pipe2", errno.EINVAL,
			`pid 1: pipe2(O_RDONLY|O_APPEND): EINVAL (invalid argument)`},
		{func() error { _, err := k.Dup3(1, 0, 0, vfs.O_CLOEXEC); return err }, 1, "dup3", errno.EINVAL,
			`pid 1: dup3(0, 0, O_RDONLY|O_CLOEXEC): EINVAL (invalid argument)`},
		{func() error { _, err := k.Fcntl(1, 0, 99, 5); return err }, 1, "fcntl", errno.EINVAL,
			"pid 1: fcntl(0, 99, 5): EINVAL (invalid argument)"},
		{func() error { return k.Unlink(1, "/d") }, 1, "unlink", errno.EISDIR,
			`pid 1: unlink("/d"): EISDIR (is a directory)`},
		{func() error { return k.Chdir(1, "/nope") }, 1, "chdir", errno.ENOENT,
			`pid 1: chdir("/nope"): ENOENT (no such file or directory)`},
		{func() error { _, err := k.Wait(1, 99); return err }, 1, "wait", errno.ECHILD,
			"pid 1: wait(99): ECHILD (no child processes)"},
		{func() error { _, err := k.Fork(1, 1); return err }, 1, "fork", errno.EEXIST,
			"pid 1: fork(1): EEXIST (file exists)"},
		{func() error { _, err := k.Clone(1, 0, 0x800, ""); return err }, 1, "clone", errno.EINVAL,
			"pid 1: clone(0, 2048): EINVAL (invalid argument)"},
		{func() error { return k.Exit(99, 3) }, 99, "exit", errno.ESRCH,
			"pid 99: exit(3): ESRCH (no such process)"},
		{func() error { return k.Freeze(99) }, 0, "freeze", errno.ESRCH,
			"freeze(99): ESRCH (no such process)"},
		{func() error { return k.Thaw(98) }, 0, "thaw", errno.ESRCH,
			"thaw(98): ESRCH (no such process)"},
		{func() error { _, err := k.Regs(97); return err }, 0, "regs", errno.ESRCH,
			"regs(97): ESRCH (no such process)"},
		{func() error { return k.SetRegs(1, badRegs) }, 0, "set regs", errno.EINVAL,
			"set regs(1): regs: cs 0x10: "},
		{func() error { return k.WriteFile("/d", []byte("x"), 0644) }, 0, "write file", errno.EISDIR,
			`write file("/d"): EISDIR (is a directory)`},
	} {
		err := tc.call()
		require.Error(t, err, tc.msg)
		assert.True(t, strings.HasPrefix(err.Error(), tc.msg), "got %q, want %q", err.Error(), tc.msg)
		var ke *Error
		if assert.True(t, errors.As(err, &ke), "%s: a *kernel.Error", tc.msg) {
			assert.Equal(t, tc.pid, ke.Pid, tc.msg)
			assert.Equal(t, tc.name, ke.Call, tc.msg)
		}
		assert.ErrorIs(t, err, tc.want, tc.msg)
		got, ok := errno.Of(err)
		assert.True(t, ok, tc.msg)
		assert.Equal(t, tc.want, got, tc.msg)
		if tc.want != errno.EAGAIN {
			assert.False(t, errors.Is(err, errno.EAGAIN), "%s: not EAGAIN", tc.msg)
		}
	}
}

// TestSuccessIsANilError: a call that succeeds returns a nil error, not a
// nil *Error inside a non-nil interface.
func TestSuccessIsANilError(t *testing.T) {
	k := New(Config{})
	_, err := k.Spawn(1, "init")
	assert.True(t, err == nil)
	_, err = k.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0644)
	assert.True(t, err == nil)
	_, err = k.Write(1, 0, []byte("x"))
	assert.True(t, err == nil)
	_, err = k.Fork(1, 2)
	assert.True(t, err == nil)
	assert.True(t, k.Close(2, 0) == nil)
	assert.True(t, k.Freeze(2) == nil)
	assert.True(t, k.Thaw(2) == nil)
	assert.True(t, k.Exit(2, 0) == nil)
	_, err = k.Wait(1, -1)
	assert.True(t, err == nil)
	assert.True(t, k.WriteFile("/g", nil, 0644) == nil)
}

func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg            Config
		noFile, nrOpen int
	}{
		{Config{}, DefaultNoFile, DefaultNrOpen},
		{Config{NoFile: 100}, 100, DefaultNrOpen},
		{Config{NoFile: -5, NrOpen: -1}, DefaultNoFile, DefaultNrOpen},
		{Config{NrOpen: 10}, 10, 10},
		{Config{NoFile: 100, NrOpen: 50}, 50, 50},
		{Config{NoFile: 50, NrOpen: 50}, 50, 50},
		{Config{NoFile: 50, NrOpen: 51}, 50, 51},
		{Config{NrOpen: 1000}, 1000, 1000},
	} {
		k := New(tc.cfg)
		assert.Equal(t, tc.noFile, k.NoFile(), "%+v", tc.cfg)
		assert.Equal(t, tc.nrOpen, k.NrOpen(), "%+v", tc.cfg)
	}

	// The cap is the one descriptors meet.
	k := New(Config{NoFile: 100, NrOpen: 3})
	ktMust(k.Spawn(1, "init"))(t)
	for fd := range 3 {
		assert.Equal(t, fd, ktMust(k.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0644))(t))
	}
	_, err := k.Open(1, "/f", vfs.O_RDONLY, 0)
	assert.ErrorIs(t, err, errno.EMFILE)
	require.NoError(t, k.Close(1, 2))
	_, err = k.Dup2(1, 0, 3)
	assert.ErrorIs(t, err, errno.EBADF)
	_, err = k.Fcntl(1, 0, F_DUPFD, 3)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.Equal(t, 2, ktMust(k.Fcntl(1, 0, F_DUPFD, 2))(t))
}

// ktRead opens path in k as task pid and returns its contents.
func ktRead(t *testing.T, k *Kernel, pid int, path string) string {
	t.Helper()
	fd := ktMust(k.Open(pid, path, vfs.O_RDONLY, 0))(t)
	defer k.Close(pid, fd)
	return string(ktMust(k.Read(pid, fd, 1<<10))(t))
}

func TestDiskFrom(t *testing.T) {
	src := New(Config{NoFile: 10})
	require.NoError(t, src.WriteFile("/a", []byte("one"), 0640))
	ktMust(src.Spawn(1, "init"))(t)
	require.NoError(t, src.Mkdir(1, "/d", 0700))
	require.NoError(t, src.WriteFile("/d/b", []byte("bee"), 0644))
	require.NoError(t, src.Mkfifo(1, "/p", 0600))
	fifo := ktMust(src.Open(1, "/p", vfs.O_RDWR, 0))(t)
	ktMust(src.Write(1, fifo, []byte("queued")))(t)
	gone := ktMust(src.Open(1, "/gone", vfs.O_RDWR|vfs.O_CREAT, 0644))(t)
	ktMust(src.Write(1, gone, []byte("ghost")))(t)
	require.NoError(t, src.Unlink(1, "/gone"))
	before := src.reg.Snapshot()

	dst := New(Config{DiskFrom: src})
	assert.Equal(t, "", before.Diff(src.reg.Snapshot()), "the source is not changed")
	assert.Equal(t, DefaultNoFile, dst.NoFile(), "only the disk is copied, not the limits")
	v := dst.View()
	assert.Empty(t, v.Tasks, "no task is copied")
	for _, kind := range []kref.Kind{kref.File, kref.FileTable, kref.FSState, kref.Pipe, kref.Task} {
		assert.Zero(t, dst.reg.Count(kind), "%v", kind)
	}
	assert.Equal(t, 5, dst.reg.Count(kref.Inode), "/, /a, /d, /d/b, /p")
	assert.NoError(t, dst.Check())

	ktMust(dst.Spawn(1, "init"))(t) // the same pid on another machine
	assert.Equal(t, "one", ktRead(t, dst, 1, "/a"))
	assert.Equal(t, "bee", ktRead(t, dst, 1, "/d/b"))
	_, err := dst.Open(1, "/gone", vfs.O_RDONLY, 0)
	assert.ErrorIs(t, err, errno.ENOENT, "an unlinked file is not on the disk")
	r := ktMust(dst.Open(1, "/p", vfs.O_RDONLY|vfs.O_NONBLOCK, 0))(t)
	assert.Empty(t, ktMust(dst.Read(1, r, 100))(t), "the FIFO's bytes are open state: a new, empty pipe")

	// Changes on one machine are not seen on the other.
	fd := ktMust(dst.Open(1, "/a", vfs.O_WRONLY|vfs.O_TRUNC, 0))(t)
	ktMust(dst.Write(1, fd, []byte("TWO")))(t)
	require.NoError(t, dst.Unlink(1, "/d/b"))
	require.NoError(t, src.WriteFile("/c", []byte("sea"), 0644))
	assert.Equal(t, "one", ktRead(t, src, 1, "/a"))
	assert.Equal(t, "bee", ktRead(t, src, 1, "/d/b"))
	assert.Equal(t, "TWO", ktRead(t, dst, 1, "/a"))
	_, err = dst.Open(1, "/c", vfs.O_RDONLY, 0)
	assert.ErrorIs(t, err, errno.ENOENT)
	assert.Equal(t, "queued", string(ktMust(src.Read(1, fifo, 100))(t)), "the source's FIFO keeps its bytes")
	assert.NoError(t, src.Check())
	assert.NoError(t, dst.Check())
}

// ktWorld builds a small world:
//
//	1 init: fd 0 /f (O_RDWR, "hello", flock LOCK_EX, owner 3), fds 1, 2 a
//	        pipe (O_CLOEXEC) holding "xy"
//	2 sharer: CLONE_FILES child of 1
//	3 init: forked from 1, cwd /d, fd 3 the directory /d
//	4 init: clone of 3 with CLONE_FS
//	5 init: forked from 1, exited with 300: a zombie
func ktWorld(t *testing.T) *Kernel {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	require.Equal(t, 0, ktMust(k.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0644))(t))
	ktMust(k.Write(1, 0, []byte("hello")))(t)
	require.Equal(t, [2]int{1, 2}, ktMust(k.Pipe2(1, vfs.O_CLOEXEC))(t))
	ktMust(k.Write(1, 2, []byte("xy")))(t)
	require.NoError(t, k.Mkdir(1, "/d", 0755))
	ktMust(k.Clone(1, 2, CLONE_FILES, "sharer"))(t)
	ktMust(k.Fork(1, 3))(t)
	require.NoError(t, k.Chdir(3, "/d"))
	require.Equal(t, 3, ktMust(k.Open(3, ".", vfs.O_RDONLY, 0))(t))
	ktMust(k.Clone(3, 4, CLONE_FS, ""))(t)
	ktMust(k.Fork(1, 5))(t)
	require.NoError(t, k.Exit(5, 300))
	ktMust(k.Fcntl(1, 0, F_SETOWN, 3))(t)
	require.NoError(t, k.Flock(1, 0, vfs.LOCK_EX))
	return k
}

func TestView(t *testing.T) {
	k := ktWorld(t)
	v := k.View()

	// The task tree.
	var pids []int
	for _, tv := range v.Tasks {
		pids = append(pids, tv.Pid)
		assert.Equal(t, int64(1), tv.Refs, "task %d: the pid table's reference", tv.Pid)
	}
	assert.Equal(t, []int{1, 2, 3, 4, 5}, pids)
	assert.Equal(t, []int{1}, v.Top)
	for _, tc := range []struct {
		pid, ppid int
		comm      string
		state     task.State
		children  []int
	}{
		{1, 0, "init", task.Running, []int{2, 3, 5}},
		{2, 1, "sharer", task.Running, nil},
		{3, 1, "init", task.Running, []int{4}},
		{4, 3, "init", task.Running, nil},
		{5, 1, "init", task.Zombie, nil},
	} {
		tv := v.Task(tc.pid)
		require.NotNil(t, tv, "task %d", tc.pid)
		assert.Equal(t, tc.ppid, tv.PPid, "task %d", tc.pid)
		assert.Equal(t, tc.comm, tv.Comm, "task %d", tc.pid)
		assert.Equal(t, tc.state, tv.State, "task %d", tc.pid)
		assert.Equal(t, tc.children, tv.Children, "task %d", tc.pid)
	}
	assert.Nil(t, v.Task(99))
	assert.Nil(t, v.Task(0))
	t1, t2, t3, t4, t5 := v.Task(1), v.Task(2), v.Task(3), v.Task(4), v.Task(5)
	assert.Equal(t, 44, t5.ExitCode)
	assert.Zero(t, t5.FileTable, "a zombie has no file table")
	assert.Zero(t, t5.FS)

	// Which tasks share a file table and an fs state.
	assert.Equal(t, t1.FileTable, t2.FileTable, "CLONE_FILES shares")
	assert.NotEqual(t, t1.FileTable, t3.FileTable, "fork copies")
	assert.NotEqual(t, t3.FileTable, t4.FileTable, "CLONE_FS alone copies the table")
	assert.Equal(t, t3.FS, t4.FS, "CLONE_FS shares")
	assert.NotEqual(t, t1.FS, t2.FS)
	assert.NotEqual(t, t1.FS, t3.FS)
	assert.Len(t, v.FileTables, 3)
	assert.Len(t, v.FSStates, 3, "1, 2, and the one 3 and 4 share")

	ft1, ft3, ft4 := v.FileTables[t1.FileTable], v.FileTables[t3.FileTable], v.FileTables[t4.FileTable]
	assert.Equal(t, t1.FileTable, ft1.ID)
	assert.Equal(t, int64(2), ft1.Refs)
	assert.Equal(t, int64(1), ft3.Refs)
	fdNums := func(ft FileTableView) (fds []int, cloexec []bool) {
		for _, d := range ft.Fds {
			fds = append(fds, d.Fd)
			cloexec = append(cloexec, d.CloseOnExec)
		}
		return fds, cloexec
	}
	fds, ce := fdNums(ft1)
	assert.Equal(t, []int{0, 1, 2}, fds)
	assert.Equal(t, []bool{false, true, true}, ce)
	fds, ce = fdNums(ft3)
	assert.Equal(t, []int{0, 1, 2, 3}, fds)
	assert.Equal(t, []bool{false, true, true, false}, ce)
	fds, _ = fdNums(ft4)
	assert.Equal(t, []int{0, 1, 2, 3}, fds)
	for i := range 3 {
		assert.Equal(t, ft1.Fds[i].File, ft3.Fds[i].File, "fd %d: fork shares the open file", i)
		assert.Equal(t, ft1.Fds[i].File, ft4.Fds[i].File, "fd %d", i)
	}
	assert.Equal(t, ft3.Fds[3].File, ft4.Fds[3].File)
	assert.Len(t, v.Files, 4)

	// The regular file.
	f := v.Files[ft1.Fds[0].File]
	assert.Equal(t, ft1.Fds[0].File, f.ID)
	assert.Equal(t, int64(3), f.Refs, "one per table holding it")
	assert.Equal(t, vfs.TypeRegular, f.Type)
	assert.Equal(t, vfs.O_RDWR|vfs.O_LARGEFILE, f.Flags)
	assert.Equal(t, vfs.FMODE_READ|vfs.FMODE_WRITE|vfs.FMODE_LSEEK|vfs.FMODE_PREAD|vfs.FMODE_PWRITE, f.Mode)
	assert.Equal(t, int64(5), f.Pos)
	assert.Equal(t, 3, f.Owner)
	assert.Equal(t, vfs.LOCK_EX, f.Lock)
	assert.Equal(t, "/f", f.Path)
	assert.False(t, f.Unlinked)
	assert.Zero(t, f.Pipe)
	require.NotNil(t, f.Inode)
	assert.Equal(t, uint32(vfs.S_IFREG|0644), f.Inode.Mode)
	assert.Equal(t, int64(5), f.Inode.Size)
	assert.Equal(t, []byte("hello"), f.Inode.Contents)
	assert.Equal(t, uint64(1), f.Inode.Changes)
	assert.Equal(t, int64(2), f.Inode.DentryRefs, "the tree and the file")
	assert.Equal(t, int64(1), f.Inode.Refs, "its dentry")

	// The pipe.
	r, w := v.Files[ft1.Fds[1].File], v.Files[ft1.Fds[2].File]
	assert.Equal(t, vfs.TypePipe, r.Type)
	assert.Equal(t, vfs.FMODE_READ, r.Mode)
	assert.Equal(t, vfs.FMODE_WRITE, w.Mode)
	assert.Equal(t, "", r.Path)
	assert.Nil(t, r.Inode)
	require.NotZero(t, r.Pipe)
	assert.Equal(t, r.Pipe, w.Pipe)
	assert.Len(t, v.Pipes, 1)
	p := v.Pipes[r.Pipe]
	assert.Equal(t, r.Pipe, p.ID)
	assert.Equal(t, int64(2), p.Refs)
	assert.Equal(t, 1, p.Readers)
	assert.Equal(t, 1, p.Writers)
	assert.Equal(t, []vfs.PipeBuffer{{Data: []byte("xy")}}, p.Buffers)

	// The directory, and the fs states.
	dir := v.Files[ft3.Fds[3].File]
	assert.Equal(t, vfs.TypeDirectory, dir.Type)
	assert.Equal(t, "/d", dir.Path)
	assert.Equal(t, int64(2), dir.Refs, "held by tables 3 and 4")
	assert.Nil(t, dir.Inode.Contents, "a directory has no contents")
	assert.Equal(t, uint32(vfs.S_IFDIR|0755), dir.Inode.Mode)
	assert.Equal(t, int64(3), dir.Inode.DentryRefs, "the tree, the shared fs state's cwd, the file")
	fs1, fs3 := v.FSStates[t1.FS], v.FSStates[t3.FS]
	assert.Equal(t, FSView{ID: t1.FS, Refs: 1, Root: "/", Cwd: "/"}, fs1)
	assert.Equal(t, FSView{ID: t3.FS, Refs: 2, Root: "/", Cwd: "/d"}, fs3)

	// Every id in the view is a live object, with the count the view gives.
	live := map[uint64]kref.Live{}
	for _, l := range v.Live {
		live[l.ID] = l
	}
	assert.Equal(t, k.reg.Snapshot(), v.Live)
	for id, ft := range v.FileTables {
		assert.Equal(t, kref.Live{ID: id, Kind: kref.FileTable, Refs: ft.Refs}, live[id])
	}
	for id, fv := range v.Files {
		assert.Equal(t, kref.Live{ID: id, Kind: kref.File, Refs: fv.Refs}, live[id])
	}
	assert.Equal(t, kref.Live{ID: p.ID, Kind: kref.Pipe, Refs: 2}, live[p.ID])

	// The view is a snapshot: later calls do not change it.
	ktMust(k.Write(1, 2, []byte("more")))(t)
	ktMust(k.Write(1, 0, []byte(" world")))(t)
	require.NoError(t, k.Unlink(1, "/f"))
	assert.Equal(t, []vfs.PipeBuffer{{Data: []byte("xy")}}, v.Pipes[r.Pipe].Buffers)
	assert.Equal(t, []byte("hello"), v.Files[f.ID].Inode.Contents)

	// An unlinked file, and orphans.
	v2 := k.View()
	f2 := v2.Files[f.ID]
	assert.True(t, f2.Unlinked)
	assert.Equal(t, "/f (deleted)", f2.Path)
	assert.Equal(t, int64(1), f2.Inode.DentryRefs, "only the open file")
	assert.Equal(t, []byte("hello world"), f2.Inode.Contents)
	assert.Equal(t, []vfs.PipeBuffer{{Data: []byte("xymore")}}, v2.Pipes[r.Pipe].Buffers)

	require.NoError(t, k.Exit(1, 0))
	v3 := k.View()
	assert.Equal(t, []int{2, 3}, v3.Top, "live children become top-level, in order")
	assert.Nil(t, v3.Task(1), "a top-level task is reaped at once")
	assert.Nil(t, v3.Task(5), "a zombie child is reaped with its parent")
	assert.Zero(t, v3.Task(2).PPid)
	assert.Equal(t, []int{4}, v3.Task(3).Children)
	assert.Equal(t, int64(1), v3.FileTables[t1.FileTable].Refs, "task 2 still holds the shared table")
	assert.Equal(t, 3, v3.Files[f.ID].Owner, "the owner, 3, is alive")
	require.NoError(t, k.Exit(3, 0))
	v4 := k.View()
	assert.Equal(t, []int{2, 4}, v4.Top)
	assert.Equal(t, int64(2), v4.Files[f.ID].Refs, "the tables of 2 and 4")
	assert.Equal(t, 0, v4.Files[f.ID].Owner, "F_GETOWN once the owner is reaped")
	assert.NoError(t, k.Check())
}

func TestWaitAny(t *testing.T) {
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	_, err := k.Wait(1, -1)
	assert.ErrorIs(t, err, errno.ECHILD, "no children")

	for _, pid := range []int{2, 3, 4, 5} {
		ktMust(k.Fork(1, pid))(t)
	}
	ktMust(k.Fork(2, 6))(t)
	require.NoError(t, k.Exit(6, 66)) // a zombie grandchild

	for _, tc := range []struct {
		exit     []int // pids that exit first, with code pid*10
		want     int   // the code Wait(1, -1) returns
		err      error
		children []int // 1's children afterwards
	}{
		{nil, 0, errno.BLOCKED, []int{2, 3, 4, 5}},
		{[]int{4}, 40, nil, []int{2, 3, 5}},
		{[]int{5, 3}, 30, nil, []int{2, 5}}, // the first zombie in creation order
		{nil, 50, nil, []int{2}},
		{nil, 0, errno.BLOCKED, []int{2}},
		{[]int{2}, 20, nil, nil},
		{nil, 0, errno.ECHILD, nil},
	} {
		for _, pid := range tc.exit {
			require.NoError(t, k.Exit(pid, pid*10))
		}
		code, err := k.Wait(1, -1)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err)
		} else {
			assert.NoError(t, err)
			assert.Equal(t, tc.want, code)
		}
		assert.Equal(t, tc.children, k.View().Task(1).Children)
	}
	assert.Nil(t, k.View().Task(6), "the grandchild was reaped when its parent exited")
	assert.NoError(t, k.Check())
}

// TestCheckFindsProblems breaks the structure from inside the package and
// checks that Check reports each break, naming the object, and nothing once
// it is repaired.
func TestCheckFindsProblems(t *testing.T) {
	k := ktWorld(t)
	require.NoError(t, k.Check())
	t1, t3 := k.tasks[1], k.tasks[3]
	f0 := ktMust(t1.Files().File(0))(t)
	pipeEnd := ktMust(t1.Files().File(1))(t)
	dentry := ktMust(k.fs.Lookup(k.fs.Root(), k.fs.Root(), "/f"))(t)
	var stray [2]*vfs.File

	for _, tc := range []struct {
		name    string
		breakIt func()
		fix     func()
		want    []string
	}{
		{"an extra reference on a file", f0.Get, f0.Put,
			[]string{fmt.Sprintf("file %d has 4 references; the world accounts for 3", f0.ID())}},
		{"an extra reference on a pipe", pipeEnd.Pipe().Get, pipeEnd.Pipe().Put,
			[]string{fmt.Sprintf("pipe %d has 3 references; the world accounts for 2", pipeEnd.Pipe().ID())}},
		{"an extra reference on a dentry", dentry.Get, dentry.Put,
			[]string{fmt.Sprintf("dentry %d has 3 references; the world accounts for 2", dentry.ID())}},
		{"an extra reference on a file table", t1.Files().Get, t1.Files().Put,
			[]string{fmt.Sprintf("file table %d has 3 references; the world accounts for 2", t1.Files().ID())}},
		{"an extra reference on an fs state", t3.FS().Get, t3.FS().Put,
			[]string{fmt.Sprintf("fs state %d has 3 references; the world accounts for 2", t3.FS().ID())}},
		{"an extra reference on a task", func() { t3.Get() }, t3.Put,
			[]string{fmt.Sprintf("task %d has 2 references; the world accounts for 1", t3.ID())}},
		{"a top-level task dropped from the list",
			func() { k.top = nil },
			func() { k.top = []*task.Task{t1} },
			[]string{"task 1 has no parent and is not top-level"}},
		{"a top-level task listed twice",
			func() { k.top = append(k.top, t1) },
			func() { k.top = k.top[:1] },
			[]string{"task 1 listed twice as top-level"}},
		{"a child listed as top-level",
			func() { k.top = append(k.top, t3) },
			func() { k.top = k.top[:1] },
			[]string{"top-level task 3 has a parent or is not in the pid table"}},
		{"objects alive but unreachable",
			func() { stray[0], stray[1] = vfs.NewPipeFiles(k.reg, 0) },
			func() { stray[0].Put(); stray[1].Put() },
			[]string{"leaked: alive but unreachable"}},
		{"a task missing from the pid table",
			func() { delete(k.tasks, 4) },
			func() { k.tasks[4] = k.tasks[3].Children()[0] },
			[]string{fmt.Sprintf("task %d (1 refs) leaked: alive but unreachable", k.tasks[4].ID())}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.breakIt()
			err := k.Check()
			if assert.Error(t, err, "Check missed it") {
				for _, w := range tc.want {
					assert.Contains(t, err.Error(), w)
				}
			}
			tc.fix()
			assert.NoError(t, k.Check(), "repaired")
		})
	}

	// Unlinking a child from its parent's list, leaving its parent link.
	t.Run("a child its parent does not list", func(t *testing.T) {
		k := ktWorld(t)
		p, c := k.tasks[1], k.tasks[2]
		p.RemoveChild(c)
		k.tasks[3].AddChild(c) // now 3 lists it, and it names 3
		require.NoError(t, k.Check(), "a consistent re-parenting is fine")
		// A parent link that disagrees with the list.
		k.tasks[3].RemoveChild(c)
		p.AddChild(c)
		k.tasks[4].AddChild(c) // 1 and 4 both list it; it names 4
		err := k.Check()
		require.Error(t, err)
		assert.Contains(t, err.Error(), "task 1 lists child 2 whose parent is another")
	})
}

// Spawn gives an empty address space, fork a copy, CLONE_VM the same one;
// exit drops a task's reference, and the last one frees the mappings.
func TestAddressSpaces(t *testing.T) {
	k := New(Config{MaxMapCount: 100})
	ktMust(k.Spawn(1, "init"))(t)
	a := ktMust(k.Mmap(1, 0x10000000, 4096, int(mm.ProtRead|mm.ProtWrite), mm.MAP_PRIVATE|mm.MAP_ANONYMOUS, -1, 0))(t)
	ktMust(k.ProcessVMWritev(1, a, []byte("x")))(t)
	ktMust(k.Fork(1, 2))(t)
	ktMust(k.Clone(1, 3, CLONE_VM, ""))(t)
	v := k.View()
	one, two, three := v.Task(1).MM, v.Task(2).MM, v.Task(3).MM
	assert.NotEqual(t, one, two, "fork copies")
	assert.Equal(t, one, three, "CLONE_VM shares")
	assert.EqualValues(t, 2, v.MMs[one].Refs)
	assert.EqualValues(t, 2, v.MMs[one].Pages[0].MapCount, "one frame for parent and child")
	assert.Equal(t, v.MMs[one].Pages[0].Frame, v.MMs[two].Pages[0].Frame)
	require.NoError(t, k.Check())

	require.NoError(t, k.Munmap(3, a, 4096))
	_, err := k.ProcessVMReadv(1, a, 1)
	assert.ErrorIs(t, err, errno.EFAULT, "what one CLONE_VM task unmaps, the other loses")
	require.NoError(t, k.Exit(3, 0))
	v = k.View()
	assert.EqualValues(t, 1, v.MMs[one].Refs)
	assert.Zero(t, v.Task(3).MM, "a zombie has none")
	require.NoError(t, k.Exit(2, 0))
	require.NoError(t, k.Exit(1, 0))
	for _, kind := range []kref.Kind{kref.MM, kref.Segment, kref.Frame} {
		assert.Zero(t, k.Registry().Count(kind), "%v", kind)
	}
	require.NoError(t, k.Check())
}
