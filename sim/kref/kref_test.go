package kref

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

type thing struct {
	Count
	released int
}

func (t *thing) Ref() *Count { return &t.Count }

func newThing(reg *Registry, k Kind) *thing {
	t := &thing{}
	t.Init(reg, k, t)
	return t
}

func TestReleaseRunsOnLastPut(t *testing.T) {
	reg := NewRegistry()
	a := newThing(reg, File)
	a.Get()
	assert.Equal(t, int64(2), a.Refs())
	assert.False(t, a.Put(func() { a.released++ }))
	assert.Equal(t, 0, a.released)
	assert.Equal(t, 1, reg.Count(File))
	assert.True(t, a.Put(func() { a.released++ }))
	assert.Equal(t, 1, a.released)
	assert.Equal(t, 0, reg.Count(File))
}

func TestMisuseIsAKernelBug(t *testing.T) {
	reg := NewRegistry()
	a := newThing(reg, Pipe)
	a.Put(nil)
	assert.Panics(t, func() { a.Put(nil) }, "put after release")
	assert.Panics(t, func() { a.Get() }, "get after release")
	assert.Panics(t, func() { a.Init(reg, Pipe, a) }, "init twice")
}

func TestSnapshotDiff(t *testing.T) {
	reg := NewRegistry()
	a := newThing(reg, Inode)
	b := newThing(reg, Task)
	before := reg.Snapshot()
	assert.Equal(t, "", before.Diff(reg.Snapshot()))

	a.Get()
	b.Put(nil)
	c := newThing(reg, FSState)
	diff := before.Diff(reg.Snapshot())
	assert.Contains(t, diff, "inode 1: 2 refs, was 1")
	assert.Contains(t, diff, "released task 2 (1 refs)")
	assert.Contains(t, diff, "new fs state 3 (1 refs)")
	assert.Equal(t, 1, reg.Snapshot().Count(FSState))
	_ = c
}

// TestCountsMatchAModel takes and drops references at random and checks that
// the registry holds exactly the objects a model says are alive, with their
// counts.
func TestCountsMatchAModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		reg := NewRegistry()
		var objs []*thing
		model := map[*thing]int64{}
		released := map[*thing]bool{}
		for i := rapid.IntRange(1, 60).Draw(t, "steps"); i > 0; i-- {
			alive := []*thing{}
			for _, o := range objs {
				if model[o] > 0 {
					alive = append(alive, o)
				}
			}
			switch {
			case len(alive) == 0 || rapid.IntRange(0, 3).Draw(t, "op") == 0:
				o := newThing(reg, Kind(rapid.IntRange(0, int(numKinds)-1).Draw(t, "kind")))
				objs = append(objs, o)
				model[o] = 1
			case rapid.Bool().Draw(t, "get"):
				o := rapid.SampledFrom(alive).Draw(t, "obj")
				o.Get()
				model[o]++
			default:
				o := rapid.SampledFrom(alive).Draw(t, "obj")
				model[o]--
				got := o.Put(func() { released[o] = true })
				require.Equal(t, model[o] == 0, got)
			}
		}
		snap := reg.Snapshot()
		want := 0
		for _, o := range objs {
			require.Equal(t, model[o], o.Refs())
			require.Equal(t, model[o] == 0, released[o])
			if model[o] > 0 {
				want++
			}
		}
		require.Len(t, snap, want)
		for _, l := range snap {
			require.Positive(t, l.Refs)
		}
	})
}
