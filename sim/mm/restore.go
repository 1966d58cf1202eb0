package mm

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// This file is how a restart rebuilds an address space without the system
// calls, which would merge, place and check differently: it gives an empty
// MM (New) its break, then its VMAs in address order, then the frames of
// their private pages, each frame made once (NewFrame) and installed at
// every page that maps it, so that pages shared copy on write stay shared.
// Segments are made once (NewSegment), filled (Segment.Install) and given
// to every VMA that maps them. Checkpoint walks the same things: VMAs,
// Pages (in address order, with each page's frame), Segment.Indexes.
// Every constructor validates what it is given and refuses it with EINVAL
// and a message that says why, changing nothing.

// VMASpec describes a VMA to install.
type VMASpec struct {
	Start, End uint64
	Prot       Prot
	Flags      Flags
	PgOff      uint64
	// File is the open file a file VMA maps (the VMA takes a reference);
	// Segment the segment of shared anonymous memory (likewise). At most
	// one of them.
	File    *vfs.File
	Segment *Segment
	// Anon and Chain are the anon_vma identity and chain length (see
	// AnonVMA): nil and 0, or an identity shared by the VMAs that shared
	// one, and the chain length they had.
	Anon  *AnonVMA
	Chain int
}

// SetBrk sets where the heap starts and the break, before any VMA is
// installed: start_brk page-aligned, start_brk <= brk <= TaskSize.
func (m *MM) SetBrk(startBrk, brk uint64) error {
	switch {
	case len(m.vmas) > 0:
		return fmt.Errorf("the break is set before the VMAs: %w", errno.EINVAL)
	case !aligned(startBrk) || brk < startBrk || brk > TaskSize:
		return fmt.Errorf("start_brk %#x and break %#x: %w", startBrk, brk, errno.EINVAL)
	}
	m.startBrk, m.brk = startBrk, brk
	return nil
}

// AddVMA installs a VMA after the last one. It refuses one that is empty,
// unaligned, past TaskSize, not after the last VMA, mergeable with it (an
// address space the system calls could not have built), with unknown
// protection or flags, with both a file and a segment, a segment or file
// that disagrees with the flags (a segment is shared; a file must be a
// regular one open for reading, and open for writing under a shared
// mapping that may write), an offset that overflows (a segment's VMA may
// reach past the segment's end, as mremap leaves it, not past any address
// space), or an anon_vma chain that does not fit its identity;
// and a VMA past the map-count limit.
func (m *MM) AddVMA(s VMASpec) error {
	if err := m.checkSpec(s); err != nil {
		return fmt.Errorf("VMA %#x-%#x: %v: %w", s.Start, s.End, err, errno.EINVAL)
	}
	v := &VMA{mm: m, start: s.Start, end: s.End, prot: s.Prot, flags: s.Flags, pgoff: s.PgOff,
		file: s.File, seg: s.Segment, anon: s.Anon, chain: s.Chain}
	if v.file != nil {
		v.file.Get()
	}
	if v.seg != nil {
		v.seg.Get()
	}
	m.link(v)
	m.vmas = append(m.vmas, v)
	return nil
}

func (m *MM) checkSpec(s VMASpec) error {
	pagesIn := pages(s.Start, s.End)
	switch {
	case len(m.vmas) > m.maxMapCount:
		return fmt.Errorf("more than %d VMAs", m.maxMapCount+1)
	case !aligned(s.Start) || !aligned(s.End) || s.Start >= s.End || s.End > TaskSize:
		return fmt.Errorf("not a page-aligned range below TASK_SIZE")
	case len(m.vmas) > 0 && m.vmas[len(m.vmas)-1].end > s.Start:
		return fmt.Errorf("not after the VMA that ends at %#x", m.vmas[len(m.vmas)-1].end)
	case s.Prot&^protAll != 0 || s.Flags&^flagsAll != 0:
		return fmt.Errorf("protection %#x, flags %v", int(s.Prot), s.Flags)
	case s.File != nil && s.Segment != nil:
		return fmt.Errorf("both a file and a segment")
	case s.Segment != nil && s.Flags&Shared == 0, s.Flags&Shared == 0 && s.Flags&MayWrite == 0:
		return fmt.Errorf("flags %v do not fit its backing", s.Flags)
	case s.PgOff+pagesIn < s.PgOff || s.File != nil && s.PgOff > (maxFileBytes>>12)-pagesIn:
		return fmt.Errorf("page offset %#x overflows", s.PgOff)
	case s.Segment != nil && s.PgOff+pagesIn > TaskSize/PageSize:
		// A VMA may reach past its segment's end (mremap grows the
		// mapping, not the segment: the pages past it fault), but not
		// past any address space.
		return fmt.Errorf("pages %d-%d of a segment", s.PgOff, s.PgOff+pagesIn)
	case (s.Anon == nil) != (s.Chain == 0) || s.Chain < 0:
		return fmt.Errorf("anon_vma chain of %d", s.Chain)
	}
	if f := s.File; f != nil {
		mode := f.Mode()
		switch {
		case f.Dentry() == nil || !f.Dentry().Inode().IsRegular():
			return fmt.Errorf("maps a file that is not a regular file")
		case mode&vfs.FMODE_READ == 0:
			return fmt.Errorf("maps a file not open for reading")
		case s.Flags&(Shared|MayWrite) == Shared|MayWrite && mode&vfs.FMODE_WRITE == 0:
			return fmt.Errorf("shares a file not open for writing")
		case s.Flags&Shared != 0 && s.Flags&MayWrite == 0 && s.Prot&ProtWrite != 0:
			return fmt.Errorf("writes a shared mapping that may not write")
		}
	}
	if n := len(m.vmas); n > 0 {
		v := &VMA{start: s.Start, end: s.End, prot: s.Prot, flags: s.Flags, pgoff: s.PgOff, file: s.File, seg: s.Segment, anon: s.Anon, chain: s.Chain}
		if m.vmas[n-1].end == s.Start && s.Start != m.startBrk && mergeable(m.vmas[n-1], v) {
			return fmt.Errorf("mergeable with the VMA before it")
		}
	}
	return nil
}

// InstallPage maps frame f, taking a reference, at the private page addr:
// addr must be page-aligned, in a private VMA, and not mapped yet. A
// frame installed at several pages (of one or several address spaces) is
// shared copy on write, as after fork; installing a page gives its VMA an
// anon_vma if it has none.
func (m *MM) InstallPage(addr uint64, f *Frame) error { return m.InstallPages(addr, []*Frame{f}) }

// InstallPages is InstallPage for consecutive pages from addr, all in one
// VMA, one frame each: what restart does for a run of pages, checked once
// for the run. It changes nothing when it refuses.
func (m *MM) InstallPages(addr uint64, fs []*Frame) error {
	end := addr + uint64(len(fs))*PageSize
	v := m.Find(addr)
	switch {
	case !aligned(addr) || v == nil || !v.private():
		return fmt.Errorf("page %#x is not in a private VMA: %w", addr, errno.EINVAL)
	case end > v.end || end < addr:
		return fmt.Errorf("pages %#x-%#x are not in one VMA: %w", addr, end, errno.EINVAL)
	}
	if taken, ok := m.pages.setRun(pageOf(addr), fs); !ok {
		return fmt.Errorf("page %#x is mapped twice: %w", taken*PageSize, errno.EINVAL)
	}
	if v.anon == nil {
		v.anon, v.chain = NewAnonVMA(), 1
	}
	for _, f := range fs {
		f.Get()
	}
	return nil
}
