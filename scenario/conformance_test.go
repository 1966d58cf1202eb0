package scenario

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/ckptsim/ckptsim/sim/kernel"
)

// TestLinuxConformance runs every script of testdata/linux on the simulated
// kernel. Each of their lines states what the real Linux kernel returned
// (checked with ../shared/tools/scn-linux), so every line must match. A
// checkpoint line is the engine's, not a system call: scn-linux skips it,
// and the runner's conformance test checks it (ckptsim verify).
func TestLinuxConformance(t *testing.T) {
	paths, err := filepath.Glob("testdata/linux/*.scn")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no conformance scripts: %v", err)
	}
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			s, err := Parse(path, f)
			if err != nil {
				t.Fatal(err)
			}
			k := kernel.New(kernel.Config{})
			for _, l := range s.Lines {
				if l.Cmd == "checkpoint" {
					continue
				}
				if o := Exec(k, l); !o.Matches(l.Expect) {
					t.Errorf("%s:%d: %s: got %s, Linux gives %s", path, l.Num, l.Text, o, expectString(l.Expect))
				}
			}
			if err := k.Check(); err != nil {
				t.Errorf("kernel inconsistent after the script: %v", err)
			}
		})
	}
}

func expectString(e *Expect) string {
	if e == nil {
		return "success"
	}
	return e.Text
}
