package runner_test

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// TestConformanceScriptsMigrate verifies the Linux conformance scripts
// (scenario/testdata/linux, whose every result Linux gave) with a
// checkpoint after every line where one can succeed: where the world is one
// container and nothing refuses it. So each script's world is replaced by
// its restored copy over and over, and every later line must still give
// Linux's result: migration is invisible to real programs' system calls.
func TestConformanceScriptsMigrate(t *testing.T) {
	paths, err := filepath.Glob("../scenario/testdata/linux/*.scn")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	total := 0
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			src, err := os.ReadFile(path)
			require.NoError(t, err)
			s, err := scenario.ParseString(path, string(src))
			require.NoError(t, err)
			after := checkpointable(t, s)
			var b strings.Builder
			for i, line := range strings.Split(string(src), "\n") {
				b.WriteString(line + "\n")
				if pid, ok := after[i+1]; ok {
					fmt.Fprintf(&b, "checkpoint %d\n", pid)
				}
			}
			migrating, err := scenario.ParseString(path+" (with checkpoints)", b.String())
			require.NoError(t, err)
			res, err := runner.Verify(migrating)
			require.NoError(t, err)
			require.Equal(t, len(after), res.Checkpoints)
			total += res.Checkpoints
		})
	}
	require.Greater(t, total, 100, "checkpoints taken across the conformance scripts")
	t.Logf("%d checkpoints and restarts across %d scripts", total, len(paths))
}

// checkpointable runs s and returns, by line number, the lines after which
// a checkpoint of the whole world succeeds, with the root's pid.
func checkpointable(t *testing.T, s *scenario.Script) map[int]int {
	k := kernel.New(kernel.Config{})
	out := map[int]int{}
	for _, l := range s.Lines {
		require.True(t, scenario.Exec(k, l).Matches(l.Expect), "%s:%d: %s", s.Name, l.Num, l.Text)
		v := k.View()
		if len(v.Top) != 1 || k.Freeze(v.Top[0]) != nil {
			continue
		}
		pid := v.Top[0]
		_, err := ckpt.New(k).Checkpoint(pid, io.Discard, 0)
		require.NoError(t, k.Thaw(pid))
		if err == nil {
			out[l.Num] = pid
		}
	}
	return out
}
