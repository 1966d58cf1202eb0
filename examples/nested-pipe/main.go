// Nested-pipe follows one pipe through checkpoint and restart: nested
// sharing, where two shared objects (the pipe's read and write ends, two
// open files) share a third (the pipe inode and the bytes in it).
//
// A producer writes into a pipe and forks a consumer; the producer keeps
// only the write end, the consumer only the read end. At checkpoint the
// first end met writes its FILE record, then the pipe's own OBJREF, PIPE
// and PIPE_BUF records: the bytes in flight are saved once, with it. The
// other end's FILE record names the pipe by objref alone. At restart,
// restoring the first end creates the pipe, which yields both ends at once:
// the engine keeps the one it was asked for and parks the other in the
// object hash under the pipe's objref, where the second end's record finds
// it. The restored consumer then reads the bytes in flight, and what the
// restored producer writes next reaches it: the two ends share one pipe.
//
//	go run ./examples/nested-pipe
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// The world's tasks, and what goes through the pipe.
const (
	producer = 1
	consumer = 2
	inFlight = "bytes in flight, written before the checkpoint"
	later    = "written after the restart"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "nested-pipe:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// World is the producer and consumer, and where their pipe ends are.
type World struct {
	K *kernel.Kernel
	// ReadFd is the consumer's read end, WriteFd the producer's write end.
	ReadFd, WriteFd int
}

// build makes the world: a pipe with bytes in it, each end held by one
// task only.
func build() (*World, error) {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(producer, "producer"); err != nil {
		return nil, err
	}
	fds, err := k.Pipe2(producer, 0)
	if err != nil {
		return nil, err
	}
	w := &World{K: k, ReadFd: fds[0], WriteFd: fds[1]}
	if _, err := k.Write(producer, w.WriteFd, []byte(inFlight)); err != nil {
		return nil, err
	}
	if _, err := k.Clone(producer, consumer, 0, "consumer"); err != nil {
		return nil, err
	}
	// After fork both tasks hold both ends; each closes the one it does not
	// use, as a shell does around a pipeline.
	if err := k.Close(producer, w.ReadFd); err != nil {
		return nil, err
	}
	if err := k.Close(consumer, w.WriteFd); err != nil {
		return nil, err
	}
	return w, nil
}

// checkpoint saves the world, rooted at the producer, frozen for the time
// of the checkpoint.
func checkpoint(k *kernel.Kernel) ([]byte, error) {
	return (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(producer, 0)
}

// restart rebuilds the world in a fresh kernel on a copy of k's disk, and
// returns the engine's "objects" debug events on the way.
func restart(k *kernel.Kernel, img []byte) (*kernel.Kernel, []Event, error) {
	var events []Event
	k2, _, err := (&ckpt.Engine{Clock: clock, Log: slog.New(objectEvents{&events})}).RestartCopy(k, img, 0)
	return k2, events, err
}

// Event is one debug event of area "objects": the engine met an object
// for the first time ("first encounter") or again ("reference").
type Event struct {
	Msg, Type, Objref string
}

// String renders the event as "first encounter: pipe objref 3".
func (e Event) String() string { return e.Msg + ": " + e.Type + " objref " + e.Objref }

// objectEvents is a slog.Handler that keeps the engine's events of area
// "objects". The engine logs every attribute with each event (it never
// calls Logger.With), so WithAttrs and WithGroup have nothing to keep.
type objectEvents struct{ events *[]Event }

// Enabled takes every level: the engine logs at debug level only.
func (h objectEvents) Enabled(context.Context, slog.Level) bool { return true }

// Handle keeps an event of area "objects".
func (h objectEvents) Handle(_ context.Context, r slog.Record) error {
	attrs := map[string]string{}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.String()
		return true
	})
	if attrs["area"] == "objects" {
		*h.events = append(*h.events, Event{r.Message, attrs["type"], attrs["objref"]})
	}
	return nil
}

// WithAttrs and WithGroup return the handler itself (see objectEvents).
func (h objectEvents) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h objectEvents) WithGroup(string) slog.Handler      { return h }

// pipeRecords returns the indexes of the records about the pipe: for each
// FILE record of a pipe end, the OBJREF record before it and everything up
// to the FD record that installs it (the pipe's own records, on the first
// end). Pipe ends are the FILE records with a Pipe objref.
func pipeRecords(rep *inspect.Report) [][]int {
	var groups [][]int
	for i, r := range rep.Records {
		if r.Type.String() != "FILE" || r.Field("Pipe").Int() == 0 {
			continue
		}
		var g []int
		for j := i - 1; j < len(rep.Records); j++ {
			g = append(g, j)
			if rep.Records[j].Type.String() == "FD" {
				break
			}
		}
		groups = append(groups, g)
	}
	return groups
}

// showRecords prints the lines inspect.Show prints for the records of each
// group, with "..." between groups.
func showRecords(w io.Writer, rep *inspect.Report, groups [][]int) {
	var text bytes.Buffer
	rep.WriteText(&text) // a bytes.Buffer does not fail
	lines := strings.Split(text.String(), "\n")
	fmt.Fprintf(w, "    %s\n", lines[0]) // the column header
	for n, g := range groups {
		if n > 0 {
			fmt.Fprintf(w, "         ...\n")
		}
		for _, i := range g {
			fmt.Fprintf(w, "    %s\n", lines[1+i]) // record i is line 1+i
		}
	}
}

// pipeOf returns the id of the pipe behind a task's descriptor in a view,
// or 0.
func pipeOf(v *kernel.View, pid, fd int) uint64 {
	t := v.Task(pid)
	if t == nil {
		return 0
	}
	for _, d := range v.FileTables[t.FileTable].Fds {
		if d.Fd == fd {
			return v.Files[d.File].Pipe
		}
	}
	return 0
}

// run builds the world, checkpoints and restarts it, and tells what became
// of the pipe.
func run(w io.Writer) error {
	world, err := build()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The producer (pid %d) holds the write end, fd %d; the consumer (pid %d) the read\n",
		producer, world.WriteFd, consumer)
	fmt.Fprintf(w, "end, fd %d. %d bytes wait in the pipe: %q.\n\n", world.ReadFd, len(inFlight), inFlight)

	img, err := checkpoint(world.K)
	if err != nil {
		return err
	}
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return err
	}
	groups := pipeRecords(rep)
	fmt.Fprintf(w, "The image's records about the pipe (%d bytes in all):\n\n", len(img))
	showRecords(w, rep, groups)
	first, second := rep.Records[groups[0][1]], rep.Records[groups[len(groups)-1][1]]
	fmt.Fprintf(w, "\nThe first end met, the %s one, has Pipe=%d(%s): its records are followed by the\n",
		first.Field("Mode").Symbol, first.Field("Pipe").Int(), first.Field("Pipe").Mark)
	fmt.Fprintf(w, "pipe's: %d PIPE record, %d bytes in %d PIPE_BUF record(s). The %s end has\n",
		count(rep, "PIPE"), rep.Summary.Count("pipe bytes"), count(rep, "PIPE_BUF"), second.Field("Mode").Symbol)
	fmt.Fprintf(w, "Pipe=%d(%s): the objref alone, the bytes are not saved twice.\n\n",
		second.Field("Pipe").Int(), second.Field("Pipe").Mark)

	k2, events, err := restart(world.K, img)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Restart, as the engine's debug log tells it (area \"objects\", files and pipes):\n\n")
	for _, e := range events {
		if e.Type == "file" || e.Type == "pipe" {
			fmt.Fprintf(w, "    %s\n", e)
		}
	}
	fmt.Fprintf(w, "\nRestoring file %d created pipe %d, and with it both ends; the %s end went into\n",
		rep.Records[groups[0][0]].Field("Objref").Int(), first.Field("Pipe").Int(), second.Field("Mode").Symbol)
	fmt.Fprintf(w, "the object hash under the pipe's objref, where restoring file %d found it: the\n",
		rep.Records[groups[len(groups)-1][0]].Field("Objref").Int())
	fmt.Fprintf(w, "\"reference\" to the pipe. (The file references are the FD records installing them.)\n\n")

	v := k2.View()
	rp, wp := pipeOf(v, consumer, world.ReadFd), pipeOf(v, producer, world.WriteFd)
	if rp == 0 || rp != wp || len(v.Pipes) != 1 {
		return fmt.Errorf("after restart the read end is on pipe %d, the write end on pipe %d, of %d pipes", rp, wp, len(v.Pipes))
	}
	pv := v.Pipes[rp]
	fmt.Fprintf(w, "In the new kernel the consumer's fd %d and the producer's fd %d are the ends of\n",
		world.ReadFd, world.WriteFd)
	fmt.Fprintf(w, "one pipe (kernel id %d), which has %d reader and %d writer.\n", rp, pv.Readers, pv.Writers)

	got, err := k2.Read(consumer, world.ReadFd, 4096)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The consumer reads %q.\n", got)
	if _, err := k2.Read(consumer, world.ReadFd, 4096); errors.Is(err, errno.BLOCKED) {
		fmt.Fprintf(w, "Reading again blocks: the producer still holds the write end.\n")
	} else {
		return fmt.Errorf("a second read gave %v, not BLOCKED", err)
	}
	if _, err := k2.Write(producer, world.WriteFd, []byte(later)); err != nil {
		return err
	}
	if got, err = k2.Read(consumer, world.ReadFd, 4096); err != nil {
		return err
	}
	fmt.Fprintf(w, "The producer writes, and the consumer reads %q.\n", got)
	return nil
}

// count returns the number of records of type t in the image.
func count(rep *inspect.Report, t string) int {
	for _, ts := range rep.Summary.Sizes {
		if ts.Type == t {
			return ts.Count
		}
	}
	return 0
}
