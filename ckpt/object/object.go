// Package object is the contract between the checkpoint/restart engine
// (package ckpt) and the types of shared objects it saves: file tables, fs
// states, files, pipes, ghosts, sockets, and whatever comes next. It is the
// seeds' ckpt_obj_ops with ckpt_obj_lookup_add, checkpoint_obj,
// ckpt_obj_fetch and restore_obj, in Go.
//
// A type registers its operations once, at init, beside the type (Register).
// During a checkpoint the engine hands each operation a Saver, through which
// the type saves the objects it refers to (Save writes an object's OBJREF
// record and state on its first encounter and returns its objref every
// time) and writes its own records. During a restart it hands a Restorer,
// through which the type reads its records, restores or fetches the
// objects they refer to; an object restored is kept for every later
// reference.
// During leak detection it hands a Collector. None of the three has a
// method named after a type: whatever a type needs of the engine, every
// type gets the same way, and the engine never reads or writes a type's
// records.
//
// # Adding an object type
//
//  1. Give it a number (image.ObjType) that no other type has; images write
//     it in OBJREF records, so it never changes.
//  2. Define its records with image.Define, beside the Go structs of their
//     fixed parts, with their meaning (enums, flags, objref fields) so that
//     show, diff, JSON, graph and the summary read them.
//  3. Register its Ops: Checkpoint writes its state, Restore reads it back
//     and creates the object (validating every field first), Collect counts
//     the objects it refers to, for leak detection.
//
// See sim/socket for a type added this way: its package is the only place
// that knows it.
package object

import (
	"fmt"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// Type is an object type: its number in OBJREF records.
type Type = image.ObjType

// Ops are one object type's operations.
type Ops struct {
	// Type is the type's number, Name its name in errors and tools ("pipe").
	Type Type
	Name string
	// Grab, Drop and Users take, drop and count references. They may be
	// left nil for objects that are Counted.
	Grab  func(obj any) error
	Drop  func(obj any)
	Users func(obj any) int64
	// Checkpoint writes obj's state: the records that follow its OBJREF
	// record. Nil: the OBJREF record is all there is.
	Checkpoint func(ctx Saver, obj any) error
	// Restore reads the state that follows an OBJREF record of this type
	// and creates the object, returning it with one reference, which the
	// engine's table takes over. It validates everything it reads before
	// using it, and on error returns nothing and holds nothing.
	Restore func(ctx Restorer) (any, error)
	// Collect counts, for leak detection, every object obj refers to. Nil:
	// it refers to none.
	Collect func(ctx Collector, obj any) error
	// Complete checks, once the whole image is read, what only the whole
	// image can tell of an object restored (a socket end saved open that no
	// file opened), and settles what an image of a subtree left out (that
	// end, held outside the subtree, is gone). Nil: nothing to do.
	Complete func(ctx Restorer, obj any) error
}

// Counted is what kernel objects with a reference count offer: a type whose
// objects are Counted needs no Grab, Drop or Users of its own.
type Counted interface {
	Get()
	Put()
	Refs() int64
}

// Context is what the engine hands every operation: a checkpoint, restart
// or collect pass in progress. An operation uses the side its signature
// names; the others fail with EINVAL.
type Context interface {
	Saver
	Restorer
	Collector
}

var registry = objhash.NewRegistry[Context]()

// Register enters an object type. It panics on ops the engine could not
// use (no name, no Restore, a number or name taken), since those are
// programming errors found at init.
func Register(ops Ops) {
	if ops.Restore == nil {
		panic(fmt.Sprintf("object: type %d %q has no Restore", ops.Type, ops.Name))
	}
	o := objhash.Ops[Context]{Name: ops.Name, Type: objhash.Type(ops.Type), Grab: ops.Grab, Drop: ops.Drop, Users: ops.Users}
	if o.Grab == nil {
		o.Grab = func(obj any) error { obj.(Counted).Get(); return nil }
	}
	if o.Drop == nil {
		o.Drop = func(obj any) { obj.(Counted).Put() }
	}
	if o.Users == nil {
		o.Users = func(obj any) int64 { return obj.(Counted).Refs() }
	}
	if f := ops.Checkpoint; f != nil {
		o.Checkpoint = func(ctx Context, obj any) error { return f(ctx, obj) }
	}
	if f := ops.Restore; f != nil {
		o.Restore = func(ctx Context) (any, error) { return f(ctx) }
	}
	if f := ops.Collect; f != nil {
		o.Collect = func(ctx Context, obj any) error { return f(ctx, obj) }
	}
	if err := registry.Register(o); err != nil {
		panic(err)
	}
	if ops.Complete != nil {
		completes[ops.Type] = ops.Complete
	}
	image.RegisterObjType(ops.Type, ops.Name)
}

// completes are the types' Complete ops.
var completes = map[Type]func(Restorer, any) error{}

// Complete runs type t's Complete op on obj, when it has one.
func Complete(ctx Restorer, t Type, obj any) error {
	if f := completes[t]; f != nil {
		return f(ctx, obj)
	}
	return nil
}

// Registry returns the registry of every object type, for the engine's
// object tables.
func Registry() *objhash.Registry[Context] { return registry }

// HasComplete reports whether objects of type t have a Complete op.
func HasComplete(t Type) bool { return completes[t] != nil }

// Name returns a type's name, or "type N" for an unregistered one.
func Name(t Type) string { return registry.Name(objhash.Type(t)) }

// Known reports whether an image may name the type: it is registered.
func Known(t Type) bool {
	_, ok := registry.Ops(objhash.Type(t))
	return ok
}

// Saver is a checkpoint in progress, as an object type sees it.
type Saver interface {
	// WriteRecord writes one of the type's records; a Kind's Write calls it.
	image.RecordWriter
	// Save returns obj's objref. On obj's first save it writes the OBJREF
	// record and then obj's state, with its type's Checkpoint op, so that
	// in the image an object's state comes once, right where it is first
	// met. An object met again inside its own Checkpoint op fails (ELOOP).
	Save(obj any, t Type) (int32, error)
	// Objref returns obj's objref, giving it the next one if it has none,
	// without saving it. It is for nested sharing, where the object's state
	// comes after the record that first refers to it (a pipe after the
	// first file open on it): write that record, then Save the object.
	Objref(obj any, t Type) (int32, error)
	Locals
	Log
}

// Restorer is a restart in progress, as an object type sees it.
type Restorer interface {
	// Expect returns the next record, which must be of type t; a Kind's
	// Read calls it. On the way it restores every object whose OBJREF
	// record comes first, where the format allows one (a record's objref
	// fields say which), and refuses any other record.
	image.RecordReader
	// Fetch returns the object restored before under objref, which must be
	// of type t: a later reference. An objref that names no object yet, or
	// one of another type, is the image's error (EINVAL, naming it).
	Fetch(objref int32, t Type) (any, error)
	// Find is Fetch for an objref that may not be restored yet: false, and
	// no error, when no object has it.
	Find(objref int32, t Type) (any, bool, error)
	// RestoreNext restores the object whose state comes next: its OBJREF
	// record, naming objref and type t, then what its type's Restore op
	// reads. It is nested sharing's other half (see Saver.Objref): the
	// object is entered under its objref, where the later records that
	// refer to it find it (the seeds park the second end of a pipe there;
	// here each file opens its own end of the one pipe).
	RestoreNext(objref int32, t Type) (any, error)
	// Registry is where new kernel objects are counted.
	Registry() *kref.Registry
	// Subtree reports an image of a subtree (CHECKPOINT_SUBTREE), whose
	// objects may have been shared with tasks outside it: what those held
	// is missing.
	Subtree() bool
	Locals
	Log
}

// Collector is a leak-detection pass, as an object type sees it.
type Collector interface {
	// Collect counts one reference to obj from inside the container. On
	// obj's first collection it runs its type's Collect op, which collects
	// what obj refers to. at says where the reference is, for the message
	// of a refusal ("fd 3", "the pipe").
	Collect(obj any, t Type, at Place) error
	Locals
}

// Place is where a reference is held, relative to the object that holds
// it: "fd 3" (What "fd", N 3), "vma 0x10000000" (an address, Hex), or "the
// pipe" (N -1). A refusal joins the places from the task down: "the pipe
// of pid 2 fd 3".
type Place struct {
	What string
	N    int64
	Hex  bool
}

func (p Place) String() string {
	switch {
	case p.N < 0:
		return p.What
	case p.Hex:
		return fmt.Sprintf("%s %#x", p.What, p.N)
	}
	return fmt.Sprintf("%s %d", p.What, p.N)
}

// At returns the place "what n".
func At(what string, n int) Place { return Place{What: what, N: int64(n)} }

// AtAddr returns the place "what 0xADDR".
func AtAddr(what string, addr uint64) Place { return Place{What: what, N: int64(addr), Hex: true} }

// Named returns the place what, which has no number.
func Named(what string) Place { return Place{What: what, N: -1} }

// Log is the engine's debug log, which a type's operations write to in
// an area of their own.
type Log interface {
	// Debug writes one line of the debug log at debug level, in area (a
	// type's own, as "memory"), with args as slog key-value pairs; nothing
	// when the log is off.
	Debug(area, msg string, args ...any)
	// Debugging reports whether Debug writes anything. A call on the path
	// of every page or record tests it first: its arguments (boxed into a
	// []any) cost allocations even when the log drops them.
	Debugging() bool
}

// Locals gives each package state of its own for one checkpoint or
// restart, which the engine neither knows nor reads: the ends of pipes
// already opened, the container's root directory, the frames numbered so
// far, and so on. Use Local. A value with a Release method is released when
// the checkpoint or restart ends, however it ends: references it holds
// (a restored frame's first one, say) go with it.
type Locals interface {
	// Local returns the value kept under key, made with make on first use;
	// with a nil make, nil when there is none yet.
	Local(key any, make func() any) any
}

// Key is a package's key for its state in Locals: a package declares one
// per kind of state, as a variable.
type Key[T any] struct{ Name string }

// Local returns the state of type T kept under key for this checkpoint or
// restart, a zero T on first use.
func Local[T any](ctx Locals, key *Key[T]) *T {
	// Looked up first without a maker: the func literal of a generic
	// function holds its dictionary, so making it costs an allocation,
	// and this runs for every object.
	if v := ctx.Local(key, nil); v != nil {
		return v.(*T)
	}
	return ctx.Local(key, func() any { return new(T) }).(*T)
}
