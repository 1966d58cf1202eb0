package props

import (
	"fmt"
	"strings"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// This file draws the memory calls of the generator (design section 2.6):
// mappings of every kind at addresses in a window of a few dozen pages, so
// that overlaps, splits and merges are frequent; partial unmaps,
// protection changes, moves and resizes; advice and msync; the break;
// stores of random bytes, loads, and read/write through memory. Forks
// (pages shared copy on write) and CLONE_VM clones come from the clone
// step, O_TRUNC, unlink and close of mapped files from the file steps.

const (
	window      = uint64(0x10000000) // the first address of the window
	windowPages = 24                 // its size in pages
)

var (
	protections = []string{"PROT_READ|PROT_WRITE", "PROT_READ|PROT_WRITE", "PROT_READ|PROT_WRITE", "PROT_READ|PROT_WRITE", "PROT_READ", "PROT_NONE", "PROT_READ|PROT_EXEC", "PROT_WRITE"}
	anonMaps    = []string{"MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED", "MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED", "MAP_PRIVATE|MAP_ANONYMOUS", "MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE", "MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE"}
	fileMaps    = []string{"MAP_SHARED|MAP_FIXED", "MAP_PRIVATE|MAP_FIXED", "MAP_SHARED|MAP_FIXED", "MAP_SHARED_VALIDATE|MAP_FIXED", "MAP_PRIVATE", "MAP_SHARED|MAP_FIXED_NOREPLACE"}
	mremaps     = []string{"0", "MREMAP_MAYMOVE", "MREMAP_MAYMOVE|MREMAP_FIXED"}
	advice      = []string{"MADV_DONTNEED", "MADV_DONTNEED", "MADV_NORMAL", "MADV_WILLNEED", "MADV_RANDOM", "MADV_SEQUENTIAL"}
	msyncs      = []string{"MS_SYNC", "MS_ASYNC", "MS_INVALIDATE", "MS_SYNC|MS_INVALIDATE"}
	// hostMremaps leave out MREMAP_MAYMOVE alone, where the kernel may
	// pick the new address (Config.Host).
	hostMremaps = []string{"0", "MREMAP_MAYMOVE|MREMAP_FIXED"}
)

// mapFlags draws mmap flags from choices. With Config.Host a mapping
// without MAP_FIXED or MAP_FIXED_NOREPLACE goes only where its hint is free
// (the page-rounded range holds no VMA of pid's), since elsewhere Linux
// picks a random address; where it is not free the mapping is made with
// MAP_FIXED_NOREPLACE instead, which fails with EEXIST.
func (b *Builder) mapFlags(pid int, addr, length uint64, choices []string, label string) string {
	flags := rapid.SampledFrom(choices).Draw(b.t, label)
	if !b.cfg.Host || strings.Contains(flags, "MAP_FIXED") {
		return flags
	}
	start := addr &^ (mm.PageSize - 1)
	end := (addr + length + mm.PageSize - 1) &^ (mm.PageSize - 1)
	for _, v := range b.vmas(pid) {
		if start < v[1] && v[0] < end {
			return flags + "|MAP_FIXED_NOREPLACE"
		}
	}
	return flags
}

// addr draws an address for a call on pid's mappings: mostly a page of
// one of its VMAs (the first, or one inside), else any page of the window;
// now and then one that is not page-aligned.
func (b *Builder) addr(pid int, label string) uint64 {
	var a uint64
	if vmas := b.vmas(pid); len(vmas) > 0 && rapid.IntRange(0, 3).Draw(b.t, label+" in a vma") < 3 {
		v := rapid.SampledFrom(vmas).Draw(b.t, label+" vma")
		a = v[0] + uint64(rapid.IntRange(0, int((v[1]-v[0])/mm.PageSize)-1).Draw(b.t, label+" page in it"))*mm.PageSize
	} else {
		a = window + uint64(rapid.IntRange(0, windowPages-1).Draw(b.t, label+" page"))*mm.PageSize
	}
	if rapid.IntRange(0, 19).Draw(b.t, label+" unaligned") == 19 {
		a += uint64(rapid.IntRange(1, mm.PageSize-1).Draw(b.t, label+" offset"))
	}
	return a
}

// vmas returns the ranges of pid's VMAs, [start, end) each.
func (b *Builder) vmas(pid int) [][2]uint64 {
	v := b.k.View()
	tv := v.Task(pid)
	if tv == nil || tv.MM == 0 {
		return nil
	}
	var out [][2]uint64
	for _, vma := range v.MMs[tv.MM].VMAs {
		out = append(out, [2]uint64{vma.Start, vma.End})
	}
	return out
}

// length draws a length of a few pages, now and then zero or not a
// multiple of a page.
func (b *Builder) length(label string) uint64 {
	switch rapid.IntRange(0, 19).Draw(b.t, label+" odd") {
	case 19:
		return 0
	case 18:
		return uint64(rapid.IntRange(1, 3*mm.PageSize).Draw(b.t, label+" bytes"))
	}
	return uint64(rapid.IntRange(1, 6).Draw(b.t, label+" pages")) * mm.PageSize
}

// memory draws one memory call for pid.
func (b *Builder) memory(pid int) {
	x, t := b.exec, b.t
	call := rapid.IntRange(0, 16).Draw(t, "memory call")
	if len(b.vmas(pid)) == 0 && rapid.IntRange(0, 7).Draw(t, "map first") < 7 {
		call = 0 // nothing mapped yet: most calls would fail
	}
	switch call {
	case 0, 4:
		addr, length := b.addr(pid, "addr"), b.length("len")
		o := x(fmt.Sprintf("mmap %d %#x %d %s %s", pid, addr, length,
			rapid.SampledFrom(protections).Draw(t, "prot"), b.mapFlags(pid, addr, length, anonMaps, "anon flags")))
		if o.Err == nil && rapid.IntRange(0, 1).Draw(t, "store in it") == 0 {
			x(fmt.Sprintf("memwrite %d %#x %q", pid, uint64(o.Int)+uint64(rapid.IntRange(0, mm.PageSize-1).Draw(t, "offset")), b.memData()))
		}
	case 1, 3, 6:
		x(fmt.Sprintf("memwrite %d %#x %q", pid, b.storeAddr(pid), b.memData()))
	case 9:
		x(fmt.Sprintf("memwrite %d %#x %q", pid, b.pastEOF(pid), b.memData()))
	case 2:
		addr, length := b.addr(pid, "addr"), b.length("len")
		o := x(fmt.Sprintf("mmap %d %#x %d %s %s %d %d", pid, addr, length,
			rapid.SampledFrom(protections).Draw(t, "prot"), b.mapFlags(pid, addr, length, fileMaps, "file flags"),
			b.regularFd(pid), b.fileOffset()))
		if o.Err == nil && rapid.IntRange(0, 1).Draw(t, "store past the end") == 0 {
			x(fmt.Sprintf("memwrite %d %#x %q", pid, b.pastEOF(pid), b.memData()))
		}
	case 5:
		x(fmt.Sprintf("munmap %d %#x %d", pid, b.addr(pid, "addr"), b.length("len")))
	case 7:
		x(fmt.Sprintf("mprotect %d %#x %d %s", pid, b.addr(pid, "addr"), b.length("len"), rapid.SampledFrom(protections).Draw(t, "prot")))
	case 8:
		choices := mremaps
		if b.cfg.Host {
			choices = hostMremaps
		}
		flags := rapid.SampledFrom(choices).Draw(t, "mremap flags")
		line := fmt.Sprintf("mremap %d %#x %d %d %s", pid, b.addr(pid, "old"), b.length("old len"), b.length("new len"), flags)
		if strings.HasSuffix(flags, "FIXED") {
			line += fmt.Sprintf(" %#x", b.addr(pid, "new"))
		}
		x(line)
	case 10:
		x(fmt.Sprintf("madvise %d %#x %d %s", pid, b.addr(pid, "addr"), b.length("len"), rapid.SampledFrom(advice).Draw(t, "advice")))
	case 11:
		if b.cfg.Host {
			x(fmt.Sprintf("vma %d %#x", pid, b.storeAddr(pid)))
			return
		}
		x(fmt.Sprintf("brk %d %#x", pid, mm.StartBrk+uint64(rapid.IntRange(0, 8*mm.PageSize).Draw(t, "break"))))
	case 12:
		x(fmt.Sprintf("memread %d %#x %d", pid, b.storeAddr(pid), rapid.IntRange(0, 2*mm.PageSize).Draw(t, "count")))
	case 13:
		if b.cfg.Host {
			x(fmt.Sprintf("vma %d %#x", pid, b.addr(pid, "vma")))
			return
		}
		x(fmt.Sprintf("sameframe %d %d %#x", pid, b.pid(), b.storeAddr(pid)))
	case 14:
		x(fmt.Sprintf("msync %d %#x %d %s", pid, b.addr(pid, "addr"), b.length("len"), rapid.SampledFrom(msyncs).Draw(t, "msync flags")))
	case 15:
		x(fmt.Sprintf("read %d %d %#x %d", pid, b.fd(pid), b.storeAddr(pid), rapid.IntRange(0, 2*mm.PageSize).Draw(t, "count")))
	default:
		fd, addr, count := b.fd(pid), b.storeAddr(pid), rapid.IntRange(0, 2*mm.PageSize).Draw(t, "count")
		if b.cfg.Host && b.fromOwnMappingPastEOF(pid, fd, addr, uint64(count)) {
			x(fmt.Sprintf("vma %d %#x", pid, addr))
			return
		}
		x(fmt.Sprintf("write %d %d %#x %d", pid, fd, addr, count))
	}
}

// fromOwnMappingPastEOF reports whether a write to pid's descriptor fd
// from [addr, addr+count) would copy from a mapping of fd's own file past
// that file's end. Linux (ext4) then lets the write read the pages up to
// the end the write itself makes; the simulator does not model that, and
// Config.Host leaves such writes out.
func (b *Builder) fromOwnMappingPastEOF(pid, fd int, addr, count uint64) bool {
	v := b.k.View()
	tv := v.Task(pid)
	if tv == nil || tv.FileTable == 0 || tv.MM == 0 {
		return false
	}
	var ino *kernel.InodeView
	for _, d := range v.FileTables[tv.FileTable].Fds {
		if f := v.Files[d.File]; d.Fd == fd && f.Type == vfs.TypeRegular {
			ino = f.Inode
		}
	}
	if ino == nil {
		return false
	}
	endPage := (uint64(ino.Size) + mm.PageSize - 1) / mm.PageSize // the first page wholly past the end
	for _, vma := range v.MMs[tv.MM].VMAs {
		f := v.Files[vma.File]
		if vma.File == 0 || f.Inode == nil || f.Inode.Ino != ino.Ino || addr+count <= vma.Start || vma.End <= addr {
			continue
		}
		last := min(addr+max(count, 1), vma.End) - 1 // the last byte in this VMA
		if vma.PgOff+(last-vma.Start)/mm.PageSize >= endPage {
			return true
		}
	}
	return false
}

// storeAddr draws an address of pid's to load or store at: mostly in one
// of its VMAs (the heap among them), else anywhere in the window.
func (b *Builder) storeAddr(pid int) uint64 {
	if vmas := b.vmas(pid); len(vmas) > 0 && rapid.IntRange(0, 4).Draw(b.t, "in a vma") < 4 {
		v := rapid.SampledFrom(vmas).Draw(b.t, "vma")
		page := uint64(rapid.IntRange(0, int((v[1]-v[0])/mm.PageSize)-1).Draw(b.t, "page in it"))
		off := uint64(rapid.IntRange(0, mm.PageSize-1).Draw(b.t, "offset in the page"))
		if rapid.IntRange(0, 2).Draw(b.t, "near the page's end") == 2 {
			off = mm.PageSize - 1 - off // rapid draws small numbers more often
		}
		return v[0] + page*mm.PageSize + off
	}
	return window + uint64(rapid.IntRange(0, windowPages*mm.PageSize-1).Draw(b.t, "offset"))
}

// memData draws bytes to store: a word, or a page or more of one byte.
func (b *Builder) memData() string {
	if rapid.IntRange(0, 4).Draw(b.t, "page of data") == 4 {
		return strings.Repeat(rapid.StringMatching(`[A-Z]`).Draw(b.t, "byte"), rapid.IntRange(1, 2*mm.PageSize).Draw(b.t, "bytes"))
	}
	return rapid.StringMatching(`[a-z]{1,12}`).Draw(b.t, "word")
}

// regularFd draws one of pid's descriptors open on a regular file, which
// a file mapping needs, or now and then any descriptor.
func (b *Builder) regularFd(pid int) int {
	v := b.k.View()
	var fds []int
	if tv := v.Task(pid); tv != nil && tv.FileTable != 0 {
		for _, d := range v.FileTables[tv.FileTable].Fds {
			// Mostly files open for writing too, so that shared
			// writable mappings of them succeed,
			// and files whose end is inside a page, whose last page
			// has bytes past the end.
			f := v.Files[d.File]
			if f.Type == vfs.TypeRegular && (f.Mode&vfs.FMODE_WRITE != 0 && f.Inode.Size%mm.PageSize != 0 || rapid.IntRange(0, 3).Draw(b.t, "other file") == 3) {
				fds = append(fds, d.Fd)
			}
		}
	}
	if rapid.IntRange(0, 4).Draw(b.t, "any fd to map") == 4 {
		return b.fd(pid)
	}
	if len(fds) == 0 {
		// Nothing to map: open a file with a few bytes, short of a
		// page, so that stores past its end come up.
		o := b.exec(fmt.Sprintf("open %d %s O_RDWR|O_CREAT 0644", pid, rapid.SampledFrom(paths[:3]).Draw(b.t, "path to map")))
		if o.Err != nil {
			return b.fd(pid)
		}
		b.exec(fmt.Sprintf("write %d %d %q", pid, o.Int, rapid.StringMatching(`[a-z]{1,40}`).Draw(b.t, "file bytes")))
		return int(o.Int)
	}
	return rapid.SampledFrom(fds).Draw(b.t, "regular fd")
}

// fileOffset draws where a file mapping starts in its file: mostly at 0,
// now and then a page or two in (past a short file's end).
func (b *Builder) fileOffset() int {
	if rapid.IntRange(0, 3).Draw(b.t, "file offset") < 3 {
		return 0
	}
	return rapid.IntRange(1, 2).Draw(b.t, "file page") * mm.PageSize
}

// pastEOF draws an address in the last page of a file that pid maps
// shared, past the file's end, where a store stays in memory only (the
// page-cache tail a checkpoint must save); any address to store at when
// pid maps no such page.
func (b *Builder) pastEOF(pid int) uint64 {
	v := b.k.View()
	var addrs []uint64
	if tv := v.Task(pid); tv != nil && tv.MM != 0 {
		for _, vma := range v.MMs[tv.MM].VMAs {
			f := v.Files[vma.File]
			if vma.File == 0 || !vma.Shared || f.Inode == nil || f.Inode.Size%mm.PageSize == 0 {
				continue
			}
			last := uint64(f.Inode.Size) / mm.PageSize // the page the end is in
			if last >= vma.PgOff && last < vma.PgOff+(vma.End-vma.Start)/mm.PageSize {
				addrs = append(addrs, vma.Start+(last-vma.PgOff)*mm.PageSize+uint64(f.Inode.Size)%mm.PageSize)
			}
		}
	}
	if len(addrs) == 0 {
		return b.storeAddr(pid)
	}
	return rapid.SampledFrom(addrs).Draw(b.t, "end of a mapped file") + uint64(rapid.IntRange(0, 64).Draw(b.t, "past it"))
}
