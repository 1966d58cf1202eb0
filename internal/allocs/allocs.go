// Package allocs measures the bytes a call allocates, and holds the fuzz
// targets to their stated bound: a linear function of the input's length,
// Base + PerByte*n. It is for tests only; it does not import package
// testing, so that nothing links it by accident.
//
// When the environment variable CKPTSIM_ALLOC_LOG names a file, Within
// appends a line there each time a process sees a new worst case: the
// highest ratio of bytes allocated to input length among inputs of at least
// 1 KiB (smaller ones only measure the fixed costs), and the most bytes
// allocated by one input. make fuzz collects them.
package allocs

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"sync"
)

// Bytes returns about the bytes f allocates on the heap, cheaply: it reads
// the runtime's cumulative count without stopping the world. The count
// moves a span at a time as each size class refills its cache, so it may be
// off by up to a few hundred KiB either way; Exact is exact and slower.
func Bytes(f func()) uint64 {
	sample := []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(sample)
	before := sample[0].Value.Uint64()
	f()
	metrics.Read(sample)
	return sample[0].Value.Uint64() - before
}

// Exact returns the bytes f allocates on the heap, from
// runtime.ReadMemStats, which stops the world to count every cache. In a
// fuzz worker only one input runs at a time, so the count is the input's.
func Exact(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// Bound is the most a call may allocate for an input of n bytes:
// Base + PerByte*n.
type Bound struct {
	Base, PerByte uint64
}

// Limit returns the bound for an input of n bytes.
func (b Bound) Limit(n int) uint64 { return b.Base + b.PerByte*uint64(n) }

// Fataler is what Check needs of a test.
type Fataler interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Within runs f, the work done for an input of n bytes, and fails t when
// it allocates more than the bound. f must do the same work each time it
// runs: it is measured cheaply (Bytes), and only when that measure is
// beyond the bound, or beyond the worst ratio this process has logged, is
// f run again and measured exactly (Exact), which decides.
func (b Bound) Within(t Fataler, what string, n int, f func()) {
	t.Helper()
	alloc := Bytes(f)
	if alloc <= b.Limit(n) && !worse(n, alloc) {
		return
	}
	alloc = Exact(f)
	note(what, n, alloc)
	if limit := b.Limit(n); alloc > limit {
		t.Fatalf("%s of %d bytes allocated %d bytes, more than its bound %d + %d*%d = %d",
			what, n, alloc, b.Base, b.PerByte, n, limit)
	}
}

var worst struct {
	sync.Mutex
	ratio float64
	bytes uint64
}

var logPath = os.Getenv("CKPTSIM_ALLOC_LOG")

// worse reports whether a cheap measure may be a new worst case to log.
func worse(n int, alloc uint64) bool {
	if logPath == "" {
		return false
	}
	worst.Lock()
	defer worst.Unlock()
	return n >= 1024 && float64(alloc)/float64(n) > worst.ratio || alloc > worst.bytes
}

func note(what string, n int, alloc uint64) {
	if logPath == "" {
		return
	}
	worst.Lock()
	defer worst.Unlock()
	var line string
	if r := float64(alloc) / float64(max(n, 1)); n >= 1024 && r > worst.ratio {
		worst.ratio = r
		line = fmt.Sprintf("%s ratio %.1f: %d bytes allocated for %d\n", what, r, alloc, n)
	}
	if alloc > worst.bytes {
		worst.bytes = alloc
		line += fmt.Sprintf("%s most %d bytes allocated, for %d\n", what, alloc, n)
	}
	if line == "" {
		return
	}
	if f, err := os.OpenFile(logPath, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprint(f, line)
		f.Close()
	}
}
