// Package cputime measures the CPU time this process spends, for the
// benchmarks that set the engine beside a baseline in one run. The machine
// the benchmarks run on is shared: wall time counts the time other work
// holds the cores, CPU time only what this process did (its garbage
// collector included, which is part of what an allocation costs).
package cputime

import (
	"sort"
	"syscall"
	"time"
)

// Now returns the CPU time, user and system, that the process has used
// so far, across all its threads.
func Now() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err) // RUSAGE_SELF with a valid pointer cannot fail
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Of runs f n times and returns the CPU time that took.
func Of(n int, f func()) time.Duration {
	start := Now()
	for range n {
		f()
	}
	return Now() - start
}

// Median returns the median of xs (the mean of the middle two for an even
// count), or 0 for none; xs is left as it was.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// MaxRSS returns the process's peak resident set size so far, in bytes
// (getrusage's ru_maxrss, which Linux gives in KiB).
func MaxRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru.Maxrss << 10
}
