package ckpt

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// restart is Restart's work, with the kernel locked. It builds the container
// detached from the kernel and attaches it only after the tail has been
// checked; on error it releases everything it built.
func restart(core *kernel.Core, r io.Reader, flags int, log *slog.Logger) (int, error) {
	c := &ctx{core: core, fs: core.FS(), root: core.FS().Root(), log: log, r: image.NewReader(r),
		claimed: map[int32]bool{}, fifoPipes: map[*vfs.Pipe]int32{}}
	c.r.OnRecord = func(rec *image.Record) {
		c.debug("image", "read", "offset", rec.Offset, "record", rec.Type.String(), "length", len(rec.Fixed)+len(rec.Tail))
	}
	c.objs = objhash.NewRestart(objTypes)
	defer c.objs.Discard()
	tasks, err := c.readContainer()
	if err == nil {
		err = c.readTail()
	}
	if err == nil {
		err = core.Attach(tasks[0])
	}
	if err != nil {
		for _, t := range tasks {
			t.SetFiles(nil)
			t.SetFS(nil)
			t.Put()
		}
		return 0, err
	}
	for _, t := range tasks {
		if t.State() != task.Zombie && flags&RESTART_FROZEN != 0 {
			t.SetState(task.Frozen)
		}
	}
	return tasks[0].Pid(), nil
}

// readContainer reads the header, the task tree and every task's state.
func (c *ctx) readContainer() ([]*task.Task, error) {
	if err := c.readHeader(); err != nil {
		return nil, err
	}
	tasks, err := c.readTree()
	if err != nil {
		return tasks, err
	}
	for _, t := range tasks {
		if err := c.readTask(t); err != nil {
			return tasks, fmt.Errorf("pid %d: %w", t.Pid(), err)
		}
	}
	return tasks, nil
}

// objectsBefore says which shared objects may have their first encounter
// (an objref record and the object's state) right before a record of each
// type, as FORMAT.md orders them: a task's file table and fs state before
// its TASK_OBJS, a file before its FD, an unlinked file's ghost before its
// FILE. Nowhere else: an objref record out of place is refused rather than
// restored, which also bounds how deeply objects nest (file table, file,
// ghost), however the image is made.
var objectsBefore = map[image.Type][]objhash.Type{
	image.TypeTaskObjs: {objFileTable, objFS},
	image.TypeFd:       {objFile},
	image.TypeFile:     {objGhost},
}

// next returns the next record, which must be of type t. On the way it
// restores every shared object whose objref record comes first, where the
// format allows one, and it stops at an error record, which says why the
// image is incomplete.
func (c *ctx) next(t image.Type) (*image.Record, error) {
	for {
		rec, err := c.r.Next()
		if err == io.EOF {
			return nil, &image.Error{Offset: c.r.Offset(), Msg: fmt.Sprintf("image ends where a %v record was expected", t)}
		}
		if err != nil {
			return nil, err
		}
		switch rec.Type {
		case t:
			return rec, nil
		case image.TypeError:
			return nil, errAt(rec, fmt.Errorf("the image is incomplete, its checkpoint failed: %q: %w", rec.Tail, errno.EINVAL))
		case image.TypeObjref:
			if err := c.restoreObjref(rec, t); err != nil {
				return nil, err
			}
		default:
			return nil, rec.Errorf("found where a %v record was expected", t)
		}
	}
}

// restoreObjref restores the shared object whose objref record rec is, met
// on the way to a record of type before.
func (c *ctx) restoreObjref(rec *image.Record, before image.Type) error {
	var o image.Objref
	if err := rec.Decode(&o); err != nil {
		return err
	}
	// The image's object types, not the table's: restart's parked pipe
	// ends have a type of their own that no image may name.
	t := objhash.Type(o.ObjType)
	if image.ObjTypeName(o.ObjType) == "" {
		return rec.Errorf("objref %d of unknown object type %d", o.Objref, o.ObjType)
	}
	if !slices.Contains(objectsBefore[before], t) {
		return rec.Errorf("objref %d, a %s, found where a %v record was expected", o.Objref, objTypes.Name(t), before)
	}
	c.debug("objects", "first encounter", "type", objTypes.Name(t), "objref", o.Objref)
	if _, err := c.objs.RestoreObj(c, o.Objref, t); err != nil {
		return errAt(rec, err)
	}
	return nil
}

// fetch returns the object of a reference: an objref restored before.
func (c *ctx) fetch(rec *image.Record, ref int32, t objhash.Type) (any, error) {
	obj, err := c.objs.Fetch(ref, t)
	if err != nil {
		return nil, errAt(rec, err)
	}
	c.debug("objects", "reference", "type", objTypes.Name(t), "objref", ref)
	return obj, nil
}

func (c *ctx) readHeader() error {
	rec, err := c.next(image.TypeHeader)
	if err != nil {
		return err
	}
	var h image.Header
	if err := rec.Decode(&h); err != nil {
		return err
	}
	switch {
	case h.Magic != image.HeaderMagic:
		return rec.Errorf("bad magic %q: not a ckptsim image", h.Magic[:])
	case h.Major != image.VersionMajor || h.Minor > image.VersionMinor:
		return rec.Errorf("image format %d.%d, this reader reads %d.0 to %d.%d",
			h.Major, h.Minor, image.VersionMajor, image.VersionMajor, image.VersionMinor)
	case h.Flags&^CHECKPOINT_SUBTREE != 0:
		return rec.Errorf("unknown checkpoint flags %#x", h.Flags)
	}
	if rec, err = c.next(image.TypeArch); err != nil {
		return err
	}
	var a image.Arch
	if err := rec.Decode(&a); err != nil {
		return err
	}
	if a.Arch != image.ArchX86_64 || a.RegsSize != x86cpu.RegsSize || a.FPUSize != x86cpu.FXSaveSize || a.DebugSize != x86cpu.DebugRegsSize {
		return rec.Errorf("architecture %d with %d/%d/%d-byte register areas; this kernel is x86-64 with %d/%d/%d",
			a.Arch, a.RegsSize, a.FPUSize, a.DebugSize, x86cpu.RegsSize, x86cpu.FXSaveSize, x86cpu.DebugRegsSize)
	}
	return nil
}

// readTree reads the task tree and creates its tasks, detached, with their
// pids, parents, names and states. The tree must be in preorder: each
// task's parent is the task before it or one of that task's ancestors.
func (c *ctx) readTree() ([]*task.Task, error) {
	rec, err := c.next(image.TypeTree)
	if err != nil {
		return nil, err
	}
	var tree image.Tree
	if err := rec.Decode(&tree); err != nil {
		return nil, err
	}
	if tree.Tasks == 0 || int64(tree.Tasks) >= int64(c.core.PidMax()) {
		return nil, rec.Errorf("%d tasks", tree.Tasks)
	}
	var tasks []*task.Task
	var stack []*task.Task // the ancestors of the next task, in preorder
	seen := map[int32]bool{}
	for range tree.Tasks {
		rec, err := c.next(image.TypeTask)
		if err != nil {
			return tasks, err
		}
		var tr image.Task
		if err := rec.Decode(&tr); err != nil {
			return tasks, err
		}
		comm, err := commOf(tr.Comm)
		switch {
		case err != nil:
			return tasks, rec.Errorf("pid %d: %v", tr.Pid, err)
		case seen[tr.Pid]:
			return tasks, rec.Errorf("pid %d appears twice", tr.Pid)
		case tr.State > 1:
			return tasks, rec.Errorf("pid %d: state %d", tr.Pid, tr.State)
		case tr.State == 1 && (tr.ExitCode < 0 || tr.ExitCode > 255), tr.State == 0 && tr.ExitCode != 0:
			return tasks, rec.Errorf("pid %d: exit code %d", tr.Pid, tr.ExitCode)
		case len(tasks) == 0 && (tr.PPid != 0 || tr.State != 0):
			return tasks, rec.Errorf("the root, pid %d, must be live and have parent 0", tr.Pid)
		}
		if err := c.core.PidFree(int(tr.Pid)); err != nil {
			return tasks, errAt(rec, err)
		}
		seen[tr.Pid] = true
		for len(stack) > 0 && int32(stack[len(stack)-1].Pid()) != tr.PPid {
			stack = stack[:len(stack)-1]
		}
		if len(tasks) > 0 && len(stack) == 0 {
			return tasks, rec.Errorf("pid %d: parent %d is not an ancestor in preorder", tr.Pid, tr.PPid)
		}
		t := task.New(c.core.Registry(), int(tr.Pid), comm, nil, nil, x86cpu.Default())
		if tr.State == 1 {
			t.Exit(int(tr.ExitCode))
		}
		if len(stack) > 0 {
			stack[len(stack)-1].AddChild(t)
		}
		tasks = append(tasks, t)
		stack = append(stack, t)
	}
	return tasks, nil
}

// commOf reads a NUL-padded command name: at most 15 bytes, then zeros.
func commOf(b [image.CommLen]byte) (string, error) {
	n := bytes.IndexByte(b[:], 0)
	if n < 0 {
		return "", fmt.Errorf("command name without a terminating NUL")
	}
	if bytes.ContainsFunc(b[n:], func(r rune) bool { return r != 0 }) {
		return "", fmt.Errorf("command name with bytes after its NUL")
	}
	return string(b[:n]), nil
}

// readTask reads a task's objects and registers. A live task gets its file
// table and fs state (restored on their first encounter, taken from the
// object hash on later ones); a zombie has neither.
func (c *ctx) readTask(t *task.Task) error {
	rec, err := c.next(image.TypeTaskObjs)
	if err != nil {
		return err
	}
	var objs image.TaskObjs
	if err := rec.Decode(&objs); err != nil {
		return err
	}
	if t.State() == task.Zombie {
		if objs.FileTable != 0 || objs.FS != 0 {
			return rec.Errorf("a zombie with a file table or fs state")
		}
	} else {
		files, err := c.fetch(rec, objs.FileTable, objFileTable)
		if err != nil {
			return err
		}
		fs, err := c.fetch(rec, objs.FS, objFS)
		if err != nil {
			return err
		}
		files.(*task.FileTable).Get()
		t.SetFiles(files.(*task.FileTable))
		fs.(*task.FSState).Get()
		t.SetFS(fs.(*task.FSState))
	}
	if rec, err = c.next(image.TypeRegs); err != nil {
		return err
	}
	var regs x86cpu.State
	if err := regs.UnmarshalBinary(rec.Tail); err != nil {
		return errAt(rec, err)
	}
	if err := regs.Validate(); err != nil {
		return errAt(rec, err)
	}
	t.SetRegs(regs)
	return nil
}

// readTail checks the tail: its magic and the checksum of everything before.
func (c *ctx) readTail() error {
	rec, err := c.next(image.TypeTail)
	if err != nil {
		return err
	}
	var tail image.Tail
	if err := rec.Decode(&tail); err != nil {
		return err
	}
	if tail.Magic != image.TailMagic {
		return rec.Errorf("bad magic %q", tail.Magic[:])
	}
	if tail.CRC != rec.CRC {
		return rec.Errorf("checksum %#08x, the image's bytes give %#08x: the image is corrupt", tail.CRC, rec.CRC)
	}
	return nil
}

func restoreFileTable(c *ctx) (any, error) {
	rec, err := c.next(image.TypeFileTable)
	if err != nil {
		return nil, err
	}
	var ft image.FileTable
	if err := rec.Decode(&ft); err != nil {
		return nil, err
	}
	if int64(ft.Fds) > int64(c.core.NrOpen()) {
		return nil, errAt(rec, fmt.Errorf("%d descriptors, nr_open is %d: %w", ft.Fds, c.core.NrOpen(), errno.EMFILE))
	}
	files := task.NewFileTable(c.core.Registry())
	last := int32(-1)
	for range ft.Fds {
		if err := c.restoreFd(files, &last); err != nil {
			files.Put()
			return nil, err
		}
	}
	return files, nil
}

// restoreFd reads one descriptor (restoring its file on the way, on its
// first encounter) and installs the file at the saved number, with its
// close-on-exec bit. Numbers must increase and stay below RLIMIT_NOFILE.
func (c *ctx) restoreFd(files *task.FileTable, last *int32) error {
	rec, err := c.next(image.TypeFd)
	if err != nil {
		return err
	}
	var fd image.Fd
	if err := rec.Decode(&fd); err != nil {
		return err
	}
	switch {
	case fd.Fd <= *last:
		return rec.Errorf("fd %d after fd %d: descriptors must increase", fd.Fd, *last)
	case int64(fd.Fd) >= int64(c.core.NoFile()):
		return errAt(rec, fmt.Errorf("fd %d is beyond RLIMIT_NOFILE %d: %w", fd.Fd, c.core.NoFile(), errno.EMFILE))
	case fd.CloseOnExec > 1:
		return rec.Errorf("fd %d: close-on-exec %d", fd.Fd, fd.CloseOnExec)
	}
	*last = fd.Fd
	obj, err := c.fetch(rec, fd.File, objFile)
	if err != nil {
		return fmt.Errorf("fd %d: %w", fd.Fd, err)
	}
	f := obj.(*vfs.File)
	f.Get()
	files.Install(int(fd.Fd), f, fd.CloseOnExec == 1)
	return nil
}

func restoreFS(c *ctx) (any, error) {
	rec, err := c.next(image.TypeFS)
	if err != nil {
		return nil, err
	}
	var fs image.FS
	if err := rec.Decode(&fs); err != nil {
		return nil, err
	}
	if int64(fs.RootLen)+int64(fs.CwdLen) != int64(len(rec.Tail)) {
		return nil, rec.Errorf("paths of %d and %d bytes in a %d-byte tail", fs.RootLen, fs.CwdLen, len(rec.Tail))
	}
	var dirs [2]*vfs.Dentry
	for i, p := range []string{string(rec.Tail[:fs.RootLen]), string(rec.Tail[fs.RootLen:])} {
		d, err := c.lookup(p)
		if err == nil && !d.Inode().IsDir() {
			err = fmt.Errorf("%s is not a directory: %w", p, errno.ENOTDIR)
		}
		if err != nil {
			return nil, errAt(rec, err)
		}
		dirs[i] = d
	}
	return task.NewFSState(c.core.Registry(), dirs[0], dirs[1]), nil
}

// lookup resolves a saved path under the container's root. A saved path is
// canonical: absolute, no empty, "." or ".." components, no trailing slash.
// Anything else was not written by a checkpoint, and is refused rather than
// resolved, which also keeps every path inside the container's root.
func (c *ctx) lookup(p string) (*vfs.Dentry, error) {
	if err := canonical(p); err != nil {
		return nil, err
	}
	d, err := c.fs.Lookup(c.root, c.root, p)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p, err)
	}
	return d, nil
}

func canonical(p string) error {
	if p == "/" {
		return nil
	}
	// A NUL cannot be in a Linux path, so none was saved.
	if len(p) > image.MaxPath || !strings.HasPrefix(p, "/") || path.Clean(p) != p || strings.Contains(p, "/../") || strings.HasSuffix(p, "/..") || strings.IndexByte(p, 0) >= 0 {
		return fmt.Errorf("path %q is not a canonical path inside the container: %w", p, errno.EINVAL)
	}
	return nil
}

// restoreFile recreates an open file: it reads the file record, finds the
// file's inode by its path or ghost, and has the file's type recreate it.
func restoreFile(c *ctx) (any, error) {
	rec, err := c.next(image.TypeFile)
	if err != nil {
		return nil, err
	}
	var fr image.File
	if err := rec.Decode(&fr); err != nil {
		return nil, err
	}
	r := &vfs.FileRecord{Type: vfs.FileType(fr.FileType), Flags: int(fr.Flags), Mode: vfs.FMode(fr.Mode),
		Pos: fr.Pos, Version: fr.Version, Path: string(rec.Tail), Ghost: fr.Ghost,
		Size: fr.Size, Changes: fr.Changes, Pipe: fr.Pipe}
	if err := checkFileRecord(r); err != nil {
		return nil, errAt(rec, err)
	}
	var d *vfs.Dentry
	switch {
	case r.Ghost != 0:
		obj, err := c.fetch(rec, r.Ghost, objGhost)
		if err != nil {
			return nil, err
		}
		d = obj.(*vfs.Dentry)
		// The ghost and the file are both the image's: a mismatch is the
		// image contradicting itself, not a disk that changed.
		if in := d.Inode(); r.Type == vfs.TypeRegular && !in.IsRegular() || r.Type == vfs.TypeFIFO && !in.IsFIFO() {
			return nil, rec.Errorf("a %v file on ghost %d, %s, whose mode is %#o", r.Type, r.Ghost, d.Path(), in.Mode())
		}
	case r.Path != "":
		if d, err = c.lookup(r.Path); err != nil {
			return nil, errAt(rec, err)
		}
	}
	f, err := vfs.RestoreFile(c, c.fs, r, d)
	if err != nil {
		return nil, errAt(rec, err)
	}
	return f, nil
}

// checkFileRecord checks that the fields of a file record fit its type.
func checkFileRecord(r *vfs.FileRecord) error {
	named := r.Type == vfs.TypeRegular || r.Type == vfs.TypeDirectory || r.Type == vfs.TypeFIFO
	piped := r.Type == vfs.TypePipe || r.Type == vfs.TypeFIFO
	switch {
	case r.Type < vfs.TypeRegular || r.Type > vfs.TypeFIFO:
		return fmt.Errorf("file type %d: %w", r.Type, errno.EINVAL)
	case named && (r.Path == "") == (r.Ghost == 0):
		return fmt.Errorf("a %v file needs a path or a ghost, not both: %w", r.Type, errno.EINVAL)
	case !named && (r.Path != "" || r.Ghost != 0):
		return fmt.Errorf("a pipe end with a name: %w", errno.EINVAL)
	case r.Ghost < 0 || r.Type == vfs.TypeDirectory && r.Ghost != 0:
		return fmt.Errorf("ghost objref %d for a %v: %w", r.Ghost, r.Type, errno.EINVAL)
	case piped != (r.Pipe != 0) || r.Pipe < 0:
		return fmt.Errorf("pipe objref %d for a %v file: %w", r.Pipe, r.Type, errno.EINVAL)
	case r.Type != vfs.TypeRegular && (r.Size != 0 || r.Changes != 0):
		return fmt.Errorf("size or change counter for a %v file: %w", r.Type, errno.EINVAL)
	case r.Mode&^(vfs.FMODE_READ|vfs.FMODE_WRITE|vfs.FMODE_LSEEK|vfs.FMODE_PREAD|vfs.FMODE_PWRITE) != 0:
		return fmt.Errorf("mode bits %v: %w", r.Mode, errno.EINVAL)
	}
	return nil
}

// Registry implements vfs.RestoreContext.
func (c *ctx) Registry() *kref.Registry { return c.core.Registry() }

// restored looks an objref up on the restart side: false when it is not
// there yet, the object when it is, an error when it names another kind of
// object.
func (c *ctx) restored(ref int32, t objhash.Type) (any, bool, error) {
	if ref <= 0 {
		return nil, false, fmt.Errorf("objref %d: %w", ref, errno.EINVAL)
	}
	obj, err := c.objs.Fetch(ref, t)
	if errors.Is(err, errno.EINVAL) {
		// As in the seeds: an unknown objref is a first encounter.
		return nil, false, nil
	}
	return obj, err == nil, err
}

// ClaimParkedEnd implements vfs.RestoreContext. Each parked end is
// claimed once: the pipe's first file created both ends, the second takes
// the parked one, and there is no third.
func (c *ctx) ClaimParkedEnd(pipe int32) (*vfs.File, bool, error) {
	obj, ok, err := c.restored(pipe, objPipeEnd)
	if !ok {
		return nil, false, err
	}
	if c.claimed[pipe] {
		return nil, false, fmt.Errorf("pipe %d: a third file on a pipe whose two ends are restored: %w", pipe, errno.EINVAL)
	}
	c.claimed[pipe] = true
	c.debug("objects", "reference", "type", "pipe", "objref", pipe)
	return obj.(*vfs.File), true, nil
}

// Park implements vfs.RestoreContext.
func (c *ctx) Park(pipe int32, f *vfs.File) error { return c.objs.Insert(f, pipe, objPipeEnd) }

// FIFOPipe implements vfs.RestoreContext.
func (c *ctx) FIFOPipe(pipe int32) (*vfs.Pipe, bool, error) {
	obj, ok, err := c.restored(pipe, objPipe)
	if !ok {
		return nil, false, err
	}
	c.debug("objects", "reference", "type", "pipe", "objref", pipe)
	return obj.(*vfs.Pipe), true, nil
}

// AddFIFOPipe implements vfs.RestoreContext.
func (c *ctx) AddFIFOPipe(pipe int32, p *vfs.Pipe) error {
	if err := c.objs.Insert(p, pipe, objPipe); err != nil {
		return err
	}
	c.fifoPipes[p] = pipe
	return nil
}

// FIFOPipeObjref implements vfs.RestoreContext.
func (c *ctx) FIFOPipeObjref(p *vfs.Pipe) (int32, bool) {
	ref, ok := c.fifoPipes[p]
	return ref, ok
}

// ReadPipe implements vfs.RestoreContext: the pipe's objref record, which
// must name this pipe, then its state and buffers.
func (c *ctx) ReadPipe(pipe int32) ([]vfs.PipeBuffer, error) {
	rec, err := c.r.Expect(image.TypeObjref)
	if err != nil {
		return nil, err
	}
	var o image.Objref
	if err := rec.Decode(&o); err != nil {
		return nil, err
	}
	if o.ObjType != uint32(objPipe) || o.Objref != pipe {
		return nil, rec.Errorf("objref %d of type %d where the state of pipe %d was expected", o.Objref, o.ObjType, pipe)
	}
	c.debug("objects", "first encounter", "type", "pipe", "objref", pipe)
	if rec, err = c.r.Expect(image.TypePipe); err != nil {
		return nil, err
	}
	var p image.Pipe
	if err := rec.Decode(&p); err != nil {
		return nil, err
	}
	if p.Buffers > vfs.PipeBuffers || p.Bytes > vfs.PipeCapacity {
		return nil, rec.Errorf("%d buffers of %d bytes in all: a pipe holds at most %d buffers, %d bytes",
			p.Buffers, p.Bytes, vfs.PipeBuffers, vfs.PipeCapacity)
	}
	bufs := make([]vfs.PipeBuffer, 0, p.Buffers)
	total := 0
	for range p.Buffers {
		rec, err := c.r.Expect(image.TypePipeBuf)
		if err != nil {
			return nil, err
		}
		var b image.PipeBuf
		if err := rec.Decode(&b); err != nil {
			return nil, err
		}
		if b.Flags&^pipeBufPacket != 0 || int64(b.Offset)+int64(len(rec.Tail)) > vfs.PageSize {
			return nil, rec.Errorf("buffer of %d bytes at offset %d with flags %#x", len(rec.Tail), b.Offset, b.Flags)
		}
		bufs = append(bufs, vfs.PipeBuffer{Offset: int(b.Offset), Data: rec.Tail, Packet: b.Flags&pipeBufPacket != 0})
		total += len(rec.Tail)
	}
	if total != int(p.Bytes) {
		return nil, rec.Errorf("buffers hold %d bytes, the pipe record says %d", total, p.Bytes)
	}
	return bufs, nil
}

// restoreGhost recreates an unlinked file: an inode with the saved mode,
// contents and change counter, whose name (in its saved directory) is not
// linked into the tree.
func restoreGhost(c *ctx) (any, error) {
	rec, err := c.next(image.TypeGhost)
	if err != nil {
		return nil, err
	}
	var g image.Ghost
	if err := rec.Decode(&g); err != nil {
		return nil, err
	}
	if int64(g.PathLen) > int64(len(rec.Tail)) || g.PathLen > image.MaxPath {
		return nil, rec.Errorf("a %d-byte path in a %d-byte tail", g.PathLen, len(rec.Tail))
	}
	p, contents := string(rec.Tail[:g.PathLen]), rec.Tail[g.PathLen:]
	if err := canonical(p); err != nil || p == "/" {
		return nil, rec.Errorf("ghost path %q", p)
	}
	dir, err := c.lookup(path.Dir(p))
	if err != nil {
		return nil, errAt(rec, err)
	}
	d, err := c.fs.NewGhost(dir, path.Base(p), g.Mode, contents, g.Changes)
	if err != nil {
		return nil, errAt(rec, err)
	}
	return d, nil
}
