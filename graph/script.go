package graph

import (
	"fmt"

	"ckptsim/scenario"
	"ckptsim/sim/kernel"
)

// FromScript runs a scenario script's system calls on a fresh kernel and
// returns the graph of the world they build. Checkpoint lines are skipped:
// they change nothing in the world. A line whose call does not give what the
// line expects stops the run with a *scenario.Error naming the script and
// line.
func FromScript(s *scenario.Script) (*Graph, error) {
	k := kernel.New(kernel.Config{})
	for _, l := range s.Lines {
		if l.Cmd == "checkpoint" {
			continue
		}
		o := scenario.Exec(k, l)
		if !o.Matches(l.Expect) {
			want := "success"
			if l.Expect != nil {
				want = l.Expect.Text
			}
			return nil, &scenario.Error{File: s.Name, Line: l.Num, Msg: fmt.Sprintf("%s: got %s, expected %s", l.Text, o, want)}
		}
	}
	return FromView(k.View()), nil
}
