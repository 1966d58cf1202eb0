package ckpt_test

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/golden"
	"github.com/ckptsim/ckptsim/internal/allocs"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// Restart of arbitrary bytes, as a native Go fuzz target. Each input is an
// image and the number of the disk to restart it on: the disks are those
// the golden images were taken on (each example script's disk at each of
// its checkpoints), so that the regular files and FIFOs a golden image
// names are there and the fuzzer gets past them. Each input is restarted
// as it is and, when its records can be read, once more with its tail's
// checksum recomputed, so that the fuzzer reaches the checks behind the
// checksum.
//
//	go test -run XXX -fuzz FuzzRestart -fuzztime 5m ./ckpt
//
// The seeds are every golden image, plain and compressed, and every image
// kept of an older
// format version (golden/testdata/compat), each on its own disk (added at
// run time, so they follow the format), and the inputs kept in
// testdata/fuzz/FuzzRestart.

// goldenDisk is a golden image and the kernel it was taken in.
type goldenDisk struct {
	name string
	img  []byte
	k    *kernel.Kernel
}

var goldenDisks = sync.OnceValues(func() ([]goldenDisk, error) {
	golden, err := scriptDisks(filepath.Join("..", "examples", "scenarios"), "", nil)
	if err != nil {
		return nil, err
	}
	// The images kept of older format versions, each on the disk its
	// script built, for the reader's conversions.
	versions, err := filepath.Glob(filepath.Join("..", "golden", "testdata", "compat", "*"))
	if err != nil {
		return nil, err
	}
	for _, dir := range versions {
		old, err := scriptDisks(dir, filepath.Base(dir)+"/", func(name string) ([]byte, error) {
			return os.ReadFile(filepath.Join(dir, name))
		})
		if err != nil {
			return nil, err
		}
		golden = append(golden, old...)
	}
	return golden, nil
})

// scriptDisks runs every script of dir and returns, for each checkpoint it
// takes, the image and a copy of the disk at that moment, named prefix +
// the image's name. stored, when not nil, gives the image kept under that
// name instead of the one the running code makes.
func scriptDisks(dir, prefix string, stored func(name string) ([]byte, error)) ([]goldenDisk, error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.scn"))
	if err != nil {
		return nil, err
	}
	byName := map[string]goldenDisk{}
	for _, p := range paths {
		s, err := runner.ParseFile(p)
		if err != nil {
			return nil, err
		}
		err = golden.Run(s, strings.TrimSuffix(filepath.Base(p), ".scn"), func(c golden.Checkpoint) error {
			img := c.Data
			if stored != nil {
				var err error
				if img, err = stored(c.Name); err != nil {
					return err
				}
			}
			// The disk as the checkpoint saw it: the script goes on.
			byName[prefix+c.Name] = goldenDisk{name: prefix + c.Name, img: img, k: kernel.New(kernel.Config{DiskFrom: c.Kernel})}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	var out []goldenDisk
	for _, name := range slices.Sorted(maps.Keys(byName)) {
		out = append(out, byName[name])
	}
	return out, nil
}

func disks(t testing.TB) []goldenDisk {
	t.Helper()
	d, err := goldenDisks()
	require.NoError(t, err)
	require.NotEmpty(t, d)
	return d
}

// restartAllocs bounds what one restart may allocate, in bytes, for an
// input of n bytes (n the plain length of a compressed image: plainLen):
// 1 MiB + 1024*n. The base covers the restart's fixed
// costs, the copy of the (small) disk it restarts on, and one read-ahead of
// a long record (a reader allocates at most 64 KiB ahead of the bytes
// present). The slope covers what each byte can
// bring: a file table stores its descriptors densely up to the highest, as
// Linux's does, so one FD record of fd 65535 (RLIMIT_NOFILE-1) costs 65536
// slots, about 590 KB; a table must be used by the TASK_OBJS record right
// after it, so each costs a task of its own, whose REGS record alone is
// 800 bytes, which makes at most about 650 bytes allocated per byte of
// image. Everything else is linear with a small factor (a pipe buffer's
// page: 4096 bytes for a 24-byte record).
var restartAllocs = allocs.Bound{Base: 1 << 20, PerByte: 1024}

// zstdRestartAllocs is restartAllocs for a compressed image: the
// decompressor's window, image.ZstdWindow (1 MiB), comes on top of the
// base.
var zstdRestartAllocs = allocs.Bound{Base: 3 << 20, PerByte: 1024}

// restartChecked restarts img in a fresh kernel on disk's disk and checks
// what restart promises of any input: no panic; a refusal wraps an errno
// and leaves the kernel's registry as it was and its check passing; an
// acceptance gives a consistent kernel whose container checkpoints back to
// the image (props.SameImage); and the bytes allocated stay within the
// linear bound. It returns whether restart accepted the image.
func restartChecked(t testing.TB, disk *kernel.Kernel, img []byte) bool {
	t.Helper()
	var k2 *kernel.Kernel
	var before kref.Snapshot
	var root int
	var err error
	bound := restartAllocs
	if imgedit.Compressed(img) {
		bound = zstdRestartAllocs
	}
	bound.Within(t, "restart", plainLen(img), func() {
		k2 = kernel.New(kernel.Config{DiskFrom: disk})
		before = k2.Registry().Snapshot()
		root, err = ckpt.New(k2).Restart(bytes.NewReader(img), ckpt.RESTART_FROZEN)
	})
	if err := k2.Check(); err != nil {
		t.Fatalf("restart (%v) left the kernel inconsistent: %v", err, err)
	}
	if err != nil {
		if _, ok := errno.Of(err); !ok {
			t.Fatalf("restart failed without an errno: %v", err)
		}
		if diff := before.Diff(k2.Registry().Snapshot()); diff != "" {
			t.Fatalf("a refused restart (%v) left objects behind:\n%s", err, diff)
		}
		return false
	}
	again, err := props.Reimage(k2, root, img)
	if err != nil {
		t.Fatalf("restart accepted an image whose world checkpoint refuses: %v", err)
	}
	if err := props.SameImage(img, again); err != nil {
		t.Fatalf("restart accepted an image and restored another world: %v", err)
	}
	return true
}

// plainLen is the length the restart allocations are bounded by: the
// input's, or for a compressed image (FlagZstd) that of its records as the
// decompressor gives them, when longer. Compression makes the bound on the
// input's own length impossible: a 2.4 KB compressed image holds an
// unlinked file of 16 MiB of zeros, which restart must allocate (52 MB
// measured, each byte of contents held about three times on the way).
func plainLen(img []byte) int {
	if !imgedit.Compressed(img) {
		return len(img)
	}
	recs, _ := imgedit.Read(img)
	if len(recs) == 0 {
		return len(img)
	}
	return max(len(img), int(recs[len(recs)-1].End()))
}

// withCRC returns img with its tail's checksum recomputed, or nil when its
// records cannot be read up to a tail. A compressed image stays
// compressed: its checksum is that of its plain records.
func withCRC(img []byte) []byte {
	recs, err := imgedit.Read(img)
	if err != nil || len(recs) == 0 || !imgedit.Is(recs[len(recs)-1], "TAIL") {
		return nil
	}
	out := encodeAs(recs, imgedit.Compressed(img))
	if imgedit.Compressed(img) {
		return out // the decompressor read an unknown length of the rest
	}
	// Whatever followed the tail follows it still.
	return append(out, img[min(int(recs[len(recs)-1].End()), len(img)):]...)
}

// encodeAs writes records as an image, the tail's checksum recomputed,
// compressed (the header plain, the rest one zstd frame) or not.
func encodeAs(recs []*image.Record, compress bool) []byte {
	plain := image.Encode(recs, true)
	if !compress {
		return plain
	}
	n := int(recs[0].End())
	var out bytes.Buffer
	out.Write(plain[:n])
	enc, err := zstd.NewWriter(&out, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(image.ZstdWindow))
	if err != nil {
		panic(err)
	}
	enc.Write(plain[n:])
	enc.Close()
	return out.Bytes()
}

// compressed returns a plain image compressed, as a checkpoint with
// Engine.Compress writes it.
func compressed(img []byte) []byte {
	recs, err := imgedit.Read(img)
	if err != nil {
		panic(err)
	}
	imgedit.Set(recs[0], "Flags", imgedit.Get(recs[0], "Flags")|image.FlagZstd)
	return encodeAs(recs, true)
}

func FuzzRestart(f *testing.F) {
	for i, d := range disks(f) {
		f.Add(d.img, uint8(i))
		f.Add(compressed(d.img), uint8(i))
	}
	f.Fuzz(func(t *testing.T, img []byte, disk uint8) {
		ds := disks(t)
		k := ds[int(disk)%len(ds)].k
		restartChecked(t, k, img)
		if fixed := withCRC(img); fixed != nil && !bytes.Equal(fixed, img) {
			restartChecked(t, k, fixed)
		}
	})
}

// TestFuzzCorpusDisks makes sure the fuzz target starts where it should:
// every golden image, and every image kept of an older format version,
// restarts on its own disk and checkpoints back to itself, and each golden
// one is the image the golden directory holds.
func TestFuzzCorpusDisks(t *testing.T) {
	ds := disks(t)
	stored, err := filepath.Glob(filepath.Join("..", "golden", "testdata", "golden", "*.ckpt"))
	require.NoError(t, err)
	kept, err := filepath.Glob(filepath.Join("..", "golden", "testdata", "compat", "*", "*.ckpt"))
	require.NoError(t, err)
	require.Len(t, ds, len(stored)+len(kept), "one disk for each golden and each kept image")
	for _, d := range ds {
		if !strings.Contains(d.name, "/") {
			want, err := os.ReadFile(filepath.Join("..", "golden", "testdata", "golden", d.name))
			require.NoError(t, err)
			require.Equal(t, want, d.img, "%s is not its golden image", d.name)
		}
		require.True(t, restartChecked(t, d.k, d.img), "%s does not restart on its disk", d.name)
	}
}
