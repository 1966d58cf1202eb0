package objhash

import (
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// TestLeaksReportExactlyOutsideReferences builds a container at random: a
// root holding objects, objects holding later objects, each reference
// possibly repeated, and references from outside, some of them from objects
// the root cannot reach. Leaks must name exactly the reachable objects that
// have references from outside, with the right counts, in objref order.
func TestLeaksReportExactlyOutsideReferences(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		n := rapid.IntRange(1, 10).Draw(t, "objects")
		root := &fobj{name: "root", refs: 1} // the reference the engine starts from
		objs := make([]*fobj, n)
		types := map[*fobj]Type{root: tTable}
		outside := map[*fobj]int64{}
		for i := range objs {
			objs[i] = &fobj{name: fmt.Sprintf("o%d", i)}
			// Types without a Collect op hold nothing, or their references
			// would be neither counted nor outside.
			types[objs[i]] = rapid.SampledFrom([]Type{tFile, tPipe, tTable, tTask}).Draw(t, "type")
		}
		holders := append([]*fobj{root}, objs...)
		reachable := map[*fobj]bool{root: true}
		inside := map[*fobj]int64{root: 1}
		for hi, h := range holders {
			if types[h] == tTask {
				continue
			}
			for _, o := range holders[hi+1:] {
				for range rapid.IntRange(0, 2).Draw(t, "held") {
					h.kids = append(h.kids, kid{o, types[o]})
					o.refs++
					if reachable[h] {
						reachable[o] = true
						inside[o]++
					}
				}
			}
		}
		for _, o := range holders {
			j := rapid.Int64Range(0, 2).Draw(t, "outside")
			if rapid.IntRange(0, 2).Draw(t, "leak?") != 0 {
				j = 0 // most objects are clean
			}
			o.refs += j
			outside[o] = j
		}
		before := map[*fobj]int64{}
		for _, o := range holders {
			before[o] = o.refs
		}

		c := &fctx{}
		c.tab = NewCheckpoint(newRegistry(noCtx))
		ref, first, err := c.tab.Collect(c, root, tTable)
		require.NoError(t, err)
		require.Equal(t, int32(1), ref)
		require.True(t, first)

		var want []Leak
		for _, o := range holders {
			ref, in, err := c.tab.Lookup(o, types[o])
			require.NoError(t, err)
			require.Equal(t, reachable[o], in, "%s is in the table iff reachable", o.name)
			if !in {
				continue
			}
			// o.refs now includes the table's reference. Outside: the drawn
			// references, and those from holders the root does not reach.
			if o.refs-1-inside[o] > 0 {
				want = append(want, Leak{Type: types[o], Name: typeNames[types[o]], Objref: ref, Users: o.refs, Counted: inside[o]})
			}
		}
		slices.SortFunc(want, func(a, b Leak) int { return int(a.Objref - b.Objref) })

		err = c.tab.Leaks()
		if want == nil {
			require.NoError(t, err)
		} else {
			require.ErrorIs(t, err, errno.EBUSY)
			var le *LeakError
			require.ErrorAs(t, err, &le)
			require.Equal(t, want, le.Leaks)
			for _, l := range want {
				require.Positive(t, l.Outside())
				require.Contains(t, err.Error(), fmt.Sprintf("%s objref %d: %d ", l.Name, l.Objref, l.Outside()))
			}
		}
		// Nothing drawn as outside goes unreported.
		for _, o := range holders {
			if outside[o] > 0 && reachable[o] {
				require.Error(t, err, "%s has %d outside references", o.name, outside[o])
			}
		}

		c.tab.Discard()
		for _, o := range holders {
			require.Equal(t, before[o], o.refs, "%s's count after discard", o.name)
		}
	})
}

// TestLeaksOverCount: counting a reference twice is the engine's bug, and
// is reported as such, EINVAL, unless there is also a real leak.
func TestLeaksOverCount(t *testing.T) {
	c := &fctx{}
	c.tab = NewCheckpoint(newRegistry(noCtx))
	defer c.tab.Discard()

	x := &fobj{name: "x", refs: 1}
	for range 2 {
		_, _, err := c.tab.Collect(c, x, tFile)
		require.NoError(t, err)
	}
	err := c.tab.Leaks()
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.NotErrorIs(t, err, errno.EBUSY)
	assert.EqualError(t, err, "objhash: leaks: file objref 1: 2 references counted inside, but it has only 1 besides the table's (engine bug): EINVAL (invalid argument)")

	y := &fobj{name: "y", refs: 3}
	_, _, err = c.tab.Collect(c, y, tPipe)
	require.NoError(t, err)
	err = c.tab.Leaks()
	assert.ErrorIs(t, err, errno.EBUSY)
	assert.ErrorContains(t, err, "file objref 1: 2 references counted inside")
	assert.ErrorContains(t, err, "pipe objref 2: 2 references from outside (4 in all, 1 inside, 1 the table's)")
	var le *LeakError
	require.ErrorAs(t, err, &le)
	assert.Equal(t, []int64{-1, 2}, []int64{le.Leaks[0].Outside(), le.Leaks[1].Outside()})

	// Entries of a type without Users are not checked.
	_, _, err = c.tab.LookupAdd(&fobj{name: "z", refs: 5}, tBare)
	require.NoError(t, err)
	require.ErrorAs(t, c.tab.Leaks(), &le)
	assert.Len(t, le.Leaks, 2)
}

// TestCollectOpError: a failing Collect op fails the Collect that ran it,
// with the op's errno, naming the object.
func TestCollectOpError(t *testing.T) {
	c := &fctx{}
	c.tab = NewCheckpoint(newRegistry(noCtx))
	defer c.tab.Discard()
	inner := &fobj{name: "inner", grabErr: errno.ENOMEM}
	outer := &fobj{name: "outer", kids: []kid{{inner, tPipe}}}
	_, _, err := c.tab.Collect(c, outer, tFile)
	assert.ErrorIs(t, err, errno.ENOMEM)
	assert.ErrorContains(t, err, "collect file objref 1")
}
