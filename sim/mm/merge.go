package mm

import "github.com/ckptsim/ckptsim/sim/errno"

// This file is when Linux merges VMAs (mm/vma.c), which /proc/PID/maps
// shows: a range joins an adjacent VMA when they have the same protection,
// flags and backing, their backing pages are contiguous, and their
// anon_vmas allow it. Merging happens when a range is mapped (mmap, brk,
// mremap's new range) and when a range's protection or advice changes
// (mprotect, madvise); nothing else merges.

// attrs are what a VMA is besides its range and anon_vma: two VMAs merge
// only when these are equal.
type attrs struct {
	prot  Prot
	flags Flags
	file  any // *vfs.File or *Segment: the same object, not just the same inode
}

func (v *VMA) attrs() attrs {
	a := attrs{prot: v.prot, flags: v.flags}
	switch {
	case v.file != nil:
		a.file = v.file
	case v.seg != nil:
		a.file = v.seg
	}
	return a
}

// pages returns the number of pages of [start, end).
func pages(start, end uint64) uint64 { return (end - start) / PageSize }

// forkChild reports whether v's anon_vma came from a parent by fork and
// was never its own (Linux's vma_is_fork_child: a chain of more than one).
func forkChild(v *VMA) bool { return v != nil && v.anon != nil && v.chain > 1 }

// anonMergeable is Linux's is_mergeable_anon_vma: may a range whose
// anon_vma is anon, coming from VMA src (the VMA being changed, the source
// of an mremap, or nil for a new range), join target? A fork child's
// anon_vma is not spread to or adopted from a VMA that has none.
func anonMergeable(anon *AnonVMA, src, target *VMA) bool {
	switch {
	case target.anon == nil && anon != nil:
		return !forkChild(src)
	case target.anon != nil && anon == nil:
		return !forkChild(target)
	}
	return anon == target.anon
}

// anonCompatible reports whether two VMAs on both sides of a range may
// become one: their anon_vmas, if both have one, are the same.
func anonCompatible(a, b *VMA) bool { return a.anon == nil || b.anon == nil || a.anon == b.anon }

// proposal is a range about to get a VMA's attributes: a new mapping, or
// a changed part of an existing VMA.
type proposal struct {
	start, end uint64
	attrs      attrs
	pgoff      uint64
	anon       *AnonVMA
	chain      int
	src        *VMA // the VMA the range comes from, or nil for a new one
}

// canJoinPrev is Linux's can_vma_merge_left: prev ends where the range
// starts and may take it in.
func (p *proposal) canJoinPrev(prev *VMA) bool {
	return prev != nil && prev.end == p.start && prev.attrs() == p.attrs &&
		anonMergeable(p.anon, p.src, prev) && prev.pgoff+pages(prev.start, prev.end) == p.pgoff
}

// canJoinNext is Linux's can_vma_merge_right: next starts where the range
// ends and may take it in; if prev takes it too, prev and next must be
// compatible with each other.
func (p *proposal) canJoinNext(prev, next *VMA, joinPrev bool) bool {
	if next == nil || next.start != p.end || next.attrs() != p.attrs ||
		!anonMergeable(p.anon, p.src, next) || next.pgoff != p.pgoff+pages(p.start, p.end) {
		return false
	}
	return !joinPrev || anonCompatible(prev, next)
}

// adoptAnon gives target the anon_vma of from, if target has none (Linux's
// dup_anon_vma).
func adoptAnon(target *VMA, anon *AnonVMA, chain int) {
	if target.anon == nil && anon != nil {
		target.anon, target.chain = anon, chain
	}
}

// neighbours returns the VMAs right before and right after the free range
// that starts at start (nil for none), and the position of the one after.
func (m *MM) neighbours(start uint64) (prev, next *VMA, ni int) {
	ni = m.index(start)
	if ni > 0 {
		prev = m.vmas[ni-1]
	}
	if ni < len(m.vmas) {
		next = m.vmas[ni]
	}
	return prev, next, ni
}

// mergeNew is Linux's vma_merge_new_range: the free range of p joins the
// VMA before it, the one after it, or both (which become one). It returns
// the VMA that now holds the range, or nil when no merge was possible.
func (m *MM) mergeNew(p *proposal) *VMA {
	prev, next, ni := m.neighbours(p.start)
	left := p.canJoinPrev(prev)
	right := p.canJoinNext(prev, next, left)
	switch {
	case left && right:
		adoptAnon(prev, next.anon, next.chain)
		adoptAnon(prev, p.anon, p.chain)
		prev.end = next.end
		m.remove(ni)
		return prev
	case left:
		adoptAnon(prev, p.anon, p.chain)
		prev.end = p.end
		return prev
	case right:
		adoptAnon(next, p.anon, p.chain)
		next.start, next.pgoff = p.start, p.pgoff
		return next
	}
	return nil
}

// modify gives [start, end) of the VMA at position i (which holds the
// whole range) protection prot and flags, as Linux's vma_modify_flags:
// the range joins a compatible neighbour if it can
// (vma_merge_existing_range), else it is split off its VMA, each split
// failing with ENOMEM when the address space is at its map-count limit.
// It returns the position of the VMA that ends up holding the range.
func (m *MM) modify(i int, start, end uint64, prot Prot, flags Flags) (int, error) {
	v := m.vmas[i]
	p := &proposal{start: start, end: end, pgoff: v.pgoffAt(start), anon: v.anon, chain: v.chain, src: v,
		attrs: attrs{prot: prot, flags: flags, file: v.attrs().file}}
	if j, ok := m.mergeExisting(i, p); ok {
		return j, nil
	}
	if v.start < start {
		if len(m.vmas) >= m.maxMapCount {
			return i, errno.ENOMEM
		}
		m.split(i, start)
		i++
	}
	if m.vmas[i].end > end {
		if len(m.vmas) >= m.maxMapCount {
			return i, errno.ENOMEM
		}
		m.split(i, end)
	}
	m.vmas[i].prot, m.vmas[i].flags = prot, flags
	return i, nil
}

// mergeExisting is Linux's vma_merge_existing_range: the range p, a part
// of the VMA at position i that touches one of its ends, joins the VMA
// before it or after it (or both, when it is the whole VMA).
func (m *MM) mergeExisting(i int, p *proposal) (int, bool) {
	v := m.vmas[i]
	leftSide, rightSide := p.start == v.start, p.end == v.end
	if !leftSide && !rightSide {
		return i, false
	}
	var prev, next *VMA
	if i > 0 {
		prev = m.vmas[i-1]
	}
	if i+1 < len(m.vmas) {
		next = m.vmas[i+1]
	}
	left := leftSide && p.canJoinPrev(prev)
	right := rightSide && p.canJoinNext(prev, next, left)
	switch {
	case left && right:
		// prev takes the VMA and next.
		if next.anon != nil {
			adoptAnon(prev, next.anon, next.chain)
		}
		adoptAnon(prev, v.anon, v.chain)
		prev.end = next.end
		m.remove(i + 1)
		m.remove(i)
		return i - 1, true
	case left:
		adoptAnon(prev, v.anon, v.chain)
		prev.end = p.end
		if rightSide {
			m.remove(i)
		} else {
			v.start, v.pgoff = p.end, v.pgoffAt(p.end)
		}
		return i - 1, true
	case right:
		adoptAnon(next, v.anon, v.chain)
		next.start, next.pgoff = p.start, p.pgoff
		if leftSide {
			m.remove(i)
			return i, true
		}
		v.end = p.start
		return i + 1, true
	}
	return i, false
}

// mergeable reports whether two adjacent VMAs could be one, as a new
// range of the right one's attributes would join the left one. Check uses
// it: an address space the system calls built has no such pair, except
// where Linux leaves one (brk's new VMA, see Brk).
func mergeable(a, b *VMA) bool {
	p := &proposal{start: b.start, end: b.end, attrs: b.attrs(), pgoff: b.pgoff, anon: b.anon, chain: b.chain, src: b}
	return p.canJoinPrev(a)
}

// prepareAnon gives a VMA its anon_vma before its first private page, as
// Linux's anon_vma_prepare: it reuses the anon_vma of the VMA after it, or
// else of the one before it, when that neighbour differs only in
// protection, is contiguous in its backing, and has an anon_vma of its own
// (find_mergeable_anon_vma); else it gets a new one.
func (m *MM) prepareAnon(v *VMA) {
	if v.anon != nil {
		return
	}
	i := m.index(v.start)
	reusable := func(a, b, old *VMA) bool {
		return a.end == b.start && a.flags == b.flags && a.attrs().file == b.attrs().file &&
			b.pgoff == a.pgoff+pages(a.start, a.end) && old.anon != nil && old.chain == 1
	}
	if i+1 < len(m.vmas) && reusable(v, m.vmas[i+1], m.vmas[i+1]) {
		v.anon, v.chain = m.vmas[i+1].anon, 1
		return
	}
	if i > 0 && reusable(m.vmas[i-1], v, m.vmas[i-1]) {
		v.anon, v.chain = m.vmas[i-1].anon, 1
		return
	}
	v.anon, v.chain = NewAnonVMA(), 1
}
