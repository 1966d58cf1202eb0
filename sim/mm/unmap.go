package mm

import "github.com/ckptsim/ckptsim/sim/errno"

// Munmap unmaps [addr, addr+length), as munmap(2), with length rounded up
// to a page: EINVAL for an unaligned address, a length of 0, or a range
// that does not end by TaskSize; ENOMEM when it would cut a hole in the
// middle of one VMA while the address space is at its map-count limit.
// Unmapping pages that are not mapped is not an error.
func (m *MM) Munmap(addr, length uint64) error {
	if !aligned(addr) || addr > TaskSize || length > TaskSize-addr {
		return errno.EINVAL
	}
	end := addr + pageUp(length)
	if end == addr {
		return errno.EINVAL
	}
	if err := m.canUnmap(addr, end); err != nil {
		return err
	}
	m.unmap(addr, end)
	return nil
}

// canUnmap reports whether [start, end) can be unmapped: not when that
// splits one VMA in three while the address space has its map-count limit
// of VMAs already (ENOMEM). Cutting a VMA short needs no new VMA, and
// Linux lets the count pass the limit for the second split of a range
// that spans VMAs.
func (m *MM) canUnmap(start, end uint64) error {
	i := m.index(start)
	if i < len(m.vmas) && m.vmas[i].start < start && m.vmas[i].end > end && len(m.vmas) >= m.maxMapCount {
		return errno.ENOMEM
	}
	return nil
}

// unmap removes [start, end) from the address space: the VMAs in it, split
// at its ends, with their references, and the private pages in it.
func (m *MM) unmap(start, end uint64) {
	i := m.index(start)
	if i < len(m.vmas) && m.vmas[i].start < start {
		m.split(i, start)
		i++
	}
	for i < len(m.vmas) && m.vmas[i].start < end {
		if m.vmas[i].end > end {
			m.split(i, end)
		}
		m.remove(i)
	}
	for _, a := range m.framesIn(start, end) {
		m.unmapPage(a)
	}
}
