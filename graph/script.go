package graph

import (
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// FromScript runs a scenario script's system calls on a fresh kernel and
// returns the graph of the world they build. Checkpoint lines are skipped:
// they change nothing in the world. A line whose call does not give what the
// line expects stops the run with a *scenario.Error naming the script and
// line.
func FromScript(s *scenario.Script) (*Graph, error) {
	k := kernel.New(kernel.Config{})
	if err := scenario.Replay(k, s); err != nil {
		return nil, err
	}
	return FromView(k.View()), nil
}
