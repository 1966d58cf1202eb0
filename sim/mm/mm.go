package mm

import (
	"sort"

	"github.com/ckptsim/ckptsim/sim/kref"
)

// MM is an address space (Linux's mm_struct): the VMAs, the page table of
// private pages, and the program break.
//
// The page table holds only private pages: a private anonymous page that
// was written, or a private file page copied by its first store. Shared
// pages live in their segment or file and are found through the VMA.
//
// Its reference count is held by every live task that uses it: one after
// spawn or fork, more after clone with CLONE_VM. A zombie has none.
type MM struct {
	kref.Count
	reg   *kref.Registry
	vmas  []*VMA    // sorted by address, disjoint
	pages pageTable // page number -> frame, private pages only
	// startBrk is where the heap starts, brk the program break: the heap
	// is the pages from startBrk up to brk rounded up to a page.
	startBrk, brk uint64
	// maxMapCount is vm.max_map_count for this address space.
	maxMapCount int
}

// Ref implements kref.Object.
func (m *MM) Ref() *kref.Count { return &m.Count }

// New returns an empty address space with one reference, the caller's: no
// mappings, and the break at StartBrk. maxMapCount bounds its VMAs as
// vm.max_map_count does (DefaultMaxMapCount when not positive).
func New(reg *kref.Registry, maxMapCount int) *MM {
	if maxMapCount <= 0 {
		maxMapCount = DefaultMaxMapCount
	}
	m := &MM{reg: reg, pages: newPageTable(), startBrk: StartBrk, brk: StartBrk, maxMapCount: maxMapCount}
	m.Init(reg, kref.MM, m)
	return m
}

// Fork returns a copy of the address space for a child, as fork's
// dup_mmap: the same VMAs, each holding its file and segment once more;
// private pages mapped by both, copy on write; the same break. A VMA
// whose pages went private gets a new anon_vma in the child, whose chain
// includes the parent's.
func (m *MM) Fork() *MM {
	c := New(m.reg, m.maxMapCount)
	c.startBrk, c.brk = m.startBrk, m.brk
	for _, v := range m.vmas {
		n := v.clone(c)
		if v.anon != nil {
			n.anon, n.chain = NewAnonVMA(), v.chain+1
		}
		c.vmas = append(c.vmas, n)
		c.link(n)
	}
	m.pages.each(func(_ uint64, f *Frame) { f.Get() })
	c.pages = m.pages.fork()
	return c
}

// Get takes a reference, for a task that shares the address space.
func (m *MM) Get() { m.Count.Get() }

// Put drops a reference; the last one unmaps everything, as exit_mmap.
func (m *MM) Put() {
	m.Count.Put(func() {
		for _, v := range m.vmas {
			m.drop(v)
		}
		m.vmas = nil
		m.pages.each(func(p uint64, f *Frame) { f.Put() })
		m.pages.release()
	})
}

// VMAs returns the VMAs in address order.
func (m *MM) VMAs() []*VMA { return append([]*VMA(nil), m.vmas...) }

// MapCount returns the number of VMAs (Linux's map_count).
func (m *MM) MapCount() int { return len(m.vmas) }

// MaxMapCount returns the bound on MapCount.
func (m *MM) MaxMapCount() int { return m.maxMapCount }

// Break returns the program break.
func (m *MM) Break() uint64 { return m.brk }

// StartBrk returns where the heap starts.
func (m *MM) StartBrk() uint64 { return m.startBrk }

// Empty reports whether the address space has no mappings and its break
// where it started.
func (m *MM) Empty() bool { return len(m.vmas) == 0 && m.brk == m.startBrk }

// IsHeap reports whether v is the heap, as /proc/PID/maps decides it
// (Linux's vma_is_initial_heap): the VMA starts below the break and ends
// above start_brk. So a mapping merged with the heap is the heap too.
func (m *MM) IsHeap(v *VMA) bool { return v.start < m.brk && v.end > m.startBrk }

// Find returns the VMA that holds addr, or nil.
func (m *MM) Find(addr uint64) *VMA {
	if i := m.index(addr); i < len(m.vmas) && m.vmas[i].start <= addr {
		return m.vmas[i]
	}
	return nil
}

// Pages calls fn for every private page, in address order, with its frame.
func (m *MM) Pages(fn func(addr uint64, f *Frame)) {
	m.pages.inOrder(0, pageOf(TaskSize), func(p uint64, f *Frame) { fn(p*PageSize, f) })
}

// PageFrame returns the frame of the private page at addr, or nil.
func (m *MM) PageFrame(addr uint64) *Frame { return m.pages.get(pageOf(addr)) }

// index returns the position of the first VMA that ends after addr: the
// one that holds addr, or the next one.
func (m *MM) index(addr uint64) int {
	return sort.Search(len(m.vmas), func(i int) bool { return m.vmas[i].end > addr })
}

// framesIn returns the addresses of the private pages in [start, end), in
// order. A huge range costs what the page table's blocks cost.
func (m *MM) framesIn(start, end uint64) []uint64 {
	var out []uint64
	m.pages.inOrder(pageOf(start+PageSize-1), pageOf(end+PageSize-1), func(p uint64, _ *Frame) { out = append(out, p*PageSize) })
	return out
}

// unmapPage drops the private page at addr, if any.
func (m *MM) unmapPage(addr uint64) {
	if f := m.pages.del(pageOf(addr)); f != nil {
		f.Put()
	}
}

// setPage maps frame f, whose reference the caller hands over, at addr,
// dropping the frame that was there.
func (m *MM) setPage(addr uint64, f *Frame) {
	m.unmapPage(addr)
	m.pages.set(pageOf(addr), f)
}

// clone returns a copy of v for address space to, holding its own
// references to v's file and segment; its anon_vma is v's.
func (v *VMA) clone(to *MM) *VMA {
	n := *v
	n.mm = to
	if n.file != nil {
		n.file.Get()
	}
	if n.seg != nil {
		n.seg.Get()
	}
	return &n
}

// link lists a new file VMA among its file's mappings.
func (m *MM) link(v *VMA) {
	if in := v.inode(); in != nil {
		in.AddMapping(v)
	}
}

// drop lets go of a VMA that left the address space: its file (and the
// file's mapping list) and its segment. Its private pages are the
// caller's business.
func (m *MM) drop(v *VMA) {
	if in := v.inode(); in != nil {
		in.RemoveMapping(v)
		v.file.Put()
	}
	if v.seg != nil {
		v.seg.Put()
	}
}

// insert puts a new VMA, already linked, at its place in the list.
func (m *MM) insert(v *VMA) {
	i := m.index(v.start)
	m.vmas = append(m.vmas, nil)
	copy(m.vmas[i+1:], m.vmas[i:])
	m.vmas[i] = v
}

// remove takes the VMA at position i out of the list and drops it.
func (m *MM) remove(i int) {
	v := m.vmas[i]
	m.vmas = append(m.vmas[:i], m.vmas[i+1:]...)
	m.drop(v)
}

// split cuts the VMA at position i in two at addr, as Linux's __split_vma:
// the new VMA, the upper part, shares the anon_vma and holds its own
// references. It does not check the map-count limit: callers do, where
// Linux does.
func (m *MM) split(i int, addr uint64) {
	v := m.vmas[i]
	n := v.clone(m)
	n.start = addr
	n.pgoff = v.pgoffAt(addr)
	v.end = addr
	m.link(n)
	m.vmas = append(m.vmas, nil)
	copy(m.vmas[i+2:], m.vmas[i+1:])
	m.vmas[i+1] = n
}
