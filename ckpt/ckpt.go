// Package ckpt is the checkpoint/restart engine: two system calls that save
// a frozen container of the simulated kernel into a stream of records and
// rebuild it from that stream, after the Linux checkpoint/restart patch
// series (2008-2011).
//
// Checkpoint walks the container rooted at a task: its task tree, each
// task's file table, fs state and registers, each open file through its
// type's checkpoint operation (package vfs, beside the file type), pipes by
// nested sharing. Shared objects go through an object hash (package
// objhash): the first encounter of an object writes an objref record and
// its state, later references carry only the objref. Unless the
// CHECKPOINT_SUBTREE flag says otherwise, a collect pass first makes sure
// that nothing outside the container refers to an object inside it.
//
// Restart reads the same stream, strictly in sequence, validates everything
// before using it, and builds the container detached from the kernel; only
// when the tail's checksum has matched does it enter the tasks into the
// kernel. On any error everything it built is released: restart is all or
// nothing.
//
// The image format is package image's, documented field by field in
// ckpt/image/FORMAT.md.
package ckpt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Checkpoint flags.
const (
	// CHECKPOINT_SUBTREE saves a subtree that may share objects with tasks
	// outside it, skipping leak detection. On restart, what the outside held
	// is missing (a pipe end, say).
	CHECKPOINT_SUBTREE = 0x1
)

// Restart flags.
const (
	// RESTART_FROZEN leaves the restored tasks frozen; without it they run.
	RESTART_FROZEN = 0x1
)

// Engine runs checkpoint and restart on one kernel.
type Engine struct {
	Kernel *kernel.Kernel
	// Clock gives the time recorded in image headers (time.Now when nil);
	// fix it to make images reproducible.
	Clock func() time.Time
	// Log receives the debug log, by area ("syscall", "image", "objects"),
	// at debug level. Nil is silent.
	Log *slog.Logger
}

// New returns an engine for k with the real clock and no log.
func New(k *kernel.Kernel) *Engine { return &Engine{Kernel: k} }

func (e *Engine) now() time.Time {
	if e.Clock != nil {
		return e.Clock()
	}
	return time.Now()
}

func (e *Engine) logger() *slog.Logger {
	if e.Log != nil {
		return e.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Object types of the object hash: the image's, which OBJREF records write.
const (
	objFileTable objhash.Type = image.ObjFileTable
	objFS        objhash.Type = image.ObjFS
	objFile      objhash.Type = image.ObjFile
	objPipe      objhash.Type = image.ObjPipe
	objGhost     objhash.Type = image.ObjGhost
	// objPipeEnd is restart's own: the end of a pipe parked under the
	// pipe's objref until its file comes up. Images never hold it; a type
	// of its own keeps a parked end from being taken for a file or a
	// FIFO's pipe under the same objref, and the reverse.
	objPipeEnd objhash.Type = 6
)

// counted is what every shared kernel object offers the object hash.
type counted interface {
	Get()
	Put()
	Refs() int64
}

func grab(obj any) error  { obj.(counted).Get(); return nil }
func drop(obj any)        { obj.(counted).Put() }
func users(obj any) int64 { return obj.(counted).Refs() }
func objOps(t objhash.Type, name string) objhash.Ops[*ctx] {
	return objhash.Ops[*ctx]{Type: t, Name: name, Grab: grab, Drop: drop, Users: users}
}

// objTypes is the table of shared-object types and their operations. It is
// filled by init, because the operations themselves use it.
var objTypes *objhash.Registry[*ctx]

func init() {
	reg := objhash.NewRegistry[*ctx]()
	fileTable := objOps(objFileTable, image.ObjTypeName(image.ObjFileTable))
	fileTable.Checkpoint, fileTable.Restore, fileTable.Collect = checkpointFileTable, restoreFileTable, collectFileTable
	fs := objOps(objFS, image.ObjTypeName(image.ObjFS))
	fs.Checkpoint, fs.Restore = checkpointFS, restoreFS
	file := objOps(objFile, image.ObjTypeName(image.ObjFile))
	file.Checkpoint, file.Restore, file.Collect = checkpointFile, restoreFile, collectFile
	// A pipe's state is written by the file that meets it first and read
	// by the restore of that file, which creates the pipe (nested sharing):
	// it has no Checkpoint or Restore of its own.
	pipe := objOps(objPipe, image.ObjTypeName(image.ObjPipe))
	ghost := objOps(objGhost, image.ObjTypeName(image.ObjGhost))
	ghost.Checkpoint, ghost.Restore = checkpointGhost, restoreGhost
	pipeEnd := objOps(objPipeEnd, "parked pipe end")
	for _, ops := range []objhash.Ops[*ctx]{fileTable, fs, file, pipe, ghost, pipeEnd} {
		if err := reg.Register(ops); err != nil {
			panic(err)
		}
	}
	objTypes = reg
}

// ctx is one checkpoint or restart in progress: the per-operation context
// of the seeds' ckpt_ctx.
type ctx struct {
	core *kernel.Core
	fs   *vfs.FS
	// root is the container's root directory: paths are saved relative to
	// it and resolved under it.
	root *vfs.Dentry
	objs *objhash.Table[*ctx]
	w    *image.Writer // checkpoint
	r    *image.Reader // restart
	log  *slog.Logger
	// pid is the task being saved, for errors that name it; fd the
	// descriptor being collected, -1 when none.
	pid, fd int
	// heldBy says, during leak detection, where the container holds each
	// object it has collected (by objref), for the refusal's message.
	heldBy map[int32]string
	// claimed holds the objrefs of the pipes whose parked end a file has
	// taken (restart): a pipe has two ends, and a third file on it is an
	// image no checkpoint writes.
	claimed map[int32]bool
	// fifoPipes maps each FIFO pipe this restart has created to its objref,
	// to tell a FIFO this restart opened from one open in the kernel.
	fifoPipes map[*vfs.Pipe]int32
}

func (c *ctx) debug(area, msg string, args ...any) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return // silent: spare every record and object the arguments
	}
	c.log.Debug(msg, append([]any{"area", area}, args...)...)
}

// Error is a failed checkpoint or restart: which call, about what, and the
// errno (Err), which errors.Is sees through it.
type Error struct {
	Op  string // "checkpoint" or "restart"
	Err error
}

func (e *Error) Error() string { return e.Op + ": " + e.Err.Error() }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// withErrno makes sure err carries an errno, adding EIO (a failed stream)
// when it has none.
func withErrno(err error) error {
	if _, ok := errno.Of(err); ok || err == nil {
		return err
	}
	return fmt.Errorf("%w: %w", err, errno.EIO)
}

// Checkpoint saves the container rooted at task pid into w and returns a
// checkpoint id, unique within the kernel. Every live task of the container
// must be frozen (EBUSY). It fails with EINVAL for unknown flags, ESRCH for
// a pid that is not a live task, EBUSY when leak detection finds an object
// referenced from outside the container, EBADF for a file that holds a lock
// or whose type cannot be checkpointed, EBUSY for a file with an owner,
// ENAMETOOLONG for a file or working directory whose path is longer than
// PATH_MAX, EXDEV for one outside the container's root. A
// checkpoint that fails after it began writing ends the image with an error
// record. Either way the world is left exactly as it was.
func (e *Engine) Checkpoint(pid int, w io.Writer, flags int) (int64, error) {
	log := e.logger()
	log.Debug("checkpoint", "area", "syscall", "pid", pid, "flags", flags)
	if flags&^CHECKPOINT_SUBTREE != 0 {
		return 0, &Error{"checkpoint", fmt.Errorf("unknown flags %#x: %w", flags&^CHECKPOINT_SUBTREE, errno.EINVAL)}
	}
	var id int64
	err := e.Kernel.Locked(func(core *kernel.Core) error {
		var err error
		id, err = checkpoint(core, pid, w, flags, e.now(), log)
		return err
	})
	if err != nil {
		log.Debug("checkpoint failed", "area", "syscall", "err", err)
		return 0, &Error{"checkpoint", withErrno(err)}
	}
	return id, nil
}

// Restart rebuilds the container saved in r, with its pids, in the engine's
// kernel, and returns its root's pid. Every record is validated before it
// is used; on any error (EINVAL for a malformed image, with its offset;
// EEXIST for a pid in use; ESTALE or ENOENT for a file that changed or went
// away; ...) nothing of the container is left in the kernel. Its tasks run
// unless RESTART_FROZEN is given.
//
// Restart holds the kernel's lock while it reads r, so r must not depend on
// the same kernel (a checkpoint of another kernel through an io.Pipe is
// fine).
func (e *Engine) Restart(r io.Reader, flags int) (int, error) {
	log := e.logger()
	log.Debug("restart", "area", "syscall", "flags", flags)
	if flags&^RESTART_FROZEN != 0 {
		return 0, &Error{"restart", fmt.Errorf("unknown flags %#x: %w", flags&^RESTART_FROZEN, errno.EINVAL)}
	}
	var root int
	err := e.Kernel.Locked(func(core *kernel.Core) error {
		var err error
		root, err = restart(core, r, flags, log)
		return err
	})
	if err != nil {
		log.Debug("restart failed", "area", "syscall", "err", err)
		return 0, &Error{"restart", withErrno(err)}
	}
	return root, nil
}

// errAt adds a record's offset and type to an error about it.
func errAt(rec *image.Record, err error) error {
	var ie *image.Error
	if errors.As(err, &ie) {
		return err
	}
	return fmt.Errorf("image offset %d: %v record: %w", rec.Offset, rec.Type, err)
}
