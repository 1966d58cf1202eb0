package vfs

import (
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// FileType identifies a kind of open file. Its values are written into
// checkpoint images, so they never change. Its name (String) is the one
// the type registered for restart (RegisterFileType), where every type of
// file is known, those of other packages too.
type FileType uint16

// The file types.
const (
	TypeRegular   FileType = 1
	TypeDirectory FileType = 2
	TypePipe      FileType = 3
	TypeFIFO      FileType = 4
)

// FileOperations are what one type of file does (Linux's f_op). The kernel
// and the checkpoint engine reach a file's behaviour only through them.
type FileOperations interface {
	// Type returns the file type.
	Type() FileType
	// Read reads into p at the file's position or from its pipe.
	Read(f *File, p []byte) (int, error)
	// Write writes p.
	Write(f *File, p []byte) (int, error)
	// Seek moves the position; files that cannot seek return ESPIPE.
	Seek(f *File, offset int64, whence int) (int64, error)
	// SetflMask returns the status flags F_SETFL may set on this type; it is
	// a subset of SetflMask. O_ASYNC in it means the type has Linux's
	// ->fasync (pipes, FIFOs, sockets), through which alone F_SETFL changes
	// O_ASYNC (see SetFlags).
	SetflMask() int
	// Release runs when the last reference to the file is dropped.
	Release(f *File)
}

// File is an open file description (Linux's struct file): what a file
// descriptor refers to, shared by dup'd descriptors and across fork.
//
// Its reference count is held by every file-table slot that holds it.
type File struct {
	kref.Count
	ops FileOperations
	// dentry is the name the file was opened through; nil for a pipe.
	dentry *Dentry
	// pipe is the pipe of a pipe end or FIFO.
	pipe  *Pipe
	flags int
	// fasync says the file is on its type's fasync list: O_ASYNC was set by
	// F_SETFL, through ->fasync, and F_SETFL can clear it. O_ASYNC given to
	// open(2) sets the flag without the list (Linux's do_dentry_open calls
	// no ->fasync), and no F_SETFL clears it then.
	fasync  bool
	mode    FMode
	pos     int64
	version uint64
	// owner is the F_SETOWN pid (negative for a process group) and ownerID
	// the kref id of the task that had it then, so that a reaped owner, or a
	// new task reusing its pid, is not taken for it.
	owner   int
	ownerID uint64
	lock    int // LOCK_SH or LOCK_EX when this file holds a flock lock
	// ownLocks are the locks of a file with neither name nor pipe.
	ownLocks flockState
}

// Ref implements kref.Object.
func (f *File) Ref() *kref.Count { return &f.Count }

// NewFile creates a file of a type defined outside this package (a device,
// say, or a test's own type), with one reference, the caller's, and no name.
func NewFile(reg *kref.Registry, ops FileOperations, flags int, mode FMode) *File {
	return newFile(reg, ops, nil, flags, mode)
}

// newFile creates a file with one reference, the caller's. It takes over the
// caller's reference on dentry (which may be nil).
func newFile(reg *kref.Registry, ops FileOperations, d *Dentry, flags int, mode FMode) *File {
	f := &File{ops: ops, dentry: d, flags: flags, mode: mode}
	f.Init(reg, kref.File, f)
	return f
}

// Ops returns the file's operations.
func (f *File) Ops() FileOperations { return f.ops }

// Type returns the file's type.
func (f *File) Type() FileType { return f.ops.Type() }

// Dentry returns the name the file was opened through, or nil for a pipe.
func (f *File) Dentry() *Dentry { return f.dentry }

// Pipe returns the pipe of a pipe end or FIFO, or nil.
func (f *File) Pipe() *Pipe { return f.pipe }

// Flags returns the status flags, as F_GETFL reports them.
func (f *File) Flags() int { return f.flags }

// Mode returns the mode bits.
func (f *File) Mode() FMode { return f.mode }

// Pos returns the file position.
func (f *File) Pos() int64 { return f.pos }

// Version returns the file's version counter: how many times an lseek
// changed its position.
func (f *File) Version() uint64 { return f.version }

// Owner returns the pid set by F_SETOWN (negative for a process group), or
// 0, and the id of the task it named when it was set.
func (f *File) Owner() (pid int, taskID uint64) { return f.owner, f.ownerID }

// SetOwner sets the F_SETOWN owner; the caller has checked the pid.
func (f *File) SetOwner(pid int, taskID uint64) { f.owner, f.ownerID = pid, taskID }

// Lock returns LOCK_SH or LOCK_EX when the file holds a flock lock, else 0.
func (f *File) Lock() int { return f.lock }

// Get takes a reference.
func (f *File) Get() { f.Count.Get() }

// Put drops a reference; the last one releases the file: its lock, its pipe
// or its name.
func (f *File) Put() {
	f.Count.Put(func() {
		if f.lock != 0 {
			f.locks().remove(f)
		}
		f.ops.Release(f)
		if f.dentry != nil {
			f.dentry.Put()
		}
	})
}

// Read reads up to len(p) bytes, as read(2).
func (f *File) Read(p []byte) (int, error) {
	if f.mode&FMODE_READ == 0 {
		return 0, errno.EBADF
	}
	return f.ops.Read(f, p)
}

// Write writes p, as write(2).
func (f *File) Write(p []byte) (int, error) {
	if f.mode&FMODE_WRITE == 0 {
		return 0, errno.EBADF
	}
	return f.ops.Write(f, p)
}

// Seek moves the position, as lseek(2).
func (f *File) Seek(offset int64, whence int) (int64, error) {
	if whence < SEEK_SET || whence > SEEK_END {
		return 0, errno.EINVAL
	}
	old := f.pos
	pos, err := f.ops.Seek(f, offset, whence)
	if err == nil && pos != old {
		f.version++
	}
	return pos, err
}

// SetFlags changes the status flags F_SETFL may change on this type, as
// Linux's setfl; every other bit stays as it is. O_DIRECT on a type that
// cannot do direct I/O is EINVAL. O_ASYNC is not in Linux's SETFL_MASK:
// only the type's ->fasync changes it, which setfl calls when the bit would
// change. Setting it puts the file on the fasync list; clearing it takes the
// file off and clears the bit only if the file was on the list. So:
//
//   - a regular file or directory (no ->fasync) keeps the O_ASYNC open(2)
//     gave it, and F_SETFL can neither set nor clear it, as on ext4;
//   - a pipe, FIFO or socket takes O_ASYNC from F_SETFL and loses it again;
//   - a FIFO opened with O_ASYNC keeps it for good: it is on no list, so
//     the F_SETFL that would clear it finds nothing to remove.
func (f *File) SetFlags(flags int) error {
	mask := f.ops.SetflMask()
	if flags&O_DIRECT != 0 && mask&O_DIRECT == 0 {
		return errno.EINVAL
	}
	if mask&O_ASYNC != 0 && (flags^f.flags)&O_ASYNC != 0 {
		switch {
		case flags&O_ASYNC != 0:
			f.fasync = true
			f.flags |= O_ASYNC
		case f.fasync:
			f.fasync = false
			f.flags &^= O_ASYNC
		}
	}
	mask &^= O_ASYNC
	f.flags = f.flags&^mask | flags&mask
	return nil
}

// AsyncFromOpen says whether the file's O_ASYNC is one open(2) gave a file
// of a type with ->fasync (a FIFO): on no fasync list, so F_SETFL cannot
// clear it. A checkpoint saves it; it is false for every other file.
func (f *File) AsyncFromOpen() bool {
	return f.flags&O_ASYNC != 0 && !f.fasync && f.ops.SetflMask()&O_ASYNC != 0
}

// RestoreState sets position and version as a checkpoint saved them; it is
// for restart only, which has validated both.
func (f *File) RestoreState(pos int64, version uint64) {
	f.pos = pos
	f.version = version
}

// generic seek for files with a size: regular files and directories.
func seekSized(f *File, offset int64, whence int, size, max int64) (int64, error) {
	switch whence {
	case SEEK_CUR:
		if offset > 0 && f.pos > max-offset {
			return 0, errno.EINVAL
		}
		offset += f.pos
	case SEEK_END:
		if offset > 0 && size > max-offset {
			return 0, errno.EINVAL
		}
		offset += size
	}
	if offset < 0 || offset > max {
		return 0, errno.EINVAL
	}
	f.pos = offset
	return offset, nil
}
