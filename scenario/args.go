package scenario

import "fmt"

// Args is a line's arguments, read by the parameter names of the form of
// its command the line fits (the names its usage writes: PID, FD, COUNT,
// ADDR, FLAGS, ...). It is for tools that make a script's calls somewhere
// else than on the simulated kernel, such as package hostlinux, which makes
// them on the host's Linux kernel: they read the arguments exactly as Exec
// does, defaults and flag names included.
type Args struct{ a args }

// ArgsOf fits line l to its command's form. A line made by Parse always
// fits; the error is for one made otherwise.
func ArgsOf(l *Line) (Args, error) {
	c, err := match(l.Cmd, l.Args)
	if err != nil {
		return Args{}, fmt.Errorf("line %d: %w", l.Num, err)
	}
	return Args{args{c, l.Args}}, nil
}

// Usage is the usage of the form the line fits, "read PID FD ADDR COUNT"
// say, which tells apart the forms of one command.
func (a Args) Usage() string { return a.a.c.usage() }

// Has reports whether the line gives parameter name (an optional one may
// be left out).
func (a Args) Has(name string) bool {
	for _, p := range a.a.c.params {
		if p.name == name {
			return a.a.has(name)
		}
	}
	return false
}

// Int returns integer parameter name, or def when the line leaves it out.
func (a Args) Int(name string, def int64) int64 {
	if !a.Has(name) {
		return def
	}
	return a.a.int64(name)
}

// Flags returns flag set parameter name, read in its position's names, or
// def when the line leaves it out.
func (a Args) Flags(name string, def int64) int64 {
	if !a.Has(name) {
		return def
	}
	return int64(a.a.flags(name))
}

// Text returns a path, a command name or data, unquoted; "" when the line
// leaves it out.
func (a Args) Text(name string) string {
	if !a.Has(name) {
		return ""
	}
	return a.a.text(name)
}

// Outcome returns o as an outcome of the line's command: it prints and
// compares (Matches, Equal) as the outcome Exec gives for the line, an
// address in hex, bytes as a quoted string.
func (a Args) Outcome(o Outcome) Outcome {
	o.kind = a.a.c.exec.result
	return o
}
