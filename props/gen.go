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
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// World is a world a generator built: its kernel and the script of system
// calls that built it, each line with the result it gave. The script is a
// scenario script: paste it into a file and `ckptsim run` replays it.
type World struct {
	K     *kernel.Kernel
	Lines []string
	// Limits are the kernel's RLIMIT_NOFILE and nr_open (DiskFrom unset):
	// a restart of the world's image needs a kernel with the same ones.
	// The zero value is Linux's defaults.
	Limits kernel.Config
}

// NewKernel returns a fresh kernel with the world's limits on a copy of its
// disk, for restarting its images.
func (w *World) NewKernel() *kernel.Kernel {
	cfg := w.Limits
	cfg.DiskFrom = w.K
	return kernel.New(cfg)
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
	// its children to init), spawns other top-level tasks, and lets
	// separate trees open the same FIFOs and files (and unlink them), so
	// that containers share objects with the outside.
	Spread bool
	// Limits draws small kernel limits (nr_open and RLIMIT_NOFILE of a few
	// dozen, often equal) and fills file tables up to them, so that worlds
	// sit exactly at the limits restart checks.
	Limits bool
	// Host draws only calls whose results the host's Linux kernel gives
	// and the simulator claims to give too (the differential test's
	// mode), leaving out by construction what README and SCENARIOS.md
	// document as not modelled or not answerable on the host: no regs
	// (a debugger's), no brk (a task's break is the host agent's heap),
	// no address the kernel picks, which Linux randomises (a mapping
	// without MAP_FIXED only at a hint the simulator sees free, mremap's
	// MREMAP_MAYMOVE only with MREMAP_FIXED), and no sameframe (Linux's
	// pagemap shows no frame for a shared page untouched since fork, and
	// the zero page for a private one only read), and no O_DIRECT on a
	// regular file (direct I/O's alignment rules are not modelled), and
	// no write from a mapping of its own file past the end. It adds
	// probes where regs would be (vma, F_GETFL, F_GETFD, F_GETOWN, lseek
	// SEEK_CUR, flock, F_SETOWN, waits that block). Large and Limits are
	// not for it (the host's limits are the system's).
	Host bool
}

// Worlds returns a generator of worlds built through system calls from a
// task with pid 1: task trees of random shape, clones that share or copy
// file tables, fs states and address spaces, mappings, pages and stores
// (gen_memory.go), task names of every length up to 15 bytes (and longer
// ones, cut), files opened, dup'd, moved to high numbers and
// closed, pipes partly and completely full, FIFOs, unlinked open files,
// positions, flags, close-on-exec, zombies, paths of exactly PATH_MAX-1
// bytes, and registers: every field of the state a checkpoint saves
// (general registers, selectors including a compat-mode cs, segment bases,
// the whole FXSAVE area, the debug registers), each within what x86cpu's
// validation accepts. With cfg.Limits the kernel's limits are small and
// tables fill up to them. Unless cfg.Spread, every task stays in the tree
// of pid 1, so the world is one container. No call takes a lock or sets an
// owner: the refusal properties add those.
func Worlds(cfg Config) *rapid.Generator[*World] {
	return rapid.Custom(func(t *rapid.T) *World {
		w := &World{}
		if cfg.Limits {
			nrOpen := rapid.IntRange(4, 40).Draw(t, "nr_open")
			noFile := nrOpen
			if rapid.Bool().Draw(t, "RLIMIT_NOFILE below nr_open") {
				noFile = rapid.IntRange(3, nrOpen).Draw(t, "RLIMIT_NOFILE")
			}
			w.Limits = kernel.Config{NoFile: noFile, NrOpen: nrOpen}
			// A script cannot set limits: say them, for whoever replays it.
			w.Lines = append(w.Lines, fmt.Sprintf("# a kernel with RLIMIT_NOFILE %d and nr_open %d (kernel.Config)", noFile, nrOpen))
		}
		w.K = kernel.New(w.Limits)
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
	exec("spawn 1 " + b.comm())
	exec("mkdir 1 /d")
	exec("mkfifo 1 /q")
	return b
}

var (
	paths      = []string{"/f1", "/f2", "/d/f3", "/q", "d/f4", "/d"}
	openFlags  = []string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_RDWR|O_CREAT", "O_WRONLY|O_CREAT|O_TRUNC", "O_RDWR|O_CREAT|O_APPEND", "O_RDONLY|O_NONBLOCK", "O_RDWR|O_CREAT|O_CLOEXEC", "O_RDONLY|O_DIRECTORY", "O_RDWR|O_CREAT|O_SYNC"}
	setflFlags = []string{"0", "O_APPEND", "O_NONBLOCK", "O_APPEND|O_NONBLOCK", "O_DIRECT", "O_NONBLOCK|O_DIRECT"}
	// setflBuffered leave out O_DIRECT, for a regular file in Config.Host:
	// the simulator does not model direct I/O's alignment rules.
	setflBuffered = []string{"0", "O_APPEND", "O_NONBLOCK", "O_APPEND|O_NONBLOCK"}
	pipeFlags     = []string{"", "O_NONBLOCK", "O_CLOEXEC", "O_NONBLOCK|O_CLOEXEC", "O_DIRECT"}
	cloneFlags    = []string{"", "", "CLONE_FILES", "CLONE_FS", "CLONE_FILES|CLONE_FS", "CLONE_VM", "CLONE_VM|CLONE_FILES|CLONE_FS"}
	// comms are task names: short and long, exactly 15 bytes (the most a
	// name keeps), 16 and more (cut to 15, one in the middle of a UTF-8
	// character), with spaces, quotes and a NUL (the name ends there).
	comms = []string{"init", "w", "worker", "fifteen-bytes15", "sixteen-bytes-16", "a name with spaces",
		`quote"back\slash`, "ünïcødé-ñåmé", "nul\x00after", "0123456789abcdefghij"}
	// fifoOpenFlags open a FIFO without waiting for a peer.
	fifoOpenFlags = []string{"O_RDWR", "O_RDONLY|O_NONBLOCK", "O_RDWR|O_NONBLOCK", "O_RDWR|O_APPEND"}
)

// comm draws a task name, as a quoted script word.
func (b *Builder) comm() string {
	if rapid.IntRange(0, 3).Draw(b.t, "random comm") == 0 {
		return fmt.Sprintf("%q", rapid.StringMatching(`[ -~]{1,20}`).Draw(b.t, "comm"))
	}
	return fmt.Sprintf("%q", rapid.SampledFrom(comms).Draw(b.t, "comm"))
}

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

// probe draws, in Config.Host, a call that shows state the other steps
// change without reading it back (flags, positions, VMAs, owners), or
// one that may block (a lock, a wait for a live child): where regs would
// be, which the host cannot answer.
func (b *Builder) probe(pid int) {
	x := b.exec
	switch rapid.IntRange(0, 6).Draw(b.t, "probe") {
	case 0:
		x(fmt.Sprintf("vma %d %#x", pid, b.storeAddr(pid)))
	case 1:
		x(fmt.Sprintf("fcntl %d %d %s", pid, b.fd(pid), rapid.SampledFrom([]string{"F_GETFL", "F_GETFD", "F_GETOWN"}).Draw(b.t, "get")))
	case 2:
		x(fmt.Sprintf("lseek %d %d 0 SEEK_CUR", pid, b.fd(pid)))
	case 3:
		op := rapid.SampledFrom([]string{"LOCK_SH", "LOCK_EX", "LOCK_UN", "LOCK_SH|LOCK_NB", "LOCK_EX|LOCK_NB"}).Draw(b.t, "lock")
		x(fmt.Sprintf("flock %d %d %s", pid, b.fd(pid), op))
	case 4:
		x(fmt.Sprintf("fcntl %d %d F_SETOWN %d", pid, b.fd(pid), b.pid()))
	case 5:
		x(fmt.Sprintf("wait %d -1", pid))
	default:
		_, leaves := b.children(pid)
		if len(leaves) > 0 {
			x(fmt.Sprintf("wait %d %d", pid, rapid.SampledFrom(leaves).Draw(b.t, "live child")))
		}
	}
}

// isRegular reports whether pid's descriptor fd is open on a regular file.
func (b *Builder) isRegular(pid, fd int) bool {
	v := b.k.View()
	tv := v.Task(pid)
	if tv == nil || tv.FileTable == 0 {
		return false
	}
	for _, d := range v.FileTables[tv.FileTable].Fds {
		if d.Fd == fd {
			return v.Files[d.File].Type == vfs.TypeRegular
		}
	}
	return false
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
	switch w := rapid.IntRange(0, 110).Draw(b.t, "call"); {
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
		line := fmt.Sprintf("clone %d %d %s", pid, b.newPid(), rapid.SampledFrom(cloneFlags).Draw(b.t, "clone flags"))
		if rapid.IntRange(0, 2).Draw(b.t, "named") == 0 {
			line += " " + b.comm()
		}
		x(line)
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
		fd := b.fd(pid)
		choices := setflFlags
		if b.cfg.Host && b.isRegular(pid, fd) {
			choices = setflBuffered
		}
		x(fmt.Sprintf("fcntl %d %d F_SETFL %s", pid, fd, rapid.SampledFrom(choices).Draw(b.t, "setfl")))
	case w < 85:
		x(fmt.Sprintf("unlink %d %s", pid, rapid.SampledFrom(paths).Draw(b.t, "path")))
	case w < 90:
		b.exitOrWait(pid)
	case w < 92:
		x(fmt.Sprintf("chdir %d %s", pid, rapid.SampledFrom([]string{"/", "/d", "/f1", ".."}).Draw(b.t, "dir")))
	case w < 96 && b.cfg.Host:
		b.probe(pid)
	case w < 96:
		x(fmt.Sprintf("regs %d %s", pid, b.regs()))
	case w < 99:
		b.fillPipe(pid)
	case w < 102:
		// FIFOs, opened without waiting for a peer: with Spread, by
		// several trees, each with a file of its own on the one pipe.
		x(fmt.Sprintf("open %d /q %s", pid, rapid.SampledFrom(fifoOpenFlags).Draw(b.t, "fifo flags")))
	case w < 103:
		n := rapid.SampledFrom([]int{PathMax, PathMax, PathMax - 1, rapid.IntRange(300, PathMax).Draw(b.t, "path length")}).Draw(b.t, "deep path")
		DeepPath(x, pid, n, rapid.Bool().Draw(b.t, "leaf is a directory"))
	case w < 106:
		switch {
		case b.cfg.Spread && rapid.Bool().Draw(b.t, "spawn"):
			// Another tree, which may open what the first one has open.
			x(fmt.Sprintf("spawn %d %s", b.newPid(), b.comm()))
		case b.cfg.Spread:
			b.openInTwoTrees()
		case b.cfg.Limits:
			b.fillTable(pid)
		default:
			x(fmt.Sprintf("open %d /q %s", pid, rapid.SampledFrom(fifoOpenFlags).Draw(b.t, "fifo flags")))
		}
	case w < 108:
		switch {
		case b.cfg.Limits:
			b.fillTable(pid)
		case b.cfg.Spread:
			b.openInTwoTrees()
		}
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

// PathMax is the longest path a checkpoint saves: PATH_MAX less its NUL.
const PathMax = vfs.PATH_MAX - 1

// DeepPath makes, below /d, a chain of directories (each name at most
// NAME_MAX bytes) whose last entry's absolute path is exactly n bytes long,
// through relative paths from pid's working directory, and leaves pid
// working in the deepest directory: the last entry is a file opened there
// or, when leafDir, a directory pid moves into. n of PathMax is the longest
// path a checkpoint saves; one more, and checkpoint must refuse it.
func DeepPath(exec func(string) scenario.Outcome, pid, n int, leafDir bool) {
	if exec(fmt.Sprintf("chdir %d /d", pid)).Err != nil {
		return
	}
	left := n - len("/d")
	for depth := 0; left > 1+vfs.NAME_MAX; depth++ {
		// Leave at least "/x" for the last entry.
		name := strings.Repeat(string(rune('a'+depth%26)), min(vfs.NAME_MAX, left-3))
		exec(fmt.Sprintf("mkdir %d %s", pid, name))
		if exec(fmt.Sprintf("chdir %d %s", pid, name)).Err != nil {
			return
		}
		left -= 1 + len(name)
	}
	leaf := strings.Repeat("z", left-1)
	if leafDir {
		exec(fmt.Sprintf("mkdir %d %s", pid, leaf))
		exec(fmt.Sprintf("chdir %d %s", pid, leaf))
		return
	}
	exec(fmt.Sprintf("open %d %s O_RDWR|O_CREAT 0644", pid, leaf))
}

// openInTwoTrees has tasks of two different trees open the same file or
// FIFO, each a file of its own, and now and then unlinks it: an inode, an
// unlinked file or a FIFO's pipe that two containers share.
func (b *Builder) openInTwoTrees() {
	v := b.k.View()
	byTree := map[int][]int{}
	for _, pid := range b.live() {
		top := pid
		for v.Task(top).PPid != 0 {
			top = v.Task(top).PPid
		}
		byTree[top] = append(byTree[top], pid)
	}
	if len(byTree) < 2 {
		return
	}
	tops := make([]int, 0, len(byTree))
	for top := range byTree {
		tops = append(tops, top)
	}
	sort.Ints(tops)
	path := rapid.SampledFrom([]string{"/f1", "/f2", "/d/f3", "/q"}).Draw(b.t, "shared path")
	flags := "O_RDWR|O_CREAT"
	if path == "/q" {
		flags = rapid.SampledFrom(fifoOpenFlags).Draw(b.t, "fifo flags")
	}
	var opener int
	for _, i := range rapid.SliceOfNDistinct(rapid.IntRange(0, len(tops)-1), 2, 2, rapid.ID[int]).Draw(b.t, "trees") {
		opener = rapid.SampledFrom(byTree[tops[i]]).Draw(b.t, "opener")
		b.exec(fmt.Sprintf("open %d %s %s 0644", opener, path, flags))
	}
	if rapid.Bool().Draw(b.t, "unlink the shared file") {
		b.exec(fmt.Sprintf("unlink %d %s", opener, path))
	}
}

// fillTable opens descriptors in pid's table, dups of one it has, until the
// kernel refuses one (EMFILE at RLIMIT_NOFILE): with small limits the table
// then sits exactly at them.
func (b *Builder) fillTable(pid int) {
	fd := b.fd(pid)
	for range b.k.NoFile() + 1 {
		if b.exec(fmt.Sprintf("dup %d %d", pid, fd)).Err != nil {
			return
		}
	}
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

// highFd draws a target descriptor for dup2 and dup3: a low one, a high
// one, or the last one RLIMIT_NOFILE allows and the first it refuses.
func (b *Builder) highFd() int {
	switch rapid.IntRange(0, 7).Draw(b.t, "high") {
	case 0:
		return rapid.IntRange(100, 9999).Draw(b.t, "high fd")
	case 1:
		return b.k.NoFile() - rapid.IntRange(0, 1).Draw(b.t, "at RLIMIT_NOFILE")
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

// regs draws a register state that x86cpu's validation accepts, as
// NAME=VALUE words for a regs line. It sets one or more groups of fields,
// and between them every field a checkpoint saves comes up: the general
// registers and flags, the selectors (a compat-mode cs, LDT and TLS data
// selectors) and segment bases, the x87 state, the SSE state, the FXSAVE
// area's padding, and the debug registers.
func (b *Builder) regs() string {
	var parts []string
	set := func(name string, v uint64) { parts = append(parts, fmt.Sprintf("%s=%#x", name, v)) }
	anyValue := func(name string) { set(name, rapid.Uint64().Draw(b.t, name)>>(64-x86cpu.Width(name))) }
	userAddr := func(name string) { set(name, rapid.Uint64Range(0, x86cpu.TaskSizeMax-1).Draw(b.t, name)) }
	groups := rapid.IntRange(1, 1<<6-1).Draw(b.t, "register groups")
	if groups&1 != 0 {
		for _, name := range []string{"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
			"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", "orig_rax"} {
			if rapid.Bool().Draw(b.t, "set "+name) {
				anyValue(name)
			}
		}
		userAddr("rip")
		set("rflags", x86cpu.RequiredFlags|rapid.Uint64Range(0, x86cpu.UserFlags).Draw(b.t, "rflags")&x86cpu.UserFlags)
	}
	if groups&2 != 0 {
		set("cs", rapid.SampledFrom([]uint64{x86cpu.UserCS, x86cpu.User32CS}).Draw(b.t, "cs"))
		for _, name := range []string{"ds", "es", "fs", "gs"} {
			set(name, b.dataSelector(name))
		}
		userAddr("fs_base")
		userAddr("gs_base")
	}
	if groups&4 != 0 {
		for _, name := range []string{"fpu.cwd", "fpu.swd", "fpu.twd", "fpu.fop", "fpu.rip", "fpu.rdp"} {
			anyValue(name)
		}
		for i := range 8 {
			anyValue(fmt.Sprintf("fpu.st%d.lo", i))
			anyValue(fmt.Sprintf("fpu.st%d.hi", i))
		}
	}
	if groups&8 != 0 {
		set("mxcsr", uint64(rapid.Uint32Range(0, x86cpu.MXCSRFeatureMask).Draw(b.t, "mxcsr")))
		for i := range 16 {
			anyValue(fmt.Sprintf("fpu.xmm%d.lo", i))
			anyValue(fmt.Sprintf("fpu.xmm%d.hi", i))
		}
	}
	if groups&16 != 0 {
		for i := range 24 {
			anyValue(fmt.Sprintf("fpu.padding[%d]", i))
		}
	}
	if groups&32 != 0 {
		parts = append(parts, b.debugRegs()...)
	}
	return strings.Join(parts, " ")
}

// dataSelector draws what ds, es, fs or gs may hold: null, the user data
// selector, a TLS selector, or an LDT selector with RPL 3.
func (b *Builder) dataSelector(name string) uint64 {
	switch rapid.IntRange(0, 3).Draw(b.t, name+" kind") {
	case 0:
		return 0
	case 1:
		return x86cpu.UserDS
	case 2:
		return uint64(rapid.IntRange(x86cpu.GDTEntryTLSMin, x86cpu.GDTEntryTLSMax).Draw(b.t, name+" TLS entry"))<<3 | 3
	}
	return uint64(rapid.IntRange(0, 8191).Draw(b.t, name+" LDT entry"))<<3 | 4 | 3
}

// debugRegs draws the debug registers as a debugger sets them: four
// breakpoints, each enabled or not, of kind execute (one byte), write or
// read/write (1, 2, 4 or 8 bytes), at a user address aligned to its length;
// DR6 any 32-bit status; DR4 and DR5 zero.
func (b *Builder) debugRegs() []string {
	lengths := [4]uint64{1, 2, 8, 4} // by DR7 LEN code
	var dr7 uint64
	var parts []string
	for i := range 4 {
		rw := rapid.SampledFrom([]uint64{0, 1, 3}).Draw(b.t, "breakpoint kind")
		lenCode := uint64(0)
		if rw != 0 {
			lenCode = rapid.Uint64Range(0, 3).Draw(b.t, "breakpoint length")
		}
		enable := rapid.Uint64Range(0, 3).Draw(b.t, "breakpoint enable")
		dr7 |= enable<<(2*i) | (rw|lenCode<<2)<<(16+4*i)
		addr := rapid.Uint64Range(0, x86cpu.TaskSizeMax-1).Draw(b.t, "breakpoint address") &^ (lengths[lenCode] - 1)
		parts = append(parts, fmt.Sprintf("dr%d=%#x", i, addr))
	}
	dr7 |= rapid.Uint64Range(0, 3).Draw(b.t, "LE GE") << 8
	return append(parts, "dr4=0", "dr5=0",
		fmt.Sprintf("dr6=%#x", rapid.Uint32().Draw(b.t, "dr6")), fmt.Sprintf("dr7=%#x", dr7))
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
