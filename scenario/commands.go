package scenario

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// Name spaces of flag names, one per kind of argument, so that a name used
// in the wrong place is an error rather than a silently wrong number.
var (
	openNames  = namesOf(vfs.OpenFlagNames())
	fcntlCmds  = map[string]int64{"F_DUPFD": kernel.F_DUPFD, "F_GETFD": kernel.F_GETFD, "F_SETFD": kernel.F_SETFD, "F_GETFL": kernel.F_GETFL, "F_SETFL": kernel.F_SETFL, "F_GETOWN": kernel.F_GETOWN, "F_SETOWN": kernel.F_SETOWN, "F_DUPFD_CLOEXEC": kernel.F_DUPFD_CLOEXEC}
	fcntlArgs  = union(openNames, map[string]int64{"FD_CLOEXEC": kernel.FD_CLOEXEC})
	whences    = map[string]int64{"SEEK_SET": vfs.SEEK_SET, "SEEK_CUR": vfs.SEEK_CUR, "SEEK_END": vfs.SEEK_END}
	lockOps    = map[string]int64{"LOCK_SH": vfs.LOCK_SH, "LOCK_EX": vfs.LOCK_EX, "LOCK_NB": vfs.LOCK_NB, "LOCK_UN": vfs.LOCK_UN, "LOCK_MAND": vfs.LOCK_MAND}
	cloneFlags = map[string]int64{"CLONE_VM": kernel.CLONE_VM, "CLONE_FS": kernel.CLONE_FS, "CLONE_FILES": kernel.CLONE_FILES}
	// CheckpointFlags are the names of the checkpoint flags. The engine's
	// tests check that its constants agree.
	CheckpointFlags = map[string]int64{"CHECKPOINT_SUBTREE": 1}
	// allNames are accepted in expected results (F_GETFL's, say).
	allNames = union(fcntlArgs, whences, lockOps, cloneFlags, CheckpointFlags)
)

func namesOf(m map[string]int) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func union(ms ...map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}

// argKind is what an argument position accepts.
type argKind int

const (
	argInt   argKind = iota // an integer: pid, descriptor, count, offset, mode
	argFlags                // a flag set from the position's name space
	argPath                 // a path: a quoted string or a bare word
	argData                 // bytes to write: a quoted string
	argComm                 // a command name: a quoted string or a bare word
	argRegs                 // NAME=VALUE register assignments, one or more
)

type argSpec struct {
	name  string
	kind  argKind
	names map[string]int64 // for argFlags
}

// resultKind is what a command returns.
type resultKind int

const (
	resultInt resultKind = iota
	resultBytes
	resultPair
)

type cmdSpec struct {
	usage    string
	args     []argSpec // required
	optional []argSpec
	result   resultKind
}

var (
	pidArg  = argSpec{"PID", argInt, nil}
	fdArg   = argSpec{"FD", argInt, nil}
	pathArg = argSpec{"PATH", argPath, nil}
	modeArg = argSpec{"MODE", argInt, nil}
)

// commands are the script commands. Each runs the kernel's system call of
// the same name (see exec.go); checkpoint is run by the caller.
var commands = map[string]cmdSpec{
	"spawn":      {"spawn PID [COMM]", []argSpec{pidArg}, []argSpec{{"COMM", argComm, nil}}, resultInt},
	"clone":      {"clone PID CHILD [FLAGS] [COMM]", []argSpec{pidArg, {"CHILD", argInt, nil}}, []argSpec{{"FLAGS", argFlags, cloneFlags}, {"COMM", argComm, nil}}, resultInt},
	"fork":       {"fork PID CHILD", []argSpec{pidArg, {"CHILD", argInt, nil}}, nil, resultInt},
	"exit":       {"exit PID CODE", []argSpec{pidArg, {"CODE", argInt, nil}}, nil, resultInt},
	"wait":       {"wait PID CHILD", []argSpec{pidArg, {"CHILD", argInt, nil}}, nil, resultInt},
	"mkdir":      {"mkdir PID PATH [MODE]", []argSpec{pidArg, pathArg}, []argSpec{modeArg}, resultInt},
	"mkfifo":     {"mkfifo PID PATH [MODE]", []argSpec{pidArg, pathArg}, []argSpec{modeArg}, resultInt},
	"unlink":     {"unlink PID PATH", []argSpec{pidArg, pathArg}, nil, resultInt},
	"chdir":      {"chdir PID PATH", []argSpec{pidArg, pathArg}, nil, resultInt},
	"open":       {"open PID PATH FLAGS [MODE]", []argSpec{pidArg, pathArg, {"FLAGS", argFlags, openNames}}, []argSpec{modeArg}, resultInt},
	"close":      {"close PID FD", []argSpec{pidArg, fdArg}, nil, resultInt},
	"read":       {"read PID FD COUNT", []argSpec{pidArg, fdArg, {"COUNT", argInt, nil}}, nil, resultBytes},
	"write":      {"write PID FD STRING", []argSpec{pidArg, fdArg, {"STRING", argData, nil}}, nil, resultInt},
	"lseek":      {"lseek PID FD OFFSET WHENCE", []argSpec{pidArg, fdArg, {"OFFSET", argInt, nil}, {"WHENCE", argFlags, whences}}, nil, resultInt},
	"dup":        {"dup PID FD", []argSpec{pidArg, fdArg}, nil, resultInt},
	"dup2":       {"dup2 PID OLDFD NEWFD", []argSpec{pidArg, {"OLDFD", argInt, nil}, {"NEWFD", argInt, nil}}, nil, resultInt},
	"dup3":       {"dup3 PID OLDFD NEWFD [FLAGS]", []argSpec{pidArg, {"OLDFD", argInt, nil}, {"NEWFD", argInt, nil}}, []argSpec{{"FLAGS", argFlags, openNames}}, resultInt},
	"pipe":       {"pipe PID [FLAGS]", []argSpec{pidArg}, []argSpec{{"FLAGS", argFlags, openNames}}, resultPair},
	"fcntl":      {"fcntl PID FD CMD [ARG]", []argSpec{pidArg, fdArg, {"CMD", argFlags, fcntlCmds}}, []argSpec{{"ARG", argFlags, fcntlArgs}}, resultInt},
	"flock":      {"flock PID FD OP", []argSpec{pidArg, fdArg, {"OP", argFlags, lockOps}}, nil, resultInt},
	"regs":       {"regs PID NAME=VALUE...", []argSpec{pidArg, {"NAME=VALUE", argRegs, nil}}, nil, resultInt},
	"checkpoint": {"checkpoint PID [FLAGS] [=> NAME]", []argSpec{pidArg}, []argSpec{{"FLAGS", argFlags, CheckpointFlags}}, resultInt},
}

// Commands returns the names of the script commands, sorted.
func Commands() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func commandNames() string { return strings.Join(Commands(), ", ") }

// check verifies the arguments against the spec.
func (c cmdSpec) check(args []Arg) error {
	if len(args) < len(c.args) {
		return fmt.Errorf("expected %d arguments or more, found %d", len(c.args), len(args))
	}
	specs := c.args
	rest := args[len(c.args):]
	// clone's optional FLAGS may be left out before COMM: a word that is not
	// a clone flag set is the command name.
	opt := c.optional
	if len(opt) == 2 && opt[0].kind == argFlags && opt[1].kind == argComm && len(rest) == 1 {
		if _, err := parseFlags(rest[0].Text, opt[0].names); rest[0].Quoted || err != nil {
			opt = opt[1:]
		}
	}
	if len(specs) > 0 && specs[len(specs)-1].kind == argRegs {
		rest = nil
	} else if len(rest) > len(opt) {
		return fmt.Errorf("expected at most %d arguments, found %d", len(c.args)+len(opt), len(args))
	}
	specs = append(append([]argSpec{}, specs...), opt[:len(rest)]...)
	for i, a := range args[:len(specs)] {
		if err := specs[i].check(a); err != nil {
			return err
		}
	}
	if n := len(c.args); n > 0 && c.args[n-1].kind == argRegs {
		for _, a := range args[n-1:] {
			if err := c.args[n-1].check(a); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s argSpec) check(a Arg) error {
	switch s.kind {
	case argInt:
		if a.Quoted {
			return fmt.Errorf("%s: expected an integer, found a string", s.name)
		}
		_, err := parseInt(a.Text)
		return wrapArg(s, err)
	case argFlags:
		if a.Quoted {
			return fmt.Errorf("%s: expected flags, found a string", s.name)
		}
		_, err := parseFlags(a.Text, s.names)
		return wrapArg(s, err)
	case argData:
		if !a.Quoted {
			return fmt.Errorf("%s: expected a quoted string, found %q", s.name, a.Text)
		}
	case argRegs:
		name, value, ok := strings.Cut(a.Text, "=")
		if a.Quoted || !ok {
			return fmt.Errorf("expected NAME=VALUE, found %q", a.Text)
		}
		if _, err := (&x86cpu.State{}).Get(name); err != nil {
			return fmt.Errorf("unknown register %q (expected one of %s)", name, strings.Join(x86cpu.Names(), ", "))
		}
		_, err := parseReg(value)
		return wrapArg(argSpec{name: name}, err)
	}
	return nil
}

func wrapArg(s argSpec, err error) error {
	if err != nil {
		return fmt.Errorf("%s: %v", s.name, err)
	}
	return nil
}
