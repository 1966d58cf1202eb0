package kernel_test

import (
	"errors"
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// System calls take the calling task's pid first and return Linux's
// results: here a pipe whose bytes the forked child reads, then BLOCKED,
// since the parent still holds a write end.
func Example() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	fds, _ := k.Pipe2(1, 0)
	n, _ := k.Write(1, fds[1], []byte("hello"))
	k.Fork(1, 2)
	data, _ := k.Read(2, fds[0], 16)
	fmt.Println(fds, n, string(data))

	_, err := k.Read(2, fds[0], 16)
	fmt.Println(errors.Is(err, errno.BLOCKED))
	fmt.Println(err)
	// Output:
	// [0 1] 5 hello
	// true
	// pid 2: read(0, 16): BLOCKED (the call would block)
}

// Errors are errno values wrapped with the task and the call; compare them
// with errors.Is.
func ExampleKernel_Open() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	_, err := k.Open(1, "/missing", vfs.O_RDONLY, 0)
	fmt.Println(errors.Is(err, errno.ENOENT))
	fmt.Println(err)
	fd, _ := k.Open(1, "/notes", vfs.O_RDWR|vfs.O_CREAT, 0o644)
	fmt.Println(fd)
	// Output:
	// true
	// pid 1: open("/missing", O_RDONLY, 0): ENOENT (no such file or directory)
	// 0
}

// View is a read-only snapshot of the world, for tools: tasks, tables,
// files, pipes and reference counts. Check recounts every reference.
func ExampleKernel_View() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	k.Clone(1, 2, kernel.CLONE_FILES, "worker")
	k.Pipe2(2, 0)
	v := k.View()
	for _, t := range v.Tasks {
		table := v.FileTables[t.FileTable]
		fmt.Printf("pid %d %s: %d fds, table shared by %d tasks\n", t.Pid, t.Comm, len(table.Fds), table.Refs)
	}
	fmt.Println(len(v.Pipes), "pipe;", "check:", k.Check())
	// Output:
	// pid 1 init: 2 fds, table shared by 2 tasks
	// pid 2 worker: 2 fds, table shared by 2 tasks
	// 1 pipe; check: <nil>
}
