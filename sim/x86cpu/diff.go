package x86cpu

import "fmt"

// Diff lists the fields in which s and other differ, one line per field, in
// image order, as "field: s's value != other's value":
//
//	rip: 0x401000 != 0x401004
//	fpu.xmm3: 0x00000000000000000000000000000001 != 0x00000000000000000000000000000000
//
// General registers carry their user_regs_struct names, FXSAVE fields a
// "fpu." prefix and debug registers the names dr0..dr7. x87 and XMM
// registers are shown whole, as 128-bit hex numbers; the padding words of
// the FXSAVE area are compared one by one. Diff returns nil exactly when
// s == other: every bit of the state is covered.
func (s State) Diff(other State) []string {
	var out []string
	add := func(name string, a, b uint64) {
		if a != b {
			out = append(out, fmt.Sprintf("%s: %#x != %#x", name, a, b))
		}
	}
	add128 := func(name string, alo, ahi, blo, bhi uint64) {
		if alo != blo || ahi != bhi {
			out = append(out, fmt.Sprintf("%s: 0x%016x%016x != 0x%016x%016x", name, ahi, alo, bhi, blo))
		}
	}

	as, bs := s.Regs.slots(), other.Regs.slots()
	for i, name := range regNames {
		add(name, *as[i], *bs[i])
	}

	a, b := &s.FPU, &other.FPU
	add("fpu.cwd", uint64(a.Cwd), uint64(b.Cwd))
	add("fpu.swd", uint64(a.Swd), uint64(b.Swd))
	add("fpu.twd", uint64(a.Twd), uint64(b.Twd))
	add("fpu.fop", uint64(a.Fop), uint64(b.Fop))
	add("fpu.rip", a.Rip, b.Rip)
	add("fpu.rdp", a.Rdp, b.Rdp)
	add("fpu.mxcsr", uint64(a.Mxcsr), uint64(b.Mxcsr))
	add("fpu.mxcsr_mask", uint64(a.MxcsrMask), uint64(b.MxcsrMask))
	for i := range a.ST {
		alo, ahi := a.ST[i].halves()
		blo, bhi := b.ST[i].halves()
		add128(fmt.Sprintf("fpu.st%d", i), alo, ahi, blo, bhi)
	}
	for i := range a.XMM {
		add128(fmt.Sprintf("fpu.xmm%d", i), a.XMM[i].Lo, a.XMM[i].Hi, b.XMM[i].Lo, b.XMM[i].Hi)
	}
	for i := range a.Padding {
		add(fmt.Sprintf("fpu.padding[%d]", i), uint64(a.Padding[i]), uint64(b.Padding[i]))
	}

	for i := range s.Debug {
		add(fmt.Sprintf("dr%d", i), s.Debug[i], other.Debug[i])
	}
	return out
}

// halves returns the register's 16 bytes as two little-endian words, the
// way they sit in the FXSAVE area, so that an x87 slot prints like an XMM
// one.
func (x X87Reg) halves() (lo, hi uint64) {
	hi = uint64(x.SignExp) | uint64(x.Reserved[0])<<16 | uint64(x.Reserved[1])<<32 | uint64(x.Reserved[2])<<48
	return x.Mantissa, hi
}
