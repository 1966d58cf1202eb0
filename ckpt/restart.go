package ckpt

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// restart is Restart's work, with the kernel locked. It builds the container
// detached from the kernel and attaches it only after the tail has been
// checked; on error it releases everything it built.
func restart(core *kernel.Core, r io.Reader, flags int, log *slog.Logger) (int, error) {
	c := &ctx{core: core, log: log, r: image.NewReader(r)}
	vfs.SetContainer(c, vfs.Container{FS: core.FS(), Root: core.FS().Root()})
	task.SetLimits(c, task.Limits{NrOpen: core.NrOpen(), NoFile: core.NoFile()})
	mm.SetLimits(c, mm.Limits{MaxMapCount: core.MaxMapCount()})
	if c.debugging() {
		c.r.OnRecord = func(rec *image.Record) {
			c.debug("image", "read", "offset", rec.Offset, "record", rec.Type.String(), "length", len(rec.Fixed)+len(rec.Tail))
		}
	}
	defer c.r.Close()
	c.objs = objhash.NewRestart(object.Registry())
	defer c.objs.Discard()
	defer c.releaseLocals()
	tasks, err := c.readContainer()
	if err == nil {
		err = c.readTail()
	}
	if err == nil {
		err = core.Attach(tasks[0])
	}
	if err == nil && c.lastPid >= 0 {
		err = core.SetLastPid(c.lastPid)
	}
	if err != nil {
		for _, t := range tasks {
			t.SetFiles(nil)
			t.SetFS(nil)
			t.SetMM(nil)
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
	return tasks, c.complete()
}

// complete has every object restored check what only the whole image can
// tell, now that it is read.
func (c *ctx) complete() error {
	if c.toComplete == 0 {
		return nil // a walk of every entry for nothing
	}
	for e := range c.objs.All() {
		if err := object.Complete(c, object.Type(e.Type), e.Obj); err != nil {
			return fmt.Errorf("objref %d, a %s: %w", e.Objref, e.Name, err)
		}
	}
	return nil
}

// maxNesting bounds how deeply objects may nest in an image (today a ghost
// in a file in a file table: 3). The records' objref fields already allow
// an object only right before a record that refers to it, which bounds the
// nesting by the types' own structure; this is the engine's own guard,
// should types ever refer to each other in a cycle.
const maxNesting = 16

// Expect implements object.Restorer and image.RecordReader: it returns the
// next record, which must be of type t. On the way it restores every shared
// object whose OBJREF record comes first, where the format allows one: an
// object of a type that one of t's objref fields names (a file before its
// FD, a ghost before its FILE). Nowhere else: an objref record out of place
// is refused rather than restored. Objects are introduced in canonical
// order (objref n+1 after n) and only for the record they precede: t must
// refer to each. It stops at an error record, which says why the image is
// incomplete.
func (c *ctx) Expect(t image.Type) (*image.Record, error) {
	if c.r == nil {
		return nil, wrongSide("Expect")
	}
	var introduced []pendingObj
	for {
		rec, err := c.nextRecord(t.String())
		if err != nil {
			return nil, err
		}
		switch rec.Type {
		case t:
			return rec, c.used(rec, introduced)
		case image.TypeObjref:
			o, err := c.restoreBefore(rec, t)
			if err != nil {
				return nil, err
			}
			introduced = append(introduced, o)
		default:
			return nil, rec.Errorf("found where a %v record was expected", t)
		}
	}
}

// nextRecord reads the next record, turning the end of the stream and an
// error record into the errors they are.
func (c *ctx) nextRecord(want string) (*image.Record, error) {
	rec, err := c.r.Next()
	if err == io.EOF {
		return nil, &image.Error{Offset: c.r.Offset(), Msg: fmt.Sprintf("image ends where a %s record was expected", want)}
	}
	if err != nil {
		return nil, err
	}
	if rec.Type == image.TypeError {
		return nil, rec.Wrap(fmt.Errorf("the image is incomplete, its checkpoint failed: %q: %w", rec.Tail, errno.EINVAL))
	}
	return rec, nil
}

// restoreBefore restores the object whose OBJREF record rec is, met on the
// way to a record of type before, which must allow it.
func (c *ctx) restoreBefore(rec *image.Record, before image.Type) (pendingObj, error) {
	o, err := image.ObjrefKind.Decode(rec)
	if err != nil {
		return pendingObj{}, err
	}
	t := object.Type(o.ObjType)
	if o.ObjType > 0xffff || !object.Known(t) {
		return pendingObj{}, rec.Errorf("objref %d of unknown object type %d", o.Objref, o.ObjType)
	}
	if !refersBefore(before, t) {
		return pendingObj{}, rec.Errorf("objref %d, a %s, found where a %v record was expected", o.Objref, object.Name(t), before)
	}
	_, err = c.restoreObj(rec, o.Objref, t)
	return pendingObj{objref: o.Objref, t: t, at: rec}, err
}

// refersBefore reports whether records of type r may be preceded by a new
// object of type t: one of r's objref fields names t, and not as an object
// whose state follows.
func refersBefore(r image.Type, t object.Type) bool {
	for _, f := range image.SpecOf(r).Refs() {
		if f.Meaning.Ref == t && !f.Meaning.After {
			return true
		}
	}
	return false
}

// used checks that rec refers to every object introduced right before it:
// a checkpoint introduces an object where it is first met, so an object
// that the next record does not use is not one a checkpoint wrote.
func (c *ctx) used(rec *image.Record, introduced []pendingObj) error {
	for _, o := range introduced {
		found := false
		for _, f := range image.SpecOf(rec.Type).Refs() {
			if v, _ := f.Value(rec.Fixed); f.Meaning.Ref == o.t && !f.Meaning.After && int32(v) == o.objref {
				found = true
			}
		}
		if !found {
			return o.at.Errorf("objref %d, a %s, is not used by the %v record it comes before", o.objref, object.Name(o.t), rec.Type)
		}
	}
	return nil
}

// restoreObj restores an object whose OBJREF record rec, naming objref and
// type t, has just been read: objrefs come in order of first encounter,
// and objects nest at most maxNesting deep.
func (c *ctx) restoreObj(rec *image.Record, objref int32, t object.Type) (any, error) {
	if objref != c.lastObjref+1 {
		return nil, rec.Errorf("objref %d out of order: objrefs count from 1 in order of first encounter, and the next is %d",
			objref, c.lastObjref+1)
	}
	c.lastObjref = objref
	if c.depth++; c.depth > maxNesting {
		return nil, rec.Errorf("objref %d: objects nested more than %d deep", objref, maxNesting)
	}
	defer func() { c.depth-- }()
	if c.debugOn {
		c.debug("objects", "first encounter", "type", object.Name(t), "objref", objref)
	}
	obj, err := c.objs.RestoreObj(c, objref, objhash.Type(t))
	if err != nil {
		return nil, rec.Wrap(err)
	}
	if object.HasComplete(t) {
		c.toComplete++
	}
	return obj, nil
}

// RestoreNext implements object.Restorer: the object whose state comes
// next, right after the record that first refers to it.
func (c *ctx) RestoreNext(objref int32, t object.Type) (any, error) {
	if c.r == nil {
		return nil, wrongSide("RestoreNext")
	}
	want := fmt.Sprintf("OBJREF of %s %d", object.Name(t), objref)
	rec, err := c.nextRecord(want)
	if err != nil {
		return nil, err
	}
	if rec.Type != image.TypeObjref {
		return nil, rec.Errorf("found where the %s was expected", want)
	}
	o, err := image.ObjrefKind.Decode(rec)
	if err != nil {
		return nil, err
	}
	if o.ObjType != uint32(t) || o.Objref != objref {
		return nil, rec.Errorf("objref %d of type %d where the %s was expected", o.Objref, o.ObjType, want)
	}
	return c.restoreObj(rec, objref, t)
}

// Fetch implements object.Restorer: a reference to an object restored
// before. An objref that names nothing yet is the image's fault (EINVAL).
func (c *ctx) Fetch(objref int32, t object.Type) (any, error) {
	obj, ok, err := c.Find(objref, t)
	if err == nil && !ok {
		err = fmt.Errorf("objref %d names no %s restored before: %w", objref, object.Name(t), errno.EINVAL)
	}
	return obj, err
}

// Find implements object.Restorer.
func (c *ctx) Find(objref int32, t object.Type) (any, bool, error) {
	if c.r == nil {
		return nil, false, wrongSide("Find")
	}
	if objref <= 0 {
		return nil, false, fmt.Errorf("objref %d for a %s: %w", objref, object.Name(t), errno.EINVAL)
	}
	obj, ok, err := c.objs.Find(objref, objhash.Type(t))
	if ok && c.debugOn {
		c.debug("objects", "reference", "type", object.Name(t), "objref", objref)
	}
	return obj, ok, err
}

// Subtree implements object.Restorer.
func (c *ctx) Subtree() bool { return c.subtree }

// Registry implements object.Restorer.
func (c *ctx) Registry() *kref.Registry { return c.core.Registry() }

func (c *ctx) readHeader() error {
	h, rec, err := image.HeaderKind.Read(c)
	if err != nil {
		return err
	}
	switch {
	case h.Magic != image.HeaderMagic:
		return rec.Errorf("bad magic %q: not a ckptsim image", h.Magic[:])
	case h.Major != image.VersionMajor || h.Minor > image.VersionMinor:
		return rec.Errorf("image format %d.%d, this reader reads %d.0 to %d.%d",
			h.Major, h.Minor, image.VersionMajor, image.VersionMajor, image.VersionMinor)
	case h.Flags&^(CHECKPOINT_SUBTREE|image.FlagZstd) != 0:
		return rec.Errorf("unknown checkpoint flags %#x", h.Flags)
	}
	c.subtree = h.Flags&CHECKPOINT_SUBTREE != 0
	c.minor = h.Minor
	a, rec, err := image.ArchKind.Read(c)
	if err != nil {
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
	tree, rec, err := TreeKind.Read(c)
	if err != nil {
		return nil, err
	}
	if tree.Tasks == 0 || int64(tree.Tasks) >= int64(c.core.PidMax()) {
		return nil, rec.Errorf("%d tasks", tree.Tasks)
	}
	var tasks []*task.Task
	var stack []*task.Task // the ancestors of the next task, in preorder
	seen := map[int32]bool{}
	for range tree.Tasks {
		tr, rec, err := TaskKind.Read(c)
		if err != nil {
			return tasks, err
		}
		comm, err := commOf(tr.Comm)
		switch {
		case err != nil:
			return tasks, rec.Errorf("pid %d: %v", tr.Pid, err)
		case seen[tr.Pid]:
			return tasks, rec.Errorf("pid %d appears twice", tr.Pid)
		case tr.State > taskZombie:
			return tasks, rec.Errorf("pid %d: state %d", tr.Pid, tr.State)
		case tr.State == taskZombie && (tr.ExitCode < 0 || tr.ExitCode > 255), tr.State == taskLive && tr.ExitCode != 0:
			return tasks, rec.Errorf("pid %d: exit code %d", tr.Pid, tr.ExitCode)
		case len(tasks) == 0 && (tr.PPid != 0 || tr.State != taskLive):
			return tasks, rec.Errorf("the root, pid %d, must be live and have parent 0", tr.Pid)
		}
		if err := c.core.PidFree(int(tr.Pid)); err != nil {
			return tasks, rec.Wrap(err)
		}
		seen[tr.Pid] = true
		for len(stack) > 0 && int32(stack[len(stack)-1].Pid()) != tr.PPid {
			stack = stack[:len(stack)-1]
		}
		if len(tasks) > 0 && len(stack) == 0 {
			return tasks, rec.Errorf("pid %d: parent %d is not an ancestor in preorder", tr.Pid, tr.PPid)
		}
		t := task.New(c.core.Registry(), int(tr.Pid), comm, nil, nil, x86cpu.Default())
		if tr.State == taskZombie {
			t.Exit(int(tr.ExitCode))
		}
		if len(stack) > 0 {
			stack[len(stack)-1].AddChild(t)
		}
		tasks = append(tasks, t)
		stack = append(stack, t)
	}
	return tasks, c.readPidNS()
}

// readPidNS reads the pid allocator's position, which images from format
// 1.1 hold; restart gives it to the kernel once the container is in. An
// image of 1.0 has none, and the kernel's own stays.
func (c *ctx) readPidNS() error {
	c.lastPid = -1
	if c.minor < 1 {
		return nil
	}
	ns, rec, err := PidNSKind.Read(c)
	if err != nil {
		return err
	}
	if ns.LastPid < 0 || int64(ns.LastPid) >= int64(c.core.PidMax()) {
		return rec.Errorf("last pid %d, pid_max is %d", ns.LastPid, c.core.PidMax())
	}
	c.lastPid = int(ns.LastPid)
	return nil
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
// object table on later ones); a zombie has neither.
func (c *ctx) readTask(t *task.Task) error {
	objs, rec, err := TaskObjsKind.Read(c)
	if err != nil {
		return err
	}
	if t.State() == task.Zombie {
		if objs.FileTable != 0 || objs.FS != 0 {
			return rec.Errorf("a zombie with a file table or fs state")
		}
	} else {
		files, err := c.Fetch(objs.FileTable, task.ObjFileTable)
		if err != nil {
			return rec.Wrap(err)
		}
		fs, err := c.Fetch(objs.FS, task.ObjFS)
		if err != nil {
			return rec.Wrap(err)
		}
		files.(*task.FileTable).Get()
		t.SetFiles(files.(*task.FileTable))
		fs.(*task.FSState).Get()
		t.SetFS(fs.(*task.FSState))
	}
	if err := c.readTaskMM(t); err != nil {
		return err
	}
	regs, rec, err := RegsKind.Read(c)
	if err != nil {
		return err
	}
	if err := regs.Validate(); err != nil {
		return rec.Wrap(err)
	}
	t.SetRegs(regs)
	return nil
}

// readTaskMM reads a task's address space, which images from format 1.2
// hold: restored on its first encounter, taken from the object table on
// later ones. A task of an older image gets an empty one when it enters
// the kernel.
func (c *ctx) readTaskMM(t *task.Task) error {
	if c.minor < 2 {
		return nil
	}
	rec, r, err := TaskMMKind.Read(c)
	if err != nil {
		return err
	}
	if t.State() == task.Zombie {
		if rec.MM != 0 {
			return r.Errorf("a zombie with an address space")
		}
		return nil
	}
	space, err := c.Fetch(rec.MM, mm.ObjMM)
	if err != nil {
		return r.Wrap(err)
	}
	space.(*mm.MM).Get()
	t.SetMM(space.(*mm.MM))
	return nil
}

// readTail checks the tail: its magic and the checksum of everything before.
// Restart reads nothing past it: a stream may carry more after an image.
func (c *ctx) readTail() error {
	tail, rec, err := image.TailKind.Read(c)
	if err != nil {
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
