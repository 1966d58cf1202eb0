package inspect

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"strings"
)

// ChangeKind says how a record differs between two images.
type ChangeKind uint8

// The kinds of change.
const (
	// Changed: the record is in both images, of the same type, with
	// different fields or tail.
	Changed ChangeKind = iota + 1
	// Removed: the record is only in the old image.
	Removed
	// Added: the record is only in the new image.
	Added
)

// String returns "changed", "removed" or "added".
func (k ChangeKind) String() string {
	switch k {
	case Changed:
		return "changed"
	case Removed:
		return "removed"
	case Added:
		return "added"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// Change is one record-level difference between an old and a new image.
type Change struct {
	Kind ChangeKind
	// Old and New are the record in each image; Old is nil for Added, New
	// for Removed.
	Old, New *Record
	// Fields are, for Changed, the fields and tail parts whose values
	// differ.
	Fields []FieldChange
}

// FieldChange is one field (or tail part) with its old and new value, as
// Show renders values.
type FieldChange struct {
	Name     string
	Old, New string
}

// Diff compares two images record by record. Records are matched as a
// text diff matches lines (a shortest edit script over whole records), so
// that a record inserted or removed shows as one, not as every record
// after it changed; offsets do not take part, since every insertion moves
// them. Within a run of replaced records, records of the same type are
// paired again and reported as Changed, field by field.
func Diff(old, new *Report) []Change {
	a, b := old.Records, new.Records
	var out []Change
	es := editScript(len(a), len(b), func(i, j int) bool { return sameRecord(a[i], b[j]) })
	for i := 0; i < len(es); {
		if es[i].op == keep {
			i++
			continue
		}
		j := i
		for j < len(es) && es[j].op != keep {
			j++
		}
		out = append(out, replaced(a, b, es[i:j])...)
		i = j
	}
	return out
}

// replaced turns one run of deletions and insertions into changes: the
// records of the run are paired by type, in order, and each pair whose
// fields differ is a Changed; the rest are Removed or Added.
func replaced(a, b []*Record, run []edit) []Change {
	var dels, inss []*Record
	for _, e := range run {
		if e.op == del {
			dels = append(dels, a[e.i])
		} else {
			inss = append(inss, b[e.j])
		}
	}
	var out []Change
	for _, e := range editScript(len(dels), len(inss), func(i, j int) bool { return dels[i].Type == inss[j].Type }) {
		switch e.op {
		case keep:
			out = append(out, Change{Kind: Changed, Old: dels[e.i], New: inss[e.j], Fields: fieldChanges(dels[e.i], inss[e.j])})
		case del:
			out = append(out, Change{Kind: Removed, Old: dels[e.i]})
		case ins:
			out = append(out, Change{Kind: Added, New: inss[e.j]})
		}
	}
	return out
}

// sameRecord reports whether two records hold the same bytes.
func sameRecord(x, y *Record) bool {
	if x.Type != y.Type || len(x.Fields) != len(y.Fields) || !bytes.Equal(x.Tail, y.Tail) {
		return false
	}
	for i, f := range x.Fields {
		g := y.Fields[i]
		if f.Name != g.Name || f.Bits != g.Bits || !bytes.Equal(f.Bytes, g.Bytes) {
			return false
		}
	}
	return true
}

// fieldChanges lists the fields and tail parts of two records of one type
// whose rendered values differ. The rendering includes objref marks, so a
// reference that became a first encounter shows too.
func fieldChanges(x, y *Record) []FieldChange {
	var out []FieldChange
	oldF, newF := fieldTexts(x), fieldTexts(y)
	for _, name := range unionNames(oldF, newF) {
		if o, n := oldF.get(name), newF.get(name); o != n {
			out = append(out, FieldChange{name, o, n})
		}
	}
	if len(out) == 0 && !bytes.Equal(x.Tail, y.Tail) {
		// The parts render alike (cut short, say) but the bytes differ.
		out = append(out, FieldChange{"tail", fmt.Sprintf("%d bytes %q", len(x.Tail), clipBytes(x.Tail)),
			fmt.Sprintf("%d bytes %q", len(y.Tail), clipBytes(y.Tail))})
	}
	return out
}

// namedTexts is a record's fields and tail parts, rendered, in order.
type namedTexts []FieldChange // Name and Old only

func (n namedTexts) get(name string) string {
	for _, t := range n {
		if t.Name == name {
			return t.Old
		}
	}
	return "(none)"
}

func fieldTexts(r *Record) namedTexts {
	var out namedTexts
	for _, f := range r.Fields {
		out = append(out, FieldChange{Name: f.Name, Old: f.text(r.Type)})
	}
	for _, p := range r.Parts {
		out = append(out, FieldChange{Name: p.Name, Old: p.Text})
	}
	return out
}

// unionNames returns the names of x, then those only in y, in order.
func unionNames(x, y namedTexts) []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range []namedTexts{x, y} {
		for _, t := range list {
			if !seen[t.Name] {
				seen[t.Name] = true
				out = append(out, t.Name)
			}
		}
	}
	return out
}

func clipBytes(b []byte) []byte {
	if len(b) > shortLen {
		return b[:shortLen]
	}
	return b
}

// WriteDiff prints changes for people: a line naming the two images, then
// for each change its kind, record type, index and offset in each image,
// and the fields that differ (old -> new), or for a record added or
// removed all its fields. It prints "identical" when there is no change,
// and says so when either image could not be read to its end.
func WriteDiff(w io.Writer, old, new *Report, oldName, newName string) error {
	bw := bufio.NewWriter(w)
	changes := Diff(old, new)
	fmt.Fprintf(bw, "--- %s (%d records, %d bytes)\n", oldName, len(old.Records), old.Summary.Total)
	fmt.Fprintf(bw, "+++ %s (%d records, %d bytes)\n", newName, len(new.Records), new.Summary.Total)
	for _, rep := range []struct {
		name string
		r    *Report
	}{{oldName, old}, {newName, new}} {
		if rep.r.Err != nil {
			fmt.Fprintf(bw, "! %s cannot be read to its end: %v\n", rep.name, rep.r.Err)
		}
	}
	if len(changes) == 0 {
		fmt.Fprintf(bw, "identical records\n")
		return bw.Flush()
	}
	for _, c := range changes {
		writeChange(bw, c)
	}
	fmt.Fprintf(bw, "%d records differ\n", len(changes))
	return bw.Flush()
}

func writeChange(w io.Writer, c Change) {
	switch c.Kind {
	case Changed:
		fmt.Fprintf(w, "~ %-10s record %d at offset %d -> record %d at offset %d\n",
			c.Old.Type, c.Old.Index, c.Old.Offset, c.New.Index, c.New.Offset)
		for _, f := range c.Fields {
			fmt.Fprintf(w, "      %s: %s -> %s\n", f.Name, f.Old, f.New)
		}
	case Removed:
		fmt.Fprintf(w, "- %-10s record %d at offset %d: %s\n", c.Old.Type, c.Old.Index, c.Old.Offset, c.Old.text())
	case Added:
		fmt.Fprintf(w, "+ %-10s record %d at offset %d: %s\n", c.New.Type, c.New.Index, c.New.Offset, c.New.text())
	}
}

// String renders a change as WriteDiff prints it, without the final
// newline.
func (c Change) String() string {
	var b strings.Builder
	writeChange(&b, c)
	return strings.TrimSuffix(b.String(), "\n")
}
