package props

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/hostlinux"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// differentialChecks is how many call sequences TestDifferential draws
// when -rapid.checks is not given: each spawns real processes, so the
// default run stays at a few seconds. `make differential` gives
// -rapid.checks=2000.
const differentialChecks = 12

// TestDifferential runs generated call sequences (the Builder's, in its
// Host mode, which leaves out what the simulator does not model and what
// the host cannot answer) on the simulated kernel and on the host's Linux
// kernel in lockstep, and compares every result. On a disagreement rapid
// shrinks the sequence, and the failure prints it as a script whose
// results are Linux's: `ckptsim linux` agrees with it, `ckptsim run` shows
// where the simulator does not.
func TestDifferential(t *testing.T) {
	if err := hostlinux.Available(); err != nil {
		t.Skipf("not compared with the host kernel: %v", err)
	}
	if !rapidChecksGiven() {
		defer setFlag(t, "rapid.checks", fmt.Sprint(differentialChecks))()
	}
	var sequences, compared, skipped atomic.Int64
	start := time.Now()
	rapid.Check(t, func(rt *rapid.T) {
		w, err := hostlinux.New(hostlinux.Options{})
		if err != nil {
			rt.Fatalf("host world: %v", err)
		}
		defer w.Close()
		k := kernel.New(kernel.Config{NoFile: w.NoFile()})
		d := &differential{rt: rt, k: k, host: w}
		b := NewBuilder(rt, Config{Steps: 40, Spread: true, Host: true}, k, d.exec)
		for range rapid.IntRange(0, 40).Draw(rt, "steps") {
			b.Step()
		}
		sequences.Add(1)
		compared.Add(int64(d.compared))
		skipped.Add(int64(d.skipped))
	})
	t.Logf("%d call sequences, %d lines compared with Linux (%d skipped), in %v",
		sequences.Load(), compared.Load(), skipped.Load(), time.Since(start).Round(time.Millisecond))
}

// differential is one sequence run on both kernels.
type differential struct {
	rt                *rapid.T
	k                 *kernel.Kernel
	host              *hostlinux.World
	lines             []string // the script so far, each line with Linux's result
	compared, skipped int
}

// exec runs one line on both kernels; the Builder goes on with the
// simulator's outcome.
func (d *differential) exec(line string) scenario.Outcome {
	s, err := scenario.ParseString("differential", line)
	if err != nil {
		panic(fmt.Sprintf("props: generated a line the parser refuses: %v", err))
	}
	l := s.Lines[0]
	sim := scenario.Exec(d.k, l)
	host := d.host.Exec(l)
	if host.Skipped != "" {
		d.skipped++
		d.lines = append(d.lines, fmt.Sprintf("%s = %s   # not checked on Linux: %s", line, sim, host.Skipped))
		return sim
	}
	d.compared++
	d.lines = append(d.lines, fmt.Sprintf("%s = %s", line, host.Outcome))
	if !sim.Equal(host.Outcome) {
		d.lines[len(d.lines)-1] += fmt.Sprintf("   # the simulator gives %s", scenario.Short(sim.String()))
		script := strings.Join(d.lines, "\n") + "\n"
		where := "(not written)"
		if f, err := os.CreateTemp("", "ckptsim-differential-*.scn"); err == nil {
			f.WriteString(script)
			f.Close()
			where = f.Name()
		}
		short := make([]string, len(d.lines))
		for i, l := range d.lines {
			short[i] = scenario.Short(l)
		}
		d.rt.Fatalf("line %d: %s: the simulator gives %s, Linux %s\n"+
			"the script, with Linux's results, is in %s (ckptsim linux agrees with it; ckptsim run shows where the simulator does not); long lines cut here:\n%s",
			len(d.lines), scenario.Short(line), scenario.Short(sim.String()), scenario.Short(host.Outcome.String()), where, strings.Join(short, "\n"))
	}
	return sim
}

// rapidChecksGiven reports whether -rapid.checks was set on the command
// line.
func rapidChecksGiven() bool {
	given := false
	flag.Visit(func(f *flag.Flag) {
		if f.Name == "rapid.checks" {
			given = true
		}
	})
	return given
}

// setFlag sets a flag for the test and returns what restores it.
func setFlag(t *testing.T, name, value string) func() {
	t.Helper()
	f := flag.Lookup(name)
	if f == nil {
		t.Fatalf("no flag -%s", name)
	}
	old := f.Value.String()
	if err := f.Value.Set(value); err != nil {
		t.Fatal(err)
	}
	return func() { f.Value.Set(old) }
}
