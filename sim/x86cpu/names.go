package x86cpu

import "fmt"

// names is the order Names reports: the general registers as an assembly
// programmer counts them, then the instruction pointer and flags, the system
// call slot, the selectors, the segment bases and MXCSR.
var names = []string{
	"rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp",
	"r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
	"rip", "rflags", "orig_rax",
	"cs", "ss", "ds", "es", "fs", "gs",
	"fs_base", "gs_base",
	"mxcsr",
}

// Names lists the register names Set and Get accept, in a fixed order. The
// flags register is listed as "rflags"; Set and Get also take "eflags", the
// name user_regs_struct gives it.
func Names() []string {
	return append([]string(nil), names...)
}

// reg returns the 64-bit register called name, or nil. mxcsr is not among
// them: it is 32 bits wide and handled by Set and Get directly.
func (r *Regs) reg(name string) *uint64 {
	switch name {
	case "rax":
		return &r.Rax
	case "rbx":
		return &r.Rbx
	case "rcx":
		return &r.Rcx
	case "rdx":
		return &r.Rdx
	case "rsi":
		return &r.Rsi
	case "rdi":
		return &r.Rdi
	case "rbp":
		return &r.Rbp
	case "rsp":
		return &r.Rsp
	case "r8":
		return &r.R8
	case "r9":
		return &r.R9
	case "r10":
		return &r.R10
	case "r11":
		return &r.R11
	case "r12":
		return &r.R12
	case "r13":
		return &r.R13
	case "r14":
		return &r.R14
	case "r15":
		return &r.R15
	case "rip":
		return &r.Rip
	case "rflags", "eflags":
		return &r.Eflags
	case "orig_rax":
		return &r.OrigRax
	case "cs":
		return &r.Cs
	case "ss":
		return &r.Ss
	case "ds":
		return &r.Ds
	case "es":
		return &r.Es
	case "fs":
		return &r.Fs
	case "gs":
		return &r.Gs
	case "fs_base":
		return &r.FsBase
	case "gs_base":
		return &r.GsBase
	}
	return nil
}

// Set stores v in the register called name (see Names). It checks only that
// the name exists and that v fits the register (mxcsr is 32 bits wide); it
// does not check that the value is one a task may hold, because a scenario
// may build a state in several steps. Call Validate before using the state.
func (s *State) Set(name string, v uint64) error {
	if name == "mxcsr" {
		if v > 0xffffffff {
			return fmt.Errorf("x86cpu: mxcsr %#x: wider than the 32-bit register: %w", v, einval)
		}
		s.FPU.Mxcsr = uint32(v)
		return nil
	}
	p := s.Regs.reg(name)
	if p == nil {
		return fmt.Errorf("x86cpu: no register named %q: %w", name, einval)
	}
	*p = v
	return nil
}

// Get returns the register called name (see Names).
func (s State) Get(name string) (uint64, error) {
	if name == "mxcsr" {
		return uint64(s.FPU.Mxcsr), nil
	}
	p := s.Regs.reg(name)
	if p == nil {
		return 0, fmt.Errorf("x86cpu: no register named %q: %w", name, einval)
	}
	return *p, nil
}
