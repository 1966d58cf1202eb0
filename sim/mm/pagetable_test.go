package mm

import (
	"maps"
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
			switch rapid.IntRange(0, 3).Draw(t, "op") {
			case 3:
				fs := rapid.SliceOfN(rapid.SampledFrom(frames), 1, 1100).Draw(t, "run")
				first, free := uint64(0), true
				for i := range fs {
					if model[p+uint64(i)] != nil {
						first, free = p+uint64(i), false
						break
					}
				}
				if taken, ok := pt.setRun(p, fs); ok != free || taken != first {
					t.Fatalf("setRun(%d, %d frames) = %d, %v, want %d, %v", p, len(fs), taken, ok, first, free)
				}
				if free {
					for i, f := range fs {
						model[p+uint64(i)] = f
					}
				}
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

// TestForkedPageTablesAreApart: tables forked from one another share
// their blocks, yet each behaves as a map of its own: a change to one is
// never seen in another, whatever the order of forks, changes and
// releases.
func TestForkedPageTablesAreApart(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		tables := []*pageTable{ptr(newPageTable())}
		models := []map[uint64]*Frame{{}}
		frames := []*Frame{{}, {}, {}}
		page := rapid.OneOf(rapid.Uint64Range(0, 1100), rapid.Uint64Range(1<<30, 1<<30+600))
		for range rapid.IntRange(0, 200).Draw(t, "ops") {
			i := rapid.IntRange(0, len(tables)-1).Draw(t, "table")
			pt, model := tables[i], models[i]
			switch rapid.IntRange(0, 4).Draw(t, "op") {
			case 0, 1:
				p, f := page.Draw(t, "page"), rapid.SampledFrom(frames).Draw(t, "frame")
				pt.set(p, f)
				model[p] = f
			case 2:
				p := page.Draw(t, "page")
				if got, want := pt.del(p), model[p]; got != want {
					t.Fatalf("table %d: del(%d) = %p, want %p", i, p, got, want)
				}
				delete(model, p)
			case 3:
				tables = append(tables, ptr(pt.fork()))
				models = append(models, maps.Clone(model))
			default:
				pt.release()
				clear(model)
			}
			for j, pt := range tables {
				n := 0
				pt.each(func(p uint64, f *Frame) {
					if models[j][p] != f {
						t.Fatalf("table %d: page %d has %p, want %p", j, p, f, models[j][p])
					}
					n++
				})
				if n != len(models[j]) || pt.len() != n {
					t.Fatalf("table %d: %d pages (len %d), want %d", j, n, pt.len(), len(models[j]))
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }
