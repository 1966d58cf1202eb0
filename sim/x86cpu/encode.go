package x86cpu

import (
	"encoding/binary"
	"fmt"
)

// The image is Regs, then FXSave, then DebugRegs, each laid out exactly as
// its Linux structure on x86-64, every field little-endian. Fields are
// written one by one at fixed offsets, never by copying Go memory, so the
// bytes do not depend on the host's byte order or on Go's struct layout.

var le = binary.LittleEndian

// Offsets of the parts within the image.
const (
	regsOff  = 0
	fpuOff   = regsOff + RegsSize
	debugOff = fpuOff + FXSaveSize
)

// Offsets within the FXSAVE area (Intel SDM vol. 1, table 10-2, 64-bit
// format; the same as struct user_i387_struct).
const (
	fxCwd       = 0
	fxSwd       = 2
	fxTwd       = 4
	fxFop       = 6
	fxRip       = 8
	fxRdp       = 16
	fxMxcsr     = 24
	fxMxcsrMask = 28
	fxST        = 32  // 8 registers of 16 bytes
	fxXMM       = 160 // 16 registers of 16 bytes
	fxPadding   = 416 // 24 words to the end
)

// MarshalBinary encodes s as a StateSize-byte image. It never fails; the
// error is there to satisfy encoding.BinaryMarshaler.
func (s State) MarshalBinary() ([]byte, error) {
	b := make([]byte, StateSize)
	s.Regs.put(b[regsOff:fpuOff])
	s.FPU.put(b[fpuOff:debugOff])
	s.Debug.put(b[debugOff:])
	return b, nil
}

// UnmarshalBinary decodes an image made by MarshalBinary. The image must be
// exactly StateSize bytes; otherwise it returns an error wrapping
// errno.EINVAL that gives both lengths, and leaves s unchanged.
//
// It does not validate the decoded state: an image is untrusted, and the
// caller must call Validate before loading the state into a task.
func (s *State) UnmarshalBinary(b []byte) error {
	if len(b) != StateSize {
		return fmt.Errorf("x86cpu: register image is %d bytes, expected %d: %w", len(b), StateSize, einval)
	}
	s.Regs.get(b[regsOff:fpuOff])
	s.FPU.get(b[fpuOff:debugOff])
	s.Debug.get(b[debugOff:])
	return nil
}

func (r *Regs) put(b []byte) {
	for i, p := range r.slots() {
		le.PutUint64(b[8*i:], *p)
	}
}

func (r *Regs) get(b []byte) {
	for i, p := range r.slots() {
		*p = le.Uint64(b[8*i:])
	}
}

func (f *FXSave) put(b []byte) {
	le.PutUint16(b[fxCwd:], f.Cwd)
	le.PutUint16(b[fxSwd:], f.Swd)
	le.PutUint16(b[fxTwd:], f.Twd)
	le.PutUint16(b[fxFop:], f.Fop)
	le.PutUint64(b[fxRip:], f.Rip)
	le.PutUint64(b[fxRdp:], f.Rdp)
	le.PutUint32(b[fxMxcsr:], f.Mxcsr)
	le.PutUint32(b[fxMxcsrMask:], f.MxcsrMask)
	for i, st := range f.ST {
		o := fxST + 16*i
		le.PutUint64(b[o:], st.Mantissa)
		le.PutUint16(b[o+8:], st.SignExp)
		for j, w := range st.Reserved {
			le.PutUint16(b[o+10+2*j:], w)
		}
	}
	for i, x := range f.XMM {
		o := fxXMM + 16*i
		le.PutUint64(b[o:], x.Lo)
		le.PutUint64(b[o+8:], x.Hi)
	}
	for i, w := range f.Padding {
		le.PutUint32(b[fxPadding+4*i:], w)
	}
}

func (f *FXSave) get(b []byte) {
	f.Cwd = le.Uint16(b[fxCwd:])
	f.Swd = le.Uint16(b[fxSwd:])
	f.Twd = le.Uint16(b[fxTwd:])
	f.Fop = le.Uint16(b[fxFop:])
	f.Rip = le.Uint64(b[fxRip:])
	f.Rdp = le.Uint64(b[fxRdp:])
	f.Mxcsr = le.Uint32(b[fxMxcsr:])
	f.MxcsrMask = le.Uint32(b[fxMxcsrMask:])
	for i := range f.ST {
		o := fxST + 16*i
		f.ST[i].Mantissa = le.Uint64(b[o:])
		f.ST[i].SignExp = le.Uint16(b[o+8:])
		for j := range f.ST[i].Reserved {
			f.ST[i].Reserved[j] = le.Uint16(b[o+10+2*j:])
		}
	}
	for i := range f.XMM {
		o := fxXMM + 16*i
		f.XMM[i].Lo = le.Uint64(b[o:])
		f.XMM[i].Hi = le.Uint64(b[o+8:])
	}
	for i := range f.Padding {
		f.Padding[i] = le.Uint32(b[fxPadding+4*i:])
	}
}

func (d *DebugRegs) put(b []byte) {
	for i, v := range d {
		le.PutUint64(b[8*i:], v)
	}
}

func (d *DebugRegs) get(b []byte) {
	for i := range d {
		d[i] = le.Uint64(b[8*i:])
	}
}
