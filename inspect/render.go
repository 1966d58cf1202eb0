package inspect

import (
	"bytes"
	"fmt"
	"strconv"
	"unicode"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// shortLen is how many bytes of a tail part are shown before it is cut.
const shortLen = 60

// symbol renders a field's value for people, as its spec's meaning says
// (an enum's name, a flag set, a time), or returns "" when the raw value
// says it all. The tail record's checksum is the stream's own: its symbol
// says whether it matches the bytes before it.
func symbol(r *Record, f *Field) string {
	if r.Type == image.TypeTail && f.Name == "CRC" {
		if uint32(f.Bits) == r.CRC {
			return "matches"
		}
		return fmt.Sprintf("mismatch: computed 0x%08x", r.CRC)
	}
	return f.Field.Symbol(f.Bits)
}

// tailParts splits a record's tail into the parts its spec names, each
// quoted and cut after shortLen bytes; a tail whose lengths disagree with
// the fixed part is one part, "tail"; an empty tail has none. An error
// record's message is shown whole: it says why the checkpoint failed, and
// its end (the errno) matters most.
func tailParts(r *Record) []Part {
	if len(r.Tail) == 0 && r.Type != image.TypeError {
		return nil
	}
	parts, _ := r.Spec.Parts(r.raw)
	out := make([]Part, len(parts))
	for i, p := range parts {
		text := quoteShort(p.Data)
		if r.Type == image.TypeError {
			text = strconv.Quote(string(p.Data))
		}
		out[i] = Part{Name: p.Name, Text: text, Data: p.Data}
	}
	return out
}

// quoteShort quotes b, cut after shortLen bytes with its length said, and
// how many of them are zeros at its end (a page of memory that holds a few
// words): those are left out of the quote.
func quoteShort(b []byte) string {
	if len(b) <= shortLen {
		return strconv.Quote(string(b))
	}
	text := bytes.TrimRight(b, "\x00")
	quoted := strconv.Quote(string(text[:min(shortLen, len(text))]))
	switch zeros := len(b) - len(text); {
	case zeros == len(b):
		return fmt.Sprintf("%s... (%d bytes, all zero)", quoted, len(b))
	case zeros > 0:
		return fmt.Sprintf("%s... (%d bytes, the last %d zero)", quoted, len(b), zeros)
	}
	return fmt.Sprintf("%s... (%d bytes)", quoted, len(b))
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
