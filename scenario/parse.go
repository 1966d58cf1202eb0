package scenario

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// Script is a parsed scenario script.
type Script struct {
	Name  string // file name, for messages
	Lines []*Line
}

// Line is one statement.
type Line struct {
	Num  int    // line number in the file, from 1
	Cmd  string // the command, such as "open"
	Args []Arg
	// Expect is the expected result, nil when the call must simply succeed.
	Expect *Expect
	// Image is the name after "=>" on a checkpoint line, or "".
	Image string
	// Text is the statement as written, without its comment.
	Text string
}

// Arg is one argument: a word (a number, flag set or bare path) or a quoted
// string, already unquoted.
type Arg struct {
	Quoted bool
	Text   string
}

// ExpectKind says which form an expected result has.
type ExpectKind int

// The forms of expected results.
const (
	ExpectInt   ExpectKind = iota // an integer, a flag set or an address
	ExpectBytes                   // a quoted string: what read returns
	ExpectPair                    // two integers: what pipe returns
	ExpectErrno                   // an errno name, or BLOCKED
)

// Expect is a line's expected result.
type Expect struct {
	Kind  ExpectKind
	Int   int64
	Bytes []byte
	Pair  [2]int64
	Errno errno.Errno
	Text  string // as written
}

// Error is a script that cannot be parsed or run: the file, the line, and
// what was wrong.
type Error struct {
	File string
	Line int
	Msg  string
}

func (e *Error) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// Parse reads a script. name is used in error messages.
func Parse(name string, r io.Reader) (*Script, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, &Error{File: name, Msg: err.Error()}
	}
	s := &Script{Name: name}
	for i, raw := range bytes.Split(data, []byte("\n")) {
		l, err := parseLine(strings.TrimSuffix(string(raw), "\r"), i+1)
		if err != nil {
			return nil, &Error{File: name, Line: i + 1, Msg: err.Error()}
		}
		if l != nil {
			s.Lines = append(s.Lines, l)
		}
	}
	return s, nil
}

// ParseString parses a script held in a string.
func ParseString(name, text string) (*Script, error) {
	return Parse(name, strings.NewReader(text))
}

// token is a word or a quoted string of a line.
type token struct {
	quoted bool
	text   string
}

// is reports whether the token is the bare word w.
func (t token) is(w string) bool { return !t.quoted && t.text == w }

// tokenize splits a line into tokens, dropping the comment. It returns the
// statement text without the comment too, trimmed of the blanks that
// separate tokens (spaces and tabs) only: any other byte is part of a word,
// so the statement parses again to the same tokens.
func tokenize(line string) ([]token, string, error) {
	var toks []token
	i := 0
	for i < len(line) {
		switch c := line[i]; {
		case c == ' ' || c == '\t':
			i++
		case c == '#':
			return toks, strings.Trim(line[:i], " \t"), nil
		case c == '"':
			j := i + 1
			for j < len(line) && line[j] != '"' {
				if line[j] == '\\' {
					j++
				}
				j++
			}
			if j >= len(line) {
				return nil, "", fmt.Errorf("unterminated string")
			}
			s, err := strconv.Unquote(line[i : j+1])
			if err != nil {
				return nil, "", fmt.Errorf("bad string %s: %v", echo(line[i:j+1], false), err)
			}
			toks = append(toks, token{quoted: true, text: s})
			i = j + 1
		default:
			j := i
			for j < len(line) && line[j] != ' ' && line[j] != '\t' && line[j] != '#' {
				j++
			}
			toks = append(toks, token{text: line[i:j]})
			i = j
		}
	}
	return toks, strings.Trim(line, " \t"), nil
}

func parseLine(text string, num int) (*Line, error) {
	toks, stmt, err := tokenize(text)
	if err != nil || len(toks) == 0 {
		return nil, err
	}
	l := &Line{Num: num, Text: stmt}
	if toks[0].quoted {
		return nil, fmt.Errorf("expected a command, found a string")
	}
	l.Cmd = toks[0].text
	if _, known := forms[l.Cmd]; !known {
		return nil, fmt.Errorf("unknown command %s (expected one of %s)", echo(l.Cmd, true), commandNames())
	}
	toks = toks[1:]
	// "=> NAME" may come before "= RESULT" (it belongs to the command's
	// arguments, as the usage line has it) or after it.
	for i, t := range toks {
		if !t.is("=>") {
			continue
		}
		switch {
		case !takesImage(l.Cmd):
			return nil, fmt.Errorf("only a %s line takes \"=> NAME\"", imageCommands())
		case i+1 >= len(toks) || toks[i+1].is("=") || toks[i+1].is("=>"):
			return nil, fmt.Errorf("\"=>\" without an image NAME after it")
		case i+2 < len(toks) && !toks[i+2].is("="):
			return nil, fmt.Errorf("\"=> NAME\" must end the line or come right before \"= RESULT\"")
		}
		// A file name in the directory the caller chooses, not a path: a
		// script must not write where it likes.
		if name := toks[i+1].text; name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") {
			return nil, fmt.Errorf("image name %s: expected a file name, without \"/\"", echo(name, true))
		}
		l.Image = toks[i+1].text
		toks = append(toks[:i:i], toks[i+2:]...)
		break
	}
	var expect []token
	for i, t := range toks {
		if t.is("=") {
			expect = append([]token{}, toks[i+1:]...)
			toks = toks[:i]
			break
		}
	}
	for _, t := range append(toks, expect...) {
		if t.is("=>") {
			return nil, fmt.Errorf("a %s line takes one \"=> NAME\"", l.Cmd)
		}
	}
	for _, t := range toks {
		l.Args = append(l.Args, Arg{Quoted: t.quoted, Text: t.text})
	}
	c, err := match(l.Cmd, l.Args)
	if err != nil {
		return nil, err
	}
	if expect != nil {
		if l.Expect, err = parseExpect(expect, c.exec.result); err != nil {
			return nil, fmt.Errorf("%s: %v", l.Cmd, err)
		}
	}
	return l, nil
}

// parseExpect reads what follows "=".
func parseExpect(toks []token, result resultKind) (*Expect, error) {
	var parts []string
	for _, t := range toks {
		parts = append(parts, t.text)
	}
	e := &Expect{Text: strings.Join(parts, " ")}
	found := echo(e.Text, true)
	switch {
	case len(toks) == 0:
		return nil, fmt.Errorf("nothing after \"=\"")
	case len(toks) == 1 && !toks[0].quoted && isErrnoName(toks[0].text):
		en, ok := errno.ByName(toks[0].text)
		if !ok {
			return nil, fmt.Errorf("unknown errno %s", echo(toks[0].text, true))
		}
		e.Kind, e.Errno = ExpectErrno, en
		if toks[0].text != "BLOCKED" {
			e.Text = en.Name()
		}
	case result == resultString:
		if len(toks) != 1 || !toks[0].quoted {
			return nil, fmt.Errorf("expected a quoted string or an errno after \"=\", found %s", found)
		}
		e.Kind, e.Bytes = ExpectBytes, []byte(toks[0].text)
		e.Text = strconv.Quote(toks[0].text)
	case result == resultPair:
		if len(toks) != 2 || toks[0].quoted || toks[1].quoted {
			return nil, fmt.Errorf("expected two descriptors or an errno after \"=\", found %s", found)
		}
		for i := range 2 {
			n, err := parseInt(toks[i].text)
			if err != nil {
				return nil, err
			}
			e.Pair[i] = n
		}
		e.Kind = ExpectPair
	case result == resultAddr:
		if len(toks) != 1 || toks[0].quoted {
			return nil, fmt.Errorf("expected an address or an errno after \"=\", found %s", found)
		}
		n, err := parseInt(toks[0].text)
		if err != nil {
			return nil, err
		}
		e.Kind, e.Int = ExpectInt, n
	default:
		if len(toks) != 1 || toks[0].quoted {
			return nil, fmt.Errorf("expected an integer or an errno after \"=\", found %s", found)
		}
		n, err := parseFlags(toks[0].text, resultNames)
		if err != nil {
			return nil, err
		}
		e.Kind, e.Int = ExpectInt, n
	}
	return e, nil
}

// isErrnoName reports whether a result word is meant as an errno: an upper
// case name starting with E, or BLOCKED.
func isErrnoName(w string) bool {
	if w == "BLOCKED" {
		return true
	}
	if len(w) < 2 || w[0] != 'E' || strings.Contains(w, "|") {
		return false
	}
	for _, c := range w {
		if (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			return false
		}
	}
	return true
}

// parseInt reads an integer as scripts write them: decimal, 0x hex, 0o or
// leading-0 octal, with an optional leading minus.
func parseInt(w string) (int64, error) {
	if w == "" || strings.Contains(w, "_") {
		return 0, fmt.Errorf("expected an integer, found %s", echo(w, true))
	}
	n, err := strconv.ParseInt(w, 0, 64)
	if err != nil {
		return 0, fmt.Errorf("expected an integer, found %s", echo(w, true))
	}
	return n, nil
}

// parseFlags reads a flag set: names from the given namespace or integers,
// joined by "|".
func parseFlags(w string, names map[string]int64) (int64, error) {
	var v int64
	for _, part := range strings.Split(w, "|") {
		if n, ok := names[part]; ok {
			v |= n
			continue
		}
		n, err := parseInt(part)
		if err != nil {
			if isName(part) {
				return 0, fmt.Errorf("unknown flag %s", echo(part, true))
			}
			return 0, fmt.Errorf("expected an integer or flag names, found %s", echo(w, true))
		}
		v |= n
	}
	return v, nil
}

func isName(w string) bool {
	return w != "" && (w[0] == '_' || w[0] >= 'A' && w[0] <= 'Z')
}

// String returns the line as a script would write it, without comment.
func (l *Line) String() string { return l.Text }

// Pid returns the calling task's pid: the first argument of every command.
func (l *Line) Pid() int {
	n, _ := parseInt(l.Args[0].Text)
	return int(n)
}

// maxEcho is how many bytes of a script's text an error message repeats.
// A script line may be a megabyte long (a long write); its message must
// still be one short line.
const maxEcho = 64

// Short returns text of a script as messages quote it: whole when it is
// short, otherwise its first bytes (cut at a character boundary) followed
// by "..." and the whole length. Tools that print script lines (a
// transcript, a verification failure) use it, so that a megabyte-long
// write is still one short line.
func Short(s string) string { return echo(s, false) }

// echo returns text of a script for an error message: whole when it is
// short, otherwise its first maxEcho bytes (cut at a character boundary)
// followed by "..." and the whole length. With quote, the text (or its
// beginning) is a Go quoted string.
func echo(s string, quote bool) string {
	if len(s) <= maxEcho {
		if quote {
			return strconv.Quote(s)
		}
		return s
	}
	cut := maxEcho
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	head := s[:cut]
	if quote {
		head = strconv.Quote(head)
	}
	return fmt.Sprintf("%s... (%d bytes)", head, len(s))
}
