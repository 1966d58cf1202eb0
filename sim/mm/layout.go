package mm

import (
	"sort"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// The layout of every address space: Linux's on x86-64 with 4-level paging,
// address-space randomisation off and an 8 MiB stack limit.
const (
	// PageSize is the size of a page.
	PageSize = 4096
	// TaskSize is the end of user space (TASK_SIZE): the top page below
	// 2^47 is never mapped.
	TaskSize uint64 = 0x7ffffffff000
	// MmapBase is where mmap starts placing mappings, downward:
	// TASK_SIZE minus the stack gap, clamped to at least 128 MiB.
	MmapBase uint64 = TaskSize - 128<<20
	// MmapMinAddr is the lowest address mmap places a mapping at when
	// not told (CONFIG_LSM_MMAP_MIN_ADDR); a lower hint is raised to it.
	// MAP_FIXED may go lower: every task acts as root.
	MmapMinAddr uint64 = 0x10000
	// UnmappedBase is where placement looks upward from when nothing
	// fits below MmapBase (TASK_UNMAPPED_BASE: a third of TASK_SIZE).
	UnmappedBase uint64 = (TaskSize/3 + PageSize - 1) &^ (PageSize - 1)
	// StartBrk is where every task's heap starts (start_brk), and its
	// first program break. Linux puts it after the program's data, which
	// the simulator does not have; the constant is below the window
	// scripts use, so that brk and mmap never meet by accident.
	StartBrk uint64 = 0x1000000
	// DefaultMaxMapCount is vm.max_map_count: Linux's bound on an address
	// space's VMAs.
	DefaultMaxMapCount = 65530
)

// pageUp rounds n up to a page as Linux's PAGE_ALIGN does, wrapping to 0
// past the largest page-aligned value; callers treat 0 as an overflow.
func pageUp(n uint64) uint64 { return (n + PageSize - 1) &^ (PageSize - 1) }

// aligned reports whether addr is on a page boundary.
func aligned(addr uint64) bool { return addr%PageSize == 0 }

// pageOf returns the page number of addr.
func pageOf(addr uint64) uint64 { return addr / PageSize }

// free reports whether no VMA meets [start, end).
func (m *MM) free(start, end uint64) bool {
	i := m.index(start)
	return i == len(m.vmas) || m.vmas[i].start >= end
}

// getUnmappedArea returns where a mapping of length bytes goes, as
// Linux's get_unmapped_area on x86-64: with fixed, addr itself (ENOMEM if
// the range crosses TaskSize, EINVAL if addr is not page-aligned);
// otherwise the hint addr when [addr, addr+length) is free and below
// TaskSize, else the highest free range below MmapBase and at or above
// MmapMinAddr, else the lowest free range from UnmappedBase up to
// TaskSize, else ENOMEM. The caller has raised a low hint (roundHint).
func (m *MM) getUnmappedArea(addr, length uint64, fixed bool) (uint64, error) {
	if length > TaskSize {
		return 0, errno.ENOMEM
	}
	if fixed {
		if addr > TaskSize-length {
			return 0, errno.ENOMEM
		}
		if !aligned(addr) {
			return 0, errno.EINVAL
		}
		return addr, nil
	}
	if addr != 0 {
		addr &^= PageSize - 1
		if addr <= TaskSize-length && m.free(addr, addr+length) {
			return addr, nil
		}
	}
	if a, ok := m.topDown(length, MmapMinAddr, MmapBase); ok {
		return a, nil
	}
	if a, ok := m.bottomUp(length, UnmappedBase, TaskSize); ok {
		return a, nil
	}
	return 0, errno.ENOMEM
}

// roundHint is Linux's round_hint_to_min: a hint is cut to a page, and a
// hint below MmapMinAddr is raised to it.
func roundHint(addr uint64) uint64 {
	addr &^= PageSize - 1
	if addr != 0 && addr < MmapMinAddr {
		return MmapMinAddr
	}
	return addr
}

// topDown returns the highest address a with [a, a+length) free and within
// [low, high).
func (m *MM) topDown(length, low, high uint64) (uint64, bool) {
	// The VMAs before j start below high; the walk goes down from there.
	j := sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].start >= high })
	gapEnd := high
	for i := j - 1; ; i-- {
		gapStart := low
		if i >= 0 && m.vmas[i].end > low {
			gapStart = m.vmas[i].end
		}
		if gapEnd > gapStart && gapEnd-gapStart >= length {
			return gapEnd - length, true
		}
		if i < 0 || m.vmas[i].start <= low {
			return 0, false
		}
		gapEnd = m.vmas[i].start
	}
}

// bottomUp returns the lowest address a with [a, a+length) free and within
// [low, high).
func (m *MM) bottomUp(length, low, high uint64) (uint64, bool) {
	gapStart := low
	for i := m.index(low); ; i++ {
		gapEnd := high
		if i < len(m.vmas) {
			gapEnd = min(m.vmas[i].start, high)
		}
		if gapEnd > gapStart && gapEnd-gapStart >= length {
			return gapStart, true
		}
		if i >= len(m.vmas) || m.vmas[i].end >= high {
			return 0, false
		}
		gapStart = max(m.vmas[i].end, low)
	}
}
