package mm

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The scripts in scenario/testdata/linux (m*.scn) pin the system calls to
// Linux's answers line by line; these tests cover what a script cannot
// reach: placement without hints, the map-count limit, frames and map
// counts, FOLL_FORCE, the restart constructors, and the invariant check.

const rw = ProtRead | ProtWrite

type world struct {
	reg *kref.Registry
	fs  *vfs.FS
	m   *MM
}

func newWorld(t *testing.T, maxMapCount int) *world {
	reg := kref.NewRegistry()
	w := &world{reg: reg, fs: vfs.New(reg), m: New(reg, maxMapCount)}
	t.Cleanup(func() {
		if w.m != nil {
			w.check(t)
		}
	})
	return w
}

func (w *world) check(t *testing.T) {
	t.Helper()
	assert.Empty(t, w.m.Check())
}

func (w *world) anon(t *testing.T, addr, length uint64, prot Prot, flags int) uint64 {
	t.Helper()
	a, err := w.m.Mmap(MmapArgs{Addr: addr, Length: length, Prot: prot, Flags: flags | MAP_ANONYMOUS})
	require.NoError(t, err)
	return a
}

func (w *world) file(t *testing.T, path, contents string, flags int) *vfs.File {
	t.Helper()
	require.NoError(t, w.fs.WriteFile(path, []byte(contents), 0o644))
	f, err := w.fs.Open(w.fs.Root(), w.fs.Root(), path, flags, 0)
	require.NoError(t, err)
	t.Cleanup(f.Put)
	return f
}

func (w *world) store(t *testing.T, m *MM, addr uint64, s string) {
	t.Helper()
	n, err := m.Access(addr, []byte(s), true, Remote)
	require.NoError(t, err)
	require.Equal(t, len(s), n)
}

func (w *world) load(t *testing.T, m *MM, addr uint64, n int) string {
	t.Helper()
	buf := make([]byte, n)
	got, err := m.Access(addr, buf, false, Remote)
	require.NoError(t, err)
	return string(buf[:got])
}

// lines returns every VMA's maps line.
func (w *world) lines(m *MM) []string {
	var out []string
	for _, v := range m.VMAs() {
		out = append(out, m.Line(v, w.fs.Root()))
	}
	return out
}

func TestPlacement(t *testing.T) {
	w := newWorld(t, 0)
	a := w.anon(t, 0, PageSize, ProtRead, MAP_PRIVATE)
	assert.Equal(t, MmapBase-PageSize, a, "the first mapping is right below mmap_base")
	b := w.anon(t, 0, 3*PageSize, ProtRead|ProtExec, MAP_PRIVATE)
	assert.Equal(t, a-3*PageSize, b, "the next one below it")
	c := w.anon(t, 0x10000000, PageSize, ProtRead, MAP_PRIVATE)
	assert.EqualValues(t, 0x10000000, c, "a free hint is honoured")
	d := w.anon(t, 0x10000000, PageSize, ProtExec, MAP_PRIVATE)
	assert.Equal(t, b-PageSize, d, "an occupied hint is not: the highest free range below mmap_base")
	e := w.anon(t, 0x1000, PageSize, ProtRead, MAP_PRIVATE)
	assert.Equal(t, MmapMinAddr, e, "a hint below mmap_min_addr is raised to it")
	f := w.anon(t, TaskSize, PageSize, ProtExec, MAP_PRIVATE)
	assert.Equal(t, d-PageSize, f, "a hint past user space is ignored")
	g := w.anon(t, 0, PageSize, ProtRead, MAP_PRIVATE|MAP_FIXED)
	assert.Zero(t, g, "MAP_FIXED may go below mmap_min_addr")

	// Below mmap_base full: placement looks up from TASK_UNMAPPED_BASE.
	w.anon(t, MmapMinAddr, MmapBase-MmapMinAddr, 0, MAP_PRIVATE|MAP_FIXED|MAP_NORESERVE)
	h := w.anon(t, 0, PageSize, ProtRead, MAP_PRIVATE)
	assert.Equal(t, MmapBase, h)
	w.anon(t, MmapBase, TaskSize-MmapBase, 0, MAP_PRIVATE|MAP_FIXED|MAP_NORESERVE)
	_, err := w.m.Mmap(MmapArgs{Length: PageSize, Prot: ProtRead, Flags: MAP_PRIVATE | MAP_ANONYMOUS})
	assert.ErrorIs(t, err, errno.ENOMEM, "nothing free between mmap_min_addr and TASK_SIZE")
}

// Linux 6.18 measured: a new mapping is allowed while the count is at most
// vm.max_map_count; a split needs the count below it; cutting a VMA short
// needs no new VMA.
func TestMapCountLimit(t *testing.T) {
	const max = 6
	w := newWorld(t, max)
	mmapAt := func(i int) error {
		_, err := w.m.Mmap(MmapArgs{Addr: 0x10000000 + uint64(i)*2*PageSize, Length: PageSize, Prot: ProtRead,
			Flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE})
		return err
	}
	for i := range max + 1 {
		require.NoError(t, mmapAt(i), "mapping %d", i)
	}
	assert.Equal(t, max+1, w.m.MapCount(), "one past the limit")
	assert.ErrorIs(t, mmapAt(max+1), errno.ENOMEM)
	_, err := w.m.Mmap(MmapArgs{Addr: 0x10000000 + PageSize, Length: PageSize, Prot: ProtRead, Flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE})
	assert.ErrorIs(t, err, errno.ENOMEM, "even one that would merge")
	assert.Equal(t, w.m.Brk(StartBrk+10), StartBrk, "brk too")

	require.NoError(t, w.m.Munmap(0x10000000, PageSize))
	require.NoError(t, w.m.Munmap(0x10000000+2*PageSize, PageSize))
	big := w.anon(t, 0x20000000, 3*PageSize, rw, MAP_PRIVATE|MAP_FIXED_NOREPLACE)
	assert.Equal(t, max, w.m.MapCount())
	assert.ErrorIs(t, w.m.Munmap(big+PageSize, PageSize), errno.ENOMEM, "a split at the limit")
	assert.ErrorIs(t, w.m.Mprotect(big+PageSize, PageSize, int(ProtRead)), errno.ENOMEM)
	assert.ErrorIs(t, w.m.Madvise(big, PageSize, MADV_RANDOM), errno.EAGAIN, "madvise says EAGAIN")
	assert.NoError(t, w.m.Mprotect(big, 3*PageSize, int(ProtRead)), "the whole VMA: no split")
	require.NoError(t, w.m.Munmap(big, PageSize), "cutting a VMA short")
	_, err = w.m.Mremap(big+PageSize, PageSize, PageSize, MREMAP_MAYMOVE|MREMAP_FIXED, 0x30000000)
	assert.ErrorIs(t, err, errno.ENOMEM, "a move needs room for four more VMAs")
	assert.Equal(t, max, w.m.MapCount())
}

// After fork both address spaces map the written page's frame; the first
// store copies it, the second writes in place.
func TestCopyOnWrite(t *testing.T) {
	w := newWorld(t, 0)
	a := w.anon(t, 0x10000000, 2*PageSize, rw, MAP_PRIVATE|MAP_FIXED)
	w.store(t, w.m, a, "parent")
	assert.Nil(t, w.m.PageFrame(a+PageSize), "an untouched page has no frame")
	f := w.m.PageFrame(a)
	child := w.m.Fork()
	defer child.Put()
	assert.Same(t, f, child.PageFrame(a))
	assert.EqualValues(t, 2, f.MapCount())
	assert.Equal(t, 1, w.reg.Count(kref.Frame))

	w.store(t, child, a, "child!")
	assert.NotSame(t, f, child.PageFrame(a))
	assert.EqualValues(t, 1, f.MapCount())
	assert.Equal(t, "parent", w.load(t, w.m, a, 6))
	assert.Equal(t, "child!", w.load(t, child, a, 6))
	w.store(t, w.m, a, "PARENT")
	assert.Same(t, f, w.m.PageFrame(a), "the only mapping of a frame is written in place")
	assert.Equal(t, 2, w.reg.Count(kref.Frame))

	id1, ok1 := w.m.PageAt(a)
	id2, ok2 := child.PageAt(a)
	assert.True(t, ok1 && ok2)
	assert.NotEqual(t, id1, id2)
	_, ok := w.m.PageAt(a + PageSize)
	assert.False(t, ok, "no frame, no page")
	assert.Empty(t, child.Check())
}

// The access rules: the CPU reads anything not PROT_NONE, get_user_pages
// needs PROT_READ and PROT_WRITE, a debugger (FOLL_FORCE) reads anything
// and writes any private mapping, copying its page.
func TestAccessRules(t *testing.T) {
	w := newWorld(t, 0)
	f := w.file(t, "/ro", "read only", vfs.O_RDONLY)
	base := uint64(0x10000000)
	maps := []struct {
		name  string
		prot  Prot
		flags int
		file  *vfs.File
	}{
		{"none", 0, MAP_PRIVATE, nil},
		{"read", ProtRead, MAP_PRIVATE, nil},
		{"write", ProtWrite, MAP_PRIVATE, nil},
		{"exec", ProtExec, MAP_PRIVATE, nil},
		{"rw", rw, MAP_PRIVATE, nil},
		{"shared read", ProtRead, MAP_SHARED, nil},
		{"shared file read", ProtRead, MAP_SHARED, f},
		{"private file read", ProtRead, MAP_PRIVATE, f},
	}
	addr := map[string]uint64{}
	for i, mp := range maps {
		flags := mp.flags | MAP_FIXED
		if mp.file == nil {
			flags |= MAP_ANONYMOUS
		}
		a, err := w.m.Mmap(MmapArgs{Addr: base + uint64(i)*0x10000, Length: PageSize, Prot: mp.prot, Flags: flags, File: mp.file})
		require.NoError(t, err, mp.name)
		addr[mp.name] = a
	}
	for _, tc := range []struct {
		name       string
		how        How
		read, poke bool
	}{
		{"none", CPU, false, false}, {"none", Remote, false, false}, {"none", Force, true, true},
		{"read", CPU, true, false}, {"read", Remote, true, false}, {"read", Force, true, true},
		{"write", CPU, true, true}, {"write", Remote, false, true}, {"write", Force, true, true},
		{"exec", CPU, true, false}, {"exec", Remote, false, false}, {"exec", Force, true, true},
		{"rw", CPU, true, true}, {"rw", Remote, true, true},
		{"shared read", Force, true, false},
		{"shared file read", Force, true, false},
		{"private file read", Remote, true, false}, {"private file read", Force, true, true},
	} {
		a := addr[tc.name]
		_, err := w.m.Access(a, make([]byte, 1), false, tc.how)
		assert.Equal(t, tc.read, err == nil, "%s: read by %d: %v", tc.name, tc.how, err)
		_, err = w.m.Access(a, []byte{'P'}, true, tc.how)
		assert.Equal(t, tc.poke, err == nil, "%s: write by %d: %v", tc.name, tc.how, err)
		if err != nil {
			var fault *Fault
			require.ErrorAs(t, err, &fault)
			assert.Equal(t, SIGSEGV, fault.Signal)
			assert.ErrorIs(t, err, errno.EFAULT)
		}
	}
	assert.Equal(t, "Pead only", w.load(t, w.m, addr["private file read"], 9), "the debugger's store went to a private copy")
	assert.Equal(t, []byte("read only"), f.Dentry().Inode().Contents(), "not to the file")
	n, err := w.m.Access(base+0x60000+PageSize-2, make([]byte, 4), false, Force)
	assert.Equal(t, 2, n, "short at the unmapped page")
	var fault *Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, base+0x60000+PageSize, fault.Addr)
}

func TestSharedSegment(t *testing.T) {
	w := newWorld(t, 0)
	a := w.anon(t, 0x10000000, 2*PageSize, rw, MAP_SHARED|MAP_FIXED)
	seg := w.m.Find(a).Segment()
	require.NotNil(t, seg)
	assert.Equal(t, "\x00", w.load(t, w.m, a+PageSize, 1))
	assert.NotNil(t, seg.Frame(1), "a segment page gets its frame on any touch")
	w.store(t, w.m, a, "shm")
	child := w.m.Fork()
	assert.EqualValues(t, 2, seg.Refs(), "one reference per VMA")
	require.NoError(t, w.m.Munmap(a, 2*PageSize))
	assert.Equal(t, "shm", w.load(t, child, a, 3), "the segment lives while a VMA maps it")
	child.Put()
	assert.Zero(t, w.reg.Count(kref.Segment))
	assert.Zero(t, w.reg.Count(kref.Frame))
}

func TestFileMapping(t *testing.T) {
	w := newWorld(t, 0)
	f := w.file(t, "/f", "0123456789", vfs.O_RDWR)
	in := f.Dentry().Inode()
	refs := f.Refs()
	s, err := w.m.Mmap(MmapArgs{Addr: 0x10000000, Length: 2 * PageSize, Prot: rw, Flags: MAP_SHARED | MAP_FIXED, File: f})
	require.NoError(t, err)
	p, err := w.m.Mmap(MmapArgs{Addr: 0x10010000, Length: 2 * PageSize, Prot: rw, Flags: MAP_PRIVATE | MAP_FIXED, File: f})
	require.NoError(t, err)
	assert.Equal(t, refs+2, f.Refs(), "each mapping holds the open file")
	assert.Len(t, in.Mappings(), 2)

	w.store(t, w.m, s, "S")
	assert.Equal(t, "S123456789", string(in.Contents()))
	w.store(t, w.m, p+1, "p")
	assert.Equal(t, "Sp23", w.load(t, w.m, p, 4))
	assert.Equal(t, "S123", w.load(t, w.m, s, 4))
	_, err = w.m.Access(s+PageSize, make([]byte, 1), false, Remote)
	var fault *Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, SIGBUS, fault.Signal, "a page past the end of the file")

	child := w.m.Fork()
	defer child.Put()
	assert.Len(t, in.Mappings(), 4)
	assert.Same(t, w.m.PageFrame(p), child.PageFrame(p), "the private copy is shared copy on write")

	// Truncation drops every private copy past the new end, in both.
	g, err := w.fs.Open(w.fs.Root(), w.fs.Root(), "/f", vfs.O_RDWR|vfs.O_TRUNC, 0)
	require.NoError(t, err)
	defer g.Put()
	assert.Nil(t, w.m.PageFrame(p))
	assert.Nil(t, child.PageFrame(p))
	_, err = w.m.Access(p, make([]byte, 1), false, Remote)
	assert.ErrorIs(t, err, errno.EFAULT)

	require.NoError(t, w.m.Munmap(s, 2*PageSize))
	require.NoError(t, w.m.Munmap(p, 2*PageSize))
	assert.Equal(t, refs+2, f.Refs(), "the child's mappings still hold it")
	assert.Len(t, in.Mappings(), 2)
}

// The restart constructors rebuild what the system calls built, and refuse
// what they could not have.
func TestRestore(t *testing.T) {
	w := newWorld(t, 0)
	m := New(w.reg, 0)
	defer m.Put()
	require.NoError(t, m.SetBrk(StartBrk, StartBrk+10))
	anon := NewAnonVMA()
	seg := NewSegment(w.reg, 2)
	defer seg.Put()
	specs := []VMASpec{
		{Start: StartBrk, End: StartBrk + PageSize, Prot: rw, Flags: MayWrite | Account, PgOff: pageOf(StartBrk), Anon: anon, Chain: 1},
		{Start: 0x10000000, End: 0x10002000, Prot: rw, Flags: MayWrite | Account, PgOff: 0x10000, Anon: anon, Chain: 1},
		{Start: 0x10003000, End: 0x10004000, Prot: rw, Flags: Shared | MayWrite, PgOff: 1, Segment: seg},
	}
	for _, s := range specs {
		require.NoError(t, m.AddVMA(s))
	}
	frame := NewFrame(w.reg, []byte("shared"))
	require.NoError(t, m.InstallPage(0x10000000, frame))
	require.NoError(t, m.InstallPage(0x10001000, frame))
	frame.Put() // the page-table entries hold it now
	assert.EqualValues(t, 2, frame.MapCount())
	n := make([]byte, 6)
	_, err := m.Access(0x10001000, n, false, Remote)
	require.NoError(t, err)
	assert.Equal(t, "shared", string(n))
	_, err = m.Access(0x10001000, []byte("x"), true, Remote)
	require.NoError(t, err)
	assert.NotSame(t, frame, m.PageFrame(0x10001000), "restored sharing is copy on write")
	assert.Empty(t, m.Check())
	assert.Equal(t, "01000000-01001000 rw-p 00000000 [heap]", m.Line(m.VMAs()[0], w.fs.Root()))

	for _, tc := range []struct {
		name string
		spec VMASpec
	}{
		{"empty", VMASpec{Start: 0x20000000, End: 0x20000000, Flags: MayWrite}},
		{"unaligned", VMASpec{Start: 0x20000001, End: 0x20002000, Flags: MayWrite}},
		{"past TASK_SIZE", VMASpec{Start: TaskSize, End: TaskSize + PageSize, Flags: MayWrite}},
		{"before the last", VMASpec{Start: 0x10003000, End: 0x10005000, Flags: MayWrite}},
		{"unknown protection", VMASpec{Start: 0x20000000, End: 0x20001000, Prot: 8, Flags: MayWrite}},
		{"unknown flag", VMASpec{Start: 0x20000000, End: 0x20001000, Flags: MayWrite | 1<<20}},
		{"private segment", VMASpec{Start: 0x20000000, End: 0x20001000, Flags: MayWrite, Segment: seg}},
		{"past any address space", VMASpec{Start: 0x20000000, End: 0x20002000, Flags: Shared | MayWrite, PgOff: TaskSize / PageSize, Segment: seg}},
		{"chain without anon_vma", VMASpec{Start: 0x20000000, End: 0x20001000, Flags: MayWrite, Chain: 1}},
		{"private and not MayWrite", VMASpec{Start: 0x20000000, End: 0x20001000}},
	} {
		assert.ErrorIs(t, m.AddVMA(tc.spec), errno.EINVAL, tc.name)
	}
	// The rest of the segment, contiguous: a VMA mmap would have merged.
	err = m.AddVMA(VMASpec{Start: 0x10004000, End: 0x10005000, Prot: rw, Flags: Shared | MayWrite, PgOff: 2, Segment: seg})
	assert.ErrorIs(t, err, errno.EINVAL, "mergeable")
	grown := NewSegment(w.reg, 3)
	defer grown.Put()
	m2 := New(w.reg, 0)
	defer m2.Put()
	require.NoError(t, m2.AddVMA(VMASpec{Start: 0x10003000, End: 0x10004000, Prot: rw, Flags: Shared | MayWrite, PgOff: 1, Segment: grown}))
	err = m2.AddVMA(VMASpec{Start: 0x10004000, End: 0x10005000, Prot: rw, Flags: Shared | MayWrite, PgOff: 2, Segment: grown})
	assert.ErrorIs(t, err, errno.EINVAL, "mergeable with the VMA before it")
	assert.ErrorIs(t, m.InstallPage(0x10003000, NewFrame(w.reg, nil)), errno.EINVAL, "a shared VMA has no page table")
	assert.ErrorIs(t, m.InstallPage(0x10000000, frame), errno.EINVAL, "twice")
	// A run over a mapped page names the page and changes nothing: the
	// frame keeps its map count.
	require.NoError(t, m.InstallPages(StartBrk, []*Frame{frame}))
	before := frame.MapCount()
	err = m.InstallPages(0x10000000, []*Frame{frame, frame})
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "page 0x10000000 is mapped twice")
	assert.Equal(t, before, frame.MapCount())
	err = m.InstallPages(StartBrk-PageSize, []*Frame{frame, frame})
	assert.ErrorIs(t, err, errno.EINVAL, "a run past its VMA's start")
	assert.ErrorIs(t, m.SetBrk(StartBrk, StartBrk), errno.EINVAL, "after the VMAs")
}

// Check sees what no system call leaves behind.
func TestCheckFindsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(w *world, m *MM)
		want    string
	}{
		{"overlap", func(w *world, m *MM) { m.vmas[1].start -= 2 * PageSize }, "overlaps"},
		{"mergeable pair", func(w *world, m *MM) { m.vmas[1].prot, m.vmas[1].flags = m.vmas[0].prot, m.vmas[0].flags }, "should have merged"},
		{"page outside", func(w *world, m *MM) { m.pages.set(pageOf(0x30000000), NewFrame(w.reg, nil)) }, "outside every private VMA"},
		{"break", func(w *world, m *MM) { m.brk = StartBrk - 1 }, "break"},
		{"chain", func(w *world, m *MM) { m.vmas[0].chain = 0; m.vmas[0].anon = NewAnonVMA() }, "chain"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld(t, 0)
			a := w.anon(t, 0x10000000, PageSize, rw, MAP_PRIVATE|MAP_FIXED)
			w.anon(t, a+PageSize, PageSize, ProtRead, MAP_PRIVATE|MAP_FIXED)
			w.store(t, w.m, a, "x")
			require.Empty(t, w.m.Check())
			tc.corrupt(w, w.m)
			errs := w.m.Check()
			require.NotEmpty(t, errs)
			assert.Contains(t, errors.Join(errs...).Error(), tc.want)
			w.m = nil // no cleanup check
		})
	}
}

func TestPutReleasesEverything(t *testing.T) {
	w := newWorld(t, 0)
	f := w.file(t, "/f", "contents", vfs.O_RDWR)
	w.anon(t, 0x10000000, 4*PageSize, rw, MAP_PRIVATE)
	w.anon(t, 0x10010000, 4*PageSize, rw, MAP_SHARED)
	_, err := w.m.Mmap(MmapArgs{Addr: 0x10020000, Length: PageSize, Prot: rw, Flags: MAP_PRIVATE, File: f})
	require.NoError(t, err)
	for _, a := range []uint64{0x10000000, 0x10001000, 0x10010000, 0x10020000} {
		w.store(t, w.m, a, "x")
	}
	w.m.Brk(StartBrk + 3*PageSize)
	w.store(t, w.m, StartBrk, "heap")
	refs := f.Refs()
	w.m.Put()
	assert.Equal(t, refs-1, f.Refs())
	assert.Empty(t, f.Dentry().Inode().Mappings())
	for _, k := range []kref.Kind{kref.MM, kref.Segment, kref.Frame} {
		assert.Zero(t, w.reg.Count(k), "%v left", k)
	}
	w.m = nil
}
