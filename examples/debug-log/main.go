// Debug-log reads the engine's debug log, one area at a time.
//
// Engine.Log takes a *slog.Logger; the engine logs at debug level, each
// event with an "area" attribute: "syscall" for the checkpoint and restart
// calls themselves (their flags, and why one failed), "image" for every
// record written or read (offset, type, length), and "objects" for every
// shared object met (a first encounter, which writes or creates the object,
// or a later reference, which carries only its objref). A Log left nil is
// silent. Any slog.Handler will do; this one passes on the events of the
// areas asked for, so that a reader can follow the object hash alone.
// Counting the events by area ties the log to the image: one "image" event
// per record, one "first encounter" per OBJREF record.
//
//	go run ./examples/debug-log
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "debug-log:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// areaFilter passes on to its handler only the events whose "area"
// attribute is one of areas, and counts every event by area. The engine
// puts the area on each event itself (it never calls Logger.With), so the
// events' own attributes are the only place to look.
type areaFilter struct {
	slog.Handler
	areas  []string
	counts map[string]int
}

// Handle counts the event, and passes it on if its area is wanted.
func (f *areaFilter) Handle(ctx context.Context, r slog.Record) error {
	var area string
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "area" {
			area = a.Value.String()
		}
		return area == ""
	})
	f.counts[area]++
	if !slices.Contains(f.areas, area) {
		return nil
	}
	return f.Handler.Handle(ctx, r)
}

// WithAttrs keeps the filter in front of the handler's own WithAttrs.
func (f *areaFilter) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &areaFilter{Handler: f.Handler.WithAttrs(attrs), areas: f.areas, counts: f.counts}
}

// WithGroup keeps the filter in front of the handler's own WithGroup.
func (f *areaFilter) WithGroup(name string) slog.Handler {
	return &areaFilter{Handler: f.Handler.WithGroup(name), areas: f.areas, counts: f.counts}
}

// logTo returns a logger of the given areas into w, as text without the
// time (so that runs compare), and the filter that counts the events.
func logTo(w io.Writer, areas ...string) (*slog.Logger, *areaFilter) {
	text := slog.NewTextHandler(w, &slog.HandlerOptions{
		Level: slog.LevelDebug,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{}
			}
			return a
		},
	})
	f := &areaFilter{Handler: text, areas: areas, counts: map[string]int{}}
	return slog.New(f), f
}

// build makes a world with sharing at every level: a file dup'd within
// pid 1's table, shared with a forked child's copy of the table, and the
// table itself shared with a clone. It returns the file's two descriptors.
func build() (k *kernel.Kernel, fd, dup int, err error) {
	k = kernel.New(kernel.Config{})
	if _, err = k.Spawn(1, "init"); err != nil {
		return nil, 0, 0, err
	}
	if fd, err = k.Open(1, "/data", vfs.O_RDWR|vfs.O_CREAT, 0o644); err != nil {
		return nil, 0, 0, err
	}
	if dup, err = k.Dup(1, fd); err != nil {
		return nil, 0, 0, err
	}
	if _, err = k.Fork(1, 2); err != nil {
		return nil, 0, 0, err
	}
	if _, err = k.Clone(1, 3, kernel.CLONE_FILES, "thread"); err != nil {
		return nil, 0, 0, err
	}
	return k, fd, dup, nil
}

// Logged is one checkpoint or restart run with a log: the log's text, the
// events by area, and the image.
type Logged struct {
	Text   string
	Counts map[string]int
	Image  []byte
	Err    error
}

// checkpoint saves the container rooted at pid with flags, logging the
// given areas.
// A failed freeze or thaw is the error; a refused checkpoint is Err.
func checkpoint(k *kernel.Kernel, pid, flags int, areas ...string) (*Logged, error) {
	var text bytes.Buffer
	log, f := logTo(&text, areas...)
	img, err := (&ckpt.Engine{Kernel: k, Clock: clock, Log: log}).Snapshot(pid, flags)
	if err != nil && !errors.As(err, new(*ckpt.Error)) {
		return nil, err
	}
	return &Logged{Text: text.String(), Counts: f.counts, Image: img, Err: err}, nil
}

// restart rebuilds an image in a fresh kernel on a copy of k's disk,
// logging the given areas.
func restart(k *kernel.Kernel, img []byte, areas ...string) *Logged {
	var text bytes.Buffer
	log, f := logTo(&text, areas...)
	_, _, err := (&ckpt.Engine{Clock: clock, Log: log}).RestartCopy(k, img, 0)
	return &Logged{Text: text.String(), Counts: f.counts, Image: img, Err: err}
}

// indent prints text with each line indented.
func indent(w io.Writer, text string) {
	for _, l := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		fmt.Fprintf(w, "    %s\n", l)
	}
}

// run checkpoints and restarts with the log on, an area at a time, and
// tells what the log says.
func run(w io.Writer) error {
	k, fd, dup, err := build()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Pid 1 holds /data as fds %d and %d; pid 2 is a fork (its own table, the same\n", fd, dup)
	fmt.Fprintf(w, "file); pid 3 a clone sharing pid 1's table (CLONE_FILES).\n\n")

	c, err := checkpoint(k, 1, 0, "objects")
	if err != nil {
		return err
	}
	if c.Err != nil {
		return c.Err
	}
	fmt.Fprintf(w, "Checkpoint, the \"objects\" area only:\n\n")
	indent(w, c.Text)

	rep, err := inspect.Inspect(bytes.NewReader(c.Image))
	if err != nil {
		return err
	}
	marks := countMarks(rep)
	fmt.Fprintf(w, "\n%d first encounters, one per OBJREF record (%d), and %d references, one per\n",
		strings.Count(c.Text, `msg="first encounter"`), count(rep, "OBJREF"), strings.Count(c.Text, "msg=reference"))
	fmt.Fprintf(w, "objref field that inspect marks %q in the image (%d).\n", inspect.MarkRef, marks[inspect.MarkRef])

	r := restart(k, c.Image, "syscall")
	if r.Err != nil {
		return r.Err
	}
	fmt.Fprintf(w, "\nEvents by area:\n\n    %-10s %10s %8s\n", "area", "checkpoint", "restart")
	for _, area := range []string{"syscall", "image", "objects"} {
		fmt.Fprintf(w, "    %-10s %10d %8d\n", area, c.Counts[area], r.Counts[area])
	}
	fmt.Fprintf(w, "\nOne \"image\" event per record (%d) on each side. Restart meets the same %d\n",
		len(rep.Records), count(rep, "OBJREF"))
	fmt.Fprintf(w, "objects first, and then fetches each by its objref for every objref field of\n")
	fmt.Fprintf(w, "its %s records (%d), even one it has just\ncreated: all references.\n",
		referring(rep), marks[inspect.MarkFirst]+marks[inspect.MarkRef])

	// A checkpoint that fails says why in the "syscall" area: pid 2 shares
	// the open file with pid 1, outside the container rooted at pid 2.
	refused, err := checkpoint(k, 2, 0, "syscall")
	if err != nil {
		return err
	}
	if refused.Err == nil {
		return fmt.Errorf("checkpoint of pid 2 succeeded; it shares a file with pid 1")
	}
	fmt.Fprintf(w, "\nA refused checkpoint (pid 2 shares /data with pid 1), the \"syscall\" area:\n\n")
	indent(w, refused.Text)
	return nil
}

// countMarks counts the image's objref fields by mark, leaving out the
// OBJREF records, which introduce objrefs rather than refer to them.
func countMarks(rep *inspect.Report) map[string]int {
	marks := map[string]int{}
	for _, r := range rep.Records {
		if r.Type.String() == "OBJREF" {
			continue
		}
		for _, f := range r.Fields {
			if f.Mark != "" {
				marks[f.Mark]++
			}
		}
	}
	return marks
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

// referring names the types of the records whose objref fields name an
// object (not OBJREF, which introduces one), in the order the image has
// them first: "FD, TASK_OBJS and TASK_MM".
func referring(rep *inspect.Report) string {
	var types []string
	for _, r := range rep.Records {
		name := r.Type.String()
		for _, rf := range r.Spec.Refs() {
			if r.Field(rf.Name).Target != nil && !slices.Contains(types, name) {
				types = append(types, name)
			}
		}
	}
	if len(types) < 2 {
		return strings.Join(types, "")
	}
	return strings.Join(types[:len(types)-1], ", ") + " and " + types[len(types)-1]
}
