package inspect

import (
	"bytes"
	"fmt"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// shortLen is how many bytes of a tail part are shown before it is cut.
const shortLen = 60

// symbol renders a field's value for people, or returns "" when the raw
// value says it all. Byte arrays are rendered by the printers.
func symbol(r *Record, f *Field) string {
	v := f.Bits
	switch r.Type {
	case image.TypeHeader:
		switch f.Name {
		case "Flags":
			if v == ckpt.CHECKPOINT_SUBTREE {
				return "CHECKPOINT_SUBTREE"
			}
		case "Time":
			return time.Unix(0, f.Int()).UTC().Format(time.RFC3339Nano)
		}
	case image.TypeArch:
		if f.Name == "Arch" && v == image.ArchX86_64 {
			return "x86-64"
		}
	case image.TypeTail:
		if f.Name == "CRC" {
			if uint32(v) == r.CRC {
				return "matches"
			}
			return fmt.Sprintf("mismatch: computed 0x%08x", r.CRC)
		}
	case image.TypeObjref:
		if f.Name == "ObjType" {
			return image.ObjTypeName(image.ObjType(v))
		}
	case ckpt.RecTask:
		if f.Name == "State" {
			return map[uint64]string{0: "live", 1: "zombie"}[v]
		}
	case task.RecFd:
		if f.Name == "CloseOnExec" && v == 1 {
			return "cloexec"
		}
	case vfs.RecFile:
		switch f.Name {
		case "FileType":
			return vfs.FileType(v).String()
		case "Flags":
			return vfs.FormatOpenFlags(int(v))
		case "Mode":
			return vfs.FMode(v).String()
		}
	case vfs.RecPipeBuf:
		if f.Name == "Flags" && v == 1 {
			return "packet"
		}
	case vfs.RecGhost:
		if f.Name == "Mode" {
			return vfs.FormatMode(uint32(v))
		}
	}
	return ""
}

// tailParts splits a record's tail into the parts its type defines.
func tailParts(r *Record) []Part {
	t := r.Tail
	switch r.Type {
	case image.TypeError:
		// Whole: the message is why the checkpoint failed, and its end
		// (the errno) matters most.
		return []Part{{"message", strconv.Quote(string(t))}}
	case ckpt.RecRegs:
		// The registers are fields now; show the usual few, as before.
		var s x86cpu.State
		if err := s.UnmarshalBinary(r.fixed()); err != nil {
			return []Part{{"regs", err.Error()}}
		}
		hex := func(v uint64) string { return "0x" + strconv.FormatUint(v, 16) }
		return []Part{{"rip", hex(s.Regs.Rip)}, {"rsp", hex(s.Regs.Rsp)}, {"rax", hex(s.Regs.Rax)},
			{"cs", hex(s.Regs.Cs)}, {"eflags", hex(s.Regs.Eflags)}}
	case task.RecFS:
		root, cwd := r.value("RootLen"), r.value("CwdLen")
		if root+cwd == int64(len(t)) {
			return []Part{{"root", quoteShort(t[:root])}, {"cwd", quoteShort(t[root:])}}
		}
	case vfs.RecFile:
		if len(t) == 0 {
			return nil
		}
		return []Part{{"path", quoteShort(t)}}
	case vfs.RecPipeBuf:
		return []Part{{"data", quoteShort(t)}}
	case vfs.RecGhost:
		if n := r.value("PathLen"); n <= int64(len(t)) {
			return []Part{{"path", quoteShort(t[:n])}, {"contents", quoteShort(t[n:])}}
		}
	}
	if len(t) == 0 {
		return nil
	}
	// A tail whose lengths disagree with the fixed part: show it whole.
	return []Part{{"tail", quoteShort(t)}}
}

// quoteShort quotes b, cut after shortLen bytes with its length said.
func quoteShort(b []byte) string {
	if len(b) <= shortLen {
		return strconv.Quote(string(b))
	}
	return fmt.Sprintf("%s... (%d bytes)", strconv.Quote(string(b[:shortLen])), len(b))
}

// nulText returns the text of a NUL-padded byte array: text, then only
// NULs. It reports false when the bytes are not that: a NUL inside the
// text, bytes after the padding, or text that is not printable UTF-8.
func nulText(b []byte) (string, bool) {
	text := bytes.TrimRight(b, "\x00")
	if bytes.IndexByte(text, 0) >= 0 || !printable(text) {
		return "", false
	}
	return string(text), true
}

// printable reports whether b is valid UTF-8 text of printable characters,
// tabs and newlines: text that reads and round-trips as a JSON string.
func printable(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, c := range string(b) {
		if !unicode.IsPrint(c) && c != '\n' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}
