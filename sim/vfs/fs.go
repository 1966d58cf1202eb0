package vfs

import (
	"fmt"
	"sort"
	"strings"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// FS is an in-memory directory tree: the simulated disk.
//
// Like the rest of the package it is not safe for concurrent use by itself;
// the kernel serialises every call.
type FS struct {
	reg     *kref.Registry
	root    *Dentry
	nextIno uint64
}

// New returns a filesystem holding only an empty root directory, whose
// objects are counted in reg.
func New(reg *kref.Registry) *FS {
	fs := &FS{reg: reg, nextIno: 1}
	fs.root = fs.newDentry("/", fs.newInode(S_IFDIR|0755), nil)
	return fs
}

// Registry returns the registry the filesystem's objects are counted in.
func (fs *FS) Registry() *kref.Registry { return fs.reg }

// Root returns the root directory's dentry.
func (fs *FS) Root() *Dentry { return fs.root }

func (fs *FS) newInode(mode uint32) *Inode {
	in := &Inode{fs: fs, ino: fs.nextIno, mode: mode}
	fs.nextIno++
	in.Init(fs.reg, kref.Inode, in)
	return in
}

// newDentry links a new dentry for inode into parent (or makes it the root
// when parent is nil). The tree's reference is the dentry's first one; the
// inode's first reference passes to the dentry.
func (fs *FS) newDentry(name string, inode *Inode, parent *Dentry) *Dentry {
	d := &Dentry{name: name, inode: inode, parent: parent}
	if parent == nil {
		d.parent = d
	}
	if inode.IsDir() {
		d.children = make(map[string]*Dentry)
	}
	d.Init(fs.reg, kref.Dentry, d)
	if parent != nil {
		parent.children[name] = d
	}
	return d
}

// lastKind says what the final component of a path is.
type lastKind int

const (
	lastNormal lastKind = iota
	lastDot
	lastDotDot
	lastRoot // the path is only slashes
)

// walk resolves every component of path but the last, as Linux's
// path_parentat does, starting at root for an absolute path and at cwd for a
// relative one. ".." never climbs above root. It returns the directory that
// holds the last component, the component, its kind, and whether the path
// ended in a slash.
func (fs *FS) walk(root, cwd *Dentry, path string) (dir *Dentry, last string, kind lastKind, slash bool, err error) {
	// A path ends at its first NUL, as the C string a task passes does:
	// Linux's strncpy_from_user stops there, so no name holds a NUL.
	if i := strings.IndexByte(path, 0); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, "", 0, false, errno.ENOENT
	}
	if len(path) >= PATH_MAX {
		return nil, "", 0, false, errno.ENAMETOOLONG
	}
	dir = cwd
	if path[0] == '/' {
		dir = root
	}
	slash = strings.HasSuffix(path, "/")
	// The components, those between slashes, each stepped through as the
	// next is found, without a list of them: restart resolves a path for
	// every file it reopens.
	rest := strings.TrimRight(path, "/")
	if rest == "" {
		return root, "", lastRoot, slash, nil
	}
	for {
		rest = strings.TrimLeft(rest, "/")
		i := strings.IndexByte(rest, '/')
		if i < 0 {
			break
		}
		if dir, err = step(root, dir, rest[:i]); err != nil {
			return nil, "", 0, false, err
		}
		rest = rest[i:]
	}
	// The directory that holds the last component must be one.
	if !dir.inode.IsDir() {
		return nil, "", 0, false, errno.ENOTDIR
	}
	last = rest
	switch last {
	case ".":
		kind = lastDot
	case "..":
		kind = lastDotDot
	}
	return dir, last, kind, slash, nil
}

// step moves from directory dir through one path component.
func step(root, dir *Dentry, name string) (*Dentry, error) {
	if !dir.inode.IsDir() {
		return nil, errno.ENOTDIR
	}
	switch name {
	case ".":
		return dir, nil
	case "..":
		if dir == root {
			return dir, nil
		}
		return dir.parent, nil
	}
	if len(name) > NAME_MAX {
		return nil, errno.ENAMETOOLONG
	}
	child, ok := dir.children[name]
	if !ok {
		return nil, errno.ENOENT
	}
	return child, nil
}

// Lookup resolves path to an existing dentry, as Linux's path lookup does
// for every call that does not create. A trailing slash requires a
// directory. The dentry is borrowed: take a reference to keep it.
func (fs *FS) Lookup(root, cwd *Dentry, path string) (*Dentry, error) {
	dir, last, kind, slash, err := fs.walk(root, cwd, path)
	if err != nil {
		return nil, err
	}
	var d *Dentry
	switch kind {
	case lastRoot:
		return root, nil
	default:
		if d, err = step(root, dir, last); err != nil {
			return nil, err
		}
	}
	if slash && !d.inode.IsDir() {
		return nil, errno.ENOTDIR
	}
	return d, nil
}

// create resolves the parent of path and checks that its last component
// names nothing yet, for mkdir and mknod (Linux's filename_create). isDir
// says whether a trailing slash is allowed.
func (fs *FS) create(root, cwd *Dentry, path string, isDir bool) (*Dentry, string, error) {
	dir, last, kind, slash, err := fs.walk(root, cwd, path)
	if err != nil {
		return nil, "", err
	}
	if kind != lastNormal {
		return nil, "", errno.EEXIST
	}
	if len(last) > NAME_MAX {
		return nil, "", errno.ENAMETOOLONG
	}
	if _, ok := dir.children[last]; ok {
		return nil, "", errno.EEXIST
	}
	if slash && !isDir {
		return nil, "", errno.ENOENT
	}
	return dir, last, nil
}

// Mkdir creates a directory with permission bits perm.
func (fs *FS) Mkdir(root, cwd *Dentry, path string, perm uint32) error {
	dir, name, err := fs.create(root, cwd, path, true)
	if err != nil {
		return err
	}
	fs.newDentry(name, fs.newInode(S_IFDIR|perm&PermMask), dir)
	return nil
}

// Mkfifo creates a FIFO with permission bits perm.
func (fs *FS) Mkfifo(root, cwd *Dentry, path string, perm uint32) error {
	dir, name, err := fs.create(root, cwd, path, false)
	if err != nil {
		return err
	}
	fs.newDentry(name, fs.newInode(S_IFIFO|perm&PermMask), dir)
	return nil
}

// WriteFile creates or replaces the regular file at path with contents, for
// building a disk before any task runs. It bumps the change counter as a
// write would.
func (fs *FS) WriteFile(path string, contents []byte, perm uint32) error {
	d, err := fs.Lookup(fs.root, fs.root, path)
	switch {
	case err == nil && d.inode.IsDir():
		return errno.EISDIR
	case err == nil && !d.inode.IsRegular():
		return fmt.Errorf("%s is not a regular file: %w", path, errno.EINVAL)
	case err == nil:
		d.inode.replace(contents)
		return nil
	}
	dir, name, err := fs.create(fs.root, fs.root, path, false)
	if err != nil {
		return err
	}
	in := fs.newInode(S_IFREG | perm&PermMask)
	in.data = append([]byte(nil), contents...)
	in.changes++
	fs.newDentry(name, in, dir)
	return nil
}

// Unlink removes a name that is not a directory. Files open on it keep the
// dentry, and so the inode and its contents, alive.
func (fs *FS) Unlink(root, cwd *Dentry, path string) error {
	dir, last, kind, slash, err := fs.walk(root, cwd, path)
	if err != nil {
		return err
	}
	if kind != lastNormal {
		return errno.EISDIR
	}
	d, err := step(root, dir, last)
	if err != nil {
		return err
	}
	switch {
	case d.inode.IsDir():
		return errno.EISDIR
	case slash:
		return errno.ENOTDIR
	}
	delete(dir.children, last)
	d.unlinked = true
	d.Put()
	return nil
}

// Walk calls fn for every linked dentry of the tree, parents before
// children and siblings in name order.
func (fs *FS) Walk(fn func(d *Dentry)) {
	var visit func(d *Dentry)
	visit = func(d *Dentry) {
		fn(d)
		for _, name := range sortedNames(d.children) {
			visit(d.children[name])
		}
	}
	visit(fs.root)
}

func sortedNames(m map[string]*Dentry) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Copy returns a deep copy of the disk, its objects counted in reg: the
// same tree, inode numbers, modes, contents and change counters, and nothing
// of what is only open state (pipes of open FIFOs, locks, unlinked files).
// A restarted world runs on such a copy, so that it shares nothing with the
// world it came from.
func (fs *FS) Copy(reg *kref.Registry) *FS {
	out := &FS{reg: reg, nextIno: fs.nextIno}
	var copyDir func(src, dst *Dentry)
	copyDir = func(src, dst *Dentry) {
		for _, name := range sortedNames(src.children) {
			s := src.children[name]
			in := &Inode{fs: out, ino: s.inode.ino, mode: s.inode.mode, changes: s.inode.changes}
			in.data = append([]byte(nil), s.inode.data...)
			in.Init(reg, kref.Inode, in)
			d := out.newDentry(name, in, dst)
			if in.IsDir() {
				copyDir(s, d)
			}
		}
	}
	rootInode := &Inode{fs: out, ino: fs.root.inode.ino, mode: fs.root.inode.mode}
	rootInode.Init(reg, kref.Inode, rootInode)
	out.root = out.newDentry("/", rootInode, nil)
	copyDir(fs.root, out.root)
	return out
}
