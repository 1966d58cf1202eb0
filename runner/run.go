package runner

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// RunOptions change what Run does; the zero value writes images to the
// current directory with the time DefaultTime in their headers.
type RunOptions struct {
	// Dir is the directory the images of checkpoint lines go to; "" is the
	// current directory.
	Dir string
	// Clock gives the time recorded in image headers; nil is
	// FixedClock(DefaultTime).
	Clock func() time.Time
	// OnCheckpoint, when set, is called after each checkpoint line with
	// the kernel the checkpoint was taken in (thawed, before the next line
	// runs), the image, and the refusal or nil. Tools that keep images of
	// their own (golden images, say) take them here.
	OnCheckpoint func(l *scenario.Line, k *kernel.Kernel, img []byte, err error) error
	// Kernel, when set, is the world the script runs on (a restored one,
	// say: restart --then); nil is a fresh kernel with an empty disk.
	Kernel *kernel.Kernel
}

// RunResult is what a run did.
type RunResult struct {
	Lines       int      // statements run that gave their expected result
	Checkpoints int      // checkpoint lines that succeeded
	Images      []string // the paths of the images written, in order
	ImageBytes  int64    // the bytes of the images of successful checkpoints
}

// Run executes a script in one simulated kernel and prints each line to w
// with its result. At a checkpoint line it freezes the container, takes a
// checkpoint, thaws it and goes on with the same world; with "=> NAME" it
// writes the image to NAME in opts.Dir (a refused checkpoint's image, which
// ends with an error record, too). A line that does not give its expected
// result stops the run with a *scenario.Error naming the script and line;
// an image that cannot be written stops it with an error that names them too.
func Run(s *scenario.Script, w io.Writer, opts RunOptions) (RunResult, error) {
	clock := opts.Clock
	if clock == nil {
		clock = FixedClock(DefaultTime)
	}
	var res RunResult
	k := opts.Kernel
	if k == nil {
		k = kernel.New(kernel.Config{})
	}
	p := newPrinter(w, s)
	for _, l := range s.Lines {
		var o scenario.Outcome
		note := ""
		if l.Cmd == "checkpoint" {
			var err error
			o, note, err = runCheckpoint(k, l, opts, clock, &res)
			if err != nil {
				return res, fmt.Errorf("%s:%d: %w", s.Name, l.Num, err)
			}
		} else {
			o = scenario.Exec(k, l)
		}
		if !o.Matches(l.Expect) {
			p.line(l, o, "   # expected "+l.Want())
			return res, &scenario.Error{File: s.Name, Line: l.Num, Msg: mismatch(l, o)}
		}
		p.line(l, o, note)
		res.Lines++
	}
	return res, nil
}

// runCheckpoint runs a checkpoint line for Run and keeps its image. It
// returns the line's outcome, a note on the image for the printed line, and
// an error only when the image cannot be written.
func runCheckpoint(k *kernel.Kernel, l *scenario.Line, opts RunOptions, clock func() time.Time, res *RunResult) (scenario.Outcome, string, error) {
	pid, flags, err := checkpointArgs(l)
	if err != nil {
		return scenario.Outcome{}, "", err
	}
	img, cerr := (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(pid, flags)
	o := scenario.CheckpointOutcome(cerr)
	if opts.OnCheckpoint != nil {
		if err := opts.OnCheckpoint(l, k, img, cerr); err != nil {
			return o, "", err
		}
	}
	dir := opts.Dir
	note := fmt.Sprintf("   # %d bytes", len(img))
	if cerr != nil {
		note = "   # " + cerr.Error()
	} else {
		res.Checkpoints++
		res.ImageBytes += int64(len(img))
	}
	if l.Image != "" && len(img) == 0 {
		note += fmt.Sprintf("; no image for %s: the checkpoint was refused before it wrote anything", l.Image)
	}
	if l.Image != "" && len(img) > 0 {
		path := filepath.Join(dir, l.Image)
		if err := os.WriteFile(path, img, 0o644); err != nil {
			return o, "", err
		}
		res.Images = append(res.Images, path)
		if cerr != nil {
			note += fmt.Sprintf("; %s: %d bytes, ending with an error record", path, len(img))
		} else {
			note += " in " + path
		}
	}
	return o, note, nil
}

// printer prints a script's lines with their results, the results in one
// column.
type printer struct {
	w     io.Writer
	width int
}

func newPrinter(w io.Writer, s *scenario.Script) *printer {
	const maxWidth = 48 // a long write's string should not push every result off screen
	p := &printer{w: w}
	for _, l := range s.Lines {
		p.width = max(p.width, min(len(shown(l)), maxWidth))
	}
	return p
}

// maxStatement is the longest statement a transcript prints whole: a call
// with its flags (an mmap of anonymous memory takes 69 bytes). A longer
// one, a megabyte-long write, is cut as scenario.Short cuts it.
const maxStatement = 96

// shown is a line's statement as a transcript prints it.
func shown(l *scenario.Line) string {
	if s := statement(l); len(s) <= maxStatement {
		return s
	}
	return scenario.Short(statement(l))
}

// line prints a line as "NUM  STATEMENT = RESULT NOTE", a long statement
// or result (a megabyte-long write or read) cut as scenario.Short cuts it.
func (p *printer) line(l *scenario.Line, o scenario.Outcome, note string) {
	fmt.Fprintf(p.w, "%4d  %-*s = %s%s\n", l.Num, p.width, shown(l), scenario.Short(o.String()), note)
}
