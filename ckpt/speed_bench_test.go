package ckpt_test

import (
	"bytes"
	"encoding/gob"
	"fmt"
	"hash/crc32"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
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
// more) and the bytes allocated per data byte (alloc/byte).
func BenchmarkBytes(b *testing.B) {
	for _, shape := range []string{"ghosts", "pipes"} {
		k, total := bytesWorld(b, shape)
		img, err := ckpt.New(k).Checkpoint(1, io.Discard, 0)
		_ = img
		if err != nil {
			b.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := ckpt.New(k).Checkpoint(1, &buf, 0); err != nil {
			b.Fatal(err)
		}
		image := bytes.Clone(buf.Bytes())
		src, dst := make([]byte, total), make([]byte, total)
		baseline := func(n int) time.Duration {
			return timed(n, func() { _ = copyCRC(src, dst) })
		}
		b.Run(shape+"/checkpoint", func(b *testing.B) {
			out := bytes.NewBuffer(make([]byte, 0, len(image)))
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			took := timed(b.N, func() {
				out.Reset()
				if _, err := ckpt.New(k).Checkpoint(1, out, 0); err != nil {
					b.Fatal(err)
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(baseline(b.N))/float64(took), "x-copycrc")
		})
		b.Run(shape+"/restart", func(b *testing.B) {
			b.SetBytes(int64(total))
			b.ReportAllocs()
			b.ResetTimer()
			took := timed(b.N, func() {
				k2 := kernel.New(kernel.Config{})
				if _, err := ckpt.New(k2).Restart(bytes.NewReader(image), 0); err != nil {
					b.Fatal(err)
				}
			})
			b.StopTimer()
			b.ReportMetric(float64(baseline(b.N))/float64(took), "x-copycrc")
		})
	}
}

// flatWorld is one task with a table of nfds descriptors: one file in
// five is a dup, so nfiles is 4/5 of them, each a regular file of its own
// path at its own position.
func flatWorld(nfds int) string {
	var s strings.Builder
	s.WriteString("spawn 1 init\n")
	for fd := range nfds {
		if fd%5 == 4 {
			fmt.Fprintf(&s, "dup 1 %d\n", fd-1)
		} else {
			fmt.Fprintf(&s, "open 1 /f%d O_RDWR|O_CREAT 0644\n", fd)
		}
	}
	return s.String()
}

// gobWorld is the same information as a flat world's image, as plain Go
// values: what gob encodes and decodes as the baseline.
type gobWorld struct {
	Pid   int
	Comm  string
	Fds   []gobFd
	Files []gobFile
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
	w := gobWorld{Pid: 1, Comm: "init"}
	index := map[uint64]int{}
	for _, ft := range v.FileTables {
		for _, d := range ft.Fds {
			i, ok := index[d.File]
			if !ok {
				f := v.Files[d.File]
				i = len(w.Files)
				index[d.File] = i
				w.Files = append(w.Files, gobFile{Type: int(f.Type), Flags: f.Flags, Mode: int(f.Mode), Pos: f.Pos,
					Version: f.Version, Changes: f.Inode.Changes, Size: f.Inode.Size, Path: f.Path})
			}
			w.Fds = append(w.Fds, gobFd{Fd: d.Fd, File: i, Cloexec: d.CloseOnExec})
		}
	}
	return w
}

// BenchmarkFlatWorld checkpoints and restarts one task with 12,560
// descriptors (10,048 files) and reports the time against gob encoding and
// decoding the same information (x-gob: below 1 is faster than gob).
func BenchmarkFlatWorld(b *testing.B) {
	k := world(b, flatWorld(12560))
	if err := k.Freeze(1); err != nil {
		b.Fatal(err)
	}
	w := gobOf(k.View())
	var buf bytes.Buffer
	b.ReportAllocs()
	b.ResetTimer()
	took := timed(b.N, func() {
		buf.Reset()
		if _, err := ckpt.New(k).Checkpoint(1, &buf, 0); err != nil {
			b.Fatal(err)
		}
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		if _, err := ckpt.New(k2).Restart(bytes.NewReader(buf.Bytes()), 0); err != nil {
			b.Fatal(err)
		}
	})
	b.StopTimer()
	disk := timed(b.N, func() { kernel.New(kernel.Config{DiskFrom: k}) })
	gobbed := timed(b.N, func() {
		var g bytes.Buffer
		if err := gob.NewEncoder(&g).Encode(&w); err != nil {
			b.Fatal(err)
		}
		var back gobWorld
		if err := gob.NewDecoder(&g).Decode(&back); err != nil {
			b.Fatal(err)
		}
	})
	b.ReportMetric(float64(took)/float64(gobbed), "x-gob")
	b.ReportMetric(float64(took-disk)/float64(gobbed), "x-gob-no-disk")
	b.ReportMetric(float64(buf.Len()), "image-bytes")
}
