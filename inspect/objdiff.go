package inspect

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
)

// Diff compares two images by what their records describe, as the
// equivalence checker compares two worlds: tasks pair by pid; from each
// pair of tasks, their own records (TASK_OBJS, REGS) are aligned, and the
// objects that aligned records name are paired, the first time they are
// met; from each pair of objects, the records of their states are aligned
// in turn, and so on down (a file table's descriptors, each one's file,
// the file's pipe). So objects pair by their place in the tree, whatever
// their objrefs: two images of one world whose objrefs differ (a close
// renumbers every object met after the file it closed) show as a
// renumbering, listed first, and not as changes of every record that names
// an objref.
//
// Records are aligned as a text diff aligns lines, by a shortest edit
// script over their contents (their type, fields and tail, objrefs left
// out), so that a descriptor closed shows as one FD record removed; within
// a run of replaced records, records of the same type are paired and
// reported as Changed, field by field, an objref field differing only when
// it names objects that were not paired. The records of an object that
// has no counterpart (its only descriptor closed) are removed or added
// whole, its OBJREF record with them; so are a task's. The records of the
// stream and the tree (HEADER, TASK, TAIL...) are aligned among
// themselves. Changes come in the old image's order.
func Diff(old, new *Report) []Change {
	d := &differ{a: old, b: new, pair: map[*Object]*Object{}, back: map[*Object]*Object{}, aligned: map[int]int{}}
	return d.run()
}

// differ is the state of one Diff.
type differ struct {
	a, b       *Report
	pair, back map[*Object]*Object // a's objects to b's, and back
	// runs are the alignments made, for the changes they hold.
	runs []alignment
	// aligned maps the index of each record of b aligned with one of a to
	// that record's index, for the order of the changes.
	aligned map[int]int
}

// alignment is how the records of one container (the stream, a task, an
// object) align between the two images.
type alignment struct {
	pairs      [][2]*Record // aligned records: kept, or paired by type
	dels, inss []*Record
}

func (d *differ) run() []Change {
	byPid := map[int]*Task{}
	for _, t := range d.b.Tasks {
		if byPid[t.Pid] == nil {
			byPid[t.Pid] = t
		}
	}
	paired := map[*Task]bool{}
	for _, ta := range d.a.Tasks {
		if tb := byPid[ta.Pid]; tb != nil && !paired[tb] {
			paired[tb] = true
			d.align(ta.Records, tb.Records)
		} else {
			d.runs = append(d.runs, alignment{dels: ta.Records})
		}
	}
	for _, tb := range d.b.Tasks {
		if !paired[tb] {
			d.runs = append(d.runs, alignment{inss: tb.Records})
		}
	}
	for _, o := range d.a.Objects {
		if d.pair[o] == nil {
			d.runs = append(d.runs, alignment{dels: append([]*Record{o.Intro}, o.State...)})
		}
	}
	for _, o := range d.b.Objects {
		if d.back[o] == nil {
			d.runs = append(d.runs, alignment{inss: append([]*Record{o.Intro}, o.State...)})
		}
	}
	d.align(streamRecords(d.a), streamRecords(d.b))
	return d.changes()
}

// streamRecords are a report's records that are no task's and no object's.
func streamRecords(rep *Report) []*Record {
	var out []*Record
	for _, r := range rep.Records {
		if r.Task == nil && r.Object == nil {
			out = append(out, r)
		}
	}
	return out
}

// align aligns two containers' records and pairs the objects that their
// aligned records name.
func (d *differ) align(a, b []*Record) {
	ka, kb := make([]string, len(a)), make([]string, len(b))
	for i, r := range a {
		ka[i] = contentKey(r)
	}
	for j, r := range b {
		kb[j] = contentKey(r)
	}
	var al alignment
	es := editScript(len(a), len(b), func(i, j int) bool { return ka[i] == kb[j] })
	for i := 0; i < len(es); {
		if es[i].op == keep {
			al.pairs = append(al.pairs, [2]*Record{a[es[i].i], b[es[i].j]})
			i++
			continue
		}
		j := i
		var dels, inss []*Record
		for ; j < len(es) && es[j].op != keep; j++ {
			if es[j].op == del {
				dels = append(dels, a[es[j].i])
			} else {
				inss = append(inss, b[es[j].j])
			}
		}
		for _, e := range editScript(len(dels), len(inss), func(x, y int) bool { return dels[x].Type == inss[y].Type }) {
			switch e.op {
			case keep:
				al.pairs = append(al.pairs, [2]*Record{dels[e.i], inss[e.j]})
			case del:
				al.dels = append(al.dels, dels[e.i])
			case ins:
				al.inss = append(al.inss, inss[e.j])
			}
		}
		i = j
	}
	d.runs = append(d.runs, al)
	for _, p := range al.pairs {
		d.aligned[p[1].Index] = p[0].Index
	}
	for _, p := range append(al.pairs, moved(al.dels, al.inss)...) {
		for k, f := range p[0].Fields {
			if f.Target != nil && p[1].Fields[k].Target != nil {
				d.pairObjects(f.Target, p[1].Fields[k].Target)
			}
		}
	}
}

// moved pairs the records removed from a container with those added to
// it, of the same type, in order: a record that moved within its container
// (as a format change that reorders records moves it) shows as removed and
// added, but the objects it names still pair with the other's.
func moved(dels, inss []*Record) [][2]*Record {
	var out [][2]*Record
	used := map[*Record]bool{}
	for _, x := range dels {
		for _, y := range inss {
			if !used[y] && x.Type == y.Type {
				used[y] = true
				out = append(out, [2]*Record{x, y})
				break
			}
		}
	}
	return out
}

// pairObjects pairs two objects the first time either is met, and then
// aligns their states. An object already paired with another stays so:
// the field that names it differs, which is how sharing that changed
// shows.
func (d *differ) pairObjects(x, y *Object) {
	if x.Type != y.Type || d.pair[x] != nil || d.back[y] != nil {
		return
	}
	d.pair[x], d.back[y] = y, x
	d.aligned[y.Intro.Index] = x.Intro.Index
	d.align(x.State, y.State)
}

// contentKey is what a record holds, objrefs left out (but not whether an
// objref field names an object): records with equal keys align.
func contentKey(r *Record) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", r.Type)
	for _, f := range r.Fields {
		switch {
		case f.Meaning.Ref != 0:
			fmt.Fprintf(&b, "|ref:%t", f.Bits != 0)
		default:
			fmt.Fprintf(&b, "|%d:%x", f.Bits, f.Bytes)
		}
	}
	fmt.Fprintf(&b, "|%x", sha256.Sum256(r.Tail))
	return b.String()
}

// changes turns the alignments into changes, in the old image's order (an
// added record where the record of the old image before it is), the
// renumbering first.
func (d *differ) changes() []Change {
	type placed struct {
		at, sub int // the old record it comes at, and after it for an added one
		c       Change
	}
	var out []placed
	for _, al := range d.runs {
		for _, p := range al.pairs {
			if fields := d.fieldChanges(p[0], p[1]); len(fields) > 0 {
				out = append(out, placed{p[0].Index, 0, Change{Kind: Changed, Old: place(p[0]), New: place(p[1]), Fields: fields}})
			}
		}
		for _, r := range al.dels {
			out = append(out, placed{r.Index, 0, Change{Kind: Removed, Old: place(r), Fields: recordFields(r, false)}})
		}
		for _, r := range al.inss {
			out = append(out, placed{d.anchor(r), r.Index + 1, Change{Kind: Added, New: place(r), Fields: recordFields(r, true)}})
		}
	}
	slices.SortStableFunc(out, func(x, y placed) int {
		return cmp.Or(cmp.Compare(x.at, y.at), cmp.Compare(x.sub, y.sub))
	})
	var changes []Change
	if r := d.renumbered(); len(r.Fields) > 0 {
		changes = append(changes, r)
	}
	for _, p := range out {
		changes = append(changes, p.c)
	}
	return changes
}

// anchor is where a record only the new image has goes among the old
// image's: after the old record aligned with the new record before it.
func (d *differ) anchor(r *Record) int {
	for j := r.Index - 1; j >= 0; j-- {
		if i, ok := d.aligned[j]; ok {
			return i
		}
	}
	return -1
}

// renumbered lists the objects paired under other objrefs.
func (d *differ) renumbered() Change {
	c := Change{Kind: Renumbered}
	for _, o := range d.a.Objects {
		if p := d.pair[o]; p != nil && p.Ref != o.Ref {
			c.Fields = append(c.Fields, FieldChange{Name: ObjTypeName(o.Type), Old: fmt.Sprint(o.Ref), New: fmt.Sprint(p.Ref)})
		}
	}
	return c
}

func place(r *Record) *Place {
	return &Place{Index: r.Index, Offset: r.Offset, Type: r.Type.String(), Of: r.Owner()}
}

// recordFields are a record's fields and tail parts as Show prints them,
// for a record removed (in Old) or added (in New).
func recordFields(r *Record, added bool) []FieldChange {
	var out []FieldChange
	add := func(name, text string) {
		if added {
			out = append(out, FieldChange{Name: name, New: text})
		} else {
			out = append(out, FieldChange{Name: name, Old: text})
		}
	}
	fields, hidden := r.shown(TextOptions{})
	for _, f := range fields {
		add(f.Name, f.text())
	}
	for _, p := range r.Parts {
		add(p.Name, p.Text)
	}
	if hidden > 0 {
		add("zero fields", fmt.Sprint(hidden))
	}
	return out
}

// fieldChanges lists the fields and tail parts of two aligned records
// that differ. An objref field differs when the objects it names are not
// a pair (or one names none); its number alone may differ.
func (d *differ) fieldChanges(x, y *Record) []FieldChange {
	var out []FieldChange
	if x.Type != y.Type {
		return []FieldChange{{Name: "type", Old: x.Type.String(), New: y.Type.String()}}
	}
	for k, fx := range x.Fields {
		fy := y.Fields[k]
		same := fx.Bits == fy.Bits && string(fx.Bytes) == string(fy.Bytes)
		if fx.Meaning.Ref != 0 && (fx.Target != nil || fy.Target != nil) {
			same = fx.Target != nil && d.pair[fx.Target] == fy.Target
		}
		if !same {
			out = append(out, FieldChange{Name: fx.Name, Old: fx.text(), New: fy.text()})
		}
	}
	px, py := x.Parts, y.Parts
	for k := range max(len(px), len(py)) {
		switch {
		case k >= len(px):
			out = append(out, FieldChange{Name: py[k].Name, Old: "(none)", New: py[k].Text})
		case k >= len(py):
			out = append(out, FieldChange{Name: px[k].Name, Old: px[k].Text, New: "(none)"})
		case string(px[k].Data) != string(py[k].Data):
			out = append(out, partChange(px[k], py[k]))
		}
	}
	return out
}

// partChange says how a tail part changed: both texts, or, when they are
// cut before where they differ, both from the first byte that differs.
func partChange(x, y Part) FieldChange {
	if x.Text != y.Text || x.Name != y.Name {
		return FieldChange{Name: x.Name, Old: x.Text, New: y.Text}
	}
	i := 0
	for i < len(x.Data) && i < len(y.Data) && x.Data[i] == y.Data[i] {
		i++
	}
	from := func(b []byte) string { return quoteShort(b[i:]) }
	return FieldChange{Name: fmt.Sprintf("%s from byte %d", x.Name, i), Old: from(x.Data), New: from(y.Data)}
}
