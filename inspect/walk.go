package inspect

import (
	"bytes"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
)

// The walker reads an image's structure from the record types' specs
// alone, so that a record type it has never heard of is followed like the
// others:
//
//   - An OBJREF record introduces an object. A record whose spec names an
//     object type (image.Spec.Object) is part of the state of the
//     innermost object of that type introduced and not complete yet; the
//     objects introduced after that one are complete. A record whose spec
//     names no object type and no objref field but places it (Spec.Place:
//     it is none of the records FORMAT.md's Order section places, the
//     stream's, the tree's and each task's own), met while an object's
//     state is being read, continues that state: it is a part that more
//     than one object type has (PAGES, the pages of an address space's VMA
//     or of a segment). Any other record completes every object.
//   - An objref field (image.Meaning.Ref) names an object: its first
//     encounter when the object's OBJREF record came before it, or right
//     after it for a field whose spec says After; a reference after that.
//     The record of the first encounter is where the object belongs: in
//     the object whose state that record is (a file in its file table, a
//     pipe in its first file), or with the task whose own record it is.
//
// Beyond the specs it knows only the stream's own records (HEADER, ARCH,
// OBJREF, TAIL, ERROR, in package image) and the engine's task tree: the
// TASK records, from which the tasks come. The tree ends at the first
// record that is an object's or refers to one; the records after it that
// belong to no object are the tasks' own, in the tree's order. Each task
// writes its own records once each (TASK_OBJS, REGS: FORMAT.md's Order),
// so a record type that comes again begins the next task's records. (Not
// their order: an image whose records were reordered, as a format change
// might, is still read task by task.)

// walker is the state of one walk over a report's records.
type walker struct {
	rep   *Report
	intro map[int64]*Object // objref -> the object its first OBJREF record introduces
	named map[int64]bool    // objrefs an objref field named already
	open  []*Object         // the objects whose state is being read, outermost first
	// tasks: the tree is over once inTasks is set; cur is the index of the
	// task whose records are being read, seen the types of its records.
	inTasks bool
	cur     int
	seen    map[image.Type]bool
	// unnamed are the objects no field named yet since the last task
	// record: those no field ever names (an image cut before the record
	// that would) belong to the task whose record comes next.
	unnamed []*Object
	// within is, for each object, the object whose state was being read
	// when it was introduced: where an object that no field names (an
	// image cut before the record that would) is nested.
	within map[*Object]*Object
}

// stream reports whether t is one of the stream's own record types, which
// are no task's and no object's.
func stream(t image.Type) bool {
	switch t {
	case image.TypeHeader, image.TypeArch, image.TypeTail, image.TypeError:
		return true
	}
	return false
}

// walk finds the report's objects and tasks, gives each record its object
// and task, and marks every objref field.
func walk(rep *Report) {
	w := &walker{rep: rep, intro: map[int64]*Object{}, named: map[int64]bool{}, cur: -1, within: map[*Object]*Object{}}
	for _, r := range rep.Records {
		if r.Type != image.TypeObjref {
			continue
		}
		ref := r.Field("Objref")
		if _, dup := w.intro[ref.Int()]; dup {
			ref.Mark = MarkDangling
			w.fault(r, "objref %d introduced again", ref.Int())
			continue
		}
		ref.Mark = MarkFirst
		o := &Object{Type: image.ObjType(r.value("ObjType")), Ref: int32(ref.Int()), Intro: r}
		ref.Target = o
		w.intro[ref.Int()] = o
		rep.Objects = append(rep.Objects, o)
	}
	for _, r := range rep.Records {
		w.record(r)
	}
	w.finish()
}

// record places one record.
func (w *walker) record(r *Record) {
	switch {
	case r.Type == image.TypeObjref:
		w.inTasks = true
		o := r.Field("Objref").Target
		if o == nil {
			return // introduced twice: the first introduction is the object
		}
		r.Object = o
		if n := len(w.open); n > 0 {
			w.within[o] = w.open[n-1]
		}
		w.open = append(w.open, o)
		w.unnamed = append(w.unnamed, o)
	case r.Spec.Object != 0:
		w.inTasks = true
		w.state(r)
	case len(w.open) > 0 && r.Spec.Place != "" && len(r.Spec.Refs()) == 0:
		o := w.open[len(w.open)-1]
		r.Object = o
		o.State = append(o.State, r)
	case stream(r.Type):
		w.open = nil
	default:
		w.open = nil
		if !w.inTasks && len(r.Spec.Refs()) == 0 {
			w.tree(r)
		} else {
			w.inTasks = true
			w.taskRecord(r)
		}
	}
	w.mark(r)
}

// state gives a record to the innermost object of its spec's type being
// read; the objects nested deeper are complete.
func (w *walker) state(r *Record) {
	for i := len(w.open) - 1; i >= 0; i-- {
		if o := w.open[i]; o.Type == r.Spec.Object {
			w.open = w.open[:i+1]
			r.Object = o
			o.State = append(o.State, r)
			return
		}
	}
	w.open = nil
	w.fault(r, "not in the state of any %s: no OBJREF record of a %[1]s comes before it", ObjTypeName(r.Spec.Object))
}

// tree takes a record of the task tree: a TASK record is a task.
func (w *walker) tree(r *Record) {
	if r.Type != ckpt.RecTask {
		return
	}
	rec, err := ckpt.TaskKind.Decode(r.raw)
	if err != nil {
		w.fault(r, "%v", err)
	}
	w.rep.Tasks = append(w.rep.Tasks, &Task{Pid: int(rec.Pid), PPid: int(rec.PPid), Comm: string(bytes.TrimRight(rec.Comm[:], "\x00")),
		State: r.Field("State").Symbol, ExitCode: int(rec.ExitCode), Record: r})
}

// taskRecord gives a task's own record to its task: the next task's when
// the current one has a record of its type.
func (w *walker) taskRecord(r *Record) {
	if w.cur < 0 || w.seen[r.Type] {
		w.cur++
		w.seen = map[image.Type]bool{}
	}
	w.seen[r.Type] = true
	if w.cur >= len(w.rep.Tasks) {
		w.fault(r, "a %s record of no task: the tree has %d", r.Type, len(w.rep.Tasks))
		return
	}
	t := w.rep.Tasks[w.cur]
	r.Task = t
	t.Records = append(t.Records, r)
	w.adopt(t)
}

// adopt gives the objects introduced since the last task record that no
// field has named to task t, whose record comes after them.
func (w *walker) adopt(t *Task) {
	for _, o := range w.unnamed {
		if len(o.Refs) == 0 {
			o.Task = t
		}
	}
	w.unnamed = nil
}

// mark marks the record's objref fields and links them to their objects.
func (w *walker) mark(r *Record) {
	for _, rf := range r.Spec.Refs() {
		f := r.Field(rf.Name)
		ref := f.Int()
		if ref == 0 {
			continue
		}
		o := w.intro[ref]
		switch {
		case o == nil || o.Type != rf.Meaning.Ref:
			f.Mark = MarkDangling
			w.fault(r, "%s names objref %d, which no OBJREF record of a %s introduces", f.Name, ref, ObjTypeName(rf.Meaning.Ref))
		case w.named[ref]:
			f.Mark = MarkRef
		case o.Intro.Index < r.Index || rf.Meaning.After:
			f.Mark = MarkFirst
		default:
			f.Mark = MarkDangling
			w.fault(r, "%s names objref %d before its OBJREF record", f.Name, ref)
		}
		w.named[ref] = true
		if f.Mark != MarkDangling {
			f.Target = o
			o.Refs = append(o.Refs, Ref{Record: r, Field: f})
		}
	}
}

// finish links the tasks into their tree, nests each object where its
// first encounter is, and gives every object and object's record its
// task. An object that no field names (an image cut before the record
// that would) is nested in the object whose state was being read when it
// came, or, outside any, goes with the task whose record comes next.
func (w *walker) finish() {
	tasks := w.rep.Tasks
	if len(w.unnamed) > 0 {
		if i := min(w.cur+1, len(tasks)-1); i >= 0 {
			w.adopt(tasks[i])
		}
	}
	byPid := map[int]*Task{}
	for _, t := range tasks {
		if p := byPid[t.PPid]; p != nil && t.PPid != 0 {
			t.Parent = p
			p.Children = append(p.Children, t)
		}
		if byPid[t.Pid] == nil {
			byPid[t.Pid] = t
		}
	}
	for _, o := range w.rep.Objects {
		parent := w.within[o]
		for _, ref := range o.Refs {
			if ref.Field.Mark == MarkFirst {
				parent = ref.Record.Object
				o.Task = ref.Record.Task
				break
			}
		}
		if parent != nil && parent != o {
			o.Parent = parent
			parent.Nested = append(parent.Nested, o)
		}
	}
	for _, o := range w.rep.Objects {
		o.Task = o.root().Task
		if o.Parent == nil && o.Task != nil {
			o.Task.Objects = append(o.Task.Objects, o)
		}
	}
	for _, r := range w.rep.Records {
		if r.Object != nil {
			r.Task = r.Object.Task
		}
	}
}

// root returns the outermost object the object is nested in, itself when
// it is nested in none. A cycle (of a forged image) stops where it closes.
func (o *Object) root() *Object {
	seen := map[*Object]bool{}
	for o.Parent != nil && !seen[o.Parent] {
		seen[o] = true
		o = o.Parent
	}
	return o
}

// fault notes what the walker could not follow at record r.
func (w *walker) fault(r *Record, format string, args ...any) {
	w.rep.Faults = append(w.rep.Faults, r.raw.Errorf(format, args...))
}
