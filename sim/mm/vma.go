package mm

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Prot is a protection: which accesses a mapping allows, with Linux's
// PROT_ values.
type Prot int

// The protection bits.
const (
	ProtRead  Prot = 0x1
	ProtWrite Prot = 0x2
	ProtExec  Prot = 0x4
	protAll        = ProtRead | ProtWrite | ProtExec
)

// String renders p as the first three letters of a maps line: "rw-".
func (p Prot) String() string {
	b := []byte("---")
	if p&ProtRead != 0 {
		b[0] = 'r'
	}
	if p&ProtWrite != 0 {
		b[1] = 'w'
	}
	if p&ProtExec != 0 {
		b[2] = 'x'
	}
	return string(b)
}

// Flags are a VMA's properties besides its protection: the vm_flags bits
// that Linux compares before it merges two VMAs, and so that a restored
// VMA must carry to merge as the original would.
type Flags uint32

// The flags.
const (
	// Shared: stores reach the backing (a segment or the file), which
	// every mapping of it sees; maps shows "s" (VM_MAYSHARE).
	Shared Flags = 1 << iota
	// MayWrite: mprotect may add PROT_WRITE. Cleared only on a shared
	// mapping of a file not open for writing (VM_MAYWRITE).
	MayWrite
	// Account: the mapping is counted as committed memory (VM_ACCOUNT):
	// private and writable without MAP_NORESERVE, or made writable since.
	Account
	// NoReserve: mapped with MAP_NORESERVE (VM_NORESERVE).
	NoReserve
	// NoHugePage: mapped with MAP_STACK (VM_NOHUGEPAGE).
	NoHugePage
	// RandRead and SeqRead: the MADV_RANDOM and MADV_SEQUENTIAL advice
	// (VM_RAND_READ, VM_SEQ_READ).
	RandRead
	SeqRead
	flagsAll = Shared | MayWrite | Account | NoReserve | NoHugePage | RandRead | SeqRead
)

var flagNames = []string{"shared", "maywrite", "account", "noreserve", "nohugepage", "randread", "seqread"}

// String renders the flags by name, "shared|maywrite", or "0".
func (f Flags) String() string {
	var names []string
	for i, n := range flagNames {
		if f&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if rest := f &^ flagsAll; rest != 0 {
		names = append(names, fmt.Sprintf("%#x", uint32(rest)))
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// AnonVMA is the identity of a Linux anon_vma: the object the private
// pages of a mapping belong to, created on the mapping's first private
// page, shared by the pieces it is split into, and new in the child after
// fork. Only its identity matters here: Linux does not merge two VMAs
// whose anon_vmas differ. A restart that rebuilds VMAs gives VMAs that
// shared an AnonVMA one new AnonVMA (NewAnonVMA), so that they merge later
// as they would have.
type AnonVMA struct {
	_ int // a zero-size type's pointers need not differ
}

// NewAnonVMA returns a new identity.
func NewAnonVMA() *AnonVMA { return &AnonVMA{} }

// VMA is a virtual memory area: the pages [Start, End) of an address
// space, with one protection and one backing (Linux's vm_area_struct).
//
// The backing is one of: private anonymous memory (neither File nor
// Segment), a Segment (shared anonymous memory), or an open File, shared or
// private. PgOff is the page offset of Start in the backing: the file page
// or segment page it maps; for private anonymous memory Linux keeps
// Start's page number as it was when the memory was mapped, which decides
// merges after mremap (maps shows 0 for it).
//
// A VMA holds a reference to its file and one to its segment, and is
// listed among its file's mappings (vfs.Mapping).
type VMA struct {
	mm         *MM
	start, end uint64
	prot       Prot
	flags      Flags
	pgoff      uint64
	file       *vfs.File
	seg        *Segment
	// anon and chain are Linux's anon_vma and the length of its
	// anon_vma_chain: nil and 0 until the first private page, 1 for an
	// anon_vma of this address space, more in a child after fork (whose
	// chain includes its parents'). They decide merges (merge.go).
	anon  *AnonVMA
	chain int
}

// Start returns the first address.
func (v *VMA) Start() uint64 { return v.start }

// End returns the address after the last page.
func (v *VMA) End() uint64 { return v.end }

// Prot returns the protection.
func (v *VMA) Prot() Prot { return v.prot }

// Flags returns the flags.
func (v *VMA) Flags() Flags { return v.flags }

// Shared reports whether stores reach the backing.
func (v *VMA) Shared() bool { return v.flags&Shared != 0 }

// PgOff returns the page offset of Start in the backing.
func (v *VMA) PgOff() uint64 { return v.pgoff }

// File returns the mapped open file, or nil.
func (v *VMA) File() *vfs.File { return v.file }

// Segment returns the mapped segment, or nil.
func (v *VMA) Segment() *Segment { return v.seg }

// Anon returns the VMA's anon_vma identity (nil before its first private
// page) and the length of its chain (see AnonVMA).
func (v *VMA) Anon() (*AnonVMA, int) { return v.anon, v.chain }

// MM returns the address space the VMA belongs to.
func (v *VMA) MM() *MM { return v.mm }

// private reports whether the VMA's pages are private (copy on write).
func (v *VMA) private() bool { return v.flags&Shared == 0 }

// inode returns the inode of a file VMA, or nil.
func (v *VMA) inode() *vfs.Inode {
	if v.file == nil {
		return nil
	}
	return v.file.Dentry().Inode()
}

// pgoffAt returns the backing page that address addr of the VMA maps.
func (v *VMA) pgoffAt(addr uint64) uint64 { return v.pgoff + (addr-v.start)/PageSize }

// Truncated implements vfs.Mapping: the file was cut to size bytes, so
// the private copies of its pages past the new end go, and those pages
// fault like the page cache's.
func (v *VMA) Truncated(size int64) {
	if !v.private() {
		return
	}
	first := uint64((size + PageSize - 1) / PageSize)
	for _, addr := range v.mm.framesIn(v.start, v.end) {
		if v.pgoffAt(addr) >= first {
			v.mm.unmapPage(addr)
		}
	}
}

func (v *VMA) String() string {
	return fmt.Sprintf("%x-%x %s%s", v.start, v.end, v.prot, map[bool]string{true: "s", false: "p"}[v.Shared()])
}
