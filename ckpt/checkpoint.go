package ckpt

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// checkpoint is Checkpoint's work, with the kernel locked.
func checkpoint(core *kernel.Core, pid int, w io.Writer, flags int, compress bool, now time.Time, log *slog.Logger) (int64, error) {
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
	c := &ctx{core: core, log: log, w: image.NewWriter(w)}
	defer c.releaseLocals()
	vfs.SetContainer(c, vfs.Container{FS: core.FS(), Root: root.FS().Root(), Owner: core.Owner})
	if c.debugging() {
		c.w.OnRecord = func(off int64, t image.Type, n int) {
			c.debug("image", "write", "offset", off, "record", t.String(), "length", n)
		}
	}
	if err := c.writeHeader(flags, compress, now); err != nil {
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
	// The collect pass met every object the checkpoint will: its count
	// sizes the table.
	c.objs = objhash.NewCheckpointFor(object.Registry(), c.collected)
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
	err := c.collect(tasks)
	leaks, ok := errors.AsType[*objhash.LeakError](err)
	if !ok {
		return err
	}
	// Where the container holds each object is worth a string only for an
	// error: the pass runs again, the frozen world unchanged, and this time
	// names the place of every object's first reference.
	c.heldBy = map[int32]string{}
	defer func() { c.heldBy = nil }()
	if err := c.collect(tasks); !errors.As(err, new(*objhash.LeakError)) {
		return fmt.Errorf("leak detection, naming the places: %w", err)
	}
	return &leakError{leaks: leaks, heldBy: c.heldBy}
}

// collect is the collect pass over the container's tasks, in a table of
// its own, and its verdict, objhash.Table.Leaks's.
func (c *ctx) collect(tasks []*task.Task) error {
	c.objs = objhash.NewCheckpoint(object.Registry())
	defer c.objs.Discard()
	c.collecting = true
	defer func() { c.collecting = false }()
	for _, t := range tasks {
		if t.State() == task.Zombie {
			continue
		}
		c.places = []object.Place{object.At("pid", t.Pid())}
		if err := c.Collect(t.Files(), task.ObjFileTable, object.Named("the file table")); err != nil {
			return err
		}
		if err := c.Collect(t.FS(), task.ObjFS, object.Named("the fs state")); err != nil {
			return err
		}
		if err := c.Collect(t.MM(), mm.ObjMM, object.Named("the address space")); err != nil {
			return err
		}
	}
	c.collected = c.objs.Len()
	if err := c.objs.Leaks(); err != nil {
		if _, ok := errors.AsType[*objhash.LeakError](err); ok {
			return err
		}
		return fmt.Errorf("leak detection: %w", err)
	}
	return nil
}

func (c *ctx) Collect(obj any, t object.Type, at object.Place) error {
	if !c.collecting {
		return wrongSide("Collect")
	}
	if c.heldBy != nil {
		c.places = append(c.places, at)
		defer func() { c.places = c.places[:len(c.places)-1] }()
	}
	ref, first, err := c.objs.Collect(object.Context(c), obj, objhash.Type(t))
	if err == nil && first && c.heldBy != nil {
		c.heldBy[ref] = placeString(c.places)
	}
	return err
}

// placeString says where a reference is held, from the places of the
// collect pass, the task's first: "pid 2 fd 1", "the pipe of pid 2 fd 0",
// "the file table of pid 2". A named place that a deeper one follows goes
// without saying ("pid 2 fd 1", not "the file table of pid 2 fd 1").
func placeString(places []object.Place) string {
	var s string
	for i, p := range places {
		switch {
		case s == "":
			s = p.String()
		case p.N >= 0:
			s += " " + p.String()
		case i == len(places)-1:
			s = p.What + " of " + s
		}
	}
	return s
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

func cString(dst []byte, s string) {
	copy(dst, s)
}

func (c *ctx) writeHeader(flags int, compress bool, now time.Time) error {
	h := image.Header{Magic: image.HeaderMagic, Major: image.VersionMajor, Minor: image.VersionMinor,
		Flags: uint32(flags), Time: now.UnixNano()}
	if compress {
		h.Flags |= image.FlagZstd
	}
	cString(h.SimVersion[:], kernel.Version)
	cString(h.Sysname[:], kernel.Sysname)
	cString(h.Nodename[:], kernel.Nodename)
	cString(h.Release[:], kernel.Release)
	cString(h.Version[:], "#1 ckptsim "+kernel.Version)
	cString(h.Machine[:], kernel.Machine)
	if err := image.HeaderKind.Write(c, &h); err != nil {
		return err
	}
	if compress {
		if err := c.w.Compress(); err != nil {
			return err
		}
	}
	return image.ArchKind.Write(c, &image.Arch{Arch: image.ArchX86_64,
		RegsSize: x86cpu.RegsSize, FPUSize: x86cpu.FXSaveSize, DebugSize: x86cpu.DebugRegsSize})
}

// writeTree writes the task tree in preorder, then the pid allocator's
// position. The root's parent, outside the container, is written as 0.
func (c *ctx) writeTree(tasks []*task.Task) error {
	if err := TreeKind.Write(c, &TreeRecord{Tasks: uint32(len(tasks))}); err != nil {
		return err
	}
	for i, t := range tasks {
		rec := TaskRecord{Pid: int32(t.Pid())}
		if i > 0 {
			rec.PPid = int32(t.Parent().Pid())
		}
		if t.State() == task.Zombie {
			rec.State, rec.ExitCode = taskZombie, int32(t.ExitCode())
		}
		cString(rec.Comm[:], t.Comm())
		if err := TaskKind.Write(c, &rec); err != nil {
			return err
		}
	}
	return PidNSKind.Write(c, &PidNSRecord{LastPid: int32(c.core.LastPid())})
}

// writeTask writes a task's file table and fs state, then its address
// space (each saved on its first encounter), then its registers.
func (c *ctx) writeTask(t *task.Task) error {
	var objs TaskObjsRecord
	if t.State() != task.Zombie {
		var err error
		if objs.FileTable, err = c.Save(t.Files(), task.ObjFileTable); err != nil {
			return err
		}
		if objs.FS, err = c.Save(t.FS(), task.ObjFS); err != nil {
			return err
		}
	}
	if err := TaskObjsKind.Write(c, &objs); err != nil {
		return err
	}
	var space TaskMMRecord
	if t.State() != task.Zombie {
		var err error
		if space.MM, err = c.Save(t.MM(), mm.ObjMM); err != nil {
			return err
		}
	}
	if err := TaskMMKind.Write(c, &space); err != nil {
		return err
	}
	regs := t.Regs()
	return RegsKind.Write(c, &regs)
}

// WriteRecord implements object.Saver.
// ImageWriter returns the image's writer, nil on the restart side, for
// image.Kind.Write's direct path.
func (c *ctx) ImageWriter() *image.Writer { return c.w }

func (c *ctx) WriteRecord(s *image.Spec, fixed []byte, tail ...[]byte) error {
	if c.w == nil {
		return wrongSide("WriteRecord")
	}
	return c.w.WriteRecord(s, fixed, tail...)
}

// Save implements object.Saver: on obj's first encounter, an OBJREF record
// and its type's Checkpoint op; its objref every time.
func (c *ctx) Save(obj any, t object.Type) (int32, error) {
	if c.w == nil {
		return 0, wrongSide("Save")
	}
	first := false
	ref, err := c.objs.CheckpointObj(c, obj, objhash.Type(t), func(ref int32, _ objhash.Type) error {
		first = true
		if c.debugOn {
			c.debug("objects", "first encounter", "type", object.Name(t), "objref", ref)
		}
		return image.ObjrefKind.Write(c, &image.Objref{ObjType: uint32(t), Objref: ref})
	})
	if err == nil && !first && c.debugOn {
		c.debug("objects", "reference", "type", object.Name(t), "objref", ref)
	}
	return ref, err
}

// Objref implements object.Saver.
func (c *ctx) Objref(obj any, t object.Type) (int32, error) {
	if c.w == nil {
		return 0, wrongSide("Objref")
	}
	return c.objs.Add(obj, objhash.Type(t))
}
