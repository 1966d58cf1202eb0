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
	Int   int64  // an integer or an address
	Bytes []byte // a string: bytes read, or text
	Pair  [2]int // two descriptors
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
	case resultString:
		return strconv.Quote(string(o.Bytes))
	case resultPair:
		return fmt.Sprintf("%d %d", o.Pair[0], o.Pair[1])
	case resultAddr:
		return fmt.Sprintf("%#x", o.Int)
	}
	return strconv.FormatInt(o.Int, 10)
}

// brief renders the outcome for an error message: as String does, but a
// long string only by its beginning and its length.
func (o Outcome) brief() string {
	if o.Err == nil && o.kind == resultString {
		return echo(string(o.Bytes), true)
	}
	return echo(o.String(), false)
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
	if o.kind.expectKind() != e.Kind {
		return false
	}
	switch e.Kind {
	case ExpectBytes:
		return bytes.Equal(o.Bytes, e.Bytes)
	case ExpectPair:
		return int64(o.Pair[0]) == e.Pair[0] && int64(o.Pair[1]) == e.Pair[1]
	}
	return o.Int == e.Int
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
// "STATEMENT: got O, expected W". A long statement, string or expected
// string is quoted only by its beginning and its length, so that the
// message stays one short line.
func (l *Line) Mismatch(o Outcome) string {
	want := echo(l.Want(), false)
	if e := l.Expect; e != nil && e.Kind == ExpectBytes {
		want = echo(string(e.Bytes), true)
	}
	return fmt.Sprintf("%s: got %s, expected %s", echo(l.Text, false), o.brief(), want)
}

// Replay runs the system call lines of s on k, in order, and skips its
// checkpoint lines, which belong to a caller with a checkpoint engine. It
// stops at the first line that does not give what it expects, with an
// *Error naming the script and the line.
func Replay(k *kernel.Kernel, s *Script) error {
	for _, l := range s.Lines {
		o := Exec(k, l)
		if errors.Is(o.Err, ErrNotASystemCall) {
			continue
		}
		if !o.Matches(l.Expect) {
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
// line names, and returns what it returned. A checkpoint line gives
// ErrNotASystemCall; a line that fits no form of its command (one not made
// by Parse) gives the parser's error.
func Exec(k *kernel.Kernel, l *Line) Outcome {
	c, err := match(l.Cmd, l.Args)
	if err != nil {
		return Outcome{Err: fmt.Errorf("line %d: %w", l.Num, err)}
	}
	if c.exec.call == nil {
		return Outcome{Err: ErrNotASystemCall, kind: c.exec.result}
	}
	o := c.exec.call(k, args{c, l.Args})
	o.kind = c.exec.result
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
			return fmt.Errorf("regs %s: %w", echo(a.Text, false), err)
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
