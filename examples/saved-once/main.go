// Saved-once shows what the object hash buys: an object shared by many
// tasks is saved once, and every later reference to it costs only its
// objref.
//
// It checkpoints three worlds built from one task with a table of open
// files: that task alone; that task and 99 threads sharing its file table,
// fs state and address space (clone with CLONE_VM|CLONE_FILES|CLONE_FS); and
// that task with 99 forked children, each with its own copy of the table
// (and of the address space) but sharing the open files themselves. For each
// it counts the image's bytes and records: the shared table is one
// FILE_TABLE record whatever the number of tasks, and forked tables repeat
// their FD records but never a FILE record. The first encounter of an object
// writes an OBJREF record and the object's state; later ones are the objref
// alone, in a TASK_OBJS, TASK_MM or FD record.
//
//	go run ./examples/saved-once
package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// files is the size of the file table; tasks the number of tasks in the
// worlds that share it.
const (
	files = 100
	tasks = 100
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "saved-once:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// How the extra tasks get their file table.
const (
	alone   = iota // no extra tasks
	threads        // clone(CLONE_VM|CLONE_FILES|CLONE_FS): one table, fs state and address space for all
	forked         // fork: a copy of the table each, sharing the open files
)

// build returns a kernel where pid 1 holds files open files, and, unless
// sharing is alone, tasks-1 more tasks that got their tables as sharing
// says.
func build(sharing int) (*kernel.Kernel, error) {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(1, "init"); err != nil {
		return nil, err
	}
	for i := range files {
		if _, err := k.Open(1, fmt.Sprintf("/f%d", i), vfs.O_RDWR|vfs.O_CREAT, 0o644); err != nil {
			return nil, err
		}
	}
	if sharing == alone {
		return k, nil
	}
	for pid := 2; pid <= tasks; pid++ {
		var err error
		if sharing == threads {
			_, err = k.Clone(1, pid, kernel.CLONE_VM|kernel.CLONE_FILES|kernel.CLONE_FS, "worker")
		} else {
			_, err = k.Fork(1, pid)
		}
		if err != nil {
			return nil, err
		}
	}
	return k, nil
}

// checkpoint freezes the whole world (the container rooted at pid 1),
// saves it, thaws it, and returns what the image holds.
func checkpoint(k *kernel.Kernel) (*inspect.Report, error) {
	img, err := (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(1, 0)
	if err != nil {
		return nil, err
	}
	return inspect.Inspect(bytes.NewReader(img))
}

// Measure is what one world's image holds.
type Measure struct {
	Name  string
	Tasks int
	Bytes int64
	// Records counts the image's records by type name ("FILE", "FD", ...);
	// RecordBytes is the bytes they take.
	Records     map[string]int
	RecordBytes map[string]int64
	// First and Ref count the fields that name an objref (in TASK_OBJS,
	// TASK_MM, FD and FILE records) by mark: the reference that wrote the
	// object, or a later one that carries only its objref.
	First, Ref int
	// Own are the records of the last task, which it alone has: its TASK
	// record and its own records (TASK_OBJS, TASK_MM, REGS), and the
	// bytes each takes; OwnRefs the objref fields among them.
	Own     []inspect.TypeSize
	OwnRefs int
	// report is the whole image, record by record.
	report *inspect.Report
}

// measure builds a world, checkpoints it and counts its image.
func measure(name string, sharing int) (*Measure, error) {
	k, err := build(sharing)
	if err != nil {
		return nil, err
	}
	rep, err := checkpoint(k)
	if err != nil {
		return nil, err
	}
	m := &Measure{Name: name, Tasks: int(rep.Summary.CountBy("tasks", "live")), Bytes: rep.Summary.Total,
		Records: map[string]int{}, RecordBytes: map[string]int64{}, report: rep}
	last := rep.Tasks[len(rep.Tasks)-1]
	for _, r := range append([]*inspect.Record{last.Record}, last.Records...) {
		m.Own = append(m.Own, inspect.TypeSize{Type: r.Type.String(), Count: 1, Bytes: r.Size()})
		m.OwnRefs += len(r.Spec.Refs())
	}
	for _, ts := range rep.Summary.Sizes {
		m.Records[ts.Type], m.RecordBytes[ts.Type] = ts.Count, ts.Bytes
	}
	for _, r := range rep.Records {
		if r.Type.String() == "OBJREF" {
			continue // it introduces an objref rather than refer to one
		}
		for _, f := range r.Fields {
			switch f.Mark {
			case inspect.MarkFirst:
				m.First++
			case inspect.MarkRef:
				m.Ref++
			}
		}
	}
	return m, nil
}

// shown returns the lines inspect.Show prints for the records of the
// first n tasks whose type is one of types, the column header first.
func (m *Measure) shown(n int, types ...string) []string {
	var text bytes.Buffer
	m.report.WriteText(&text) // a bytes.Buffer does not fail
	lines := strings.Split(text.String(), "\n")
	picked := []string{lines[0]}
	for _, t := range m.report.Tasks[:n] {
		for _, r := range t.Records {
			if slices.Contains(types, r.Type.String()) {
				picked = append(picked, lines[1+r.Index]) // line 0 is the column header
			}
		}
	}
	return picked
}

// perRecord is the size of one record of type t in m's image.
func (m *Measure) perRecord(t string) int64 { return m.RecordBytes[t] / int64(m.Records[t]) }

// ownBytes is the bytes of the records the last task alone has.
func (m *Measure) ownBytes() int64 {
	var n int64
	for _, o := range m.Own {
		n += o.Bytes
	}
	return n
}

// ownText lists the records the last task alone has: "TASK (40), ... and
// REGS (800)".
func (m *Measure) ownText() string {
	var parts []string
	for _, o := range m.Own {
		parts = append(parts, fmt.Sprintf("%s (%d)", o.Type, o.Bytes))
	}
	if len(parts) < 2 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// Measures are the three worlds' measures.
type Measures struct{ Alone, Shared, Forked *Measure }

// measureAll measures the three worlds.
func measureAll() (*Measures, error) {
	var ms Measures
	var err error
	if ms.Alone, err = measure(fmt.Sprintf("1 task, %d files", files), alone); err != nil {
		return nil, err
	}
	if ms.Shared, err = measure(fmt.Sprintf("%d threads", tasks), threads); err != nil {
		return nil, err
	}
	if ms.Forked, err = measure(fmt.Sprintf("%d tasks, fork", tasks), forked); err != nil {
		return nil, err
	}
	return &ms, nil
}

// run measures the three worlds and tells what their images hold.
func run(w io.Writer) error {
	ms, err := measureAll()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Pid 1 opens %d files; then %d threads share its file table, fs state and address\n", files, tasks-1)
	fmt.Fprintf(w, "space (CLONE_VM|CLONE_FILES|CLONE_FS), or %d children fork.\n\n", tasks-1)
	fmt.Fprintf(w, "%-22s %6s %12s %11s %6s %6s %7s %6s\n",
		"world", "tasks", "image bytes", "FILE_TABLE", "FD", "FILE", "OBJREF", "REGS")
	for _, m := range []*Measure{ms.Alone, ms.Shared, ms.Forked} {
		fmt.Fprintf(w, "%-22s %6d %12d %11d %6d %6d %7d %6d\n", m.Name, m.Tasks, m.Bytes,
			m.Records["FILE_TABLE"], m.Records["FD"], m.Records["FILE"], m.Records["OBJREF"], m.Records["REGS"])
	}

	a, s, f := ms.Alone, ms.Shared, ms.Forked
	extra := (s.Bytes - a.Bytes) / int64(s.Tasks-a.Tasks)
	fmt.Fprintf(w, "\nSharing everything, %d tasks take %.1f times the bytes of one: each further\n",
		s.Tasks, float64(s.Bytes)/float64(a.Bytes))
	fmt.Fprintf(w, "task adds %d bytes, only its own records:\n    %s.\n", extra, s.ownText())
	fmt.Fprintf(w, "Its table, fs state and address space are not saved again: its TASK_OBJS and\n")
	fmt.Fprintf(w, "TASK_MM records name their objrefs. Of the %d objref fields in that image, %d\n", s.First+s.Ref, s.First)
	fmt.Fprintf(w, "wrote an object and %d are a bare reference to one already written. The\n", s.Ref)
	fmt.Fprintf(w, "TASK_OBJS and TASK_MM records of pid 1 and pid 2:\n\n")
	for _, l := range s.shown(2, "TASK_OBJS", "TASK_MM") {
		fmt.Fprintf(w, "    %s\n", l)
	}

	fmt.Fprintf(w, "\nForked, each task has a table of its own: %d FILE_TABLE records holding %d FD\n",
		f.Records["FILE_TABLE"], f.Records["FD"])
	fmt.Fprintf(w, "records (%d bytes each). But fork shares the open files, so there are still\n", f.perRecord("FD"))
	fmt.Fprintf(w, "%d FILE records: %d of the %d FD records name a file already written, by its\n",
		f.Records["FILE"], f.Records["FD"]-f.Records["FILE"], f.Records["FD"])
	fmt.Fprintf(w, "objref alone; the image is %.1f times the one-task image.\n", float64(f.Bytes)/float64(a.Bytes))
	return nil
}
