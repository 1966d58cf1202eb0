package equiv

import "github.com/ckptsim/ckptsim/sim/kernel"

// The kinds of object Pairs holds, as the comparison names them.
const (
	PairFileTable = "file table"
	PairFS        = "fs state"
	PairFile      = "file"
	PairPipe      = "pipe"
	// PairGhost pairs the inodes of unlinked files, by inode number.
	PairGhost   = "unlinked inode"
	PairSocket  = "socket pair"
	PairMM      = "address space"
	PairSegment = "segment"
	// PairFrame pairs page frames, by serial number; PairAnonVMA the
	// anon_vma numbers of the views.
	PairFrame   = "frame"
	PairAnonVMA = "anon_vma"
)

// Pairs is how the comparison matched two worlds' objects: for each kind
// (PairFileTable, ...), the kernel id of each object of the first world to
// the id of its counterpart in the second. Tasks pair by pid.
type Pairs map[string]map[uint64]uint64

// Pair returns the pairing Equal finds between two worlds, or EqualSubtree
// when root is not 0 (the subtree rooted at root): each object is paired
// with the one at the same path (pid, fd, its pipe...) in the other world,
// on first encounter, as the comparison walks the task trees. It does not
// judge: where the worlds differ the pairing is partial, and Equal says
// how they differ. Tools use it to show which object became which, a
// picture of a world beside its restored copy, say.
func Pair(a, b *kernel.View, root int) Pairs {
	c := newComparer(a, b)
	switch {
	case root != 0:
		if a.Task(root) != nil && b.Task(root) != nil {
			c.tree(root, false)
		}
	default:
		for _, pid := range a.Top {
			if b.Task(pid) != nil {
				c.tree(pid, true)
			}
		}
	}
	return Pairs(c.pairs)
}
