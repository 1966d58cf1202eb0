package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// This file is what an entry of the command table (commands.go) is made of,
// and the machinery that reads one: how a line's arguments are fitted to an
// entry's parameters, how its usage is written, how its arguments are read
// by name, and how its system call's result becomes an Outcome.

// command is one entry of the command table: one form of a script command,
// its syntax and its execution. A name may have several forms when its
// argument shape varies (clone with or without FLAGS before COMM); a line
// takes the first form, in table order, whose parameters its arguments fit.
type command struct {
	name   string
	params []param
	// image says that the line may end in "=> NAME" (checkpoint).
	image bool
	exec  execution
}

// param is one parameter of a command.
type param struct {
	name string // in upper case, as the usage writes it; unique in a form
	kind argKind
	// names are the flag names the position accepts, for argFlags: each
	// position has its own name space, so that a name used in the wrong
	// place is an error rather than a silently wrong number.
	names map[string]int64
	// optional parameters come after the required ones and may be left out
	// from the end: "[FD [OFFSET]]".
	optional bool
	// many: one or more arguments, to the end of the line (the last
	// parameter only).
	many bool
}

// argKind is what an argument position accepts.
type argKind int

const (
	argInt   argKind = iota // an integer: pid, descriptor, count, offset, mode, address
	argFlags                // a flag set from the position's name space
	argPath                 // a path: a quoted string or a bare word
	argData                 // bytes to write: a quoted string
	argComm                 // a command name: a quoted string or a bare word
	argReg                  // a NAME=VALUE register assignment
)

// number is a parameter that takes an integer.
func number(name string) param { return param{name: name, kind: argInt} }

// flagsIn is a parameter that takes a flag set with the given names.
func flagsIn(name string, names map[string]int64) param {
	return param{name: name, kind: argFlags, names: names}
}

// data is a parameter that takes bytes, as a quoted string.
func data(name string) param { return param{name: name, kind: argData} }

// opt makes p optional.
func opt(p param) param { p.optional = true; return p }

// many makes p take one or more arguments, to the end of the line.
func many(p param) param { p.many = true; return p }

// The parameters most commands share.
var (
	pid   = number("PID") // the calling task: the first parameter of every command
	fd    = number("FD")
	child = number("CHILD")
	mode  = number("MODE")
	path  = param{name: "PATH", kind: argPath}
	comm  = param{name: "COMM", kind: argComm}
)

// resultKind is what a command returns, and so how a script writes it
// after "=".
type resultKind int

const (
	resultInt    resultKind = iota // an integer or a flag set: "= 3", "= O_RDWR|O_APPEND"
	resultAddr                     // an address, printed in hex: "= 0x10000000"
	resultString                   // a quoted string: bytes read, or a line of text
	resultPair                     // two integers: "= 3 4"
)

// expectKind is the form of expected result a result kind is compared with.
func (r resultKind) expectKind() ExpectKind {
	switch r {
	case resultString:
		return ExpectBytes
	case resultPair:
		return ExpectPair
	}
	return ExpectInt
}

// execution is how a command runs: its system call, and the kind of result
// that call returns. The table builds one with returnsZero, returnsInt,
// returnsAddr, returnsString, returnsPair or runByCaller, so that the kind
// and the type the call returns cannot disagree.
type execution struct {
	result resultKind
	// call runs the system call on k; nil for a command that the caller
	// runs (checkpoint, which needs a checkpoint engine).
	call func(k *kernel.Kernel, a args) Outcome
}

// returnsZero is the execution of a call that returns 0 or an error.
func returnsZero(f func(*kernel.Kernel, args) error) execution {
	return execution{resultInt, func(k *kernel.Kernel, a args) Outcome {
		return Outcome{Err: f(k, a)}
	}}
}

// returnsInt is the execution of a call that returns an integer: a
// descriptor, a count, an offset, an exit code.
func returnsInt[N int | int64](f func(*kernel.Kernel, args) (N, error)) execution {
	return execution{resultInt, func(k *kernel.Kernel, a args) Outcome {
		n, err := f(k, a)
		return Outcome{Int: int64(n), Err: err}
	}}
}

// returnsAddr is the execution of a call that returns an address, which
// prints in hex.
func returnsAddr[N int64 | uint64](f func(*kernel.Kernel, args) (N, error)) execution {
	return execution{resultAddr, func(k *kernel.Kernel, a args) Outcome {
		n, err := f(k, a)
		return Outcome{Int: int64(n), Err: err}
	}}
}

// returnsString is the execution of a call that returns bytes or text,
// which a script writes as a quoted string.
func returnsString[T []byte | string](f func(*kernel.Kernel, args) (T, error)) execution {
	return execution{resultString, func(k *kernel.Kernel, a args) Outcome {
		s, err := f(k, a)
		return Outcome{Bytes: []byte(s), Err: err}
	}}
}

// returnsPair is the execution of a call that returns two descriptors.
func returnsPair(f func(*kernel.Kernel, args) ([2]int, error)) execution {
	return execution{resultPair, func(k *kernel.Kernel, a args) Outcome {
		p, err := f(k, a)
		return Outcome{Pair: p, Err: err}
	}}
}

// runByCaller is the execution of a command that Exec does not run: its
// outcome is 0 or the error that refused it (see CheckpointOutcome).
var runByCaller = execution{result: resultInt}

// forms indexes the command table by name, in table order.
var forms = func() map[string][]*command {
	m := map[string][]*command{}
	for i := range commands {
		c := &commands[i]
		m[c.name] = append(m[c.name], c)
	}
	return m
}()

// Commands returns the names of the script commands, sorted.
func Commands() []string {
	names := make([]string, 0, len(forms))
	for n := range forms {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func commandNames() string { return strings.Join(Commands(), ", ") }

// takesImage reports whether a line of command name may end in "=> NAME".
func takesImage(name string) bool {
	fs := forms[name]
	return len(fs) > 0 && fs[0].image
}

// imageCommands lists the commands that take "=> NAME", for a message.
func imageCommands() string {
	var names []string
	for _, n := range Commands() {
		if takesImage(n) {
			names = append(names, n)
		}
	}
	return strings.Join(names, " or ")
}

// usage writes the form as its documentation does: "open PID PATH FLAGS
// [MODE]", optional parameters nested, "..." after a repeated one.
func (c *command) usage() string {
	var b strings.Builder
	b.WriteString(c.name)
	open := 0
	for _, p := range c.params {
		b.WriteByte(' ')
		if p.optional {
			b.WriteByte('[')
			open++
		}
		b.WriteString(p.name)
		if p.many {
			b.WriteString("...")
		}
	}
	b.WriteString(strings.Repeat("]", open))
	if c.image {
		b.WriteString(" [=> NAME]")
	}
	return b.String()
}

// usages writes every form of a command, for a message.
func usages(fs []*command) string {
	var us []string
	for _, c := range fs {
		us = append(us, c.usage())
	}
	return strings.Join(us, " or ")
}

// match returns the form of command name that args fit.
func match(name string, args []Arg) (*command, error) {
	fs := forms[name]
	if len(fs) == 0 {
		return nil, fmt.Errorf("unknown command %s (expected one of %s)", echo(name, true), commandNames())
	}
	return matchForm(fs, args)
}

// matchForm returns the first of the forms, in table order, that args fit.
// When none fits, the error is the one of the form that read furthest
// before it failed (a wrong argument rather than a wrong count), with every
// form's usage.
func matchForm(fs []*command, args []Arg) (*command, error) {
	var best error
	bestAt := -2
	for _, c := range fs {
		at, err := c.fit(args)
		if err == nil {
			return c, nil
		}
		if at > bestAt {
			best, bestAt = err, at
		}
	}
	return nil, fmt.Errorf("%s: %v (usage: %s)", fs[0].name, best, usages(fs))
}

// fit checks args against the form's parameters. On failure it returns the
// index of the argument that does not fit, or -1 for a wrong count.
func (c *command) fit(args []Arg) (int, error) {
	required, optional := 0, 0
	for _, p := range c.params {
		if p.optional {
			optional++
		} else {
			required++
		}
	}
	least, most := required, required+optional
	if c.params[len(c.params)-1].many {
		most = -1 // no limit
	}
	switch {
	case len(args) < least && most != least:
		return -1, fmt.Errorf("expected %d arguments or more, found %d", least, len(args))
	case most == least && len(args) != least:
		return -1, fmt.Errorf("expected %d arguments, found %d", least, len(args))
	case most >= 0 && len(args) > most:
		return -1, fmt.Errorf("expected at most %d arguments, found %d", most, len(args))
	}
	for i, a := range args {
		if err := c.params[min(i, len(c.params)-1)].check(a); err != nil {
			return i, err
		}
	}
	return 0, nil
}

// check verifies one argument against the parameter.
func (p param) check(a Arg) error {
	switch p.kind {
	case argInt:
		if a.Quoted {
			return fmt.Errorf("%s: expected an integer, found a string", p.name)
		}
		_, err := parseInt(a.Text)
		return wrapArg(p, err)
	case argFlags:
		if a.Quoted {
			return fmt.Errorf("%s: expected flags, found a string", p.name)
		}
		_, err := parseFlags(a.Text, p.names)
		return wrapArg(p, err)
	case argData:
		if !a.Quoted {
			return fmt.Errorf("%s: expected a quoted string, found %s", p.name, echo(a.Text, true))
		}
	case argReg:
		name, value, ok := strings.Cut(a.Text, "=")
		if a.Quoted || !ok {
			return fmt.Errorf("expected %s, found %s", p.name, echo(a.Text, true))
		}
		if _, err := (&x86cpu.State{}).Get(name); err != nil {
			return fmt.Errorf("unknown register %s (expected one of %s)", echo(name, true), x86cpu.NameSummary())
		}
		_, err := parseReg(value)
		return wrapArg(param{name: name}, err)
	}
	return nil
}

func wrapArg(p param, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %v", p.name, err)
	}
	return nil
}

// args reads the arguments of a line that fits form c, by parameter name.
// The parser has checked them, so the readers do not fail; a name the form
// does not have is a bug in the table, and panics (every form is run by the
// package's tests).
type args struct {
	c    *command
	list []Arg
}

// index returns the position of parameter name.
func (a args) index(name string) int {
	for i, p := range a.c.params {
		if p.name == name {
			return i
		}
	}
	panic(fmt.Sprintf("scenario: %s has no parameter %s", a.c.usage(), name))
}

// has reports whether the line gives parameter name.
func (a args) has(name string) bool { return a.index(name) < len(a.list) }

// pid returns PID, the calling task.
func (a args) pid() int { return a.int("PID") }

func (a args) int64(name string) int64 {
	n, _ := parseInt(a.list[a.index(name)].Text)
	return n
}

func (a args) int(name string) int { return int(a.int64(name)) }

// addr returns an address or length: the integer as an unsigned long, so
// that -4096 is the last page of the address space, as in C.
func (a args) addr(name string) uint64 { return uint64(a.int64(name)) }

// intOr returns parameter name, or def when the line leaves it out.
func (a args) intOr(name string, def int) int {
	if !a.has(name) {
		return def
	}
	return a.int(name)
}

// text returns a path, a command name or data, unquoted.
func (a args) text(name string) string { return a.list[a.index(name)].Text }

// textOr returns parameter name, or def when the line leaves it out.
func (a args) textOr(name, def string) string {
	if !a.has(name) {
		return def
	}
	return a.text(name)
}

// flags returns a flag set, read in its parameter's name space.
func (a args) flags(name string) int {
	i := a.index(name)
	n, _ := parseFlags(a.list[i].Text, a.c.params[i].names)
	return int(n)
}

// flagsOr returns parameter name, or def when the line leaves it out.
func (a args) flagsOr(name string, def int) int {
	if !a.has(name) {
		return def
	}
	return a.flags(name)
}

// all returns the arguments of a repeated parameter.
func (a args) all(name string) []Arg { return a.list[a.index(name):] }
