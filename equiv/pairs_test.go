package equiv_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/testworld"
)

// TestPair: a world and its restored copy pair every object one to one,
// shared objects once.
func TestPair(t *testing.T) {
	k := testworld.Build(t, testworld.Demo)
	m, err := (&ckpt.Engine{Kernel: k, Clock: testworld.Clock}).Migrate(1, 0, 0)
	require.NoError(t, err)
	a, b := k.View(), m.Kernel.View()
	require.NoError(t, equiv.Equal(a, b))
	p := equiv.Pair(a, b, 0)
	assert.Len(t, p[equiv.PairFileTable], len(a.FileTables))
	assert.Len(t, p[equiv.PairFS], len(a.FSStates))
	assert.Len(t, p[equiv.PairFile], len(a.Files))
	assert.Len(t, p[equiv.PairPipe], len(a.Pipes))
	assert.Len(t, p[equiv.PairGhost], 1)
	for kind, m := range p {
		seen := map[uint64]bool{}
		for from, to := range m {
			assert.False(t, seen[to], "%s %d paired twice", kind, to)
			seen[to] = true
			switch kind {
			case equiv.PairFile:
				assert.Equal(t, a.Files[from].Path, b.Files[to].Path)
				assert.Equal(t, a.Files[from].Pos, b.Files[to].Pos)
			case equiv.PairPipe:
				assert.Equal(t, a.Pipes[from].Buffers, b.Pipes[to].Buffers)
			}
		}
	}
	// The subtree of pid 3: its own table, fs state and the files in it.
	sub := equiv.Pair(a, b, 3)
	assert.Len(t, sub[equiv.PairFileTable], 1)
	assert.Len(t, sub[equiv.PairFile], 2)
	assert.Empty(t, equiv.Pair(a, b, 99), "no such task")
}
