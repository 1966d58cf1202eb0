// Package props holds the generators of random worlds, built through
// system calls only, and (in its tests) the properties of checkpoint and
// restart, chief among them that restart(checkpoint(W)) is W as package
// equiv judges it. It uses rapid, so only tests import it.
package props

import (
	"fmt"
	"sort"
	"strings"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// World is a world a generator built: its kernel and the script of system
// calls that built it, each line with the result it gave. The script is a
// scenario script: paste it into a file and `ckptsim run` replays it.
type World struct {
	K     *kernel.Kernel
	Lines []string
}

// Script returns the script that builds the world.
func (w *World) Script() string { return strings.Join(w.Lines, "\n") + "\n" }

// Exec runs one line of script on the world's kernel, records it with its
// result, and returns the outcome.
func (w *World) Exec(line string) scenario.Outcome {
	s, err := scenario.ParseString("generated", line)
	if err != nil {
		panic(fmt.Sprintf("props: generated a line the parser refuses: %v", err))
	}
	l := s.Lines[0]
	o := scenario.Exec(w.K, l)
	w.Lines = append(w.Lines, fmt.Sprintf("%s = %s", line, o))
	return o
}

// Config bounds the worlds a generator draws.
type Config struct {
	// Steps is the largest number of system calls drawn one by one.
	Steps int
	// Large also draws bulk steps that make hundreds of tasks or thousands
	// of descriptors at once.
	Large bool
	// Spread lets tasks leave the tree of pid 1 (a task that exits leaves
	// its children to init) and lets separate trees open the same FIFOs
	// and files, so that containers share objects with the outside.
	Spread bool
}

// Worlds returns a generator of worlds built through system calls from a
// task with pid 1: task trees of random shape, clones that share or copy
// file tables, fs states and address spaces, mappings, pages and stores
// (gen_memory.go), files opened, dup'd, moved to high numbers and
// closed, pipes partly and completely full, FIFOs, unlinked open files,
// positions, flags, close-on-exec, zombies and random registers. Unless
// cfg.Spread, every task stays in the tree of pid 1, so the world is one
// container. No call takes a lock or sets an owner: the refusal properties
// add those.
func Worlds(cfg Config) *rapid.Generator[*World] {
	return rapid.Custom(func(t *rapid.T) *World {
		w := &World{K: kernel.New(kernel.Config{})}
		b := NewBuilder(t, cfg, w.K, w.Exec)
		steps := rapid.IntRange(0, cfg.Steps).Draw(t, "steps")
		for range steps {
			b.Step()
		}
		return w
	})
}

// Builder draws system calls one at a time. It reads the world it draws for
// through a kernel's view, to draw arguments that mean something (live
// pids, open descriptors), and now and then draws ones that fail. Each call
// goes to exec, which runs it: on one world, or on two in lockstep.
type Builder struct {
	k       *kernel.Kernel
	exec    func(line string) scenario.Outcome
	t       *rapid.T
	cfg     Config
	nextPid int
}

// NewBuilder starts a world on k, through exec, with pid 1, a directory /d
// and a FIFO /q.
func NewBuilder(t *rapid.T, cfg Config, k *kernel.Kernel, exec func(string) scenario.Outcome) *Builder {
	b := &Builder{k: k, exec: exec, t: t, cfg: cfg, nextPid: 2}
	exec("spawn 1 init")
	exec("mkdir 1 /d")
	exec("mkfifo 1 /q")
	return b
}

var (
	paths      = []string{"/f1", "/f2", "/d/f3", "/q", "d/f4", "/d"}
	openFlags  = []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_RDWR|O_CREAT", "O_WRONLY|O_CREAT|O_TRUNC", "O_RDWR|O_CREAT|O_APPEND", "O_RDONLY|O_NONBLOCK", "O_RDWR|O_CREAT|O_CLOEXEC", "O_RDONLY|O_DIRECTORY", "O_RDWR|O_CREAT|O_SYNC"}
	setflFlags = []string{"0", "O_APPEND", "O_NONBLOCK", "O_APPEND|O_NONBLOCK", "O_DIRECT", "O_NONBLOCK|O_DIRECT"}
	pipeFlags  = []string{"", "O_NONBLOCK", "O_CLOEXEC", "O_NONBLOCK|O_CLOEXEC", "O_DIRECT"}
	cloneFlags = []string{"", "", "CLONE_FILES", "CLONE_FS", "CLONE_FILES|CLONE_FS", "CLONE_VM", "CLONE_VM|CLONE_FILES|CLONE_FS"}
)

// live returns the pids of the tasks that can make calls, in order.
func (b *Builder) live() []int {
	var out []int
	for _, tv := range b.k.View().Tasks {
		if tv.FileTable != 0 {
			out = append(out, tv.Pid)
		}
	}
	return out
}

func (b *Builder) pid() int {
	live := b.live()
	if len(live) == 0 {
		return 1
	}
	return rapid.SampledFrom(live).Draw(b.t, "pid")
}

// fd draws one of pid's open descriptors, or now and then any number.
func (b *Builder) fd(pid int) int {
	v := b.k.View()
	tv := v.Task(pid)
	var fds []int
	if tv != nil {
		for _, d := range v.FileTables[tv.FileTable].Fds {
			fds = append(fds, d.Fd)
		}
	}
	if len(fds) == 0 || rapid.IntRange(0, 24).Draw(b.t, "any fd") == 0 {
		return rapid.IntRange(-1, 70).Draw(b.t, "fd number")
	}
	return rapid.SampledFrom(fds).Draw(b.t, "fd")
}

// children returns pid's children that have exited, and those still alive
// that have no children of their own.
func (b *Builder) children(pid int) (zombies, leaves []int) {
	v := b.k.View()
	tv := v.Task(pid)
	if tv == nil {
		return nil, nil
	}
	for _, c := range tv.Children {
		cv := v.Task(c)
		switch {
		case cv.FileTable == 0:
			zombies = append(zombies, c)
		case len(cv.Children) == 0:
			leaves = append(leaves, c)
		}
	}
	return zombies, leaves
}

func (b *Builder) data() string {
	switch rapid.IntRange(0, 9).Draw(b.t, "size") {
	case 0:
		return ""
	case 1:
		return strings.Repeat("P", 4096)
	case 2:
		return strings.Repeat("Q", rapid.IntRange(4097, 9000).Draw(b.t, "big"))
	}
	return rapid.StringMatching(`[a-z]{1,40}`).Draw(b.t, "data")
}

// Step draws one system call and runs it. The weights favour calls that
// build something (opens, pipes, writes into pipes, clones) over the ones
// that mostly fail, so that worlds are rich; every kind still comes up.
func (b *Builder) Step() {
	x := b.exec
	pid := b.pid()
	if rapid.IntRange(0, 3).Draw(b.t, "memory") == 0 {
		b.memory(pid)
		return
	}
	switch w := rapid.IntRange(0, 99).Draw(b.t, "call"); {
	case w < 14:
		x(fmt.Sprintf("open %d %s %s 0%o", pid, rapid.SampledFrom(paths).Draw(b.t, "path"),
			rapid.SampledFrom(openFlags).Draw(b.t, "flags"), rapid.IntRange(0, 0777).Draw(b.t, "mode")))
	case w < 20:
		x(fmt.Sprintf("pipe %d %s", pid, rapid.SampledFrom(pipeFlags).Draw(b.t, "pipe flags")))
	case w < 24:
		b.socket(pid)
	case w < 38:
		x(fmt.Sprintf("write %d %d %q", pid, b.fd(pid), b.data()))
	case w < 47:
		x(fmt.Sprintf("read %d %d %d", pid, b.fd(pid), rapid.IntRange(0, 5000).Draw(b.t, "count")))
	case w < 55:
		flags := rapid.SampledFrom(cloneFlags).Draw(b.t, "clone flags")
		x(fmt.Sprintf("clone %d %d %s", pid, b.newPid(), flags))
	case w < 59:
		x(fmt.Sprintf("dup %d %d", pid, b.fd(pid)))
	case w < 62:
		x(fmt.Sprintf("dup2 %d %d %d", pid, b.fd(pid), b.highFd()))
	case w < 64:
		x(fmt.Sprintf("dup3 %d %d %d O_CLOEXEC", pid, b.fd(pid), b.highFd()))
	case w < 66:
		x(fmt.Sprintf("fcntl %d %d F_DUPFD_CLOEXEC %d", pid, b.fd(pid), rapid.IntRange(0, 100).Draw(b.t, "min")))
	case w < 71:
		x(fmt.Sprintf("close %d %d", pid, b.fd(pid)))
	case w < 75:
		whence := rapid.SampledFrom([]string{"SEEK_SET", "SEEK_CUR", "SEEK_END"}).Draw(b.t, "whence")
		x(fmt.Sprintf("lseek %d %d %d %s", pid, b.fd(pid), rapid.IntRange(-10, 10000).Draw(b.t, "offset"), whence))
	case w < 78:
		x(fmt.Sprintf("fcntl %d %d F_SETFD %d", pid, b.fd(pid), rapid.IntRange(0, 1).Draw(b.t, "cloexec")))
	case w < 81:
		x(fmt.Sprintf("fcntl %d %d F_SETFL %s", pid, b.fd(pid), rapid.SampledFrom(setflFlags).Draw(b.t, "setfl")))
	case w < 85:
		x(fmt.Sprintf("unlink %d %s", pid, rapid.SampledFrom(paths).Draw(b.t, "path")))
	case w < 90:
		b.exitOrWait(pid)
	case w < 92:
		x(fmt.Sprintf("chdir %d %s", pid, rapid.SampledFrom([]string{"/", "/d", "/f1", ".."}).Draw(b.t, "dir")))
	case w < 94:
		x(fmt.Sprintf("regs %d %s", pid, b.regs()))
	case w < 97:
		b.fillPipe(pid)
	default:
		if b.cfg.Large {
			b.bulk(pid)
		}
	}
}

// socket makes a pair of sockets of any type, or shuts down one of pid's
// descriptors (a socket's, mostly, when it has one).
func (b *Builder) socket(pid int) {
	if rapid.IntRange(0, 3).Draw(b.t, "shutdown") == 0 {
		how := rapid.SampledFrom([]string{"SHUT_RD", "SHUT_WR", "SHUT_RDWR"}).Draw(b.t, "how")
		b.exec(fmt.Sprintf("shutdown %d %d %s", pid, b.fd(pid), how))
		return
	}
	typ := rapid.SampledFrom([]string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET"}).Draw(b.t, "socket type")
	flags := rapid.SampledFrom([]string{"", " SOCK_NONBLOCK", " SOCK_CLOEXEC", " SOCK_NONBLOCK|SOCK_CLOEXEC"}).Draw(b.t, "socket flags")
	b.exec(fmt.Sprintf("socketpair %d %s%s", pid, typ, flags))
}

// fillPipe writes pages into one of pid's descriptors until the write
// returns less than asked, so that pipes end up completely full (with a
// partial write at the end when the last page had room).
func (b *Builder) fillPipe(pid int) {
	fd := b.fd(pid)
	chunk := rapid.SampledFrom([]int{4096, 5000, 8192}).Draw(b.t, "chunk")
	for range 20 {
		o := b.exec(fmt.Sprintf("write %d %d %q", pid, fd, strings.Repeat("F", chunk)))
		if o.Err != nil || o.Int < int64(chunk) {
			return
		}
	}
}

func (b *Builder) newPid() int {
	if rapid.IntRange(0, 9).Draw(b.t, "big pid") == 0 {
		return rapid.IntRange(100, 100000).Draw(b.t, "pid number")
	}
	b.nextPid++
	return b.nextPid - 1
}

func (b *Builder) highFd() int {
	if rapid.IntRange(0, 5).Draw(b.t, "high") == 0 {
		return rapid.IntRange(100, 9999).Draw(b.t, "high fd")
	}
	return rapid.IntRange(-1, 20).Draw(b.t, "newfd")
}

// exitOrWait lets a child without live children exit, or reaps a zombie.
// Unless cfg.Spread, a task with live children never exits, so the tree
// stays whole.
func (b *Builder) exitOrWait(pid int) {
	zombies, leaves := b.children(pid)
	switch {
	case len(zombies) > 0 && rapid.Bool().Draw(b.t, "reap"):
		b.exec(fmt.Sprintf("wait %d %d", pid, rapid.SampledFrom(zombies).Draw(b.t, "zombie")))
	case len(leaves) > 0:
		b.exec(fmt.Sprintf("exit %d %d", rapid.SampledFrom(leaves).Draw(b.t, "leaf"), rapid.IntRange(0, 300).Draw(b.t, "code")))
	case b.cfg.Spread && pid != 1:
		b.exec(fmt.Sprintf("exit %d %d", pid, rapid.IntRange(0, 255).Draw(b.t, "code")))
	}
}

// regs draws a register state that x86cpu's validation accepts.
func (b *Builder) regs() string {
	var parts []string
	for _, name := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "r8", "r15"} {
		if rapid.Bool().Draw(b.t, "set "+name) {
			parts = append(parts, fmt.Sprintf("%s=%#x", name, rapid.Uint64().Draw(b.t, name)))
		}
	}
	userAddr := func(label string) string {
		return fmt.Sprintf("%#x", rapid.Uint64Range(0, x86cpu.TaskSizeMax-1).Draw(b.t, label))
	}
	parts = append(parts, "rip="+userAddr("rip"), "rsp="+userAddr("rsp"), "fs_base="+userAddr("fs_base"))
	flags := x86cpu.RequiredFlags | rapid.Uint64Range(0, x86cpu.UserFlags).Draw(b.t, "rflags")&x86cpu.UserFlags
	parts = append(parts, fmt.Sprintf("rflags=%#x", flags))
	parts = append(parts, fmt.Sprintf("mxcsr=%#x", rapid.Uint32Range(0, 0xffff).Draw(b.t, "mxcsr")))
	parts = append(parts, "gs="+rapid.SampledFrom([]string{"0", "0x2b", "0x63", "0x6b", "0x73"}).Draw(b.t, "gs"))
	return strings.Join(parts, " ")
}

// bulk makes many objects at once: a long line of tasks, a wide family,
// or thousands of descriptors.
func (b *Builder) bulk(pid int) {
	switch rapid.IntRange(0, 2).Draw(b.t, "bulk") {
	case 0:
		n := rapid.IntRange(50, 300).Draw(b.t, "tasks")
		parent := pid
		for range n {
			child := b.newPidSeq()
			b.exec(fmt.Sprintf("fork %d %d", parent, child))
			if rapid.IntRange(0, 3).Draw(b.t, "deeper") == 0 {
				parent = child
			}
		}
	case 1:
		n := rapid.IntRange(50, 200).Draw(b.t, "siblings")
		flags := rapid.SampledFrom(cloneFlags).Draw(b.t, "clone flags")
		for range n {
			b.exec(fmt.Sprintf("clone %d %d %s", pid, b.newPidSeq(), flags))
		}
	case 2:
		n := rapid.IntRange(500, 3000).Draw(b.t, "descriptors")
		o := b.exec(fmt.Sprintf("open %d /f1 O_RDWR|O_CREAT 0644", pid))
		if o.Err != nil {
			return
		}
		for i := range n {
			b.exec(fmt.Sprintf("dup2 %d %d %d", pid, o.Int, 100+i*7))
		}
	}
}

func (b *Builder) newPidSeq() int {
	b.nextPid++
	return b.nextPid - 1
}

// TopLevel returns the world's top-level pids in order.
func TopLevel(k *kernel.Kernel) []int {
	top := append([]int(nil), k.View().Top...)
	sort.Ints(top)
	return top
}
