package ckpt_test

import (
	"bytes"
	"errors"
	"fmt"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// A container is checkpointed frozen into a stream of records, and
// restarted in a fresh kernel on a copy of the disk: the same pids, the
// same fds, the bytes still in flight in the pipe.
func Example() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	fds, _ := k.Pipe2(1, 0)
	k.Write(1, fds[1], []byte("in flight"))
	k.Fork(1, 2)

	k.Freeze(1) // the container must be frozen
	var img bytes.Buffer
	_, err := ckpt.New(k).Checkpoint(1, &img, 0)
	k.Thaw(1)
	fmt.Println("checkpoint:", err)

	k2 := kernel.New(kernel.Config{DiskFrom: k}) // a second machine, the same disk
	root, err := ckpt.New(k2).Restart(&img, 0)
	fmt.Println("restart: root pid", root, err)
	data, _ := k2.Read(2, fds[0], 64)
	fmt.Printf("pid 2 reads %q\n", data)
	// Output:
	// checkpoint: <nil>
	// restart: root pid 1 <nil>
	// pid 2 reads "in flight"
}

// Migrate is that in one call: freeze, checkpoint, thaw, and restart on a
// copy of the disk. A fixed Clock makes the image the same bytes each time.
func ExampleEngine_Migrate() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	fd, _ := k.Open(1, "/log", vfs.O_RDWR|vfs.O_CREAT, 0o644)
	k.Write(1, fd, []byte("one line\n"))

	e := &ckpt.Engine{Kernel: k, Clock: func() time.Time { return time.Unix(1700000000, 0) }}
	m, err := e.Migrate(1, 0, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	pos, _ := m.Kernel.Lseek(m.Root, fd, 0, vfs.SEEK_CUR) // the position came along
	fmt.Printf("a %d-byte image; root pid %d; position %d\n", len(m.Image), m.Root, pos)
	// Output:
	// a 1552-byte image; root pid 1; position 9
}

// Restart validates everything before it uses it; a refusal names the
// errno and, for a malformed image, the record and its offset, and leaves
// nothing behind.
func ExampleEngine_Restart() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	img, _ := ckpt.New(k).Snapshot(1, 0)

	k2 := kernel.New(kernel.Config{})
	_, err := ckpt.New(k2).Restart(bytes.NewReader(img[:500]), 0) // cut short
	fmt.Println(errors.Is(err, errno.EINVAL))
	fmt.Println(err)
	fmt.Println(len(k2.View().Tasks), "tasks")
	// Output:
	// true
	// restart: pid 1: image offset 496: image cut short: 4 of 8 bytes
	// 0 tasks
}
