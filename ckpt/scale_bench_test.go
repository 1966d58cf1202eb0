package ckpt_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/internal/cputime"
	"github.com/ckptsim/ckptsim/internal/scaleworld"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// BenchmarkScale measures, for each shape of internal/scaleworld and each
// size from 1k objects (to 10k, or to CKPTSIM_SCALE: make bench-scale
// goes to a million), the CPU time per object of checkpoint, of restart
// (without the disk copy a restart is given, made before it is timed) and
// of a plain walk of the same world (scaleworld.Walk), each the median of
// three rounds that alternate them. It reports them per size
// (ckpt-ns/obj-1k, ...) and how much each grew from the smallest size to
// the largest against the walk's growth (ckpt-growth/walk,
// restart-growth/walk: 1 is growing as the walk does; the goal is 1.2 or
// less). The walk grows too: the larger world no longer fits the caches.
func BenchmarkScale(b *testing.B) {
	sizes, err := scaleworld.Sizes()
	if err != nil {
		b.Fatal(err)
	}
	for _, shape := range scaleworld.Shapes {
		b.Run(shape, func(b *testing.B) {
			var first, last [3]float64 // ckpt, restart, walk per object
			for i, n := range sizes {
				per := scalePoint(b, shape, n)
				label := scaleworld.Label(n)
				b.ReportMetric(per[0], "ckpt-ns/obj-"+label)
				b.ReportMetric(per[1], "restart-ns/obj-"+label)
				b.ReportMetric(per[2], "walk-ns/obj-"+label)
				if i == 0 {
					first = per
				}
				last = per
			}
			walk := last[2] / first[2]
			b.ReportMetric(walk, "walk-growth")
			b.ReportMetric(last[0]/first[0]/walk, "ckpt-growth/walk")
			b.ReportMetric(last[1]/first[1]/walk, "restart-growth/walk")
		})
	}
}

// scalePoint measures one shape at one size: the nanoseconds of CPU time
// per object of a checkpoint, a restart and a walk.
func scalePoint(b *testing.B, shape string, n int) [3]float64 {
	k, objects, err := scaleworld.Build(shape, n)
	if err != nil {
		b.Fatal(err)
	}
	var img bytes.Buffer
	if _, err := ckpt.New(k).Checkpoint(1, &img, 0); err != nil {
		b.Fatal(err)
	}
	runs := max(1, 200000/objects) // enough work to time at the small sizes
	ckptRuns := func() time.Duration {
		var out bytes.Buffer
		out.Grow(img.Len())
		return cputime.Of(runs, func() {
			out.Reset()
			if _, err := ckpt.New(k).Checkpoint(1, &out, 0); err != nil {
				b.Fatal(err)
			}
		})
	}
	restartRuns := func() time.Duration {
		var took time.Duration
		for range runs {
			k2 := kernel.New(kernel.Config{NoFile: scaleworld.Config.NoFile, NrOpen: scaleworld.Config.NrOpen, DiskFrom: k})
			start := cputime.Now()
			if _, err := ckpt.New(k2).Restart(bytes.NewReader(img.Bytes()), 0); err != nil {
				b.Fatal(err)
			}
			took += cputime.Now() - start
		}
		return took
	}
	var sink int64
	walkRuns := func() time.Duration { return cputime.Of(runs, func() { sink += scaleworld.Walk(k) }) }
	var c, r, w []float64
	for range 3 {
		per := func(d time.Duration) float64 { return float64(d) / float64(runs*objects) }
		c = append(c, per(ckptRuns()))
		r = append(r, per(restartRuns()))
		w = append(w, per(walkRuns()))
	}
	return [3]float64{cputime.Median(c), cputime.Median(r), cputime.Median(w)}
}
