package scenario

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// Outcome is what a line's call returned: a value of the command's result
// kind, or an error.
type Outcome struct {
	Int   int64
	Bytes []byte
	Pair  [2]int
	Err   error
	kind  resultKind
}

// Errno returns the errno of a failed call, and false for a success or a
// failure that is not an errno.
func (o Outcome) Errno() (errno.Errno, bool) {
	if o.Err == nil {
		return 0, false
	}
	return errno.Of(o.Err)
}

// String renders the outcome as a script's "= RESULT" would write it.
func (o Outcome) String() string {
	if o.Err != nil {
		if e, ok := o.Errno(); ok {
			return e.Name()
		}
		return "error: " + o.Err.Error()
	}
	switch o.kind {
	case resultBytes:
		return strconv.Quote(string(o.Bytes))
	case resultPair:
		return fmt.Sprintf("%d %d", o.Pair[0], o.Pair[1])
	}
	return strconv.FormatInt(o.Int, 10)
}

// Equal reports whether two outcomes are the same result: the same value,
// or the same errno.
func (o Outcome) Equal(p Outcome) bool {
	oe, oErr := o.Errno()
	pe, pErr := p.Errno()
	switch {
	case (o.Err != nil) != (p.Err != nil):
		return false
	case o.Err != nil:
		return oErr && pErr && oe == pe
	}
	return o.kind == p.kind && o.Int == p.Int && bytes.Equal(o.Bytes, p.Bytes) && o.Pair == p.Pair
}

// Matches reports whether the outcome is what e expects; with no
// expectation, the call must have succeeded.
func (o Outcome) Matches(e *Expect) bool {
	if e == nil {
		return o.Err == nil
	}
	if e.Kind == ExpectErrno {
		got, ok := o.Errno()
		return ok && got == e.Errno
	}
	if o.Err != nil {
		return false
	}
	switch e.Kind {
	case ExpectBytes:
		return o.kind == resultBytes && bytes.Equal(o.Bytes, e.Bytes)
	case ExpectPair:
		return o.kind == resultPair && int64(o.Pair[0]) == e.Pair[0] && int64(o.Pair[1]) == e.Pair[1]
	}
	return o.kind == resultInt && o.Int == e.Int
}

// Want returns what the line expects, as a script writes it: its RESULT,
// or "success" when it states none.
func (l *Line) Want() string {
	if l.Expect == nil {
		return "success"
	}
	return l.Expect.Text
}

// Mismatch says that the line gave o where it expects something else:
// "STATEMENT: got O, expected W".
func (l *Line) Mismatch(o Outcome) string {
	return fmt.Sprintf("%s: got %s, expected %s", l.Text, o, l.Want())
}

// Replay runs the system call lines of s on k, in order, and skips its
// checkpoint lines, which belong to a caller with a checkpoint engine. It
// stops at the first line that does not give what it expects, with an
// *Error naming the script and the line.
func Replay(k *kernel.Kernel, s *Script) error {
	for _, l := range s.Lines {
		if l.Cmd == "checkpoint" {
			continue
		}
		if o := Exec(k, l); !o.Matches(l.Expect) {
			return &Error{File: s.Name, Line: l.Num, Msg: l.Mismatch(o)}
		}
	}
	return nil
}

// CheckpointOutcome is the outcome of a checkpoint line, which the caller
// runs: 0, or the error that refused the checkpoint.
func CheckpointOutcome(err error) Outcome { return Outcome{Err: err, kind: resultInt} }

// ErrNotASystemCall is Exec's error for a checkpoint line, which the caller
// runs with its checkpoint engine.
var ErrNotASystemCall = errors.New("checkpoint lines are run by the caller, not by Exec")

// Exec runs the system call of line l on kernel k, as the calling task the
// line names, and returns what it returned.
func Exec(k *kernel.Kernel, l *Line) Outcome {
	spec := commands[l.Cmd]
	o := Outcome{kind: spec.result}
	a := argReader{l: l}
	pid := a.int(0)
	var n int
	switch l.Cmd {
	case "spawn":
		_, o.Err = k.Spawn(pid, a.text(1, ""))
	case "clone":
		flags, comm := 0, ""
		switch len(l.Args) {
		case 4:
			flags, comm = a.flags(2, cloneFlags), a.text(3, "")
		case 3:
			if f, err := parseFlags(l.Args[2].Text, cloneFlags); err == nil && !l.Args[2].Quoted {
				flags = int(f)
			} else {
				comm = l.Args[2].Text
			}
		}
		_, o.Err = k.Clone(pid, a.int(1), flags, comm)
	case "fork":
		_, o.Err = k.Fork(pid, a.int(1))
	case "exit":
		o.Err = k.Exit(pid, a.int(1))
	case "wait":
		n, o.Err = k.Wait(pid, a.int(1))
	case "mkdir":
		o.Err = k.Mkdir(pid, a.text(1, ""), uint32(a.intOr(2, 0777)))
	case "mkfifo":
		o.Err = k.Mkfifo(pid, a.text(1, ""), uint32(a.intOr(2, 0666)))
	case "unlink":
		o.Err = k.Unlink(pid, a.text(1, ""))
	case "chdir":
		o.Err = k.Chdir(pid, a.text(1, ""))
	case "open":
		n, o.Err = k.Open(pid, a.text(1, ""), a.flags(2, openNames), uint32(a.intOr(3, 0)))
	case "close":
		o.Err = k.Close(pid, a.int(1))
	case "read":
		o.Bytes, o.Err = k.Read(pid, a.int(1), a.int(2))
	case "write":
		n, o.Err = k.Write(pid, a.int(1), []byte(a.text(2, "")))
	case "lseek":
		var pos int64
		pos, o.Err = k.Lseek(pid, a.int(1), a.int64(2), a.flags(3, whences))
		o.Int = pos
	case "dup":
		n, o.Err = k.Dup(pid, a.int(1))
	case "dup2":
		n, o.Err = k.Dup2(pid, a.int(1), a.int(2))
	case "dup3":
		n, o.Err = k.Dup3(pid, a.int(1), a.int(2), a.flagsOr(3, openNames, 0))
	case "pipe":
		o.Pair, o.Err = k.Pipe2(pid, a.flagsOr(1, openNames, 0))
	case "fcntl":
		n, o.Err = k.Fcntl(pid, a.int(1), a.flags(2, fcntlCmds), a.flagsOr(3, fcntlArgs, 0))
	case "flock":
		o.Err = k.Flock(pid, a.int(1), a.flags(2, lockOps))
	case "regs":
		o.Err = setRegs(k, pid, l.Args[1:])
	default:
		o.Err = ErrNotASystemCall
	}
	if n != 0 {
		o.Int = int64(n)
	}
	return o
}

// setRegs changes the named registers of task pid, then validates the whole
// state as ptrace would.
func setRegs(k *kernel.Kernel, pid int, args []Arg) error {
	regs, err := k.Regs(pid)
	if err != nil {
		return err
	}
	for _, a := range args {
		name, value, _ := strings.Cut(a.Text, "=")
		v, err := parseReg(value)
		if err == nil {
			err = regs.Set(name, v)
		}
		if err != nil {
			return fmt.Errorf("regs %s: %w", a.Text, err)
		}
	}
	return k.SetRegs(pid, regs)
}

// parseReg reads a register value: any 64-bit pattern, written signed or
// unsigned.
func parseReg(w string) (uint64, error) {
	if u, err := strconv.ParseUint(w, 0, 64); err == nil && !strings.Contains(w, "_") {
		return u, nil
	}
	n, err := parseInt(w)
	return uint64(n), err
}

// argReader reads a line's already-validated arguments.
type argReader struct{ l *Line }

func (a argReader) int64(i int) int64 {
	n, _ := parseInt(a.l.Args[i].Text)
	return n
}

func (a argReader) int(i int) int { return int(a.int64(i)) }

func (a argReader) intOr(i, def int) int {
	if i >= len(a.l.Args) {
		return def
	}
	return a.int(i)
}

func (a argReader) text(i int, def string) string {
	if i >= len(a.l.Args) {
		return def
	}
	return a.l.Args[i].Text
}

func (a argReader) flags(i int, names map[string]int64) int {
	n, _ := parseFlags(a.l.Args[i].Text, names)
	return int(n)
}

func (a argReader) flagsOr(i int, names map[string]int64, def int) int {
	if i >= len(a.l.Args) {
		return def
	}
	return a.flags(i, names)
}
