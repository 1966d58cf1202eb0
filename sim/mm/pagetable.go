package mm

import "slices"

// pageTable maps page numbers to the frames of private pages. It is a
// two-level table, as a hardware one is: a map from the number of a
// 2 MiB-aligned block to an array of its 512 entries. A lookup is a map
// access and an index; a walk in address order sorts the few block
// numbers, not the pages, and then scans arrays, so that checkpointing
// 64 MiB of pages costs a scan, not a sort of 16,384 keys.
//
// Fork shares the blocks, copy on write (fork): a child's table is the
// parent's blocks until either changes one, which then gets its own copy.
// So forking costs a reference per block, not a copy of 4 KiB, and a
// checkpoint tells a block of a hundred forked tasks from another by its
// address (frames.cutAgain).
type pageTable struct {
	dir map[uint64]*ptBlock
	n   int // entries in use
}

const ptBits = 9 // 512 entries a block

type ptBlock struct {
	e [1 << ptBits]*Frame
	n int // entries in use
	// shared counts the other tables holding this block; a table that
	// changes a shared block copies it first (own).
	shared int
}

// fork returns a table holding the same frames, sharing t's blocks.
func (t *pageTable) fork() pageTable {
	c := pageTable{dir: make(map[uint64]*ptBlock, len(t.dir)), n: t.n}
	for k, b := range t.dir {
		b.shared++
		c.dir[k] = b
	}
	return c
}

// release gives up t's blocks, leaving them to the tables that share them.
func (t *pageTable) release() {
	for _, b := range t.dir {
		if b.shared > 0 {
			b.shared--
		}
	}
	*t = newPageTable()
}

// own returns the block k of t for a change: a new one when t has none, a
// copy, t's own, when another table shares it.
func (t *pageTable) own(k uint64) *ptBlock {
	b := t.dir[k]
	switch {
	case b == nil:
		b = &ptBlock{}
		t.dir[k] = b
	case b.shared > 0:
		b.shared--
		b = &ptBlock{e: b.e, n: b.n}
		t.dir[k] = b
	}
	return b
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
	b := t.own(p >> ptBits)
	e := &b.e[p&(1<<ptBits-1)]
	if *e == nil {
		b.n++
		t.n++
	}
	*e = f
}

// setRun puts the frames fs (none nil) at the consecutive pages from p,
// a block at a time. When a page has a frame already it changes nothing
// and returns that page, with ok false. Restart installs its runs of
// pages with it: a map access a block, not two a page.
func (t *pageTable) setRun(p uint64, fs []*Frame) (taken uint64, ok bool) {
	for q, rest := p, fs; len(rest) > 0; {
		o := q & (1<<ptBits - 1)
		n := min(uint64(len(rest)), 1<<ptBits-o)
		if b := t.dir[q>>ptBits]; b != nil {
			if i := slices.IndexFunc(b.e[o:o+n], func(f *Frame) bool { return f != nil }); i >= 0 {
				return q + uint64(i), false
			}
		}
		q, rest = q+n, rest[n:]
	}
	for q, rest := p, fs; len(rest) > 0; {
		o := q & (1<<ptBits - 1)
		n := min(uint64(len(rest)), 1<<ptBits-o)
		b := t.own(q >> ptBits)
		copy(b.e[o:o+n], rest[:n])
		b.n += int(n)
		t.n += int(n)
		q, rest = q+n, rest[n:]
	}
	return 0, true
}

// del empties page p and returns the frame it held, or nil.
func (t *pageTable) del(p uint64) *Frame {
	b := t.dir[p>>ptBits]
	if b == nil || b.e[p&(1<<ptBits-1)] == nil {
		return nil
	}
	b = t.own(p >> ptBits)
	e := &b.e[p&(1<<ptBits-1)]
	f := *e
	*e = nil
	b.n--
	t.n--
	if b.n == 0 {
		delete(t.dir, p>>ptBits)
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
