package x86cpu

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// genState draws any state at all, valid or not, filling every bit: the
// image is untrusted, so encoding and diffing must cope with anything.
func genState() *rapid.Generator[State] {
	return rapid.Custom(func(t *rapid.T) State {
		var s State
		for i, p := range s.Regs.slots() {
			*p = rapid.Uint64().Draw(t, regNames[i])
		}
		f := &s.FPU
		f.Cwd = rapid.Uint16().Draw(t, "cwd")
		f.Swd = rapid.Uint16().Draw(t, "swd")
		f.Twd = rapid.Uint16().Draw(t, "twd")
		f.Fop = rapid.Uint16().Draw(t, "fop")
		f.Rip = rapid.Uint64().Draw(t, "fpu.rip")
		f.Rdp = rapid.Uint64().Draw(t, "fpu.rdp")
		f.Mxcsr = rapid.Uint32().Draw(t, "mxcsr")
		f.MxcsrMask = rapid.Uint32().Draw(t, "mxcsr_mask")
		for i := range f.ST {
			f.ST[i].Mantissa = rapid.Uint64().Draw(t, "st.mantissa")
			f.ST[i].SignExp = rapid.Uint16().Draw(t, "st.signexp")
			for j := range f.ST[i].Reserved {
				f.ST[i].Reserved[j] = rapid.Uint16().Draw(t, "st.reserved")
			}
		}
		for i := range f.XMM {
			f.XMM[i] = XMMReg{Lo: rapid.Uint64().Draw(t, "xmm.lo"), Hi: rapid.Uint64().Draw(t, "xmm.hi")}
		}
		for i := range f.Padding {
			f.Padding[i] = rapid.Uint32().Draw(t, "padding")
		}
		for i := range s.Debug {
			s.Debug[i] = rapid.Uint64().Draw(t, "dr")
		}
		return s
	})
}

func TestPropRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genState().Draw(t, "s")
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		require.Len(t, b, StateSize)
		var got State
		require.NoError(t, got.UnmarshalBinary(b))
		require.Equal(t, s, got)
		again, err := got.MarshalBinary()
		require.NoError(t, err)
		require.Equal(t, b, again)
	})
}

// TestPropEveryByteIsOneField flips one byte of an image and checks that the
// decoded state differs in exactly one field. It shows that the encoding
// leaves no byte unused or shared, and that Diff sees every byte.
func TestPropEveryByteIsOneField(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genState().Draw(t, "s")
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		at := rapid.IntRange(0, StateSize-1).Draw(t, "at")
		b[at] ^= rapid.Uint8Range(1, 255).Draw(t, "flip")
		var got State
		require.NoError(t, got.UnmarshalBinary(b))
		require.NotEqual(t, s, got)
		require.Len(t, s.Diff(got), 1, "byte %d", at)
	})
}

func TestPropSetThenGet(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genState().Draw(t, "s")
		for _, name := range Names() {
			v := rapid.Uint64().Draw(t, name) >> (64 - Width(name))
			before := s
			require.NoError(t, s.Set(name, v))
			got, err := s.Get(name)
			require.NoError(t, err)
			require.Equal(t, v, got, name)
			// Set touches its own register and nothing else.
			require.LessOrEqual(t, len(before.Diff(s)), 1, name)
		}
	})
}

func TestPropDiffEmptyExactlyWhenEqual(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		a := genState().Draw(t, "a")
		b := a
		if rapid.Bool().Draw(t, "change") {
			img, err := b.MarshalBinary()
			require.NoError(t, err)
			for n := rapid.IntRange(1, 4).Draw(t, "n"); n > 0; n-- {
				img[rapid.IntRange(0, StateSize-1).Draw(t, "at")] = rapid.Uint8().Draw(t, "byte")
			}
			require.NoError(t, b.UnmarshalBinary(img))
		}
		d := a.Diff(b)
		require.Equal(t, a == b, len(d) == 0, "diff %q", d)
		require.Equal(t, len(d), len(b.Diff(a)), "diff is symmetric in what it finds")
	})
}

func TestPropValidateOnlyEINVAL(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		s := genState().Draw(t, "s")
		if err := s.Validate(); err != nil {
			require.True(t, errors.Is(err, errno.EINVAL), "%v", err)
		}
	})
}

func TestNames(t *testing.T) {
	n := Names()
	// 27 general registers, mxcsr, 7 more FXSAVE scalars, 8 x87 and 16 XMM
	// registers in halves, 24 padding words, 8 debug registers.
	assert.Len(t, n, 27+1+7+2*8+2*16+24+8)
	assert.Equal(t, "rax", n[0])
	assert.Equal(t, "dr7", n[len(n)-1])
	seen := map[string]bool{}
	for _, name := range n {
		assert.False(t, seen[name], "duplicate %s", name)
		seen[name] = true
	}
	for _, name := range []string{"rax", "r8-r15", "gs_base", "mxcsr", "fpu.cwd", ".mxcsr_mask", ".st7.hi", ".xmm15.hi", "[0-23]", "dr0-dr7"} {
		assert.Contains(t, NameSummary(), name)
	}
	n[0] = "clobbered"
	assert.Equal(t, "rax", Names()[0], "Names returns a copy")

	// eflags and rflags are the same register.
	s := Default()
	require.NoError(t, s.Set("eflags", 0x246))
	v, err := s.Get("rflags")
	require.NoError(t, err)
	assert.Equal(t, uint64(0x246), v)

	// Every name reaches the field it says. Diff names fields from the
	// layout table, independently of the table behind Set, so the two
	// tables check each other; a half of a 128-bit register shows in
	// Diff's rendering of the whole.
	diffName := map[string]string{"rflags": "eflags", "mxcsr": "fpu.mxcsr"}
	zero128 := "0x" + strings.Repeat("0", 32)
	for _, name := range Names() {
		var s State
		require.NoError(t, s.Set(name, 1))
		want := name + ": 0x0 != 0x1"
		if d, ok := diffName[name]; ok {
			want = d + ": 0x0 != 0x1"
		}
		if whole, half, ok := strings.Cut(name, "."); ok && strings.Contains(half, ".") {
			reg, lohi, _ := strings.Cut(half, ".")
			one := "0x" + strings.Repeat("0", 31) + "1"
			if lohi == "hi" {
				one = "0x" + strings.Repeat("0", 15) + "1" + strings.Repeat("0", 16)
			}
			want = whole + "." + reg + ": " + zero128 + " != " + one
		}
		assert.Equal(t, []string{want}, State{}.Diff(s), name)
	}
}

func TestSetGetRefuse(t *testing.T) {
	s := Default()
	for _, name := range []string{"", "xmm0", "fpu.xmm0", "fpu.st8.lo", "RAX", "eax", "dr8", "mxcsr_mask"} {
		err := s.Set(name, 1)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, errno.EINVAL))
		assert.Contains(t, err.Error(), `"`+name+`"`)
		_, err = s.Get(name)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, errno.EINVAL))
		assert.Contains(t, err.Error(), `"`+name+`"`)
	}
	err := s.Set("mxcsr", 1<<32)
	require.Error(t, err)
	assert.True(t, errors.Is(err, errno.EINVAL))
	assert.Contains(t, err.Error(), "mxcsr 0x100000000")
	for name, bits := range map[string]int{"fpu.cwd": 16, "fpu.twd": 16, "fpu.mxcsr_mask": 32, "fpu.padding[23]": 32} {
		err := s.Set(name, 1<<bits)
		require.Error(t, err, name)
		assert.True(t, errors.Is(err, errno.EINVAL))
		assert.Contains(t, err.Error(), fmt.Sprintf("%s %#x: wider than the %d-bit register", name, uint64(1)<<bits, bits))
		assert.Equal(t, bits, Width(name))
	}
	assert.Equal(t, Default(), s, "refused sets change nothing")
	assert.Equal(t, 0, Width("xmm0"))
}
