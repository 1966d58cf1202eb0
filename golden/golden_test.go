package golden_test

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/golden"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

var (
	update   = flag.Bool("update", false, "rewrite the golden images (make golden)")
	snapshot = flag.Bool("compat-snapshot", false, "keep the golden images and their scripts under testdata/compat/VERSION (make compat)")
)

const (
	scenarios = "../examples/scenarios"
	goldenDir = "testdata/golden"
	compatDir = "testdata/compat"
)

// scripts returns the scenario scripts, by base name.
func scripts(t *testing.T, dir string) map[string]string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(dir, "*.scn"))
	require.NoError(t, err)
	out := map[string]string{}
	for _, p := range paths {
		out[strings.TrimSuffix(filepath.Base(p), ".scn")] = p
	}
	return out
}

// fresh makes the images of every scenario script.
func fresh(t *testing.T) map[string]golden.Image {
	t.Helper()
	all := map[string]golden.Image{}
	byName := scripts(t, scenarios)
	require.GreaterOrEqual(t, len(byName), 15, "the scenarios in %s", scenarios)
	for _, base := range slices.Sorted(maps.Keys(byName)) {
		s, err := runner.ParseFile(byName[base])
		require.NoError(t, err)
		imgs, err := golden.Images(s, base)
		require.NoError(t, err, "%s", byName[base])
		require.NotEmpty(t, imgs, "%s takes no checkpoint that succeeds", byName[base])
		for _, img := range imgs {
			all[img.Name] = img
		}
	}
	return all
}

// TestGolden makes the image of every checkpoint of every scenario and
// compares it with its golden image, and the golden Show text with the
// image's: a format change shows here, record by record. With -update it
// rewrites them instead.
func TestGolden(t *testing.T) {
	imgs := fresh(t)
	if *update {
		writeGolden(t, imgs)
	}
	if *snapshot {
		writeCompat(t, imgs)
	}
	for _, name := range slices.Sorted(maps.Keys(imgs)) {
		img := imgs[name]
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(goldenDir, name)
			want, err := os.ReadFile(path)
			require.NoError(t, err, "no golden image: run `make golden` to make it")
			wantText, err := os.ReadFile(path + ".txt")
			require.NoError(t, err, "no golden Show text: run `make golden` to make it")
			if diff := golden.Compare(want, string(wantText), img.Data); diff != "" {
				t.Fatalf("%s (checkpoint at line %d of its script):\n%s\nIf the change is intended, run `make golden`, review the diff of %s, and see the version policy in ckpt/image/FORMAT.md.",
					path, img.Line, diff, goldenDir)
			}
			text, err := golden.Show(img.Data)
			require.NoError(t, err)
			assert.Equal(t, string(wantText), text, "%s.txt is not the image's Show text: the image is the same, its rendering changed; run `make golden`", path)
		})
	}
	// A golden image that no script makes any more is stale.
	stored, err := filepath.Glob(filepath.Join(goldenDir, "*.ckpt"))
	require.NoError(t, err)
	for _, p := range stored {
		_, ok := imgs[filepath.Base(p)]
		assert.True(t, ok, "%s: no scenario makes this image any more; `make golden` removes it", p)
	}
}

// writeGolden rewrites the golden directory from imgs.
func writeGolden(t *testing.T, imgs map[string]golden.Image) {
	t.Helper()
	require.NoError(t, os.RemoveAll(goldenDir))
	require.NoError(t, os.MkdirAll(goldenDir, 0o755))
	for name, img := range imgs {
		text, err := golden.Show(img.Data)
		require.NoError(t, err)
		path := filepath.Join(goldenDir, name)
		require.NoError(t, os.WriteFile(path, img.Data, 0o644))
		require.NoError(t, os.WriteFile(path+".txt", []byte(text), 0o644))
	}
	t.Logf("wrote %d golden images to %s", len(imgs), goldenDir)
}

// version is the format version the running code writes, as compat's
// directories name it.
var version = fmt.Sprintf("%d.%d", image.VersionMajor, image.VersionMinor)

// writeCompat keeps this version's images, with the scripts that made
// them, under testdata/compat/VERSION. It adds what is missing and never
// changes what is there: the images of a released version stay as that
// version wrote them, and one that differs now is a format change (or a
// changed script) that the version policy must settle, not this tool.
func writeCompat(t *testing.T, imgs map[string]golden.Image) {
	t.Helper()
	dir := filepath.Join(compatDir, version)
	require.NoError(t, os.MkdirAll(dir, 0o755))
	keep := func(name string, data []byte) {
		path := filepath.Join(dir, name)
		old, err := os.ReadFile(path)
		switch {
		case err == nil && !bytes.Equal(old, data):
			t.Fatalf("%s is kept already and differs from what the running code makes: compat images of a released version are never rewritten", path)
		case err != nil && !os.IsNotExist(err):
			t.Fatal(err)
		case err != nil:
			require.NoError(t, os.WriteFile(path, data, 0o644))
		}
	}
	byName := scripts(t, scenarios)
	for _, name := range slices.Sorted(maps.Keys(imgs)) {
		base := strings.SplitN(strings.TrimSuffix(name, ".ckpt"), ".", 2)[0]
		src, err := os.ReadFile(byName[base])
		require.NoError(t, err)
		keep(base+".scn", src)
		keep(name, imgs[name].Data)
	}
	t.Logf("kept the images of format %s in %s", version, dir)
}

// TestCompat restarts the image of every released format version with the
// running code, in a fresh kernel on the disk the script built. An image
// the version policy says this code reads (its own major, an older or equal
// minor) must give the world the script builds up to that checkpoint; any
// other must be refused with EINVAL, naming both versions.
func TestCompat(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(compatDir, "*"))
	require.NoError(t, err)
	require.NotEmpty(t, dirs, "no compat images: `make compat` keeps those of the current version")
	restarted := map[string]bool{}
	for _, dir := range dirs {
		v := filepath.Base(dir)
		for _, base := range slices.Sorted(maps.Keys(scripts(t, dir))) {
			t.Run(v+"/"+base, func(t *testing.T) {
				s, err := runner.ParseFile(filepath.Join(dir, base+".scn"))
				require.NoError(t, err)
				err = golden.Run(s, base, func(c golden.Checkpoint) error {
					path := filepath.Join(dir, c.Name)
					old, err := os.ReadFile(path)
					if err != nil {
						return err
					}
					restarted[path] = true
					major, minor := versionOf(t, old, v)
					assert.Equal(t, v, fmt.Sprintf("%d.%d", major, minor), "an image under compat/%s", v)
					return checkCompat(c, old, major, minor)
				})
				require.NoError(t, err)
			})
		}
	}
	// Every kept image must have been met: one no script line makes
	// would otherwise never be restarted.
	kept, err := filepath.Glob(filepath.Join(compatDir, "*", "*.ckpt"))
	require.NoError(t, err)
	require.NotEmpty(t, kept)
	for _, path := range kept {
		assert.True(t, restarted[path], "%s: no checkpoint of its script makes it, so it was never restarted", path)
	}
	t.Logf("%d images of %d format versions restarted", len(restarted), len(dirs))
}

// checkCompat restarts img, an image of format major.minor taken at
// checkpoint c of its script, in a fresh kernel on c's disk, and says
// whether what happens is what the version policy asks of this reader.
func checkCompat(c golden.Checkpoint, img []byte, major, minor int) error {
	k2 := kernel.New(kernel.Config{DiskFrom: c.Kernel})
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), 0)
	if major != image.VersionMajor || minor > image.VersionMinor {
		want := fmt.Sprintf("image format %d.%d, this reader reads %d.0 to %d.%d", major, minor, image.VersionMajor, image.VersionMajor, image.VersionMinor)
		if !errors.Is(err, errno.EINVAL) || !strings.Contains(err.Error(), want) {
			return fmt.Errorf("%s: restart of an image this reader must refuse: got %v, want EINVAL saying %q", c.Name, err, want)
		}
		return nil
	}
	switch {
	case err != nil:
		return fmt.Errorf("%s: restart: %w", c.Name, err)
	case root != c.Pid:
		return fmt.Errorf("%s: restart returned root %d, the script checkpointed %d", c.Name, root, c.Pid)
	}
	if err := k2.Check(); err != nil {
		return fmt.Errorf("%s: %w", c.Name, err)
	}
	if err := runner.EqualRestored(c.Kernel.View(), k2.View(), c.Pid); err != nil {
		return fmt.Errorf("%s (line %d): the restored world is not the script's: %w", c.Name, c.Line, err)
	}
	return nil
}

// TestCompatPolicy checks checkCompat itself on edited images: another
// major or a newer minor must be refused, and is; an image whose world is
// not the script's fails.
func TestCompatPolicy(t *testing.T) {
	s, err := runner.ParseFile(filepath.Join(scenarios, "06_pipe_bytes_in_flight.scn"))
	require.NoError(t, err)
	checked := false
	require.NoError(t, golden.Run(s, "06", func(c golden.Checkpoint) error {
		// At the first checkpoint, while the kernel is as it was taken.
		if !checked {
			checked = true
			checkCompatPolicy(t, c)
		}
		return nil
	}))
	require.True(t, checked)
}

func checkCompatPolicy(t *testing.T, c golden.Checkpoint) {
	edit := func(f func(recs []*image.Record)) []byte {
		recs, err := image.ReadAll(bytes.NewReader(c.Data))
		require.NoError(t, err)
		f(recs)
		return image.Encode(recs, true)
	}
	version := func(major, minor uint16) []byte {
		return edit(func(recs []*image.Record) {
			var h image.Header
			require.NoError(t, recs[0].Decode(&h))
			h.Major, h.Minor = major, minor
			require.NoError(t, recs[0].SetFixed(&h))
		})
	}
	assert.NoError(t, checkCompat(c, c.Data, image.VersionMajor, image.VersionMinor))
	assert.NoError(t, checkCompat(c, version(image.VersionMajor+1, 0), image.VersionMajor+1, 0), "a newer major is refused")
	assert.NoError(t, checkCompat(c, version(image.VersionMajor, image.VersionMinor+1), image.VersionMajor, image.VersionMinor+1), "a newer minor is refused")
	// A checker that let them restart would fail: claim they are readable.
	assert.Error(t, checkCompat(c, version(image.VersionMajor+1, 0), image.VersionMajor, image.VersionMinor))
	moved := edit(func(recs []*image.Record) {
		for _, r := range recs {
			if r.Type == vfs.RecPipeBuf {
				r.Tail = []byte("lo, World")
			}
		}
	})
	err := checkCompat(c, moved, image.VersionMajor, image.VersionMinor)
	assert.ErrorContains(t, err, "the restored world is not the script's")
	assert.ErrorContains(t, err, `buffer 0 bytes: "lo, world" != "lo, World"`)
}

// versionOf returns the format version in an image's header.
func versionOf(t *testing.T, img []byte, v string) (major, minor int) {
	t.Helper()
	rec, err := image.NewReader(bytes.NewReader(img)).Expect(image.TypeHeader)
	require.NoError(t, err)
	var h image.Header
	require.NoError(t, rec.Decode(&h))
	return int(h.Major), int(h.Minor)
}

// TestCompareSaysWhatMoved checks what a golden test failure says for the
// kinds of format change the harness exists to catch: a field's value, a
// record moved, and a golden image the running code can no longer read.
func TestCompareSaysWhatMoved(t *testing.T) {
	s, err := runner.ParseFile(filepath.Join(scenarios, "06_pipe_bytes_in_flight.scn"))
	require.NoError(t, err)
	imgs, err := golden.Images(s, "06")
	require.NoError(t, err)
	img := imgs[0].Data
	text, err := golden.Show(img)
	require.NoError(t, err)
	edit := func(f func(recs []*image.Record) []*image.Record) []byte {
		recs, err := image.ReadAll(bytes.NewReader(img))
		require.NoError(t, err)
		return image.Encode(f(recs), true)
	}
	find := func(recs []*image.Record, typ image.Type) int {
		for i, r := range recs {
			if r.Type == typ {
				return i
			}
		}
		t.Fatalf("no %v record", typ)
		return -1
	}
	assert.Empty(t, golden.Compare(img, text, img))

	// A field of the new image differs: the record and the field, old and new.
	moved := edit(func(recs []*image.Record) []*image.Record {
		i := find(recs, vfs.RecPipe)
		var p vfs.PipeRecord
		require.NoError(t, recs[i].Decode(&p))
		p.Bytes++
		require.NoError(t, recs[i].SetFixed(&p))
		return recs
	})
	diff := golden.Compare(img, text, moved)
	assert.Contains(t, diff, "~ PIPE       of pipe #3, record")
	assert.Contains(t, diff, "      Bytes: 9 -> 10\n")

	// Two records trade places: one removed, one added where it went.
	swapped := edit(func(recs []*image.Record) []*image.Record {
		i := find(recs, ckpt.RecTaskMM)
		recs[i], recs[i+1] = recs[i+1], recs[i]
		return recs
	})
	diff = golden.Compare(img, text, swapped)
	assert.Contains(t, diff, "- TASK_MM    of pid 1, record 19 at offset 808: MM=5(first)\n"+
		"+ TASK_MM    of pid 1, record 20 at offset 1608: MM=5(first)\n")

	// The golden image was written by a format this code cannot read (its
	// PIPE record two bytes longer, with a field the text shows): the
	// diff comes from the golden Show text.
	widened := edit(func(recs []*image.Record) []*image.Record {
		i := find(recs, vfs.RecPipe)
		recs[i].Fixed = append(recs[i].Fixed, 0, 0)
		return recs
	})
	oldText := strings.Replace(text, "PIPE             8  pipe #3        Buffers=1 Bytes=9", "PIPE            10  pipe #3        Buffers=1 Bytes=9 Wide=0", 1)
	require.NotEqual(t, text, oldText)
	diff = golden.Compare(widened, oldText, img)
	assert.Contains(t, diff, "the golden image cannot be read by this code (image offset")
	assert.Contains(t, diff, "      length: 10 -> 8\n      Wide: 0 -> (none)\n")
	assert.Contains(t, diff, "1 record differs\n")
}
