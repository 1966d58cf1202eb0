package graph

import (
	"io"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/inspect"
)

// FromImage returns the object graph of the container an image holds, its
// objects labelled with their objrefs. It reads the image through
// inspect's walker, from the record types' specs alone: every object of
// the image is a node, of the kind its object type's name says, labelled
// by its spec's Label or, without one, by its first record's fields; every
// objref field is an edge from the task or object whose record it is,
// labelled with what else that record says (a descriptor's number) or with
// the field's name. So an object type graph has never heard of is drawn
// like the others.
//
// It refuses an image it cannot follow, an incomplete one (an ERROR
// record, or no TAIL) included, with the offset of the record at fault. It
// does not check the tail's checksum or the objects' states: that is
// restart's work, and a graph of an edited image is useful.
func FromImage(r io.Reader) (*Graph, error) {
	rep, err := inspect.Inspect(r)
	if err != nil {
		return nil, err
	}
	for _, rec := range rep.Records {
		if rec.Type == image.TypeError {
			return nil, rec.Raw().Errorf("the checkpoint failed: %s", rec.Tail)
		}
	}
	if len(rep.Faults) > 0 {
		return nil, rep.Faults[0]
	}
	return draw(imageModel(rep)), nil
}

// imageModel reads a walked image into the model.
func imageModel(rep *inspect.Report) *model {
	m := &model{}
	for _, t := range rep.Tasks {
		m.tasks = append(m.tasks, &mTask{pid: t.Pid, ppid: t.PPid, comm: t.Comm, zombie: t.Zombie(), exitCode: t.ExitCode})
	}
	for _, o := range rep.Objects {
		ref := strconv.Itoa(int(o.Ref))
		m.obj(objName(o), "#"+ref, Kind(inspect.ObjTypeName(o.Type)), objectLabel(o))
	}
	for _, r := range rep.Records {
		from, holds := "", false
		switch {
		case r.Type == image.TypeObjref:
			continue
		case r.Object != nil:
			from = objName(r.Object)
		case r.Task != nil:
			from, holds = taskName(r.Task.Pid), true
		default:
			continue
		}
		for _, rf := range r.Spec.Refs() {
			f := r.Field(rf.Name)
			if f.Target != nil {
				m.ref(from, objName(f.Target), holds, refLabel(r, f))
			}
		}
	}
	return m
}

func objName(o *inspect.Object) string {
	return nodeName(Kind(inspect.ObjTypeName(o.Type)), strconv.Itoa(int(o.Ref)))
}

// objectLabel is an object's label below its title: its spec's Label of
// its state, or the generic lines of its first record.
func objectLabel(o *inspect.Object) []string {
	if len(o.State) == 0 {
		return nil
	}
	first := o.State[0]
	if f := first.Spec.Label; f != nil {
		raws := make([]*image.Record, len(o.State))
		for i, r := range o.State {
			raws[i] = r.Raw()
		}
		if lines := f(raws); lines != nil {
			return lines
		}
	}
	var symbols []string
	var numbers, parts []named
	lengths := map[string]bool{}
	for _, p := range first.Spec.Tail.Parts {
		lengths[p.LenField] = true
	}
	for _, f := range first.Fields {
		m := f.Meaning
		switch {
		case m.Ref != 0 || f.IsArray() || f.IsPad() || lengths[f.Name]:
		case m.Names != nil || m.Format != nil:
			if f.Symbol != "" {
				symbols = append(symbols, f.Symbol)
			}
		default:
			numbers = append(numbers, named{strings.ToLower(f.Name), f.NumberText()})
		}
	}
	for _, p := range first.Parts {
		parts = append(parts, named{p.Name, string(p.Data)})
	}
	return labelLines(symbols, numbers, parts)
}

// refLabel says what an objref field's reference is: what the rest of its
// record says, for a record that is one of its object's references (a
// descriptor: "fd 1 cloexec", a socket's end: "end 0", a mapping: "start
// 0x10000000", "end 0x10002000", "rw- shared" on three lines), else the
// field's name in words ("file table", "pipe"). What the rest says is its
// fields' symbols, and its number if it has one (a descriptor's), or, for
// a record of several, those in hexadecimal (addresses) that are not
// zero: its counts and numberings are bookkeeping, not what the reference
// is (refWords).
func refLabel(r *inspect.Record, ref *inspect.Field) string {
	if r.Object == nil || r == r.Object.State[0] {
		return inspect.Words(ref.Name)
	}
	var items []labelItem
	for _, f := range r.Fields {
		m := f.Meaning
		switch {
		case m.Ref != 0 || f.IsPad() || f.IsArray():
		case m.Names != nil || m.Format != nil:
			items = append(items, labelItem{symbol: f.Symbol})
		default:
			items = append(items, labelItem{name: strings.ToLower(f.Name), number: f.NumberText(), zero: f.Bits == 0, hex: m.Hex})
		}
	}
	if what := refWords(items); what != "" {
		return what
	}
	return inspect.Words(ref.Name)
}
