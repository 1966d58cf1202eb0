package mm

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// How says whose rules an access to task memory follows.
type How int

// The kinds of access.
const (
	// CPU is the task's own loads and stores, and the kernel's
	// copy_from_user and copy_to_user for read(2) and write(2): x86 page
	// protection, where any page that is not PROT_NONE can be read
	// (PROT_WRITE and PROT_EXEC imply reading) and only PROT_WRITE pages
	// written.
	CPU How = iota
	// Remote is get_user_pages, as process_vm_readv and process_vm_writev
	// use it: reading needs PROT_READ, writing PROT_WRITE.
	Remote
	// Force is get_user_pages with FOLL_FORCE, as /proc/PID/mem and
	// ptrace use it: a debugger reads any mapping, and writes any private
	// one whatever its protection (the store goes to a private copy of the
	// page); a shared mapping without PROT_WRITE it cannot write.
	Force
)

// Signal is the signal a faulting access raises in the task.
type Signal int

// The signals of faults, with Linux's numbers.
const (
	SIGBUS  Signal = 7  // a file page past the end of the file, or of a segment
	SIGSEGV Signal = 11 // nothing mapped, or the protection refuses
)

func (s Signal) String() string {
	switch s {
	case SIGBUS:
		return "SIGBUS"
	case SIGSEGV:
		return "SIGSEGV"
	}
	return fmt.Sprintf("signal %d", int(s))
}

// Fault is an access the address space refused: where, and the signal the
// task would get. It is EFAULT to errors.Is, as the system calls report
// it.
type Fault struct {
	Addr   uint64
	Signal Signal
}

func (f *Fault) Error() string {
	return fmt.Sprintf("%v at %#x: %v", f.Signal, f.Addr, errno.EFAULT)
}

// Unwrap returns EFAULT.
func (f *Fault) Unwrap() error { return errno.EFAULT }

// Access reads len(buf) bytes of memory at addr into buf, or with write
// stores buf there, following the rules of how, page by page. It returns
// how many bytes it moved before the first page that refuses, with a *Fault
// for that page (nil when all moved). Every reader and writer of task
// memory goes through it.
//
// A load of a private page that was never written reads 0 (a private file
// page reads the file); a store gives it a frame, copying the frame or the
// file page it saw, unless it holds the only mapping of its frame (copy on
// write). Shared pages are their segment's or file's; a file page past the
// end of the file faults with SIGBUS.
func (m *MM) Access(addr uint64, buf []byte, write bool, how How) (int, error) {
	done := 0
	for done < len(buf) {
		a := addr + uint64(done)
		v := m.Find(a)
		if a < addr || v == nil || !v.allows(write, how) {
			return done, &Fault{Addr: a, Signal: SIGSEGV}
		}
		n := min(PageSize-int(a%PageSize), len(buf)-done)
		var ok bool
		if write {
			ok = m.store(v, a, buf[done:done+n])
		} else {
			ok = m.load(v, a, buf[done:done+n])
		}
		if !ok {
			return done, &Fault{Addr: a, Signal: SIGBUS}
		}
		done += n
	}
	return done, nil
}

// Accessible returns how many of the n bytes at addr an access could move
// before the first page that would refuse it, without moving any: no page
// gets a frame, none is copied. The kernel uses it to size a read(2) or
// write(2) that stops at a fault.
func (m *MM) Accessible(addr uint64, n int, write bool, how How) int {
	done := 0
	for done < n {
		a := addr + uint64(done)
		v := m.Find(a)
		if a < addr || v == nil || !v.allows(write, how) || !m.backed(v, a) {
			return done
		}
		done += min(PageSize-int(a%PageSize), n-done)
	}
	return done
}

// backed reports whether the page at addr of v has memory behind it: any
// private or anonymous page does; a file page needs the file to reach into
// it, a segment page the segment to be that long.
func (m *MM) backed(v *VMA, addr uint64) bool {
	switch {
	case m.pages.get(pageOf(addr)) != nil:
		return true
	case v.seg != nil:
		return int64(v.pgoffAt(addr)) < v.seg.pages
	case v.file != nil:
		return v.pgoffAt(addr) < uint64(v.inode().CachePages())
	}
	return true
}

// allows reports whether v's protection lets the access through.
func (v *VMA) allows(write bool, how How) bool {
	switch {
	case write && v.prot&ProtWrite != 0:
		return true
	case write:
		// Only a debugger writes past the protection, and only to a
		// private copy.
		return how == Force && v.private() && v.flags&MayWrite != 0
	case how == CPU:
		return v.prot != 0
	case how == Remote:
		return v.prot&ProtRead != 0
	}
	return true // Force reads anything mapped
}

// load reads p, which lies within one page, at addr of v. It reports false
// for a page past the end of its file or segment.
func (m *MM) load(v *VMA, addr uint64, p []byte) bool {
	if !m.backed(v, addr) {
		return false
	}
	off := addr % PageSize
	switch f := m.pages.get(pageOf(addr)); {
	case f != nil:
		copy(p, f.data[off:])
	case v.seg != nil:
		copy(p, v.seg.page(int64(v.pgoffAt(addr))).data[off:])
	case v.file != nil:
		v.inode().ReadCache(int64(v.pgoffAt(addr)*PageSize+off), p)
	default:
		clear(p) // never written: zeros
	}
	return true
}

// store writes p, which lies within one page, at addr of v. It reports
// false for a page past the end of its file or segment.
func (m *MM) store(v *VMA, addr uint64, p []byte) bool {
	if !m.backed(v, addr) {
		return false
	}
	off := addr % PageSize
	switch {
	case v.private():
		copy(m.privatePage(v, addr).data[off:], p)
	case v.seg != nil:
		copy(v.seg.page(int64(v.pgoffAt(addr))).data[off:], p)
	default:
		v.inode().WriteCache(int64(v.pgoffAt(addr)*PageSize+off), p)
	}
	return true
}

// privatePage returns a frame at addr of private VMA v that a store may
// write: the page's own frame when nothing else maps it; else a copy of
// what the page showed (a frame shared since fork, the file page, or
// zeros). The page is backed.
func (m *MM) privatePage(v *VMA, addr uint64) *Frame {
	old := m.pages.get(pageOf(addr))
	if old != nil && old.MapCount() == 1 {
		return old
	}
	var contents []byte
	switch {
	case old != nil:
		contents = old.data[:]
	case v.file != nil:
		contents = make([]byte, PageSize)
		v.inode().ReadCache(int64(v.pgoffAt(addr)*PageSize), contents)
	}
	m.prepareAnon(v)
	f := NewFrame(m.reg, contents)
	m.setPage(addr, f)
	return f
}

// PageID identifies the memory a page shows: a frame, or a page of a
// file's page cache. Two addresses show the same memory when their
// PageIDs are equal.
type PageID struct {
	Frame *Frame
	Inode *vfs.Inode
	Index uint64 // the file page, with Inode
}

// PageAt returns what the page at addr shows (for sameframe, which Linux
// answers from /proc/PID/pagemap): its private frame, its segment frame,
// or its file page. It reports false when the page has no memory yet (a
// private page never written, a segment page never touched) or none at
// all (unmapped, past the end of a file or segment). Linux also answers
// "no frame" for a shared page the task has not touched since fork, which
// the simulator does not track, and maps the shared zero page where a
// private page was only read; compare pages both tasks have touched.
func (m *MM) PageAt(addr uint64) (PageID, bool) {
	v := m.Find(addr)
	switch {
	case v == nil:
		return PageID{}, false
	case m.pages.get(pageOf(addr)) != nil:
		return PageID{Frame: m.pages.get(pageOf(addr))}, true
	case v.seg != nil:
		f := v.seg.frames.get(v.pgoffAt(addr))
		return PageID{Frame: f}, f != nil
	case v.file != nil:
		in, pg := v.inode(), v.pgoffAt(addr)
		return PageID{Inode: in, Index: pg}, pg < uint64(in.CachePages())
	}
	return PageID{}, false
}
