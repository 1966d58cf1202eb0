package mm

import "fmt"

// Check verifies the address space's own invariants and returns every
// violation: VMAs sorted, disjoint, page-aligned, non-empty and below
// TaskSize, each with one backing that agrees with its flags and with its
// file in that file's mapping list; no two adjacent VMAs that Linux would
// have merged (except at StartBrk, where brk does not merge); at most the
// map-count limit plus one VMAs (a new mapping is allowed while the count
// is at the limit); every page-table entry inside a private VMA; the break
// at or above start_brk and below TaskSize. (The break may lie past the
// heap's end: a program can unmap its heap.) Reference counts are the
// kernel's check.
func (m *MM) Check() []error {
	var out []error
	bad := func(format string, args ...any) { out = append(out, fmt.Errorf(format, args...)) }
	if len(m.vmas) > m.maxMapCount+1 {
		bad("%d VMAs, more than the limit %d allows", len(m.vmas), m.maxMapCount)
	}
	for i, v := range m.vmas {
		switch {
		case v.mm != m:
			bad("VMA %v belongs to another address space", v)
		case !aligned(v.start) || !aligned(v.end) || v.start >= v.end || v.end > TaskSize:
			bad("VMA %v is not a page-aligned range below TASK_SIZE", v)
		case i > 0 && m.vmas[i-1].end > v.start:
			bad("VMA %v overlaps or precedes %v", v, m.vmas[i-1])
		case i > 0 && m.vmas[i-1].end == v.start && v.start != m.startBrk && mergeable(m.vmas[i-1], v):
			bad("VMAs %v and %v should have merged", m.vmas[i-1], v)
		}
		if v.prot&^protAll != 0 || v.flags&^flagsAll != 0 {
			bad("VMA %v has protection %#x, flags %v", v, int(v.prot), v.flags)
		}
		if v.file != nil && v.seg != nil || v.seg != nil && !v.Shared() || !v.Shared() && v.flags&MayWrite == 0 {
			bad("VMA %v: file %v, segment %v and flags %v disagree", v, v.file != nil, v.seg != nil, v.flags)
		}
		if v.anon != nil && v.chain < 1 || v.anon == nil && v.chain != 0 {
			bad("VMA %v has an anon_vma chain of %d", v, v.chain)
		}
		if in := v.inode(); in != nil {
			if !in.IsRegular() {
				bad("VMA %v maps a file that is not regular", v)
			}
			if !in.HasMapping(v) {
				bad("VMA %v is not among its file's mappings", v)
			}
		}
	}
	for _, a := range m.framesIn(0, TaskSize) {
		if v := m.Find(a); v == nil || !v.private() {
			bad("page-table entry at %#x is outside every private VMA", a)
		}
	}
	if m.pages.len() != len(m.framesIn(0, TaskSize)) {
		bad("page table holds entries at or above TASK_SIZE")
	}
	if !aligned(m.startBrk) || m.brk < m.startBrk || m.brk > TaskSize {
		bad("break %#x and start_brk %#x", m.brk, m.startBrk)
	}
	return out
}
