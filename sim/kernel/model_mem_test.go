package kernel

import (
	"bytes"
	"slices"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/mm"
)

// The memory part of the model (model_test.go has the rest): for each
// address space, which pages of a small window and of the heap are mapped,
// with which protection, private or as a page of which segment, and the
// bytes of its private pages; each segment holds its own bytes. It knows
// nothing of VMAs, merging or frames: it predicts by the page, and Check
// compares it with the kernel's view. The window is small, so that mappings
// overlap, split and merge often.

const (
	winBase   = 0x10000000
	winPages  = 16
	heapPages = 4 // the heap's window, from mm.StartBrk
	page      = mm.PageSize
)

// mSeg is shared anonymous memory: its size and the bytes of its pages.
type mSeg struct {
	pages int64
	data  map[int64][]byte // absent: zeros
}

// mPage is a mapped page: its protection, and its segment and index when
// shared.
type mPage struct {
	prot  int
	seg   *mSeg
	index int64
}

// mMem is an address space.
type mMem struct {
	pages map[uint64]mPage  // by page address
	data  map[uint64][]byte // the bytes of private pages (absent: zeros)
	brk   uint64
}

func newMem() *mMem {
	return &mMem{pages: map[uint64]mPage{}, data: map[uint64][]byte{}, brk: mm.StartBrk}
}

// fork copies the address space: the same pages and segments, private
// bytes of its own.
func (mem *mMem) fork() *mMem {
	c := newMem()
	c.brk = mem.brk
	for a, p := range mem.pages {
		c.pages[a] = p
	}
	for a, d := range mem.data {
		c.data[a] = bytes.Clone(d)
	}
	return c
}

// bytesOf returns the bytes of the mapped page at a (nil for zeros),
// giving it bytes of its own when create.
func (mem *mMem) bytesOf(a uint64, create bool) []byte {
	p := mem.pages[a]
	if p.seg != nil {
		if p.seg.data[p.index] == nil && create {
			p.seg.data[p.index] = make([]byte, page)
		}
		return p.seg.data[p.index]
	}
	if mem.data[a] == nil && create {
		mem.data[a] = make([]byte, page)
	}
	return mem.data[a]
}

// reach returns how many of the n bytes at addr an access may move before
// the first page that refuses it, by the rules of remote accesses
// (process_vm_*: reading needs PROT_READ) or of the CPU (read(2) and
// write(2): any page but PROT_NONE can be read); writing needs PROT_WRITE.
func (mem *mMem) reach(addr uint64, n int, write, cpu bool) int {
	done := 0
	for done < n {
		a := addr + uint64(done)
		p, ok := mem.pages[a&^(page-1)]
		allowed := p.prot&int(mm.ProtWrite) != 0
		if !write {
			allowed = p.prot&int(mm.ProtRead) != 0 || cpu && p.prot != 0
		}
		if !ok || !allowed {
			break
		}
		done += min(page-int(a%page), n-done)
	}
	return done
}

// access moves buf to or from addr as far as reach allows, and returns how
// many bytes it moved.
func (mem *mMem) access(addr uint64, buf []byte, write, cpu bool) int {
	n := mem.reach(addr, len(buf), write, cpu)
	for done := 0; done < n; {
		a := addr + uint64(done)
		k := min(page-int(a%page), n-done)
		if write {
			copy(mem.bytesOf(a&^(page-1), true)[a%page:], buf[done:done+k])
		} else if d := mem.bytesOf(a&^(page-1), false); d != nil {
			copy(buf[done:done+k], d[a%page:])
		} else {
			clear(buf[done : done+k])
		}
		done += k
	}
	return n
}

// unmapPages forgets the pages [a, a+n pages).
func (mem *mMem) unmapPages(a uint64, n int) {
	for i := range n {
		delete(mem.pages, a+uint64(i)*page)
		delete(mem.data, a+uint64(i)*page)
	}
}

// memCaller draws a caller as caller does, with its address space.
func (m *kernelModel) memCaller(t *rapid.T) (*mMem, int) {
	mt, pid := m.caller(t)
	if mt == nil {
		return nil, pid
	}
	return mt.mem, pid
}

// pagesIn draws a range of whole pages in the window.
func pagesIn(t *rapid.T) (uint64, int) {
	first := rapid.IntRange(0, winPages-1).Draw(t, "first page")
	n := rapid.IntRange(1, min(4, winPages-first)).Draw(t, "pages")
	return winBase + uint64(first)*page, n
}

// anyAddr draws an address in the window or the heap's, most often in a
// page mem maps, so that accesses find memory (and copies on write) often.
func anyAddr(t *rapid.T, mem *mMem) uint64 {
	if mem != nil && len(mem.pages) > 0 && rapid.IntRange(0, 3).Draw(t, "in a mapped page") > 0 {
		mapped := make([]uint64, 0, len(mem.pages))
		for a := range mem.pages {
			mapped = append(mapped, a)
		}
		slices.Sort(mapped)
		return rapid.SampledFrom(mapped).Draw(t, "page") + uint64(rapid.IntRange(0, page-1).Draw(t, "offset"))
	}
	if rapid.IntRange(0, 3).Draw(t, "in the heap") == 0 {
		return mm.StartBrk + uint64(rapid.IntRange(0, heapPages*page-1).Draw(t, "heap offset"))
	}
	return winBase + uint64(rapid.IntRange(0, winPages*page-1).Draw(t, "offset"))
}

var protChoices = []int{0, int(mm.ProtRead), int(mm.ProtWrite), int(mm.ProtRead | mm.ProtWrite)}

func (m *kernelModel) Mmap(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr, n := pagesIn(t)
	prot := rapid.SampledFrom(protChoices).Draw(t, "prot")
	shared := rapid.Bool().Draw(t, "MAP_SHARED")
	noReplace := rapid.Bool().Draw(t, "MAP_FIXED_NOREPLACE")
	flags := mm.MAP_ANONYMOUS | mm.MAP_PRIVATE | mm.MAP_FIXED
	if shared {
		flags = flags&^mm.MAP_PRIVATE | mm.MAP_SHARED
	}
	if noReplace {
		flags = flags&^mm.MAP_FIXED | mm.MAP_FIXED_NOREPLACE
	}
	got, err := m.k.Mmap(pid, addr, uint64(n*page), prot, flags, -1, 0)
	if mem == nil {
		m.expect(t, "mmap by dead task", err, errno.ESRCH)
		return
	}
	if noReplace {
		for i := range n {
			if _, ok := mem.pages[addr+uint64(i)*page]; ok {
				m.expect(t, "mmap over a mapping", err, errno.EEXIST)
				return
			}
		}
	}
	m.expect(t, "mmap", err, nil)
	if got != addr {
		t.Fatalf("mmap returned %#x, want %#x", got, addr)
	}
	mem.unmapPages(addr, n)
	var seg *mSeg
	if shared {
		seg = &mSeg{pages: int64(n), data: map[int64][]byte{}}
	}
	for i := range n {
		mem.pages[addr+uint64(i)*page] = mPage{prot: prot, seg: seg, index: int64(i)}
	}
}

func (m *kernelModel) Munmap(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr, n := pagesIn(t)
	err := m.k.Munmap(pid, addr, uint64(n*page))
	if mem == nil {
		m.expect(t, "munmap by dead task", err, errno.ESRCH)
		return
	}
	m.expect(t, "munmap", err, nil)
	mem.unmapPages(addr, n)
}

// Mprotect changes pages from the first until a hole: a hole, or an
// unmapped first page, is ENOMEM.
func (m *kernelModel) Mprotect(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr, n := pagesIn(t)
	prot := rapid.SampledFrom(protChoices).Draw(t, "prot")
	err := m.k.Mprotect(pid, addr, uint64(n*page), prot)
	if mem == nil {
		m.expect(t, "mprotect by dead task", err, errno.ESRCH)
		return
	}
	for i := range n {
		a := addr + uint64(i)*page
		p, ok := mem.pages[a]
		if !ok {
			m.expect(t, "mprotect over a hole", err, errno.ENOMEM)
			return
		}
		p.prot = prot
		mem.pages[a] = p
	}
	m.expect(t, "mprotect", err, nil)
}

// Madvise with MADV_DONTNEED drops the private pages it covers; a hole
// makes it ENOMEM.
func (m *kernelModel) Madvise(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr, n := pagesIn(t)
	err := m.k.Madvise(pid, addr, uint64(n*page), mm.MADV_DONTNEED)
	if mem == nil {
		m.expect(t, "madvise by dead task", err, errno.ESRCH)
		return
	}
	var want error
	for i := range n {
		a := addr + uint64(i)*page
		if p, ok := mem.pages[a]; !ok {
			want = errno.ENOMEM
		} else if p.seg == nil {
			delete(mem.data, a)
		}
	}
	m.expect(t, "madvise", err, want)
}

// Brk moves the heap within its window; the window is far from the other
// mappings, so only a break below the heap's start is refused.
func (m *kernelModel) Brk(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr := uint64(0)
	if rapid.IntRange(0, 4).Draw(t, "query") > 0 {
		addr = mm.StartBrk + uint64(rapid.IntRange(0, heapPages*page).Draw(t, "break"))
	}
	got, err := m.k.Brk(pid, addr)
	if mem == nil {
		m.expect(t, "brk by dead task", err, errno.ESRCH)
		return
	}
	m.expect(t, "brk", err, nil)
	if addr >= mm.StartBrk {
		up := func(a uint64) uint64 { return (a + page - 1) &^ (page - 1) }
		for a := up(addr); a < up(mem.brk); a += page {
			mem.unmapPages(a, 1)
		}
		for a := up(mem.brk); a < up(addr); a += page {
			mem.pages[a] = mPage{prot: int(mm.ProtRead | mm.ProtWrite)}
		}
		mem.brk = addr
	}
	if got != mem.brk {
		t.Fatalf("brk returned %#x, want %#x", got, mem.brk)
	}
}

func (m *kernelModel) Memwrite(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr := anyAddr(t, mem)
	data := rapid.SliceOfN(rapid.Byte(), 0, 2*page+100).Draw(t, "data")
	n, err := m.k.ProcessVMWritev(pid, addr, data)
	if mem == nil {
		m.expect(t, "memwrite by dead task", err, errno.ESRCH)
		return
	}
	want := mem.access(addr, data, true, false)
	if want == 0 && len(data) > 0 {
		m.expect(t, "memwrite", err, errno.EFAULT)
		return
	}
	m.expect(t, "memwrite", err, nil)
	if n != want {
		t.Fatalf("memwrite at %#x wrote %d of %d bytes, want %d", addr, n, len(data), want)
	}
}

func (m *kernelModel) Memread(t *rapid.T) {
	mem, pid := m.memCaller(t)
	addr := anyAddr(t, mem)
	count := rapid.IntRange(0, 2*page+100).Draw(t, "count")
	got, err := m.k.ProcessVMReadv(pid, addr, count)
	if mem == nil {
		m.expect(t, "memread by dead task", err, errno.ESRCH)
		return
	}
	buf := make([]byte, count)
	n := mem.access(addr, buf, false, false)
	if n == 0 && count > 0 {
		m.expect(t, "memread", err, errno.EFAULT)
		return
	}
	m.expect(t, "memread", err, nil)
	if !bytes.Equal(got, buf[:n]) {
		t.Fatalf("memread at %#x of %d read %d bytes, want %d (or different bytes)", addr, count, len(got), n)
	}
}

// memOf returns a task's address space, nil for none.
func memOf(mt *mTask) *mMem {
	if mt == nil {
		return nil
	}
	return mt.mem
}

// regularFile draws one of the caller's descriptors; ok is false for a
// pipe, which the memory rules leave alone.
func (m *kernelModel) regularFile(t *rapid.T, mt *mTask) (fd int, f *mFile, ok bool) {
	fd = m.fd(t)
	if mt == nil {
		return fd, nil, true
	}
	f = mt.table.fds[fd]
	return fd, f, f == nil || f.pipe == nil
}

// WriteMem is write(2) from memory to a regular file: it writes what the
// CPU can read before the first page that refuses; nothing is EFAULT.
func (m *kernelModel) WriteMem(t *rapid.T) {
	mt, pid := m.caller(t)
	fd, f, ok := m.regularFile(t, mt)
	if !ok {
		return
	}
	addr := anyAddr(t, memOf(mt))
	count := rapid.IntRange(0, 2*page+100).Draw(t, "count")
	n, err := m.k.WriteMem(pid, fd, addr, count)
	switch {
	case mt == nil:
		m.expect(t, "write from memory by dead task", err, errno.ESRCH)
		return
	case f == nil || !f.write:
		m.expect(t, "write from memory", err, errno.EBADF)
		return
	}
	buf := make([]byte, count)
	want := mt.mem.access(addr, buf, false, true)
	if want == 0 && count > 0 {
		m.expect(t, "write from memory", err, errno.EFAULT)
		return
	}
	m.expect(t, "write from memory", err, nil)
	if n != want {
		t.Fatalf("write from %#x wrote %d, want %d", addr, n, want)
	}
	in := f.inode
	if f.appendTo {
		f.pos = len(in.data)
	}
	if end := f.pos + want; end > len(in.data) {
		in.data = append(in.data, make([]byte, end-len(in.data))...)
	}
	copy(in.data[f.pos:], buf[:want])
	f.pos += want
}

// ReadMem is read(2) from a regular file into memory: it reads what fits
// before the first page the CPU may not write; nothing fitting is EFAULT,
// unless the file is at its end.
func (m *kernelModel) ReadMem(t *rapid.T) {
	mt, pid := m.caller(t)
	fd, f, ok := m.regularFile(t, mt)
	if !ok {
		return
	}
	addr := anyAddr(t, memOf(mt))
	count := rapid.IntRange(0, 2*page+100).Draw(t, "count")
	n, err := m.k.ReadMem(pid, fd, addr, count)
	switch {
	case mt == nil:
		m.expect(t, "read into memory by dead task", err, errno.ESRCH)
		return
	case f == nil || !f.read:
		m.expect(t, "read into memory", err, errno.EBADF)
		return
	}
	avail := max(len(f.inode.data)-f.pos, 0)
	room := mt.mem.reach(addr, count, true, true)
	want := min(count, room, avail)
	if want == 0 && count > 0 && avail > 0 {
		m.expect(t, "read into memory", err, errno.EFAULT)
		return
	}
	m.expect(t, "read into memory", err, nil)
	if n != want {
		t.Fatalf("read into %#x read %d, want %d", addr, n, want)
	}
	mt.mem.access(addr, f.inode.data[f.pos:f.pos+want], true, true)
	f.pos += want
}

// checkMemory compares every live task's address space with the model:
// which tasks share one, and page by page of the windows its mapping,
// protection, sharing (which segment, which page of it) and bytes.
func (m *kernelModel) checkMemory(t *rapid.T, v *View) {
	mmOf := map[*mMem]uint64{}
	memOf := map[uint64]*mMem{}
	users := map[*mMem]int64{}
	for _, tv := range v.Tasks {
		mt := m.tasks[tv.Pid]
		if mt.mem == nil {
			if tv.MM != 0 {
				t.Fatalf("zombie %d has address space %d", tv.Pid, tv.MM)
			}
			continue
		}
		users[mt.mem]++
		if id, seen := mmOf[mt.mem]; seen && id != tv.MM || memOf[tv.MM] != nil && memOf[tv.MM] != mt.mem {
			t.Fatalf("task %d has address space %d, which the model does not share that way", tv.Pid, tv.MM)
		}
		mmOf[mt.mem], memOf[tv.MM] = tv.MM, mt.mem
	}
	segOf := map[uint64]*mSeg{}
	for mem, id := range mmOf {
		mv := v.MMs[id]
		if mv.Refs != users[mem] {
			t.Fatalf("address space %d has %d users, the model %d", id, mv.Refs, users[mem])
		}
		if mv.Brk != mem.brk {
			t.Fatalf("address space %d has its break at %#x, the model at %#x", id, mv.Brk, mem.brk)
		}
		frames := map[uint64][]byte{}
		for _, p := range mv.Pages {
			frames[p.Addr] = p.Data
		}
		check := func(a uint64) {
			var vma *VMAView
			for i := range mv.VMAs {
				if mv.VMAs[i].Start <= a && a < mv.VMAs[i].End {
					vma = &mv.VMAs[i]
				}
			}
			p, mapped := mem.pages[a]
			switch {
			case (vma != nil) != mapped:
				t.Fatalf("page %#x of address space %d: mapped %v, the model %v", a, id, vma != nil, mapped)
			case !mapped:
				return
			case int(vma.Prot) != p.prot || vma.Shared != (p.seg != nil):
				t.Fatalf("page %#x of address space %d: %s, the model prot %d shared %v", a, id, vma.Line, p.prot, p.seg != nil)
			}
			want := mem.bytesOf(a, false)
			got := frames[a]
			if p.seg != nil {
				if known, ok := m.kernelSeg[p.seg]; ok && known != vma.Segment || segOf[vma.Segment] != nil && segOf[vma.Segment] != p.seg {
					t.Fatalf("page %#x of address space %d maps segment %d, which the model does not share that way", a, id, vma.Segment)
				}
				m.kernelSeg[p.seg], segOf[vma.Segment] = vma.Segment, p.seg
				sv := v.Segments[vma.Segment]
				index := int64(vma.PgOff + (a-vma.Start)/page)
				if sv.Pages != p.seg.pages || index != p.index {
					t.Fatalf("page %#x of address space %d: page %d of a %d-page segment, the model page %d of %d", a, id, index, sv.Pages, p.index, p.seg.pages)
				}
				got = nil
				for _, f := range sv.Frames {
					if f.Addr == uint64(index) {
						got = f.Data
					}
				}
			}
			if !bytes.Equal(orZeros(got), orZeros(want)) {
				t.Fatalf("page %#x of address space %d holds other bytes than the model's", a, id)
			}
		}
		for i := range winPages {
			check(winBase + uint64(i)*page)
		}
		for i := range heapPages + 1 {
			check(mm.StartBrk + uint64(i)*page)
		}
	}
}

// orZeros returns a page's bytes, a page of zeros for none.
func orZeros(b []byte) []byte {
	if b == nil {
		return make([]byte, page)
	}
	return b
}
