package hostlinux

import (
	"github.com/ckptsim/ckptsim/scenario"
)

// LineReport is one line of a script run on the host.
type LineReport struct {
	Line *scenario.Line
	// Result is what the host gave, or why it cannot answer.
	Result Result
	// OK says that the host's outcome is what the line expects (false
	// for a skipped line).
	OK bool
}

// Report is a script run on the host.
type Report struct {
	Name    string
	Lines   []LineReport
	Checked int // lines the host answered
	Skipped int // lines it cannot answer
	Failed  int // answered lines whose outcome is not the expected one
}

// Run runs every line of s on a fresh world on the host, each compared
// with what the line expects, and returns the report. Its error is the
// host's (ErrUnavailable, or the agent failing to start); a line that
// disagrees is in the report.
func Run(s *scenario.Script, opt Options) (*Report, error) {
	w, err := New(opt)
	if err != nil {
		return nil, err
	}
	defer w.Close()
	rep := &Report{Name: s.Name}
	for _, l := range s.Lines {
		r := w.Exec(l)
		lr := LineReport{Line: l, Result: r}
		switch {
		case r.Skipped != "":
			rep.Skipped++
		default:
			rep.Checked++
			lr.OK = r.Outcome.Matches(l.Expect)
			if !lr.OK {
				rep.Failed++
			}
		}
		rep.Lines = append(rep.Lines, lr)
	}
	return rep, nil
}
