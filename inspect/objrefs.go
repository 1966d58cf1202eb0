package inspect

import "github.com/ckptsim/ckptsim/ckpt/image"

// refField is a field that names an objref, and the object type it names.
type refField struct {
	t       image.Type
	name    string
	objType uint64
}

// refFields are the fields that name objrefs. An objref of 0 names
// nothing (a zombie's file table, a file that is no pipe end).
var refFields = []refField{
	{image.TypeTaskObjs, "FileTable", image.ObjFileTable},
	{image.TypeTaskObjs, "FS", image.ObjFS},
	{image.TypeFd, "File", image.ObjFile},
	{image.TypeFile, "Pipe", image.ObjPipe},
	{image.TypeFile, "Ghost", image.ObjGhost},
}

// intro is where an OBJREF record introduces an objref.
type intro struct {
	index   int
	objType uint64
}

// markObjrefs marks every objref field. Checkpoint writes an object's
// OBJREF record on its first encounter, just before the reference that met
// it, except for a pipe, whose state follows the FILE record of the first
// file open on it. So the first field naming an objref is its first
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
		for _, rf := range refFields {
			if rf.t != r.Type {
				continue
			}
			f := r.Field(rf.name)
			ref := f.Int()
			if ref == 0 {
				continue
			}
			in, ok := intros[ref]
			switch {
			case !ok || in.objType != rf.objType:
				f.Mark = MarkDangling
			case named[ref]:
				f.Mark = MarkRef
			case in.index < r.Index || rf.objType == image.ObjPipe:
				f.Mark = MarkFirst
			default:
				f.Mark = MarkDangling
			}
			named[ref] = true
		}
	}
}
