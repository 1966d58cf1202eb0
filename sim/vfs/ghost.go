package vfs

import (
	"fmt"
	"path"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// A ghost is an unlinked file that is still open: no path names it any
// more, so a checkpoint saves the inode itself, once, however many files
// are open on it: its mode, its last path and, for a regular file, its
// contents and change counter. Restart recreates it as an inode named in
// its old directory but linked nowhere.

// GhostRecord is the GHOST record's fixed part; the tail is the ghost's
// last path (relative to the container's root), then its contents.
type GhostRecord struct {
	Mode    uint32 `doc:"inode type and permission bits (st_mode): a regular file or a FIFO"`
	PathLen uint32 `doc:"length of the path at the start of the tail; the contents follow it"`
	Changes uint64 `doc:"a regular file's change counter"`
}

// GhostKind is the GHOST record.
var GhostKind = image.Define[GhostRecord](image.Spec{
	Type: RecGhost, Name: "GHOST", Doc: "An unlinked file still open.", Object: ObjGhost,
	Place:   "after the ghost's OBJREF, before the FILE record of the first file open on it.",
	Meaning: map[string]image.Meaning{"Mode": {Format: func(v uint64) string { return FormatMode(uint32(v)) }, Octal: true}},
	Tail: image.TailSpec{Doc: "its last path, then its contents", Min: 2, Max: image.MaxPath + image.MaxContents,
		Parts: []image.TailPart{{Name: "path", LenField: "PathLen"}, {Name: "contents"}}},
	Count: image.Count{Name: "unlinked files"},
})

func init() {
	object.Register(object.Ops{Type: ObjGhost, Name: "ghost", Checkpoint: checkpointGhost, Restore: restoreGhost})
}

func checkpointGhost(ctx object.Saver, obj any) error {
	d := obj.(*Dentry)
	p, err := SavedPath(ctx, d)
	if err != nil {
		return err
	}
	in := d.inode
	return GhostKind.Write(ctx, &GhostRecord{Mode: in.mode, PathLen: uint32(len(p)), Changes: in.changes}, []byte(p), in.data)
}

// restoreGhost reads a GHOST record and recreates its inode.
func restoreGhost(ctx object.Restorer) (any, error) {
	g, r, err := GhostKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if int64(g.PathLen) > int64(len(r.Tail)) || g.PathLen > image.MaxPath {
		return nil, r.Errorf("a %d-byte path in a %d-byte tail", g.PathLen, len(r.Tail))
	}
	p, contents := string(r.Tail[:g.PathLen]), r.OwnTail()[g.PathLen:]
	if err := canonical(p); err != nil || p == "/" {
		return nil, r.Errorf("ghost path %q", p)
	}
	dir, err := LookupSaved(ctx, path.Dir(p))
	if err != nil {
		return nil, r.Wrap(err)
	}
	d, err := containerOf(ctx).FS.NewGhost(dir, path.Base(p), g.Mode, contents, g.Changes)
	if err != nil {
		return nil, r.Wrap(err)
	}
	return d, nil
}

// NewGhost recreates an unlinked file that a checkpoint saved: an inode
// with the given mode (a regular file or a FIFO), contents and change
// counter, named name in parent but not linked there, as if it had been
// unlinked already. The inode takes contents over: the caller must not
// use them again. The caller holds the dentry's one reference.
func (fs *FS) NewGhost(parent *Dentry, name string, mode uint32, contents []byte, changes uint64) (*Dentry, error) {
	if t := mode & S_IFMT; t != S_IFREG && t != S_IFIFO || mode&^(S_IFMT|PermMask) != 0 {
		return nil, fmt.Errorf("ghost with mode %#o: %w", mode, errno.EINVAL)
	}
	if mode&S_IFMT == S_IFIFO && (len(contents) > 0 || changes != 0) {
		return nil, fmt.Errorf("ghost FIFO with contents: %w", errno.EINVAL)
	}
	if len(contents) > MaxFileSize {
		return nil, fmt.Errorf("ghost of %d bytes, more than a file holds (%d): %w", len(contents), MaxFileSize, errno.EINVAL)
	}
	if !parent.inode.IsDir() || name == "" || len(name) > NAME_MAX {
		return nil, fmt.Errorf("ghost name %q: %w", name, errno.EINVAL)
	}
	in := fs.newInode(mode)
	in.data = contents[:len(contents):len(contents)] // a write past it reallocates
	in.changes = changes
	d := &Dentry{name: name, inode: in, parent: parent, unlinked: true}
	d.Init(fs.reg, kref.Dentry, d)
	return d, nil
}
