// Migrate moves a running container from one kernel to another through an
// io.Pipe: no image file, no buffer holding the whole image.
//
// Checkpoint and restart both stream: checkpoint writes the records in
// order and never seeks back, restart reads them in order and validates
// each before using it. So one goroutine can checkpoint the frozen container
// of the source kernel into the pipe's writer while the other restarts it in
// the destination kernel from the pipe's reader. The destination has a copy
// of the source's disk (kernel.Config{DiskFrom: ...}), as two machines on
// shared storage would. Restart enters the container into the destination
// only after the tail's checksum matched, so a transfer cut short leaves
// nothing there. Afterwards equiv.Equal finds the two worlds equivalent, and
// the same system calls give the same results on both: the restored
// container carries on where the original stood.
//
//	go run ./examples/migrate
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The container: a server that has read the first record of its state file
// and sent a request to its worker through a pipe.
const (
	server   = 1
	worker   = 2
	path     = "/state"
	records  = "record 1\nrecord 2\n"
	request  = "request: compact the state"
	firstLen = len("record 1\n")
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "migrate:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run streams the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// World is the container and its descriptors.
type World struct {
	K *kernel.Kernel
	// StateFd is the server's state file; ReadFd and WriteFd the pipe's ends
	// (the worker reads, the server writes).
	StateFd, ReadFd, WriteFd int
}

// build makes the container on a new kernel.
func build() (*World, error) {
	k := kernel.New(kernel.Config{})
	if err := k.WriteFile(path, []byte(records), 0o644); err != nil {
		return nil, err
	}
	if _, err := k.Spawn(server, "server"); err != nil {
		return nil, err
	}
	w := &World{K: k}
	var err error
	if w.StateFd, err = k.Open(server, path, vfs.O_RDWR, 0); err != nil {
		return nil, err
	}
	if _, err := k.Read(server, w.StateFd, firstLen); err != nil {
		return nil, err
	}
	fds, err := k.Pipe2(server, 0)
	if err != nil {
		return nil, err
	}
	w.ReadFd, w.WriteFd = fds[0], fds[1]
	if _, err := k.Write(server, w.WriteFd, []byte(request)); err != nil {
		return nil, err
	}
	if _, err := k.Clone(server, worker, 0, "worker"); err != nil {
		return nil, err
	}
	return w, nil
}

// countingReader counts what passes through it.
type countingReader struct {
	r            io.Reader
	bytes, reads int
}

// Read reads from the underlying reader, counting.
func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.bytes += n
	c.reads++
	return n, err
}

// Transfer is what a migration moved.
type Transfer struct {
	// Dest is the destination kernel.
	Dest *kernel.Kernel
	// Bytes is the size of the image that went through the pipe, in Reads
	// reads by restart.
	Bytes, Reads int
	// Sent is checkpoint's error, Received restart's.
	Sent, Received error
}

// migrate checkpoints the container rooted at pid in src into an io.Pipe
// and restarts it from the pipe in a new kernel on a copy of src's disk.
// The container stays frozen in src until the transfer is over. When cut
// is above 0 the connection drops after cut bytes: restart sees the end of
// its input there. The error is the transfer's, checkpoint's or restart's.
//
// ckpt.Engine.Migrate does the same in three lines, but through an image
// in memory; this spells out freeze, checkpoint, restart and thaw so that
// the image streams.
func migrate(src *kernel.Kernel, pid, cut int) (*Transfer, error) {
	if err := src.Freeze(pid); err != nil {
		return nil, err
	}
	defer src.Thaw(pid)
	t := &Transfer{Dest: kernel.New(kernel.Config{DiskFrom: src})}

	pr, pw := io.Pipe()
	// Runs before the Thaw above, even if restart panics: checkpoint holds
	// src's lock while it writes, so it must be unblocked first.
	defer pr.CloseWithError(errors.New("restart stopped reading"))
	sent := make(chan error, 1)
	go func() {
		_, err := (&ckpt.Engine{Kernel: src, Clock: clock}).Checkpoint(pid, pw, 0)
		// Closing with the error ends restart's read: at the end of the
		// image, or at once with the cause if checkpoint failed.
		pw.CloseWithError(err)
		sent <- err
	}()
	var in io.Reader = pr
	if cut > 0 {
		in = io.LimitReader(pr, int64(cut))
	}
	counted := &countingReader{r: in}
	_, t.Received = (&ckpt.Engine{Kernel: t.Dest, Clock: clock}).Restart(counted, 0)
	// Restart may stop before the end (a cut, a bad record): closing the
	// reader makes checkpoint's next write fail rather than wait forever.
	pr.CloseWithError(errors.New("restart stopped reading"))
	t.Sent = <-sent
	t.Bytes, t.Reads = counted.bytes, counted.reads
	return t, errors.Join(t.Sent, t.Received)
}

// call is one system call, named as a trace would show it, that can run
// on either kernel and returns its result as text.
type call struct {
	name string
	do   func(k *kernel.Kernel) string
}

// read is read(2) of up to 64 bytes, its result quoted.
func read(pid, fd int) call {
	return call{fmt.Sprintf("read(pid %d, fd %d, 64)", pid, fd), func(k *kernel.Kernel) string {
		b, err := k.Read(pid, fd, 64)
		if err != nil {
			return err.Error()
		}
		return fmt.Sprintf("%q", b)
	}}
}

// write is write(2), its result the count written.
func write(pid, fd int, data string) call {
	return call{fmt.Sprintf("write(pid %d, fd %d, %q)", pid, fd, data), func(k *kernel.Kernel) string {
		n, err := k.Write(pid, fd, []byte(data))
		if err != nil {
			return err.Error()
		}
		return fmt.Sprint(n)
	}}
}

// Step is one system call run on both worlds, with both results.
type Step struct {
	Call         string
	Source, Dest string
}

// lockstep runs the same system calls on the source and the destination,
// in the same order: the worker takes the request from the pipe, the
// server reads on in its file, appends to it, and answers.
func lockstep(w *World, dst *kernel.Kernel) []Step {
	var steps []Step
	for _, c := range []call{
		read(worker, w.ReadFd),
		read(server, w.StateFd),
		write(server, w.StateFd, "record 3\n"),
		write(server, w.WriteFd, "done"),
		read(worker, w.ReadFd),
	} {
		steps = append(steps, Step{Call: c.name, Source: c.do(w.K), Dest: c.do(dst)})
	}
	return steps
}

// run migrates the container, compares the two worlds, runs them on, and
// cuts a second transfer short.
func run(w io.Writer) error {
	world, err := build()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Source kernel: the server (pid %d) has read %d bytes of %s (fd %d) and sent\n",
		server, firstLen, path, world.StateFd)
	fmt.Fprintf(w, "%q to its worker (pid %d) through a pipe (fd %d to fd %d).\n\n",
		request, worker, world.WriteFd, world.ReadFd)

	t, err := migrate(world.K, server, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Checkpoint in one goroutine, restart in the other, joined by an io.Pipe:\n")
	fmt.Fprintf(w, "%d bytes of image went through in %d reads, and no file held them.\n\n", t.Bytes, t.Reads)

	if err := equiv.Equal(world.K.View(), t.Dest.View()); err != nil {
		return fmt.Errorf("the destination differs from the source: %w", err)
	}
	if err := t.Dest.Check(); err != nil {
		return err
	}
	fmt.Fprintf(w, "equiv.Equal: the two worlds are equivalent (%d tasks; every descriptor, file,\n", len(t.Dest.View().Tasks))
	fmt.Fprintf(w, "pipe and reference count), and the destination passes its consistency check.\n\n")

	fmt.Fprintf(w, "Both carry on. The same calls on each:\n\n")
	fmt.Fprintf(w, "    %-34s %-30s %s\n", "call", "source", "destination")
	for _, s := range lockstep(world, t.Dest) {
		fmt.Fprintf(w, "    %-34s %-30s %s\n", s.Call, s.Source, s.Dest)
		if s.Source != s.Dest {
			return fmt.Errorf("%s: the source gave %s, the destination %s", s.Call, s.Source, s.Dest)
		}
	}

	// The same migration, with the connection dropped half-way.
	before := world.K.Registry().Snapshot()
	cut, err := migrate(world.K, server, t.Bytes/2)
	if cut == nil || cut.Received == nil || cut.Sent == nil {
		return fmt.Errorf("a transfer cut half-way did not fail on both sides: %v", err)
	}
	if diff := before.Diff(world.K.Registry().Snapshot()); diff != "" {
		return fmt.Errorf("the failed checkpoint changed the source:\n%s", diff)
	}
	fmt.Fprintf(w, "\nThe connection dropped after %d bytes: restart fails and the destination is\n", cut.Bytes)
	fmt.Fprintf(w, "left with %d tasks; checkpoint fails too, with the source unchanged.\n", len(cut.Dest.View().Tasks))
	fmt.Fprintf(w, "    %v\n    %v\n", cut.Received, cut.Sent)
	return nil
}
