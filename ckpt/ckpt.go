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
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
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
	// Log receives the debug log at debug level, by area: "syscall",
	// "image", "objects", and the object types' own, as "memory". Nil is
	// silent.
	Log *slog.Logger
	// Compress makes Checkpoint compress the records after the header
	// with zstd (image.FlagZstd). Restart reads either kind.
	Compress bool
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

// ctx is one checkpoint, collect pass or restart in progress: the
// per-operation context of the seeds' ckpt_ctx, and the object.Context that
// every object type's operations receive. It knows the stream, the object
// table and the task tree; it knows nothing of any object type, whose
// records and rules are the type's own (package object).
type ctx struct {
	core *kernel.Core
	objs *objhash.Table[object.Context]
	w    *image.Writer // checkpoint
	r    *image.Reader // restart
	log  *slog.Logger
	// locals is each package's state for this operation (object.Local),
	// made in localOrder.
	locals     map[any]any
	localOrder []any

	// The collect pass: where each reference is held, from the task down
	// (places), and where the container holds each object it met (heldBy,
	// by objref), for a refusal's message: both kept only in the second
	// pass, which runs once a leak is found.
	places []object.Place
	heldBy map[int32]string

	// Restart: the last objref introduced, since objrefs come in order of
	// first encounter; the objects introduced on the way to the record
	// being looked for, which that record must use; and how deep objects
	// nest right now.
	lastObjref int32
	depth      int
	// subtree is the image's CHECKPOINT_SUBTREE flag, minor its format's
	// minor version; lastPid the pid allocator's position it holds (-1
	// for none).
	subtree bool
	minor   uint16
	lastPid int

	debugOn    bool // set by debugging, at the start
	collecting bool // in the collect pass of leak detection
	collected  int  // how many objects the collect pass met
	toComplete int  // restart: objects restored whose type has a Complete op
}

// pendingObj is an object restored on the way to a record that must refer
// to it.
type pendingObj struct {
	objref int32
	t      object.Type
	at     *image.Record // its OBJREF record
}

// debugging reports whether the log takes debug records, and remembers it
// in debugOn: the engine's calls of debug on the path of every record and
// object test debugOn first, since their arguments (a []any, the names)
// cost allocations even when the log drops them.
func (c *ctx) debugging() bool {
	c.debugOn = c.log.Enabled(context.Background(), slog.LevelDebug)
	return c.debugOn
}

func (c *ctx) debug(area, msg string, args ...any) {
	if !c.log.Enabled(context.Background(), slog.LevelDebug) {
		return // silent: spare every record and object the arguments
	}
	c.log.Debug(msg, append([]any{"area", area}, args...)...)
}

// Debug implements object.Log.
func (c *ctx) Debug(area, msg string, args ...any) { c.debug(area, msg, args...) }

// Debugging implements object.Log.
func (c *ctx) Debugging() bool { return c.debugOn }

// Local implements object.Locals.
func (c *ctx) Local(key any, make func() any) any {
	if v, ok := c.locals[key]; ok || make == nil {
		return v
	}
	if c.locals == nil {
		c.locals = map[any]any{}
	}
	v := make()
	c.locals[key] = v
	c.localOrder = append(c.localOrder, key)
	return v
}

// releaseLocals releases the per-package state that has something to
// release, in the order it was made: the operation is over.
func (c *ctx) releaseLocals() {
	for _, key := range c.localOrder {
		if r, ok := c.locals[key].(interface{ Release() }); ok {
			r.Release()
		}
	}
	c.locals, c.localOrder = nil, nil
}

// wrongSide is the error of a contract call made on the other side.
func wrongSide(call string) error {
	return fmt.Errorf("ckpt: %s outside its side of checkpoint/restart: %w", call, errno.EINVAL)
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
		id, err = checkpoint(core, pid, w, flags, e.Compress, e.now(), log)
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
