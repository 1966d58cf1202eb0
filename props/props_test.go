package props

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
)

// The properties of ckptsim. Each runs rapid's default 100 checks under
// `go test ./...`; `make props` runs each 10,000 times. A failure prints the
// world as the scenario script that builds it, shrunk by rapid.

func clock() time.Time { return time.Unix(1700000000, 0) }

func engine(k *kernel.Kernel) *ckpt.Engine { return &ckpt.Engine{Kernel: k, Clock: clock} }

// smallOrLarge draws the shape of a world: mostly a few dozen calls, now
// and then with bulk steps that make hundreds of tasks or thousands of
// descriptors.
func smallOrLarge(t *rapid.T) *World {
	cfg := Config{Steps: 40, Limits: rapid.IntRange(0, 3).Draw(t, "small limits") == 0}
	if rapid.IntRange(0, 9).Draw(t, "large") == 0 {
		cfg.Large = true
	}
	w := Worlds(cfg).Draw(t, "world")
	if err := w.K.Check(); err != nil {
		t.Fatalf("the generator built an inconsistent world: %v\n%s", err, w.Script())
	}
	return w
}

// save freezes the container rooted at pid, checkpoints it and thaws it.
func save(k *kernel.Kernel, pid, flags int) ([]byte, error) {
	return engine(k).Snapshot(pid, flags)
}

// load restarts an image of w in a fresh kernel with w's limits on a copy
// of its disk.
func load(w *World, img []byte, flags int) (*kernel.Kernel, error) {
	k2 := w.NewKernel()
	_, err := engine(k2).Restart(bytes.NewReader(img), flags)
	return k2, err
}

// Property 1: restart(checkpoint(W)) is equivalent to W, and passes the
// kernel's own consistency check; with RESTART_FROZEN, every live task of
// the copy is frozen, as W's were when it was saved.
func TestRoundTripIsIdentity(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := smallOrLarge(t)
		img, err := save(w.K, 1, 0)
		if err != nil {
			t.Fatalf("checkpoint refused a container: %v\n%s", err, w.Script())
		}
		flags := rapid.SampledFrom([]int{0, ckpt.RESTART_FROZEN}).Draw(t, "restart flags")
		k2, err := load(w, img, flags)
		if err != nil {
			t.Fatalf("restart failed: %v\n%s", err, w.Script())
		}
		if err := k2.Check(); err != nil {
			t.Fatalf("the restored kernel is inconsistent: %v\n%s", err, w.Script())
		}
		if flags&ckpt.RESTART_FROZEN != 0 {
			if err := w.K.Freeze(1); err != nil {
				t.Fatal(err)
			}
		}
		if err := equiv.Equal(w.K.View(), k2.View()); err != nil {
			t.Fatalf("%v\nrestart flags %#x, world:\n%s", err, flags, w.Script())
		}
	})
}

// Property 1b: every frame is saved once: the page bytes of an image are
// 4096 times the distinct frames the container's address spaces and
// segments hold, however many pages map each (design 2.6, "saved once").
func TestPagesAreSavedOnce(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := Worlds(Config{Steps: 40}).Draw(t, "world")
		img, err := save(w.K, 1, 0)
		if err != nil {
			t.Fatalf("checkpoint refused a container: %v\n%s", err, w.Script())
		}
		recs, err := image.ReadAll(bytes.NewReader(img))
		if err != nil {
			t.Fatalf("reading the image back: %v", err)
		}
		saved := 0
		for _, r := range recs {
			if r.Type == mm.RecPages {
				saved += len(r.Tail)
			}
		}
		v := w.K.View()
		frames := map[uint64]bool{}
		for _, m := range v.MMs {
			for _, p := range m.Pages {
				frames[p.Frame] = true
			}
		}
		for _, s := range v.Segments {
			for _, p := range s.Frames {
				frames[p.Frame] = true
			}
		}
		if saved != len(frames)*mm.PageSize {
			t.Fatalf("%d page bytes saved for %d frames\n%s", saved, len(frames), w.Script())
		}
	})
}

// Property 2: checkpoint changes nothing: the world, every reference count
// and the registry of live objects are the same after it, whether it
// succeeded or was refused (a task of the container left running
// included).
func TestCheckpointChangesNothing(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := Worlds(Config{Steps: 40, Spread: true}).Draw(t, "world")
		refuse(t, w)
		pids := TopLevel(w.K)
		for _, tv := range w.K.View().Tasks {
			pids = append(pids, tv.Pid)
		}
		pid := rapid.SampledFrom(pids).Draw(t, "container")
		freeze(t, w, pid)
		view, live := w.K.View(), w.K.Registry().Snapshot()
		_, err := engine(w.K).Checkpoint(pid, &bytes.Buffer{}, rapid.SampledFrom([]int{0, ckpt.CHECKPOINT_SUBTREE}).Draw(t, "flags"))
		if diff := live.Diff(w.K.Registry().Snapshot()); diff != "" {
			t.Fatalf("checkpoint of %d (%v) changed reference counts:\n%s\n%s", pid, err, diff, w.Script())
		}
		if err := equiv.Equal(view, w.K.View()); err != nil {
			t.Fatalf("checkpoint of %d changed the world: %v\n%s", pid, err, w.Script())
		}
		if err := w.K.Check(); err != nil {
			t.Fatal(err)
		}
	})
}

// freeze freezes the container rooted at pid for a checkpoint, as the
// freezer does, after perhaps freezing one of its tasks on its own first;
// now and then it leaves one task of the container other than the root
// running (thawed), which checkpoint must refuse with EBUSY.
func freeze(t *rapid.T, w *World, pid int) {
	var inside []int
	var walk func(int)
	walk = func(p int) {
		tv := w.K.View().Task(p)
		if tv == nil {
			return
		}
		if p != pid && tv.FileTable != 0 {
			inside = append(inside, p)
		}
		for _, c := range tv.Children {
			walk(c)
		}
	}
	walk(pid)
	if len(inside) > 0 && rapid.IntRange(0, 3).Draw(t, "freeze a task first") == 0 {
		if err := w.K.Freeze(rapid.SampledFrom(inside).Draw(t, "frozen first")); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.K.Freeze(pid); err != nil {
		t.Fatal(err)
	}
	if len(inside) > 0 && rapid.IntRange(0, 5).Draw(t, "leave a task running") == 0 {
		if err := w.K.Thaw(rapid.SampledFrom(inside).Draw(t, "running")); err != nil {
			t.Fatal(err)
		}
	}
}

// refuse sometimes makes a world that a checkpoint must refuse, or one
// that looks as if it might: a file that holds a lock; a file whose owner
// is a live task, a zombie, a process group (F_SETOWN of a negative pid),
// or a task that exited and was reaped (F_GETOWN then reads 0, and
// checkpoint must judge the owner as the kernel reports it); a path one or
// two bytes longer than PATH_MAX-1 (ENAMETOOLONG).
func refuse(t *rapid.T, w *World) {
	live := liveOf(w.K)
	pid := rapid.SampledFrom(live).Draw(t, "refusing pid")
	fd := func() int { return anyFd(t, w.K, pid) }
	switch rapid.IntRange(0, 8).Draw(t, "refusal") {
	case 0:
		w.Exec(fmt.Sprintf("flock %d %d LOCK_SH|LOCK_NB", pid, fd()))
	case 1:
		w.Exec(fmt.Sprintf("fcntl %d %d F_SETOWN %d", pid, fd(), rapid.SampledFrom(live).Draw(t, "owner")))
	case 2:
		w.Exec(fmt.Sprintf("fcntl %d %d F_SETOWN -%d", pid, fd(), rapid.SampledFrom(live).Draw(t, "owner group")))
	case 3:
		// A child that owns the file, then exits: a zombie owner, or a
		// reaped one.
		child := 90000 + rapid.IntRange(0, 99).Draw(t, "owner child")
		if w.Exec(fmt.Sprintf("fork %d %d", pid, child)).Err != nil {
			return
		}
		w.Exec(fmt.Sprintf("fcntl %d %d F_SETOWN %d", pid, fd(), child))
		w.Exec(fmt.Sprintf("exit %d 0", child))
		if rapid.Bool().Draw(t, "reap the owner") {
			w.Exec(fmt.Sprintf("wait %d %d", pid, child))
		}
	case 4:
		DeepPath(w.Exec, pid, PathMax+rapid.IntRange(1, 2).Draw(t, "bytes over"), rapid.Bool().Draw(t, "leaf is a directory"))
	}
}
func liveOf(k *kernel.Kernel) []int {
	var out []int
	for _, tv := range k.View().Tasks {
		if tv.FileTable != 0 {
			out = append(out, tv.Pid)
		}
	}
	return out
}

func anyFd(t *rapid.T, k *kernel.Kernel, pid int) int {
	v := k.View()
	fds := []int{0}
	for _, d := range v.FileTables[v.Task(pid).FileTable].Fds {
		fds = append(fds, d.Fd)
	}
	return rapid.SampledFrom(fds).Draw(t, "fd")
}

// Property 3: with a fixed clock, checkpoint(restart(checkpoint(W))) is
// byte for byte checkpoint(W).
func TestCheckpointIsAFixpoint(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := smallOrLarge(t)
		img, err := save(w.K, 1, 0)
		if err != nil {
			t.Fatalf("checkpoint: %v\n%s", err, w.Script())
		}
		k2, err := load(w, img, 0)
		if err != nil {
			t.Fatalf("restart: %v\n%s", err, w.Script())
		}
		again, err := save(k2, 1, 0)
		if err != nil {
			t.Fatalf("second checkpoint: %v\n%s", err, w.Script())
		}
		if !bytes.Equal(img, again) {
			t.Fatalf("checkpoint(restart(image)) differs from the image (%d and %d bytes, first difference at byte %d)\n%s",
				len(img), len(again), firstDifference(img, again), w.Script())
		}
	})
}

func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// Property 4: checkpoint/restart is invisible to the program. Random system
// calls run on a reference world and on a migrating world that, at random
// steps, is replaced by restart(checkpoint(itself)) in a fresh kernel; every
// call returns the same result and errno on both.
func TestMigrationIsInvisible(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ref := &World{K: kernel.New(kernel.Config{})}
		mig := &World{K: kernel.New(kernel.Config{})}
		var script []string
		exec := func(line string) scenario.Outcome {
			a, b := ref.Exec(line), mig.Exec(line)
			script = append(script, ref.Lines[len(ref.Lines)-1])
			if !a.Equal(b) {
				t.Fatalf("%s: %s on the reference world, %s on the migrating one\nscript:\n%s",
					line, a, b, scriptText(script))
			}
			return a
		}
		b := NewBuilder(t, Config{Steps: 60}, ref.K, exec)
		migrations := 0
		for i := rapid.IntRange(1, 60).Draw(t, "steps"); i > 0; i-- {
			if rapid.IntRange(0, 5).Draw(t, "migrate") == 0 {
				img, err := save(mig.K, 1, 0)
				if err != nil {
					t.Fatalf("checkpoint: %v\nscript:\n%s", err, scriptText(script))
				}
				k2, _, err := engine(nil).RestartCopy(mig.K, img, 0)
				if err != nil {
					t.Fatalf("restart: %v\nscript:\n%s", err, scriptText(script))
				}
				mig.K = k2
				script = append(script, "checkpoint 1")
				migrations++
				continue
			}
			b.Step()
		}
		if err := equiv.Equal(ref.K.View(), mig.K.View()); err != nil {
			t.Fatalf("after %d migrations: %v\nscript:\n%s", migrations, err, scriptText(script))
		}
	})
}

func scriptText(lines []string) string {
	var b bytes.Buffer
	for _, l := range lines {
		b.WriteString(l + "\n")
	}
	return b.String()
}

// Property 5: refusals are exact and clean. A container is refused with
// EBUSY when one of its live tasks is not frozen; then with EBUSY exactly
// when it shares a file table, fs state, file, pipe or unlinked file with
// a task outside it (the model below says which, from the view); then, in
// the order checkpoint meets them, with EBADF for a file that holds a
// lock, EBUSY for one with an owner (as F_GETOWN reports it) and
// ENAMETOOLONG for a path longer than PATH_MAX-1; otherwise it is saved.
// Either way nothing leaks.
func TestRefusalsAreExact(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := Worlds(Config{Steps: 40, Spread: true}).Draw(t, "world")
		refuse(t, w)
		pid := rapid.SampledFrom(liveOf(w.K)).Draw(t, "container")
		freeze(t, w, pid)
		v := w.K.View()
		live := w.K.Registry().Snapshot()
		_, err := engine(w.K).Checkpoint(pid, &bytes.Buffer{}, 0)
		want, why := expectedRefusal(v, pid)
		switch {
		case want == 0 && err != nil:
			t.Fatalf("checkpoint of %d refused: %v\n%s", pid, err, w.Script())
		case want != 0 && !errors.Is(err, want):
			t.Fatalf("checkpoint of %d: got %v, want %v because %s\n%s", pid, err, want.Name(), why, w.Script())
		}
		if diff := live.Diff(w.K.Registry().Snapshot()); diff != "" {
			t.Fatalf("checkpoint of %d leaked: %s\n%s", pid, diff, w.Script())
		}
	})
}

// expectedRefusal says, from a view, how a checkpoint of the container
// rooted at pid must end: refused because a task is running (EBUSY), with
// a leak (EBUSY), a lock (EBADF), an owner (EBUSY) or a path too long
// (ENAMETOOLONG), or not refused (0); files reached through mappings count
// as those reached through descriptors. Running tasks come first, then
// leaks, as the engine's collect pass runs before anything is saved; the
// others in the order the image is written: tasks in preorder, each task's
// file table (its descriptors in order) before its fs state, each object's
// path at its first encounter, then the files only mappings reach. It is a
// model written from the view, independent of the engine's object hash.
func expectedRefusal(v *View, pid int) (errno.Errno, string) {
	var order []int // the container's tasks, in preorder
	var walk func(int)
	walk = func(p int) {
		order = append(order, p)
		for _, c := range v.Task(p).Children {
			walk(c)
		}
	}
	walk(pid)
	for _, p := range order {
		if v.Task(p).State == task.Running {
			return errno.EBUSY, fmt.Sprintf("pid %d is running", p)
		}
	}
	if why := leaks(v, order); why != "" {
		return errno.EBUSY, why
	}
	refused := func(f kernel.FileView, first bool) (errno.Errno, string) {
		switch {
		case f.Lock != 0:
			return errno.EBADF, fmt.Sprintf("file %d holds a lock", f.ID)
		case f.Owner != 0:
			return errno.EBUSY, fmt.Sprintf("file %d has owner %d", f.ID, f.Owner)
		case first && len(f.Path) > PathMax:
			return errno.ENAMETOOLONG, fmt.Sprintf("file %d has a %d-byte path", f.ID, len(f.Path))
		}
		return 0, ""
	}
	tables, fss, files := map[uint64]bool{}, map[uint64]bool{}, map[uint64]bool{}
	for _, p := range order {
		tv := v.Task(p)
		if tv.FileTable == 0 {
			continue
		}
		if !tables[tv.FileTable] {
			tables[tv.FileTable] = true
			for _, d := range v.FileTables[tv.FileTable].Fds {
				if e, why := refused(v.Files[d.File], !files[d.File]); e != 0 {
					return e, fmt.Sprintf("pid %d fd %d: %s", p, d.Fd, why)
				}
				files[d.File] = true
			}
		}
		if fs := v.FSStates[tv.FS]; !fss[tv.FS] {
			fss[tv.FS] = true
			if len(fs.Root) > PathMax || len(fs.Cwd) > PathMax {
				return errno.ENAMETOOLONG, fmt.Sprintf("pid %d works in a %d-byte path", p, len(fs.Cwd))
			}
		}
	}
	for _, p := range order {
		if tv := v.Task(p); tv.MM != 0 {
			for _, vma := range v.MMs[tv.MM].VMAs {
				if vma.File != 0 {
					if e, why := refused(v.Files[vma.File], !files[vma.File]); e != 0 {
						return e, fmt.Sprintf("pid %d, a mapping: %s", p, why)
					}
					files[vma.File] = true
				}
			}
		}
	}
	return 0, ""
}

// leaks is leak detection's model: it counts the references the
// container's tasks hold to each shared object, through descriptors and
// mappings, and names those that have more references in all.
func leaks(v *View, order []int) string {
	tables, fss, mms := map[uint64]int64{}, map[uint64]int64{}, map[uint64]int64{}
	for _, p := range order {
		if tv := v.Task(p); tv.FileTable != 0 {
			tables[tv.FileTable]++
			fss[tv.FS]++
			mms[tv.MM]++
		}
	}
	files := map[uint64]int64{}
	for id := range tables {
		for _, d := range v.FileTables[id].Fds {
			files[d.File]++
		}
	}
	// A VMA holds its file or segment; frames shared copy on write with
	// the outside are no leak.
	segments := map[uint64]int64{}
	for id := range mms {
		for _, vma := range v.MMs[id].VMAs {
			if vma.File != 0 {
				files[vma.File]++
			}
			if vma.Segment != 0 {
				segments[vma.Segment]++
			}
		}
	}
	pipes, ghosts, sockets := map[uint64]int64{}, map[uint64]int64{}, map[uint64]int64{}
	ghostRefs := map[uint64]int64{}
	for id := range files {
		f := v.Files[id]
		if f.Pipe != 0 {
			pipes[f.Pipe]++
		}
		if f.Socket != 0 {
			sockets[f.Socket]++
		}
		if f.Unlinked {
			ghosts[f.Inode.Ino]++
			ghostRefs[f.Inode.Ino] = f.Inode.DentryRefs
		}
	}
	var out []string
	check := func(kind string, counted map[uint64]int64, refs func(uint64) int64) {
		for id, n := range counted {
			if refs(id) != n {
				out = append(out, fmt.Sprintf("%s %d: %d refs, %d inside", kind, id, refs(id), n))
			}
		}
	}
	check("file table", tables, func(id uint64) int64 { return v.FileTables[id].Refs })
	check("fs state", fss, func(id uint64) int64 { return v.FSStates[id].Refs })
	check("file", files, func(id uint64) int64 { return v.Files[id].Refs })
	check("pipe", pipes, func(id uint64) int64 { return v.Pipes[id].Refs })
	check("socket pair", sockets, func(id uint64) int64 { return v.Sockets[id].Refs })
	check("mm", mms, func(id uint64) int64 { return v.MMs[id].Refs })
	check("segment", segments, func(id uint64) int64 { return v.Segments[id].Refs })
	check("ghost", ghosts, func(ino uint64) int64 { return ghostRefs[ino] })
	sort.Strings(out)
	return strings.Join(out, "; ")
}

// View is the kernel's view, named here for the model's signature.
type View = kernel.View

// Property 6: restart is all or nothing. Restart of a truncated image, or
// of one with bytes changed (and the checksum recomputed, to get past it),
// either fails, wrapping an errno, with the live-object registry as it was,
// or yields a world that passes the kernel's own consistency check and is
// the world the image describes: checkpointed again with the image's clock
// and flags, it gives the image back (SameImage). It never panics (a panic
// fails the check by itself).
func TestRestartIsAllOrNothing(t *testing.T) {
	accepted := 0
	rapid.Check(t, func(t *rapid.T) {
		w := Worlds(Config{Steps: 25}).Draw(t, "world")
		img, err := save(w.K, 1, 0)
		if err != nil {
			t.Fatalf("checkpoint: %v\n%s", err, w.Script())
		}
		bad := append([]byte(nil), img...)
		fixCRC, mustFail := true, false
		switch rapid.IntRange(0, 3).Draw(t, "damage") {
		case 0:
			bad = bad[:rapid.IntRange(0, len(bad)-1).Draw(t, "length")]
		case 1:
			for i := rapid.IntRange(1, 4).Draw(t, "flips"); i > 0; i-- {
				bad[rapid.IntRange(0, len(bad)-1).Draw(t, "at")] ^= byte(rapid.IntRange(1, 255).Draw(t, "bits"))
			}
		case 2:
			fixCRC = false
			bad[rapid.IntRange(0, len(bad)-25).Draw(t, "at")] ^= byte(rapid.IntRange(1, 255).Draw(t, "bits"))
		case 3:
			// Give a shared object the objref of one met before it: an image
			// no checkpoint writes, which restart must refuse.
			recs, _ := imgedit.Read(bad)
			var objrefs []*image.Record
			for _, r := range recs {
				if imgedit.Is(r, "OBJREF") {
					objrefs = append(objrefs, r)
				}
			}
			if len(objrefs) < 2 {
				return
			}
			i := rapid.IntRange(1, len(objrefs)-1).Draw(t, "objref record")
			imgedit.Set(objrefs[i], "Objref", imgedit.Get(objrefs[rapid.IntRange(0, i-1).Draw(t, "earlier")], "Objref"))
			bad, mustFail = image.Encode(recs, false), true
		}
		if fixCRC {
			if recs, err := imgedit.Read(bad); err == nil {
				bad = image.Encode(recs, true)
			}
		}
		k2 := w.NewKernel()
		before := k2.Registry().Snapshot()
		root, err := engine(k2).Restart(bytes.NewReader(bad), rapid.SampledFrom([]int{0, ckpt.RESTART_FROZEN}).Draw(t, "restart flags"))
		if err != nil {
			if _, ok := errno.Of(err); !ok {
				t.Fatalf("restart failed without an errno: %v", err)
			}
			if diff := before.Diff(k2.Registry().Snapshot()); diff != "" {
				t.Fatalf("a failed restart (%v) left objects behind:\n%s", err, diff)
			}
		} else if !fixCRC {
			t.Fatalf("restart accepted an image with a byte changed before its tail")
		} else if mustFail {
			t.Fatalf("restart accepted an image with a duplicate objref\n%s", w.Script())
		}
		if err := k2.Check(); err != nil {
			t.Fatalf("restart (%v) left the kernel inconsistent: %v\n%s", err, err, w.Script())
		}
		if err != nil {
			return
		}
		accepted++
		again, err := Reimage(k2, root, bad)
		if err != nil {
			t.Fatalf("restart accepted an altered image whose world checkpoint refuses: %v\n%s", err, w.Script())
		}
		if err := SameImage(bad, again); err != nil {
			t.Fatalf("restart accepted an altered image and restored another world: %v\n%s", err, w.Script())
		}
	})
	t.Logf("%d altered images accepted, and each checkpointed back to itself", accepted)
}

// Property 7: restart's limits are exact. An image restarts in a kernel
// whose nr_open is at least the descriptors of each of its file tables and
// whose RLIMIT_NOFILE is above each descriptor, and is refused with EMFILE
// otherwise, naming the first limit the image's order meets (a table's
// count before its descriptors). Worlds drawn with small limits sit at
// them: tables full to RLIMIT_NOFILE, RLIMIT_NOFILE often nr_open.
func TestRestartLimitsAreExact(t *testing.T) {
	outcomes := map[string]int{}
	rapid.Check(t, func(t *rapid.T) {
		w := Worlds(Config{Steps: 30, Limits: true}).Draw(t, "world")
		img, err := save(w.K, 1, 0)
		if err != nil {
			t.Fatalf("checkpoint: %v\n%s", err, w.Script())
		}
		// The largest table and the highest descriptor, and the
		// tables in the order the image holds them.
		v := w.K.View()
		most, highest := 0, -1
		var tables []uint64
		seen := map[uint64]bool{}
		var walk func(int)
		walk = func(p int) {
			tv := v.Task(p)
			if tv.FileTable != 0 && !seen[tv.FileTable] {
				seen[tv.FileTable] = true
				tables = append(tables, tv.FileTable)
				fds := v.FileTables[tv.FileTable].Fds
				most = max(most, len(fds))
				if len(fds) > 0 {
					highest = max(highest, fds[len(fds)-1].Fd)
				}
			}
			for _, c := range tv.Children {
				walk(c)
			}
		}
		walk(1)
		nrOpen := rapid.IntRange(max(1, most-1), most+1).Draw(t, "target nr_open")
		noFile := rapid.IntRange(max(1, highest), highest+2).Draw(t, "target RLIMIT_NOFILE")
		k2 := kernel.New(kernel.Config{NrOpen: nrOpen, NoFile: noFile, DiskFrom: w.K})
		noFile = k2.NoFile() // capped at nr_open
		want := ""
		for _, id := range tables {
			fds := v.FileTables[id].Fds
			if len(fds) > nrOpen {
				want = fmt.Sprintf("%d descriptors, nr_open is %d", len(fds), nrOpen)
				break
			}
			if i := slices.IndexFunc(fds, func(d kernel.FdView) bool { return d.Fd >= noFile }); i >= 0 {
				want = fmt.Sprintf("fd %d is beyond RLIMIT_NOFILE %d", fds[i].Fd, noFile)
				break
			}
		}
		_, err = engine(k2).Restart(bytes.NewReader(img), 0)
		switch {
		case want == "":
			outcomes["accepted"]++
		case strings.Contains(want, "nr_open"):
			outcomes["refused at nr_open"]++
		default:
			outcomes["refused at RLIMIT_NOFILE"]++
		}
		switch {
		case want == "" && err != nil:
			t.Fatalf("restart with nr_open %d and RLIMIT_NOFILE %d refused: %v\n%s", nrOpen, noFile, err, w.Script())
		case want != "" && (!errors.Is(err, errno.EMFILE) || !strings.Contains(err.Error(), want)):
			t.Fatalf("restart with nr_open %d and RLIMIT_NOFILE %d: got %v, want EMFILE: %s\n%s", nrOpen, noFile, err, want, w.Script())
		}
		if err := k2.Check(); err != nil {
			t.Fatal(err)
		}
	})
	t.Logf("outcomes: %v", outcomes)
}
