// Package x86cpu holds the x86-64 user register state of a simulated task, in
// the shapes Linux gives it to ptrace, core dumps and checkpoint images.
//
// A State has three parts, each with the field order and widths of its Linux
// counterpart, so that an image can be set beside what PTRACE_GETREGS,
// PTRACE_GETFPREGS and PTRACE_PEEKUSER report on a real machine:
//
//	Regs       struct user_regs_struct: 27 registers, 216 bytes
//	FXSave     struct user_i387_struct, the FXSAVE area: 512 bytes
//	DebugRegs  u_debugreg of struct user, DR0 to DR7: 64 bytes
//
// Register state read back from a checkpoint image is untrusted input: a
// forged image must not be able to give a task kernel privileges (IOPL, a
// ring-0 selector), a non-canonical address or a breakpoint on kernel memory.
// Validate applies the checks Linux applies when a debugger, a signal handler
// or a restart hands it user register state. Where Linux quietly repairs a
// bad value instead of refusing it (it masks eflags, truncates selectors to
// 16 bits and drops reserved DR7 bits), Validate refuses: a restart that
// changed the state on the way in would not be restarting the task that was
// checkpointed, and the equivalence checker would then compare the wrong
// thing.
//
// MarshalBinary and UnmarshalBinary give the image form: the three parts in
// order, every field fixed-width little-endian, the same bytes on every host.
// Unmarshalling does not validate; the restart path calls Validate.
package x86cpu

import "github.com/ckptsim/ckptsim/sim/errno"

// Sizes of the parts of the image and of the whole, in bytes.
const (
	RegsSize      = 216 // struct user_regs_struct: 27 × 8
	FXSaveSize    = 512 // struct user_i387_struct
	DebugRegsSize = 64  // u_debugreg[8]
	StateSize     = RegsSize + FXSaveSize + DebugRegsSize
)

// Segment selectors of Linux's x86-64 GDT (arch/x86/include/asm/segment.h).
// A selector is index*8 + table bit + requested privilege level; user
// selectors carry RPL 3.
const (
	UserCS   = 0x33 // __USER_CS: GDT entry 6, the 64-bit user code segment
	User32CS = 0x23 // __USER32_CS: GDT entry 4, the compat-mode code segment
	UserDS   = 0x2b // __USER_DS: GDT entry 5, the flat user data segment
	// User32DS is the same descriptor as UserDS: SYSRET loads SS from a
	// fixed offset of one selector, so 32- and 64-bit user mode share it.
	User32DS = UserDS

	// GDTEntryTLSMin and GDTEntryTLSMax bound the three GDT slots that
	// set_thread_area fills per task; their user selectors are 0x63, 0x6b
	// and 0x73.
	GDTEntryTLSMin = 12
	GDTEntryTLSMax = 14
)

// TaskSizeMax is the first address above user space with 4-level paging:
// (1<<47) minus one guard page. Linux keeps the last user page unmapped so
// that no user access, and no SYSRET, can run into the non-canonical hole.
const TaskSizeMax = 1<<47 - 4096

// MXCSRFeatureMask is the MXCSR mask the simulated CPU reports in the
// mxcsr_mask field of FXSAVE: all of bits 0..15, which is what a CPU with DAZ
// (denormals-are-zero, bit 6) reports. The host this package was written on
// reports the same (PTRACE_GETFPREGS of a fresh process: mxcr_mask 0xffff).
const MXCSRFeatureMask = 0x0000ffff

// EFLAGS bits (Intel SDM vol. 1, 3.4.3).
const (
	FlagCF    = 1 << 0  // carry
	FlagFixed = 1 << 1  // reserved, always reads as one
	FlagPF    = 1 << 2  // parity
	FlagAF    = 1 << 4  // auxiliary carry
	FlagZF    = 1 << 6  // zero
	FlagSF    = 1 << 7  // sign
	FlagTF    = 1 << 8  // trap (single step)
	FlagIF    = 1 << 9  // interrupt enable
	FlagDF    = 1 << 10 // direction
	FlagOF    = 1 << 11 // overflow
	FlagIOPL  = 3 << 12 // I/O privilege level, two bits
	FlagNT    = 1 << 14 // nested task
	FlagRF    = 1 << 16 // resume
	FlagVM    = 1 << 17 // virtual-8086 mode
	FlagAC    = 1 << 18 // alignment check
	FlagVIF   = 1 << 19 // virtual interrupt flag
	FlagVIP   = 1 << 20 // virtual interrupt pending
	FlagID    = 1 << 21 // CPUID available; toggled by user code to probe for it
)

// UserFlags are the EFLAGS bits a user task may hold either way. It is the
// ptrace set (FLAG_MASK in arch/x86/kernel/ptrace.c, which on x86-64 adds NT)
// plus ID: ptrace ignores ID, but user code changes it with POPF to test for
// CPUID, so a task checkpointed at the wrong moment has it set.
const UserFlags = FlagCF | FlagPF | FlagAF | FlagZF | FlagSF | FlagTF | FlagDF |
	FlagOF | FlagNT | FlagRF | FlagAC | FlagID

// RequiredFlags must be set in every user eflags: bit 1 is wired to one, and
// Linux does not run user code with interrupts off. Current kernels keep the
// real IOPL at 0 even for iopl(3) callers, so user code cannot CLI, and a
// ptrace write of eflags keeps the kernel's IF whatever it asks for.
const RequiredFlags = FlagFixed | FlagIF

// Regs is struct user_regs_struct (arch/x86/include/asm/user_64.h): the
// general registers in the order PTRACE_GETREGS returns them. Segment
// selectors are 64-bit slots like the rest, as in Linux; only the low 16 bits
// of a valid selector are used.
type Regs struct {
	R15     uint64 `doc:"general register r15"`
	R14     uint64 `doc:"general register r14"`
	R13     uint64 `doc:"general register r13"`
	R12     uint64 `doc:"general register r12"`
	Rbp     uint64 `doc:"general register rbp"`
	Rbx     uint64 `doc:"general register rbx"`
	R11     uint64 `doc:"general register r11"`
	R10     uint64 `doc:"general register r10"`
	R9      uint64 `doc:"general register r9"`
	R8      uint64 `doc:"general register r8"`
	Rax     uint64 `doc:"general register rax"`
	Rcx     uint64 `doc:"general register rcx"`
	Rdx     uint64 `doc:"general register rdx"`
	Rsi     uint64 `doc:"general register rsi"`
	Rdi     uint64 `doc:"general register rdi"`
	OrigRax uint64 `doc:"system call number at entry; -1 when not in a call"`
	Rip     uint64 `doc:"instruction pointer"`
	Cs      uint64 `doc:"code segment selector"`
	Eflags  uint64 `doc:"flags register"`
	Rsp     uint64 `doc:"stack pointer"`
	Ss      uint64 `doc:"stack segment selector"`
	FsBase  uint64 `doc:"fs segment base"`
	GsBase  uint64 `doc:"gs segment base"`
	Ds      uint64 `doc:"data segment selector"`
	Es      uint64 `doc:"es segment selector"`
	Fs      uint64 `doc:"fs segment selector"`
	Gs      uint64 `doc:"gs segment selector"`
}

// regNames are the user_regs_struct field names in layout order; they name
// registers in Validate's and Diff's messages.
var regNames = [27]string{
	"r15", "r14", "r13", "r12", "rbp", "rbx", "r11", "r10", "r9", "r8",
	"rax", "rcx", "rdx", "rsi", "rdi", "orig_rax", "rip", "cs", "eflags",
	"rsp", "ss", "fs_base", "gs_base", "ds", "es", "fs", "gs",
}

// slots returns pointers to the registers in layout order, so that encoding,
// naming and diffing all walk one list and cannot disagree about the order.
func (r *Regs) slots() [27]*uint64 {
	return [27]*uint64{
		&r.R15, &r.R14, &r.R13, &r.R12, &r.Rbp, &r.Rbx, &r.R11, &r.R10,
		&r.R9, &r.R8, &r.Rax, &r.Rcx, &r.Rdx, &r.Rsi, &r.Rdi, &r.OrigRax,
		&r.Rip, &r.Cs, &r.Eflags, &r.Rsp, &r.Ss, &r.FsBase, &r.GsBase,
		&r.Ds, &r.Es, &r.Fs, &r.Gs,
	}
}

// X87Reg is one 16-byte slot of the FXSAVE x87 area (struct _fpxreg): an
// 80-bit extended-precision value and six bytes the CPU leaves alone.
type X87Reg struct {
	Mantissa uint64    `doc:"significand, explicit integer bit at the top"`
	SignExp  uint16    `doc:"sign in bit 15, biased exponent below"`
	Reserved [3]uint16 `doc:"unused by the CPU; kept so an image round-trips"`
}

// XMMReg is one 128-bit SSE register, split into the halves little-endian
// memory order puts first (Lo) and second (Hi).
type XMMReg struct {
	Lo uint64 `doc:"low half"`
	Hi uint64 `doc:"high half"`
}

// FXSave is the 512-byte FXSAVE area as struct user_i387_struct (and the
// kernel's fxregs_state) lays it out in 64-bit mode.
type FXSave struct {
	Cwd       uint16     `doc:"x87 control word"`
	Swd       uint16     `doc:"x87 status word"`
	Twd       uint16     `doc:"abridged tag word: one bit per register, 1 = in use"`
	Fop       uint16     `doc:"last x87 opcode"`
	Rip       uint64     `doc:"last x87 instruction pointer"`
	Rdp       uint64     `doc:"last x87 data pointer"`
	Mxcsr     uint32     `doc:"SSE control and status"`
	MxcsrMask uint32     `doc:"bits of Mxcsr the CPU implements"`
	ST        [8]X87Reg  `doc:"st_space: ST0..ST7 (physical order R0..R7)"`
	XMM       [16]XMMReg `doc:"xmm_space: XMM0..XMM15"`
	// Padding is bytes 416..511. The CPU neither reads nor writes them;
	// Linux puts its signal-frame xstate marker in the last 48. They are
	// kept so that an image survives unmarshal and marshal unchanged.
	Padding [24]uint32 `doc:"bytes 416..511, unused by the CPU"`
}

// DebugRegs is u_debugreg of struct user: DR0..DR7 as PTRACE_PEEKUSER
// reads them. DR0..DR3 are breakpoint addresses, DR6 the status and DR7 the
// control register; DR4 and DR5 do not exist and read as zero.
type DebugRegs [8]uint64

// State is the whole user register state of one task.
//
// Its Go layout is its image, on a little-endian host: the checkpoint
// image's REGS record is a State, field by field.
type State struct {
	Regs  Regs      `doc:"struct user_regs_struct"`
	FPU   FXSave    `doc:"the FXSAVE area, struct user_i387_struct"`
	Debug DebugRegs `doc:"debug registers DR0..DR7"`
}

// Addresses Default uses for a fresh task.
const (
	// DefaultRIP is the entry point of a static, non-PIE executable linked
	// at the traditional 0x400000 with its text on the next page.
	DefaultRIP = 0x401000
	// DefaultRSP is one page below the top of user space: inside the
	// stack a non-randomised process gets, and 16-byte aligned as the
	// x86-64 ABI requires at process entry.
	DefaultRSP = TaskSizeMax - 4096
	// sysExecve is execve's x86-64 system call number. A new program
	// enters user mode on the way out of execve, so orig_rax still holds
	// it (PTRACE_GETREGS at the post-exec stop reports orig_rax 0x3b).
	sysExecve = 59
)

// Default returns the user state of a task that has just started a 64-bit
// program, as Linux's start_thread and fpstate initialisation leave it
// (checked against PTRACE_GETREGS and PTRACE_GETFPREGS of a real process
// stopped right after execve): 64-bit code and stack selectors, null data
// selectors, eflags with only IF and the fixed bit, the x87 control word
// masking all exceptions at extended precision (0x37f), MXCSR masking all SSE
// exceptions (0x1f80), and no breakpoints. The mxcsr_mask field holds
// MXCSRFeatureMask, the value the simulated CPU reports, because FXSAVE
// always stores the CPU's mask there.
//
// The debug registers are all zero. A real kernel since 5.11 reports DR6 of
// a fresh task as 0xffff0ff0 (its reserved bits in the hardware's
// polarity); Validate accepts either.
func Default() State {
	return State{
		Regs: Regs{
			OrigRax: sysExecve,
			Rip:     DefaultRIP,
			Cs:      UserCS,
			Eflags:  RequiredFlags,
			Rsp:     DefaultRSP,
			Ss:      UserDS,
		},
		FPU: FXSave{
			Cwd:       0x37f,
			Mxcsr:     0x1f80,
			MxcsrMask: MXCSRFeatureMask,
		},
	}
}

// einval is the errno every refusal in this package wraps.
const einval = errno.EINVAL
