package mm

import "github.com/ckptsim/ckptsim/sim/errno"

// mprotect's extra protection bits, with Linux's values.
const (
	// PROT_SEM is accepted and means nothing on x86.
	PROT_SEM = 0x8
	// PROT_GROWSDOWN and PROT_GROWSUP extend the change to the end of a
	// stack VMA; the simulator has none, so they are EINVAL.
	PROT_GROWSDOWN = 0x01000000
	PROT_GROWSUP   = 0x02000000
)

// Mprotect changes the protection of the pages [addr, addr+length), as
// mprotect(2), with length rounded up to a page. A length of 0 is 0; an
// unaligned address or a protection bit other than PROT_READ, PROT_WRITE,
// PROT_EXEC and PROT_SEM is EINVAL; a range that is not wholly mapped is
// ENOMEM, but the VMAs before the first hole have changed already, as in
// Linux. PROT_WRITE on a shared mapping of a file not open for writing is
// EACCES. The changed part of a VMA joins a neighbour with the same
// attributes, or is split off (ENOMEM at the map-count limit). A private
// mapping made writable becomes accounted memory (Account), and an
// anonymous one that never had a private page loses that again when its
// PROT_WRITE goes.
func (m *MM) Mprotect(addr, length uint64, prot int) error {
	grows := prot & (PROT_GROWSDOWN | PROT_GROWSUP)
	if grows == PROT_GROWSDOWN|PROT_GROWSUP || !aligned(addr) {
		return errno.EINVAL
	}
	if length == 0 {
		return nil
	}
	end := addr + pageUp(length)
	if end <= addr {
		return errno.ENOMEM
	}
	prot &^= grows
	if prot&^(int(protAll)|PROT_SEM) != 0 {
		return errno.EINVAL
	}
	i := m.index(addr)
	switch {
	case i == len(m.vmas) || m.vmas[i].start >= end:
		return errno.ENOMEM
	case grows&PROT_GROWSDOWN != 0:
		return errno.EINVAL // no VMA grows down
	case m.vmas[i].start > addr:
		return errno.ENOMEM
	case grows&PROT_GROWSUP != 0:
		return errno.EINVAL
	}
	newProt := Prot(prot) & protAll
	for start := addr; ; {
		v := m.vmas[i]
		if newProt&ProtWrite != 0 && v.flags&MayWrite == 0 {
			return errno.EACCES
		}
		if newProt != v.prot {
			var err error
			if i, err = m.modify(i, start, min(v.end, end), newProt, v.accountFor(newProt)); err != nil {
				return err
			}
		}
		start = m.vmas[i].end
		if start >= end {
			return nil
		}
		if i++; i == len(m.vmas) || m.vmas[i].start != start {
			return errno.ENOMEM
		}
	}
}

// accountFor returns v's flags once its protection is prot, as Linux's
// mprotect_fixup accounts memory: a private mapping that becomes writable
// is charged (Account) unless MAP_NORESERVE; an anonymous one that loses
// PROT_WRITE before it ever had a private page is not any more.
func (v *VMA) accountFor(prot Prot) Flags {
	f := v.flags
	switch {
	case prot&ProtWrite != 0:
		if v.flags&(Account|NoReserve|Shared) == 0 && v.prot&ProtWrite == 0 {
			f |= Account
		}
	case v.flags&Account != 0 && v.file == nil && v.seg == nil && v.anon == nil:
		f &^= Account
	}
	return f
}
