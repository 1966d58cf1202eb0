package inspect

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// TextOptions change what Show prints.
type TextOptions struct {
	// All prints every field: the zero fields of wide records and the
	// Pad fields too.
	All bool
}

// wideRecord is how many fields make a record wide: Show leaves out the
// fields of a wide record (REGS, with its 213 registers and register
// parts) that are zero, and says how many it left out.
const wideRecord = 32

// Show prints what an image holds: one line per record (its offset, type,
// payload length, what it belongs to, and its fields, symbolic where that
// helps, objref fields marked first or ref), then a summary. For a cut or
// malformed image it prints the records read before the fault, then the
// error with its offset, and returns that error.
func Show(w io.Writer, img io.Reader) error {
	return ShowWith(w, img, TextOptions{})
}

// ShowWith is Show with options.
func ShowWith(w io.Writer, img io.Reader, opts TextOptions) error {
	rep, _ := Inspect(img)
	if err := rep.WriteTextWith(w, opts); err != nil {
		return err
	}
	return rep.Err
}

// WriteText prints the report as Show does. Its error is w's.
func (rep *Report) WriteText(w io.Writer) error {
	return rep.WriteTextWith(w, TextOptions{})
}

// WriteTextWith prints the report as ShowWith does. The "of" column says
// what each record belongs to: the object whose state it is ("file table
// #1"), or the task whose own record it is ("pid 2"); the records of the
// stream and the tree belong to neither.
func (rep *Report) WriteTextWith(w io.Writer, opts TextOptions) error {
	bw := bufio.NewWriter(w)
	typeWidth, ofWidth := 0, 0
	for _, s := range image.Specs() {
		typeWidth = max(typeWidth, len(s.Name))
	}
	for _, r := range rep.Records {
		ofWidth = max(ofWidth, len(r.Owner()))
	}
	of := func(s string) string {
		if ofWidth == 0 {
			return ""
		}
		return fmt.Sprintf("%-*s  ", ofWidth, s)
	}
	fmt.Fprintf(bw, "%8s  %-*s %6s  %s%s\n", "offset", typeWidth, "record", "length", of("of"), "fields")
	for _, r := range rep.Records {
		line := fmt.Sprintf("%8d  %-*s %6d  %s%s", r.Offset, typeWidth, r.Type, r.Length, of(r.Owner()), r.text(opts))
		bw.WriteString(strings.TrimRight(line, " ") + "\n")
	}
	if rep.Err != nil {
		fmt.Fprintf(bw, "error: %v\n", rep.Err)
	}
	rep.Summary.write(bw)
	return bw.Flush()
}

// text renders a record's fields and tail parts: NAME=VALUE, separated by
// spaces, as shown says.
func (r *Record) text(opts TextOptions) string {
	var parts []string
	fields, hidden := r.shown(opts)
	for _, f := range fields {
		parts = append(parts, f.Name+"="+f.text())
	}
	for i, p := range r.Parts {
		if len(p.Data) == 0 && r.sizedPart(i) {
			continue // its length field, shown, says it is empty
		}
		parts = append(parts, p.Name+"="+p.Text)
	}
	if hidden > 0 {
		parts = append(parts, fmt.Sprintf("(%d more fields, all zero)", hidden))
	}
	return strings.Join(parts, " ")
}

// sizedPart reports whether the record's tail part i is one whose length
// a field of the fixed part gives (a FILE record's page tail).
func (r *Record) sizedPart(i int) bool {
	sp := r.Spec.Tail.Parts
	return i < len(sp) && i < len(r.Parts) && sp[i].Name == r.Parts[i].Name && sp[i].LenField != ""
}

// shown returns the fields of a record that Show prints, and how many zero
// fields of a wide record it leaves out. Zero Pad fields are left out too
// (zero, as the format requires: noise), unless opts say all.
func (r *Record) shown(opts TextOptions) (fields []*Field, hidden int) {
	wide := len(r.Fields) > wideRecord && !opts.All
	for _, f := range r.Fields {
		zero := !f.IsArray() && f.Bits == 0
		switch {
		case zero && !opts.All && f.IsPad():
		case zero && wide:
			hidden++
		default:
			fields = append(fields, f)
		}
	}
	return fields, hidden
}

// text renders one field's value: text for a NUL-padded string, hex for
// other byte arrays, the number as its spec writes it (hex for registers
// and checksums), then the symbol or the objref mark in parentheses.
func (f *Field) text() string {
	if f.IsArray() {
		if s, ok := nulText(f.Bytes); ok {
			return strconv.Quote(s)
		}
		return fmt.Sprintf("0x%x", f.Bytes)
	}
	s := f.NumberText()
	if f.Symbol != "" {
		s += "(" + f.Symbol + ")"
	}
	if f.Mark != "" {
		s += "(" + f.Mark + ")"
	}
	return s
}

// write prints the summary: the counts the record types' specs ask for,
// the checksum, why a checkpoint failed, and the size by record type.
func (s *Summary) write(w io.Writer) {
	fmt.Fprintf(w, "summary:\n")
	for _, c := range s.Counts {
		fmt.Fprintf(w, "  %s: %d", c.Name, c.N)
		if len(c.By) > 0 {
			var by []string
			for _, t := range c.By {
				by = append(by, fmt.Sprintf("%s %d", t.Symbol, t.N))
			}
			fmt.Fprintf(w, " (%s)", strings.Join(by, ", "))
		}
		fmt.Fprintln(w)
	}
	switch s.Checksum {
	case ChecksumOK:
		fmt.Fprintf(w, "  checksum: matches (0x%08x)\n", s.Stored)
	case ChecksumMismatch:
		fmt.Fprintf(w, "  checksum: MISMATCH: stored 0x%08x, computed 0x%08x\n", s.Stored, s.Computed)
	default:
		fmt.Fprintf(w, "  checksum: missing (no tail record)\n")
	}
	if s.Error != "" {
		fmt.Fprintf(w, "  checkpoint failed: %s\n", strconv.Quote(s.Error))
	}
	fmt.Fprintf(w, "  size by record type:\n")
	count := 0
	for _, ts := range s.Sizes {
		fmt.Fprintf(w, "    %-11s %5d records %9d bytes\n", ts.Type, ts.Count, ts.Bytes)
		count += ts.Count
	}
	fmt.Fprintf(w, "    %-11s %5d records %9d bytes\n", "total", count, s.Total)
}
