package vfs

import "github.com/ckptsim/ckptsim/sim/errno"

// flockState is the set of flock locks on one inode. A lock belongs to an
// open file description, not to a descriptor or a task: dup'd descriptors
// and forked children share it.
type flockState struct {
	holders map[*File]int // LOCK_SH or LOCK_EX
}

func (s *flockState) remove(f *File) {
	delete(s.holders, f)
	f.lock = 0
}

// locks returns the lock set a file's flock applies to: its inode's, for an
// anonymous pipe the pipe's, and for a file with neither (one made with
// NewFile) its own.
func (f *File) locks() *flockState {
	switch {
	case f.dentry != nil:
		return &f.dentry.inode.locks
	case f.pipe != nil:
		return &f.pipe.locks
	}
	return &f.ownLocks
}

// Flock applies a flock(2) operation.
//
// It follows Linux's flock_lock_inode, including a detail that surprises: a
// file that holds one kind of lock and asks for the other first drops the
// lock it holds, then looks for conflicts. So a conversion that fails, with
// EAGAIN under LOCK_NB or BLOCKED without, leaves the file with no lock.
func (f *File) Flock(op int) error {
	nonblock := op&LOCK_NB != 0
	kind := op &^ LOCK_NB
	if err := CheckFlockOp(op); err != nil {
		return err
	}
	if kind != LOCK_UN && f.mode&(FMODE_READ|FMODE_WRITE) == 0 {
		return errno.EBADF
	}
	s := f.locks()
	if f.lock == kind {
		return nil
	}
	if f.lock != 0 {
		s.remove(f)
	}
	if kind == LOCK_UN {
		return nil
	}
	for _, held := range s.holders {
		if held == LOCK_EX || kind == LOCK_EX {
			if nonblock {
				return errno.EWOULDBLOCK
			}
			return errno.BLOCKED
		}
	}
	if s.holders == nil {
		s.holders = make(map[*File]int)
	}
	s.holders[f] = kind
	f.lock = kind
	return nil
}

// CheckFlockOp refuses (EINVAL) an operation other than LOCK_SH, LOCK_EX or
// LOCK_UN, each optionally with LOCK_NB. Linux checks it before it looks at
// the descriptor.
func CheckFlockOp(op int) error {
	switch op &^ LOCK_NB {
	case LOCK_SH, LOCK_EX, LOCK_UN:
		return nil
	}
	return errno.EINVAL
}

// LockSet returns a copy of the flock locks held on the file's inode (or
// anonymous pipe), by file, for consistency checks and views.
func (f *File) LockSet() map[*File]int {
	out := make(map[*File]int, len(f.locks().holders))
	for h, kind := range f.locks().holders {
		out[h] = kind
	}
	return out
}
