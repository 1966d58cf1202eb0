package mm

import "github.com/ckptsim/ckptsim/sim/errno"

// mremap flags, with Linux's values.
const (
	MREMAP_MAYMOVE   = 1
	MREMAP_FIXED     = 2
	MREMAP_DONTUNMAP = 4 // not modelled: EINVAL
)

// Mremap resizes or moves a mapping, as mremap(2) in Linux 6.18, and
// returns its address. Lengths are rounded up to a page.
//
//   - EINVAL: unknown flags (MREMAP_DONTUNMAP too, not modelled), an
//     unaligned old address, a new length of 0 or past TaskSize; with
//     MREMAP_FIXED, a new address that is unaligned or crosses TaskSize,
//     no MREMAP_MAYMOVE, or a new range overlapping the old one; an old
//     length of 0 on a private mapping.
//   - EFAULT: nothing mapped at the old address, or an old range (when it
//     grows or moves) past the end of its VMA.
//   - ENOMEM: a range that cannot grow in place without MREMAP_MAYMOVE;
//     the map-count limit (moves need room for four more VMAs).
//
// A shrink unmaps the tail, across VMAs if the old range spans several. A
// growth extends the VMA in place when the old range ends it and the pages
// after it are free, else moves it with MREMAP_MAYMOVE. A move takes the
// VMA's attributes and pages to the new range (which joins a compatible
// neighbour there) and unmaps the old range. An old length of 0 on shared
// memory maps the same pages a second time. MREMAP_FIXED with equal
// lengths moves every VMA of the range, keeping the gaps between them.
func (m *MM) Mremap(addr, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	oldLen, newLen = pageUp(oldLen), pageUp(newLen)
	fixed := flags&MREMAP_FIXED != 0
	switch {
	case flags&^(MREMAP_MAYMOVE|MREMAP_FIXED) != 0, !aligned(addr), newLen == 0, newLen > TaskSize:
		return 0, errno.EINVAL
	case fixed && (newAddr > TaskSize-newLen || !aligned(newAddr) || flags&MREMAP_MAYMOVE == 0 ||
		addr+oldLen > newAddr && newAddr+newLen > addr):
		return 0, errno.EINVAL
	case fixed && len(m.vmas)+2 >= m.maxMapCount-3:
		return 0, errno.ENOMEM
	}
	if fixed && oldLen == newLen {
		return m.moveRange(addr, oldLen, newAddr)
	}
	r := &remap{addr: addr, oldLen: oldLen, newLen: newLen, newAddr: newAddr, fixed: fixed, mayMove: flags&MREMAP_MAYMOVE != 0}
	if err := m.checkRemap(r); err != nil {
		return 0, err
	}
	if fixed {
		return m.remapTo(r)
	}
	return m.remapAt(r)
}

// remap is one mremap of one VMA's range.
type remap struct {
	addr, oldLen, newLen, newAddr uint64
	fixed, mayMove                bool
}

// checkRemap is Linux's check_prep_vma: the VMA at r.addr must exist, and
// a range that grows or moves must lie within it.
func (m *MM) checkRemap(r *remap) error {
	v := m.Find(r.addr)
	if v == nil {
		return errno.EFAULT
	}
	if r.newLen <= r.oldLen && !r.fixed {
		return nil // a shrink or nothing: it may cross VMAs
	}
	if r.oldLen == 0 && v.private() {
		return errno.EINVAL // duplicating a private mapping makes no sense
	}
	if min(r.oldLen, r.newLen) > v.end-r.addr {
		return errno.EFAULT
	}
	return nil
}

// remapAt resizes in place, or moves to where the mapping fits.
func (m *MM) remapAt(r *remap) (uint64, error) {
	switch {
	case r.oldLen == r.newLen:
		return r.addr, nil
	case r.newLen < r.oldLen:
		return r.addr, m.Munmap(r.addr+r.newLen, r.oldLen-r.newLen)
	}
	v := m.Find(r.addr)
	if r.addr+r.oldLen == v.end && v.end+(r.newLen-r.oldLen) >= v.end &&
		v.end+(r.newLen-r.oldLen) <= TaskSize && m.free(v.end, v.end+(r.newLen-r.oldLen)) {
		// Expand in place: the new pages join the VMA, and perhaps the
		// VMA after them (Linux's vma_merge_extend).
		m.mergeNew(&proposal{start: v.end, end: v.end + (r.newLen - r.oldLen), attrs: v.attrs(),
			pgoff: v.pgoffAt(v.end), anon: v.anon, chain: v.chain})
		return r.addr, nil
	}
	if !r.mayMove {
		return 0, errno.ENOMEM
	}
	to, err := m.getUnmappedArea(0, r.newLen, false)
	if err != nil {
		return 0, err
	}
	return m.move(r.addr, r.oldLen, to, r.newLen)
}

// remapTo moves to the fixed address r.newAddr, after unmapping what is
// there, shrinking first if the new length is smaller.
func (m *MM) remapTo(r *remap) (uint64, error) {
	if err := m.Munmap(r.newAddr, r.newLen); err != nil {
		return 0, err
	}
	if m.Find(r.addr) == nil {
		return 0, errno.EFAULT
	}
	if r.newLen < r.oldLen {
		if err := m.Munmap(r.addr+r.newLen, r.oldLen-r.newLen); err != nil {
			return 0, err
		}
		if m.Find(r.addr) == nil {
			return 0, errno.EFAULT
		}
		r.oldLen = r.newLen
	}
	return m.move(r.addr, r.oldLen, r.newAddr, r.newLen)
}

// moveRange moves every VMA of [addr, addr+length) to newAddr, keeping the
// gaps between them, as Linux 6.17's remap_move for MREMAP_FIXED with
// equal lengths. The range must start in a VMA (EFAULT); a VMA that fails
// to move stops the walk, the earlier ones having moved.
func (m *MM) moveRange(addr, length, newAddr uint64) (uint64, error) {
	end := addr + length
	first := m.Find(addr)
	if first == nil {
		return 0, errno.EFAULT
	}
	// The pieces to move, as they are before anything moves.
	type piece struct{ start, end uint64 }
	var pieces []piece
	for i := m.index(addr); i < len(m.vmas) && m.vmas[i].start < end; i++ {
		pieces = append(pieces, piece{max(m.vmas[i].start, addr), min(m.vmas[i].end, end)})
	}
	target := newAddr
	for k, p := range pieces {
		if k > 0 {
			target += p.start - pieces[k-1].end
		}
		r := &remap{addr: p.start, oldLen: p.end - p.start, newLen: p.end - p.start, newAddr: target, fixed: true, mayMove: true}
		if err := m.checkRemap(r); err != nil {
			return 0, err
		}
		if _, err := m.remapTo(r); err != nil {
			return 0, err
		}
		target += p.end - p.start
	}
	return newAddr, nil
}

// move is Linux's move_vma: a VMA like the one at addr is made at
// [to, to+newLen) (joining a compatible neighbour there, as copy_vma),
// the private pages of [addr, addr+oldLen) move to it, and the old range
// is unmapped. An old length of 0 unmaps nothing: the shared pages are
// then mapped twice.
func (m *MM) move(addr, oldLen, to, newLen uint64) (uint64, error) {
	if len(m.vmas) >= m.maxMapCount-3 {
		return 0, errno.ENOMEM
	}
	v := m.Find(addr)
	n := v.clone(m)
	n.start, n.end, n.pgoff = to, to+newLen, v.pgoffAt(addr)
	if v.file == nil && v.seg == nil && v.anon == nil {
		n.pgoff = pageOf(to) // an untouched anonymous VMA takes its new place's offset
	}
	p := &proposal{start: n.start, end: n.end, attrs: n.attrs(), pgoff: n.pgoff, anon: n.anon, chain: n.chain, src: v}
	if merged := m.mergeNew(p); merged != nil {
		m.drop(n)
	} else {
		m.link(n)
		m.insert(n)
	}
	for _, a := range m.framesIn(addr, addr+oldLen) {
		m.pages.set(pageOf(to+a-addr), m.pages.del(pageOf(a)))
	}
	if oldLen > 0 && m.canUnmap(addr, addr+oldLen) == nil {
		m.unmap(addr, addr+oldLen)
	}
	return to, nil
}
