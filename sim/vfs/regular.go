package vfs

import (
	"math"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// MaxFileSize bounds a regular file's size. Contents are stored densely, so
// the simulator refuses (EFBIG) a write that would grow a file beyond 16 MiB,
// far below ext4's 16 TiB; positions up to MaxSeek are still accepted.
const MaxFileSize = 16 << 20

// MaxSeek is the largest position of a regular file, ext4's s_maxbytes with
// 4 KiB blocks: (2^32 - 1) blocks.
const MaxSeek = (1<<32 - 1) << 12

// regularOps are the operations of a regular file.
type regularOps struct{}

func (regularOps) Type() FileType  { return TypeRegular }
func (regularOps) SetflMask() int  { return SetflMask &^ O_ASYNC }
func (regularOps) Release(f *File) {}

func (regularOps) Read(f *File, p []byte) (int, error) {
	data := f.dentry.inode.data
	if f.pos >= int64(len(data)) {
		return 0, nil
	}
	n := copy(p, data[f.pos:])
	f.pos += int64(n)
	return n, nil
}

func (regularOps) Write(f *File, p []byte) (int, error) {
	in := f.dentry.inode
	if len(p) == 0 {
		return 0, nil
	}
	if f.flags&O_APPEND != 0 {
		f.pos = int64(len(in.data))
	}
	if f.pos >= MaxFileSize {
		return 0, errno.EFBIG
	}
	// A write that would cross the limit is cut short, as at RLIMIT_FSIZE.
	if rest := MaxFileSize - f.pos; int64(len(p)) > rest {
		p = p[:rest]
	}
	end := f.pos + int64(len(p))
	in.grow(end)
	copy(in.data[f.pos:], p)
	f.pos = end
	in.changes++
	return len(p), nil
}

func (regularOps) Seek(f *File, offset int64, whence int) (int64, error) {
	return seekSized(f, offset, whence, int64(len(f.dentry.inode.data)), MaxSeek)
}

// dirOps are the operations of a directory. Directory listing is not
// modelled; a directory seeks as an ext4 directory with a hash index does,
// whose end is at the largest 64-bit offset.
type dirOps struct{}

func (dirOps) Type() FileType                      { return TypeDirectory }
func (dirOps) SetflMask() int                      { return SetflMask &^ (O_ASYNC | O_DIRECT) }
func (dirOps) Release(f *File)                     {}
func (dirOps) Read(f *File, p []byte) (int, error) { return 0, errno.EISDIR }
func (dirOps) Write(f *File, p []byte) (int, error) {
	return 0, errno.EISDIR
}
func (dirOps) Seek(f *File, offset int64, whence int) (int64, error) {
	return seekSized(f, offset, whence, math.MaxInt64, math.MaxInt64)
}

// openMode returns the mode bits an open with flags gives, as Linux's
// OPEN_FMODE: the access mode 3 gives neither read nor write.
func openMode(flags int) FMode {
	return FMode((flags + 1) & O_ACCMODE)
}

// Open opens path as open(2) does, relative to the caller's root and working
// directory, creating a regular file with permission bits perm when O_CREAT
// asks for it. A FIFO opens as Linux opens one (see OpenFIFO). O_PATH and
// O_TMPFILE are not supported (EINVAL).
func (fs *FS) Open(root, cwd *Dentry, path string, flags int, perm uint32) (*File, error) {
	if flags&O_PATH != 0 || flags&O_TMPFILE == O_TMPFILE {
		return nil, errno.EINVAL
	}
	// Since Linux 6.4 the combination is refused rather than half-honoured.
	if flags&(O_CREAT|O_DIRECTORY) == O_CREAT|O_DIRECTORY {
		return nil, errno.EINVAL
	}
	d, created, err := fs.openLookup(root, cwd, path, flags, perm)
	if err != nil {
		return nil, err
	}
	// The checks in the order of Linux's do_open and may_open.
	in := d.inode
	if flags&O_CREAT != 0 {
		if flags&O_EXCL != 0 && !created {
			return nil, errno.EEXIST
		}
		if in.IsDir() {
			return nil, errno.EISDIR
		}
	}
	switch {
	case flags&O_DIRECTORY != 0 && !in.IsDir():
		return nil, errno.ENOTDIR
	case in.IsDir() && (flags&O_ACCMODE != O_RDONLY || flags&O_TRUNC != 0):
		return nil, errno.EISDIR
	case in.IsDir() && flags&O_DIRECT != 0:
		// Linux's do_dentry_open refuses O_DIRECT on a file its type did
		// not mark FMODE_CAN_ODIRECT: an ext4 directory, a FIFO. (F_SETFL
		// O_DIRECT on a FIFO is packet mode, which setfl allows.)
		return nil, errno.EINVAL
	case in.IsFIFO():
		return fs.OpenFIFO(d, flags)
	}
	// O_TRUNC truncates even with O_RDONLY, as Linux does.
	if flags&O_TRUNC != 0 && in.IsRegular() && len(in.data) > 0 {
		in.truncate(0)
		in.changes++
	}
	return fs.OpenDentry(d, flags), nil
}

// openLookup finds the dentry open(2) opens, creating a regular file when
// asked (Linux's open_last_lookups), and reports whether it created it.
func (fs *FS) openLookup(root, cwd *Dentry, path string, flags int, perm uint32) (d *Dentry, created bool, err error) {
	if flags&O_CREAT == 0 {
		d, err = fs.Lookup(root, cwd, path)
		return d, false, err
	}
	dir, last, kind, slash, err := fs.walk(root, cwd, path)
	switch {
	case err != nil:
		return nil, false, err
	case kind == lastRoot:
		return root, false, nil
	case kind != lastNormal:
		d, err = step(root, dir, last)
		return d, false, err
	case slash:
		// Linux refuses a trailing slash with O_CREAT before looking.
		return nil, false, errno.EISDIR
	}
	d, err = step(root, dir, last)
	if err != errno.ENOENT {
		return d, false, err
	}
	return fs.newDentry(last, fs.newInode(S_IFREG|perm&PermMask), dir), true, nil
}

// OpenDentry opens a regular file or directory that path lookup found, with
// the status flags open(2) keeps; it takes its own reference on d. Restart
// uses it directly: it creates and truncates nothing.
func (fs *FS) OpenDentry(d *Dentry, flags int) *File {
	d.Get()
	var ops FileOperations = regularOps{}
	if d.inode.IsDir() {
		ops = dirOps{}
	}
	mode := openMode(flags) | FMODE_LSEEK | FMODE_PREAD | FMODE_PWRITE
	return newFile(fs.reg, ops, d, flags&openFlagsKept|O_LARGEFILE, mode)
}
