package x86cpu

import (
	"encoding/binary"
	"errors"
	"fmt"
	"testing"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// marked returns a state in which every field holds a value that says which
// field it is, so that a golden offset test catches any two fields swapped.
func marked() State {
	var s State
	for i, p := range s.Regs.slots() {
		*p = 0x1100000000000000 | uint64(i+1)<<8 | 0x5a
	}
	s.FPU = FXSave{
		Cwd: 0xc0c0, Swd: 0x5050, Twd: 0x7070, Fop: 0xf0f0,
		Rip: 0xa1a1a1a1a1a1a1a1, Rdp: 0xd1d1d1d1d1d1d1d1,
		Mxcsr: 0x11223344, MxcsrMask: 0x55667788,
	}
	for i := range s.FPU.ST {
		s.FPU.ST[i] = X87Reg{
			Mantissa: 0x8000000000000000 | uint64(i),
			SignExp:  0x4000 | uint16(i),
			Reserved: [3]uint16{0xe000 | uint16(i), 0xe100, 0xe200},
		}
	}
	for i := range s.FPU.XMM {
		s.FPU.XMM[i] = XMMReg{Lo: 0x0101010101010100 | uint64(i), Hi: 0xf0f0f0f0f0f0f000 | uint64(i)}
	}
	for i := range s.FPU.Padding {
		s.FPU.Padding[i] = 0xbad00000 | uint32(i)
	}
	for i := range s.Debug {
		s.Debug[i] = 0xdd00000000000000 | uint64(i)
	}
	return s
}

func TestGoldenOffsets(t *testing.T) {
	s := marked()
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	require.Len(t, b, StateSize)
	u16 := func(off int) uint16 { return binary.LittleEndian.Uint16(b[off:]) }
	u32 := func(off int) uint32 { return binary.LittleEndian.Uint32(b[off:]) }
	u64 := func(off int) uint64 { return binary.LittleEndian.Uint64(b[off:]) }

	// struct user_regs_struct offsets, as offsetof reports them on x86-64.
	for _, c := range []struct {
		off  int
		want uint64
	}{
		{0, s.Regs.R15}, {32, s.Regs.Rbp}, {72, s.Regs.R8}, {80, s.Regs.Rax},
		{112, s.Regs.Rdi}, {120, s.Regs.OrigRax}, {128, s.Regs.Rip},
		{136, s.Regs.Cs}, {144, s.Regs.Eflags}, {152, s.Regs.Rsp},
		{160, s.Regs.Ss}, {168, s.Regs.FsBase}, {176, s.Regs.GsBase},
		{184, s.Regs.Ds}, {192, s.Regs.Es}, {200, s.Regs.Fs}, {208, s.Regs.Gs},
	} {
		assert.Equal(t, c.want, u64(c.off), "regs offset %d", c.off)
	}

	// The FXSAVE area, from byte 216 of the image.
	fx := RegsSize
	assert.Equal(t, uint16(0xc0c0), u16(fx+0), "cwd")
	assert.Equal(t, uint16(0x5050), u16(fx+2), "swd")
	assert.Equal(t, uint16(0x7070), u16(fx+4), "twd")
	assert.Equal(t, uint16(0xf0f0), u16(fx+6), "fop")
	assert.Equal(t, uint64(0xa1a1a1a1a1a1a1a1), u64(fx+8), "rip")
	assert.Equal(t, uint64(0xd1d1d1d1d1d1d1d1), u64(fx+16), "rdp")
	assert.Equal(t, uint32(0x11223344), u32(fx+24), "mxcsr")
	assert.Equal(t, uint32(0x55667788), u32(fx+28), "mxcsr_mask")
	assert.Equal(t, uint64(0x8000000000000000), u64(fx+32), "st0 mantissa")
	assert.Equal(t, uint16(0x4000), u16(fx+40), "st0 exponent")
	assert.Equal(t, uint16(0xe000), u16(fx+42), "st0 reserved")
	assert.Equal(t, uint64(0x8000000000000007), u64(fx+32+7*16), "st7 mantissa")
	assert.Equal(t, uint64(0x0101010101010100), u64(fx+160), "xmm0 low")
	assert.Equal(t, uint64(0xf0f0f0f0f0f0f000), u64(fx+168), "xmm0 high")
	assert.Equal(t, uint64(0x010101010101010f), u64(fx+160+15*16), "xmm15 low")
	assert.Equal(t, uint64(0xf0f0f0f0f0f0f00f), u64(fx+168+15*16), "xmm15 high")
	assert.Equal(t, uint32(0xbad00000), u32(fx+416), "padding[0]")
	assert.Equal(t, uint32(0xbad00017), u32(fx+508), "padding[23]")

	// u_debugreg, from byte 728.
	dr := RegsSize + FXSaveSize
	assert.Equal(t, 728, dr)
	for i := range 8 {
		assert.Equal(t, 0xdd00000000000000|uint64(i), u64(dr+8*i), "dr%d", i)
	}
}

// TestEncodingIsLittleEndian pins the byte order itself, not just the
// offsets: the image must be the same on a big-endian host.
func TestEncodingIsLittleEndian(t *testing.T) {
	var s State
	s.Regs.Rip = 0x0102030405060708
	s.FPU.Mxcsr = 0x1f80
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	assert.Equal(t, []byte{8, 7, 6, 5, 4, 3, 2, 1}, b[128:136])
	assert.Equal(t, []byte{0x80, 0x1f, 0, 0}, b[RegsSize+24:RegsSize+28])
}

func TestRoundTrip(t *testing.T) {
	for _, s := range []State{{}, Default(), marked()} {
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		var got State
		require.NoError(t, got.UnmarshalBinary(b))
		assert.Equal(t, s, got)
		assert.Empty(t, s.Diff(got))
	}
}

func TestUnmarshalRefusesWrongLength(t *testing.T) {
	good, err := marked().MarshalBinary()
	require.NoError(t, err)
	for _, n := range []int{0, 1, RegsSize, StateSize - 1, StateSize + 1, 2 * StateSize} {
		b := make([]byte, n)
		copy(b, good)
		s := Default()
		err := s.UnmarshalBinary(b)
		require.Error(t, err, "length %d", n)
		assert.True(t, errors.Is(err, errno.EINVAL), "length %d: %v", n, err)
		assert.Contains(t, err.Error(), fmt.Sprintf("is %d bytes, expected %d", n, StateSize))
		assert.Equal(t, Default(), s, "a refused image leaves the state alone")
	}
	assert.Error(t, (&State{}).UnmarshalBinary(nil))
}

// TestUnmarshalDoesNotValidate: decoding is not the place to refuse a bad
// state, so a state Validate rejects still round-trips.
func TestUnmarshalDoesNotValidate(t *testing.T) {
	s := Default()
	s.Regs.Cs = 0x10
	s.Debug[7] = 0x2000
	require.Error(t, s.Validate())
	b, err := s.MarshalBinary()
	require.NoError(t, err)
	var got State
	require.NoError(t, got.UnmarshalBinary(b))
	assert.Equal(t, s, got)
}

func TestDiffFormat(t *testing.T) {
	a, b := Default(), Default()
	b.Regs.Rip = 0x401004
	b.FPU.XMM[3] = XMMReg{Lo: 1}
	b.FPU.ST[0].SignExp = 0x3fff
	b.Debug[7] = 0x1
	b.FPU.Padding[5] = 9
	assert.Equal(t, []string{
		"rip: 0x401000 != 0x401004",
		"fpu.st0: 0x00000000000000000000000000000000 != 0x0000000000003fff0000000000000000",
		"fpu.xmm3: 0x00000000000000000000000000000000 != 0x00000000000000000000000000000001",
		"fpu.padding[5]: 0x0 != 0x9",
		"dr7: 0x0 != 0x1",
	}, a.Diff(b))
	assert.Nil(t, a.Diff(a))
}
