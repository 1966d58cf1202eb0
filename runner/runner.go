// Package runner runs scenario scripts the ways the ckptsim command offers:
// Run executes a script in one simulated kernel and keeps the images of its
// checkpoint lines, Verify proves that checkpointing at those lines is
// invisible to the script, and Demo shows a checkpoint and restart of a
// small built-in world from end to end. The contract for scripts and for
// run and verify is docs/SCENARIOS.md.
package runner

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/scenario"
)

// DefaultTime is the time written into the headers of the images that Run,
// Verify and Demo take, unless told otherwise: a fixed time, so that the
// same script always gives the same image bytes (golden images are made
// from scripts).
var DefaultTime = time.Unix(1700000000, 0).UTC()

// FixedClock returns a clock that always says t, for ckpt.Engine.Clock.
func FixedClock(t time.Time) func() time.Time {
	return func() time.Time { return t }
}

// StdinName is the name standard input goes by in messages.
const StdinName = "stdin"

// ParseFile reads and parses a script file; "-" reads standard input.
// Errors name the file, and the line for a parse error.
func ParseFile(path string) (*scenario.Script, error) {
	data, err := ReadInput(path)
	if err != nil {
		return nil, err
	}
	return scenario.Parse(InputName(path), bytes.NewReader(data))
}

// InputName is how messages name the input path: StdinName for "-".
func InputName(path string) string {
	if path == "-" {
		return StdinName
	}
	return path
}

// ReadInput reads a whole file, or standard input for "-".
func ReadInput(path string) ([]byte, error) {
	if path == "-" {
		return io.ReadAll(os.Stdin)
	}
	return os.ReadFile(path)
}

// IsImage reports whether data starts like a checkpoint image: a HEADER
// record whose payload opens with the image magic, or, for data too short
// to hold both, the HEADER record's type word alone (a script, being text,
// never starts with it). Files are told apart by content rather than by
// name, so a script saved as x.img still runs, and a cut image is read as
// the image it was.
func IsImage(data []byte) bool {
	const hdr = 8 // type and length, before the payload
	magic := image.HeaderMagic
	typ := []byte{byte(image.TypeHeader), 0, 0, 0}
	if len(data) < hdr+len(magic) {
		return len(data) >= len(typ) && bytes.Equal(data[:len(typ)], typ)
	}
	return bytes.Equal(data[:len(typ)], typ) && bytes.Equal(data[hdr:hdr+len(magic)], magic[:])
}

// checkpointArgs returns a checkpoint line's pid and flags. The parser has
// already checked them, so a malformed flag is a bug, reported as an error.
func checkpointArgs(l *scenario.Line) (pid, flags int, err error) {
	if len(l.Args) < 2 {
		return l.Pid(), 0, nil
	}
	for _, part := range strings.Split(l.Args[1].Text, "|") {
		if n, ok := scenario.CheckpointFlags[part]; ok {
			flags |= int(n)
			continue
		}
		n, err := strconv.ParseInt(part, 0, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("%s: bad checkpoint flag %q", scenario.Short(l.Text), part)
		}
		flags |= int(n)
	}
	return l.Pid(), flags, nil
}

// mismatch says that line l gave o where it expects something else; for a
// refused checkpoint it adds the whole refusal, since which task, fd or
// object refused says more than the errno.
func mismatch(l *scenario.Line, o scenario.Outcome) string {
	what := l.Mismatch(o)
	if l.Cmd == "checkpoint" && o.Err != nil {
		what += " (" + o.Err.Error() + ")"
	}
	return what
}

// statement renders a line's command and arguments without its expected
// result, quoting strings as a script would.
func statement(l *scenario.Line) string {
	var b strings.Builder
	b.WriteString(l.Cmd)
	for _, a := range l.Args {
		b.WriteByte(' ')
		if a.Quoted {
			b.WriteString(strconv.Quote(a.Text))
		} else {
			b.WriteString(a.Text)
		}
	}
	return b.String()
}
