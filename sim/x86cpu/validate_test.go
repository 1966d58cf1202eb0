package x86cpu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDefaultIsValid(t *testing.T) {
	s := Default()
	require.NoError(t, s.Validate())
	// The values a real process shows right after execve.
	assert.Equal(t, uint64(0x33), s.Regs.Cs)
	assert.Equal(t, uint64(0x2b), s.Regs.Ss)
	assert.Equal(t, uint64(0x202), s.Regs.Eflags)
	assert.Zero(t, s.Regs.Ds|s.Regs.Es|s.Regs.Fs|s.Regs.Gs)
	assert.Equal(t, uint16(0x37f), s.FPU.Cwd)
	assert.Equal(t, uint32(0x1f80), s.FPU.Mxcsr)
	assert.Equal(t, uint32(0xffff), s.FPU.MxcsrMask)
	assert.Equal(t, DebugRegs{}, s.Debug)
	assert.Less(t, s.Regs.Rip, uint64(TaskSizeMax))
	assert.Less(t, s.Regs.Rsp, uint64(TaskSizeMax))
	assert.Zero(t, s.Regs.Rsp%16, "rsp is 16-byte aligned at process entry")
}

func TestConstants(t *testing.T) {
	assert.Equal(t, uint64(0x7ffffffff000), uint64(TaskSizeMax))
	assert.Equal(t, 792, StateSize)
	assert.Equal(t, 0x63, GDTEntryTLSMin*8+3)
	assert.Equal(t, 0x73, GDTEntryTLSMax*8+3)
	assert.Equal(t, 0x254dd5, UserFlags)
}

type validateCase struct {
	name  string
	edit  func(s *State)
	field string // "" when the state is valid; else the part and field the error must name
}

func setReg(name string, v uint64) func(*State) {
	return func(s *State) {
		if err := s.Set(name, v); err != nil {
			panic(err)
		}
	}
}

func orFlags(v uint64) func(*State) { return func(s *State) { s.Regs.Eflags |= v } }

func setDR(n int, v uint64) func(*State) { return func(s *State) { s.Debug[n] = v } }

func both(a, b func(*State)) func(*State) { return func(s *State) { a(s); b(s) } }

const tsm = uint64(TaskSizeMax)

func validateCases() []validateCase {
	cases := []validateCase{
		// eflags
		{"eflags default", nil, ""},
		{"eflags every user flag", orFlags(UserFlags), ""},
		{"eflags IF clear", func(s *State) { s.Regs.Eflags &^= FlagIF }, "regs: eflags"},
		{"eflags bit 1 clear", func(s *State) { s.Regs.Eflags &^= FlagFixed }, "regs: eflags"},
		{"eflags IOPL 3", orFlags(FlagIOPL), "regs: eflags"},
		{"eflags IOPL 1", orFlags(1 << 12), "regs: eflags"},
		{"eflags VM", orFlags(FlagVM), "regs: eflags"},
		{"eflags VIF", orFlags(FlagVIF), "regs: eflags"},
		{"eflags VIP", orFlags(FlagVIP), "regs: eflags"},
		{"eflags reserved bit 3", orFlags(1 << 3), "regs: eflags"},
		{"eflags reserved bit 5", orFlags(1 << 5), "regs: eflags"},
		{"eflags reserved bit 15", orFlags(1 << 15), "regs: eflags"},
		{"eflags bit 22", orFlags(1 << 22), "regs: eflags"},
		{"eflags bit 31", orFlags(1 << 31), "regs: eflags"},
		{"eflags bit 32", orFlags(1 << 32), "regs: eflags"},
		{"eflags bit 63", orFlags(1 << 63), "regs: eflags"},

		// cs
		{"cs user", setReg("cs", 0x33), ""},
		{"cs user32", setReg("cs", 0x23), ""},
		{"cs kernel", setReg("cs", 0x10), "regs: cs"},
		{"cs null", setReg("cs", 0), "regs: cs"},
		{"cs user data", setReg("cs", 0x2b), "regs: cs"},
		{"cs user with RPL 0", setReg("cs", 0x30), "regs: cs"},
		{"cs above 16 bits", setReg("cs", 0x10033), "regs: cs"},

		// ss
		{"ss user", setReg("ss", 0x2b), ""},
		{"ss null", setReg("ss", 0), "regs: ss"},
		{"ss RPL 0", setReg("ss", 0x28), "regs: ss"},
		{"ss TLS", setReg("ss", 0x63), "regs: ss"},
		{"ss above 16 bits", setReg("ss", 0x1002b), "regs: ss"},

		// rip, fs_base, gs_base
		{"rip zero", setReg("rip", 0), ""},
		{"rip last user byte", setReg("rip", tsm-1), ""},
		{"rip TASK_SIZE_MAX", setReg("rip", tsm), "regs: rip"},
		{"rip non-canonical", setReg("rip", 1<<47), "regs: rip"},
		{"rip kernel", setReg("rip", 0xffffffff81000000), "regs: rip"},
		{"fs_base last user byte", setReg("fs_base", tsm-1), ""},
		{"fs_base TASK_SIZE_MAX", setReg("fs_base", tsm), "regs: fs_base"},
		{"fs_base all ones", setReg("fs_base", ^uint64(0)), "regs: fs_base"},
		{"gs_base last user byte", setReg("gs_base", tsm-1), ""},
		{"gs_base TASK_SIZE_MAX", setReg("gs_base", tsm), "regs: gs_base"},
		{"gs_base kernel", setReg("gs_base", 0xffff888000000000), "regs: gs_base"},
		{"rsp is not checked", setReg("rsp", ^uint64(0)), ""},

		// mxcsr and its mask
		{"mxcsr all feature bits", setReg("mxcsr", 0xffff), ""},
		{"mxcsr bit 16", setReg("mxcsr", 0x1f80|1<<16), "fpu: mxcsr"},
		{"mxcsr bit 31", setReg("mxcsr", 0x1f80|1<<31), "fpu: mxcsr"},
		{"mxcsr_mask without DAZ", func(s *State) { s.FPU.MxcsrMask = 0xffbf }, "fpu: mxcsr_mask"},
		{"mxcsr_mask zero", func(s *State) { s.FPU.MxcsrMask = 0 }, "fpu: mxcsr_mask"},

		// DR4, DR5, DR6
		{"dr4 set", setDR(4, 1), "debug: dr4"},
		{"dr5 set", setDR(5, 0xffff0ff0), "debug: dr5"},
		{"dr6 hardware polarity", setDR(6, 0xffff0ff0), ""},
		{"dr6 low half all ones", setDR(6, 0xffffffff), ""},
		{"dr6 bit 32", setDR(6, 1<<32), "debug: dr6"},
		{"dr6 bit 63", setDR(6, 1<<63), "debug: dr6"},

		// DR7 control bits
		{"dr7 LE and GE", setDR(7, 0x300), ""},
		{"dr7 GD", setDR(7, 0x2000), "debug: dr7"},
		{"dr7 reserved bit 10", setDR(7, 0x400), "debug: dr7"},
		{"dr7 reserved bit 15", setDR(7, 0x8000), "debug: dr7"},
		{"dr7 bit 32", setDR(7, 1<<32), "debug: dr7"},
		{"dr7 bit 63", setDR(7, 1<<63), "debug: dr7"},
	}

	// Breakpoint addresses, in every slot.
	for n := 0; n < 4; n++ {
		dr := fmt.Sprintf("debug: dr%d", n)
		cases = append(cases,
			validateCase{fmt.Sprintf("dr%d last user byte", n), setDR(n, tsm-1), ""},
			validateCase{fmt.Sprintf("dr%d TASK_SIZE_MAX", n), setDR(n, tsm), dr},
			validateCase{fmt.Sprintf("dr%d kernel", n), setDR(n, 0xffffffff81000000), dr},
		)
	}

	// DR7 slot types and lengths, in every slot, enabled and not: Validate
	// checks all four fields whatever their enable bits say.
	for i := 0; i < 4; i++ {
		enable := uint64(1) << (2 * i)
		field := func(rw, length uint64) uint64 { return (length<<2 | rw) << (16 + 4*i) }
		name := func(what string) string { return fmt.Sprintf("dr7 slot %d %s", i, what) }
		cases = append(cases,
			validateCase{name("execute len 1 enabled"), setDR(7, enable|field(0, 0)), ""},
			validateCase{name("write len 8 global"), setDR(7, enable<<1|field(1, 2)), ""},
			validateCase{name("read/write len 4"), setDR(7, enable|field(3, 3)), ""},
			validateCase{name("I/O enabled"), setDR(7, enable|field(2, 0)), "debug: dr7"},
			validateCase{name("I/O disabled"), setDR(7, field(2, 0)), "debug: dr7"},
			validateCase{name("execute len 2"), setDR(7, enable|field(0, 1)), "debug: dr7"},
			validateCase{name("execute len 8"), setDR(7, enable|field(0, 2)), "debug: dr7"},
			validateCase{name("execute len 4 disabled"), setDR(7, field(0, 3)), "debug: dr7"},
		)
	}

	// Alignment of a breakpoint address to its length.
	dr := func(n int) string { return fmt.Sprintf("debug: dr%d", n) }
	cases = append(cases,
		validateCase{"dr1 len 4 aligned", both(setDR(1, 0x1004), setDR(7, 0x4|0xd<<20)), ""},
		validateCase{"dr1 len 4 misaligned", both(setDR(1, 0x1001), setDR(7, 0x4|0xd<<20)), dr(1)},
		validateCase{"dr0 len 4 misaligned, disabled", both(setDR(0, 0x1002), setDR(7, 0xd<<16)), dr(0)},
		validateCase{"dr2 len 2 misaligned", both(setDR(2, 0x1001), setDR(7, 0x10|0x5<<24)), dr(2)},
		validateCase{"dr2 len 8 at the top of user space", both(setDR(2, tsm-8), setDR(7, 0x10|0x9<<24)), ""},
		validateCase{"dr3 len 8 crossing into the guard page", both(setDR(3, tsm-4), setDR(7, 0x40|0x9<<28)), dr(3)},
		validateCase{"dr3 len 1 unaligned is fine", both(setDR(3, 0x1003), setDR(7, 0x40|0x1<<28)), ""},
		validateCase{"dr0 execute unaligned is fine", both(setDR(0, 0x401003), setDR(7, 0x1)), ""},
	)

	// Data selectors, for each of ds, es, fs and gs.
	for _, seg := range []string{"ds", "es", "fs", "gs"} {
		field := "regs: " + seg
		for _, v := range []uint64{0, 0x2b, 0x63, 0x6b, 0x73, 0x7, 0xf, 0xffff} {
			cases = append(cases, validateCase{fmt.Sprintf("%s %#x", seg, v), setReg(seg, v), ""})
		}
		for _, v := range []uint64{
			0x13,    // GDT entry 2, kernel code, with RPL 3
			0x33,    // the user code segment
			0x23,    // the compat code segment
			0x28,    // user data with RPL 0
			0x5b,    // GDT entry 11, below the TLS slots
			0x7b,    // GDT entry 15, the CPU-number segment
			0x60,    // TLS entry with RPL 0
			0x4,     // LDT entry with RPL 0
			0x6,     // LDT entry with RPL 2
			0x1002b, // above 16 bits
			0x10000, // above 16 bits, null below
		} {
			cases = append(cases, validateCase{fmt.Sprintf("%s %#x", seg, v), setReg(seg, v), field})
		}
	}
	return cases
}

func TestValidate(t *testing.T) {
	for _, c := range validateCases() {
		t.Run(c.name, func(t *testing.T) {
			s := Default()
			if c.edit != nil {
				c.edit(&s)
			}
			err := s.Validate()
			if c.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.True(t, errors.Is(err, errno.EINVAL), "error %q does not wrap EINVAL", err)
			msg := err.Error()
			assert.Contains(t, msg, c.field+" 0x", "the message names the field and its value")
			assert.Equal(t, 1, strings.Count(msg, "\n")+1, "one violation, one line: %q", msg)
		})
	}
}

func TestValidateMessages(t *testing.T) {
	s := Default()
	s.Regs.Cs = 0x10
	err := s.Validate()
	require.Error(t, err)
	assert.True(t, strings.HasPrefix(err.Error(), "regs: cs 0x10: not a user code selector"), err.Error())

	s = Default()
	s.Regs.Ss = 0
	err = s.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "regs: ss 0x0: null stack selector")

	s = Default()
	s.Regs.Eflags |= FlagIOPL | FlagVM | 1<<40
	err = s.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "regs: eflags 0x10000023202:")
	assert.Contains(t, err.Error(), "IOPL")
	assert.Contains(t, err.Error(), "VM")
	assert.Contains(t, err.Error(), "reserved bits 0x10000000000")

	s = Default()
	s.Debug[7] = 0x1 | 0x2<<16
	err = s.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "debug: dr7 0x20001: breakpoint 0 is an I/O breakpoint")

	s = Default()
	s.FPU.Mxcsr = 0x11f80
	err = s.Validate()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "fpu: mxcsr 0x11f80: reserved bits 0x10000 set")
}

// TestValidateReportsEveryViolation checks that a state broken in several
// places is refused with all of them named, not just the first.
func TestValidateReportsEveryViolation(t *testing.T) {
	s := Default()
	s.Regs.Cs = 0x10
	s.Regs.FsBase = tsm
	s.FPU.Mxcsr = 1 << 20
	s.Debug[4] = 1
	err := s.Validate()
	require.Error(t, err)
	assert.True(t, errors.Is(err, errno.EINVAL))
	lines := strings.Split(err.Error(), "\n")
	require.Len(t, lines, 4, err.Error())
	assert.True(t, strings.HasPrefix(lines[0], "regs: cs 0x10:"))
	assert.True(t, strings.HasPrefix(lines[1], "regs: fs_base 0x7ffffffff000:"))
	assert.True(t, strings.HasPrefix(lines[2], "fpu: mxcsr 0x100000:"))
	assert.True(t, strings.HasPrefix(lines[3], "debug: dr4 0x1:"))
}
