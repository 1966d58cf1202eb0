package task

import (
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// FileTable is a table of file descriptors (Linux's files_struct): each slot
// holds a reference to an open file and a close-on-exec bit. Tasks created
// with CLONE_FILES share one table; fork copies it.
//
// Its reference count is held by every live task that uses it.
type FileTable struct {
	kref.Count
	fds     []*vfs.File
	cloexec []bool
	// free is a hint: no descriptor below it is free (Linux's next_fd).
	free int
	open int
}

// Ref implements kref.Object.
func (t *FileTable) Ref() *kref.Count { return &t.Count }

// NewFileTable returns an empty table with one reference, the caller's.
func NewFileTable(reg *kref.Registry) *FileTable {
	t := &FileTable{}
	t.Init(reg, kref.FileTable, t)
	return t
}

// Get takes a reference.
func (t *FileTable) Get() { t.Count.Get() }

// Put drops a reference; the last one closes every descriptor.
func (t *FileTable) Put() {
	t.Count.Put(func() {
		for fd := range t.fds {
			if f := t.fds[fd]; f != nil {
				t.fds[fd] = nil
				f.Put()
			}
		}
		t.open = 0
	})
}

// File returns the file at fd, borrowed, or EBADF.
func (t *FileTable) File(fd int) (*vfs.File, error) {
	if fd < 0 || fd >= len(t.fds) || t.fds[fd] == nil {
		return nil, errno.EBADF
	}
	return t.fds[fd], nil
}

// CloseOnExec reports fd's close-on-exec bit.
func (t *FileTable) CloseOnExec(fd int) bool {
	return fd >= 0 && fd < len(t.cloexec) && t.cloexec[fd]
}

// SetCloseOnExec sets fd's close-on-exec bit; fd must be open.
func (t *FileTable) SetCloseOnExec(fd int, on bool) error {
	if _, err := t.File(fd); err != nil {
		return err
	}
	t.cloexec[fd] = on
	return nil
}

// Len returns the number of open descriptors.
func (t *FileTable) Len() int { return t.open }

// Fds returns the open descriptors in increasing order.
func (t *FileTable) Fds() []int {
	out := make([]int, 0, t.open)
	for fd, f := range t.fds {
		if f != nil {
			out = append(out, fd)
		}
	}
	return out
}

// Alloc finds the lowest free descriptor that is at least min and below
// limit, as Linux's alloc_fd: EMFILE when there is none. It reserves
// nothing; Install fills it.
func (t *FileTable) Alloc(min, limit int) (int, error) {
	fd := max(min, t.free)
	for fd < len(t.fds) && t.fds[fd] != nil {
		fd++
	}
	if fd >= limit {
		return 0, errno.EMFILE
	}
	return fd, nil
}

// Install puts f at fd, taking over the caller's reference to f. The slot
// must be free: replacing an open descriptor is Replace's job.
func (t *FileTable) Install(fd int, f *vfs.File, cloexec bool) {
	if fd < 0 {
		panic("task: install at a negative descriptor")
	}
	if fd >= len(t.fds) {
		n := max(fd+1, 2*len(t.fds), 8)
		t.fds = append(t.fds, make([]*vfs.File, n-len(t.fds))...)
		t.cloexec = append(t.cloexec, make([]bool, n-len(t.cloexec))...)
	}
	if t.fds[fd] != nil {
		panic("task: install over an open descriptor")
	}
	t.fds[fd] = f
	t.cloexec[fd] = cloexec
	t.open++
	if fd == t.free {
		t.free++
	}
}

// Remove empties fd's slot and returns the file it held, whose reference
// passes to the caller (who usually puts it), or EBADF.
func (t *FileTable) Remove(fd int) (*vfs.File, error) {
	f, err := t.File(fd)
	if err != nil {
		return nil, err
	}
	t.fds[fd] = nil
	t.cloexec[fd] = false
	t.open--
	t.free = min(t.free, fd)
	return f, nil
}

// Copy returns a new table holding the same files at the same descriptors,
// each with a reference of its own, as fork's dup_fd.
func (t *FileTable) Copy(reg *kref.Registry) *FileTable {
	c := NewFileTable(reg)
	c.fds = make([]*vfs.File, len(t.fds))
	c.cloexec = append([]bool(nil), t.cloexec...)
	for fd, f := range t.fds {
		if f != nil {
			f.Get()
			c.fds[fd] = f
		}
	}
	c.free, c.open = t.free, t.open
	return c
}

// FSState is a task's filesystem context (Linux's fs_struct): its root
// directory and working directory, each holding a dentry reference. Tasks
// created with CLONE_FS share one; fork copies it.
//
// Its reference count is held by every live task that uses it.
type FSState struct {
	kref.Count
	root, cwd *vfs.Dentry
}

// Ref implements kref.Object.
func (s *FSState) Ref() *kref.Count { return &s.Count }

// NewFSState returns an fs state with the given root and working directory,
// taking references on both, with one reference of its own, the caller's.
func NewFSState(reg *kref.Registry, root, cwd *vfs.Dentry) *FSState {
	root.Get()
	cwd.Get()
	s := &FSState{root: root, cwd: cwd}
	s.Init(reg, kref.FSState, s)
	return s
}

// Root returns the root directory.
func (s *FSState) Root() *vfs.Dentry { return s.root }

// Cwd returns the working directory.
func (s *FSState) Cwd() *vfs.Dentry { return s.cwd }

// Chdir makes d the working directory.
func (s *FSState) Chdir(d *vfs.Dentry) {
	d.Get()
	s.cwd.Put()
	s.cwd = d
}

// Copy returns a new fs state with the same directories, as fork's copy_fs.
func (s *FSState) Copy(reg *kref.Registry) *FSState { return NewFSState(reg, s.root, s.cwd) }

// Get takes a reference.
func (s *FSState) Get() { s.Count.Get() }

// Put drops a reference; the last one lets go of both directories.
func (s *FSState) Put() {
	s.Count.Put(func() {
		s.root.Put()
		s.cwd.Put()
	})
}
