package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// model is a world's tasks, objects and references, as FromView and
// FromImage read them; draw turns it into a Graph. It knows no object type:
// an object is its kind (the object type's name), its label and its
// references, so that an image's objects of a type no one told graph about
// are drawn like the others.
type model struct {
	tasks []*mTask // in preorder: a parent before its children
	// objs are in order of first encounter: the image's objref order,
	// which a view's walk follows too.
	objs []*mObj
	// refs are the references from tasks and objects to objects, in the
	// order the image names them, one per source and target (a file
	// table's descriptors of one file are one reference of several).
	refs  []*mRef
	index map[[2]string]*mRef
}

type mTask struct {
	pid, ppid int
	comm      string
	zombie    bool
	exitCode  int
}

// mObj is one object. Its name is its node's name; its ref is what its
// label calls it ("#3" for an image's objref, "" for a view).
type mObj struct {
	name, ref string
	kind      Kind
	label     []string // below its title
}

// mRef is a reference, or several alike: from a task or an object to an
// object, labelled with what each says of itself ("fd 0", "fd 1 cloexec").
type mRef struct {
	from, to string
	holds    bool // from a task
	labels   []string
}

// ref adds a reference, merged into the one between the same nodes.
func (m *model) ref(from, to string, holds bool, label string) {
	if m.index == nil {
		m.index = map[[2]string]*mRef{}
	}
	key := [2]string{from, to}
	r := m.index[key]
	if r == nil {
		r = &mRef{from: from, to: to, holds: holds}
		m.index[key] = r
		m.refs = append(m.refs, r)
	}
	r.labels = append(r.labels, label)
}

// obj adds an object.
func (m *model) obj(name, ref string, kind Kind, label []string) {
	m.objs = append(m.objs, &mObj{name: name, ref: ref, kind: kind, label: label})
}

// nodeName is the name of an object's node: its kind in lower case with
// underscores, and an id ("file_table_1" for objref 1, "pipe_k17" for a
// view's kernel id 17).
func nodeName(kind Kind, id string) string {
	var b strings.Builder
	for _, c := range string(kind) {
		switch {
		case c < unicode.MaxASCII && (unicode.IsLetter(c) || unicode.IsDigit(c)):
			b.WriteRune(unicode.ToLower(c))
		default:
			b.WriteByte('_')
		}
	}
	return b.String() + "_" + id
}

// labelLines are the lines of an object's label, in the generic form an
// object type with no Label of its own gets: what its fields mean (enum
// names, flag sets), a line each, its numbers that are not zero on one
// line ("pos 12, size 12"), then each part of its tail ("path /data").
// FromImage makes them from the object's first record; FromView from the
// same facts of a running world's object.
func labelLines(symbols []string, numbers []named, parts []named) []string {
	lines := append([]string(nil), symbols...)
	var ns []string
	for _, n := range numbers {
		if n.text != "0" {
			ns = append(ns, n.name+" "+n.text)
		}
	}
	if len(ns) > 0 {
		lines = append(lines, strings.Join(ns, ", "))
	}
	for _, p := range parts {
		if p.text != "" {
			lines = append(lines, p.name+" "+partText(p.text))
		}
	}
	return lines
}

// named is a name and a value, for a label.
type named struct{ name, text string }

// partText is how a label shows a tail's part: as it is when it is one
// printable word (a path), quoted Go-style otherwise, cut after maxPart
// bytes with the length said. A long part of zeros mostly (memory: a page
// tail) shows its bytes that are not zero, and says how many are.
func partText(s string) string {
	const maxPart = 32
	if zeros := strings.Count(s, "\x00"); len(s) > maxPart && zeros > len(s)/2 {
		rest := strings.ReplaceAll(s, "\x00", "")
		return strconv.QuoteToGraphic(rest[:min(len(rest), maxPart)]) + fmt.Sprintf(" (%d bytes, %d of them zero)", len(s), zeros)
	}
	cut := len(s)
	if cut > maxPart {
		cut = maxPart
		for cut > 0 && !isRuneStart(s[cut]) {
			cut--
		}
	}
	text := display(s[:cut])
	if strings.ContainsRune(s[:cut], ' ') {
		text = strconv.QuoteToGraphic(s[:cut])
	}
	if cut < len(s) {
		text += "... (" + strconv.Itoa(len(s)) + " bytes)"
	}
	return text
}

func isRuneStart(b byte) bool { return b&0xc0 != 0x80 }

// labelItem is one field of a record that makes a reference, for its
// label: a symbol, or a named number.
type labelItem struct {
	symbol       string
	name, number string
	zero, hex    bool
}

// refWords renders the fields of a record that makes a reference (FromImage
// reads them from the record; FromView makes them from the same facts, in
// the same order): each symbol that is not empty, and the record's number
// when it has only one, on one line ("fd 0 cloexec"); of a record of
// several numbers, those in hexadecimal that are not zero, a line each,
// then its symbols ("start 0x10000000", "end 0x10002000", "rw- shared"),
// so that a label stays narrow.
func refWords(items []labelItem) string {
	numbers := 0
	for _, it := range items {
		if it.name != "" {
			numbers++
		}
	}
	var shown, symbols []string
	for _, it := range items {
		switch {
		case it.name == "":
			if it.symbol != "" {
				symbols = append(symbols, it.symbol)
			}
		case numbers == 1:
			symbols = append(symbols, it.name+" "+it.number)
		case it.hex && !it.zero:
			shown = append(shown, it.name+" "+it.number)
		}
	}
	if len(symbols) > 0 {
		shown = append(shown, strings.Join(symbols, " "))
	}
	return strings.Join(shown, "\n")
}
