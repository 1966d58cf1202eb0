package mm

import (
	"errors"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// mmap flags, with Linux's x86-64 values.
const (
	MAP_SHARED          = 0x01
	MAP_PRIVATE         = 0x02
	MAP_SHARED_VALIDATE = 0x03
	MAP_DROPPABLE       = 0x08
	MAP_TYPE            = 0x0f // the bits that say shared or private
	MAP_FIXED           = 0x10
	MAP_ANONYMOUS       = 0x20
	MAP_32BIT           = 0x40
	MAP_GROWSDOWN       = 0x100
	MAP_DENYWRITE       = 0x800
	MAP_EXECUTABLE      = 0x1000
	MAP_LOCKED          = 0x2000
	MAP_NORESERVE       = 0x4000
	MAP_POPULATE        = 0x8000
	MAP_NONBLOCK        = 0x10000
	MAP_STACK           = 0x20000
	MAP_HUGETLB         = 0x40000
	MAP_SYNC            = 0x80000
	MAP_FIXED_NOREPLACE = 0x100000
	MAP_UNINITIALIZED   = 0x4000000

	// legacyFlags are the flags MAP_SHARED_VALIDATE accepts on a file
	// (Linux's LEGACY_MAP_MASK); any other bit is EOPNOTSUPP there, and
	// ignored with plain MAP_SHARED.
	legacyFlags = MAP_SHARED | MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_DENYWRITE | MAP_EXECUTABLE |
		MAP_UNINITIALIZED | MAP_GROWSDOWN | MAP_LOCKED | MAP_NORESERVE | MAP_POPULATE | MAP_NONBLOCK |
		MAP_STACK | MAP_HUGETLB
)

// maxFileBytes is the largest offset a regular file has (MAX_LFS_FILESIZE):
// a file mapping must end before it.
const maxFileBytes = 1<<63 - 1

// MmapArgs are mmap's arguments, with the descriptor resolved.
type MmapArgs struct {
	Addr   uint64
	Length uint64
	Prot   Prot
	Flags  int
	// File is the open file to map, nil with MAP_ANONYMOUS.
	File *vfs.File
	// Offset is the byte offset in the file; the caller has refused one
	// that is not page-aligned (EINVAL).
	Offset uint64
}

// Mmap maps a range, as mmap(2) once the descriptor is found, and returns
// its address. The checks are Linux's do_mmap's, in its order:
//
//   - EINVAL: length 0; neither MAP_SHARED nor MAP_PRIVATE (for
//     anonymous memory MAP_SHARED_VALIDATE too); MAP_FIXED at an unaligned
//     address; a flag the simulator does not model (MAP_GROWSDOWN,
//     MAP_LOCKED, MAP_32BIT, MAP_DROPPABLE).
//   - ENOMEM: length past TaskSize (or wrapping when rounded to a page);
//     MAP_FIXED crossing TaskSize; no free range; the map-count limit
//     already passed (a new mapping needs count <= max), or reached where
//     MAP_FIXED has to split a VMA (count >= max); MAP_HUGETLB on
//     anonymous memory (no huge pages are reserved).
//   - EEXIST: MAP_FIXED_NOREPLACE over anything mapped.
//   - For a file, in order: EOVERFLOW (offset past the largest file
//     offset), EOPNOTSUPP (MAP_SHARED_VALIDATE with an unknown flag),
//     EACCES (shared and writable on a file not open for writing; any
//     mapping of a file not open for reading), EPERM (PROT_EXEC of a
//     pipe or socket, whose file system is noexec), ENODEV (not a regular
//     file: a pipe, FIFO or directory), EINVAL (MAP_GROWSDOWN,
//     MAP_HUGETLB), then ENODEV for a socket and EOPNOTSUPP for MAP_SYNC,
//     which needs a DAX file: these two come from the file's own mmap
//     method, which Linux calls after unmapping a MAP_FIXED range, so
//     the range is left unmapped.
//
// Unknown flag bits and protection bits are ignored, as Linux ignores
// them. MAP_POPULATE is accepted and prefaults nothing; MAP_NORESERVE and
// MAP_STACK set the VMA flags Linux sets (NoReserve, NoHugePage).
func (m *MM) Mmap(a MmapArgs) (uint64, error) {
	flags := a.Flags
	switch {
	case a.File != nil && flags&MAP_HUGETLB != 0:
		return 0, errno.EINVAL
	case a.File == nil && flags&MAP_HUGETLB != 0:
		return 0, errno.ENOMEM
	case flags&(MAP_LOCKED|MAP_32BIT) != 0, a.File == nil && flags&MAP_GROWSDOWN != 0:
		return 0, errno.EINVAL // not modelled
	}
	if a.Length == 0 {
		return 0, errno.EINVAL
	}
	if flags&MAP_FIXED_NOREPLACE != 0 {
		flags |= MAP_FIXED
	}
	fixed := flags&MAP_FIXED != 0
	addr := a.Addr
	if !fixed {
		addr = roundHint(addr)
	}
	length := pageUp(a.Length)
	if length == 0 {
		return 0, errno.ENOMEM
	}
	if len(m.vmas) > m.maxMapCount {
		return 0, errno.ENOMEM
	}
	addr, err := m.getUnmappedArea(addr, length, fixed)
	if err != nil {
		return 0, err
	}
	if flags&MAP_FIXED_NOREPLACE != 0 && !m.free(addr, addr+length) {
		return 0, errno.EEXIST
	}
	v := &VMA{mm: m, start: addr, end: addr + length, prot: a.Prot & protAll, flags: MayWrite}
	if a.File != nil {
		err = v.setFile(a.File, flags, a.Prot, a.Offset)
	} else {
		err = v.setAnon(flags)
	}
	if errors.Is(err, errHookRefuses) {
		m.drop(v)
		return 0, m.hookRefuses(addr, length, fixed, errno.ENODEV)
	}
	if err != nil {
		m.drop(v)
		return 0, err
	}
	if flags&MAP_NORESERVE != 0 {
		v.flags |= NoReserve
	}
	if flags&MAP_STACK != 0 {
		v.flags |= NoHugePage
	}
	if v.private() && v.prot&ProtWrite != 0 && v.flags&NoReserve == 0 {
		v.flags |= Account
	}
	if err := m.canUnmap(addr, addr+length); fixed && err != nil {
		m.drop(v)
		return 0, err
	}
	if v.file != nil && flags&MAP_SYNC != 0 {
		// The file's own mmap refuses: MAP_SYNC needs a DAX file.
		m.drop(v)
		return 0, m.hookRefuses(addr, length, fixed, errno.EOPNOTSUPP)
	}
	if fixed {
		m.unmap(addr, addr+length)
	}
	m.place(v)
	return addr, nil
}

// errHookRefuses is setFile's error for a file whose own mmap method
// refuses every mapping (a socket's, sock_no_mmap: ENODEV), which Linux
// calls only once the old mappings of a MAP_FIXED range are gone.
var errHookRefuses = errors.New("the file's mmap method refuses")

// hookRefuses is the end of a mapping that the file's own mmap method
// refuses (a socket; MAP_SYNC on a file without DAX): Linux calls that
// method after it has unmapped what a MAP_FIXED range held, and cannot
// put it back, so the range is left a hole (vms_abort_munmap_vmas, once
// the page tables are cleared). It returns err.
func (m *MM) hookRefuses(addr, length uint64, fixed bool, err error) error {
	if !fixed {
		return err
	}
	if e := m.canUnmap(addr, addr+length); e != nil {
		return e
	}
	m.unmap(addr, addr+length)
	return err
}

// setFile checks a file mapping as do_mmap does and makes v map the file.
func (v *VMA) setFile(f *vfs.File, flags int, prot Prot, offset uint64) error {
	pgoff := offset / PageSize
	if length := v.end - v.start; length > maxFileBytes || pgoff > (maxFileBytes-length)/PageSize {
		return errno.EOVERFLOW
	}
	mode := f.Mode()
	// MAP_SHARED_VALIDATE accepts the legacy flags and those the file
	// system supports: MAP_SYNC on a regular file (ext4's
	// mmap_supported_flags), whose mmap method then refuses it without DAX.
	supported := legacyFlags
	if f.Type() == vfs.TypeRegular {
		supported |= MAP_SYNC
	}
	switch flags & MAP_TYPE {
	case MAP_SHARED, MAP_SHARED_VALIDATE:
		if flags&MAP_TYPE == MAP_SHARED_VALIDATE && flags&^supported != 0 {
			return errno.EOPNOTSUPP
		}
		if prot&ProtWrite != 0 && mode&vfs.FMODE_WRITE == 0 {
			return errno.EACCES
		}
		v.flags |= Shared
		if mode&vfs.FMODE_WRITE == 0 {
			v.flags &^= MayWrite
		}
	case MAP_PRIVATE:
	default:
		return errno.EINVAL
	}
	if mode&vfs.FMODE_READ == 0 {
		return errno.EACCES
	}
	// A pipe's or a socket's file lives in a noexec file system (pipefs,
	// sockfs): executable mappings of it are refused before the file's
	// lack of an mmap method is.
	if t := f.Type(); t != vfs.TypeRegular && t != vfs.TypeDirectory && t != vfs.TypeFIFO && prot&ProtExec != 0 {
		return errno.EPERM
	}
	switch f.Type() {
	case vfs.TypeRegular:
	case vfs.TypeDirectory, vfs.TypePipe, vfs.TypeFIFO:
		return errno.ENODEV // no mmap method: refused before anything is unmapped
	default: // a socket, whose mmap method refuses
		if flags&MAP_GROWSDOWN != 0 {
			return errno.EINVAL
		}
		return errHookRefuses
	}
	if f.Dentry() == nil || !f.Dentry().Inode().IsRegular() {
		return errno.ENODEV
	}
	if flags&MAP_GROWSDOWN != 0 {
		return errno.EINVAL
	}
	f.Get()
	v.file, v.pgoff = f, pgoff
	return nil
}

// setAnon makes v anonymous memory: private, or a new segment for
// MAP_SHARED (whose offset Linux ignores).
func (v *VMA) setAnon(flags int) error {
	switch flags & MAP_TYPE {
	case MAP_SHARED:
		v.flags |= Shared
		v.seg = NewSegment(v.mm.reg, int64(pages(v.start, v.end)))
	case MAP_PRIVATE:
		v.pgoff = pageOf(v.start)
	default:
		return errno.EINVAL // MAP_SHARED_VALIDATE, MAP_DROPPABLE, nonsense
	}
	return nil
}

// place enters a new VMA into the free range it covers: it joins a
// neighbour if it can (dropping its own references), else it is inserted.
func (m *MM) place(v *VMA) *VMA {
	p := &proposal{start: v.start, end: v.end, attrs: v.attrs(), pgoff: v.pgoff}
	if v.seg == nil { // a new segment is nobody's neighbour
		if merged := m.mergeNew(p); merged != nil {
			m.drop(v)
			return merged
		}
	}
	m.link(v)
	m.insert(v)
	return v
}
