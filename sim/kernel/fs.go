package kernel

import (
	"math"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// fcntl commands and descriptor flags, with Linux's values.
const (
	F_DUPFD         = 0
	F_GETFD         = 1
	F_SETFD         = 2
	F_GETFL         = 3
	F_SETFL         = 4
	F_SETOWN        = 8
	F_GETOWN        = 9
	F_DUPFD_CLOEXEC = 1030

	FD_CLOEXEC = 1
)

// fileOf returns the caller's file at fd.
func (k *Kernel) fileOf(pid, fd int) (*task.Task, *vfs.File, error) {
	t, err := k.caller(pid)
	if err != nil {
		return nil, nil, err
	}
	f, err := t.Files().File(fd)
	return t, f, err
}

// Open opens path, as open(2). A descriptor is found before the path is
// looked at, so EMFILE comes before any path error, as in Linux.
func (k *Kernel) Open(pid int, path string, flags int, perm uint32) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd, err := k.open(pid, path, flags, perm)
	return fd, fail(pid, "open", err, path, flagArg(flags), modeArg(perm))
}

func (k *Kernel) open(pid int, path string, flags int, perm uint32) (int, error) {
	t, err := k.caller(pid)
	if err != nil {
		return 0, err
	}
	fd, err := t.Files().Alloc(0, k.noFile)
	if err != nil {
		return 0, err
	}
	fs := t.FS()
	f, err := k.fs.Open(fs.Root(), fs.Cwd(), path, flags, perm)
	if err != nil {
		return 0, err
	}
	t.Files().Install(fd, f, flags&vfs.O_CLOEXEC != 0)
	return fd, nil
}

// Close closes fd, as close(2).
func (k *Kernel) Close(pid, fd int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, err := k.caller(pid)
	if err == nil {
		var f *vfs.File
		if f, err = t.Files().Remove(fd); err == nil {
			f.Put()
		}
	}
	return fail(pid, "close", err, fd)
}

// Read reads up to count bytes, as read(2); at end of file it returns no
// bytes and no error.
func (k *Kernel) Read(pid, fd, count int) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	b, err := k.read(pid, fd, count)
	return b, fail(pid, "read", err, fd, count)
}

func (k *Kernel) read(pid, fd, count int) ([]byte, error) {
	_, f, err := k.fileOf(pid, fd)
	if err != nil {
		return nil, err
	}
	if count < 0 {
		return nil, errno.EINVAL
	}
	if err := posOverflows(f, count); err != nil {
		return nil, err
	}
	// No file type returns more than a regular file can hold, so a larger
	// buffer would only cost memory.
	buf := make([]byte, min(count, vfs.MaxFileSize))
	n, err := f.Read(buf)
	if err != nil {
		return nil, err
	}
	return buf[:n], nil
}

// Write writes data, as write(2), and returns how many bytes it wrote.
func (k *Kernel) Write(pid, fd int, data []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, f, err := k.fileOf(pid, fd)
	n := 0
	if err == nil {
		n, err = f.Write(data)
	}
	return n, fail(pid, "write", err, fd, len(data))
}

// Lseek moves fd's position, as lseek(2), and returns the new position.
func (k *Kernel) Lseek(pid, fd int, offset int64, whence int) (int64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, f, err := k.fileOf(pid, fd)
	var pos int64
	if err == nil {
		pos, err = f.Seek(offset, whence)
	}
	return pos, fail(pid, "lseek", err, fd, offset, whence)
}

// Dup duplicates fd onto the lowest free descriptor, as dup(2).
func (k *Kernel) Dup(pid, fd int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	newfd, err := k.dupFrom(pid, fd, 0, false)
	return newfd, fail(pid, "dup", err, fd)
}

// dupFrom duplicates fd onto the lowest free descriptor at least min.
func (k *Kernel) dupFrom(pid, fd, min int, cloexec bool) (int, error) {
	t, f, err := k.fileOf(pid, fd)
	if err != nil {
		return 0, err
	}
	newfd, err := t.Files().Alloc(min, k.noFile)
	if err != nil {
		return 0, err
	}
	f.Get()
	t.Files().Install(newfd, f, cloexec)
	return newfd, nil
}

// Dup2 makes newfd a duplicate of oldfd, closing what newfd held, as
// dup2(2). When the two are equal it only checks oldfd.
func (k *Kernel) Dup2(pid, oldfd, newfd int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd, err := k.dup2(pid, oldfd, newfd)
	return fd, fail(pid, "dup2", err, oldfd, newfd)
}

func (k *Kernel) dup2(pid, oldfd, newfd int) (int, error) {
	if oldfd == newfd {
		if _, _, err := k.fileOf(pid, oldfd); err != nil {
			return 0, err
		}
		return newfd, nil
	}
	return k.dup3(pid, oldfd, newfd, false)
}

// Dup3 is Dup2 with flags: O_CLOEXEC, or nothing. Equal descriptors are
// EINVAL, as are other flags.
func (k *Kernel) Dup3(pid, oldfd, newfd, flags int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fd, err := 0, error(nil)
	if _, err = k.caller(pid); err == nil {
		err = errno.EINVAL
		if flags&^vfs.O_CLOEXEC == 0 && oldfd != newfd {
			fd, err = k.dup3(pid, oldfd, newfd, flags != 0)
		}
	}
	return fd, fail(pid, "dup3", err, oldfd, newfd, flagArg(flags))
}

// dup3 installs oldfd's file at newfd, as Linux's do_dup2. A newfd beyond
// RLIMIT_NOFILE is EBADF, not EMFILE.
func (k *Kernel) dup3(pid, oldfd, newfd int, cloexec bool) (int, error) {
	t, err := k.caller(pid)
	if err != nil {
		return 0, err
	}
	if newfd < 0 || newfd >= k.noFile {
		return 0, errno.EBADF
	}
	files := t.Files()
	f, err := files.File(oldfd)
	if err != nil {
		return 0, err
	}
	f.Get()
	if old, err := files.Remove(newfd); err == nil {
		old.Put()
	}
	files.Install(newfd, f, cloexec)
	return newfd, nil
}

// Pipe2 creates a pipe, as pipe2(2), and returns its read and write
// descriptors. Flags: O_NONBLOCK, O_CLOEXEC, O_DIRECT (packet mode).
func (k *Kernel) Pipe2(pid, flags int) ([2]int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fds, err := k.pipe2(pid, flags)
	return fds, fail(pid, "pipe2", err, flagArg(flags))
}

func (k *Kernel) pipe2(pid, flags int) ([2]int, error) {
	t, err := k.caller(pid)
	if err != nil {
		return [2]int{}, err
	}
	if flags&^(vfs.O_NONBLOCK|vfs.O_CLOEXEC|vfs.O_DIRECT) != 0 {
		return [2]int{}, errno.EINVAL
	}
	files := t.Files()
	cloexec := flags&vfs.O_CLOEXEC != 0
	rfd, err := files.Alloc(0, k.noFile)
	if err != nil {
		return [2]int{}, err
	}
	r, w := vfs.NewPipeFiles(k.reg, flags)
	files.Install(rfd, r, cloexec)
	wfd, err := files.Alloc(0, k.noFile)
	if err != nil {
		files.Remove(rfd)
		r.Put()
		w.Put()
		return [2]int{}, err
	}
	files.Install(wfd, w, cloexec)
	return [2]int{rfd, wfd}, nil
}

// Fcntl performs the fcntl(2) commands F_DUPFD, F_DUPFD_CLOEXEC, F_GETFD,
// F_SETFD, F_GETFL, F_SETFL, F_GETOWN and F_SETOWN. Other commands are
// EINVAL.
func (k *Kernel) Fcntl(pid, fd, cmd, arg int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	r, err := k.fcntl(pid, fd, cmd, arg)
	return r, fail(pid, "fcntl", err, fd, cmd, arg)
}

func (k *Kernel) fcntl(pid, fd, cmd, arg int) (int, error) {
	t, f, err := k.fileOf(pid, fd)
	if err != nil {
		return 0, err
	}
	switch cmd {
	case F_DUPFD, F_DUPFD_CLOEXEC:
		// The argument is unsigned in Linux: a negative one is huge.
		if arg < 0 || arg >= k.noFile {
			return 0, errno.EINVAL
		}
		return k.dupFrom(pid, fd, arg, cmd == F_DUPFD_CLOEXEC)
	case F_GETFD:
		if t.Files().CloseOnExec(fd) {
			return FD_CLOEXEC, nil
		}
		return 0, nil
	case F_SETFD:
		return 0, t.Files().SetCloseOnExec(fd, arg&FD_CLOEXEC != 0)
	case F_GETFL:
		return f.Flags(), nil
	case F_SETFL:
		return 0, f.SetFlags(arg)
	case F_GETOWN:
		return k.getown(f), nil
	case F_SETOWN:
		return 0, k.setown(f, arg)
	}
	return 0, errno.EINVAL
}

// setown sets a file's owner, as Linux's f_setown: a pid, or a negative
// process group id. Process groups are not modelled, but Linux only checks
// that some process has that number, and so does the simulator. A zombie
// still has its pid.
func (k *Kernel) setown(f *vfs.File, who int) error {
	if who <= math.MinInt32 || who > math.MaxInt32 {
		return errno.EINVAL
	}
	if who == 0 {
		f.SetOwner(0, 0)
		return nil
	}
	t := k.tasks[abs(who)]
	if t == nil {
		return errno.ESRCH
	}
	f.SetOwner(who, t.ID())
	return nil
}

// getown returns a file's owner, or 0 once the task it named has been
// reaped: Linux's struct pid outlives the task but no longer maps to a
// number.
func (k *Kernel) getown(f *vfs.File) int {
	who, id := f.Owner()
	if t := k.tasks[abs(who)]; who == 0 || t == nil || t.ID() != id {
		return 0
	}
	return who
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// Flock applies a flock(2) operation to fd's open file. As in Linux, a
// LOCK_MAND request is ignored and an invalid operation is refused before
// the descriptor is looked at.
func (k *Kernel) Flock(pid, fd, op int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, err := k.caller(pid)
	if err != nil || op&vfs.LOCK_MAND != 0 {
		return fail(pid, "flock", err, fd, op)
	}
	if err = vfs.CheckFlockOp(op); err == nil {
		var f *vfs.File
		if f, err = t.Files().File(fd); err == nil {
			err = f.Flock(op)
		}
	}
	return fail(pid, "flock", err, fd, op)
}

// pathCall runs a path operation with the caller's root and working
// directory.
func (k *Kernel) pathCall(pid int, call, path string, op func(root, cwd *vfs.Dentry) error, args ...any) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, err := k.caller(pid)
	if err == nil {
		err = op(t.FS().Root(), t.FS().Cwd())
	}
	return fail(pid, call, err, append([]any{path}, args...)...)
}

// Mkdir creates a directory, as mkdir(2) with a umask of 0.
func (k *Kernel) Mkdir(pid int, path string, perm uint32) error {
	return k.pathCall(pid, "mkdir", path, func(root, cwd *vfs.Dentry) error {
		return k.fs.Mkdir(root, cwd, path, perm)
	}, modeArg(perm))
}

// Mkfifo creates a FIFO, as mkfifo(3) with a umask of 0.
func (k *Kernel) Mkfifo(pid int, path string, perm uint32) error {
	return k.pathCall(pid, "mkfifo", path, func(root, cwd *vfs.Dentry) error {
		return k.fs.Mkfifo(root, cwd, path, perm)
	}, modeArg(perm))
}

// Unlink removes a name, as unlink(2).
func (k *Kernel) Unlink(pid int, path string) error {
	return k.pathCall(pid, "unlink", path, func(root, cwd *vfs.Dentry) error {
		return k.fs.Unlink(root, cwd, path)
	})
}

// Chdir changes the working directory, as chdir(2); every task sharing the
// fs state (CLONE_FS) sees the change.
func (k *Kernel) Chdir(pid int, path string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, err := k.caller(pid)
	if err == nil {
		err = k.chdir(t, path)
	}
	return fail(pid, "chdir", err, path)
}

func (k *Kernel) chdir(t *task.Task, path string) error {
	fs := t.FS()
	d, err := k.fs.Lookup(fs.Root(), fs.Cwd(), path)
	if err != nil {
		return err
	}
	if !d.Inode().IsDir() {
		return errno.ENOTDIR
	}
	fs.Chdir(d)
	return nil
}

// posOverflows is rw_verify_area's check of the position: a read or
// write of count bytes from a position so high that the end passes the
// largest offset is EINVAL, before the file's own refusal. Only a
// directory gets there (an ext4 directory's end is the largest offset; a
// regular file stops far below): a read of it is then EINVAL, not EISDIR.
func posOverflows(f *vfs.File, count int) error {
	if f.Mode()&vfs.FMODE_READ != 0 && f.Type() == vfs.TypeDirectory && f.Pos() > math.MaxInt64-int64(count) {
		return errno.EINVAL
	}
	return nil
}
