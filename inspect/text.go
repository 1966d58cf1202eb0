package inspect

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Show prints what an image holds: one line per record (its offset, type,
// payload length and fields, symbolic where that helps, objref fields
// marked first or ref), then a summary. For a cut or malformed image it
// prints the records read before the fault, then the error with its
// offset, and returns that error.
func Show(w io.Writer, img io.Reader) error {
	rep, _ := Inspect(img)
	if err := rep.WriteText(w); err != nil {
		return err
	}
	return rep.Err
}

// WriteText prints the report as Show does. Its error is w's.
func (rep *Report) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "%8s  %-10s %6s  %s\n", "offset", "record", "length", "fields")
	for _, r := range rep.Records {
		fmt.Fprintf(bw, "%8d  %-10s %6d  %s\n", r.Offset, r.Type, r.Length, r.text())
	}
	if rep.Err != nil {
		fmt.Fprintf(bw, "error: %v\n", rep.Err)
	}
	rep.Summary.write(bw)
	return bw.Flush()
}

// text renders a record's fields and tail parts: NAME=VALUE, separated by
// spaces.
func (r *Record) text() string {
	var parts []string
	for _, f := range r.Fields {
		if r.Type == ckpt.RecRegs {
			break // shown by their usual few, as parts
		}
		if strings.HasPrefix(f.Name, "Pad") && f.Bits == 0 {
			continue // zero, as the format requires: noise
		}
		parts = append(parts, f.Name+"="+f.text(r.Type))
	}
	for _, p := range r.Parts {
		parts = append(parts, p.Name+"="+p.Text)
	}
	return strings.Join(parts, " ")
}

// text renders one field's value: text for a NUL-padded string, hex for
// other byte arrays, the number in the base people write it in, then the
// symbol or the objref mark in parentheses.
func (f *Field) text(t image.Type) string {
	if f.IsArray() {
		if s, ok := nulText(f.Bytes); ok {
			return strconv.Quote(s)
		}
		return fmt.Sprintf("0x%x", f.Bytes)
	}
	s := strconv.FormatInt(f.Int(), 10)
	switch {
	case t == vfs.RecFile && f.Name == "Flags", t == vfs.RecGhost && f.Name == "Mode":
		s = "0" + strconv.FormatUint(f.Bits, 8)
	case t == vfs.RecFile && f.Name == "Mode", t == image.TypeTail && f.Name == "CRC":
		s = "0x" + strconv.FormatUint(f.Bits, 16)
	}
	if f.Symbol != "" {
		s += "(" + f.Symbol + ")"
	}
	if f.Mark != "" {
		s += "(" + f.Mark + ")"
	}
	return s
}

// write prints the summary.
func (s *Summary) write(w io.Writer) {
	fmt.Fprintf(w, "summary:\n")
	fmt.Fprintf(w, "  tasks: %d live, %d zombie\n", s.Tasks, s.Zombies)
	fmt.Fprintf(w, "  file tables: %d\n", s.FileTables)
	fmt.Fprintf(w, "  fs states: %d\n", s.FSStates)
	total := 0
	var kinds []string
	for k, n := range s.Files {
		total += n
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	byType := make([]string, len(kinds))
	for i, k := range kinds {
		byType[i] = fmt.Sprintf("%s %d", k, s.Files[k])
	}
	if len(byType) > 0 {
		fmt.Fprintf(w, "  files: %d (%s)\n", total, strings.Join(byType, ", "))
	} else {
		fmt.Fprintf(w, "  files: 0\n")
	}
	fmt.Fprintf(w, "  pipes: %d, %d bytes buffered\n", s.Pipes, s.PipeBytes)
	fmt.Fprintf(w, "  ghosts: %d\n", s.Ghosts)
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
		fmt.Fprintf(w, "    %-10s %5d records %9d bytes\n", ts.Type, ts.Count, ts.Bytes)
		count += ts.Count
	}
	fmt.Fprintf(w, "    %-10s %5d records %9d bytes\n", "total", count, s.Total)
}
