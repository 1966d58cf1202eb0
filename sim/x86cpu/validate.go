package x86cpu

import (
	"errors"
	"fmt"
	"strings"
)

// Validate reports whether s is a user state the simulated kernel may load
// into a task. It returns nil, or an error wrapping errno.EINVAL with one line
// per violation, each naming the part, the field and the bad value:
//
//	regs: cs 0x10: not a user code selector (want 0x33 or 0x23)
//
// The rules, and where Linux has them:
//
// eflags: bit 1 and IF set; of the rest only UserFlags (CF PF AF ZF SF TF DF
// OF NT RF AC ID). IOPL, VM, VIF, VIP, the reserved bits and everything above
// bit 21 must be clear. Linux's ptrace masks eflags with FLAG_MASK and
// sigreturn with FIX_EFLAGS rather than refuse; either way no user state can
// hold IOPL or VM, which would give the task port I/O or virtual-8086 mode.
//
// Selectors: none wider than 16 bits (ptrace truncates them silently). cs
// must be UserCS or User32CS; ss must be UserDS, never null, because in
// 64-bit mode IRET to CPL 3 with a null SS faults and Linux's putreg refuses
// it. ds, es, fs and gs may be null, UserDS, one of the three TLS selectors,
// or any LDT selector (table bit set) with RPL 3. Linux's putreg only
// requires RPL 3 (invalid_selector), leaving other bogus selectors to fault
// on the way back to user mode; a restart should not build a task that
// faults, so the set here is the selectors a Linux task can actually hold.
//
// Addresses: rip, fs_base and gs_base below TaskSizeMax. putreg refuses
// fs_base and gs_base at or above it (as arch_prctl(ARCH_SET_FS) does); it
// accepts any rip, and the kernel copes on return by avoiding SYSRET for a
// non-canonical one (SYSRET would fault in ring 0), after which the task
// dies at its first instruction. Refusing here is the simulator's policy.
//
// MXCSR: no bit outside MXCSRFeatureMask. Loading a reserved bit makes
// FXRSTOR fault, so xfpregs_set (arch/x86/kernel/fpu/regset.c) refuses it
// with EINVAL and a 64-bit sigreturn carrying one fails. mxcsr_mask must equal MXCSRFeatureMask: FXSAVE always
// stores the CPU's own mask there, so any other value says the image came
// from a different CPU (or was edited), and its MXCSR may rely on features
// this one lacks. Linux does not look at the field; this is policy.
//
// Debug registers, after ptrace_set_debugreg and ptrace_write_dr7
// (arch/x86/kernel/ptrace.c) and hw_breakpoint_arch_parse
// (arch/x86/kernel/hw_breakpoint.c):
//   - DR0..DR3 below TaskSizeMax: a breakpoint may not watch kernel memory
//     (ptrace gets EINVAL from the breakpoint layer).
//   - DR4 and DR5 zero: they do not exist; POKEUSER on them is EIO.
//   - DR6 bits 63..32 clear: they are reserved, MOV to DR6 faults on them,
//     and ptrace refused them with EIO until the 2.6.33 breakpoint rework.
//     Current kernels store DR6 unchecked because they never load the
//     ptrace value into the CPU.
//   - DR7 has no bit of DR_CONTROL_RESERVED (0xffffffff0000fc00) set. That
//     covers GD, general detect, which would make the kernel's own
//     debug-register accesses trap. Linux masks these bits out of what it
//     programs rather than refuse them.
//   - No breakpoint slot in DR7 is an I/O breakpoint (R/W = 10b, meaningless
//     without CR4.DE and not offered to users), and no execute breakpoint
//     (R/W = 00b) has a length other than one byte (the CPU requires it);
//     arch_bp_generic_fields refuses both with EINVAL.
//   - Each DRn is aligned to the length its DR7 slot gives it;
//     hw_breakpoint_arch_parse refuses a misaligned one with EINVAL.
//
// Linux applies the DR7 slot checks to slots that are enabled or whose
// address has been set; Validate applies them to all four. The stricter rule
// makes validity independent of the order in which a restart writes the
// registers, and coincides with Linux's for every slot with a nonzero address.
func (s State) Validate() error {
	var errs []error
	errs = append(errs, s.Regs.validate()...)
	errs = append(errs, s.FPU.validate()...)
	errs = append(errs, s.Debug.validate()...)
	return errors.Join(errs...)
}

func invalid(part, field string, v uint64, format string, args ...any) error {
	return fmt.Errorf("%s: %s %#x: %s: %w", part, field, v, fmt.Sprintf(format, args...), einval)
}

// flagNames names the eflags bits a user state may not hold, for messages.
var flagNames = []struct {
	mask uint64
	name string
}{
	{FlagIOPL, "IOPL"},
	{FlagVM, "VM"},
	{FlagVIF, "VIF"},
	{FlagVIP, "VIP"},
}

func (r *Regs) validate() []error {
	var errs []error
	bad := func(field string, v uint64, format string, args ...any) {
		errs = append(errs, invalid("regs", field, v, format, args...))
	}

	if r.Eflags&FlagFixed == 0 {
		bad("eflags", r.Eflags, "reserved bit 1 is clear, the CPU always sets it")
	}
	if r.Eflags&FlagIF == 0 {
		bad("eflags", r.Eflags, "IF is clear, user mode always runs with interrupts on")
	}
	if extra := r.Eflags &^ (UserFlags | RequiredFlags); extra != 0 {
		var names []string
		for _, f := range flagNames {
			if extra&f.mask != 0 {
				names = append(names, f.name)
				extra &^= f.mask
			}
		}
		if extra != 0 {
			names = append(names, fmt.Sprintf("reserved bits %#x", extra))
		}
		bad("eflags", r.Eflags, "%s set, a user task may change only CF PF AF ZF SF TF DF OF NT RF AC ID",
			strings.Join(names, ", "))
	}

	switch {
	case r.Cs > 0xffff:
		bad("cs", r.Cs, "wider than a 16-bit selector")
	case r.Cs != UserCS && r.Cs != User32CS:
		bad("cs", r.Cs, "not a user code selector (want %#x or %#x)", UserCS, User32CS)
	}
	switch {
	case r.Ss > 0xffff:
		bad("ss", r.Ss, "wider than a 16-bit selector")
	case r.Ss == 0:
		bad("ss", r.Ss, "null stack selector, which IRET refuses at CPL 3")
	case r.Ss != UserDS:
		bad("ss", r.Ss, "not the user data selector %#x", UserDS)
	}
	for _, d := range []struct {
		name string
		v    uint64
	}{{"ds", r.Ds}, {"es", r.Es}, {"fs", r.Fs}, {"gs", r.Gs}} {
		switch {
		case d.v > 0xffff:
			bad(d.name, d.v, "wider than a 16-bit selector")
		case !dataSelector(d.v):
			bad(d.name, d.v, "not null, the user data selector, a TLS selector or an LDT selector with RPL 3")
		}
	}

	for _, a := range []struct {
		name string
		v    uint64
	}{{"rip", r.Rip}, {"fs_base", r.FsBase}, {"gs_base", r.GsBase}} {
		if a.v >= TaskSizeMax {
			bad(a.name, a.v, "not a user address (limit %#x)", uint64(TaskSizeMax))
		}
	}
	return errs
}

// Selector layout: bits 1..0 are the requested privilege level, bit 2 picks
// the LDT over the GDT, the rest is the descriptor index.
const (
	selRPLMask = 3
	selTI      = 4
	userRPL    = 3
)

// dataSelector reports whether v may sit in ds, es, fs or gs of a user task.
func dataSelector(v uint64) bool {
	switch {
	case v == 0, v == UserDS:
		return true
	case v&selTI != 0:
		return v&selRPLMask == userRPL
	}
	index := v >> 3
	return index >= GDTEntryTLSMin && index <= GDTEntryTLSMax && v&selRPLMask == userRPL
}

func (f *FXSave) validate() []error {
	var errs []error
	if reserved := f.Mxcsr &^ MXCSRFeatureMask; reserved != 0 {
		errs = append(errs, invalid("fpu", "mxcsr", uint64(f.Mxcsr),
			"reserved bits %#x set (feature mask %#x)", reserved, MXCSRFeatureMask))
	}
	if f.MxcsrMask != MXCSRFeatureMask {
		errs = append(errs, invalid("fpu", "mxcsr_mask", uint64(f.MxcsrMask),
			"not the simulated CPU's mask %#x", MXCSRFeatureMask))
	}
	return errs
}

// DR7 layout (Intel SDM vol. 3, 18.2.4): two enable bits per breakpoint in
// bits 0..7, then per breakpoint a four-bit field from bit 16: R/W in the low
// two bits, LEN in the high two.
const (
	// dr7Reserved is Linux's DR_CONTROL_RESERVED for x86-64: bits 10..15
	// (GD is bit 13) and the upper half.
	dr7Reserved = 0xffffffff0000fc00
	dr7GD       = 1 << 13

	rwExecute = 0
	rwIO      = 2
)

// dr7Len is the watched length in bytes for each LEN encoding; 10b is eight
// bytes in long mode.
var dr7Len = [4]uint64{1, 2, 8, 4}

var rwNames = [4]string{"execute", "write", "I/O", "read/write"}

func (d *DebugRegs) validate() []error {
	var errs []error
	bad := func(n int, format string, args ...any) {
		errs = append(errs, invalid("debug", fmt.Sprintf("dr%d", n), d[n], format, args...))
	}
	for n := 0; n < 4; n++ {
		if d[n] >= TaskSizeMax {
			bad(n, "breakpoint address not in user space (limit %#x)", uint64(TaskSizeMax))
		}
	}
	for n := 4; n < 6; n++ {
		if d[n] != 0 {
			bad(n, "DR%d does not exist and must be zero", n)
		}
	}
	if d[6]>>32 != 0 {
		bad(6, "reserved bits 63..32 set")
	}
	dr7 := d[7]
	if dr7&dr7GD != 0 {
		bad(7, "general-detect bit (GD) set")
	}
	if reserved := dr7 & dr7Reserved &^ dr7GD; reserved != 0 {
		bad(7, "reserved bits %#x set", reserved)
	}
	for i := 0; i < 4; i++ {
		field := dr7 >> (16 + 4*i)
		rw, lenCode := field&3, (field>>2)&3
		switch {
		case rw == rwIO:
			bad(7, "breakpoint %d is an I/O breakpoint", i)
			continue
		case rw == rwExecute && lenCode != 0:
			bad(7, "breakpoint %d is an execute breakpoint of %d bytes, not 1", i, dr7Len[lenCode])
			continue
		}
		if size := dr7Len[lenCode]; d[i]%size != 0 {
			bad(i, "not aligned to the %d-byte length of %s breakpoint %d in dr7", size, rwNames[rw], i)
		}
	}
	return errs
}
