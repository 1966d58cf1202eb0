package hostlinux

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"syscall"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// x86-64 system call numbers.
const (
	sysRead            = 0
	sysWrite           = 1
	sysClose           = 3
	sysLseek           = 8
	sysMmap            = 9
	sysMprotect        = 10
	sysMunmap          = 11
	sysMremap          = 25
	sysMsync           = 26
	sysMadvise         = 28
	sysDup             = 32
	sysDup2            = 33
	sysShutdown        = 48
	sysSocketpair      = 53
	sysWait4           = 61
	sysFcntl           = 72
	sysFlock           = 73
	sysChdir           = 80
	sysMkdir           = 83
	sysUnlink          = 87
	sysMknod           = 133
	sysOpenat          = 257
	sysDup3            = 292
	sysPipe2           = 293
	sysProcessVMReadv  = 310
	sysProcessVMWritev = 311
)

const (
	atFdcwd     = -100
	sIFIFO      = 0o10000
	mremapFixed = 2
	// taskSize is the top of x86-64 user space.
	taskSize = 0x7ffffffff000
	// noSuchPid is a pid no process has (above PID_MAX_LIMIT): what a
	// script pid that names no task becomes in a call that takes a pid.
	noSuchPid = math.MaxInt32 - 1
	// nslots is agent.c's NSLOTS: the most tasks alive at once.
	nslots = 1024
)

// Options tune a World.
type Options struct {
	// BlockMs is how long a call may block before it is interrupted and
	// reported BLOCKED (50 ms when zero).
	BlockMs int
	// NoFile is RLIMIT_NOFILE for every task (the simulator's default,
	// kernel.DefaultNoFile, when zero).
	NoFile int
}

// World is one script's world on the host: an agent, its tasks, and the
// private root they live in. Its methods are not safe for concurrent use.
type World struct {
	c     *conn
	tasks map[int]*task // by script pid, until reaped
	byPid map[int]int   // real pid -> script pid, for every task ever made
	slots []bool        // in use
	dead  error         // the agent failed: every later line fails with it
	// heapMoved: a brk line moved the break in the simulator, not here.
	// From then on memory lines in the simulator's heap area are
	// skipped: what the simulator has there, the host does not.
	heapMoved bool
}

// The simulator's heap area: its break starts at 0x1000000 (mm.StartBrk)
// and scripts keep their mappings from 0x10000000 up.
const heapLow, heapHigh = 0x1000000, 0x10000000

// task is one task of the script: a real process.
type task struct {
	pid, real, slot int
	parent          int // script pid, 0 for a top-level task
	zombie          bool
}

// New starts a world: an agent in a fresh private root, no task yet. Close
// it when done.
func New(opt Options) (*World, error) {
	if opt.BlockMs <= 0 {
		opt.BlockMs = 50
	}
	if opt.NoFile <= 0 {
		opt.NoFile = kernel.DefaultNoFile
	}
	c, err := start(opt.BlockMs, opt.NoFile)
	if err != nil {
		return nil, err
	}
	return &World{c: c, tasks: map[int]*task{}, byPid: map[int]int{}, slots: make([]bool, nslots)}, nil
}

// Close kills every task, stops the agent and removes the root directory.
func (w *World) Close() { w.c.close() }

// NoFile is RLIMIT_NOFILE of the world's tasks: Options.NoFile, or less
// when the host's hard limit is lower and cannot be raised (no
// CAP_SYS_RESOURCE). A simulated kernel to compare with needs the same.
func (w *World) NoFile() int { return w.c.noFile }

// Root is the host directory the world's tasks see as /.
func (w *World) Root() string { return w.c.root }

// Result is what the host gave for one line.
type Result struct {
	// Outcome is the call's result, of the line's result kind, when
	// Skipped is "".
	Outcome scenario.Outcome
	// Skipped says why the host cannot answer the line ("" when it did).
	Skipped string
}

// ErrAgent is the outcome of a line the agent could not run (it died, a
// task died, it timed out): no system call result, a failure of the tool.
var ErrAgent = errors.New("the host agent failed")

// skip makes a Result that skips the line.
func skip(why string) Result { return Result{Skipped: why} }

// Exec makes line l's system call on the host, as the task the line names,
// and returns its result or why the host cannot answer it.
func (w *World) Exec(l *scenario.Line) Result {
	a, err := scenario.ArgsOf(l)
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: err}}
	}
	if w.dead != nil {
		return Result{Outcome: a.Outcome(scenario.Outcome{Err: w.dead})}
	}
	r := w.exec(l, a)
	if r.Skipped == "" {
		r.Outcome = a.Outcome(r.Outcome)
		if errors.Is(r.Outcome.Err, ErrAgent) {
			w.dead = r.Outcome.Err
		}
	}
	return r
}

func errOf(e errno.Errno) Result { return Result{Outcome: scenario.Outcome{Err: e}} }

func intOf(n int64) Result { return Result{Outcome: scenario.Outcome{Int: n}} }

func (w *World) exec(l *scenario.Line, a scenario.Args) Result {
	pid := int(a.Int("PID", 0))
	switch l.Cmd {
	case "checkpoint":
		return skip("a checkpoint is the simulator's engine, no system call")
	case "regs":
		return skip("registers are set by a debugger, which the agent is not")
	case "brk":
		if a.Int("ADDR", 0) != 0 {
			w.heapMoved = true
		}
		return skip("the break of a task is the agent's own heap")
	case "spawn":
		return w.spawn(pid)
	case "clone", "fork":
		return w.clone(pid, int(a.Int("CHILD", 0)), a.Flags("FLAGS", 0))
	}
	t := w.tasks[pid]
	if t == nil || t.zombie {
		return errOf(errno.ESRCH) // no live task makes the call
	}
	switch l.Cmd {
	case "exit":
		return w.exit(t, a.Int("CODE", 0))
	case "wait":
		return w.wait(t, int(a.Int("CHILD", 0)))
	case "mkdir":
		return w.call(t, sysMkdir, []int64{0, a.Int("MODE", 0o777)}, path(a), 0)
	case "mkfifo":
		return w.call(t, sysMknod, []int64{0, sIFIFO | a.Int("MODE", 0o666)&0o7777, 0}, path(a), 0)
	case "unlink":
		return w.call(t, sysUnlink, []int64{0}, path(a), 0)
	case "chdir":
		return w.call(t, sysChdir, []int64{0}, path(a), 0)
	case "open":
		return w.call(t, sysOpenat, []int64{atFdcwd, 0, a.Flags("FLAGS", 0), a.Int("MODE", 0)}, path(a), 1)
	case "close":
		return w.call(t, sysClose, []int64{a.Int("FD", 0)}, nil, 0)
	case "read":
		if a.Has("ADDR") {
			return w.memCall(t, sysRead, []int64{a.Int("FD", 0), a.Int("ADDR", 0), a.Int("COUNT", 0)}, 1, 2)
		}
		r := w.call(t, sysRead, []int64{a.Int("FD", 0), 0, a.Int("COUNT", 0)}, []byte{}, 1)
		if r.Skipped == "" && r.Outcome.Err == nil {
			r.Outcome = scenario.Outcome{Bytes: r.Outcome.Bytes}
		}
		return r
	case "write":
		if a.Has("ADDR") {
			return w.memCall(t, sysWrite, []int64{a.Int("FD", 0), a.Int("ADDR", 0), a.Int("COUNT", 0)}, 1, 2)
		}
		data := []byte(a.Text("STRING"))
		return w.call(t, sysWrite, []int64{a.Int("FD", 0), 0, int64(len(data))}, data, 1)
	case "lseek":
		return w.call(t, sysLseek, []int64{a.Int("FD", 0), a.Int("OFFSET", 0), a.Flags("WHENCE", 0)}, nil, -1)
	case "dup":
		return w.call(t, sysDup, []int64{a.Int("FD", 0)}, nil, -1)
	case "dup2":
		return w.call(t, sysDup2, []int64{a.Int("OLDFD", 0), a.Int("NEWFD", 0)}, nil, -1)
	case "dup3":
		return w.call(t, sysDup3, []int64{a.Int("OLDFD", 0), a.Int("NEWFD", 0), a.Flags("FLAGS", 0)}, nil, -1)
	case "pipe":
		return w.pair(t, sysPipe2, []int64{0, a.Flags("FLAGS", 0)}, 0)
	case "socketpair":
		return w.pair(t, sysSocketpair, []int64{1, a.Flags("TYPE", 0) | a.Flags("FLAGS", 0), 0, 0}, 3)
	case "shutdown":
		return w.call(t, sysShutdown, []int64{a.Int("FD", 0), a.Flags("HOW", 0)}, nil, -1)
	case "fcntl":
		return w.fcntl(t, a)
	case "flock":
		return w.call(t, sysFlock, []int64{a.Int("FD", 0), a.Flags("OP", 0)}, nil, -1)
	case "mmap":
		addr, length, flags := a.Int("ADDR", 0), a.Int("LEN", 0), a.Flags("FLAGS", 0)
		if why := w.touchesAgent(uint64(addr), uint64(length)); why != "" {
			return skip(why)
		}
		return w.call(t, sysMmap, []int64{addr, length, a.Flags("PROT", 0), flags, a.Int("FD", -1), a.Int("OFFSET", 0)}, nil, -1)
	case "munmap":
		return w.memOnly(t, sysMunmap, a.Int("ADDR", 0), a.Int("LEN", 0))
	case "mprotect":
		return w.memOnly(t, sysMprotect, a.Int("ADDR", 0), a.Int("LEN", 0), a.Flags("PROT", 0))
	case "madvise":
		return w.memOnly(t, sysMadvise, a.Int("ADDR", 0), a.Int("LEN", 0), a.Flags("ADVICE", 0))
	case "msync":
		return w.memOnly(t, sysMsync, a.Int("ADDR", 0), a.Int("LEN", 0), a.Flags("FLAGS", 0))
	case "mremap":
		old, oldLen, newLen, flags, newAddr := a.Int("OLD", 0), a.Int("OLDLEN", 0), a.Int("NEWLEN", 0), a.Flags("FLAGS", 0), a.Int("NEWADDR", 0)
		if why := w.touchesAgent(uint64(old), uint64(max(oldLen, newLen))); why != "" {
			return skip(why)
		}
		if flags&mremapFixed != 0 {
			if why := w.touchesAgent(uint64(newAddr), uint64(newLen)); why != "" {
				return skip(why)
			}
		}
		return w.call(t, sysMremap, []int64{old, oldLen, newLen, flags, newAddr}, nil, -1)
	case "memwrite":
		return w.vm(t, sysProcessVMWritev, a.Int("ADDR", 0), []byte(a.Text("DATA")), 0)
	case "memread":
		return w.vm(t, sysProcessVMReadv, a.Int("ADDR", 0), nil, a.Int("COUNT", 0))
	case "vma":
		return w.vma(t, uint64(a.Int("ADDR", 0)))
	case "sameframe":
		return w.sameFrame(t, int(a.Int("PID2", 0)), uint64(a.Int("ADDR", 0)))
	}
	return skip("the host agent does not know " + l.Cmd)
}

func path(a scenario.Args) []byte { return append([]byte(a.Text("PATH")), 0) }

// call has task t make system call nr with args. With data, the data is
// copied to the agent's buffer first and argument bufArg is its address;
// a successful call's result is then also the bytes it left there, as
// many as it returned (read). Without data, bufArg is -1.
func (w *World) call(t *task, nr int64, args []int64, data []byte, bufArg int) Result {
	q := req{Op: opCall, Slot: uint32(t.slot), Nr: nr}
	copy(q.A[:6], args)
	if data != nil {
		q.A[bufArg] = int64(w.c.buf)
		if nr == sysRead {
			q.A[6] = -1 // the bytes it read
		}
	}
	r, out, err := w.c.do(q, data)
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	return result(t, r, out)
}

// result turns the agent's answer to t's call into an outcome.
func result(t *task, r resp, out []byte) Result {
	switch {
	case r.Blocked == 2:
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: task %d (host pid %d) died or hung in the call (%v)", ErrAgent, t.pid, t.real, syscall.Errno(-r.Ret))}}
	case r.Blocked != 0:
		return errOf(errno.BLOCKED)
	case r.Ret < 0 && r.Ret >= -4095:
		return errOf(errno.Errno(-r.Ret))
	}
	return Result{Outcome: scenario.Outcome{Int: r.Ret, Bytes: out}}
}

// pair makes a call that leaves two descriptors at argument bufArg.
func (w *World) pair(t *task, nr int64, args []int64, bufArg int) Result {
	q := req{Op: opCall, Slot: uint32(t.slot), Nr: nr}
	copy(q.A[:6], args)
	q.A[bufArg] = int64(w.c.buf)
	q.A[6] = 8
	r, out, err := w.c.do(q, make([]byte, 8))
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	res := result(t, r, out)
	if res.Outcome.Err == nil && len(out) == 8 {
		res.Outcome = scenario.Outcome{Pair: [2]int{int(int32(binary.LittleEndian.Uint32(out))), int(int32(binary.LittleEndian.Uint32(out[4:])))}}
	}
	return res
}

// memCall is read or write with a buffer in the task's memory.
func (w *World) memCall(t *task, nr int64, args []int64, addrArg, lenArg int) Result {
	if why := w.touchesAgent(uint64(args[addrArg]), uint64(args[lenArg])); why != "" {
		return skip(why)
	}
	return w.call(t, nr, args, nil, -1)
}

// memOnly is a call on a range of the task's mappings: ADDR LEN [ARG].
func (w *World) memOnly(t *task, nr int64, addr, length int64, rest ...int64) Result {
	if why := w.touchesAgent(uint64(addr), uint64(length)); why != "" {
		return skip(why)
	}
	return w.call(t, nr, append([]int64{addr, length}, rest...), nil, -1)
}

// touchesAgent says why a call on [addr, addr+length) cannot be checked:
// the range holds some of the agent's own memory (its code, its stacks,
// its mailbox), which every task has and no script should touch; "" when
// it does not. A range the kernel refuses before looking at the mappings
// (one that wraps or passes the top of user space) is checked.
func (w *World) touchesAgent(addr, length uint64) string {
	if w.heapMoved && addr >= heapLow && addr < heapHigh {
		return fmt.Sprintf("%#x is in the simulator's heap, which a brk line (skipped) moved", addr)
	}
	end := addr + length + 4095
	if end < addr || end&^4095 > taskSize {
		return ""
	}
	end &^= 4095
	start := addr &^ 4095
	if end == start {
		end = start + 4096 // a hint, or an empty range: its page
	}
	for _, r := range w.c.reserved {
		if start < r[1] && r[0] < end {
			return fmt.Sprintf("the range %#x-%#x holds the agent's own memory (%#x-%#x); keep script addresses in [0x10000000, 0x100000000000)", start, end, r[0], r[1])
		}
	}
	return ""
}

// vm is memwrite (data) or memread (count): process_vm_writev or
// process_vm_readv on the task's own memory. The buffer holds the local
// iovec, the remote one, then the data.
func (w *World) vm(t *task, nr int64, addr int64, data []byte, count int64) Result {
	if nr == sysProcessVMWritev {
		count = int64(len(data))
	}
	if why := w.touchesAgent(uint64(addr), uint64(count)); why != "" {
		return skip(why)
	}
	if count < 0 || uint64(count)+64 > w.c.bufSize {
		return skip("a count larger than the agent's buffer")
	}
	b := make([]byte, 64, 64+len(data))
	binary.LittleEndian.PutUint64(b[0:], w.c.buf+64)
	binary.LittleEndian.PutUint64(b[8:], uint64(count))
	binary.LittleEndian.PutUint64(b[16:], uint64(addr))
	binary.LittleEndian.PutUint64(b[24:], uint64(count))
	b = append(b, data...)
	q := req{Op: opCall, Slot: uint32(t.slot), Nr: nr,
		A: [7]int64{int64(t.real), int64(w.c.buf), 1, int64(w.c.buf + 16), 1, 0, 0}}
	if nr == sysProcessVMReadv {
		q.A[6] = 64 + count
	}
	r, out, err := w.c.do(q, b)
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	res := result(t, r, nil)
	if res.Outcome.Err == nil && nr == sysProcessVMReadv {
		n := min(int(r.Ret), max(len(out)-64, 0))
		res.Outcome = scenario.Outcome{Bytes: append([]byte{}, out[64:64+n]...)}
	}
	return res
}

// fcntl translates the pids of F_SETOWN and F_GETOWN between the script
// and the host.
func (w *World) fcntl(t *task, a scenario.Args) Result {
	cmd, arg := a.Flags("CMD", 0), a.Flags("ARG", 0)
	const fSetown, fGetown = 8, 9
	if cmd == fSetown && arg != 0 {
		sign := int64(1)
		if arg < 0 {
			sign = -1
		}
		arg = sign * int64(w.realPid(int(sign*arg)))
	}
	r := w.call(t, sysFcntl, []int64{a.Int("FD", 0), cmd, arg}, nil, -1)
	if cmd == fGetown && r.Skipped == "" && r.Outcome.Err == nil && r.Outcome.Int != 0 {
		sign := int64(1)
		if r.Outcome.Int < 0 {
			sign = -1
		}
		if p, ok := w.byPid[int(sign*r.Outcome.Int)]; ok {
			r.Outcome.Int = sign * int64(p)
		}
	}
	return r
}

// realPid is the host pid of script pid p, or a pid no process has.
func (w *World) realPid(p int) int {
	if t := w.tasks[p]; t != nil {
		return t.real
	}
	return noSuchPid
}

// newTask checks a new task's script pid as the simulator's kernel does
// (a pid in use is EEXIST, as clone3's set_tid gives; one out of range
// EINVAL) and finds it a slot.
func (w *World) newTask(child int) (int, Result, bool) {
	switch {
	case child == 0:
		return 0, skip("a pid the kernel picks (pid 0) is the simulator's choice, not the host's"), false
	case child < 0 || child >= kernel.DefaultPidMax:
		return 0, errOf(errno.EINVAL), false
	case w.tasks[child] != nil:
		return 0, errOf(errno.EEXIST), false
	}
	for i, used := range w.slots {
		if !used {
			return i, Result{}, true
		}
	}
	return 0, skip(fmt.Sprintf("more than %d tasks alive", nslots)), false
}

func (w *World) spawn(child int) Result {
	slot, r, ok := w.newTask(child)
	if !ok {
		return r
	}
	resp, _, err := w.c.do(req{Op: opSpawn, Slot: uint32(slot)}, nil)
	if err == nil && resp.Ret <= 0 {
		err = fmt.Errorf("spawn: %w", syscall.Errno(-resp.Ret))
	}
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	w.add(&task{pid: child, real: int(resp.Ret), slot: slot})
	return intOf(0)
}

func (w *World) add(t *task) {
	w.slots[t.slot] = true
	w.tasks[t.pid] = t
	w.byPid[t.real] = t.pid
}

// cloneFlags are the clone flags scripts have.
const cloneFlags = kernel.CLONE_VM | kernel.CLONE_FS | kernel.CLONE_FILES

func (w *World) clone(pid, child int, flags int64) Result {
	t := w.tasks[pid]
	if t == nil || t.zombie {
		return errOf(errno.ESRCH)
	}
	if flags&^cloneFlags != 0 {
		return skip(fmt.Sprintf("clone flags %#x beyond CLONE_VM, CLONE_FS and CLONE_FILES", flags))
	}
	slot, r, ok := w.newTask(child)
	if !ok {
		return r
	}
	resp, _, err := w.c.do(req{Op: opClone, Slot: uint32(t.slot), A: [7]int64{flags, int64(slot)}}, nil)
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	if resp.Ret < 0 {
		return errOf(errno.Errno(-resp.Ret))
	}
	w.add(&task{pid: child, real: int(resp.Ret), slot: slot, parent: pid})
	return intOf(0)
}

// exit ends task t. Its parent, if alive, keeps it as a zombie; otherwise
// the agent (the subreaper of the world) reaps it at once, as it reaps
// the zombie children t leaves; its live children become top-level.
func (w *World) exit(t *task, code int64) Result {
	resp, _, err := w.c.do(req{Op: opExit, Slot: uint32(t.slot), A: [7]int64{code}}, nil)
	if err == nil && resp.Ret < 0 {
		err = fmt.Errorf("exit of task %d: %w", t.pid, syscall.Errno(-resp.Ret))
	}
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	w.slots[t.slot] = false
	if p := w.tasks[t.parent]; p != nil && !p.zombie {
		t.zombie = true
	} else {
		delete(w.tasks, t.pid)
	}
	for _, c := range w.tasks {
		if c.parent != t.pid {
			continue
		}
		if c.zombie {
			delete(w.tasks, c.pid)
		} else {
			c.parent = 0
		}
	}
	return intOf(0)
}

// wait reaps a zombie child: wait4 with the child's host pid (any, for
// -1), whose result is the exit code.
func (w *World) wait(t *task, child int) Result {
	target := int64(child)
	switch {
	case child > 0:
		target = int64(w.realPid(child))
	case child != -1:
		return skip("wait for a process group is not a script's")
	}
	q := req{Op: opCall, Slot: uint32(t.slot), Nr: sysWait4, A: [7]int64{target, int64(w.c.buf), 0, 0, 0, 0, 4}}
	resp, out, err := w.c.do(q, make([]byte, 4))
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: fmt.Errorf("%w: %v", ErrAgent, err)}}
	}
	r := result(t, resp, nil)
	if r.Outcome.Err != nil {
		return r
	}
	if p, ok := w.byPid[int(resp.Ret)]; ok {
		delete(w.tasks, p)
	}
	status := binary.LittleEndian.Uint32(out)
	return intOf(int64(status>>8) & 0xff)
}

// proc reads count bytes at offset of /proc/PID/name of the host pid.
func (w *World) proc(real int, name string, offset, count int64) ([]byte, error) {
	resp, out, err := w.c.do(req{Op: opProc, A: [7]int64{int64(real), offset, count}}, []byte(name))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrAgent, err)
	}
	if resp.Ret < 0 {
		return nil, fmt.Errorf("%w: reading /proc/%d/%s: %v", ErrAgent, real, name, syscall.Errno(-resp.Ret))
	}
	return out, nil
}

// vma is the line of /proc/PID/maps for the mapping that holds addr,
// without device and inode, and paths as the task sees them (the agent
// sees them below the root directory).
func (w *World) vma(t *task, addr uint64) Result {
	if why := w.touchesAgent(addr, 1); why != "" {
		return skip(why)
	}
	maps, err := w.proc(t.real, "maps", 0, 1<<24)
	if err != nil {
		return Result{Outcome: scenario.Outcome{Err: err}}
	}
	for _, line := range strings.Split(string(maps), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		if !ok {
			continue
		}
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if err1 != nil || err2 != nil || addr < start || addr >= end {
			continue
		}
		out := f[0] + " " + f[1] + " " + f[2]
		if name := nameField(line); name != "" {
			if rest, ok := strings.CutPrefix(name, w.c.root); ok && (rest == "" || rest[0] == '/') {
				name = rest
				if name == "" {
					name = "/"
				}
			}
			out += " " + name
		}
		return Result{Outcome: scenario.Outcome{Bytes: []byte(out)}}
	}
	return Result{Outcome: scenario.Outcome{Bytes: []byte{}}}
}

// nameField returns the path field of a maps line: everything after the
// fifth field (a path may hold blanks).
func nameField(line string) string {
	rest := line
	for range 5 {
		rest = strings.TrimLeft(rest, " ")
		i := strings.IndexByte(rest, ' ')
		if i < 0 {
			return ""
		}
		rest = rest[i:]
	}
	return strings.TrimLeft(rest, " ")
}

// sameFrame compares the page frame numbers of the page at addr in two
// tasks, from /proc/PID/pagemap: 1 when both have the page present in the
// same frame.
func (w *World) sameFrame(t *task, pid2 int, addr uint64) Result {
	t2 := w.tasks[pid2]
	if t2 == nil || t2.zombie {
		return errOf(errno.ESRCH)
	}
	if why := w.touchesAgent(addr, 1); why != "" {
		return skip(why)
	}
	var pfn [2]uint64
	for i, tt := range []*task{t, t2} {
		b, err := w.proc(tt.real, "pagemap", int64(addr/4096*8), 8)
		if err != nil {
			return Result{Outcome: scenario.Outcome{Err: err}}
		}
		if len(b) == 8 {
			e := binary.LittleEndian.Uint64(b)
			if e>>63 != 0 {
				pfn[i] = e&(1<<55-1) | 1<<63 // present: its frame, marked
			}
		}
	}
	if pfn[0] != 0 && pfn[0] == pfn[1] {
		return intOf(1)
	}
	return intOf(0)
}

// Tasks returns the script pids of the tasks alive or zombie, in order.
func (w *World) Tasks() []int {
	var out []int
	for p := range w.tasks {
		out = append(out, p)
	}
	sort.Ints(out)
	return out
}
