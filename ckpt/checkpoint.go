package ckpt

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// checkpoint is Checkpoint's work, with the kernel locked.
func checkpoint(core *kernel.Core, pid int, w io.Writer, flags int, now time.Time, log *slog.Logger) (int64, error) {
	root := core.Task(pid)
	if root == nil || root.State() == task.Zombie {
		return 0, fmt.Errorf("pid %d is not a live task: %w", pid, errno.ESRCH)
	}
	tasks := core.Subtree(root)
	for _, t := range tasks {
		if t.State() == task.Running {
			return 0, fmt.Errorf("pid %d is not frozen: %w", t.Pid(), errno.EBUSY)
		}
	}
	c := &ctx{core: core, fs: core.FS(), root: root.FS().Root(), log: log, w: image.NewWriter(w)}
	c.w.OnRecord = func(off int64, t image.Type, n int) {
		c.debug("image", "write", "offset", off, "record", t.String(), "length", n)
	}
	if err := c.writeHeader(flags, now); err != nil {
		return 0, err
	}
	err := c.saveContainer(tasks, flags)
	if err != nil {
		// The image is incomplete: say why in it. If the stream itself
		// failed this fails too, and the caller has the first error.
		c.w.WriteError(err.Error())
		return 0, err
	}
	if err := c.w.WriteTail(); err != nil {
		return 0, err
	}
	return core.NextCheckpointID(), nil
}

// saveContainer detects leaks (unless the flags say a subtree) and writes the
// container's records.
func (c *ctx) saveContainer(tasks []*task.Task, flags int) error {
	if flags&CHECKPOINT_SUBTREE == 0 {
		if err := c.detectLeaks(tasks); err != nil {
			return err
		}
	}
	c.objs = objhash.NewCheckpoint(objTypes)
	defer c.objs.Discard()
	if err := c.writeTree(tasks); err != nil {
		return err
	}
	for _, t := range tasks {
		if err := c.writeTask(t); err != nil {
			return fmt.Errorf("pid %d: %w", t.Pid(), err)
		}
	}
	return nil
}

// detectLeaks runs the collect pass: it counts every reference the
// container holds to each shared object, and fails with EBUSY, naming the
// objects and where the container holds them, when an object has
// references from outside.
func (c *ctx) detectLeaks(tasks []*task.Task) error {
	c.objs = objhash.NewCheckpoint(objTypes)
	defer c.objs.Discard()
	c.heldBy = map[int32]string{}
	defer func() { c.heldBy = nil }()
	for _, t := range tasks {
		if t.State() == task.Zombie {
			continue
		}
		c.pid, c.fd = t.Pid(), -1
		if err := c.collect(t.Files(), objFileTable, "the file table of pid %d", c.pid); err != nil {
			return err
		}
		if err := c.collect(t.FS(), objFS, "the fs state of pid %d", c.pid); err != nil {
			return err
		}
	}
	if err := c.objs.Leaks(); err != nil {
		if leaks, ok := errors.AsType[*objhash.LeakError](err); ok {
			return &leakError{leaks: leaks, heldBy: c.heldBy}
		}
		return fmt.Errorf("leak detection: %w", err)
	}
	return nil
}

// collect counts one reference to obj from inside the container and, on
// the object's first encounter, notes where the container holds it, for
// the message of a refusal.
func (c *ctx) collect(obj any, t objhash.Type, where string, args ...any) error {
	ref, first, err := c.objs.Collect(c, obj, t)
	if err == nil && first {
		c.heldBy[ref] = fmt.Sprintf(where, args...)
	}
	return err
}

// leakError is a refusal by leak detection: objhash's list of the objects
// referenced from outside, each with where the container holds it, since
// an objref alone means nothing to the user of a refused checkpoint.
type leakError struct {
	leaks  *objhash.LeakError
	heldBy map[int32]string // objref -> where the container holds it
}

func (e *leakError) Error() string {
	var b strings.Builder
	b.WriteString("leak detection: ")
	for i, l := range e.leaks.Leaks {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l.String())
		if where := e.heldBy[l.Objref]; where != "" {
			b.WriteString(", held inside by " + where)
		}
	}
	b.WriteString(": " + e.leaks.Errno().Error())
	return b.String()
}

// Unwrap returns objhash's error, which errors.As finds and which is EBUSY
// (or EINVAL for an engine that counted wrong).
func (e *leakError) Unwrap() error { return e.leaks }

func collectFileTable(c *ctx, obj any) error {
	files := obj.(*task.FileTable)
	for _, fd := range files.Fds() {
		f, _ := files.File(fd)
		c.fd = fd
		if err := c.collect(f, objFile, "pid %d fd %d", c.pid, fd); err != nil {
			return err
		}
	}
	c.fd = -1
	return nil
}

func collectFile(c *ctx, obj any) error {
	f := obj.(*vfs.File)
	if d := f.Dentry(); d != nil && d.Unlinked() {
		if err := c.collect(d, objGhost, "the unlinked file of pid %d fd %d", c.pid, c.fd); err != nil {
			return err
		}
	}
	if ops, ok := f.Ops().(vfs.CheckpointOps); ok {
		return ops.Collect(c, f)
	}
	return nil
}

// CollectPipe implements vfs.CollectContext.
func (c *ctx) CollectPipe(p *vfs.Pipe) error {
	return c.collect(p, objPipe, "the pipe of pid %d fd %d", c.pid, c.fd)
}

func cString(dst []byte, s string) {
	copy(dst, s)
}

func (c *ctx) writeHeader(flags int, now time.Time) error {
	h := &image.Header{Magic: image.HeaderMagic, Major: image.VersionMajor, Minor: image.VersionMinor,
		Flags: uint32(flags), Time: now.UnixNano()}
	cString(h.SimVersion[:], kernel.Version)
	cString(h.Sysname[:], kernel.Sysname)
	cString(h.Nodename[:], kernel.Nodename)
	cString(h.Release[:], kernel.Release)
	cString(h.Version[:], "#1 ckptsim "+kernel.Version)
	cString(h.Machine[:], kernel.Machine)
	if err := c.w.Write(image.TypeHeader, h, nil); err != nil {
		return err
	}
	return c.w.Write(image.TypeArch, &image.Arch{Arch: image.ArchX86_64,
		RegsSize: x86cpu.RegsSize, FPUSize: x86cpu.FXSaveSize, DebugSize: x86cpu.DebugRegsSize}, nil)
}

// writeTree writes the task tree in preorder. The root's parent, outside
// the container, is written as 0.
func (c *ctx) writeTree(tasks []*task.Task) error {
	if err := c.w.Write(image.TypeTree, &image.Tree{Tasks: uint32(len(tasks))}, nil); err != nil {
		return err
	}
	for i, t := range tasks {
		rec := &image.Task{Pid: int32(t.Pid())}
		if i > 0 {
			rec.PPid = int32(t.Parent().Pid())
		}
		if t.State() == task.Zombie {
			rec.State, rec.ExitCode = 1, int32(t.ExitCode())
		}
		cString(rec.Comm[:], t.Comm())
		if err := c.w.Write(image.TypeTask, rec, nil); err != nil {
			return err
		}
	}
	return nil
}

// writeTask writes a task's file table and fs state (each saved on its
// first encounter), then its registers.
func (c *ctx) writeTask(t *task.Task) error {
	c.pid = t.Pid()
	var objs image.TaskObjs
	if t.State() != task.Zombie {
		ref, err := c.checkpointObj(t.Files(), objFileTable)
		if err != nil {
			return err
		}
		objs.FileTable = ref
		if objs.FS, err = c.checkpointObj(t.FS(), objFS); err != nil {
			return err
		}
	}
	if err := c.w.Write(image.TypeTaskObjs, &objs, nil); err != nil {
		return err
	}
	regs, _ := t.Regs().MarshalBinary()
	return c.w.Write(image.TypeRegs, nil, regs)
}

// checkpointObj saves obj on its first encounter, with an objref record
// before its state, and returns its objref.
func (c *ctx) checkpointObj(obj any, t objhash.Type) (int32, error) {
	first := false
	ref, err := c.objs.CheckpointObj(c, obj, t, func(ref int32, t objhash.Type) error {
		first = true
		c.debug("objects", "first encounter", "type", objTypes.Name(t), "objref", ref)
		return c.writeObjref(ref, t)
	})
	if err == nil && !first {
		c.debug("objects", "reference", "type", objTypes.Name(t), "objref", ref)
	}
	return ref, err
}

func (c *ctx) writeObjref(ref int32, t objhash.Type) error {
	return c.w.Write(image.TypeObjref, &image.Objref{ObjType: uint32(t), Objref: ref}, nil)
}

func checkpointFileTable(c *ctx, obj any) error {
	files := obj.(*task.FileTable)
	fds := files.Fds()
	if err := c.w.Write(image.TypeFileTable, &image.FileTable{Fds: uint32(len(fds))}, nil); err != nil {
		return err
	}
	for _, fd := range fds {
		if err := c.writeFd(files, fd); err != nil {
			return fmt.Errorf("fd %d: %w", fd, err)
		}
	}
	return nil
}

// writeFd saves one descriptor: its file on first encounter, then the fd
// record. It refuses, as the seeds do, a file holding a lock (EBADF), a file
// with an owner (EBUSY), and a file whose type has no checkpoint operation
// (EBADF).
func (c *ctx) writeFd(files *task.FileTable, fd int) error {
	f, _ := files.File(fd)
	if f.Lock() != 0 {
		return fmt.Errorf("the file holds a flock lock: %w", errno.EBADF)
	}
	// The owner as the kernel reports it: one that named a task since
	// reaped is no owner at all (F_GETOWN reads 0).
	if owner := c.core.Owner(f); owner != 0 {
		return fmt.Errorf("the file has an owner (F_SETOWN %d): %w", owner, errno.EBUSY)
	}
	if _, ok := f.Ops().(vfs.CheckpointOps); !ok {
		return fmt.Errorf("a %v file cannot be checkpointed: %w", f.Type(), errno.EBADF)
	}
	ref, err := c.checkpointObj(f, objFile)
	if err != nil {
		return err
	}
	rec := &image.Fd{Fd: int32(fd), File: ref}
	if files.CloseOnExec(fd) {
		rec.CloseOnExec = 1
	}
	return c.w.Write(image.TypeFd, rec, nil)
}

func checkpointFS(c *ctx, obj any) error {
	fs := obj.(*task.FSState)
	root, err := c.path(fs.Root())
	if err != nil {
		return err
	}
	cwd, err := c.path(fs.Cwd())
	if err != nil {
		return err
	}
	rec := &image.FS{RootLen: uint32(len(root)), CwdLen: uint32(len(cwd))}
	return c.w.Write(image.TypeFS, rec, []byte(root+cwd))
}

// path returns d's path relative to the container's root. Linux lets a
// task work below a directory whose path is longer than PATH_MAX, through
// relative paths, but such a path cannot be saved: restart, like open(2),
// takes no longer one. It is refused here, before the image holds it.
func (c *ctx) path(d *vfs.Dentry) (string, error) {
	p, ok := d.PathFrom(c.root)
	if !ok {
		return "", fmt.Errorf("%s is outside the container's root: %w", d.Path(), errno.EXDEV)
	}
	if len(p) > image.MaxPath {
		return "", fmt.Errorf("a %d-byte path, longer than PATH_MAX (%q...): %w", len(p), p[:40], errno.ENAMETOOLONG)
	}
	return p, nil
}

// checkpointFile saves an open file: the fields every file has and its name
// (a path, or the ghost of an unlinked file, saved first), then whatever its
// type's checkpoint operation adds.
func checkpointFile(c *ctx, obj any) error {
	f := obj.(*vfs.File)
	rec := &vfs.FileRecord{Type: f.Type(), Flags: f.Flags(), Mode: f.Mode(), Pos: f.Pos(), Version: f.Version()}
	if d := f.Dentry(); d != nil && d.Unlinked() {
		ref, err := c.checkpointObj(d, objGhost)
		if err != nil {
			return err
		}
		rec.Ghost = ref
	} else if d != nil {
		p, err := c.path(d)
		if err != nil {
			return err
		}
		rec.Path = p
	}
	return f.Ops().(vfs.CheckpointOps).Checkpoint(c, f, rec)
}

// WriteFile implements vfs.CheckpointContext.
func (c *ctx) WriteFile(rec *vfs.FileRecord) error {
	return c.w.Write(image.TypeFile, &image.File{
		FileType: uint16(rec.Type), Flags: uint32(rec.Flags), Mode: uint32(rec.Mode),
		Pipe: rec.Pipe, Ghost: rec.Ghost, Pos: rec.Pos, Version: rec.Version,
		Size: rec.Size, Changes: rec.Changes,
	}, []byte(rec.Path))
}

// LookupAddPipe implements vfs.CheckpointContext.
func (c *ctx) LookupAddPipe(p *vfs.Pipe) (int32, bool, error) {
	ref, first, err := c.objs.LookupAdd(p, objPipe)
	if err == nil {
		what := "reference"
		if first {
			what = "first encounter"
		}
		c.debug("objects", what, "type", "pipe", "objref", ref)
	}
	return ref, first, err
}

// WritePipe implements vfs.CheckpointContext: the pipe's objref record, its
// state and its buffers, oldest first.
func (c *ctx) WritePipe(ref int32, p *vfs.Pipe) error {
	if err := c.writeObjref(ref, objPipe); err != nil {
		return err
	}
	bufs := p.Buffers()
	if err := c.w.Write(image.TypePipe, &image.Pipe{Buffers: uint32(len(bufs)), Bytes: uint32(p.Len())}, nil); err != nil {
		return err
	}
	for _, b := range bufs {
		rec := &image.PipeBuf{Offset: uint32(b.Offset)}
		if b.Packet {
			rec.Flags = pipeBufPacket
		}
		if err := c.w.Write(image.TypePipeBuf, rec, b.Data); err != nil {
			return err
		}
	}
	return nil
}

// pipeBufPacket is the PIPE_BUF flag of a buffer written in packet mode.
const pipeBufPacket = 1

// checkpointGhost saves an unlinked file: its mode, its last path and, for
// a regular file, its contents and change counter.
func checkpointGhost(c *ctx, obj any) error {
	d := obj.(*vfs.Dentry)
	p, err := c.path(d)
	if err != nil {
		return err
	}
	in := d.Inode()
	rec := &image.Ghost{Mode: in.Mode(), PathLen: uint32(len(p)), Changes: in.Changes()}
	return c.w.Write(image.TypeGhost, rec, append([]byte(p), in.Contents()...))
}
