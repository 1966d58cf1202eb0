package inspect

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// WritePS prints the task tree an image holds, as crit's "x ps" does: one
// line per task, in the tree's order, its command name indented under its
// parent's, with its state and exit code, and a column for each objref
// field of the tasks' own records (the file table and fs state of
// TASK_OBJS, and whatever a task's records name in a later format) naming
// the object, "-" for none.
func (rep *Report) WritePS(w io.Writer) error {
	var cols []string // objref fields of the tasks' own records, in order
	for _, t := range rep.Tasks {
		for _, r := range t.Records {
			for _, f := range r.Spec.Refs() {
				if !slices.Contains(cols, f.Name) {
					cols = append(cols, f.Name)
				}
			}
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "PID\tPPID\tSTATE\tEXIT\tCOMM")
	for _, c := range cols {
		fmt.Fprint(tw, "\t"+strings.ToUpper(Words(c)))
	}
	fmt.Fprintln(tw)
	for _, t := range rep.Tasks {
		exit := ""
		if t.Zombie() {
			exit = strconv.Itoa(t.ExitCode)
		}
		comm := strings.Repeat("  ", depth(t)) + display(t.Comm)
		if t.Parent != nil {
			comm = strings.Repeat("  ", depth(t)-1) + `\_ ` + display(t.Comm)
		}
		fmt.Fprintf(tw, "%d\t%d\t%s\t%s\t%s", t.Pid, t.PPid, t.State, exit, comm)
		for _, c := range cols {
			fmt.Fprint(tw, "\t"+t.named(c))
		}
		fmt.Fprintln(tw)
	}
	return tw.Flush()
}

// Words turns a field's name into words, as tools label what a field
// names: "FileTable" is "file table", "FS" "fs".
func Words(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, c := range rs {
		if i > 0 && unicode.IsUpper(c) && (unicode.IsLower(rs[i-1]) || i+1 < len(rs) && unicode.IsLower(rs[i+1])) {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(c))
	}
	return b.String()
}

// depth is how many ancestors a task has in the image.
func depth(t *Task) int {
	d := 0
	for p := t.Parent; p != nil && d < 1<<16; p = p.Parent {
		d++
	}
	return d
}

// named returns what the task's own records' objref field of that name
// names: "#3", or "-" for none.
func (t *Task) named(field string) string {
	for _, r := range t.Records {
		if f := r.Field(field); f != nil && f.Meaning.Ref != 0 && f.Int() != 0 {
			return "#" + strconv.FormatInt(f.Int(), 10)
		}
	}
	return "-"
}

// ErrNoSuchPid is WriteFds's error for a pid the image does not hold.
var ErrNoSuchPid = errors.New("no such pid in the image")

// WriteFds prints the descriptors of the image's tasks (of pid alone,
// when it is not 0), as crit's "x fds" does: for each file table, the
// tasks that share it, then one line per descriptor with its file's
// objref, type, status flags and position, what it is open on (its path,
// or the objects it holds: its pipe, its socket pair and end, an unlinked
// file's ghost and last path) and, for a file more than one descriptor
// holds, every pid:fd that holds it.
func (rep *Report) WriteFds(w io.Writer, pid int) error {
	var tasks []*Task
	for _, t := range rep.Tasks {
		if pid == 0 || t.Pid == pid {
			tasks = append(tasks, t)
		}
	}
	if len(tasks) == 0 {
		var pids []string
		for _, t := range rep.Tasks {
			pids = append(pids, strconv.Itoa(t.Pid))
		}
		return fmt.Errorf("pid %d: %w (it holds pids %s)", pid, ErrNoSuchPid, strings.Join(pids, ", "))
	}
	holders := rep.holders()
	bw := bufio.NewWriter(w)
	done := map[*Object]bool{}
	for _, t := range tasks {
		table := t.object(task.ObjFileTable)
		switch {
		case table == nil && t.Zombie():
			fmt.Fprintf(bw, "%s %s: a zombie, no file table\n", t.Name(), display(t.Comm))
			continue
		case table == nil:
			fmt.Fprintf(bw, "%s %s: no file table\n", t.Name(), display(t.Comm))
			continue
		case done[table]:
			continue
		}
		done[table] = true
		var by []string
		for _, h := range rep.tasksHolding(table) {
			by = append(by, h.Name()+" "+display(h.Comm))
		}
		fmt.Fprintf(bw, "%s: %s\n", strings.Join(by, ", "), table.Name())
		tw := tabwriter.NewWriter(bw, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "  FD\tFILE\tTYPE\tFLAGS\tPOS\tOPEN ON\tHELD BY")
		for _, r := range table.State {
			if r.Type != task.RecFd {
				continue
			}
			fd, err := task.FdKind.Decode(r.raw)
			if err != nil {
				fmt.Fprintf(tw, "  ?\t%v\n", err)
				continue
			}
			f := r.Field("File").Target
			num := strconv.Itoa(int(fd.Fd))
			if fd.CloseOnExec != 0 {
				num += " cloexec"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", num, fileColumns(f, holders[f]))
		}
		tw.Flush()
	}
	return bw.Flush()
}

// fileColumns are the columns of a descriptor's file: its objref, type,
// flags, position, what it is open on, and who holds it when more than one.
func fileColumns(f *Object, held []string) string {
	if f == nil || len(f.State) == 0 || f.State[0].Type != vfs.RecFile {
		return "?\t\t\t\t(no file record)"
	}
	rec, err := vfs.FileKind.Decode(f.State[0].raw)
	if err != nil {
		return "#" + strconv.Itoa(int(f.Ref)) + "\t\t\t\t" + err.Error()
	}
	on := display(string(f.State[0].Tail))
	for _, r := range f.State {
		for _, rf := range r.Spec.Refs() {
			if n := r.Field(rf.Name).Target; n != nil {
				on = join(on, nestedName(r, n))
			}
		}
	}
	cols := fmt.Sprintf("#%d\t%s\t%s\t%d\t%s", f.Ref, rec.FileType, vfs.FormatOpenFlags(int(rec.Flags)), rec.Pos, on)
	if len(held) > 1 {
		cols += "\t" + strings.Join(held, " ")
	}
	return cols
}

// nestedName says what object n, named by record r of a file, is: its
// name, what the rest of r says of it when r is not the file's own record
// (a socket's end), and its last path for one that has a path part (an
// unlinked file's ghost).
func nestedName(r *Record, n *Object) string {
	s := n.Name()
	if r != r.Object.State[0] {
		for _, f := range r.Fields {
			if f.Meaning.Ref == 0 && !f.IsPad() && !f.IsArray() {
				s += " " + strings.ToLower(f.Name) + " " + f.NumberText()
			}
		}
	}
	if len(n.State) > 0 {
		for _, p := range n.State[0].Parts {
			if p.Name == "path" {
				s = display(string(p.Data)) + " (deleted: " + s + ")"
			}
		}
	}
	return s
}

func join(a, b string) string {
	if a == "" {
		return b
	}
	return a + ", " + b
}

// holders returns, for each file, every pid:fd that holds it: the FD
// records naming it, in each task holding their table.
func (rep *Report) holders() map[*Object][]string {
	out := map[*Object][]string{}
	for _, t := range rep.Tasks {
		table := t.object(task.ObjFileTable)
		if table == nil {
			continue
		}
		for _, r := range table.State {
			if f := r.Field("File"); r.Type == task.RecFd && f != nil && f.Target != nil {
				out[f.Target] = append(out[f.Target], fmt.Sprintf("%d:%d", t.Pid, r.value("Fd")))
			}
		}
	}
	return out
}

// object returns the object of type t the task's own records name.
func (t *Task) object(typ image.ObjType) *Object {
	for _, r := range t.Records {
		for _, rf := range r.Spec.Refs() {
			if o := r.Field(rf.Name).Target; o != nil && o.Type == typ {
				return o
			}
		}
	}
	return nil
}

// tasksHolding returns the tasks whose own records name the object.
func (rep *Report) tasksHolding(o *Object) []*Task {
	var out []*Task
	for _, ref := range o.Refs {
		if t := ref.Record.Task; t != nil && ref.Record.Object == nil && !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	return out
}

// display returns a name (a path, a command name) as it is when it is
// printable text, quoted Go-style otherwise.
func display(s string) string {
	if printable([]byte(s)) && !strings.ContainsAny(s, "\n\t\r") {
		return s
	}
	return strconv.Quote(s)
}
