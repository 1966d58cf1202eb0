package vfs

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// This file is the VFS side of checkpoint/restart: what each type of file
// saves and how it comes back, kept here beside the file types as Linux
// keeps f_op->checkpoint beside each file_operations. The engine (package
// ckpt) owns the image and the object hash; it reaches file types only
// through the interfaces below.

// FileRecord is what a checkpoint saves of one open file: the fields every
// file has, which the engine fills in (with the name the file was opened
// through), and the fields of its type, which the type's Checkpoint
// operation fills in.
type FileRecord struct {
	Type    FileType
	Flags   int
	Mode    FMode
	Pos     int64
	Version uint64

	// Path is the name a linked regular file, directory or FIFO was opened
	// through, relative to the container's root; "" otherwise.
	Path string
	// Ghost is an unlinked file's ghost objref: the inode, saved once.
	Ghost int32
	// Size and Changes are a regular file's when it was saved, so that
	// restart can refuse one that has changed since.
	Size    int64
	Changes uint64
	// Pipe is a pipe end's or FIFO's pipe objref.
	Pipe int32
}

// CheckpointOps are a file type's checkpoint operations, Linux's
// f_op->checkpoint and ->collect. A type whose FileOperations lack them
// cannot be checkpointed (EBADF).
type CheckpointOps interface {
	// Checkpoint fills in the type's fields of rec, whose common fields are
	// set, writes it with ctx.WriteFile, and saves any object the file
	// holds that is shared with other files (a pipe).
	Checkpoint(ctx CheckpointContext, f *File, rec *FileRecord) error
	// Collect reports, for leak detection, every shared object the file
	// holds.
	Collect(ctx CollectContext, f *File) error
}

// CheckpointContext is a checkpoint in progress, as a file type sees it.
type CheckpointContext interface {
	// WriteFile writes the file's record.
	WriteFile(rec *FileRecord) error
	// LookupAddPipe returns the pipe's objref, and whether this is its
	// first encounter, when its state must be saved with WritePipe right
	// after the record of the file that met it.
	LookupAddPipe(p *Pipe) (objref int32, first bool, err error)
	// WritePipe saves a pipe's state: its objref record, then its buffers.
	WritePipe(objref int32, p *Pipe) error
}

// CollectContext is a leak-detection pass, as a file type sees it.
type CollectContext interface {
	// CollectPipe counts one reference to p from inside the container.
	CollectPipe(p *Pipe) error
}

// RestoreContext is a restart in progress, as a file type sees it.
type RestoreContext interface {
	// Registry is where new objects are counted.
	Registry() *kref.Registry
	// ClaimParkedEnd returns the end of a pipe parked under the pipe's
	// objref by the restore of its other end; false when the pipe is not
	// restored yet. An end can be claimed once: a second claim is an error.
	ClaimParkedEnd(pipe int32) (*File, bool, error)
	// Park leaves f, the end of pipe that no file has claimed yet, in the
	// object hash for its later reference; the hash takes a reference.
	Park(pipe int32, f *File) error
	// FIFOPipe returns the restored pipe of a FIFO; false when it is not
	// restored yet.
	FIFOPipe(pipe int32) (*Pipe, bool, error)
	// AddFIFOPipe enters a FIFO's restored pipe in the object hash.
	AddFIFOPipe(pipe int32, p *Pipe) error
	// FIFOPipeObjref returns the objref under which this restart entered
	// a FIFO's pipe; false for a pipe it did not create.
	FIFOPipeObjref(p *Pipe) (int32, bool)
	// ReadPipe reads a pipe's saved state: its objref record, then its
	// buffers.
	ReadPipe(pipe int32) ([]PipeBuffer, error)
}

// restorers recreate an open file of each type; d is the inode's dentry,
// found by the engine from the record's path or ghost, nil for a pipe end.
var restorers = map[FileType]func(ctx RestoreContext, fs *FS, rec *FileRecord, d *Dentry) (*File, error){
	TypeRegular:   restoreRegular,
	TypeDirectory: restoreDirectory,
	TypePipe:      restorePipeEnd,
	TypeFIFO:      restoreFIFO,
}

// dangerousFlags would create or truncate a file if a restart honoured
// them; open(2) never keeps them, so a record that has them was tampered
// with.
const dangerousFlags = O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY

// RestoreFile recreates an open file from its record: through its type's
// restore operation, then the fields every file has. It refuses flags that
// could create or truncate, and a record whose flags, mode or position the
// new file cannot take (EINVAL).
func RestoreFile(ctx RestoreContext, fs *FS, rec *FileRecord, d *Dentry) (*File, error) {
	restore := restorers[rec.Type]
	if restore == nil {
		return nil, fmt.Errorf("unknown file type %d: %w", rec.Type, errno.EINVAL)
	}
	if rec.Flags&dangerousFlags != 0 {
		return nil, fmt.Errorf("flags %s could create or truncate: %w", FormatOpenFlags(rec.Flags), errno.EINVAL)
	}
	if (d == nil) != (rec.Type == TypePipe) {
		return nil, fmt.Errorf("a %v file needs a name, a pipe none: %w", rec.Type, errno.EINVAL)
	}
	f, err := restore(ctx, fs, rec, d)
	if err != nil {
		return nil, err
	}
	if err := restoreCommon(f, rec); err != nil {
		f.Put()
		return nil, err
	}
	return f, nil
}

// restoreCommon gives a new file the saved status flags, position and
// version, after checking that its mode is the saved one.
func restoreCommon(f *File, rec *FileRecord) error {
	if f.mode != rec.Mode {
		return fmt.Errorf("saved mode %v, the reopened file has %v: %w", rec.Mode, f.mode, errno.EINVAL)
	}
	if err := f.SetFlags(rec.Flags); err != nil || f.flags != rec.Flags {
		return fmt.Errorf("status flags %s cannot be restored (got %s): %w",
			FormatOpenFlags(rec.Flags), FormatOpenFlags(f.flags), errno.EINVAL)
	}
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
// common fields.
func (regularOps) Checkpoint(ctx CheckpointContext, f *File, rec *FileRecord) error {
	in := f.dentry.inode
	rec.Size, rec.Changes = in.Size(), in.changes
	return ctx.WriteFile(rec)
}

// Collect: a regular file holds no shared object; its name is saved by path,
// which leak detection does not count.
func (regularOps) Collect(ctx CollectContext, f *File) error { return nil }

func restoreRegular(ctx RestoreContext, fs *FS, rec *FileRecord, d *Dentry) (*File, error) {
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
	return fs.OpenDentry(d, rec.Flags), nil
}

// Checkpoint saves a directory by its common fields and path.
func (dirOps) Checkpoint(ctx CheckpointContext, f *File, rec *FileRecord) error {
	return ctx.WriteFile(rec)
}

// Collect: a directory holds no shared object.
func (dirOps) Collect(ctx CollectContext, f *File) error { return nil }

func restoreDirectory(ctx RestoreContext, fs *FS, rec *FileRecord, d *Dentry) (*File, error) {
	if !d.inode.IsDir() {
		return nil, stale(d, "no longer a directory")
	}
	return fs.OpenDentry(d, rec.Flags), nil
}

// Checkpoint saves a pipe end or FIFO with its pipe, by nested sharing: the
// pipe gets an objref of its own, and its bytes are saved once, right after
// the record of the first file open on it.
func (pipeOps) Checkpoint(ctx CheckpointContext, f *File, rec *FileRecord) error {
	ref, first, err := ctx.LookupAddPipe(f.pipe)
	if err != nil {
		return err
	}
	rec.Pipe = ref
	if err := ctx.WriteFile(rec); err != nil {
		return err
	}
	if first {
		return ctx.WritePipe(ref, f.pipe)
	}
	return nil
}

// Collect counts the pipe.
func (pipeOps) Collect(ctx CollectContext, f *File) error { return ctx.CollectPipe(f.pipe) }

// restorePipeEnd recreates one end of a pipe. The first end restored
// creates the pipe as pipe(2) does, with both ends; it takes the one it
// needs and parks the other in the object hash under the pipe's objref,
// where the restore of the other end finds it. An end no file claims is
// dropped with the hash, as when that end had been closed.
func restorePipeEnd(ctx RestoreContext, fs *FS, rec *FileRecord, _ *Dentry) (*File, error) {
	if rec.Mode != FMODE_READ && rec.Mode != FMODE_WRITE {
		return nil, fmt.Errorf("pipe end with mode %v: %w", rec.Mode, errno.EINVAL)
	}
	if f, ok, err := ctx.ClaimParkedEnd(rec.Pipe); err != nil || ok {
		if ok {
			if f.mode != rec.Mode {
				return nil, fmt.Errorf("pipe %d: both ends saved as %v: %w", rec.Pipe, rec.Mode, errno.EINVAL)
			}
			f.Get()
		}
		return f, err
	}
	bufs, err := ctx.ReadPipe(rec.Pipe)
	if err != nil {
		return nil, err
	}
	r, w := NewPipeFiles(ctx.Registry(), 0)
	defer r.Put()
	defer w.Put()
	if err := r.pipe.SetBuffers(bufs); err != nil {
		return nil, err
	}
	mine, other := r, w
	if rec.Mode == FMODE_WRITE {
		mine, other = w, r
	}
	if err := ctx.Park(rec.Pipe, other); err != nil {
		return nil, err
	}
	mine.Get()
	return mine, nil
}

// restoreFIFO opens a FIFO again without waiting for a peer. The first file
// restored on it gives the FIFO its saved pipe, which must not be open in
// the restarting kernel; later ones open the same pipe.
func restoreFIFO(ctx RestoreContext, fs *FS, rec *FileRecord, d *Dentry) (*File, error) {
	if !d.inode.IsFIFO() {
		return nil, stale(d, "no longer a FIFO")
	}
	p, ok, err := ctx.FIFOPipe(rec.Pipe)
	switch {
	case err != nil:
		return nil, err
	case ok && d.inode.pipe != p:
		return nil, fmt.Errorf("%s: pipe %d belongs to another FIFO: %w", d.Path(), rec.Pipe, errno.EINVAL)
	case ok:
		return fs.OpenFIFOEnd(d, rec.Flags)
	case d.inode.pipe != nil:
		if ref, mine := ctx.FIFOPipeObjref(d.inode.pipe); mine {
			return nil, fmt.Errorf("%s: the FIFO's pipe is objref %d, not %d: %w", d.Path(), ref, rec.Pipe, errno.EINVAL)
		}
		return nil, fmt.Errorf("%s: the FIFO is already open in this kernel: %w", d.Path(), errno.EBUSY)
	}
	bufs, err := ctx.ReadPipe(rec.Pipe)
	if err != nil {
		return nil, err
	}
	f, err := fs.OpenFIFOEnd(d, rec.Flags)
	if err != nil {
		return nil, err
	}
	if err := f.pipe.SetBuffers(bufs); err != nil {
		f.Put()
		return nil, err
	}
	if err := ctx.AddFIFOPipe(rec.Pipe, f.pipe); err != nil {
		f.Put()
		return nil, err
	}
	return f, nil
}

// NewGhost recreates an unlinked file that a checkpoint saved: an inode
// with the given mode (a regular file or a FIFO), contents and change
// counter, named name in parent but not linked there, as if it had been
// unlinked already. The caller holds the dentry's one reference.
func (fs *FS) NewGhost(parent *Dentry, name string, mode uint32, contents []byte, changes uint64) (*Dentry, error) {
	if t := mode & S_IFMT; t != S_IFREG && t != S_IFIFO || mode&^(S_IFMT|PermMask) != 0 {
		return nil, fmt.Errorf("ghost with mode %#o: %w", mode, errno.EINVAL)
	}
	if mode&S_IFMT == S_IFIFO && (len(contents) > 0 || changes != 0) {
		return nil, fmt.Errorf("ghost FIFO with contents: %w", errno.EINVAL)
	}
	if !parent.inode.IsDir() || name == "" || len(name) > NAME_MAX {
		return nil, fmt.Errorf("ghost name %q: %w", name, errno.EINVAL)
	}
	in := fs.newInode(mode)
	in.data = append([]byte(nil), contents...)
	in.changes = changes
	d := &Dentry{name: name, inode: in, parent: parent, unlinked: true}
	d.Init(fs.reg, kref.Dentry, d)
	return d, nil
}
