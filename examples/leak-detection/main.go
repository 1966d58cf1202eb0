// Leak-detection shows why a checkpoint refuses a container that shares an
// object with the world outside it, and what CHECKPOINT_SUBTREE does instead.
//
// A host task creates a pipe and opens a log file, then forks the
// container's root, which keeps the read end and the log while the host
// keeps the write end and the log. The pipe and the log's open file are then
// referenced from outside the container: an image of the container could not
// hold the host's side, and on restart the pipe would miss its writer. Before writing
// anything, checkpoint runs a collect pass: it counts every reference to
// each object from inside the container and compares with the object's
// reference count. Here the pipe and the file have one reference more than
// the container accounts for, and checkpoint refuses with EBUSY, naming each
// by type and objref. A refused checkpoint changes nothing: the kernel's registry of
// live objects, with every reference count, is the same after it.
// With CHECKPOINT_SUBTREE the collect pass is skipped and the container is
// saved; restored alone, its pipe has no writer left, so a reader that would
// have waited for the host now sees end of file.
//
//	go run ./examples/leak-detection
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The tasks: the host, outside the container, and the container of the
// root and its worker.
const (
	host   = 1
	root   = 2
	worker = 3
)

// message is what the host has written into the pipe; logPath is the file
// both sides write their log to.
const (
	message = "from the host"
	logPath = "/log"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "leak-detection:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// World is the host and the container, and the descriptors of the objects
// they share.
type World struct {
	K      *kernel.Kernel
	ReadFd int // the container's read end, in both root and worker
	LogFd  int // the log, in all three tasks
}

// build makes the host, and the container that shares a pipe and a file
// with it.
func build() (*World, error) {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(host, "host"); err != nil {
		return nil, err
	}
	fds, err := k.Pipe2(host, 0)
	if err != nil {
		return nil, err
	}
	if _, err := k.Write(host, fds[1], []byte(message)); err != nil {
		return nil, err
	}
	logFd, err := k.Open(host, logPath, vfs.O_WRONLY|vfs.O_CREAT|vfs.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	if _, err := k.Clone(host, root, 0, "root"); err != nil {
		return nil, err
	}
	// The host keeps the write end, the container the read end; both keep
	// the log.
	if err := k.Close(host, fds[0]); err != nil {
		return nil, err
	}
	if err := k.Close(root, fds[1]); err != nil {
		return nil, err
	}
	if _, err := k.Clone(root, worker, 0, "worker"); err != nil {
		return nil, err
	}
	return &World{K: k, ReadFd: fds[0], LogFd: logFd}, nil
}

// Attempt is one checkpoint of the container, and what it did.
type Attempt struct {
	Image []byte
	Err   error
	// Changed is how the registry of live objects differs after the
	// checkpoint from before it: "" when nothing changed.
	Changed string
}

// checkpoint freezes the container, checkpoints it with flags, thaws it
// (Engine.Snapshot), and compares the kernel's registry before and after.
// A failed freeze or thaw is the error; a refused checkpoint is the
// Attempt's.
func checkpoint(k *kernel.Kernel, flags int) (*Attempt, error) {
	before := k.Registry().Snapshot()
	img, err := (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(root, flags)
	if err != nil && !errors.As(err, new(*ckpt.Error)) {
		return nil, err
	}
	return &Attempt{Image: img, Err: err, Changed: before.Diff(k.Registry().Snapshot())}, nil
}

// shown returns the line inspect.Show prints for the OBJREF record that
// introduces objref, or "".
func shown(img []byte, objref int32) string {
	rep, _ := inspect.Inspect(bytes.NewReader(img)) // the records before any fault are enough
	var text bytes.Buffer
	rep.WriteText(&text) // a bytes.Buffer does not fail
	lines := strings.Split(text.String(), "\n")
	for _, r := range rep.Records {
		if r.Type.String() == "OBJREF" && r.Field("Objref").Int() == int64(objref) {
			return strings.TrimSpace(lines[1+r.Index]) // line 0 is the column header
		}
	}
	return ""
}

// run tries the checkpoint without and with CHECKPOINT_SUBTREE, and tells
// what each did.
func run(w io.Writer) error {
	world, err := build()
	if err != nil {
		return err
	}
	k := world.K
	live := k.Registry().Snapshot()
	fmt.Fprintf(w, "The host (pid %d) writes %q into a pipe and keeps its write end. The\n", host, message)
	fmt.Fprintf(w, "container (root pid %d, worker pid %d) holds the read end, fd %d. All three\n", root, worker, world.ReadFd)
	fmt.Fprintf(w, "tasks share the open file of %s, fd %d. The kernel has %d live objects.\n\n", logPath, world.LogFd, len(live))

	refused, err := checkpoint(k, 0)
	if err != nil {
		return err
	}
	var leaks *objhash.LeakError
	if !errors.Is(refused.Err, errno.EBUSY) || !errors.As(refused.Err, &leaks) {
		return fmt.Errorf("checkpoint of the container gave %v, not a leak (EBUSY)", refused.Err)
	}
	fmt.Fprintf(w, "checkpoint(pid %d) is refused, EBUSY:\n    %v\n", root, refused.Err)
	fmt.Fprintf(w, "The leaks, one per object:\n")
	for _, l := range leaks.Leaks {
		fmt.Fprintf(w, "    %-6s objref %d: %d references; %d counted inside the container, %d the object\n",
			l.Name, l.Objref, l.Users, l.Counted, l.Users-l.Counted-l.Outside())
		fmt.Fprintf(w, "    %-6s hash's own, so %d from outside.\n", "", l.Outside())
	}
	if refused.Changed != "" {
		return fmt.Errorf("the refused checkpoint changed the registry:\n%s", refused.Changed)
	}
	if err := k.Check(); err != nil {
		return err
	}
	fmt.Fprintf(w, "After the refusal the registry is unchanged: the same %d live objects with the\n", len(k.Registry().Snapshot()))
	fmt.Fprintf(w, "same reference counts, and the kernel's consistency check passes.\n")
	rep, _ := inspect.Inspect(bytes.NewReader(refused.Image))
	fmt.Fprintf(w, "The %d bytes written hold %d records, the last an ERROR record saying why;\n",
		len(refused.Image), len(rep.Records))
	_, _, err = (&ckpt.Engine{}).RestartCopy(k, refused.Image, 0)
	if !errors.Is(err, errno.EINVAL) {
		return fmt.Errorf("restart of a refused checkpoint's image gave %v, not EINVAL", err)
	}
	fmt.Fprintf(w, "restart refuses it:\n    %v\n\n", err)

	saved, err := checkpoint(k, ckpt.CHECKPOINT_SUBTREE)
	if err != nil {
		return err
	}
	if saved.Err != nil {
		return saved.Err
	}
	fmt.Fprintf(w, "With CHECKPOINT_SUBTREE there is no collect pass and the container is saved,\n")
	fmt.Fprintf(w, "%d bytes. Its objects are numbered as the collect pass numbered them:\n", len(saved.Image))
	for _, l := range leaks.Leaks {
		fmt.Fprintf(w, "    %s\n", shown(saved.Image, l.Objref))
	}

	k2, _, err := (&ckpt.Engine{}).RestartCopy(k, saved.Image, 0)
	if err != nil {
		return err
	}
	first, err := k2.Read(worker, world.ReadFd, 64)
	if err != nil {
		return err
	}
	second, err := k2.Read(worker, world.ReadFd, 64)
	if err != nil || len(second) != 0 {
		return fmt.Errorf("the restored pipe has no writer: want end of file, got %q, %v", second, err)
	}
	fmt.Fprintf(w, "Restored in a new kernel, the worker reads %q, then %q: end of file,\n", first, second)
	fmt.Fprintf(w, "because the pipe's writer stayed behind with the host. In the original world\n")
	if first, err = k.Read(worker, world.ReadFd, 64); err != nil {
		return err
	}
	if _, err = k.Read(worker, world.ReadFd, 64); !errors.Is(err, errno.BLOCKED) {
		return fmt.Errorf("the original pipe has a writer: want BLOCKED, got %v", err)
	}
	fmt.Fprintf(w, "the worker reads %q, then blocks: the host may still write.\n", first)
	return nil
}
