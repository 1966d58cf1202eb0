// Package scaleworld builds the worlds of the scaling measurements (issue
// 16): one shape of container at a chosen number of objects, from a
// thousand to a million, through the kernel's system calls, and walks
// them plainly, as the baseline a checkpoint's cost is set beside. The
// benchmarks of package ckpt and the migration measure of
// internal/rssmigrate share it.
package scaleworld

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Shapes are the shapes of world, in the order the measurements report
// them:
//
//   - table: one task with one big table of descriptors, one in five a
//     dup of the one before, the others each a file of its own in /;
//   - shared: tasks that share one file table (and fs state) of three
//     descriptors, cloned from the first;
//   - own: tasks forked from the first, each with a table of its own over
//     the same three files;
//   - pipes: one task holding both ends of many pipes, eight bytes in
//     flight in each;
//   - files: one task with one descriptor on each of many files, in
//     directories of a thousand;
//   - chain: a chain of tasks, each forked by the one before, each with a
//     table and fs state of its own.
var Shapes = []string{"table", "shared", "own", "pipes", "files", "chain"}

// Config is the kernel configuration the worlds need: a million
// descriptors in one table.
var Config = kernel.Config{NoFile: 1 << 20, NrOpen: 1 << 20}

// Build returns a kernel with a container of shape, rooted at pid 1 and
// frozen, of about n objects, and how many objects it holds: tasks, file
// tables, fs states, descriptors, open files and pipes, each counted once.
func Build(shape string, n int) (*kernel.Kernel, int, error) {
	k := kernel.New(Config)
	b := builder{k: k}
	b.spawn()
	objects := 2 // pid 1's file table and fs state
	switch shape {
	case "table":
		fds := max(n*5/9, 1) // 5 fds to 4 files: 9 objects
		for fd := range fds {
			if fd%5 == 4 {
				b.dup(fd - 1)
			} else {
				b.open(fmt.Sprintf("/f%d", fd))
				objects++
			}
			objects++
		}
	case "shared":
		for i := range 3 {
			b.open(fmt.Sprintf("/f%d", i))
		}
		objects += 6
		for pid := 2; objects < n; pid++ {
			b.clone(pid, kernel.CLONE_FILES|kernel.CLONE_FS)
			objects++
		}
	case "own":
		for i := range 3 {
			b.open(fmt.Sprintf("/f%d", i))
		}
		objects += 6
		for pid := 2; objects < n; pid++ {
			b.fork(1, pid)
			objects += 6 // the task, its table and fs state, 3 descriptors
		}
	case "pipes":
		for objects < n {
			b.pipe()
			objects += 5 // 2 descriptors, 2 files, the pipe
		}
	case "files":
		for i := 0; objects < n; i++ {
			if i%1000 == 0 {
				b.mkdir(fmt.Sprintf("/d%d", i/1000))
			}
			b.open(fmt.Sprintf("/d%d/f%d", i/1000, i))
			objects += 2
		}
	case "chain":
		for pid := 2; objects < n; pid++ {
			b.fork(pid-1, pid)
			objects += 3 // the task, its table and fs state
		}
	default:
		return nil, 0, fmt.Errorf("scaleworld: unknown shape %q (%s)", shape, strings.Join(Shapes, ", "))
	}
	if b.err == nil {
		b.err = k.Freeze(1)
	}
	if b.err != nil {
		return nil, 0, fmt.Errorf("scaleworld: %s of %d: %w", shape, n, b.err)
	}
	return k, objects, nil
}

// builder makes a world's system calls as pid 1 and keeps the first error.
type builder struct {
	k   *kernel.Kernel
	err error
}

func (b *builder) spawn() {
	if b.err == nil {
		_, b.err = b.k.Spawn(1, "init")
	}
}

func (b *builder) open(path string) {
	if b.err == nil {
		_, b.err = b.k.Open(1, path, vfs.O_RDWR|vfs.O_CREAT, 0o644)
	}
}

func (b *builder) dup(fd int) {
	if b.err == nil {
		_, b.err = b.k.Dup(1, fd)
	}
}

func (b *builder) mkdir(path string) {
	if b.err == nil {
		b.err = b.k.Mkdir(1, path, 0o755)
	}
}

func (b *builder) clone(pid, flags int) {
	if b.err == nil {
		_, b.err = b.k.Clone(1, pid, flags, "worker")
	}
}

func (b *builder) fork(parent, pid int) {
	if b.err == nil {
		_, b.err = b.k.Fork(parent, pid)
	}
}

var inFlight = []byte("in pipe!")

func (b *builder) pipe() {
	if b.err != nil {
		return
	}
	var fds [2]int
	if fds, b.err = b.k.Pipe2(1, 0); b.err == nil {
		_, b.err = b.k.Write(1, fds[1], inFlight)
	}
}

// Walk visits what a checkpoint of the container at pid 1 visits, plainly:
// every task, its registers, file table and fs state, every descriptor's
// file with its dentry and inode or pipe, shared objects once per
// reference, with no table of objects and nothing written. It returns a
// sum of what it read, so that none of it is optimised away.
func Walk(k *kernel.Kernel) int64 {
	var sum int64
	k.Locked(func(core *kernel.Core) error {
		for _, t := range core.Subtree(core.Task(1)) {
			regs := t.Regs()
			sum += int64(t.Pid()) + int64(len(t.Comm())) + int64(regs.Regs.Rip)
			sum += int64(len(t.FS().Root().Name()))
			files := t.Files()
			for _, fd := range files.Fds() {
				f, _ := files.File(fd)
				sum += f.Pos() + int64(f.Flags())
				if d := f.Dentry(); d != nil {
					sum += d.Inode().Size()
				}
				if p := f.Pipe(); p != nil {
					sum += int64(p.Len())
				}
			}
		}
		return nil
	})
	return sum
}

// Sizes returns the sizes of the scaling measurements: 1k and 10k, and up
// to CKPTSIM_SCALE objects in steps of ten when it is set (a million at
// most that this machine is known to hold, though any value is taken).
func Sizes() ([]int, error) {
	top := 10000
	if s := os.Getenv("CKPTSIM_SCALE"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1000 {
			return nil, fmt.Errorf("CKPTSIM_SCALE=%q: want a number of objects, at least 1000", s)
		}
		top = n
	}
	var out []int
	for n := 1000; n <= top; n *= 10 {
		out = append(out, n)
	}
	if out[len(out)-1] != top {
		out = append(out, top)
	}
	return out, nil
}

// Label names a size for a metric: 1k, 10k, 1M.
func Label(n int) string {
	switch {
	case n >= 1000000 && n%1000000 == 0:
		return fmt.Sprintf("%dM", n/1000000)
	case n >= 1000 && n%1000 == 0:
		return fmt.Sprintf("%dk", n/1000)
	}
	return strconv.Itoa(n)
}
