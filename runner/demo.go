package runner

import (
	"bytes"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/task"
)

// demoSource is the demo's world. Every "= RESULT" in it is what Linux
// returns, checked with scn-linux.
//
//go:embed demo.scn
var demoSource string

// DemoName is the name the demo script goes by in messages.
const DemoName = "demo.scn"

// DemoScript returns the text of the demo's script, to save and run or
// verify like any other.
func DemoScript() string { return demoSource }

// ErrDemoDiffers is Demo's error when the restored world is not the
// original.
var ErrDemoDiffers = errors.New("the restored world differs from the original")

// Demo builds the demo world up to its checkpoint line, checkpoints it,
// summarises the image, restarts it in a fresh kernel on a copy of the disk,
// checks with equiv.Equal that the copy is the original world, prints what
// matched (each fact computed from both worlds' views), and runs the rest of
// the script on the copy. It returns an error wrapping ErrDemoDiffers when
// the worlds differ, and any other failure as it is.
func Demo(w io.Writer) error {
	s, err := scenario.ParseString(DemoName, demoSource)
	if err != nil {
		return err
	}
	at := slices.IndexFunc(s.Lines, func(l *scenario.Line) bool { return l.Cmd == "checkpoint" })
	if at < 0 {
		return fmt.Errorf("%s has no checkpoint line", DemoName)
	}
	before, cp, after := s.Lines[:at], s.Lines[at], s.Lines[at+1:]
	p := newPrinter(w, s)
	clock := FixedClock(DefaultTime)

	fmt.Fprintf(w, "The world (%s; `ckptsim demo --script` prints it):\n", DemoName)
	k := kernel.New(kernel.Config{})
	if err := execLines(k, s.Name, before, p); err != nil {
		return err
	}

	pid, flags, err := checkpointArgs(cp)
	if err != nil {
		return err
	}
	img, err := (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(pid, flags)
	if err != nil {
		return fmt.Errorf("%s:%d: %w", s.Name, cp.Num, err)
	}
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nCheckpoint of the container rooted at pid %d: ", pid)
	writeSummary(w, rep.Summary)

	k2, root, err := (&ckpt.Engine{Clock: clock}).RestartCopy(k, img, 0)
	if err != nil {
		return fmt.Errorf("%s:%d: restart: %w", s.Name, cp.Num, err)
	}
	check := consistency(k2)
	fmt.Fprintf(w, "\nRestarted in a fresh kernel on a copy of the disk: root pid %d; the kernel's consistency check %s.\n", root, check)

	orig, copied := k.View(), k2.View()
	equal := equiv.Equal(orig, copied)
	if equal == nil {
		fmt.Fprintln(w, "equiv.Equal: the restored world is the original. What matched, read from each world's view:")
	} else {
		fmt.Fprintf(w, "equiv.Equal: %v\n", equal)
	}
	differs := writeMatched(w, orig, copied)
	if equal != nil || differs > 0 || check != "passes" {
		return fmt.Errorf("%w: %v", ErrDemoDiffers, errors.Join(equal, fmt.Errorf("%d facts differ; consistency check: %s", differs, check)))
	}

	if len(after) > 0 {
		fmt.Fprintln(w, "\nThe restored world goes on:")
		if err := execLines(k2, s.Name, after, p); err != nil {
			return err
		}
	}
	return nil
}

// consistency runs the kernel's consistency check and says how it went:
// "passes", or what it found.
func consistency(k *kernel.Kernel) string {
	if err := k.Check(); err != nil {
		return err.Error()
	}
	return "passes"
}

// writeMatched prints, fact by fact, what a world and its restored copy
// have in common ("ok") and where they differ ("DIFF", with both), and
// returns how many facts differ.
func writeMatched(w io.Writer, orig, copied *kernel.View) int {
	differs := 0
	fa, fb := facts(orig), facts(copied)
	for i, f := range fa {
		if f.text == fb[i].text {
			fmt.Fprintf(w, "  ok    %-18s %s\n", f.name, f.text)
		} else {
			differs++
			fmt.Fprintf(w, "  DIFF  %-18s %s\n        %-18s restored: %s\n", f.name, f.text, "", fb[i].text)
		}
	}
	return differs
}

// writeHolds prints, fact by fact, what one world holds: the facts of
// writeMatched when there is nothing to compare with.
func writeHolds(w io.Writer, v *kernel.View) {
	for _, f := range facts(v) {
		fmt.Fprintf(w, "  %-18s %s\n", f.name, f.text)
	}
}

// execLines runs system call lines on k, printing each with its result
// when p is not nil; a line that does not give what it expects stops it.
func execLines(k *kernel.Kernel, name string, lines []*scenario.Line, p *printer) error {
	for _, l := range lines {
		o := scenario.Exec(k, l)
		if p != nil {
			p.line(l, o, "")
		}
		if !o.Matches(l.Expect) {
			return &scenario.Error{File: name, Line: l.Num, Msg: l.Mismatch(o)}
		}
	}
	return nil
}

// writeSummary prints the summary of an image's report: its size and
// checksum, what it holds (the counts its record types' specs ask for,
// those that are not zero), and its records by type.
func writeSummary(w io.Writer, s inspect.Summary) {
	fmt.Fprintf(w, "%d bytes, checksum %s\n", s.Total, s.Checksum)
	var holds []string
	for _, c := range s.Counts {
		if c.N > 0 {
			holds = append(holds, c.String())
		}
	}
	if len(holds) == 0 {
		holds = []string{"nothing"}
	}
	fmt.Fprint(w, wrap("  it holds ", holds))
	var recs []string
	for _, t := range s.Sizes {
		recs = append(recs, fmt.Sprintf("%d %s %d", t.Count, t.Type, t.Bytes))
	}
	fmt.Fprint(w, wrap("  records (how many, type, bytes): ", recs))
}

// wrap joins items with commas after the lead, in lines of at most 100
// columns (but for an item longer than that), the later lines indented.
func wrap(lead string, items []string) string {
	const width = 100
	var b strings.Builder
	line := lead
	for i, it := range items {
		if i < len(items)-1 {
			it += ","
		}
		switch {
		case i == 0:
			line += it
		case len(line)+1+len(it) > width:
			b.WriteString(line + "\n")
			line = "    " + it
		default:
			line += " " + it
		}
	}
	b.WriteString(line + "\n")
	return b.String()
}

// plural renders a count of things: "1 pipe", "2 pipes".
func plural(n int, thing string) string {
	switch {
	case n == 1:
		return "1 " + thing
	case strings.HasSuffix(thing, "y"):
		return fmt.Sprintf("%d %sies", n, strings.TrimSuffix(thing, "y"))
	}
	return fmt.Sprintf("%d %ss", n, thing)
}

// fact is one thing a restored world must have kept, rendered from a view
// without kernel ids, so that two worlds' renderings compare as text.
type fact struct{ name, text string }

// facts renders what a checkpoint must preserve, from one world's view.
func facts(v *kernel.View) []fact {
	tables := tableOwners(v)
	return []fact{
		{"tasks and tree", taskTree(v)},
		{"fd numbers", fdNumbers(v, tables)},
		{"shared file table", sharedTables(v, tables)},
		{"fds sharing a file", sharedFiles(v, tables)},
		{"pipe bytes", pipeBytes(v, tables)},
		{"unlinked files", unlinked(v, tables)},
		{"address spaces", addressSpaces(v)},
		{"shared memory", sharedMemory(v)},
		{"registers", registers(v)},
		{"reference counts", refCounts(v)},
	}
}

// tableOwners maps each file table to the pids that hold it, in pid order.
func tableOwners(v *kernel.View) map[uint64][]int {
	owners := map[uint64][]int{}
	for _, t := range v.Tasks {
		if t.FileTable != 0 {
			owners[t.FileTable] = append(owners[t.FileTable], t.Pid)
		}
	}
	return owners
}

// eachTable calls fn for every file table, in order of its first pid.
func eachTable(v *kernel.View, owners map[uint64][]int, fn func(kernel.FileTableView, []int)) {
	seen := map[uint64]bool{}
	for _, t := range v.Tasks {
		if t.FileTable != 0 && !seen[t.FileTable] {
			seen[t.FileTable] = true
			fn(v.FileTables[t.FileTable], owners[t.FileTable])
		}
	}
}

// pidList renders pids: "pid 3", "pids 1,2".
func pidList(ps []int) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p)
	}
	if len(ps) == 1 {
		return "pid " + s[0]
	}
	return "pids " + strings.Join(s, ",")
}

// taskTree renders the task tree: "1 init (2 worker, 3 init, 4 zombie)".
func taskTree(v *kernel.View) string {
	var node func(pid int) string
	node = func(pid int) string {
		t := v.Task(pid)
		s := fmt.Sprintf("%d %s", pid, t.Comm)
		if t.State == task.Zombie {
			s = fmt.Sprintf("%d zombie, exit %d", pid, t.ExitCode)
		}
		var kids []string
		for _, c := range t.Children {
			kids = append(kids, node(c))
		}
		if len(kids) > 0 {
			s += " (" + strings.Join(kids, "; ") + ")"
		}
		return s
	}
	var roots []string
	for _, p := range v.Top {
		roots = append(roots, node(p))
	}
	return fmt.Sprintf("%d tasks: %s", len(v.Tasks), strings.Join(roots, " "))
}

// fdNumbers renders each file table's descriptors, close-on-exec ones
// starred.
func fdNumbers(v *kernel.View, owners map[uint64][]int) string {
	var out []string
	eachTable(v, owners, func(t kernel.FileTableView, ps []int) {
		var fds []string
		for _, d := range t.Fds {
			s := strconv.Itoa(d.Fd)
			if d.CloseOnExec {
				s += "*"
			}
			fds = append(fds, s)
		}
		out = append(out, fmt.Sprintf("%s: %s", pidList(ps), strings.Join(fds, " ")))
	})
	return strings.Join(out, "; ") + " (* close-on-exec)"
}

// sharedTables renders the file tables that several tasks share.
func sharedTables(v *kernel.View, owners map[uint64][]int) string {
	var out []string
	eachTable(v, owners, func(t kernel.FileTableView, ps []int) {
		if len(ps) > 1 {
			out = append(out, fmt.Sprintf("%s share one (%s)", pidList(ps), plural(int(t.Refs), "reference")))
		}
	})
	return plural(len(v.FileTables), "table") + "; " + orNone(out)
}

// fileHolders returns the open files in order of first encounter (by file
// table, then descriptor) and, for each, its descriptors as "pid:fd"
// (the first pid holding the table). Walking the tables rather than sorting
// kernel ids keeps the order the same in a world and its restored copy.
func fileHolders(v *kernel.View, owners map[uint64][]int) ([]uint64, map[uint64][]string) {
	holders := map[uint64][]string{}
	var order []uint64
	eachTable(v, owners, func(t kernel.FileTableView, ps []int) {
		for _, d := range t.Fds {
			if holders[d.File] == nil {
				order = append(order, d.File)
			}
			holders[d.File] = append(holders[d.File], fmt.Sprintf("%d:%d", ps[0], d.Fd))
		}
	})
	return order, holders
}

// sharedFiles renders each open file that more than one descriptor refers
// to, with the descriptors as pid:fd and the file's position.
func sharedFiles(v *kernel.View, owners map[uint64][]int) string {
	order, holders := fileHolders(v, owners)
	var out []string
	for _, id := range order {
		if h := holders[id]; len(h) > 1 {
			f := v.Files[id]
			out = append(out, fmt.Sprintf("%s pos %d by %s", fileName(f), f.Pos, strings.Join(h, " ")))
		}
	}
	return plural(len(v.Files), "file") + "; shared: " + orNone(out)
}

// fileName names a file for people: its path, which end of a pipe, or
// which end of a socket pair.
func fileName(f kernel.FileView) string {
	switch {
	case f.Path != "":
		return f.Path
	case f.Socket != 0:
		return fmt.Sprintf("%s end %d", f.Type, f.SocketEnd)
	case f.Flags&3 == 0: // O_RDONLY
		return "pipe read end"
	}
	return "pipe write end"
}

// pipeBytes renders the bytes waiting in each pipe, in order of the first
// file open on it.
func pipeBytes(v *kernel.View, owners map[uint64][]int) string {
	order, _ := fileHolders(v, owners)
	seen := map[uint64]bool{}
	var out []string
	for _, id := range order {
		pid := v.Files[id].Pipe
		if pid == 0 || seen[pid] {
			continue
		}
		seen[pid] = true
		p := v.Pipes[pid]
		var data []byte
		for _, b := range p.Buffers {
			data = append(data, b.Data...)
		}
		out = append(out, fmt.Sprintf("%q in %s (%s, %s)", data, plural(len(p.Buffers), "buffer"), plural(p.Readers, "reader"), plural(p.Writers, "writer")))
	}
	return plural(len(v.Pipes), "pipe") + ": " + orNone(out)
}

// unlinked renders the files open after their name was removed, with the
// contents that exist only through them.
func unlinked(v *kernel.View, owners map[uint64][]int) string {
	order, _ := fileHolders(v, owners)
	var out []string
	for _, id := range order {
		if f := v.Files[id]; f.Unlinked && f.Inode != nil {
			out = append(out, fmt.Sprintf("%s: %q", f.Path, f.Inode.Contents))
		}
	}
	return orNone(out)
}

// eachMM calls fn for every address space, in order of its first pid,
// with the pids that use it (several after CLONE_VM).
func eachMM(v *kernel.View, fn func(kernel.MMView, []int)) {
	owners := map[uint64][]int{}
	var order []uint64
	for _, t := range v.Tasks {
		if t.MM != 0 {
			if owners[t.MM] == nil {
				order = append(order, t.MM)
			}
			owners[t.MM] = append(owners[t.MM], t.Pid)
		}
	}
	for _, id := range order {
		fn(v.MMs[id], owners[id])
	}
}

// addressSpaces renders what each address space maps, VMA by VMA: what
// backs it (private memory, a shared segment, the heap, a file's path) and
// its protection; address spaces that map alike are said once, with the
// pids of each.
func addressSpaces(v *kernel.View) string {
	var order []string
	users := map[string][]string{}
	eachMM(v, func(m kernel.MMView, pids []int) {
		var vmas []string
		for _, a := range m.VMAs {
			what := "private"
			switch {
			case a.File != 0:
				what = v.Files[a.File].Path
			case a.Segment != 0:
				what = "shared"
			case a.Heap:
				what = "heap"
			}
			vmas = append(vmas, what+" "+a.Prot.String())
		}
		maps := "no mappings"
		if len(vmas) > 0 {
			maps = strings.Join(vmas, ", ")
		}
		if users[maps] == nil {
			order = append(order, maps)
		}
		users[maps] = append(users[maps], pidList(pids))
	})
	out := []string{plural(len(v.MMs), "address space")}
	for _, maps := range order {
		out = append(out, strings.Join(users[maps], ", ")+": "+maps)
	}
	return strings.Join(out, "; ")
}

// sharedMemory renders the memory several address spaces hold: each
// private page frame mapped in more than one (copy on write after fork),
// by its first bytes, its address and the pids that map it; and each
// segment of shared memory, by its size, its first bytes and the pids
// whose mappings share it. Frames and segments are told apart by identity,
// not by kernel ids, so a restored world that kept the sharing reads the
// same.
func sharedMemory(v *kernel.View) string {
	type held struct {
		what string
		mms  int // the address spaces that map it
		pids []int
	}
	var order []uint64
	frames, segments := map[uint64]*held{}, map[uint64]*held{}
	var segOrder []uint64
	eachMM(v, func(m kernel.MMView, pids []int) {
		for _, p := range m.Pages {
			h := frames[p.Frame]
			if h == nil {
				h = &held{what: fmt.Sprintf("%s at %#x", firstBytes(p.Data), p.Addr)}
				frames[p.Frame] = h
				order = append(order, p.Frame)
			}
			h.mms++
			h.pids = append(h.pids, pids...)
		}
		for _, a := range m.VMAs {
			if a.Segment == 0 {
				continue
			}
			h := segments[a.Segment]
			if h == nil {
				sv := v.Segments[a.Segment]
				var data []byte
				for _, f := range sv.Frames {
					data = append(data, f.Data...)
				}
				h = &held{what: "segment of " + plural(int(sv.Pages), "page") + " " + firstBytes(data)}
				segments[a.Segment] = h
				segOrder = append(segOrder, a.Segment)
			}
			h.pids = append(h.pids, pids...)
		}
	})
	var out []string
	for _, id := range order {
		if h := frames[id]; h.mms > 1 {
			out = append(out, fmt.Sprintf("%s in %s (copy on write)", h.what, pidList(distinct(h.pids))))
		}
	}
	for _, id := range segOrder {
		h := segments[id]
		out = append(out, fmt.Sprintf("%s in %s", h.what, pidList(distinct(h.pids))))
	}
	return orNone(out)
}

// distinct returns pids sorted, each once.
func distinct(pids []int) []int { return slices.Compact(slices.Sorted(slices.Values(pids))) }

// firstBytes quotes the bytes of memory up to the zeros that end them, at
// most 16.
func firstBytes(b []byte) string {
	b = bytes.TrimRight(b, "\x00")
	if len(b) > 16 {
		return strconv.Quote(string(b[:16])) + "..."
	}
	return strconv.Quote(string(b))
}

// registers renders a few registers of each live task.
func registers(v *kernel.View) string {
	var out []string
	for _, t := range v.Tasks {
		if t.State == task.Zombie {
			continue
		}
		var regs []string
		for _, name := range []string{"rip", "rsp", "rax"} {
			r, _ := t.Regs.Get(name)
			regs = append(regs, fmt.Sprintf("%s=%#x", name, r))
		}
		out = append(out, fmt.Sprintf("pid %d %s", t.Pid, strings.Join(regs, " ")))
	}
	return strings.Join(out, "; ")
}

// refCounts renders how many objects of each kind are alive and the sum of
// their reference counts.
func refCounts(v *kernel.View) string {
	n, refs := map[kref.Kind]int{}, map[kref.Kind]int64{}
	for _, l := range v.Live {
		n[l.Kind]++
		refs[l.Kind] += l.Refs
	}
	var out []string
	for _, k := range kref.Kinds() {
		if n[k] > 0 {
			out = append(out, fmt.Sprintf("%s (%d refs)", plural(n[k], k.String()), refs[k]))
		}
	}
	return strings.Join(out, ", ")
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, "; ")
}
