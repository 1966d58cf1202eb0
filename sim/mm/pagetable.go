package mm

import "slices"

// pageTable maps page numbers to the frames of private pages. It is a
// two-level table, as a hardware one is: a map from the number of a
// 2 MiB-aligned block to an array of its 512 entries. A lookup is a map
// access and an index; a walk in address order sorts the few block
// numbers, not the pages, and then scans arrays, so that checkpointing
// 64 MiB of pages costs a scan, not a sort of 16,384 keys.
type pageTable struct {
	dir map[uint64]*ptBlock
	n   int // entries in use
}

const ptBits = 9 // 512 entries a block

type ptBlock struct {
	e [1 << ptBits]*Frame
	n int // entries in use
}

func newPageTable() pageTable { return pageTable{dir: map[uint64]*ptBlock{}} }

// get returns the frame of page p, or nil.
func (t *pageTable) get(p uint64) *Frame {
	if b := t.dir[p>>ptBits]; b != nil {
		return b.e[p&(1<<ptBits-1)]
	}
	return nil
}

// set puts f (not nil) at page p, which must have no frame.
func (t *pageTable) set(p uint64, f *Frame) {
	b := t.dir[p>>ptBits]
	if b == nil {
		b = &ptBlock{}
		t.dir[p>>ptBits] = b
	}
	e := &b.e[p&(1<<ptBits-1)]
	if *e == nil {
		b.n++
		t.n++
	}
	*e = f
}

// del empties page p and returns the frame it held, or nil.
func (t *pageTable) del(p uint64) *Frame {
	b := t.dir[p>>ptBits]
	if b == nil {
		return nil
	}
	e := &b.e[p&(1<<ptBits-1)]
	f := *e
	if f != nil {
		*e = nil
		b.n--
		t.n--
		if b.n == 0 {
			delete(t.dir, p>>ptBits)
		}
	}
	return f
}

// len returns the number of pages that have frames.
func (t *pageTable) len() int { return t.n }

// each calls fn for every page with its frame, in no particular order.
func (t *pageTable) each(fn func(p uint64, f *Frame)) {
	for k, b := range t.dir {
		for i, f := range b.e {
			if f != nil {
				fn(k<<ptBits|uint64(i), f)
			}
		}
	}
}

// inOrder calls fn for every page in [from, to) that has a frame, in
// increasing order.
func (t *pageTable) inOrder(from, to uint64, fn func(p uint64, f *Frame)) {
	t.blocks(from, to, func(first uint64, es []*Frame) {
		for i, f := range es {
			if f != nil {
				fn(first+uint64(i), f)
			}
		}
	})
}

// blocks calls fn for each block that meets the pages [from, to), in
// increasing order, with the block's entries for those pages (nil where a
// page has no frame) and the page number of the first: a walk that costs
// a call per block, not per page.
func (t *pageTable) blocks(from, to uint64, fn func(first uint64, es []*Frame)) {
	if from >= to {
		return
	}
	lo, hi := from>>ptBits, (to-1)>>ptBits
	var keys []uint64
	if hi-lo < uint64(len(t.dir)) {
		for k := lo; k <= hi; k++ {
			if t.dir[k] != nil {
				keys = append(keys, k)
			}
		}
	} else {
		for k := range t.dir {
			if k >= lo && k <= hi {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
	}
	for _, k := range keys {
		i, j := uint64(0), uint64(1<<ptBits)
		if k == lo {
			i = from & (1<<ptBits - 1)
		}
		if k == hi {
			j = (to-1)&(1<<ptBits-1) + 1
		}
		fn(k<<ptBits|i, t.dir[k].e[i:j])
	}
}
