package mm

// Brk moves the program break to addr, as brk(2), and returns the break:
// addr when the move succeeded (exactly addr, not rounded to a page), the
// old break when it was refused. brk never fails with an errno; a query is
// any address below the heap's start, brk(0) for one.
//
// The heap is the pages from StartBrk up to the break rounded up to a
// page. Growing maps the new pages as private read-write memory, joining
// the VMA that ends at the old break when it can (Linux's do_brk_flags), or
// as a VMA of their own; it is refused when any mapping lies within a page
// of the new end, past TaskSize, or at the map-count limit. Shrinking
// unmaps the pages above the new end; it is refused when nothing is mapped
// there. A VMA that ends exactly at StartBrk never joins the heap, as in
// Linux (so two mergeable VMAs may meet there).
func (m *MM) Brk(addr uint64) uint64 {
	if addr < m.startBrk {
		return m.brk
	}
	newbrk, oldbrk := pageUp(addr), pageUp(m.brk)
	switch {
	case newbrk == oldbrk:
		m.brk = addr
		return addr
	case addr <= m.brk:
		return m.shrinkBrk(addr, newbrk, oldbrk)
	case newbrk == 0 || newbrk > TaskSize || !m.free(oldbrk, newbrk+PageSize) || len(m.vmas) > m.maxMapCount:
		return m.brk
	}
	p := &proposal{start: oldbrk, end: newbrk, attrs: attrs{prot: ProtRead | ProtWrite, flags: MayWrite | Account}, pgoff: pageOf(oldbrk)}
	if prev := m.brkVMA(oldbrk); prev == nil || prev.end != oldbrk || !p.canJoinPrev(prev) {
		v := &VMA{mm: m, start: p.start, end: p.end, prot: p.attrs.prot, flags: p.attrs.flags, pgoff: p.pgoff}
		m.insert(v)
	} else {
		prev.end = newbrk
	}
	m.brk = addr
	return addr
}

// shrinkBrk moves the break down, unmapping [newbrk, oldbrk). Linux sets
// the break before it unmaps, and keeps it when the unmap fails (at the
// map-count limit), so the new break is returned even then.
func (m *MM) shrinkBrk(addr, newbrk, oldbrk uint64) uint64 {
	if m.free(newbrk, oldbrk) {
		return m.brk // the heap was unmapped some other way
	}
	m.brk = addr
	if m.canUnmap(newbrk, oldbrk) == nil {
		m.unmap(newbrk, oldbrk)
	}
	return addr
}

// brkVMA returns the VMA the heap grows from (Linux's
// vma_prev_limit(start_brk)): the last one that starts below oldbrk, if it
// ends above StartBrk.
func (m *MM) brkVMA(oldbrk uint64) *VMA {
	i := m.index(oldbrk) - 1 // the range above oldbrk is free
	if i < 0 || m.vmas[i].end <= m.startBrk {
		return nil
	}
	return m.vmas[i]
}
