package vfs_test

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

func newFS() (*vfs.FS, *kref.Registry) {
	reg := kref.NewRegistry()
	return vfs.New(reg), reg
}

func lookup(t *testing.T, fs *vfs.FS, path string) *vfs.Dentry {
	t.Helper()
	d, err := fs.Lookup(fs.Root(), fs.Root(), path)
	require.NoError(t, err, "lookup %s", path)
	return d
}

func open(t *testing.T, fs *vfs.FS, path string, flags int) *vfs.File {
	t.Helper()
	f, err := fs.Open(fs.Root(), fs.Root(), path, flags, 0644)
	require.NoError(t, err, "open %s", path)
	return f
}

func mkdirs(t *testing.T, fs *vfs.FS, paths ...string) {
	t.Helper()
	for _, p := range paths {
		require.NoError(t, fs.Mkdir(fs.Root(), fs.Root(), p, 0755), "mkdir %s", p)
	}
}

func TestDentryPath(t *testing.T) {
	fs, _ := newFS()
	mkdirs(t, fs, "/a", "/a/b", "/a/b/c", "/x")
	require.NoError(t, fs.WriteFile("/a/b/f", []byte("f"), 0644))
	require.NoError(t, fs.WriteFile("/a/b/gone", []byte("g"), 0644))
	gone := open(t, fs, "/a/b/gone", vfs.O_RDONLY)
	defer gone.Put()
	require.NoError(t, fs.Unlink(fs.Root(), fs.Root(), "/a/b/gone"))

	root := fs.Root()
	a, c, f, x := lookup(t, fs, "/a"), lookup(t, fs, "/a/b/c"), lookup(t, fs, "/a/b/f"), lookup(t, fs, "/x")
	unlinked := gone.Dentry()
	require.True(t, unlinked.Unlinked())

	assert.Same(t, root, root.Parent(), "the root is its own parent")
	assert.Equal(t, "/", root.Name())
	assert.Equal(t, "c", c.Name())

	for _, tc := range []struct {
		name string
		d    *vfs.Dentry
		want string
	}{
		{"root", root, "/"},
		{"top level", a, "/a"},
		{"nested directory", c, "/a/b/c"},
		{"nested file", f, "/a/b/f"},
		{"unlinked", unlinked, "/a/b/gone (deleted)"},
	} {
		assert.Equal(t, tc.want, tc.d.Path(), tc.name)
	}

	for _, tc := range []struct {
		name   string
		d      *vfs.Dentry
		root   *vfs.Dentry
		want   string
		inside bool
	}{
		{"from the fs root", c, root, "/a/b/c", true},
		{"from a subdirectory", c, a, "/b/c", true},
		{"file from a subdirectory", f, a, "/b/f", true},
		{"root itself", c, c, "/", true},
		{"fs root from itself", root, root, "/", true},
		{"an ancestor of the root", a, c, "", false},
		{"the fs root from below", root, a, "", false},
		{"a sibling tree", x, a, "", false},
		{"a sibling tree, the other way", c, x, "", false},
		// An unlinked dentry answers with the path it had (" (deleted)" is
		// Path's alone).
		{"unlinked, from the fs root", unlinked, root, "/a/b/gone", true},
		{"unlinked, from its old parent's parent", unlinked, a, "/b/gone", true},
		{"unlinked, outside the root", unlinked, x, "", false},
	} {
		got, ok := tc.d.PathFrom(tc.root)
		assert.Equal(t, tc.inside, ok, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
	}
}

func TestWriteFile(t *testing.T) {
	fs, _ := newFS()
	mkdirs(t, fs, "/d")
	require.NoError(t, fs.Mkfifo(fs.Root(), fs.Root(), "/p", 0600))

	contents := []byte("hello")
	require.NoError(t, fs.WriteFile("/d/f", contents, 0640))
	contents[0] = 'J' // the file keeps its own copy
	in := lookup(t, fs, "/d/f").Inode()
	assert.True(t, in.IsRegular())
	assert.Equal(t, uint32(vfs.S_IFREG|0640), in.Mode())
	assert.Equal(t, []byte("hello"), in.Contents())
	assert.Equal(t, int64(5), in.Size())
	assert.Equal(t, uint64(1), in.Changes(), "a new file counts as written once")
	ino := in.Ino()

	// Replacing keeps the inode and bumps its change counter.
	require.NoError(t, fs.WriteFile("/d/f", []byte("bye"), 0600))
	in2 := lookup(t, fs, "/d/f").Inode()
	assert.Same(t, in, in2)
	assert.Equal(t, ino, in2.Ino())
	assert.Equal(t, []byte("bye"), in2.Contents())
	assert.Equal(t, uint64(2), in2.Changes())

	// Only the permission bits of perm are used.
	require.NoError(t, fs.WriteFile("/g", nil, vfs.S_IFDIR|04755))
	assert.Equal(t, uint32(vfs.S_IFREG|04755), lookup(t, fs, "/g").Inode().Mode())
	assert.Empty(t, lookup(t, fs, "/g").Inode().Contents())

	for _, tc := range []struct {
		path string
		want errno.Errno
	}{
		{"/d", errno.EISDIR},
		{"/", errno.EISDIR},
		{"/nodir/f", errno.ENOENT},
		{"/d/f/x", errno.ENOTDIR},
		{"", errno.ENOENT},
		{"/new/", errno.ENOENT},
		{"/" + strings.Repeat("n", vfs.NAME_MAX+1), errno.ENAMETOOLONG},
		{"/\x00/d", errno.EISDIR}, // a path ends at its first NUL
	} {
		err := fs.WriteFile(tc.path, []byte("x"), 0644)
		assert.ErrorIs(t, err, tc.want, "WriteFile(%q)", tc.path)
	}
}

// entry is what Copy must reproduce of one name of the tree.
type entry struct {
	path     string
	ino      uint64
	mode     uint32
	contents string
	changes  uint64
}

func tree(fs *vfs.FS) []entry {
	var out []entry
	fs.Walk(func(d *vfs.Dentry) {
		in := d.Inode()
		out = append(out, entry{d.Path(), in.Ino(), in.Mode(), string(in.Contents()), in.Changes()})
	})
	return out
}

func TestCopyIsDeep(t *testing.T) {
	src, reg := newFS()
	root := src.Root()
	require.NoError(t, src.Mkdir(root, root, "/d", 0750))
	mkdirs(t, src, "/d/e", "/d/e/f")
	require.NoError(t, src.WriteFile("/d/file", []byte("one"), 0640))
	require.NoError(t, src.WriteFile("/d/file", []byte("two"), 0640))
	require.NoError(t, src.WriteFile("/d/e/f/deep", []byte("deep"), 0600))
	require.NoError(t, src.WriteFile("/empty", nil, 0644))
	w := open(t, src, "/d/file", vfs.O_WRONLY|vfs.O_APPEND)
	_, err := w.Write([]byte("!"))
	require.NoError(t, err)
	require.NoError(t, w.Flock(vfs.LOCK_EX))
	defer w.Put()

	// Open state: a FIFO open with bytes in its pipe, and an unlinked file
	// that an open file keeps alive.
	require.NoError(t, src.Mkfifo(root, root, "/fifo", 0600))
	fifo, err := src.OpenFIFOEnd(lookup(t, src, "/fifo"), vfs.O_RDWR)
	require.NoError(t, err)
	defer fifo.Put()
	_, err = fifo.Write([]byte("queued"))
	require.NoError(t, err)
	require.NoError(t, src.WriteFile("/unlinked", []byte("gone"), 0644))
	gone := open(t, src, "/unlinked", vfs.O_RDONLY)
	defer gone.Put()
	require.NoError(t, src.Unlink(root, root, "/unlinked"))

	srcTree := tree(src)
	before := reg.Snapshot()
	reg2 := kref.NewRegistry()
	dst := src.Copy(reg2)

	assert.Equal(t, "", before.Diff(reg.Snapshot()), "copying changes nothing in the source")
	assert.Same(t, reg2, dst.Registry())
	assert.NotSame(t, src.Root(), dst.Root())
	assert.Equal(t, srcTree, tree(dst), "same names, inode numbers, modes, contents and change counters")
	assert.Equal(t, uint64(3), lookup(t, dst, "/d/file").Inode().Changes(), "two WriteFiles and a write")

	// The new registry counts exactly the copied tree: one inode and one
	// dentry per name, each with the tree's single reference, and no pipe,
	// no file.
	n := len(srcTree)
	assert.Equal(t, 8, n)
	assert.Equal(t, n, reg2.Count(kref.Inode))
	assert.Equal(t, n, reg2.Count(kref.Dentry))
	assert.Len(t, reg2.Snapshot(), 2*n)
	for _, l := range reg2.Snapshot() {
		assert.Equal(t, int64(1), l.Refs, "%v", l)
	}

	// Open state is not copied.
	assert.NotNil(t, lookup(t, src, "/fifo").Inode().Pipe())
	assert.Nil(t, lookup(t, dst, "/fifo").Inode().Pipe(), "a FIFO's pipe is open state")
	_, err = dst.Lookup(dst.Root(), dst.Root(), "/unlinked")
	assert.ErrorIs(t, err, errno.ENOENT, "an unlinked file is not on the disk")
	dw := open(t, dst, "/d/file", vfs.O_WRONLY)
	defer dw.Put()
	assert.NoError(t, dw.Flock(vfs.LOCK_EX|vfs.LOCK_NB), "flock locks are open state")

	// Writing through either does not affect the other.
	_, err = dw.Write([]byte("X"))
	require.NoError(t, err)
	assert.Equal(t, "Xwo!", string(lookup(t, dst, "/d/file").Inode().Contents()))
	assert.Equal(t, "two!", string(lookup(t, src, "/d/file").Inode().Contents()))
	assert.Equal(t, uint64(3), lookup(t, src, "/d/file").Inode().Changes())
	assert.Equal(t, uint64(4), lookup(t, dst, "/d/file").Inode().Changes())
	_, err = w.Write([]byte("?"))
	require.NoError(t, err)
	assert.Equal(t, "two!?", string(lookup(t, src, "/d/file").Inode().Contents()))
	assert.Equal(t, "Xwo!", string(lookup(t, dst, "/d/file").Inode().Contents()))
	require.NoError(t, src.WriteFile("/d/e/f/deep", []byte("changed"), 0600))
	assert.Equal(t, "deep", string(lookup(t, dst, "/d/e/f/deep").Inode().Contents()))
	require.NoError(t, dst.Unlink(dst.Root(), dst.Root(), "/empty"))
	lookup(t, src, "/empty")

	// Both go on numbering inodes from the same point.
	require.NoError(t, src.WriteFile("/new", nil, 0644))
	require.NoError(t, dst.WriteFile("/new", nil, 0644))
	assert.Equal(t, lookup(t, src, "/new").Inode().Ino(), lookup(t, dst, "/new").Inode().Ino())
	for _, e := range srcTree {
		assert.NotEqual(t, e.ino, lookup(t, dst, "/new").Inode().Ino(), "a new inode reuses %s's number", e.path)
	}
	assert.NotEqual(t, gone.Dentry().Inode().Ino(), lookup(t, dst, "/new").Inode().Ino(),
		"a new inode reuses the unlinked file's number")
	mkdirs(t, src, "/only-in-src")
	_, err = dst.Lookup(dst.Root(), dst.Root(), "/only-in-src")
	assert.ErrorIs(t, err, errno.ENOENT)
}

func TestRefCountsOfDentriesAndInodes(t *testing.T) {
	fs, reg := newFS()
	require.NoError(t, fs.WriteFile("/f", []byte("data"), 0644))
	mkdirs(t, fs, "/d")
	d := lookup(t, fs, "/f")
	dir := lookup(t, fs, "/d")
	in := d.Inode()
	assert.Equal(t, int64(1), d.Refs(), "held by its parent")
	assert.Equal(t, int64(1), in.Refs(), "held by its dentry")
	assert.Equal(t, int64(1), fs.Root().Refs(), "the root is held by the fs")
	assert.Equal(t, 3, reg.Count(kref.Dentry))
	assert.Equal(t, 3, reg.Count(kref.Inode))

	f1 := open(t, fs, "/f", vfs.O_RDONLY)
	f2 := open(t, fs, "/f", vfs.O_RDWR)
	df := open(t, fs, "/d", vfs.O_RDONLY)
	assert.Equal(t, int64(3), d.Refs())
	assert.Equal(t, int64(1), in.Refs(), "files hold the dentry, not the inode")
	assert.Equal(t, int64(2), dir.Refs())
	assert.Equal(t, 3, reg.Count(kref.File))

	f2.Get() // a second descriptor on the same open file
	f2.Put()
	assert.Equal(t, int64(3), d.Refs())
	assert.Equal(t, 3, reg.Count(kref.File))

	f1.Put()
	assert.Equal(t, int64(2), d.Refs())
	df.Put()
	assert.Equal(t, int64(1), dir.Refs())
	assert.Equal(t, 1, reg.Count(kref.File))

	require.NoError(t, fs.Unlink(fs.Root(), fs.Root(), "/f"))
	assert.True(t, d.Unlinked())
	assert.Equal(t, int64(1), d.Refs(), "only the open file holds it now")
	assert.Equal(t, 3, reg.Count(kref.Dentry), "still alive")
	_, err := f2.Write([]byte("more"))
	require.NoError(t, err, "an unlinked file stays usable")
	assert.Equal(t, "more", string(in.Contents()))

	f2.Put()
	assert.Equal(t, 2, reg.Count(kref.Dentry), "the last close releases the dentry")
	assert.Equal(t, 2, reg.Count(kref.Inode), "and its inode")
	assert.Equal(t, 0, reg.Count(kref.File))
}

// TestFailedOpensHaveNoEffect: an open that fails leaves no object behind
// and no reference taken.
func TestFailedOpensHaveNoEffect(t *testing.T) {
	fs, reg := newFS()
	require.NoError(t, fs.WriteFile("/f", []byte("x"), 0644))
	mkdirs(t, fs, "/d")
	require.NoError(t, fs.Mkfifo(fs.Root(), fs.Root(), "/p", 0644))
	for _, tc := range []struct {
		path  string
		flags int
		want  errno.Errno
	}{
		{"/d", vfs.O_WRONLY, errno.EISDIR},
		{"/d", vfs.O_RDONLY | vfs.O_TRUNC, errno.EISDIR},
		{"/f", vfs.O_CREAT | vfs.O_EXCL | vfs.O_RDWR, errno.EEXIST},
		{"/f", vfs.O_DIRECTORY, errno.ENOTDIR},
		{"/new", vfs.O_CREAT | vfs.O_DIRECTORY, errno.EINVAL},
		{"/new", vfs.O_PATH, errno.EINVAL},
		{"/d", vfs.O_TMPFILE | vfs.O_RDWR, errno.EINVAL},
		{"/p", vfs.O_RDONLY, errno.BLOCKED},
		{"/p", vfs.O_WRONLY, errno.BLOCKED},
		{"/p", vfs.O_WRONLY | vfs.O_NONBLOCK, errno.ENXIO},
		{"/p", vfs.O_ACCMODE, errno.EINVAL},
		{"/missing", vfs.O_RDONLY, errno.ENOENT},
		// O_DIRECT: a directory or FIFO cannot do direct I/O (EINVAL), but
		// a directory opened for writing is EISDIR first, and a FIFO opens
		// (waits, or fails with ENXIO) before O_DIRECT is looked at.
		{"/d", vfs.O_RDONLY | vfs.O_DIRECT, errno.EINVAL},
		{"/d", vfs.O_RDONLY | vfs.O_DIRECT | vfs.O_DIRECTORY, errno.EINVAL},
		{"/d", vfs.O_WRONLY | vfs.O_DIRECT, errno.EISDIR},
		{"/p", vfs.O_RDWR | vfs.O_DIRECT, errno.EINVAL},
		{"/p", vfs.O_RDONLY | vfs.O_NONBLOCK | vfs.O_DIRECT, errno.EINVAL},
		{"/p", vfs.O_WRONLY | vfs.O_NONBLOCK | vfs.O_DIRECT, errno.ENXIO},
		{"/p", vfs.O_RDONLY | vfs.O_DIRECT, errno.BLOCKED},
	} {
		before := reg.Snapshot()
		f, err := fs.Open(fs.Root(), fs.Root(), tc.path, tc.flags, 0644)
		assert.Nil(t, f)
		assert.ErrorIs(t, err, tc.want, "open %s %s", tc.path, vfs.FormatOpenFlags(tc.flags))
		assert.Equal(t, "", before.Diff(reg.Snapshot()), "open %s %s", tc.path, vfs.FormatOpenFlags(tc.flags))
	}
	assert.Nil(t, lookup(t, fs, "/p").Inode().Pipe(), "a blocked FIFO open creates no pipe")
}

func TestChangeCounter(t *testing.T) {
	fs, _ := newFS()
	require.NoError(t, fs.WriteFile("/f", []byte("0123456789"), 0644))
	in := lookup(t, fs, "/f").Inode()
	rw := open(t, fs, "/f", vfs.O_RDWR)
	defer rw.Put()
	ro := open(t, fs, "/f", vfs.O_RDONLY)
	defer ro.Put()

	for _, tc := range []struct {
		name  string
		op    func() error
		bumps uint64
	}{
		{"read", func() error { _, err := rw.Read(make([]byte, 4)); return err }, 0},
		{"read at end of file", func() error { _, err := ro.Read(make([]byte, 100)); return err }, 0},
		{"lseek", func() error { _, err := rw.Seek(2, vfs.SEEK_SET); return err }, 0},
		{"zero-length write", func() error { _, err := rw.Write(nil); return err }, 0},
		{"write", func() error { _, err := rw.Write([]byte("ab")); return err }, 1},
		{"write past the end", func() error {
			if _, err := rw.Seek(100, vfs.SEEK_SET); err != nil {
				return err
			}
			_, err := rw.Write([]byte("z"))
			return err
		}, 1},
		{"write on a read-only file fails", func() error {
			_, err := ro.Write([]byte("x"))
			if errors.Is(err, errno.EBADF) {
				return nil
			}
			return err
		}, 0},
		{"two writes", func() error {
			rw.Write([]byte("1"))
			_, err := rw.Write([]byte("2"))
			return err
		}, 2},
		{"open without O_TRUNC", func() error { open(t, fs, "/f", vfs.O_RDWR).Put(); return nil }, 0},
		{"O_TRUNC, even read-only", func() error { open(t, fs, "/f", vfs.O_RDONLY|vfs.O_TRUNC).Put(); return nil }, 1},
		{"WriteFile", func() error { return fs.WriteFile("/f", []byte("new"), 0644) }, 1},
	} {
		before := in.Changes()
		require.NoError(t, tc.op(), tc.name)
		assert.Equal(t, tc.bumps, in.Changes()-before, tc.name)
	}
}

func TestSizeAndSeekLimits(t *testing.T) {
	fs, _ := newFS()
	require.NoError(t, fs.WriteFile("/f", []byte("0123456789"), 0644))
	in := lookup(t, fs, "/f").Inode()
	f := open(t, fs, "/f", vfs.O_RDWR)
	defer f.Put()
	const size = 10

	seeks := []struct {
		name    string
		from    int64 // SEEK_SET here first
		offset  int64
		whence  int
		want    int64
		wantErr error
	}{
		{"to MaxSeek", 0, vfs.MaxSeek, vfs.SEEK_SET, vfs.MaxSeek, nil},
		{"past MaxSeek", 0, vfs.MaxSeek + 1, vfs.SEEK_SET, 0, errno.EINVAL},
		{"forward from MaxSeek", vfs.MaxSeek, 1, vfs.SEEK_CUR, 0, errno.EINVAL},
		{"nowhere from MaxSeek", vfs.MaxSeek, 0, vfs.SEEK_CUR, vfs.MaxSeek, nil},
		{"back from MaxSeek", vfs.MaxSeek, -vfs.MaxSeek, vfs.SEEK_CUR, 0, nil},
		{"SEEK_CUR overflowing int64", 10, math.MaxInt64, vfs.SEEK_CUR, 0, errno.EINVAL},
		{"SEEK_END to MaxSeek", 0, vfs.MaxSeek - size, vfs.SEEK_END, vfs.MaxSeek, nil},
		{"SEEK_END past MaxSeek", 0, vfs.MaxSeek - size + 1, vfs.SEEK_END, 0, errno.EINVAL},
		{"SEEK_END overflowing int64", 0, math.MaxInt64, vfs.SEEK_END, 0, errno.EINVAL},
		{"SEEK_SET to MinInt64", 0, math.MinInt64, vfs.SEEK_SET, 0, errno.EINVAL},
	}
	for _, tc := range seeks {
		_, err := f.Seek(tc.from, vfs.SEEK_SET)
		require.NoError(t, err)
		got, err := f.Seek(tc.offset, tc.whence)
		if tc.wantErr != nil {
			assert.ErrorIs(t, err, tc.wantErr, tc.name)
			assert.Equal(t, tc.from, f.Pos(), "%s: a failed seek moves nothing", tc.name)
			continue
		}
		assert.NoError(t, err, tc.name)
		assert.Equal(t, tc.want, got, tc.name)
		assert.Equal(t, tc.want, f.Pos(), tc.name)
	}
	assert.Equal(t, int64(size), in.Size(), "seeking does not grow the file")

	writes := []struct {
		name     string
		at       int64
		n        int
		want     int
		wantErr  error
		wantSize int64
	}{
		{"at MaxSeek", vfs.MaxSeek, 1, 0, errno.EFBIG, size},
		{"at MaxFileSize", vfs.MaxFileSize, 1, 0, errno.EFBIG, size},
		{"nothing at MaxSeek", vfs.MaxSeek, 0, 0, nil, size},
		{"across MaxFileSize: cut short", vfs.MaxFileSize - 3, 10, 3, nil, vfs.MaxFileSize},
		{"just below MaxFileSize, on a full file", vfs.MaxFileSize - 1, 1, 1, nil, vfs.MaxFileSize},
		{"at the end of a full file", vfs.MaxFileSize, 1, 0, errno.EFBIG, vfs.MaxFileSize},
	}
	for _, tc := range writes {
		_, err := f.Seek(tc.at, vfs.SEEK_SET)
		require.NoError(t, err)
		changes := in.Changes()
		n, err := f.Write(make([]byte, tc.n))
		if tc.wantErr != nil {
			assert.ErrorIs(t, err, tc.wantErr, tc.name)
			assert.Equal(t, changes, in.Changes(), "%s: a failed write changes nothing", tc.name)
			assert.Equal(t, tc.at, f.Pos(), tc.name)
		} else {
			assert.NoError(t, err, tc.name)
			assert.Equal(t, tc.at+int64(tc.want), f.Pos(), tc.name)
		}
		assert.Equal(t, tc.want, n, tc.name)
		assert.Equal(t, tc.wantSize, in.Size(), tc.name)
	}

	// O_APPEND on a full file: EFBIG too.
	a := open(t, fs, "/f", vfs.O_WRONLY|vfs.O_APPEND)
	defer a.Put()
	_, err := a.Write([]byte("x"))
	assert.ErrorIs(t, err, errno.EFBIG)
	assert.Equal(t, int64(vfs.MaxFileSize), in.Size())
}

func TestSeekVersion(t *testing.T) {
	fs, _ := newFS()
	require.NoError(t, fs.WriteFile("/f", []byte("0123456789"), 0644))
	f := open(t, fs, "/f", vfs.O_RDWR)
	defer f.Put()
	for _, tc := range []struct {
		offset int64
		whence int
		bump   bool
	}{
		{0, vfs.SEEK_SET, false}, // already there
		{3, vfs.SEEK_SET, true},
		{0, vfs.SEEK_CUR, false},
		{-3, vfs.SEEK_CUR, true},
		{-1, vfs.SEEK_SET, false}, // EINVAL
		{0, 7, false},             // EINVAL
		{0, vfs.SEEK_END, true},
	} {
		v := f.Version()
		f.Seek(tc.offset, tc.whence)
		assert.Equal(t, tc.bump, f.Version() == v+1, "seek %d %d", tc.offset, tc.whence)
		assert.LessOrEqual(t, f.Version()-v, uint64(1))
	}
	v := f.Version()
	f.Seek(0, vfs.SEEK_SET)
	f.Write([]byte("ab")) // writes move the position without counting
	f.Read(make([]byte, 2))
	assert.Equal(t, v+1, f.Version())
}

func TestFormatOpenFlags(t *testing.T) {
	for _, tc := range []struct {
		flags int
		want  string
	}{
		{0, "O_RDONLY"},
		{vfs.O_WRONLY, "O_WRONLY"},
		{vfs.O_RDWR, "O_RDWR"},
		{vfs.O_ACCMODE, "O_ACCMODE"},
		{vfs.O_WRONLY | vfs.O_CREAT | vfs.O_TRUNC, "O_WRONLY|O_CREAT|O_TRUNC"},
		{vfs.O_RDWR | vfs.O_CREAT | vfs.O_EXCL | vfs.O_CLOEXEC, "O_RDWR|O_CREAT|O_EXCL|O_CLOEXEC"},
		{vfs.O_CLOEXEC | vfs.O_APPEND | vfs.O_NONBLOCK, "O_RDONLY|O_APPEND|O_NONBLOCK|O_CLOEXEC"},
		{vfs.O_SYNC, "O_RDONLY|O_SYNC"},
		{vfs.O_DSYNC, "O_RDONLY|O_DSYNC"},
		{vfs.O_SYNC | vfs.O_APPEND, "O_RDONLY|O_SYNC|O_APPEND"},
		{vfs.O_LARGEFILE | vfs.O_NONBLOCK, "O_RDONLY|O_NONBLOCK|O_LARGEFILE"},
		{vfs.O_ASYNC | vfs.O_DIRECT | vfs.O_NOATIME, "O_RDONLY|O_ASYNC|O_DIRECT|O_NOATIME"},
		{vfs.O_DIRECTORY | vfs.O_NOFOLLOW | vfs.O_NOCTTY, "O_RDONLY|O_NOCTTY|O_DIRECTORY|O_NOFOLLOW"},
		{vfs.O_PATH, "O_RDONLY|O_PATH"},
		{vfs.O_TMPFILE | vfs.O_RDWR, "O_RDWR|O_DIRECTORY|020000000"},
		{040000000, "O_RDONLY|040000000"},
		{vfs.O_WRONLY | 040000000 | vfs.O_APPEND, "O_WRONLY|O_APPEND|040000000"},
	} {
		assert.Equal(t, tc.want, vfs.FormatOpenFlags(tc.flags), "%#o", tc.flags)
	}
}

func TestOpenFlagNames(t *testing.T) {
	names := vfs.OpenFlagNames()
	assert.Len(t, names, 20)
	assert.Equal(t, vfs.O_CLOEXEC, names["O_CLOEXEC"])
	assert.Equal(t, vfs.O_SYNC, names["O_SYNC"])
	names["O_CLOEXEC"] = 0 // a copy
	assert.Equal(t, vfs.O_CLOEXEC, vfs.OpenFlagNames()["O_CLOEXEC"])
	// Every single flag formats as its own name.
	for name, v := range vfs.OpenFlagNames() {
		if v == 0 || v == vfs.O_TMPFILE {
			continue
		}
		want := name
		if v&vfs.O_ACCMODE == 0 {
			want = "O_RDONLY|" + name
		}
		assert.Equal(t, want, vfs.FormatOpenFlags(v), name)
	}
}

func TestFModeString(t *testing.T) {
	for _, tc := range []struct {
		m    vfs.FMode
		want string
	}{
		{0, "0"},
		{vfs.FMODE_READ, "READ"},
		{vfs.FMODE_WRITE, "WRITE"},
		{vfs.FMODE_READ | vfs.FMODE_WRITE | vfs.FMODE_LSEEK, "READ|WRITE|LSEEK"},
		{vfs.FMODE_PWRITE | vfs.FMODE_PREAD, "PREAD|PWRITE"},
		{0x1f, "READ|WRITE|LSEEK|PREAD|PWRITE"},
		{0x20, "0x20"},
		{vfs.FMODE_READ | 0x40 | 0x100, "READ|0x140"},
	} {
		assert.Equal(t, tc.want, tc.m.String(), "%#x", uint32(tc.m))
	}
}

func TestOpenModes(t *testing.T) {
	fs, _ := newFS()
	require.NoError(t, fs.WriteFile("/f", nil, 0644))
	all := vfs.FMODE_LSEEK | vfs.FMODE_PREAD | vfs.FMODE_PWRITE
	for _, tc := range []struct {
		flags     int
		mode      vfs.FMode
		wantFlags int
	}{
		{vfs.O_RDONLY, vfs.FMODE_READ | all, vfs.O_LARGEFILE},
		{vfs.O_WRONLY, vfs.FMODE_WRITE | all, vfs.O_WRONLY | vfs.O_LARGEFILE},
		{vfs.O_RDWR | vfs.O_CREAT | vfs.O_TRUNC | vfs.O_CLOEXEC | vfs.O_EXCL | vfs.O_NOCTTY, vfs.FMODE_READ | vfs.FMODE_WRITE | all, vfs.O_RDWR | vfs.O_LARGEFILE},
		{vfs.O_ACCMODE, all, vfs.O_ACCMODE | vfs.O_LARGEFILE}, // neither read nor write
	} {
		if tc.flags&vfs.O_EXCL != 0 {
			require.NoError(t, fs.Unlink(fs.Root(), fs.Root(), "/f"))
		}
		f := open(t, fs, "/f", tc.flags)
		assert.Equal(t, tc.mode, f.Mode(), vfs.FormatOpenFlags(tc.flags))
		assert.Equal(t, tc.wantFlags, f.Flags(), vfs.FormatOpenFlags(tc.flags))
		assert.Equal(t, vfs.TypeRegular, f.Type())
		f.Put()
	}
}

func TestFormatMode(t *testing.T) {
	for _, tc := range []struct {
		mode uint32
		want string
	}{
		{vfs.S_IFREG | 0o644, "regular 0644"},
		{vfs.S_IFIFO | 0o600, "fifo 0600"},
		{vfs.S_IFDIR | 0o1777, "directory 1777"},
		{0o140755, "type 0140000 0755"},
	} {
		assert.Equal(t, tc.want, vfs.FormatMode(tc.mode), "%#o", tc.mode)
	}
}

// TestAsyncFlag: F_SETFL changes O_ASYNC only through a type's ->fasync, as
// Linux's setfl does; so the flag sticks or goes by file type and by where
// it came from (the values are what Linux 6.18 gives on ext4).
func TestAsyncFlag(t *testing.T) {
	fs, _ := newFS()
	require.NoError(t, fs.WriteFile("/f", nil, 0644))
	mkdirs(t, fs, "/d")
	require.NoError(t, fs.Mkfifo(fs.Root(), fs.Root(), "/p", 0644))
	const async, nb = vfs.O_ASYNC, vfs.O_NONBLOCK
	for _, tc := range []struct {
		name  string
		open  func() *vfs.File
		setfl []int // each F_SETFL in turn
		want  []int // F_GETFL after each, without O_LARGEFILE
	}{
		{"FIFO opened with O_ASYNC keeps it", func() *vfs.File { return open(t, fs, "/p", vfs.O_RDWR|async) },
			[]int{nb, 0, async, 0}, []int{vfs.O_RDWR | async | nb, vfs.O_RDWR | async, vfs.O_RDWR | async, vfs.O_RDWR | async}},
		{"FIFO given O_ASYNC by F_SETFL loses it", func() *vfs.File { return open(t, fs, "/p", vfs.O_RDWR) },
			[]int{async, async | nb, nb, 0}, []int{vfs.O_RDWR | async, vfs.O_RDWR | async | nb, vfs.O_RDWR | nb, vfs.O_RDWR}},
		{"pipe end", func() *vfs.File {
			r, w := vfs.NewPipeFiles(kref.NewRegistry(), 0)
			r.Put()
			return w
		}, []int{async, 0, async}, []int{vfs.O_WRONLY | async, vfs.O_WRONLY, vfs.O_WRONLY | async}},
		{"regular file: F_SETFL cannot set it", func() *vfs.File { return open(t, fs, "/f", vfs.O_RDWR) },
			[]int{async, async | nb}, []int{vfs.O_RDWR, vfs.O_RDWR | nb}},
		{"regular file: nor clear it", func() *vfs.File { return open(t, fs, "/f", vfs.O_RDWR|async) },
			[]int{0, nb}, []int{vfs.O_RDWR | async, vfs.O_RDWR | async | nb}},
		{"directory", func() *vfs.File { return open(t, fs, "/d", vfs.O_RDONLY|async) },
			[]int{0, async}, []int{async, async}},
	} {
		f := tc.open()
		for i, arg := range tc.setfl {
			require.NoError(t, f.SetFlags(arg), "%s: F_SETFL %s", tc.name, vfs.FormatOpenFlags(arg))
			assert.Equal(t, vfs.FormatOpenFlags(tc.want[i]), vfs.FormatOpenFlags(f.Flags()&^vfs.O_LARGEFILE),
				"%s: after F_SETFL %s", tc.name, vfs.FormatOpenFlags(arg))
		}
		f.Put()
	}
}
