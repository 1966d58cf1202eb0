package ckpt_test

import (
	"bytes"
	"io"
	"runtime"
	"testing"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
)

// The memory benchmarks (issue 14, design section 2.8), each a ratio in
// one run: 64 MiB of written anonymous memory against copying those pages
// with their CRC32C; 100 tasks forked after the 64 MiB were written,
// whose image must stay about 64 MiB (each frame saved once) and whose
// checkpoint must cost about what one task's does; and a world at the
// map-count limit against one with a tenth of its VMAs, per VMA.

const (
	memBytes = 64 << 20
	memBase  = 0x10000000
)

// memoryWorld is pid 1 with memBytes of private anonymous memory, every
// page written, and tasks-1 children forked after that, which share every
// page copy on write.
func memoryWorld(b *testing.B, tasks int) *kernel.Kernel {
	k := kernel.New(kernel.Config{})
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := k.Spawn(1, "init")
	must(err)
	_, err = k.Mmap(1, memBase, memBytes, int(mm.ProtRead|mm.ProtWrite), mm.MAP_PRIVATE|mm.MAP_ANONYMOUS|mm.MAP_FIXED, -1, 0)
	must(err)
	page := bytes.Repeat([]byte("memory! "), mm.PageSize/8)
	for off := uint64(0); off < memBytes; off += mm.PageSize {
		page[0] = byte(off >> 12)
		_, err := k.ProcessVMWritev(1, memBase+off, page)
		must(err)
	}
	for pid := 2; pid <= tasks; pid++ {
		_, err := k.Fork(1, pid)
		must(err)
	}
	must(k.Freeze(1))
	return k
}

func checkpointOf(b *testing.B, k *kernel.Kernel) []byte {
	var buf bytes.Buffer
	if _, err := ckpt.New(k).Checkpoint(1, &buf, 0); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkMemory reports, for one task with 64 MiB written and for 100
// tasks forked from it: x-copycrc, the speed of checkpoint and restart as
// a ratio of copying the 64 MiB once with their CRC32C (the goal is 0.5 or
// more); x-size, the image's size over 64 MiB (the goal for 100 tasks is
// 1.05 or less); and, for 100 tasks, x-onetask, their checkpoint's time
// over one task's (the goal is 1.2 or less). Restart is also set beside
// copying into memory allocated for it (x-alloc-copycrc), as a restart
// must: fresh pages cost their faults and zeroing, a reused buffer not.
func BenchmarkMemory(b *testing.B) {
	one := memoryWorld(b, 1)
	src, dst := make([]byte, memBytes), make([]byte, memBytes)
	baseline := func() { _ = copyCRC(src, dst) }
	// What a restart must do at the least: the pages into new memory.
	allocBaseline := func() { _ = copyCRC(src, make([]byte, memBytes)) }
	checkpointOne := func() {
		if _, err := ckpt.New(one).Checkpoint(1, io.Discard, 0); err != nil {
			b.Fatal(err)
		}
	}
	for _, tasks := range []int{1, 100} {
		k := one
		if tasks > 1 {
			k = memoryWorld(b, tasks)
		}
		img := checkpointOf(b, k)
		// The collection the world's building started finishes here, not
		// in the CPU time of the rounds.
		runtime.GC()
		name := map[int]string{1: "1task", 100: "100tasks"}[tasks]
		b.Run(name+"/checkpoint", func(b *testing.B) {
			ckptOnce := func() {
				if _, err := ckpt.New(k).Checkpoint(1, io.Discard, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(memBytes)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ckptOnce()
			}
			b.StopTimer()
			b.ReportMetric(1/medianRatio(3, ckptOnce, baseline), "x-copycrc")
			b.ReportMetric(float64(len(img))/memBytes, "x-size")
			if tasks > 1 {
				b.ReportMetric(medianRatio(3, ckptOnce, checkpointOne), "x-onetask")
			}
		})
		b.Run(name+"/restart", func(b *testing.B) {
			restartOnce := func() {
				if _, err := ckpt.New(kernel.New(kernel.Config{})).Restart(bytes.NewReader(img), 0); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(memBytes)
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				restartOnce()
			}
			b.StopTimer()
			b.ReportMetric(1/medianRatio(3, restartOnce, baseline), "x-copycrc")
			b.ReportMetric(1/medianRatio(3, restartOnce, allocBaseline), "x-alloc-copycrc")
		})
		if tasks > 1 {
			k.Thaw(1)
		}
	}
}

// vmaWorld is pid 1 with n one-page VMAs side by side, their protections
// alternating so that none merges, and no page written.
func vmaWorld(b *testing.B, n int) *kernel.Kernel {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(1, "init"); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		prot := mm.ProtRead
		if i%2 == 1 {
			prot |= mm.ProtWrite
		}
		addr := uint64(memBase + i*mm.PageSize)
		if _, err := k.Mmap(1, addr, mm.PageSize, int(prot), mm.MAP_PRIVATE|mm.MAP_ANONYMOUS|mm.MAP_FIXED, -1, 0); err != nil {
			b.Fatalf("VMA %d: %v", i, err)
		}
	}
	if err := k.Freeze(1); err != nil {
		b.Fatal(err)
	}
	return k
}

// BenchmarkMapCountLimit checkpoints a task at the map-count limit (65,000
// VMAs) and reports x-linear: its time per VMA over that of a task with
// 6,500 VMAs, in the same run (1 is linear).
func BenchmarkMapCountLimit(b *testing.B) {
	small, large := vmaWorld(b, 6500), vmaWorld(b, 65000)
	ckptOf := func(k *kernel.Kernel) func() {
		return func() {
			if _, err := ckpt.New(k).Checkpoint(1, io.Discard, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	took := timed(b.N, ckptOf(large))
	b.StopTimer()
	// The small world ten times for each large one: the same VMAs in all.
	b.ReportMetric(medianRatio(1, ckptOf(large), func() {
		for range 10 {
			ckptOf(small)()
		}
	}), "x-linear")
	b.ReportMetric(float64(took)/float64(b.N)/65000, "ns/vma")
}
