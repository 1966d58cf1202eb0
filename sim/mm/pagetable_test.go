package mm

import (
	"slices"
	"testing"

	"pgregory.net/rapid"
)

// TestPageTableIsAMap: the two-level page table behaves as a map from page
// numbers to frames, and walks any range in increasing order.
func TestPageTableIsAMap(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		pt, model := newPageTable(), map[uint64]*Frame{}
		frames := []*Frame{{}, {}, {}}
		page := rapid.OneOf(rapid.Uint64Range(0, 2000), rapid.Uint64Range(1<<30, 1<<30+600), rapid.Uint64Range(0, pageOf(TaskSize)))
		for range rapid.IntRange(0, 200).Draw(t, "ops") {
			p := page.Draw(t, "page")
			switch rapid.IntRange(0, 2).Draw(t, "op") {
			case 0:
				f := rapid.SampledFrom(frames).Draw(t, "frame")
				pt.set(p, f)
				model[p] = f
			case 1:
				if got, want := pt.del(p), model[p]; got != want {
					t.Fatalf("del(%d) = %p, want %p", p, got, want)
				}
				delete(model, p)
			default:
				if got, want := pt.get(p), model[p]; got != want {
					t.Fatalf("get(%d) = %p, want %p", p, got, want)
				}
			}
			if pt.len() != len(model) {
				t.Fatalf("len %d, want %d", pt.len(), len(model))
			}
		}
		from := page.Draw(t, "from")
		to := from + rapid.Uint64Range(0, 1<<31).Draw(t, "span")
		var got, want []uint64
		pt.inOrder(from, to, func(p uint64, f *Frame) {
			if model[p] != f {
				t.Fatalf("inOrder gave page %d the wrong frame", p)
			}
			got = append(got, p)
		})
		for p := range model {
			if p >= from && p < to {
				want = append(want, p)
			}
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("inOrder(%d, %d) = %v, want %v", from, to, got, want)
		}
	})
}
