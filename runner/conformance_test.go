package runner_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/runner"
)

// TestConformanceScriptsMigrate verifies the Linux conformance scripts
// (scenario/testdata/linux, whose every result Linux gave) as verify --every
// does: with a checkpoint after every line where one succeeds, where the
// world is one tree and nothing refuses it. So each script's world is
// replaced by its restored copy over and over, and every later line must
// still give Linux's result: migration is invisible to real programs'
// system calls.
func TestConformanceScriptsMigrate(t *testing.T) {
	paths, err := filepath.Glob("../scenario/testdata/linux/*.scn")
	require.NoError(t, err)
	require.NotEmpty(t, paths)
	total := 0
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			s, err := runner.ParseFile(path)
			require.NoError(t, err)
			res, err := runner.VerifyWith(s, runner.VerifyOptions{Every: true})
			require.NoError(t, err)
			require.GreaterOrEqual(t, res.Checkpoints, res.Every, "a checkpoint after every line, besides a script's own (m01, m02)")
			total += res.Every
		})
	}
	require.Greater(t, total, 100, "checkpoints taken across the conformance scripts")
	t.Logf("%d checkpoints and restarts across %d scripts", total, len(paths))
}
