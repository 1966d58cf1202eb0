package inspect

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
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
	// Renumbered: objects that are in both images under other objrefs
	// (Change.Fields names each: Name is the object type, Old and New
	// its objrefs). It is no record's change.
	Renumbered
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
	case Renumbered:
		return "renumbered"
	}
	return fmt.Sprintf("ChangeKind(%d)", uint8(k))
}

// Change is one record-level difference between an old and a new image.
type Change struct {
	Kind ChangeKind
	// Old and New say where the record is in each image; Old is nil for
	// Added, New for Removed.
	Old, New *Place
	// Fields are, for Changed, the fields and tail parts whose values
	// differ (Old and New set); for Removed or Added, every field of the
	// record, with its value in Old or New.
	Fields []FieldChange
}

// Place is where a record is in an image.
type Place struct {
	Index  int    // from 0, in stream order
	Offset int64  // of the record's header
	Type   string // the record type's name
	// Of is what the record belongs to, as Show's column says it ("file
	// table #1", "pid 2"), "" for the stream and the tree.
	Of string
}

// FieldChange is one field (or tail part) with its old and new value, as
// Show renders values.
type FieldChange struct {
	Name     string
	Old, New string
}

// row is one record as a diff sees it: where it is, a key that is equal
// for equal records, and its rendered fields.
type row struct {
	place  Place
	key    string
	fields []FieldChange // Name and Old only
}

// DiffShow compares two images through their Show text: the records'
// lines, each split into its fields. It is for images the running code
// cannot read, such as the golden image of a format that has since
// changed, whose text the code of its day wrote beside it. Lines that are
// not record lines (the heading, the summary, an error) are left out.
// Records are matched as a text diff matches lines (a shortest edit script
// over whole lines, offsets left out, since every insertion moves them),
// so that a record inserted or removed shows as one, not as every record
// after it changed; within a run of replaced records, records of the same
// type are paired again and reported as Changed, field by field. Unlike
// Diff, it cannot tell objects apart: a renumbering shows as the records
// it renumbered.
func DiffShow(oldText, newText string) []Change {
	return diffRows(textRows(oldText), textRows(newText))
}

func diffRows(a, b []row) []Change {
	var out []Change
	es := editScript(len(a), len(b), func(i, j int) bool { return a[i].key == b[j].key })
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
// records of the run are paired by type, in order, and each pair is a
// Changed; the rest are Removed or Added.
func replaced(a, b []row, run []edit) []Change {
	var dels, inss []row
	for _, e := range run {
		if e.op == del {
			dels = append(dels, a[e.i])
		} else {
			inss = append(inss, b[e.j])
		}
	}
	var out []Change
	for _, e := range editScript(len(dels), len(inss), func(i, j int) bool { return dels[i].place.Type == inss[j].place.Type }) {
		switch e.op {
		case keep:
			x, y := dels[e.i], inss[e.j]
			out = append(out, Change{Kind: Changed, Old: &x.place, New: &y.place, Fields: fieldChanges(x, y)})
		case del:
			x := dels[e.i]
			out = append(out, Change{Kind: Removed, Old: &x.place, Fields: x.fields})
		case ins:
			y := inss[e.j]
			fields := make([]FieldChange, len(y.fields))
			for i, f := range y.fields {
				fields[i] = FieldChange{Name: f.Name, New: f.Old}
			}
			out = append(out, Change{Kind: Added, New: &y.place, Fields: fields})
		}
	}
	return out
}

// fieldChanges lists the fields of two records of one type whose rendered
// values differ, in the order of the old record's fields, then the new
// one's. The rendering includes objref marks, so a reference that became a
// first encounter shows too.
func fieldChanges(x, y row) []FieldChange {
	get := func(fields []FieldChange, name string) (string, bool) {
		for _, f := range fields {
			if f.Name == name {
				return f.Old, true
			}
		}
		return "(none)", false
	}
	var out []FieldChange
	for _, f := range x.fields {
		if n, _ := get(y.fields, f.Name); n != f.Old {
			out = append(out, FieldChange{f.Name, f.Old, n})
		}
	}
	for _, f := range y.fields {
		if _, ok := get(x.fields, f.Name); !ok {
			out = append(out, FieldChange{f.Name, "(none)", f.Old})
		}
	}
	if len(out) == 0 {
		// The renderings agree (a long tail cut short, say) but the bytes
		// do not.
		out = append(out, FieldChange{"bytes", "(as shown)", "(differ beyond what is shown)"})
	}
	return out
}

// textRows makes the rows of Show's text: each record line is "OFFSET
// TYPE LENGTH [OF] NAME=VALUE...", where OF, what the record belongs to,
// is the words before the first NAME= (texts of older versions have
// none). Its key is the line without its offset.
func textRows(text string) []row {
	var rows []row
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		off, err1 := strconv.ParseInt(f[0], 10, 64)
		length, err2 := strconv.Atoi(f[2])
		if err1 != nil || err2 != nil {
			continue // the heading, the summary, an error line
		}
		rest := strings.TrimSpace(line)
		for range 3 {
			rest = strings.TrimSpace(rest[strings.IndexAny(rest, " \t")+1:])
		}
		if len(f) == 3 {
			rest = ""
		}
		var of []string
		for rest != "" {
			word, after, _ := strings.Cut(rest, " ")
			if strings.Contains(word, "=") {
				break
			}
			of, rest = append(of, word), strings.TrimSpace(after)
		}
		fields := []FieldChange{{Name: "length", Old: strconv.Itoa(length)}}
		fields = append(fields, splitFields(rest)...)
		rows = append(rows, row{place: Place{Index: len(rows), Offset: off, Type: f[1], Of: strings.Join(of, " ")},
			key: f[1] + " " + f[2] + " " + rest, fields: fields})
	}
	return rows
}

// splitFields splits "NAME=VALUE NAME=VALUE..." where a value may hold
// blanks inside quotes or parentheses ("regular 0644", "... (4096
// bytes)"): a blank ends a value only when a NAME= follows it.
func splitFields(s string) []FieldChange {
	var out []FieldChange
	for s != "" {
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			out = append(out, FieldChange{Name: "?", Old: s})
			break
		}
		name, rest := s[:eq], s[eq+1:]
		end := valueEnd(rest)
		out = append(out, FieldChange{Name: name, Old: rest[:end]})
		s = strings.TrimLeft(rest[end:], " ")
	}
	return out
}

// valueEnd returns the length of the value at the start of s.
func valueEnd(s string) int {
	quoted, depth := false, 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case quoted && c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '(':
			depth++
		case c == ')':
			depth--
		case c == ' ' && depth <= 0 && startsField(s[i+1:]):
			return i
		}
	}
	return len(s)
}

// startsField reports whether s starts with NAME= (a Go identifier).
func startsField(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			return i > 0
		case c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9':
		default:
			return false
		}
	}
	return false
}

// WriteDiff prints the changes between two images for people: a line
// naming each, a line for each image that could not be read to its end,
// then each change (see WriteChanges).
func WriteDiff(w io.Writer, old, new *Report, oldName, newName string) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "--- %s (%d records, %d bytes)\n", oldName, len(old.Records), old.Summary.Total)
	fmt.Fprintf(bw, "+++ %s (%d records, %d bytes)\n", newName, len(new.Records), new.Summary.Total)
	for _, side := range []struct {
		name string
		rep  *Report
	}{{oldName, old}, {newName, new}} {
		if side.rep.Err != nil {
			fmt.Fprintf(bw, "! %s cannot be read to its end: %v\n", side.name, side.rep.Err)
		}
	}
	WriteChanges(bw, Diff(old, new))
	return bw.Flush()
}

// WriteChanges prints changes: the objects renumbered, on one line, then
// one record each: "~" for a record changed, with what it belongs to, its
// place in each image and each field that differs as "old -> new"; "-" or
// "+" for a record removed or added, with all its fields. Then a count,
// or "identical records" when there is no change.
func WriteChanges(w io.Writer, changes []Change) {
	records, renumbered := 0, 0
	for _, c := range changes {
		fmt.Fprintln(w, c)
		if c.Kind == Renumbered {
			renumbered += len(c.Fields)
		} else {
			records++
		}
	}
	switch records {
	case 0:
		fmt.Fprintf(w, "identical records")
	case 1:
		fmt.Fprintf(w, "1 record differs")
	default:
		fmt.Fprintf(w, "%d records differ", records)
	}
	switch {
	case renumbered == 1:
		fmt.Fprintf(w, "; 1 object renumbered")
	case renumbered > 1:
		fmt.Fprintf(w, "; %d objects renumbered", renumbered)
	}
	fmt.Fprintln(w)
}

// String renders a change as WriteChanges prints it, without the final
// newline.
func (c Change) String() string {
	var b strings.Builder
	switch c.Kind {
	case Renumbered:
		b.WriteString("= objects renumbered, the same in both images:")
		for i, f := range c.Fields {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, " %s #%s -> #%s", f.Name, f.Old, f.New)
		}
	case Changed:
		fmt.Fprintf(&b, "~ %-10s %srecord %d at offset %d -> record %d at offset %d",
			c.Old.Type, of(c.Old.Of, c.New.Of), c.Old.Index, c.Old.Offset, c.New.Index, c.New.Offset)
		for _, f := range c.Fields {
			fmt.Fprintf(&b, "\n      %s: %s -> %s", f.Name, f.Old, f.New)
		}
	case Removed, Added:
		sign, p := "-", c.Old
		if c.Kind == Added {
			sign, p = "+", c.New
		}
		fmt.Fprintf(&b, "%s %-10s %srecord %d at offset %d:", sign, p.Type, of(p.Of, p.Of), p.Index, p.Offset)
		for _, f := range c.Fields {
			v := f.Old
			if c.Kind == Added {
				v = f.New
			}
			fmt.Fprintf(&b, " %s=%s", f.Name, v)
		}
	}
	return b.String()
}

// of says what a record belongs to, in each image when that is said
// differently ("of file table #8 -> #7, "), or nothing for the stream's.
func of(old, new string) string {
	switch {
	case old == "" && new == "":
		return ""
	case old == new:
		return "of " + old + ", "
	}
	if i := strings.LastIndexByte(old, '#'); i >= 0 && strings.HasPrefix(new, old[:i+1]) {
		new = new[i:]
	}
	return "of " + old + " -> " + new + ", "
}
