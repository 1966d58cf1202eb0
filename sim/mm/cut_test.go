package mm

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// cutView is what the image holds of a run: where, how many pages, the
// first frame's number and whether the bytes come with it.
type cutView struct {
	addr  uint64
	pages int
	first uint32
	data  bool
}

func cutsOf(fr *frames, stretches [][]*Frame, firsts []uint64, again bool) []cutView {
	var out []cutView
	for i, es := range stretches {
		var runs []run
		if again {
			runs = fr.cutAgain(nil, firsts[i], es)
		} else {
			runs = fr.cut(nil, firsts[i], es)
		}
		for _, rn := range runs {
			out = append(out, cutView{rn.addr, len(rn.fs), rn.first, rn.data})
		}
	}
	return out
}

// TestCutAgainIsCut: reusing the cut of a stretch with the same entries
// (what a forked task's page table holds) gives exactly the runs cutting
// it afresh gives, so the image does not change.
func TestCutAgainIsCut(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pool := make([]*Frame, rapid.IntRange(1, 12).Draw(t, "frames"))
		for i := range pool {
			pool[i] = &Frame{}
		}
		entry := rapid.Custom(func(t *rapid.T) *Frame {
			if rapid.IntRange(0, 3).Draw(t, "hole") == 0 {
				return nil
			}
			return rapid.SampledFrom(pool).Draw(t, "frame")
		})
		var stretches [][]*Frame
		var firsts []uint64
		for range rapid.IntRange(1, 8).Draw(t, "stretches") {
			var es []*Frame
			if len(stretches) > 0 && rapid.Bool().Draw(t, "repeat") {
				es = slices.Clone(rapid.SampledFrom(stretches).Draw(t, "of"))
			} else {
				es = rapid.SliceOfN(entry, 1, maxRun+3).Draw(t, "entries")
			}
			stretches = append(stretches, es)
			firsts = append(firsts, rapid.Uint64Range(0, 1<<20).Draw(t, "first"))
		}
		again := cutsOf(&frames{gen: generations.Add(1)}, stretches, firsts, true)
		fresh := cutsOf(&frames{gen: generations.Add(1)}, stretches, firsts, false)
		if !slices.Equal(again, fresh) {
			t.Fatalf("cutAgain gave\n%v\ncut gave\n%v", again, fresh)
		}
	})
}
