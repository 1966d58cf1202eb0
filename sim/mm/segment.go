package mm

import "github.com/ckptsim/ckptsim/sim/kref"

// Segment is shared anonymous memory: the pages behind a MAP_SHARED |
// MAP_ANONYMOUS mapping (Linux's shmem file, which /proc/PID/maps calls
// "/dev/zero (deleted)"). Every VMA that maps it sees the same pages; fork
// and mremap with an old size of 0 give it more VMAs.
//
// Its size is fixed when it is created, as the mapping's length: a VMA
// grown past it by mremap faults there (SIGBUS). A page gets its frame on
// its first access, load or store, as a shmem page does.
//
// Its reference count is held by every VMA that maps it; the last unmap
// frees it and its frames.
type Segment struct {
	kref.Count
	reg    *kref.Registry
	pages  int64
	frames pageTable // page index -> frame, for the pages touched
}

// Ref implements kref.Object.
func (s *Segment) Ref() *kref.Count { return &s.Count }

// NewSegment returns an empty segment of the given number of pages with
// one reference, the caller's (the VMA it is created for).
func NewSegment(reg *kref.Registry, pages int64) *Segment {
	s := &Segment{reg: reg, pages: pages, frames: newPageTable()}
	s.Init(reg, kref.Segment, s)
	return s
}

// Pages returns the segment's size in pages.
func (s *Segment) Pages() int64 { return s.pages }

// Frame returns the frame of page index, or nil if the page was never
// touched.
func (s *Segment) Frame(index int64) *Frame { return s.frames.get(uint64(index)) }

// Indexes returns the pages that have frames, in increasing order.
func (s *Segment) Indexes() []int64 {
	out := make([]int64, 0, s.frames.len())
	s.frames.inOrder(0, uint64(s.pages), func(i uint64, _ *Frame) { out = append(out, int64(i)) })
	return out
}

// Install puts f at page index, taking a reference on it, as restart
// builds a segment. The page must be within the segment and have no frame.
func (s *Segment) Install(index int64, f *Frame) {
	if index < 0 || index >= s.pages || s.frames.get(uint64(index)) != nil {
		panic("mm: segment install outside the segment or over a frame")
	}
	f.Get()
	s.frames.set(uint64(index), f)
}

// page returns the frame of page index, giving a page its (zero) frame on
// first touch.
func (s *Segment) page(index int64) *Frame {
	f := s.frames.get(uint64(index))
	if f == nil {
		f = NewFrame(s.reg, nil)
		s.frames.set(uint64(index), f)
	}
	return f
}

// Get takes a reference, for a new VMA.
func (s *Segment) Get() { s.Count.Get() }

// Put drops a reference; the last one frees the pages.
func (s *Segment) Put() {
	s.Count.Put(func() {
		s.frames.each(func(_ uint64, f *Frame) { f.Put() })
		s.frames = newPageTable()
	})
}
