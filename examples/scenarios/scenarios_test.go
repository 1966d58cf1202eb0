// Package scenarios_test runs the example scenario scripts of this
// directory through verify: each script must give the results it states and
// its checkpoints must be invisible, exactly as `ckptsim verify
// examples/scenarios/*.scn` checks them. The results the scripts state are
// those of real Linux (checked with scn-linux, which runs each script on the
// real kernel); docs/SCENARIOS.md describes the format.
package scenarios_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
)

// minScripts is how many scripts the directory must hold at least.
const minScripts = 15

func TestScenarios(t *testing.T) {
	paths, err := filepath.Glob("*.scn")
	if err != nil {
		t.Fatal(err)
	}
	if len(paths) < minScripts {
		t.Fatalf("found %d scenario scripts, want at least %d", len(paths), minScripts)
	}
	for _, path := range paths {
		t.Run(path, func(t *testing.T) {
			s := parse(t, path)
			res, err := runner.Verify(s)
			if err != nil {
				t.Fatalf("verify failed:\n%v", err)
			}
			if res.Lines != len(s.Lines) {
				t.Errorf("verify ran %d lines of %d", res.Lines, len(s.Lines))
			}
			if res.Checkpoints == 0 && !onlyRefusals(s) {
				t.Errorf("no checkpoint succeeded: a script that is not about refusals must checkpoint at least once")
			}
			t.Logf("%d lines, %d checkpoints, %d image bytes", res.Lines, res.Checkpoints, res.ImageBytes)
		})
	}
}

func parse(t *testing.T, path string) *scenario.Script {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s, err := scenario.Parse(path, f)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// onlyRefusals reports whether a script is about refusals: it has
// checkpoint lines and every one of them expects an errno.
func onlyRefusals(s *scenario.Script) bool {
	n := 0
	for _, l := range s.Lines {
		if l.Cmd != "checkpoint" {
			continue
		}
		n++
		if l.Expect == nil || l.Expect.Kind != scenario.ExpectErrno {
			return false
		}
	}
	return n > 0
}
