package vfs

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unsafe"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// This file is the VFS side of checkpoint/restart: the open file as an
// object (its FILE record, the refusals every file shares, the table of
// file types that restore themselves), paths as an image saves them, and
// regular files and directories. Pipes and FIFOs are in pipe_checkpoint.go,
// unlinked files in ghost.go. The engine (package ckpt) reaches all of it
// through package object's contract, as Linux reaches f_op->checkpoint.

// The object types of this package: their numbers in OBJREF records.
const (
	ObjFile  object.Type = 3
	ObjPipe  object.Type = 4
	ObjGhost object.Type = 5
)

// Container is what the VFS side needs to know of the container being
// saved or restored; the engine sets it with SetContainer before anything
// else.
type Container struct {
	FS *FS
	// Root is the container's root directory: paths are saved relative to
	// it and resolved under it.
	Root *Dentry
	// Owner returns a file's owner as F_GETOWN reports it (0 once the task
	// it named is gone); checkpoint only.
	Owner func(f *File) int
}

var containerKey = object.Key[Container]{Name: "vfs container"}

// SetContainer tells the VFS side of one checkpoint or restart about the
// container.
func SetContainer(ctx object.Locals, c Container) { *object.Local(ctx, &containerKey) = c }

func containerOf(ctx object.Locals) *Container { return object.Local(ctx, &containerKey) }

// SavedPath returns d's path as an image saves it, relative to the
// container's root. Linux lets a task work below a directory whose path is
// longer than PATH_MAX, through relative paths, but no image can name it:
// restart, like open(2), takes no longer one. It is refused here, before the
// image holds it (ENAMETOOLONG); a path outside the root is EXDEV.
func SavedPath(ctx object.Locals, d *Dentry) (string, error) {
	p, ok := d.PathFrom(containerOf(ctx).Root)
	if !ok {
		return "", fmt.Errorf("%s is outside the container's root: %w", d.Path(), errno.EXDEV)
	}
	if len(p) > image.MaxPath {
		return "", fmt.Errorf("a %d-byte path, longer than PATH_MAX (%q...): %w", len(p), p[:40], errno.ENAMETOOLONG)
	}
	return p, nil
}

// LookupSaved resolves a path an image saved, under the container's root. A
// saved path is canonical: absolute, no empty, "." or ".." components, no
// trailing slash, no NUL. Anything else was not written by a checkpoint,
// and is refused (EINVAL) rather than resolved, which also keeps every path
// inside the container's root.
func LookupSaved(ctx object.Locals, p string) (*Dentry, error) {
	if err := canonical(p); err != nil {
		return nil, err
	}
	c := containerOf(ctx)
	d, err := c.FS.Lookup(c.Root, c.Root, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return d, nil
}

func canonical(p string) error {
	if p == "/" {
		return nil
	}
	if len(p) > image.MaxPath || !strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "/../") ||
		strings.HasSuffix(p, "/..") || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path %q is not a canonical path inside the container: %w", p, errno.EINVAL)
	}
	return nil
}

// FileRecord is the FILE record's fixed part: the fields every open file
// has, and, from format 1.0, those of the types that came first (a pipe's
// objref, a ghost's, a regular file's size and change counter, and from
// 1.2 its page-cache tail; from 1.3 whether a FIFO's O_ASYNC came from
// open(2)). A type added later leaves those zero and
// writes a record of its own after this one. The tail is the page-cache
// tail, if any, then the path the file was opened through.
type FileRecord struct {
	FileType FileType `doc:"file type (1 regular, 2 directory, 3 pipe, 4 FIFO, ...)"`
	Async    uint16   `doc:"FIFO, from format 1.3: 1 when its O_ASYNC is the one open(2) gave it, on no fasync list, which F_SETFL cannot clear; else 0 (O_ASYNC, if set, was set by F_SETFL and F_SETFL clears it)"`
	Flags    uint32   `doc:"status flags, as F_GETFL reports them"`
	Mode     uint32   `doc:"mode bits: 1 read, 2 write, 4 lseek, 8 pread, 0x10 pwrite"`
	Pipe     int32    `doc:"pipe end or FIFO: objref of its pipe; else 0"`
	Ghost    int32    `doc:"unlinked file: objref of its ghost inode; else 0"`
	PageTail uint32   `doc:"regular file, from format 1.2: bytes of its last page past its end, which a store through a shared mapping left in memory only; they come first in the tail; else 0"`
	Pos      int64    `doc:"file position"`
	Version  uint64   `doc:"version counter: lseeks that moved the position"`
	Size     int64    `doc:"regular file: its size when saved; else 0"`
	Changes  uint64   `doc:"regular file: its change counter when saved; else 0"`
}

// The record types of this package; their numbers are part of the format.
const (
	RecFile    image.Type = 30
	RecPipe    image.Type = 31
	RecPipeBuf image.Type = 32
	RecGhost   image.Type = 33
)

// FileKind is the FILE record.
var FileKind = image.Define[FileRecord](image.Spec{
	Type: RecFile, Name: "FILE", Doc: "An open file.", Object: ObjFile,
	Place: "after the file's OBJREF (and its ghost's records, for an unlinked file), before the FD record that first refers to it.",
	Meaning: map[string]image.Meaning{
		"FileType": {Format: func(v uint64) string { return FileType(v).String() }},
		"Async":    {Names: map[uint64]string{1: "from open"}},
		"Flags":    {Format: func(v uint64) string { return FormatOpenFlags(int(v)) }, Octal: true},
		"Mode":     {Format: func(v uint64) string { return FMode(v).String() }, Hex: true},
		"Pipe":     {Ref: ObjPipe, After: true},
		"Ghost":    {Ref: ObjGhost},
	},
	Tail: image.TailSpec{Doc: "a regular file's page-cache tail (PageTail bytes), then the path, for a linked regular file, directory or FIFO",
		Max: PageSize - 1 + image.MaxPath, Parts: []image.TailPart{{Name: "page tail", LenField: "PageTail"}, {Name: "path"}}},
	Count: image.Count{Name: "files", By: "FileType"},
})

// CheckpointOps are a file type's checkpoint operations, Linux's
// f_op->checkpoint and ->collect. A type whose FileOperations lack them
// cannot be checkpointed (EBADF).
type CheckpointOps interface {
	// Checkpoint writes the file's records: rec, whose common fields are
	// set, with the type's own fields filled in (WriteFileRecord), and any
	// record of its own after it, saving the objects the file shares with
	// others (a pipe) through ctx.
	Checkpoint(ctx object.Saver, f *File, rec FileRecord, path string) error
	// Collect counts, for leak detection, every shared object the file
	// holds.
	Collect(ctx object.Collector, f *File) error
}

// WriteFileRecord writes a file's FILE record, with its path.
func WriteFileRecord(ctx object.Saver, rec *FileRecord, path string) error {
	return FileKind.Write(ctx, rec, image.StringTail(path))
}

// tails are the inodes whose page-cache tail this checkpoint or restart
// has saved or restored: the first FILE record of an inode carries it.
type tails map[*Inode]bool

var tailsKey = object.Key[tails]{Name: "vfs page tails"}

func tailsOf(ctx object.Locals) tails {
	t := object.Local(ctx, &tailsKey)
	if *t == nil {
		*t = tails{}
	}
	return *t
}

// FileType describes one type of open file to restart.
type FileTypeOps struct {
	Type FileType
	Name string
	// Named files have a name: a path, or the ghost of an unlinked one
	// when Unlinkable; the others have neither.
	Named, Unlinkable bool
	// Piped files name their pipe in the FILE record; Sized files their
	// size and change counter. Fields a type does not use must be zero.
	Piped, Sized bool
	// Restore recreates an open file of this type from its FILE record,
	// whose common fields are checked, and d, the dentry its name or ghost
	// gives (nil when not Named); it reads any record of the type's own
	// that follows. The file comes back with one reference.
	Restore func(ctx object.Restorer, rec FileRecord, d *Dentry) (*File, error)
}

var fileTypes = map[FileType]*FileTypeOps{}

// RegisterFileType enters a type of open file for restart. Types outside
// this package (sockets) call it at init; it panics on a type number taken.
func RegisterFileType(t FileTypeOps) {
	if fileTypes[t.Type] != nil || t.Type == 0 || t.Name == "" || t.Restore == nil {
		panic(fmt.Sprintf("vfs: file type %d %q registered twice or incomplete", t.Type, t.Name))
	}
	fileTypes[t.Type] = &t
}

func (t FileType) String() string {
	if ops := fileTypes[t]; ops != nil {
		return ops.Name
	}
	return fmt.Sprintf("file type %d", int(t))
}

func init() {
	object.Register(object.Ops{Type: ObjFile, Name: "file",
		Checkpoint: checkpointFile, Restore: restoreFile, Collect: collectFile})
	RegisterFileType(FileTypeOps{Type: TypeRegular, Name: "regular", Named: true, Unlinkable: true, Sized: true, Restore: restoreRegular})
	RegisterFileType(FileTypeOps{Type: TypeDirectory, Name: "directory", Named: true, Restore: restoreDirectory})
}

// checkpointFile saves an open file: the fields every file has and its name
// (a path, or the ghost of an unlinked file, saved first), then whatever its
// type adds. It refuses, as the seeds do, a file holding a lock (EBADF), a
// file with an owner (EBUSY), and a file whose type has no checkpoint
// operations (EBADF).
func checkpointFile(ctx object.Saver, obj any) error {
	f := obj.(*File)
	if f.lock != 0 {
		return fmt.Errorf("the file holds a flock lock: %w", errno.EBADF)
	}
	if owner := containerOf(ctx).Owner(f); owner != 0 {
		return fmt.Errorf("the file has an owner (F_SETOWN %d): %w", owner, errno.EBUSY)
	}
	ops, ok := f.ops.(CheckpointOps)
	if !ok {
		return fmt.Errorf("a %v file cannot be checkpointed: %w", f.Type(), errno.EBADF)
	}
	rec := FileRecord{FileType: f.Type(), Flags: uint32(f.flags), Mode: uint32(f.mode), Pos: f.pos, Version: f.version}
	if f.AsyncFromOpen() {
		rec.Async = 1
	}
	var p string
	if d := f.dentry; d != nil && d.unlinked {
		ref, err := ctx.Save(d, ObjGhost)
		if err != nil {
			return err
		}
		rec.Ghost = ref
	} else if d != nil {
		var err error
		if p, err = SavedPath(ctx, d); err != nil {
			return err
		}
	}
	return ops.Checkpoint(ctx, f, rec, p)
}

// collectFile counts the ghost of an unlinked file, then whatever the
// file's type holds.
func collectFile(ctx object.Collector, obj any) error {
	f := obj.(*File)
	if d := f.dentry; d != nil && d.unlinked {
		if err := ctx.Collect(d, ObjGhost, object.Named("the unlinked file")); err != nil {
			return err
		}
	}
	if ops, ok := f.ops.(CheckpointOps); ok {
		return ops.Collect(ctx, f)
	}
	return nil
}

// dangerousFlags would create or truncate a file if a restart honoured
// them; open(2) never keeps them, so a record that has them was tampered
// with.
const dangerousFlags = O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY

// restoreFile recreates an open file: it reads the FILE record, checks the
// fields every file has and that the type uses exactly the fields it owns,
// finds the inode by path or ghost, has the file's type recreate the file,
// and gives it the saved flags, position and version.
func restoreFile(ctx object.Restorer) (any, error) {
	rec, r, err := FileKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if int64(rec.PageTail) > int64(len(r.Tail)) {
		return nil, r.Errorf("a page tail of %d bytes in a %d-byte tail", rec.PageTail, len(r.Tail))
	}
	// The record's bytes stay as they are read, and nothing keeps the
	// path past this restore (a lookup walks it; errors copy it), so it
	// is not copied: a copy per file reopened.
	path := unsafe.String(unsafe.SliceData(r.Tail[rec.PageTail:]), len(r.Tail)-int(rec.PageTail))
	ops := fileTypes[rec.FileType]
	if err := checkFileRecord(ops, &rec, path); err != nil {
		return nil, r.Wrap(err)
	}
	var d *Dentry
	switch {
	case rec.Ghost != 0:
		obj, err := ctx.Fetch(rec.Ghost, ObjGhost)
		if err != nil {
			return nil, r.Wrap(err)
		}
		d = obj.(*Dentry)
		// The ghost and the file are both the image's: a mismatch is the
		// image contradicting itself, not a disk that changed.
		if in := d.inode; rec.FileType == TypeRegular && !in.IsRegular() || rec.FileType == TypeFIFO && !in.IsFIFO() {
			return nil, r.Errorf("a %v file on ghost %d, %s, whose mode is %#o", rec.FileType, rec.Ghost, d.Path(), in.Mode())
		}
	case path != "":
		if d, err = LookupSaved(ctx, path); err != nil {
			return nil, r.Wrap(err)
		}
	}
	f, err := ops.Restore(ctx, rec, d)
	if err == nil && rec.PageTail > 0 {
		err = restoreTail(ctx, d.inode, r.Tail[:rec.PageTail])
	}
	if err != nil {
		if f != nil {
			f.Put()
		}
		return nil, r.Wrap(err)
	}
	if err := restoreCommon(f, &rec); err != nil {
		f.Put()
		return nil, r.Wrap(err)
	}
	return f, nil
}

// checkFileRecord checks that a FILE record's fields fit its type: a known
// type, flags that create or truncate nothing, known mode bits, a name
// exactly when the type has one, and zero in every field of the other
// types.
func checkFileRecord(ops *FileTypeOps, rec *FileRecord, path string) error {
	switch {
	case ops == nil:
		return fmt.Errorf("file type %d: %w", rec.FileType, errno.EINVAL)
	case int(rec.Flags)&dangerousFlags != 0:
		return fmt.Errorf("flags %s could create or truncate: %w", FormatOpenFlags(int(rec.Flags)), errno.EINVAL)
	case rec.Async > 1 || rec.Async == 1 && (rec.FileType != TypeFIFO || rec.Flags&O_ASYNC == 0):
		// Only open(2) of a FIFO leaves O_ASYNC off the fasync list.
		return fmt.Errorf("O_ASYNC from open (%d) on a %v file with flags %s: %w",
			rec.Async, rec.FileType, FormatOpenFlags(int(rec.Flags)), errno.EINVAL)
	case FMode(rec.Mode)&^(FMODE_READ|FMODE_WRITE|FMODE_LSEEK|FMODE_PREAD|FMODE_PWRITE) != 0:
		return fmt.Errorf("mode bits %v: %w", FMode(rec.Mode), errno.EINVAL)
	case ops.Named && (path == "") == (rec.Ghost == 0):
		return fmt.Errorf("a %v file needs a path or a ghost, not both: %w", rec.FileType, errno.EINVAL)
	case !ops.Named && (path != "" || rec.Ghost != 0):
		return fmt.Errorf("a %v file with a name: %w", rec.FileType, errno.EINVAL)
	case rec.Ghost < 0 || rec.Ghost != 0 && !ops.Unlinkable:
		return fmt.Errorf("ghost objref %d for a %v file: %w", rec.Ghost, rec.FileType, errno.EINVAL)
	case ops.Piped != (rec.Pipe != 0) || rec.Pipe < 0:
		return fmt.Errorf("pipe objref %d for a %v file: %w", rec.Pipe, rec.FileType, errno.EINVAL)
	case !ops.Sized && (rec.Size != 0 || rec.Changes != 0 || rec.PageTail != 0):
		return fmt.Errorf("size, change counter or page tail for a %v file: %w", rec.FileType, errno.EINVAL)
	}
	return nil
}

// restoreCommon gives a new file the saved status flags, position and
// version, after checking that its mode is the saved one. A file of a type
// with ->fasync goes on the fasync list when O_ASYNC was set by F_SETFL,
// and stays off it when open(2) gave it (Async).
func restoreCommon(f *File, rec *FileRecord) error {
	if f.mode != FMode(rec.Mode) {
		return fmt.Errorf("saved mode %v, the reopened file has %v: %w", FMode(rec.Mode), f.mode, errno.EINVAL)
	}
	if err := f.SetFlags(int(rec.Flags)); err != nil || f.flags != int(rec.Flags) {
		return fmt.Errorf("status flags %s cannot be restored (got %s): %w",
			FormatOpenFlags(int(rec.Flags)), FormatOpenFlags(f.flags), errno.EINVAL)
	}
	f.fasync = f.flags&O_ASYNC != 0 && rec.Async == 0 && f.ops.SetflMask()&O_ASYNC != 0
	switch {
	case f.mode&FMODE_LSEEK != 0:
		if _, err := f.ops.Seek(f, rec.Pos, SEEK_SET); err != nil {
			return fmt.Errorf("position %d: %w", rec.Pos, err)
		}
	case rec.Pos != 0:
		return fmt.Errorf("position %d on a file that cannot seek: %w", rec.Pos, errno.EINVAL)
	}
	f.version = rec.Version
	return nil
}

// stale is the error for a file whose inode is not what was saved.
func stale(d *Dentry, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", d.Path(), fmt.Sprintf(format, args...), errno.ESTALE)
}

// Checkpoint saves a regular file's size and change counter besides the
// common fields and, with the first file met on its inode, the page-cache
// tail past its end, if a store left anything there.
func (regularOps) Checkpoint(ctx object.Saver, f *File, rec FileRecord, path string) error {
	in := f.dentry.inode
	rec.Size, rec.Changes = in.Size(), in.changes
	// Only an inode with a tail is remembered: a map entry for every
	// inode a checkpoint meets would cost a map insert per file.
	var tail []byte
	if len(in.tail) > 0 {
		if seen := tailsOf(ctx); !seen[in] {
			seen[in] = true
			tail = in.Tail()
		}
	}
	rec.PageTail = uint32(len(tail))
	return FileKind.Write(ctx, &rec, tail, image.StringTail(path))
}

// restoreTail gives an inode the page-cache tail its first FILE record
// carries: bytes for exactly the room its last page has past the end, not
// all zero (a checkpoint saves none then), and only once.
func restoreTail(ctx object.Restorer, in *Inode, tail []byte) error {
	seen := tailsOf(ctx)
	switch {
	case seen[in]:
		return fmt.Errorf("a second page tail for one inode: %w", errno.EINVAL)
	case int64(len(tail)) != in.tailLen():
		return fmt.Errorf("a page tail of %d bytes, where the last page has %d past the end: %w", len(tail), in.tailLen(), errno.EINVAL)
	case !slices.ContainsFunc(tail, func(b byte) bool { return b != 0 }):
		return fmt.Errorf("a page tail of zeros: %w", errno.EINVAL)
	}
	seen[in] = true
	in.SetTail(tail)
	return nil
}

// Collect: a regular file holds no shared object; its name is saved by path,
// which leak detection does not count.
func (regularOps) Collect(ctx object.Collector, f *File) error { return nil }

// restoreRegular reopens a regular file, refusing one that changed since
// the checkpoint (ESTALE) or, for an unlinked file, a record that
// contradicts its ghost (EINVAL).
func restoreRegular(ctx object.Restorer, rec FileRecord, d *Dentry) (*File, error) {
	in := d.inode
	switch {
	case !in.IsRegular():
		return nil, stale(d, "no longer a regular file")
	case in.Size() == rec.Size && in.changes == rec.Changes:
	case rec.Ghost != 0:
		// The ghost is the image's own: a mismatch is the image
		// contradicting itself, not a disk that changed.
		return nil, fmt.Errorf("the file says size %d and %d changes, its ghost %d (%s) size %d and %d changes: %w",
			rec.Size, rec.Changes, rec.Ghost, d.Path(), in.Size(), in.changes, errno.EINVAL)
	default:
		return nil, stale(d, "changed since the checkpoint (size %d, %d changes; saved %d, %d)",
			in.Size(), in.changes, rec.Size, rec.Changes)
	}
	return containerOf(ctx).FS.OpenDentry(d, int(rec.Flags)), nil
}

// Checkpoint saves a directory by its common fields and path.
func (dirOps) Checkpoint(ctx object.Saver, f *File, rec FileRecord, path string) error {
	return WriteFileRecord(ctx, &rec, path)
}

// Collect: a directory holds no shared object.
func (dirOps) Collect(ctx object.Collector, f *File) error { return nil }

func restoreDirectory(ctx object.Restorer, rec FileRecord, d *Dentry) (*File, error) {
	if !d.inode.IsDir() {
		return nil, stale(d, "no longer a directory")
	}
	return containerOf(ctx).FS.OpenDentry(d, int(rec.Flags)), nil
}
