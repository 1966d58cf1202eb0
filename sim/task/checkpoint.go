package task

import (
	"fmt"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// This file is how file tables and fs states are saved and restored: both
// are shared objects (CLONE_FILES, CLONE_FS), saved once under an objref
// and referred to by every task that shares them.

// The object types of this package: their numbers in OBJREF records.
const (
	ObjFileTable object.Type = 1
	ObjFS        object.Type = 2
)

// FileTableRecord is the FILE_TABLE record: a file table's state; its
// descriptors follow.
type FileTableRecord struct {
	Fds uint32 `doc:"number of fd records that follow, at most nr_open"`
	Pad uint32 `doc:"zero"`
}

// FdRecord is the FD record: one open descriptor. The file's own records
// come before it on the file's first encounter.
type FdRecord struct {
	Fd          int32  `doc:"descriptor number, increasing within a table"`
	File        int32  `doc:"objref of the open file"`
	CloseOnExec uint32 `doc:"1 if close-on-exec is set, else 0"`
	Pad         uint32 `doc:"zero"`
}

// FSRecord is the FS record: an fs state's root and working directory, as
// paths relative to the container's root, in the tail.
type FSRecord struct {
	RootLen uint32 `doc:"length of the root path at the start of the tail"`
	CwdLen  uint32 `doc:"length of the working directory's path after it"`
}

// The records of file tables and fs states: their numbers, part of the
// format, and kinds.
const (
	RecFileTable image.Type = 20
	RecFd        image.Type = 21
	RecFS        image.Type = 22
)

var (
	FileTableKind = image.Define[FileTableRecord](image.Spec{
		Type: RecFileTable, Name: "FILE_TABLE", Doc: "A file table's state.", Object: ObjFileTable,
		Place: "after the file table's OBJREF; its FD records follow, each after its file's records on the file's first encounter.",
		Count: image.Count{Name: "file tables"},
	})
	FdKind = image.Define[FdRecord](image.Spec{
		Type: RecFd, Name: "FD", Doc: "One descriptor of a file table.", Object: ObjFileTable,
		Meaning: map[string]image.Meaning{
			"File":        {Ref: vfs.ObjFile},
			"CloseOnExec": {Names: map[uint64]string{1: "cloexec"}},
		},
		Count: image.Count{Name: "descriptors"},
	})
	FSKind = image.Define[FSRecord](image.Spec{
		Type: RecFS, Name: "FS", Doc: "An fs state.", Object: ObjFS,
		Place: "after the fs state's OBJREF.",
		Tail: image.TailSpec{Doc: "root path, then working directory path", Min: 2, Max: 2 * image.MaxPath,
			Parts: []image.TailPart{{Name: "root", LenField: "RootLen"}, {Name: "cwd", LenField: "CwdLen"}}},
		Count: image.Count{Name: "fs states"},
	})
)

func init() {
	object.Register(object.Ops{Type: ObjFileTable, Name: "file table",
		Checkpoint: checkpointFileTable, Restore: restoreFileTable, Collect: collectFileTable})
	object.Register(object.Ops{Type: ObjFS, Name: "fs state", Checkpoint: checkpointFS, Restore: restoreFS})
}

// Limits are the kernel's limits that a restored file table must respect;
// the engine sets them for a restart with SetLimits.
type Limits struct {
	NrOpen int // fs.nr_open: no table holds more descriptors
	NoFile int // RLIMIT_NOFILE: descriptor numbers are below it
}

var limitsKey = object.Key[Limits]{Name: "task limits"}

// SetLimits gives one restart the kernel's limits.
func SetLimits(ctx object.Locals, l Limits) { *object.Local(ctx, &limitsKey) = l }

// checkpointFileTable saves a table: FILE_TABLE, then each descriptor in
// increasing order, its file saved on its first encounter.
func checkpointFileTable(ctx object.Saver, obj any) error {
	files := obj.(*FileTable)
	fds := files.Fds()
	if err := FileTableKind.Write(ctx, &FileTableRecord{Fds: uint32(len(fds))}); err != nil {
		return err
	}
	for _, fd := range fds {
		ref, err := ctx.Save(files.fds[fd], vfs.ObjFile)
		if err != nil {
			return fmt.Errorf("fd %d: %w", fd, err)
		}
		rec := FdRecord{Fd: int32(fd), File: ref}
		if files.cloexec[fd] {
			rec.CloseOnExec = 1
		}
		if err := FdKind.Write(ctx, &rec); err != nil {
			return err
		}
	}
	return nil
}

func collectFileTable(ctx object.Collector, obj any) error {
	files := obj.(*FileTable)
	for _, fd := range files.Fds() {
		if err := ctx.Collect(files.fds[fd], vfs.ObjFile, object.At("fd", fd)); err != nil {
			return err
		}
	}
	return nil
}

// restoreFileTable reads a table and its descriptors, each installed at its
// saved number with its close-on-exec bit. Numbers must increase and stay
// below RLIMIT_NOFILE, and there may be at most nr_open of them (EMFILE).
func restoreFileTable(ctx object.Restorer) (any, error) {
	ft, r, err := FileTableKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	lim := object.Local(ctx, &limitsKey)
	if int64(ft.Fds) > int64(lim.NrOpen) {
		return nil, r.Wrap(fmt.Errorf("%d descriptors, nr_open is %d: %w", ft.Fds, lim.NrOpen, errno.EMFILE))
	}
	files := NewFileTable(ctx.Registry())
	last := int32(-1)
	for range ft.Fds {
		if err := restoreFd(ctx, files, &last, lim); err != nil {
			files.Put()
			return nil, err
		}
	}
	return files, nil
}

func restoreFd(ctx object.Restorer, files *FileTable, last *int32, lim *Limits) error {
	fd, r, err := FdKind.Read(ctx)
	if err != nil {
		return err
	}
	switch {
	case fd.Fd <= *last:
		return r.Errorf("fd %d after fd %d: descriptors must increase", fd.Fd, *last)
	case int64(fd.Fd) >= int64(lim.NoFile):
		return r.Wrap(fmt.Errorf("fd %d is beyond RLIMIT_NOFILE %d: %w", fd.Fd, lim.NoFile, errno.EMFILE))
	case fd.CloseOnExec > 1:
		return r.Errorf("fd %d: close-on-exec %d", fd.Fd, fd.CloseOnExec)
	}
	*last = fd.Fd
	obj, err := ctx.Fetch(fd.File, vfs.ObjFile)
	if err != nil {
		return fmt.Errorf("fd %d: %w", fd.Fd, r.Wrap(err))
	}
	f := obj.(*vfs.File)
	f.Get()
	files.Install(int(fd.Fd), f, fd.CloseOnExec == 1)
	return nil
}

// checkpointFS saves an fs state's root and working directory by path.
func checkpointFS(ctx object.Saver, obj any) error {
	fs := obj.(*FSState)
	root, err := vfs.SavedPath(ctx, fs.root)
	if err != nil {
		return err
	}
	cwd, err := vfs.SavedPath(ctx, fs.cwd)
	if err != nil {
		return err
	}
	return FSKind.Write(ctx, &FSRecord{RootLen: uint32(len(root)), CwdLen: uint32(len(cwd))}, []byte(root), []byte(cwd))
}

// restoreFS reads an fs state and finds its directories, which must exist
// and be directories.
func restoreFS(ctx object.Restorer) (any, error) {
	fs, r, err := FSKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if int64(fs.RootLen)+int64(fs.CwdLen) != int64(len(r.Tail)) {
		return nil, r.Errorf("paths of %d and %d bytes in a %d-byte tail", fs.RootLen, fs.CwdLen, len(r.Tail))
	}
	var dirs [2]*vfs.Dentry
	for i, p := range []string{string(r.Tail[:fs.RootLen]), string(r.Tail[fs.RootLen:])} {
		d, err := vfs.LookupSaved(ctx, p)
		if err == nil && !d.Inode().IsDir() {
			err = fmt.Errorf("%s is not a directory: %w", p, errno.ENOTDIR)
		}
		if err != nil {
			return nil, r.Wrap(err)
		}
		dirs[i] = d
	}
	return NewFSState(ctx.Registry(), dirs[0], dirs[1]), nil
}
