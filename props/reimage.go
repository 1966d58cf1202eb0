package props

import (
	"bytes"
	"fmt"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// An image restart accepts must be the world it restores: checkpointing the
// restored container again, with the image's own clock and flags, must give
// the image back. Reimage takes that second checkpoint; SameImage compares
// it with the image. A restart that silently repaired, dropped or reset a
// field (a register, a flag, a pipe buffer's offset) gives a second image
// that differs, where the kernel's own consistency check and a comparison
// of worlds made by the same restart would both pass.

// Reimage checkpoints the container rooted at root in k, which restart
// built from img, with img's clock (its header's time), checkpoint flags
// and compression, freezing it for the checkpoint and thawing it
// afterwards.
func Reimage(k *kernel.Kernel, root int, img []byte) ([]byte, error) {
	recs, err := toTail(img)
	if err != nil {
		return nil, err
	}
	at := time.Unix(0, imgedit.Get(recs[0], "Time"))
	flags := imgedit.Get(recs[0], "Flags")
	e := &ckpt.Engine{Kernel: k, Clock: func() time.Time { return at }, Compress: flags&image.FlagZstd != 0}
	return e.Snapshot(root, int(flags&^image.FlagZstd))
}

// SameImage says whether again, a checkpoint of the world restart built
// from img (Reimage), is img. It compares two ways:
//
//   - As worlds (equiv.EqualImages): every field of every task and object,
//     objects named by a walk rather than by objref. This holds for any
//     image restart accepts that describes its world faithfully, canonical
//     or not, and it says what differs when the bytes do.
//   - As bytes, up to img's tail: restart refuses an image that is not
//     canonical (objrefs out of first-encounter order, an object nothing
//     refers to), and the checkpoint of a world is canonical, so the two
//     must be the same bytes.
//
// Both are compared as plain records, through the decompressor of a
// compressed image: the compressed bytes are the compressor's, not the
// world's. Where the bytes cannot be the same, again is first made what
// img's writer would have written: its header is replaced by img's (the header
// holds the checkpointing kernel's uts strings, which restart does not
// read, and img's format version), and, when img is of an older minor
// version, again loses what the newer minors added that img has none of
// (olderMinor). Bytes after img's tail are not part of the image: restart
// never reads past it.
//
// It returns nil, or an error saying where the two differ.
func SameImage(img, again []byte) error {
	a, err := toTail(img)
	if err != nil {
		return err
	}
	b, err := toTail(again)
	if err != nil {
		return fmt.Errorf("the second checkpoint: %w", err)
	}
	if imgedit.Get(a[0], "Major") == imgedit.Get(b[0], "Major") && imgedit.Get(a[0], "Minor") < imgedit.Get(b[0], "Minor") {
		b = olderMinor(b, a)
	}
	b[0] = a[0]
	// The records compared are the plain ones (a compressed image's are
	// read through its decompressor), so the header says plain.
	if flags := imgedit.Get(a[0], "Flags"); flags&image.FlagZstd != 0 {
		b[0] = imgedit.Clone(a[:1])[0]
		imgedit.Set(b[0], "Flags", flags&^image.FlagZstd)
		a = append([]*image.Record{b[0]}, a[1:]...)
	}
	want, got := image.Encode(a, true), image.Encode(b, true)
	if err := equiv.EqualImages(want, got); err != nil {
		return fmt.Errorf("the restored world checkpoints as another world: %w", err)
	}
	if bytes.Equal(want, got) {
		return nil
	}
	for i := range min(len(a), len(b)) {
		if a[i].Type != b[i].Type || !bytes.Equal(a[i].Fixed, b[i].Fixed) || !bytes.Equal(a[i].Tail, b[i].Tail) {
			return fmt.Errorf("the same world, not the same bytes: record %d (%v at offset %d) checkpoints as %v: the image is not canonical",
				i, a[i].Type, a[i].Offset, b[i].Type)
		}
	}
	return fmt.Errorf("the same world, not the same bytes: %d records, checkpointed as %d", len(a), len(b))
}

// olderMinor drops from recs what a newer minor version added, as far as
// old, an image of the older minor, shows it: the stream records of types
// old has none of (PIDNS from 1.1, TASK_MM from 1.2), and the objects of
// types old introduces none of (address spaces from 1.2) with their
// OBJREF records and their state.
func olderMinor(recs, old []*image.Record) []*image.Record {
	has, objects := map[image.Type]bool{}, map[image.ObjType]bool{}
	for _, r := range old {
		has[r.Type] = true
		if imgedit.Is(r, "OBJREF") {
			objects[image.ObjType(imgedit.Get(r, "ObjType"))] = true
		}
	}
	var out []*image.Record
	for _, r := range recs {
		spec := image.SpecOf(r.Type)
		switch {
		case imgedit.Is(r, "OBJREF") && !objects[image.ObjType(imgedit.Get(r, "ObjType"))]:
		case spec.Object != 0 && !objects[spec.Object]:
		case spec.Object == 0 && !has[r.Type]:
		default:
			out = append(out, r)
		}
	}
	return renumber(out)
}

// renumber gives the objects of recs the objrefs a checkpoint would give
// them, 1 up in order of their OBJREF records, and every objref field the
// new number of the object it names: what dropping objects leaves behind.
func renumber(recs []*image.Record) []*image.Record {
	recs = imgedit.Clone(recs)
	next := map[int64]int64{}
	for _, r := range recs {
		if imgedit.Is(r, "OBJREF") {
			next[imgedit.Get(r, "Objref")] = int64(len(next) + 1)
			imgedit.Set(r, "Objref", int64(len(next)))
		}
	}
	for _, r := range recs {
		for _, f := range image.SpecOf(r.Type).Refs() {
			if n, ok := next[imgedit.Get(r, f.Name)]; ok {
				imgedit.Set(r, f.Name, n)
			}
		}
	}
	return recs
}

// toTail reads an image's records up to and including its tail record.
func toTail(img []byte) ([]*image.Record, error) {
	recs, err := imgedit.Read(img)
	switch {
	case len(recs) == 0 || !imgedit.Is(recs[len(recs)-1], "TAIL"):
		return nil, fmt.Errorf("not a whole image: %v", err)
	case !imgedit.Is(recs[0], "HEADER"):
		return nil, fmt.Errorf("the image does not start with a header")
	}
	return recs, nil
}
