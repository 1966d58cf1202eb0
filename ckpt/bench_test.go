package ckpt_test

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/internal/cputime"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// benchWorld is a container of 100 tasks: 50 share one file table of 100
// files (some dup'd, a pipe with bytes in flight, an unlinked file), 50
// are forked, each with a table of its own over the same files.
func benchWorld() string {
	var b strings.Builder
	b.WriteString("spawn 1 init\npipe 1 = 0 1\nwrite 1 1 \"in flight\" = 9\n")
	b.WriteString("open 1 /ghost O_RDWR|O_CREAT 0600 = 2\nwrite 1 2 \"contents\" = 8\nunlink 1 /ghost\n")
	for fd := 3; fd < 100; fd++ {
		if fd%4 == 0 {
			fmt.Fprintf(&b, "dup 1 %d = %d\n", fd-1, fd)
		} else {
			fmt.Fprintf(&b, "open 1 /f%d O_RDWR|O_CREAT 0644 = %d\n", fd, fd)
		}
	}
	for pid := 2; pid <= 50; pid++ {
		fmt.Fprintf(&b, "clone 1 %d CLONE_FILES|CLONE_FS\n", pid)
	}
	for pid := 51; pid <= 100; pid++ {
		fmt.Fprintf(&b, "fork 1 %d\n", pid)
	}
	return b.String()
}

// timed runs f n times and returns the CPU time that took: the machine is
// shared, and CPU time leaves out what other work takes of it.
func timed(n int, f func()) time.Duration { return cputime.Of(n, f) }

// BenchmarkCheckpoint times the checkpoint of benchWorld into io.Discard
// against the baseline of walking the same world once (kernel.View, which
// visits every task, table, file and pipe and copies their state), in the
// same run, and reports how many times the walk's cost checkpoint takes
// as x-view (the median of five alternating rounds, in CPU time). Its
// ns/op is the checkpoint's.
func BenchmarkCheckpoint(b *testing.B) {
	k := world(b, benchWorld())
	if err := k.Freeze(1); err != nil {
		b.Fatal(err)
	}
	ckpt := func() {
		if _, err := engine(k).Checkpoint(1, io.Discard, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		ckpt()
	}
	b.StopTimer()
	b.ReportMetric(medianRatio(20, ckpt, func() { _ = k.View() }), "x-view")
}

// BenchmarkRestart times the restart of benchWorld's image (with the copy
// of the disk each restart is given) against the baseline of building the
// same world through its system calls (the script run again on a fresh
// kernel), in the same run, and reports the ratio as x-syscalls (the
// median of five alternating rounds, in CPU time). Its ns/op is the
// restart's.
func BenchmarkRestart(b *testing.B) {
	script := benchWorld()
	k := world(b, script)
	img, err := checkpoint(b, k, 1, 0)
	if err != nil {
		b.Fatal(err)
	}
	restartOnce := func() {
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		if _, err := engine(k2).Restart(bytes.NewReader(img), 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		restartOnce()
	}
	b.StopTimer()
	b.ReportMetric(medianRatio(20, restartOnce, func() { world(b, script) }), "x-syscalls")
	b.ReportMetric(float64(len(img)), "image-bytes")
}
