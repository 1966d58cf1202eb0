package ckpt_test

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"runtime"
	"strings"
	"testing"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/internal/cputime"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The benchmarks of this file measure the engine against what the same
// work costs at best, in the same run, and report the ratio (issue 16):
// bulk bytes against copying them once and computing their CRC32C, a flat
// world against gob encoding and decoding the same information. A ratio
// is what matters: the machine's speed and load cancel out of it.

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// bytesWorld builds a world whose image is mostly bulk bytes: four
// unlinked files of 16 MiB, or 256 full pipes (16 MiB in all).
func bytesWorld(b *testing.B, shape string) (*kernel.Kernel, int) {
	k := kernel.New(kernel.Config{})
	must := func(err error) {
		if err != nil {
			b.Fatal(err)
		}
	}
	_, err := k.Spawn(1, "init")
	must(err)
	total := 0
	switch shape {
	case "ghosts":
		data := bytes.Repeat([]byte("ghost contents. "), (16<<20)/16)
		for i := range 4 {
			name := fmt.Sprintf("/ghost%d", i)
			fd, err := k.Open(1, name, vfs.O_RDWR|vfs.O_CREAT, 0o600)
			must(err)
			_, err = k.Write(1, fd, data)
			must(err)
			must(k.Unlink(1, name))
			total += len(data)
		}
	case "pipes":
		page := bytes.Repeat([]byte("p"), vfs.PipeCapacity)
		for range 256 {
			fds, err := k.Pipe2(1, 0)
			must(err)
			n, err := k.Write(1, fds[1], page)
			must(err)
			total += n
		}
	}
	must(k.Freeze(1))
	return k, total
}

// copyCRC is the baseline of the bytes benchmarks: n bytes copied once,
// from one buffer to another, with their CRC32C.
func copyCRC(src, dst []byte) uint32 {
	copy(dst, src)
	return crc32.Checksum(dst, castagnoli)
}

// BenchmarkBytes checkpoints and restarts worlds of bulk bytes and reports
// their speed as a ratio of copying the same bytes once with their CRC32C
// (x-copycrc: 1 is as fast as that, 0.5 half as fast; the goal is 0.5 or
// more), the median of five rounds alternating the two in CPU time, and
// the bytes allocated per data byte (alloc/byte; the goal is 0 for
// checkpoint, 1 for restart, whose new buffers are the one copy). Restart
// is also set beside allocating the buffer the bytes go to before the copy
// (x-alloc-copycrc), as a restart must: a fresh buffer costs its page
// faults and its zeroing, which the plain copy's reused buffer does not.
func BenchmarkBytes(b *testing.B) {
	for _, shape := range []string{"ghosts", "pipes"} {
		k, total := bytesWorld(b, shape)
		var buf bytes.Buffer
		if _, err := ckpt.New(k).Checkpoint(1, &buf, 0); err != nil {
			b.Fatal(err)
		}
		image := bytes.Clone(buf.Bytes())
		src, dst := make([]byte, total), make([]byte, total)
		baseline := func() { _ = copyCRC(src, dst) }
		allocBaseline := func() { _ = copyCRC(src, make([]byte, total)) }
		allocPerByte := func(f func()) float64 {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			f()
			runtime.ReadMemStats(&after)
			return float64(after.TotalAlloc-before.TotalAlloc) / float64(total)
		}
		b.Run(shape+"/checkpoint", func(b *testing.B) {
			out := bytes.NewBuffer(make([]byte, 0, len(image)))
			ckptOnce := func() {
				out.Reset()
				if _, err := ckpt.New(k).Checkpoint(1, out, 0); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				ckptOnce()
			}
			b.StopTimer()
			b.ReportMetric(1/medianRatio(3, ckptOnce, baseline), "x-copycrc")
			b.ReportMetric(allocPerByte(ckptOnce), "alloc/byte")
		})
		b.Run(shape+"/restart", func(b *testing.B) {
			restartOnce := func() {
				k2 := kernel.New(kernel.Config{})
				if _, err := ckpt.New(k2).Restart(bytes.NewReader(image), 0); err != nil {
					b.Fatal(err)
				}
			}
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				restartOnce()
			}
			b.StopTimer()
			b.ReportMetric(1/medianRatio(3, restartOnce, baseline), "x-copycrc")
			b.ReportMetric(1/medianRatio(3, restartOnce, allocBaseline), "x-alloc-copycrc")
			b.ReportMetric(allocPerByte(restartOnce), "alloc/byte")
		})
	}
}

// flatWorld is one task with a table of nfds descriptors: one file in
// five is a dup, so nfiles is 4/5 of them, each a regular file of its own
// path at its own position.
func flatWorld(nfds int) string {
	var s strings.Builder
	s.WriteString("spawn 1 init\n")
	openFiles(&s, 1, nfds)
	return s.String()
}

// openFiles has pid open nfds descriptors, one in five a dup.
func openFiles(s *strings.Builder, pid, nfds int) {
	for fd := range nfds {
		if fd%5 == 4 {
			fmt.Fprintf(s, "dup %d %d\n", pid, fd-1)
		} else {
			fmt.Fprintf(s, "open %d /f%d O_RDWR|O_CREAT 0644\n", pid, fd)
		}
	}
}

// sharedWorld is 64 tasks over 8 file tables of nfds descriptors each:
// pid 1 opens them, forks 7 children (each a table of its own over the
// same files), and each of the 8 clones 7 tasks that share its table.
func sharedWorld(nfds int) string {
	var s strings.Builder
	s.WriteString("spawn 1 init\n")
	openFiles(&s, 1, nfds)
	leaders := []int{1}
	for pid := 2; pid <= 8; pid++ {
		fmt.Fprintf(&s, "fork 1 %d\n", pid)
		leaders = append(leaders, pid)
	}
	next := 9
	for _, l := range leaders {
		for range 7 {
			fmt.Fprintf(&s, "clone %d %d CLONE_FILES|CLONE_FS\n", l, next)
			next++
		}
	}
	return s.String()
}

// gobWorld is the same information as an image of one of these worlds,
// as plain Go values: what gob encodes and decodes as the baseline.
type gobWorld struct {
	Tasks  []gobTask
	Tables [][]gobFd
	Files  []gobFile
}

type gobTask struct {
	Pid, PPid, Table int
	Comm             string
}

type gobFd struct {
	Fd, File int
	Cloexec  bool
}

type gobFile struct {
	Type, Flags, Mode int
	Pos               int64
	Version, Changes  uint64
	Size              int64
	Path              string
}

func gobOf(v *kernel.View) gobWorld {
	var w gobWorld
	files := map[uint64]int{}
	tables := map[uint64]int{}
	for _, t := range v.Tasks {
		ti, ok := tables[t.FileTable]
		if !ok {
			ti = len(w.Tables)
			tables[t.FileTable] = ti
			var fds []gobFd
			for _, d := range v.FileTables[t.FileTable].Fds {
				i, ok := files[d.File]
				if !ok {
					f := v.Files[d.File]
					i = len(w.Files)
					files[d.File] = i
					w.Files = append(w.Files, gobFile{Type: int(f.Type), Flags: f.Flags, Mode: int(f.Mode), Pos: f.Pos,
						Version: f.Version, Changes: f.Inode.Changes, Size: f.Inode.Size, Path: f.Path})
				}
				fds = append(fds, gobFd{Fd: d.Fd, File: i, Cloexec: d.CloseOnExec})
			}
			w.Tables = append(w.Tables, fds)
		}
		w.Tasks = append(w.Tasks, gobTask{Pid: t.Pid, PPid: t.PPid, Table: ti, Comm: t.Comm})
	}
	return w
}

// medianRatio times engine and baseline alternately, n runs each, in five
// rounds, and returns the median of the rounds' ratios (engine over
// baseline). Alternating puts both under the same load of a shared
// machine, CPU time leaves out what other work takes of it, and the median
// leaves out a round that a burst of it disturbed all the same.
func medianRatio(n int, engine, baseline func()) float64 {
	var rs []float64
	for range 5 {
		e := timed(n, engine)
		rs = append(rs, float64(e)/float64(timed(n, baseline)))
	}
	return cputime.Median(rs)
}

// allocsPer returns the heap allocations of one run of f, per object.
func allocsPer(objects int, f func()) float64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return float64(after.Mallocs-before.Mallocs) / float64(objects)
}

// BenchmarkWorlds checkpoints and restarts worlds of many descriptors and
// reports the time against gob encoding and decoding the same information
// (x-gob: below 1 is faster than gob), with and without the copy of the
// disk each restart is given (x-gob-no-disk; kernel.New's copy is not the
// engine's work), the checkpoint alone against gob's encoding
// (x-gob-ckpt), and the allocations per object (descriptors and files) of
// checkpoint and of restart. flat is one task with 12,560 descriptors
// (10,048 files); shared is 64 tasks over 8 tables of 2,560 descriptors
// (2,048 files shared by all the tables).
func BenchmarkWorlds(b *testing.B) {
	for _, w := range []struct {
		name   string
		script string
		n      int // runs per round
	}{
		{"flat", flatWorld(12560), 5},
		{"shared", sharedWorld(2560), 5},
	} {
		b.Run(w.name, func(b *testing.B) {
			k := world(b, w.script)
			if err := k.Freeze(1); err != nil {
				b.Fatal(err)
			}
			v := k.View()
			g := gobOf(v)
			objects := len(v.Files)
			for _, ft := range v.FileTables {
				objects += len(ft.Fds)
			}
			var buf bytes.Buffer
			ckptOnce := func() {
				buf.Reset()
				if _, err := ckpt.New(k).Checkpoint(1, &buf, 0); err != nil {
					b.Fatal(err)
				}
			}
			disks := make(chan *kernel.Kernel, 1)
			disk := func() { disks <- kernel.New(kernel.Config{DiskFrom: k}) }
			restartOn := func(k2 *kernel.Kernel) {
				if _, err := ckpt.New(k2).Restart(bytes.NewReader(buf.Bytes()), 0); err != nil {
					b.Fatal(err)
				}
			}
			both := func() { ckptOnce(); disk(); restartOn(<-disks) }
			var encoded bytes.Buffer
			gobEncode := func() {
				encoded.Reset()
				if err := gob.NewEncoder(&encoded).Encode(&g); err != nil {
					b.Fatal(err)
				}
			}
			gobBoth := func() {
				gobEncode()
				var back gobWorld
				if err := gob.NewDecoder(&encoded).Decode(&back); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				both()
			}
			b.StopTimer()
			// Five rounds, each timing the engine, the disk copy alone
			// and gob alternately: x-gob-no-disk is the engine's time
			// less the copy's, in the same round.
			var withDisk, noDisk []float64
			for range 5 {
				e := timed(w.n, both)
				d := timed(w.n, func() { disk(); <-disks })
				g := timed(w.n, gobBoth)
				withDisk = append(withDisk, float64(e)/float64(g))
				noDisk = append(noDisk, float64(e-d)/float64(g))
			}
			b.ReportMetric(cputime.Median(withDisk), "x-gob")
			b.ReportMetric(cputime.Median(noDisk), "x-gob-no-disk")
			b.ReportMetric(medianRatio(w.n, ckptOnce, gobEncode), "x-gob-ckpt")
			ckptOnce()
			b.ReportMetric(allocsPer(objects, ckptOnce), "ckpt-allocs/obj")
			disk()
			k2 := <-disks
			b.ReportMetric(allocsPer(objects, func() { restartOn(k2) }), "restart-allocs/obj")
			b.ReportMetric(float64(buf.Len()), "image-bytes")
			b.ReportMetric(float64(objects), "objects")
		})
	}
}
