package props

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Exhaustive small worlds, beside the random ones: every sharing shape of
// a few tasks and a few pipes (or AF_UNIX socket pairs) is built through
// system calls, checkpointed, restarted in a fresh kernel, compared with
// equiv.Equal, and then both worlds run the same reads, writes and closes
// in lockstep, every result compared.
//
// A shape is:
//
//   - the tasks, 1 to 3: pid 1 spawned, pid 2 a child of pid 1, pid 3 a
//     child of pid 1 or of pid 2; each child made by fork (a copy of its
//     parent's file table) or by clone CLONE_FILES (the same table);
//   - the objects, 0 to 3 pipes (0 to 2 socket pairs), all made by pid 1
//     before any child, so that object i's two ends are fds 2i and 2i+1;
//   - which ends each file table still holds: every end a table does not
//     hold is closed in it once the tasks exist, leaving a hole at that fd
//     (an end that no table holds is closed; a task sharing a table holds
//     what the table holds);
//   - per pipe, whether bytes are in flight (written before the closes);
//     per socket pair its type (stream, datagram, seqpacket), whether bytes
//     are queued toward each end, and how each end is shut down (none,
//     SHUT_RD, SHUT_WR, both), all before the closes.
//
// Every object has at least one end held by some table: an object with
// none left is gone, and the world is that of a shape with one object
// fewer. Shapes are counted once up to renaming: pipes (or socket pairs)
// permuted among themselves, the two ends of a socket pair swapped (the
// pair is symmetric; only the fds differ), and pids 2 and 3 swapped when
// both are children of pid 1 made the same way. A renaming changes only
// which fd numbers (and pids) the world uses, not what is shared, so the
// smallest shape of each class, compared as a tuple, stands for it.
//
// The continuation, run on the original and on the restored world: every
// task in pid order reads 64 bytes from each pipe read end and writes one
// byte to each pipe write end it holds (a socket end is written then
// read); then pid n closes everything its table holds; then the same reads
// and writes again (so end of file, EPIPE, ECONNRESET and BLOCKED show
// whether the restored reference counts are right).
//
// `go test ./props` runs a deterministic sample (every k-th shape, a few
// thousand); `make exhaustive` runs every shape, over GOMAXPROCS workers.
// The counts and times are in the README.

var exhaustive = flag.Bool("exhaustive", false, "run every small-world shape, not a sample (make exhaustive)")

// exhaustiveSample is how many shapes of each kind the default run checks.
const exhaustiveSample = 1500

// shape is one small world; see the comment above.
type shape struct {
	sockets bool
	tasks   int
	parent  [3]int  // parent[i] is the index of task i's parent (pid = index+1); parent[0] unused
	shared  [3]bool // task i was made by clone CLONE_FILES
	objs    int     // pipes or socket pairs
	// holds[i] is task i's table: bit 2j+e set when it holds end e of
	// object j (a pipe's read end is e=0, its write end e=1; a socket
	// pair's first fd is e=0). Tasks that share a table have equal holds.
	holds [3]uint8
	// bytes: a pipe j has bytes in flight when bit j is set; a socket pair
	// j has bytes queued toward end e when bit 2j+e is set.
	bytes uint8
	typ   [3]int   // socket pair j's type: 0 stream, 1 datagram, 2 seqpacket
	shut  [3]uint8 // socket pair j's shutdowns: bits 0,1 end 0's SHUT_RD, SHUT_WR; bits 2,3 end 1's
}

// table returns the index of the task whose table task i uses: its own, or
// that of the first task of its CLONE_FILES chain.
func (s *shape) table(i int) int {
	for i > 0 && s.shared[i] {
		i = s.parent[i]
	}
	return i
}

// key encodes a shape as a number, for comparisons between the renamings
// of one: tasks, tree, objects, then holdings, contents and shutdowns.
func (s shape) key() uint64 {
	k := uint64(s.tasks)<<2 | uint64(s.objs)
	for i := 1; i < 3; i++ {
		k = k<<1 | uint64(s.parent[i])
		k <<= 1
		if s.shared[i] {
			k |= 1
		}
	}
	for _, h := range s.holds {
		k = k<<6 | uint64(h)
	}
	k = k<<4 | uint64(s.bytes)
	for j := 0; j < 3; j++ {
		k = k<<2 | uint64(s.typ[j])
		k = k<<4 | uint64(s.shut[j])
	}
	return k
}

// String renders a shape for failure messages.
func (s *shape) String() string {
	kind := "pipes"
	if s.sockets {
		kind = "socket pairs"
	}
	return fmt.Sprintf("%d tasks (parents %v, CLONE_FILES %v), %d %s, holds %03b, bytes %04b, types %v, shutdowns %v",
		s.tasks, s.parent[1:s.tasks], s.shared[1:s.tasks], s.objs, kind, s.holds[:s.tasks], s.bytes, s.typ, s.shut)
}

// renamed returns the shape with object j renamed perm[j], the ends of the
// socket pairs in flip swapped, and tasks 2 and 3 swapped when swap is set.
func (s shape) renamed(perm []int, flip uint8, swap bool) shape {
	r := s
	if swap {
		r.holds[1], r.holds[2] = s.holds[2], s.holds[1]
	}
	src := r.holds
	r.holds, r.bytes, r.typ, r.shut = [3]uint8{}, 0, [3]int{}, [3]uint8{}
	for j := 0; j < s.objs; j++ {
		to := perm[j]
		r.typ[to] = s.typ[j]
		if !s.sockets && s.bytes&(1<<j) != 0 {
			r.bytes |= 1 << to
		}
		for e := 0; e < 2; e++ {
			te := e
			if flip&(1<<j) != 0 {
				te = 1 - e
			}
			for i := range src {
				if src[i]&(1<<(2*j+e)) != 0 {
					r.holds[i] |= 1 << (2*to + te)
				}
			}
			if s.sockets && s.bytes&(1<<(2*j+e)) != 0 {
				r.bytes |= 1 << (2*to + te)
			}
			r.shut[to] |= (s.shut[j] >> (2 * e) & 3) << (2 * te)
		}
	}
	return r
}

// canonicalForm returns the smallest of s's renamings: the shape that
// stands for its class.
func (s shape) canonicalForm() shape {
	best, k := s, s.key()
	swap := []bool{false}
	if s.tasks == 3 && s.parent[2] == 0 && s.shared[1] == s.shared[2] {
		swap = append(swap, true)
	}
	flips := uint8(1)
	if s.sockets {
		flips = 1 << s.objs
	}
	for _, perm := range perms[s.objs] {
		for flip := uint8(0); flip < flips; flip++ {
			for _, sw := range swap {
				if r := s.renamed(perm, flip, sw); r.key() < k {
					best, k = r, r.key()
				}
			}
		}
	}
	return best
}

// perms are the permutations of 0, 1, 2 and 3 objects.
var perms = [][][]int{permutations(0), permutations(1), permutations(2), permutations(3)}

func permutations(n int) [][]int {
	if n == 0 {
		return [][]int{{}}
	}
	var out [][]int
	for _, p := range permutations(n - 1) {
		for at := 0; at <= len(p); at++ {
			q := append(append(append([]int{}, p[:at]...), n-1), p[at:]...)
			out = append(out, q)
		}
	}
	return out
}

// trees calls fn with every task tree of n tasks: parents and clone kinds.
func trees(n int, fn func(parent [3]int, shared [3]bool)) {
	switch n {
	case 1:
		fn([3]int{}, [3]bool{})
	case 2:
		for _, s := range []bool{false, true} {
			fn([3]int{0, 0}, [3]bool{false, s})
		}
	case 3:
		for p3 := 0; p3 < 2; p3++ {
			for _, s2 := range []bool{false, true} {
				for _, s3 := range []bool{false, true} {
					fn([3]int{0, 0, p3}, [3]bool{false, s2, s3})
				}
			}
		}
	}
}

// shapes calls fn with every shape of up to maxTasks tasks and maxObjs
// objects, renamings included, in a fixed order.
func shapes(sockets bool, maxTasks, maxObjs int, fn func(shape)) {
	for n := 1; n <= maxTasks; n++ {
		for objs := 0; objs <= maxObjs; objs++ {
			trees(n, func(parent [3]int, shared [3]bool) {
				base := shape{sockets: sockets, tasks: n, parent: parent, shared: shared, objs: objs}
				var tables []int
				for i := 0; i < n; i++ {
					if base.table(i) == i {
						tables = append(tables, i)
					}
				}
				ends := 2 * objs
				for c := 0; c < 1<<(ends*len(tables)); c++ {
					s := base
					for ti, t := range tables {
						s.holds[t] = uint8(c >> (ends * ti) & (1<<ends - 1))
					}
					for i := 0; i < n; i++ {
						s.holds[i] = s.holds[s.table(i)]
					}
					if everyObjectHeld(&s) {
						states(s, fn)
					}
				}
			})
		}
	}
}

// classes returns one shape of each class (its canonical form), and how
// many shapes there are before renamings are counted once. Unless
// -exhaustive is set, it takes a deterministic sample of about n classes:
// every k-th shape, in the order shapes gives them, replaced by the
// canonical form of its class (so a class is drawn as often as it has
// members), each class once.
func classes(sockets bool, maxTasks, maxObjs, n int) (out []shape, all int) {
	shapes(sockets, maxTasks, maxObjs, func(shape) { all++ })
	if *exhaustive {
		shapes(sockets, maxTasks, maxObjs, func(s shape) {
			if s.canonicalForm().key() == s.key() {
				out = append(out, s)
			}
		})
		return out, all
	}
	k, i := max(1, all/n), 0
	seen := map[uint64]bool{}
	shapes(sockets, maxTasks, maxObjs, func(s shape) {
		if i++; (i-1)%k != 0 {
			return
		}
		c := s.canonicalForm()
		if !seen[c.key()] {
			seen[c.key()] = true
			out = append(out, c)
		}
	})
	return out, all
}

func everyObjectHeld(s *shape) bool {
	var held uint8
	for i := 0; i < s.tasks; i++ {
		held |= s.holds[i]
	}
	for j := 0; j < s.objs; j++ {
		if held>>(2*j)&3 == 0 {
			return false
		}
	}
	return true
}

// states calls fn with s in every state of its objects' contents.
func states(s shape, fn func(shape)) {
	if !s.sockets {
		for b := 0; b < 1<<s.objs; b++ {
			s.bytes = uint8(b)
			fn(s)
		}
		return
	}
	var pair func(j int, s shape)
	pair = func(j int, s shape) {
		if j == s.objs {
			fn(s)
			return
		}
		for typ := 0; typ < 3; typ++ {
			for b := uint8(0); b < 4; b++ {
				for shut := uint8(0); shut < 16; shut++ {
					t := s
					t.typ[j], t.shut[j] = typ, shut
					t.bytes = s.bytes&^(3<<(2*j)) | b<<(2*j)
					pair(j+1, t)
				}
			}
		}
	}
	pair(0, s)
}

var sockTypeNames = [3]string{"SOCK_STREAM", "SOCK_DGRAM", "SOCK_SEQPACKET"}

// build makes the shape's world through system calls.
func (s *shape) build() *World {
	w := &World{K: kernel.New(kernel.Config{})}
	w.Exec("spawn 1 init")
	for j := 0; j < s.objs; j++ {
		if s.sockets {
			w.Exec("socketpair 1 " + sockTypeNames[s.typ[j]])
		} else {
			w.Exec("pipe 1")
		}
	}
	for j := 0; j < s.objs; j++ {
		switch {
		case !s.sockets && s.bytes&(1<<j) != 0:
			w.Exec(fmt.Sprintf("write 1 %d \"pipe %d\"", 2*j+1, j))
		case s.sockets:
			for e := 0; e < 2; e++ {
				if s.bytes&(1<<(2*j+e)) != 0 {
					// Written by the other end, queued toward end e.
					w.Exec(fmt.Sprintf("write 1 %d \"to %d.%d\"", 2*j+1-e, j, e))
				}
			}
		}
	}
	for j := 0; j < s.objs && s.sockets; j++ {
		for e := 0; e < 2; e++ {
			if how := s.shut[j] >> (2 * e) & 3; how != 0 {
				w.Exec(fmt.Sprintf("shutdown 1 %d %s", 2*j+e, []string{"", "SHUT_RD", "SHUT_WR", "SHUT_RDWR"}[how]))
			}
		}
	}
	for i := 1; i < s.tasks; i++ {
		if s.shared[i] {
			w.Exec(fmt.Sprintf("clone %d %d CLONE_FILES", s.parent[i]+1, i+1))
		} else {
			w.Exec(fmt.Sprintf("fork %d %d", s.parent[i]+1, i+1))
		}
	}
	for i := 0; i < s.tasks; i++ {
		if s.table(i) != i {
			continue
		}
		for fd := 0; fd < 2*s.objs; fd++ {
			if s.holds[i]&(1<<fd) == 0 {
				w.Exec(fmt.Sprintf("close %d %d", i+1, fd))
			}
		}
	}
	return w
}

// continuation returns the lines both worlds run after the restart.
func (s *shape) continuation() []string {
	var lines []string
	touch := func() {
		for i := 0; i < s.tasks; i++ {
			for fd := 0; fd < 2*s.objs; fd++ {
				switch {
				case s.holds[i]&(1<<fd) == 0:
				case s.sockets:
					lines = append(lines, fmt.Sprintf("write %d %d \"s%d\"", i+1, fd, i+1), fmt.Sprintf("read %d %d 64", i+1, fd))
				case fd%2 == 0:
					lines = append(lines, fmt.Sprintf("read %d %d 64", i+1, fd))
				default:
					lines = append(lines, fmt.Sprintf("write %d %d \"w%d\"", i+1, fd, i+1))
				}
			}
		}
	}
	touch()
	last := s.tasks - 1
	for fd := 0; fd < 2*s.objs; fd++ {
		if s.holds[last]&(1<<fd) != 0 {
			lines = append(lines, fmt.Sprintf("close %d %d", last+1, fd))
		}
	}
	// The closes changed what the tables sharing pid n's hold.
	after := *s
	for i := 0; i < s.tasks; i++ {
		if s.table(i) == s.table(last) {
			after.holds[i] = 0
		}
	}
	saved := *s
	*s = after
	touch()
	*s = saved
	return lines
}

// check builds the shape, checkpoints and restarts it, compares the two
// worlds and runs the continuation on both; it returns what went wrong.
func (s *shape) check() error {
	w := s.build()
	for i, l := range w.Lines {
		if strings.Contains(l, "= E") || strings.Contains(l, "BLOCKED") {
			return fmt.Errorf("building the shape: line %d failed: %s\n%s", i+1, l, w.Script())
		}
	}
	k2, err := migrated(w)
	if err != nil {
		return err
	}
	restored := &World{K: k2}
	lines := append(append([]string{}, w.Lines...), "checkpoint 1")
	for _, l := range s.continuation() {
		a, b := w.Exec(l), restored.Exec(l)
		lines = append(lines, w.Lines[len(w.Lines)-1])
		if !a.Equal(b) {
			return fmt.Errorf("%s: %s on the original world, %s on the restored one\n%s", l, a, b, strings.Join(lines, "\n"))
		}
	}
	if err := equiv.Equal(w.K.View(), k2.View()); err != nil {
		return fmt.Errorf("after the continuation: %v\n%s", err, strings.Join(lines, "\n"))
	}
	return nil
}

// runShapes checks the shapes over GOMAXPROCS workers and reports the
// first failures.
func runShapes(t *testing.T, list []shape) {
	var (
		next, failed atomic.Int64
		mu           sync.Mutex
		first        []string
		wg           sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(list) || failed.Load() >= 5 {
					return
				}
				if err := list[i].check(); err != nil {
					failed.Add(1)
					mu.Lock()
					first = append(first, fmt.Sprintf("shape %d (%s): %v", i, list[i].String(), err))
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	for _, f := range first {
		t.Error(f)
	}
}

// TestExhaustivePipes: every shape of up to 3 tasks and 3 pipes (a sample
// of them without -exhaustive).
func TestExhaustivePipes(t *testing.T) {
	start := time.Now()
	list, all := classes(false, 3, 3, exhaustiveSample)
	if *exhaustive && (len(list) != 555344 || all != 4173449) {
		t.Errorf("%d shapes, %d before renamings; the enumeration changed (555344 and 4173449 before)", len(list), all)
	}
	enumerated := time.Since(start)
	runShapes(t, list)
	t.Logf("pipes: %d shapes before renamings are counted once, enumerated in %v; %d classes checked in %v",
		all, enumerated.Round(time.Millisecond), len(list), time.Since(start).Round(time.Millisecond))
}

// TestExhaustiveSockets: every shape of up to 3 tasks and 1 socket pair.
func TestExhaustiveSockets(t *testing.T) {
	start := time.Now()
	list, all := classes(true, 3, 1, exhaustiveSample)
	if *exhaustive && (len(list) != 18551 || all != 40907) {
		t.Errorf("%d shapes, %d before renamings; the enumeration changed (18551 and 40907 before)", len(list), all)
	}
	runShapes(t, list)
	t.Logf("socket pairs: %d shapes before renamings are counted once; %d classes checked in %v",
		all, len(list), time.Since(start).Round(time.Millisecond))
}

// TestShapeCounts pins the enumeration and the counting of classes at
// small bounds, against counts made independently (a brute-force script
// that canonicalised every shape by the same renamings): 2 tasks x 2
// pipes is CRIU's bound.
func TestShapeCounts(t *testing.T) {
	for _, tc := range []struct {
		sockets         bool
		tasks, objs     int
		all, canonicals int
	}{
		{false, 1, 1, 7, 7},
		{false, 1, 2, 43, 28},
		{false, 2, 2, 1017, 552},
		{false, 3, 1, 437, 389},
	} {
		all, canonicals := 0, 0
		shapes(tc.sockets, tc.tasks, tc.objs, func(s shape) {
			all++
			if s.canonicalForm().key() == s.key() {
				canonicals++
			}
		})
		assert.Equal(t, tc.all, all, "%d tasks, %d objects: shapes", tc.tasks, tc.objs)
		assert.Equal(t, tc.canonicals, canonicals, "%d tasks, %d objects: classes", tc.tasks, tc.objs)
	}
}

// Flag worlds: one task and one open file of each kind (regular file,
// directory, FIFO, pipe, socket pair), made with every combination of the
// flags that stay in a file's status flags, then given every combination
// of the flags F_SETFL changes (or none): every world open(2) and F_SETFL
// can make must checkpoint, restart as the same world and behave the same
// after (F_SETFL again, F_GETFL, a write and a read). This is what holds
// checkpoint to saving only what restart accepts: a directory opened with
// O_DIRECT, which restart refused, and a FIFO's O_ASYNC, which restart
// made clearable or not by accident, were such worlds (issue 13).
type flagWorld struct {
	kind  string // "regular", "directory", "fifo", "pipe", "socket"
	flags int    // open(2), pipe2(2) or socketpair(2) flags
	setfl int    // the F_SETFL argument, or -1 for none
}

// Open flag bits the flag worlds combine (O_SYNC includes O_DSYNC; the
// access mode is combined separately).
var flagBits = []int{vfs.O_APPEND, vfs.O_NONBLOCK, vfs.O_ASYNC, vfs.O_DIRECT, vfs.O_NOATIME, vfs.O_SYNC, vfs.O_DIRECTORY, vfs.O_TRUNC}

func subsets(bits []int) []int {
	out := []int{0}
	for _, b := range bits {
		for _, s := range out {
			out = append(out, s|b)
		}
	}
	return out
}

// flagWorlds returns every flag world.
func flagWorlds() []flagWorld {
	setfls := append([]int{-1}, subsets([]int{vfs.O_APPEND, vfs.O_NONBLOCK, vfs.O_ASYNC, vfs.O_DIRECT, vfs.O_NOATIME})...)
	var out []flagWorld
	add := func(kind string, flags []int) {
		for _, f := range flags {
			for _, a := range setfls {
				out = append(out, flagWorld{kind, f, a})
			}
		}
	}
	var open []int
	for _, f := range subsets(flagBits) {
		for acc := 0; acc < 4; acc++ {
			open = append(open, f|acc)
		}
	}
	add("regular", open)
	add("directory", open)
	add("fifo", open)
	add("pipe", subsets([]int{vfs.O_NONBLOCK, vfs.O_DIRECT, vfs.O_CLOEXEC}))
	add("socket", subsets([]int{vfs.O_NONBLOCK, vfs.O_CLOEXEC}))
	return out
}

// check builds the world; a world whose open or F_SETFL fails is still
// checked, as what the failure left.
func (f flagWorld) check() error {
	w := &World{K: kernel.New(kernel.Config{})}
	w.Exec("spawn 1 init")
	switch f.kind {
	case "regular":
		w.Exec("open 1 /f O_RDWR|O_CREAT 0644")
		w.Exec(`write 1 0 "contents"`)
		w.Exec(fmt.Sprintf("open 1 /f %#o", f.flags))
	case "directory":
		w.Exec("mkdir 1 /d 0755")
		w.Exec("open 1 /d O_RDONLY")
		w.Exec(fmt.Sprintf("open 1 /d %#o", f.flags))
	case "fifo":
		// A peer open for both, so that no open waits.
		w.Exec("mkfifo 1 /p 0644")
		w.Exec("open 1 /p O_RDWR")
		w.Exec(fmt.Sprintf("open 1 /p %#o", f.flags))
	case "pipe":
		w.Exec(fmt.Sprintf("pipe 1 %#o", f.flags))
	case "socket":
		w.Exec(fmt.Sprintf("socketpair 1 SOCK_STREAM %#o", f.flags))
	}
	if f.setfl >= 0 {
		w.Exec(fmt.Sprintf("fcntl 1 1 F_SETFL %#o", f.setfl))
	}
	k2, err := migrated(w)
	if err != nil {
		return err
	}
	restored := &World{K: k2}
	lines := append(append([]string{}, w.Lines...), "checkpoint 1")
	for fd := 0; fd < 2; fd++ {
		for _, l := range []string{
			"fcntl 1 %d F_GETFL", "fcntl 1 %d F_SETFL 0", "fcntl 1 %d F_GETFL", "fcntl 1 %d F_SETFL 0o60000",
			"fcntl 1 %d F_GETFL", "fcntl 1 %d F_SETFL 0o20000", "fcntl 1 %d F_SETFL 0", "fcntl 1 %d F_GETFL",
			`write 1 %d "x"`, "read 1 %d 16",
		} {
			l = fmt.Sprintf(l, fd)
			a, b := w.Exec(l), restored.Exec(l)
			lines = append(lines, w.Lines[len(w.Lines)-1])
			if !a.Equal(b) {
				return fmt.Errorf("%s: %s on the original world, %s on the restored one\n%s", l, a, b, strings.Join(lines, "\n"))
			}
		}
	}
	return nil
}

// TestExhaustiveFlags: every flag world (a sample without -exhaustive).
func TestExhaustiveFlags(t *testing.T) {
	start := time.Now()
	all := flagWorlds()
	list := all
	if !*exhaustive {
		list = nil
		for i := 0; i < len(all); i += len(all)/exhaustiveSample | 1 {
			list = append(list, all[i])
		}
	}
	var (
		next, failed atomic.Int64
		mu           sync.Mutex
		wg           sync.WaitGroup
	)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < len(list) && failed.Load() < 5; i = int(next.Add(1)) - 1 {
				if err := list[i].check(); err != nil {
					failed.Add(1)
					mu.Lock()
					t.Errorf("%+v: %v", list[i], err)
					mu.Unlock()
				}
			}
		}()
	}
	wg.Wait()
	t.Logf("flag worlds: %d in all; %d checked in %v", len(all), len(list), time.Since(start).Round(time.Millisecond))
}

// migrated checkpoints w's container, restarts it on a copy of its disk,
// and returns the restored kernel once it is consistent and equivalent to
// w's; an error holds w's script, to replay.
func migrated(w *World) (*kernel.Kernel, error) {
	img, err := save(w.K, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("checkpoint: %v\n%s", err, w.Script())
	}
	k2, _, err := engine(nil).RestartCopy(w.K, img, 0)
	if err != nil {
		return nil, fmt.Errorf("restart: %v\n%s", err, w.Script())
	}
	if err := k2.Check(); err != nil {
		return nil, fmt.Errorf("the restored kernel is inconsistent: %v\n%s", err, w.Script())
	}
	if err := equiv.Equal(w.K.View(), k2.View()); err != nil {
		return nil, fmt.Errorf("%v\n%s", err, w.Script())
	}
	return k2, nil
}
