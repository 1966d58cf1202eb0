package graph_test

import (
	"strings"

	"pgregory.net/rapid"

	"ckptsim/sim/kernel"
	"ckptsim/sim/vfs"
)

// randomWorld (a copy of package inspect's, as test files cannot share
// helpers across packages) builds a small random world under pid 1 through
// system calls: files, dups, pipes with bytes in them, forks and clones sharing tables
// and fs states, unlinked files, a FIFO, zombies, registers. Calls that fail
// (a closed descriptor, say) change nothing and are fine. Only childless
// tasks exit, so that the world stays one container.
func randomWorld(t *rapid.T) *kernel.Kernel {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(1, "init"); err != nil {
		t.Fatal(err)
	}
	live := []int{1}
	next := 2
	paths := []string{"/a", "/b", "/q"}
	fd := func() int { return rapid.IntRange(0, 7).Draw(t, "fd") }
	data := func() []byte { return rapid.SliceOfN(rapid.Byte(), 1, 300).Draw(t, "data") }
	for range rapid.IntRange(0, 30).Draw(t, "steps") {
		pid := rapid.SampledFrom(live).Draw(t, "pid")
		path := rapid.SampledFrom(paths).Draw(t, "path")
		switch rapid.IntRange(0, 11).Draw(t, "call") {
		case 0:
			flags := rapid.SampledFrom([]int{vfs.O_RDONLY, vfs.O_WRONLY, vfs.O_RDWR, vfs.O_RDWR | vfs.O_APPEND}).Draw(t, "flags")
			k.Open(pid, path, flags|vfs.O_CREAT, 0640)
		case 1:
			k.Write(pid, fd(), data())
		case 2:
			k.Pipe2(pid, rapid.SampledFrom([]int{0, vfs.O_NONBLOCK, vfs.O_CLOEXEC, vfs.O_DIRECT}).Draw(t, "pipe flags"))
		case 3:
			k.Dup(pid, fd())
		case 4:
			k.Close(pid, fd())
		case 5:
			if _, err := k.Fork(pid, next); err == nil {
				live = append(live, next)
			}
			next++
		case 6:
			flags := rapid.SampledFrom([]int{0, kernel.CLONE_FILES, kernel.CLONE_FS, kernel.CLONE_FILES | kernel.CLONE_FS}).Draw(t, "clone flags")
			// No NUL in the name: the kernel keeps one, but an image
			// cannot (its comm is NUL-padded), so the two graphs would
			// rightly differ.
			comm := strings.ReplaceAll(rapid.StringN(0, 20, -1).Draw(t, "comm"), "\x00", "0")
			if _, err := k.Clone(pid, next, flags, comm); err == nil {
				live = append(live, next)
			}
			next++
		case 7:
			k.Unlink(pid, path)
		case 8:
			if pid != 1 && len(k.View().Task(pid).Children) == 0 {
				k.Exit(pid, rapid.IntRange(0, 255).Draw(t, "code"))
				for i, p := range live {
					if p == pid {
						live = append(live[:i], live[i+1:]...)
						break
					}
				}
			}
		case 9:
			k.Mkfifo(pid, "/q", 0600)
			k.Open(pid, "/q", vfs.O_RDWR, 0)
		case 10:
			k.Lseek(pid, fd(), rapid.Int64Range(0, 100).Draw(t, "offset"), vfs.SEEK_SET)
		case 11:
			if regs, err := k.Regs(pid); err == nil {
				regs.Regs.Rax = rapid.Uint64().Draw(t, "rax")
				k.SetRegs(pid, regs)
			}
		}
	}
	return k
}
