package x86cpu

import "fmt"

// names is the order Names reports: the general registers as an assembly
// programmer counts them, then the instruction pointer and flags, the system
// call slot, the selectors, the segment bases and MXCSR (what a script sets
// most), then the rest of the FXSAVE area and the debug registers, in image
// order. A name past the general registers is the one Diff gives the field.
var names = func() []string {
	out := []string{
		"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
		"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
		"rip", "rflags", "orig_rax",
		"cs", "ss", "ds", "es", "fs", "gs",
		"fs_base", "gs_base",
		"mxcsr",
		"fpu.cwd", "fpu.swd", "fpu.twd", "fpu.fop", "fpu.rip", "fpu.rdp", "fpu.mxcsr_mask",
	}
	for i := range 8 {
		out = append(out, fmt.Sprintf("fpu.st%d.lo", i), fmt.Sprintf("fpu.st%d.hi", i))
	}
	for i := range 16 {
		out = append(out, fmt.Sprintf("fpu.xmm%d.lo", i), fmt.Sprintf("fpu.xmm%d.hi", i))
	}
	for i := range 24 {
		out = append(out, fmt.Sprintf("fpu.padding[%d]", i))
	}
	for i := range 8 {
		out = append(out, fmt.Sprintf("dr%d", i))
	}
	return out
}()

// Names lists the register names Set and Get accept, in a fixed order: every
// field of the state, so that a script can build any state a checkpoint
// saves. The flags register is listed as "rflags"; Set and Get also take
// "eflags", the name user_regs_struct gives it.
//
// Fields wider than 64 bits are set in halves, the way Diff prints them as
// one 128-bit number: fpu.xmmN.lo is the low quadword of XMM register N,
// fpu.xmmN.hi the high one; fpu.stN.lo is x87 register N's significand and
// fpu.stN.hi its sign and exponent (bits 0..15) with the slot's six unused
// bytes above them. Each name takes values of its field's width: 16 bits
// for fpu.cwd, fpu.swd, fpu.twd and fpu.fop, 32 for mxcsr, fpu.mxcsr_mask
// and the padding words, 64 for the rest.
func Names() []string {
	return append([]string(nil), names...)
}

// NameSummary lists the names Set and Get accept in short, numbered
// families as ranges ("dr0-dr7") and the fpu. prefix said once, for
// messages about a name that is none of them.
func NameSummary() string {
	return "rax rbx rcx rdx rsi rdi rbp rsp r8-r15 rip rflags orig_rax cs ss ds es fs gs fs_base gs_base mxcsr " +
		"fpu.cwd .swd .twd .fop .rip .rdp .mxcsr_mask .st0.lo-.st7.hi .xmm0.lo-.xmm15.hi .padding[0-23] dr0-dr7"
}

// field is one named field of a State: its width in bits and how to read and
// write it.
type field struct {
	bits int
	get  func(s *State) uint64
	set  func(s *State, v uint64)
}

func reg64(p func(s *State) *uint64) field {
	return field{64, func(s *State) uint64 { return *p(s) }, func(s *State, v uint64) { *p(s) = v }}
}

func reg32(p func(s *State) *uint32) field {
	return field{32, func(s *State) uint64 { return uint64(*p(s)) }, func(s *State, v uint64) { *p(s) = uint32(v) }}
}

func reg16(p func(s *State) *uint16) field {
	return field{16, func(s *State) uint64 { return uint64(*p(s)) }, func(s *State, v uint64) { *p(s) = uint16(v) }}
}

// fields maps every name Set and Get accept, "eflags" included, to its field.
var fields = func() map[string]field {
	m := map[string]field{}
	for i, name := range regNames {
		m[name] = reg64(func(s *State) *uint64 { return s.Regs.slots()[i] })
	}
	m["rflags"] = m["eflags"]
	m["mxcsr"] = reg32(func(s *State) *uint32 { return &s.FPU.Mxcsr })
	m["fpu.cwd"] = reg16(func(s *State) *uint16 { return &s.FPU.Cwd })
	m["fpu.swd"] = reg16(func(s *State) *uint16 { return &s.FPU.Swd })
	m["fpu.twd"] = reg16(func(s *State) *uint16 { return &s.FPU.Twd })
	m["fpu.fop"] = reg16(func(s *State) *uint16 { return &s.FPU.Fop })
	m["fpu.rip"] = reg64(func(s *State) *uint64 { return &s.FPU.Rip })
	m["fpu.rdp"] = reg64(func(s *State) *uint64 { return &s.FPU.Rdp })
	m["fpu.mxcsr_mask"] = reg32(func(s *State) *uint32 { return &s.FPU.MxcsrMask })
	for i := range len(FXSave{}.ST) {
		m[fmt.Sprintf("fpu.st%d.lo", i)] = reg64(func(s *State) *uint64 { return &s.FPU.ST[i].Mantissa })
		m[fmt.Sprintf("fpu.st%d.hi", i)] = field{64,
			func(s *State) uint64 { _, hi := s.FPU.ST[i].halves(); return hi },
			func(s *State, v uint64) {
				x := &s.FPU.ST[i]
				x.SignExp = uint16(v)
				x.Reserved = [3]uint16{uint16(v >> 16), uint16(v >> 32), uint16(v >> 48)}
			}}
	}
	for i := range len(FXSave{}.XMM) {
		m[fmt.Sprintf("fpu.xmm%d.lo", i)] = reg64(func(s *State) *uint64 { return &s.FPU.XMM[i].Lo })
		m[fmt.Sprintf("fpu.xmm%d.hi", i)] = reg64(func(s *State) *uint64 { return &s.FPU.XMM[i].Hi })
	}
	for i := range len(FXSave{}.Padding) {
		m[fmt.Sprintf("fpu.padding[%d]", i)] = reg32(func(s *State) *uint32 { return &s.FPU.Padding[i] })
	}
	for i := range len(DebugRegs{}) {
		m[fmt.Sprintf("dr%d", i)] = reg64(func(s *State) *uint64 { return &s.Debug[i] })
	}
	return m
}()

// Set stores v in the register called name (see Names). It checks only that
// the name exists and that v fits the field; it does not check that the
// value is one a task may hold, because a scenario may build a state in
// several steps. Call Validate before using the state.
func (s *State) Set(name string, v uint64) error {
	f, ok := fields[name]
	if !ok {
		return fmt.Errorf("x86cpu: no register named %q: %w", name, einval)
	}
	if f.bits < 64 && v>>f.bits != 0 {
		return fmt.Errorf("x86cpu: %s %#x: wider than the %d-bit register: %w", name, v, f.bits, einval)
	}
	f.set(s, v)
	return nil
}

// Get returns the register called name (see Names).
func (s State) Get(name string) (uint64, error) {
	f, ok := fields[name]
	if !ok {
		return 0, fmt.Errorf("x86cpu: no register named %q: %w", name, einval)
	}
	return f.get(&s), nil
}

// Width returns the width in bits of the register called name (see Names),
// or 0 when there is none.
func Width(name string) int { return fields[name].bits }
