package inspect

import (
	"github.com/ckptsim/ckptsim/ckpt/image"
)

// intro is where an OBJREF record introduces an objref.
type intro struct {
	index   int
	objType uint64
}

// markObjrefs marks every objref field. Checkpoint writes an object's
// OBJREF record on its first encounter, just before the reference that met
// it, except for an object whose state follows the record that first refers
// to it (a pipe after the FILE record of the first file open on it: the
// spec's After). So the first field naming an objref is its first
// encounter when the objref was introduced before it (after it, for a
// pipe); every later one is a reference. Anything else is dangling.
func markObjrefs(recs []*Record) {
	intros := map[int64]intro{}
	dup := map[int]bool{} // OBJREF records that reintroduce an objref
	for _, r := range recs {
		if r.Type != image.TypeObjref {
			continue
		}
		ref := r.value("Objref")
		if _, seen := intros[ref]; seen {
			dup[r.Index] = true
			continue
		}
		intros[ref] = intro{r.Index, r.Field("ObjType").Bits}
	}
	named := map[int64]bool{}
	for _, r := range recs {
		if r.Type == image.TypeObjref {
			f := r.Field("Objref")
			f.Mark = MarkFirst
			if dup[r.Index] {
				f.Mark = MarkDangling
			}
			continue
		}
		spec := image.SpecOf(r.Type)
		if spec == nil {
			continue
		}
		for _, rf := range spec.Refs() {
			f := r.Field(rf.Name)
			ref := f.Int()
			if ref == 0 {
				continue
			}
			in, ok := intros[ref]
			switch {
			case !ok || in.objType != uint64(rf.Meaning.Ref):
				f.Mark = MarkDangling
			case named[ref]:
				f.Mark = MarkRef
			case in.index < r.Index || rf.Meaning.After:
				f.Mark = MarkFirst
			default:
				f.Mark = MarkDangling
			}
			named[ref] = true
		}
	}
}
