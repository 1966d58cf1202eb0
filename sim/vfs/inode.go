package vfs

import (
	"unsafe"

	"github.com/ckptsim/ckptsim/sim/kref"
)

// Inode is a file on the simulated disk: a directory, a regular file with
// its contents, or a FIFO.
//
// Its reference count is held by the one Dentry that names it; hard links
// are not modelled, so an inode and its dentry live and die together.
type Inode struct {
	kref.Count
	fs   *FS
	ino  uint64
	mode uint32 // S_IFMT type bits and permission bits

	// data is a regular file's contents.
	data []byte
	// changes counts modifications of a regular file's contents (writes and
	// truncations). Checkpoint saves it so that restart can tell a file that
	// changed since (as Linux's i_version).
	changes uint64
	// tail is the page cache past the end of a regular file: the bytes of
	// its last page after the contents (nil while all zero; see
	// pagecache.go).
	tail []byte
	// mappings are the memory mappings of a regular file (Linux's i_mmap),
	// which truncation tells to drop their pages past the new end.
	mappings map[Mapping]struct{}

	// pipe is a FIFO's pipe while any file has the FIFO open; it is a
	// borrowed pointer, cleared when the pipe is released.
	pipe *Pipe

	// locks are the flock locks held on this inode.
	locks flockState
}

// Ref implements kref.Object.
func (i *Inode) Ref() *kref.Count { return &i.Count }

// Ino returns the inode number.
func (i *Inode) Ino() uint64 { return i.ino }

// Mode returns the inode's type and permission bits.
func (i *Inode) Mode() uint32 { return i.mode }

// IsDir reports whether the inode is a directory.
func (i *Inode) IsDir() bool { return i.mode&S_IFMT == S_IFDIR }

// IsRegular reports whether the inode is a regular file.
func (i *Inode) IsRegular() bool { return i.mode&S_IFMT == S_IFREG }

// IsFIFO reports whether the inode is a FIFO.
func (i *Inode) IsFIFO() bool { return i.mode&S_IFMT == S_IFIFO }

// Size returns a regular file's size in bytes (0 for other types).
func (i *Inode) Size() int64 { return int64(len(i.data)) }

// Changes returns the regular file's change counter.
func (i *Inode) Changes() uint64 { return i.changes }

// Contents returns a copy of a regular file's contents.
func (i *Inode) Contents() []byte { return append([]byte(nil), i.data...) }

// Pipe returns a FIFO's pipe while it is open, or nil.
func (i *Inode) Pipe() *Pipe { return i.pipe }

func (i *Inode) put() { i.Put(nil) }

// Dentry is a name in the directory tree (Linux's struct dentry): it ties a
// name in a parent directory to an inode.
//
// Its reference count is held by its parent directory while it is linked
// (the root's by the FS), by every open file on it, and by every fs state
// whose root or working directory it is. Unlinking removes it from its
// parent and drops the parent's reference; open files keep it, and through
// it the inode, alive.
type Dentry struct {
	kref.Count
	name  string
	inode *Inode
	// parent is borrowed: directories are never removed in this kernel (there
	// is no rmdir), so a parent outlives its children.
	parent   *Dentry
	children map[string]*Dentry // directories only
	unlinked bool
}

// Ref implements kref.Object.
func (d *Dentry) Ref() *kref.Count { return &d.Count }

// Inode returns the inode the dentry names.
func (d *Dentry) Inode() *Inode { return d.inode }

// Name returns the dentry's last path component ("/" for the root).
func (d *Dentry) Name() string { return d.name }

// Parent returns the parent directory's dentry (the root is its own parent).
func (d *Dentry) Parent() *Dentry { return d.parent }

// Unlinked reports whether the name has been removed from the tree while
// something still holds the dentry (Linux's d_unlinked).
func (d *Dentry) Unlinked() bool { return d.unlinked }

// Path returns the dentry's absolute path. An unlinked dentry's path is its
// last path before unlinking, with " (deleted)" appended as Linux's d_path
// does.
func (d *Dentry) Path() string {
	p := d.pathFrom(nil)
	if d.unlinked {
		p += " (deleted)"
	}
	return p
}

// PathFrom returns the dentry's path relative to root, as an absolute path
// inside root ("/" for root itself); for an unlinked dentry, the path it had.
// The second result is false when d is not below root.
func (d *Dentry) PathFrom(root *Dentry) (string, bool) {
	for e := d; ; e = e.parent {
		if e == root {
			return d.pathFrom(root), true
		}
		if e.parent == e {
			return "", false
		}
	}
}

func (d *Dentry) pathFrom(root *Dentry) string {
	// Measured first, then written from the end: one allocation, the
	// string itself (a checkpoint makes one for every open file).
	n := 0
	for e := d; e != root && e.parent != e; e = e.parent {
		n += 1 + len(e.name)
	}
	if n == 0 {
		return "/"
	}
	b := make([]byte, n)
	for e := d; e != root && e.parent != e; e = e.parent {
		n -= len(e.name)
		copy(b[n:], e.name)
		n--
		b[n] = '/'
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// Get takes a reference on the dentry (for a file or fs state that holds it).
func (d *Dentry) Get() { d.Count.Get() }

// Put drops a reference; the last one releases the dentry and its inode.
func (d *Dentry) Put() {
	d.Count.Put(func() { d.inode.put() })
}
