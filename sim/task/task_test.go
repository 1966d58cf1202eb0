package task_test

import (
	"errors"
	"sort"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// world is a registry with a disk holding one regular file and a directory,
// to open files on.
type world struct {
	reg *kref.Registry
	fs  *vfs.FS
}

func newWorld(t require.TestingT) *world {
	reg := kref.NewRegistry()
	fs := vfs.New(reg)
	require.NoError(t, fs.WriteFile("/f", []byte("data"), 0644))
	require.NoError(t, fs.Mkdir(fs.Root(), fs.Root(), "/d", 0755))
	require.NoError(t, fs.Mkdir(fs.Root(), fs.Root(), "/e", 0755))
	return &world{reg: reg, fs: fs}
}

func (w *world) dentry(t require.TestingT, path string) *vfs.Dentry {
	d, err := w.fs.Lookup(w.fs.Root(), w.fs.Root(), path)
	require.NoError(t, err)
	return d
}

// file opens /f: a new file with one reference, the caller's.
func (w *world) file(t require.TestingT) *vfs.File {
	f, err := w.fs.Open(w.fs.Root(), w.fs.Root(), "/f", vfs.O_RDONLY, 0)
	require.NoError(t, err)
	return f
}

// baseline is the registry of a world with nothing open: the tree only.
func (w *world) baseline() kref.Snapshot { return w.reg.Snapshot() }

func TestAlloc(t *testing.T) {
	for _, tc := range []struct {
		name       string
		install    []int
		remove     []int
		min, limit int
		want       int // -1: EMFILE
	}{
		{"empty", nil, nil, 0, 10, 0},
		{"empty, with a minimum", nil, nil, 5, 10, 5},
		{"lowest free", []int{0, 1, 2}, nil, 0, 10, 3},
		{"a hole", []int{0, 2}, nil, 0, 10, 1},
		{"a hole below the minimum", []int{0, 2}, nil, 2, 10, 3},
		{"open above only", []int{5}, nil, 0, 10, 0},
		{"skips open slots from the minimum", []int{1, 2, 3, 5}, nil, 2, 10, 4},
		{"beyond the table's current size", []int{0, 1, 2, 3, 4, 5, 6, 7}, nil, 0, 100, 8},
		{"freed slot reused", []int{0, 1, 2, 3}, []int{1}, 0, 10, 1},
		{"lowest of two freed", []int{0, 1, 2, 3}, []int{3, 1}, 0, 10, 1},
		{"freed below the minimum is not used", []int{0, 1, 2, 3}, []int{1}, 2, 10, 4},
		{"full up to the limit", []int{0, 1, 2}, nil, 0, 3, -1},
		{"last slot below the limit", []int{0, 1}, nil, 0, 3, 2},
		{"full above the minimum", []int{2, 3}, nil, 2, 4, -1},
		{"minimum at the limit", nil, nil, 3, 3, -1},
		{"minimum beyond the limit", nil, nil, 9, 3, -1},
		{"limit zero", nil, nil, 0, 0, -1},
		{"a freed slot under a full limit", []int{0, 1, 2}, []int{0}, 0, 3, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t)
			tab := task.NewFileTable(w.reg)
			defer tab.Put()
			for _, fd := range tc.install {
				tab.Install(fd, w.file(t), false)
			}
			for _, fd := range tc.remove {
				f, err := tab.Remove(fd)
				require.NoError(t, err)
				f.Put()
			}
			fd, err := tab.Alloc(tc.min, tc.limit)
			if tc.want < 0 {
				assert.ErrorIs(t, err, errno.EMFILE)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.want, fd)
			again, err := tab.Alloc(tc.min, tc.limit)
			require.NoError(t, err)
			assert.Equal(t, fd, again, "Alloc reserves nothing")
		})
	}
}

func TestInstallRemoveAndLookups(t *testing.T) {
	w := newWorld(t)
	base := w.baseline()
	tab := task.NewFileTable(w.reg)
	assert.Equal(t, 0, tab.Len())
	assert.Empty(t, tab.Fds())
	assert.Equal(t, int64(1), tab.Refs())

	a, b := w.file(t), w.file(t)
	tab.Install(3, a, true)
	tab.Install(20, b, false) // far beyond the table's size: it grows
	assert.Equal(t, 2, tab.Len())
	assert.Equal(t, []int{3, 20}, tab.Fds())
	got, err := tab.File(3)
	require.NoError(t, err)
	assert.Same(t, a, got)
	assert.Equal(t, int64(1), a.Refs(), "Install takes over the caller's reference")
	assert.True(t, tab.CloseOnExec(3))
	assert.False(t, tab.CloseOnExec(20))

	for _, fd := range []int{-1, 0, 2, 4, 19, 21, 1000} {
		_, err := tab.File(fd)
		assert.ErrorIs(t, err, errno.EBADF, "File(%d)", fd)
		_, err = tab.Remove(fd)
		assert.ErrorIs(t, err, errno.EBADF, "Remove(%d)", fd)
		assert.ErrorIs(t, tab.SetCloseOnExec(fd, true), errno.EBADF, "SetCloseOnExec(%d)", fd)
		assert.False(t, tab.CloseOnExec(fd), "CloseOnExec(%d)", fd)
	}
	assert.Equal(t, 2, tab.Len(), "failed calls change nothing")

	require.NoError(t, tab.SetCloseOnExec(20, true))
	assert.True(t, tab.CloseOnExec(20))
	require.NoError(t, tab.SetCloseOnExec(3, false))
	assert.False(t, tab.CloseOnExec(3))
	require.NoError(t, tab.SetCloseOnExec(20, true))

	extra := w.file(t)
	assert.Panics(t, func() { tab.Install(3, extra, false) }, "over an open descriptor")
	assert.Panics(t, func() { tab.Install(-1, extra, false) }, "at a negative descriptor")
	assert.Equal(t, []int{3, 20}, tab.Fds())
	got, _ = tab.File(3)
	assert.Same(t, a, got, "a refused Install leaves the slot alone")
	extra.Put()

	f, err := tab.Remove(20)
	require.NoError(t, err)
	assert.Same(t, b, f)
	assert.Equal(t, int64(1), b.Refs(), "the reference passes to the caller")
	assert.False(t, tab.CloseOnExec(20), "a freed slot's close-on-exec bit is cleared")
	tab.Install(20, f, false)
	assert.False(t, tab.CloseOnExec(20))
	assert.Equal(t, []int{3, 20}, tab.Fds())

	tab.Put()
	assert.Equal(t, "", base.Diff(w.reg.Snapshot()), "the last Put closes both files")
}

func TestCopyTakesReferences(t *testing.T) {
	w := newWorld(t)
	base := w.baseline()
	tab := task.NewFileTable(w.reg)
	a, b := w.file(t), w.file(t)
	tab.Install(0, a, false)
	b.Get()
	tab.Install(1, b, true) // one file at two descriptors
	tab.Install(4, b, false)

	c := tab.Copy(w.reg)
	assert.NotSame(t, tab, c)
	assert.Equal(t, int64(1), c.Refs())
	assert.Equal(t, 2, w.reg.Count(kref.FileTable))
	assert.Equal(t, tab.Fds(), c.Fds())
	assert.Equal(t, tab.Len(), c.Len())
	for _, fd := range tab.Fds() {
		f1, _ := tab.File(fd)
		f2, _ := c.File(fd)
		assert.Same(t, f1, f2, "fd %d: the same open file", fd)
		assert.Equal(t, tab.CloseOnExec(fd), c.CloseOnExec(fd), "fd %d", fd)
	}
	assert.Equal(t, int64(2), a.Refs(), "one reference per slot holding it")
	assert.Equal(t, int64(4), b.Refs())

	// The two tables are independent.
	fd, err := c.Alloc(0, 100)
	require.NoError(t, err)
	assert.Equal(t, 2, fd, "the copy allocates as the original would")
	c.Install(fd, w.file(t), false)
	f, err := c.Remove(0)
	require.NoError(t, err)
	f.Put()
	require.NoError(t, c.SetCloseOnExec(1, false))
	assert.Equal(t, []int{0, 1, 4}, tab.Fds())
	assert.True(t, tab.CloseOnExec(1))
	assert.Equal(t, []int{1, 2, 4}, c.Fds())
	fd, err = tab.Alloc(0, 100)
	require.NoError(t, err)
	assert.Equal(t, 2, fd)
	fd, err = c.Alloc(0, 100)
	require.NoError(t, err)
	assert.Equal(t, 0, fd)

	tab.Put()
	assert.Equal(t, int64(2), b.Refs(), "the copy still holds its references")
	assert.Equal(t, 2, w.reg.Count(kref.File), "a was closed by the copy's Remove and the original's Put")
	c.Put()
	assert.Equal(t, "", base.Diff(w.reg.Snapshot()), "nothing left")
}

func TestPutClosesEveryFile(t *testing.T) {
	w := newWorld(t)
	base := w.baseline()
	tab := task.NewFileTable(w.reg)
	r, wr := vfs.NewPipeFiles(w.reg, 0)
	tab.Install(0, r, false)
	tab.Install(1, wr, true)
	f := w.file(t)
	f.Get()
	tab.Install(2, f, false)
	tab.Install(9, f, false)
	dir, err := w.fs.Open(w.fs.Root(), w.fs.Root(), "/d", vfs.O_RDONLY, 0)
	require.NoError(t, err)
	tab.Install(5, dir, false)

	tab.Get() // shared, as with CLONE_FILES
	tab.Put()
	assert.Equal(t, 4, w.reg.Count(kref.File), "a reference remains: nothing closed")
	assert.Equal(t, int64(2), w.dentry(t, "/f").Refs(), "the tree and the one open file")

	tab.Put()
	assert.Equal(t, "", base.Diff(w.reg.Snapshot()), "the last Put closes every file, and so the pipe")
	assert.Equal(t, int64(1), w.dentry(t, "/f").Refs())
	assert.Equal(t, int64(1), w.dentry(t, "/d").Refs())
}

// TestFreeHintAgainstModel installs and removes descriptors at random,
// copies the table now and then, and checks every allocation against the
// lowest free descriptor of a plain map.
func TestFreeHintAgainstModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := newWorld(t)
		base := w.baseline()
		limit := rapid.IntRange(1, 20).Draw(t, "limit")
		tab := task.NewFileTable(w.reg)
		model := map[int]*vfs.File{}
		cloexec := map[int]bool{}
		lowest := func(min int) int {
			for fd := min; fd < limit; fd++ {
				if model[fd] == nil {
					return fd
				}
			}
			return -1
		}
		for i := rapid.IntRange(0, 80).Draw(t, "steps"); i > 0; i-- {
			switch rapid.IntRange(0, 5).Draw(t, "op") {
			case 0, 1: // alloc and install, as open and dup
				min := rapid.IntRange(0, limit+1).Draw(t, "min")
				fd, err := tab.Alloc(min, limit)
				want := lowest(min)
				if want < 0 {
					if !errors.Is(err, errno.EMFILE) {
						t.Fatalf("Alloc(%d, %d) = %d, %v; model: EMFILE", min, limit, fd, err)
					}
					continue
				}
				if err != nil || fd != want {
					t.Fatalf("Alloc(%d, %d) = %d, %v; model: %d", min, limit, fd, err, want)
				}
				ce := rapid.Bool().Draw(t, "cloexec")
				f := w.file(t)
				tab.Install(fd, f, ce)
				model[fd], cloexec[fd] = f, ce
			case 2: // install at a chosen free slot, as dup2
				fd := rapid.IntRange(0, limit+4).Draw(t, "dup2 fd")
				if model[fd] != nil {
					continue
				}
				f := w.file(t)
				tab.Install(fd, f, false)
				model[fd], cloexec[fd] = f, false
			case 3, 4:
				fd := rapid.IntRange(-1, limit+4).Draw(t, "remove fd")
				f, err := tab.Remove(fd)
				if model[fd] == nil {
					if !errors.Is(err, errno.EBADF) {
						t.Fatalf("Remove(%d) = %v; model: EBADF", fd, err)
					}
					continue
				}
				if err != nil || f != model[fd] {
					t.Fatalf("Remove(%d) = %v, %v; model: file %d", fd, f, err, model[fd].ID())
				}
				f.Put()
				delete(model, fd)
				delete(cloexec, fd)
			case 5: // fork: the copy carries on
				c := tab.Copy(w.reg)
				tab.Put()
				tab = c
			}
			var want []int
			for fd := range model {
				want = append(want, fd)
			}
			sort.Ints(want)
			if got := tab.Fds(); !equalInts(got, want) {
				t.Fatalf("Fds() = %v; model %v", got, want)
			}
			if tab.Len() != len(model) {
				t.Fatalf("Len() = %d; model %d", tab.Len(), len(model))
			}
			for fd, f := range model {
				if got, err := tab.File(fd); err != nil || got != f {
					t.Fatalf("File(%d) = %v, %v", fd, got, err)
				}
				if tab.CloseOnExec(fd) != cloexec[fd] {
					t.Fatalf("CloseOnExec(%d) = %v; model %v", fd, tab.CloseOnExec(fd), cloexec[fd])
				}
				if f.Refs() != 1 {
					t.Fatalf("file at %d has %d references, want 1", fd, f.Refs())
				}
			}
		}
		tab.Put()
		if d := base.Diff(w.reg.Snapshot()); d != "" {
			t.Fatalf("left alive after the last Put:\n%s", d)
		}
	})
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFSStateReferences(t *testing.T) {
	w := newWorld(t)
	base := w.baseline()
	root, d, e := w.fs.Root(), w.dentry(t, "/d"), w.dentry(t, "/e")

	s := task.NewFSState(w.reg, root, d)
	assert.Same(t, root, s.Root())
	assert.Same(t, d, s.Cwd())
	assert.Equal(t, int64(1), s.Refs())
	assert.Equal(t, int64(2), root.Refs())
	assert.Equal(t, int64(2), d.Refs())

	for _, tc := range []struct {
		to           *vfs.Dentry
		rootRefs     int64
		dRefs, eRefs int64
	}{
		{to: e, rootRefs: 2, dRefs: 1, eRefs: 2},
		{to: e, rootRefs: 2, dRefs: 1, eRefs: 2}, // to where it is already
		{to: root, rootRefs: 3, dRefs: 1, eRefs: 1},
		{to: d, rootRefs: 2, dRefs: 2, eRefs: 1},
	} {
		s.Chdir(tc.to)
		assert.Same(t, tc.to, s.Cwd())
		assert.Same(t, root, s.Root(), "chdir leaves the root")
		assert.Equal(t, tc.rootRefs, root.Refs(), "chdir %s: root", tc.to.Path())
		assert.Equal(t, tc.dRefs, d.Refs(), "chdir %s: /d", tc.to.Path())
		assert.Equal(t, tc.eRefs, e.Refs(), "chdir %s: /e", tc.to.Path())
	}

	c := s.Copy(w.reg)
	assert.NotSame(t, s, c)
	assert.Same(t, root, c.Root())
	assert.Same(t, d, c.Cwd())
	assert.Equal(t, int64(3), root.Refs())
	assert.Equal(t, int64(3), d.Refs())
	assert.Equal(t, 2, w.reg.Count(kref.FSState))
	c.Chdir(e)
	assert.Same(t, d, s.Cwd(), "a copy's chdir is its own")

	s.Get() // shared, as with CLONE_FS
	s.Put()
	assert.Equal(t, int64(2), d.Refs(), "still held")
	s.Put()
	assert.Equal(t, int64(1), d.Refs())
	assert.Equal(t, int64(2), root.Refs(), "the copy holds the root")
	c.Put()
	assert.Equal(t, "", base.Diff(w.reg.Snapshot()))
}

func TestTruncComm(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"init", "init"},
		{"fifteen-bytes-x", "fifteen-bytes-x"},
		{"sixteen-bytes-xy", "sixteen-bytes-x"},
		{"a-much-longer-command-name", "a-much-longer-c"},
		{"ééééééééé", "ééééééé\xc3"}, // bytes, not runes, as Linux keeps them
		{"init\x00x", "init"},        // a C string ends at its NUL
		{"\x00", ""},
	} {
		got := task.TruncComm(tc.in)
		assert.Equal(t, tc.want, got, "%q", tc.in)
		assert.LessOrEqual(t, len(got), task.CommLen-1)
	}
	assert.Equal(t, 16, task.CommLen)
}

func newTask(t *testing.T, w *world, pid int, comm string) *task.Task {
	t.Helper()
	root := w.fs.Root()
	return task.New(w.reg, pid, comm, task.NewFileTable(w.reg), task.NewFSState(w.reg, root, root), x86cpu.Default())
}

func TestNewTaskAndComm(t *testing.T) {
	w := newWorld(t)
	tk := newTask(t, w, 7, "a-very-long-command")
	assert.Equal(t, 7, tk.Pid())
	assert.Equal(t, "a-very-long-com", tk.Comm())
	assert.Equal(t, task.Running, tk.State())
	assert.Nil(t, tk.Parent())
	assert.Empty(t, tk.Children())
	assert.NotNil(t, tk.Files())
	assert.NotNil(t, tk.FS())
	assert.Equal(t, x86cpu.Default(), tk.Regs())
	assert.Equal(t, int64(1), tk.Refs())
	tk.SetComm("0123456789abcdefghij")
	assert.Equal(t, "0123456789abcde", tk.Comm())
	tk.SetComm("x")
	assert.Equal(t, "x", tk.Comm())
	r := x86cpu.Default()
	r.Regs.Rax = 42
	tk.SetRegs(r)
	assert.Equal(t, uint64(42), tk.Regs().Regs.Rax)
}

func TestStateString(t *testing.T) {
	assert.Equal(t, "running", task.Running.String())
	assert.Equal(t, "frozen", task.Frozen.String())
	assert.Equal(t, "zombie", task.Zombie.String())
	assert.Equal(t, "state 7", task.State(7).String())
}

func TestExit(t *testing.T) {
	for _, tc := range []struct{ code, want int }{
		{0, 0}, {3, 3}, {255, 255}, {256, 0}, {300, 44}, {-1, 255}, {-256, 0},
	} {
		w := newWorld(t)
		base := w.baseline()
		tk := newTask(t, w, 1, "x")
		tk.Files().Install(0, w.file(t), false)
		tk.FS().Chdir(w.dentry(t, "/d"))
		tk.Exit(tc.code)
		assert.Equal(t, task.Zombie, tk.State())
		assert.Equal(t, tc.want, tk.ExitCode(), "exit(%d)", tc.code)
		assert.Nil(t, tk.Files())
		assert.Nil(t, tk.FS())
		tk.Put()
		assert.Equal(t, "", base.Diff(w.reg.Snapshot()), "exit(%d) lets go of everything", tc.code)
	}
}

func TestExitWithSharedTables(t *testing.T) {
	w := newWorld(t)
	a := newTask(t, w, 1, "a")
	a.Files().Install(0, w.file(t), false)
	files, fs := a.Files(), a.FS()
	files.Get()
	fs.Get()
	b := task.New(w.reg, 2, "b", files, fs, x86cpu.Default())
	a.Exit(0)
	assert.Equal(t, int64(1), files.Refs())
	assert.Equal(t, int64(1), fs.Refs())
	f, err := b.Files().File(0)
	require.NoError(t, err, "the sharer's files stay open")
	assert.Equal(t, int64(1), f.Refs())
	b.Exit(0)
	assert.Equal(t, 0, w.reg.Count(kref.File))
	assert.Equal(t, 0, w.reg.Count(kref.FileTable))
	assert.Equal(t, 0, w.reg.Count(kref.FSState))
	a.Put()
	b.Put()
	assert.Equal(t, 0, w.reg.Count(kref.Task))
}

func TestSetFilesAndFS(t *testing.T) {
	w := newWorld(t)
	tk := newTask(t, w, 1, "x")
	old := tk.Files()
	old.Install(0, w.file(t), false)
	tk.SetFiles(task.NewFileTable(w.reg))
	assert.NotSame(t, old, tk.Files())
	assert.Equal(t, 1, w.reg.Count(kref.FileTable), "the old table was dropped")
	assert.Equal(t, 0, w.reg.Count(kref.File), "and its files closed")
	oldFS := tk.FS()
	tk.SetFS(task.NewFSState(w.reg, w.fs.Root(), w.dentry(t, "/e")))
	assert.NotSame(t, oldFS, tk.FS())
	assert.Equal(t, 1, w.reg.Count(kref.FSState))
	assert.Equal(t, int64(2), w.fs.Root().Refs())
}

func TestChildren(t *testing.T) {
	w := newWorld(t)
	p := newTask(t, w, 1, "p")
	a, b, c := newTask(t, w, 2, "a"), newTask(t, w, 3, "b"), newTask(t, w, 4, "c")
	pids := func() []int {
		var out []int
		for _, x := range p.Children() {
			out = append(out, x.Pid())
		}
		return out
	}
	p.AddChild(a)
	p.AddChild(b)
	p.AddChild(c)
	assert.Equal(t, []int{2, 3, 4}, pids(), "in creation order")
	for _, x := range []*task.Task{a, b, c} {
		assert.Same(t, p, x.Parent())
	}
	p.RemoveChild(b)
	assert.Equal(t, []int{2, 4}, pids(), "order kept")
	assert.Nil(t, b.Parent())
	assert.Same(t, p, a.Parent())
	assert.Panics(t, func() { p.RemoveChild(b) }, "not a child any more")
	assert.Panics(t, func() { a.RemoveChild(c) }, "a sibling is not a child")
	p.RemoveChild(c)
	p.RemoveChild(a)
	assert.Empty(t, p.Children())
	p.AddChild(b)
	assert.Equal(t, []int{3}, pids())
}
