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
// built from img, with img's clock (its header's time) and checkpoint
// flags, freezing it for the checkpoint and thawing it afterwards.
func Reimage(k *kernel.Kernel, root int, img []byte) ([]byte, error) {
	recs, err := toTail(img)
	if err != nil {
		return nil, err
	}
	at := time.Unix(0, imgedit.Get(recs[0], "Time"))
	e := &ckpt.Engine{Kernel: k, Clock: func() time.Time { return at }}
	return e.Snapshot(root, int(imgedit.Get(recs[0], "Flags")))
}

// SameImage says whether again, a checkpoint of the world restart built
// from img (Reimage), is img. It compares two ways:
//
//   - As worlds (equiv.EqualImages): every field of every task and object,
//     objects named by a walk of the tree rather than by objref. This holds
//     for any image restart accepts that describes its world faithfully,
//     canonical or not.
//   - As bytes, up to img's tail: restart refuses an image that is not
//     canonical (objrefs out of first-encounter order, an object nothing
//     refers to), and the checkpoint of a world is canonical, so the two
//     must be the same bytes. The header is the one exception: it holds the
//     checkpointing kernel's uts strings, which restart does not read, so
//     again's header is replaced by img's before comparing. Bytes after
//     img's tail are not part of the image: restart never reads past it.
//
// It returns nil, or an error saying where the two differ.
func SameImage(img, again []byte) error {
	if err := equiv.EqualImages(img, again); err != nil {
		return fmt.Errorf("the restored world checkpoints as another world: %w", err)
	}
	a, err := toTail(img)
	if err != nil {
		return err
	}
	b, err := toTail(again)
	if err != nil {
		return fmt.Errorf("the second checkpoint: %w", err)
	}
	b[0] = a[0]
	want, got := image.Encode(a, false), image.Encode(b, true)
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
