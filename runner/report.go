package runner

import (
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// ScriptReport is how one script fared under verify, in the form the
// machine-readable reports (JSON, JUnit XML) give it.
type ScriptReport struct {
	// Path is the script's path as given ("stdin" for "-").
	Path string `json:"path"`
	// OK is true when the script passed.
	OK          bool  `json:"ok"`
	Lines       int   `json:"lines"`
	Checkpoints int   `json:"checkpoints"`
	Every       int   `json:"every_checkpoints"`
	ImageBytes  int64 `json:"image_bytes"`
	// Seconds is the wall time the script took, for CI dashboards.
	Seconds float64 `json:"seconds"`
	// Failure is why a script failed verify; Error why it could not be
	// verified at all (unreadable, or it does not parse). At most one is set.
	Failure *FailureReport `json:"failure,omitempty"`
	Error   string         `json:"error,omitempty"`
}

// FailureReport is a Failure in a report.
type FailureReport struct {
	Line int      `json:"line"`
	What string   `json:"what"`
	Diff []string `json:"diff,omitempty"`
}

// Message returns what a person reads of the report's outcome: "ok NAME
// (...)", or "FAIL ..." with the failure and its differences.
func (r *ScriptReport) Message() string {
	switch {
	case r.OK:
		s := fmt.Sprintf("ok %s (%d lines, %d checkpoints, %d image bytes)", r.Path, r.Lines, r.Checkpoints, r.ImageBytes)
		if r.Every > 0 {
			s = fmt.Sprintf("ok %s (%d lines, %d checkpoints, %d of them added by --every, %d image bytes)",
				r.Path, r.Lines, r.Checkpoints, r.Every, r.ImageBytes)
		}
		return s
	case r.Failure != nil:
		f := &Failure{Script: r.Path, Line: r.Failure.Line, What: r.Failure.What, Diff: r.Failure.Diff}
		return "FAIL " + f.Error()
	}
	return "FAIL " + r.Error
}

// VerifyFile reads, parses and verifies one script, and reports how it
// fared.
func VerifyFile(path string, opts VerifyOptions) ScriptReport {
	start := time.Now()
	r := ScriptReport{Path: InputName(path)}
	s, err := ParseFile(path)
	if err != nil {
		r.Error = err.Error()
		r.Seconds = time.Since(start).Seconds()
		return r
	}
	res, err := VerifyWith(s, opts)
	r.Seconds = time.Since(start).Seconds()
	r.Lines, r.Checkpoints, r.Every, r.ImageBytes = res.Lines, res.Checkpoints, res.Every, res.ImageBytes
	if f, ok := errors.AsType[*Failure](err); ok {
		r.Failure = &FailureReport{Line: f.Line, What: f.What, Diff: f.Diff}
	} else if err != nil {
		r.Error = err.Error()
	}
	r.OK = err == nil
	return r
}

// VerifyFiles verifies scripts with up to jobs of them at once (each in
// kernels of its own) and returns their reports in the order of paths.
// done, when not nil, is called with each report in that order as soon as
// it and every report before it are ready, so that output streams and is
// the same whatever the number of jobs.
func VerifyFiles(paths []string, opts VerifyOptions, jobs int, done func(ScriptReport)) []ScriptReport {
	jobs = max(1, min(jobs, len(paths)))
	reports := make([]ScriptReport, len(paths))
	ready := make([]chan struct{}, len(paths))
	for i := range ready {
		ready[i] = make(chan struct{})
	}
	next := make(chan int)
	var wg sync.WaitGroup
	for range jobs {
		wg.Go(func() {
			for i := range next {
				reports[i] = VerifyFile(paths[i], opts)
				close(ready[i])
			}
		})
	}
	go func() {
		for i := range paths {
			next <- i
		}
		close(next)
	}()
	for i := range paths {
		<-ready[i]
		if done != nil {
			done(reports[i])
		}
	}
	wg.Wait()
	return reports
}

// verifyJSON is the JSON report: every script, and the counts.
type verifyJSON struct {
	Scripts []ScriptReport `json:"scripts"`
	Passed  int            `json:"passed"`
	Failed  int            `json:"failed"`
}

// WriteVerifyJSON writes reports as one JSON object: "scripts" (each a
// ScriptReport), "passed" and "failed".
func WriteVerifyJSON(w io.Writer, reports []ScriptReport) error {
	out := verifyJSON{Scripts: reports}
	if out.Scripts == nil {
		out.Scripts = []ScriptReport{}
	}
	for _, r := range reports {
		if r.OK {
			out.Passed++
		} else {
			out.Failed++
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// The JUnit XML report, as CI systems (Jenkins, GitLab, GitHub Actions'
// test reporters) read it: one test suite, one test case per script; a
// failed verification is a <failure>, a script that could not be read or
// parsed an <error>.
type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Time     string       `xml:"time,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Time      string        `xml:"time,attr"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// junitSuiteName names the suite and each case's class.
const junitSuiteName = "ckptsim verify"

// WriteVerifyJUnit writes reports as JUnit XML.
func WriteVerifyJUnit(w io.Writer, reports []ScriptReport) error {
	suite := junitSuite{Name: junitSuiteName, Tests: len(reports)}
	var total float64
	for _, r := range reports {
		total += r.Seconds
		c := junitCase{Name: r.Path, Classname: junitSuiteName, Time: seconds(r.Seconds)}
		msg := r.Message()
		first, _, _ := strings.Cut(msg, "\n")
		switch {
		case r.OK:
			c.SystemOut = msg
		case r.Failure != nil:
			suite.Failures++
			c.Failure = &junitProblem{Message: first, Type: "verify", Text: msg}
		default:
			suite.Errors++
			c.Error = &junitProblem{Message: first, Type: "input", Text: msg}
		}
		suite.Cases = append(suite.Cases, c)
	}
	suite.Time = seconds(total)
	doc := junitSuites{Name: junitSuiteName, Tests: suite.Tests, Failures: suite.Failures, Errors: suite.Errors,
		Time: suite.Time, Suites: []junitSuite{suite}}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(s float64) string { return fmt.Sprintf("%.3f", s) }
