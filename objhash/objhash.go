// Package objhash is the checkpoint/restart engine's table of shared objects.
//
// A kernel object can be reachable along many paths: one open file from two
// descriptors or two tasks, one pipe inode from the files at its two ends.
// An image must hold such an object's state once, and everything that refers
// to it must refer to that one copy. The table makes this work by giving each
// object a number, its objref, that the image uses in place of a pointer.
//
// # Lifecycle
//
// One Table lives for one checkpoint or one restart and serves one side:
//
//   - On the checkpoint side (NewCheckpoint) objects are found by identity,
//     that is by their Go pointer. The first encounter of an object assigns it
//     the next objref (1, 2, 3, ... in encounter order, so walking the same
//     world in the same order always yields the same numbers) and takes a
//     reference to it. Later encounters give back the same objref.
//     CheckpointObj is the usual entry point: on an object's first encounter
//     it has the engine write an objref record (objref and type) and then the
//     object's state, so that in the image an object's state comes right
//     before its first reference, and every later reference is the objref
//     alone.
//   - On the restart side (NewRestart) objects are found by objref, as read
//     from the image. RestoreObj creates an object from the state that follows
//     its objref record and enters it under that objref; Fetch finds it again
//     for every later reference; Insert enters an object that came into being
//     while another one was being restored.
//
// The table holds exactly one reference to every object in it, taken by the
// type's Grab when the object enters (or, for RestoreObj, handed over by the
// type's Restore), so an object found in the table is always safe to use.
// Nothing ever leaves the table early: Discard drops every reference once,
// and the engine calls it when the operation ends, whether it succeeded or
// failed.
//
// # Types
//
// Each kind of shared object (file, pipe inode, file table, ...) is a Type
// registered once, at init, in a Registry with its Ops: how to take and drop a
// reference, how to save and restore its state, how to find what it refers
// to. Every entry in the table keeps its type, because the type says which
// Drop undoes its reference and because an objref read from an image must be
// checked against the kind of object the reader expects (a corrupt or hostile
// image might name a pipe where a file table belongs).
//
// # Nested sharing
//
// Shared objects can share objects of their own: the read and write ends of
// a pipe are two files that share one pipe inode. At checkpoint the file's
// Checkpoint op calls CheckpointObj (or LookupAdd) for the inode, so the
// inode is saved once, with the first end, and the second end refers to it by
// objref. At restart the first end's Restore op finds the inode's objref
// unknown, creates the pipe, which yields both ends at once, keeps one and
// parks the other with Insert under the objref that the image gives for the
// shared inode. When the second end's record comes, its Restore op finds
// the parked end with Fetch instead of creating a second pipe.
//
// # Leak detection
//
// A checkpoint of a whole container is only sound if nothing outside the
// container holds a reference to an object inside it: such an object would
// change behind the image's back, and on restart it would be missing its
// outside user. Before saving anything the engine can run a collect pass:
// it calls Collect for every reference it finds inside the container, and a
// type's Collect op calls Collect again for the objects that one refers to
// (a file its pipe inode, say). Each call counts one reference. Leaks then
// compares every entry's count with the object's own reference count, less
// the table's reference; an object with more references than the container
// accounts for is referenced from outside and is reported in a *LeakError,
// which is EBUSY.
//
// # Concurrency
//
// A Table belongs to one checkpoint or restart and is used by one goroutine.
// An object with a Slot (every kernel object has one, in its kref.Count)
// is found through it on the checkpoint side, and the table writes to it:
// the engine holds the kernel's lock while a checkpoint runs, so no other
// goroutine uses the object meanwhile.
// A Registry is written during init and only read afterwards (Register
// refuses once a table has been made from it), so any number of tables, in
// any number of goroutines, may share it.
package objhash

import (
	"fmt"
	"reflect"
	"sync/atomic"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// Type identifies a kind of shared object. Type ids are written into images,
// so once a value is given to a kind of object it must keep that meaning.
// Type 0 is reserved: it stands for "no type" and cannot be registered, so
// that a zeroed record never passes for a real object.
type Type uint16

// Ops are the operations of one type of shared object. Their first argument
// C is the engine's per-operation context, a type parameter so that the
// engine can hand its context to the ops without this package knowing it.
//
// Name, Type, Grab and Drop are required; Register refuses ops without them.
// A type with no reference count of its own still says so explicitly, with
// a Grab and a Drop that do nothing, so that a forgotten Drop cannot pass for
// a deliberate one. The other operations may be nil, with the effect given on
// each.
//
// The ops other than Checkpoint, Restore and Collect must not call back into
// a table; those three may, to handle the objects nested in theirs.
type Ops[C any] struct {
	// Name is the type's name in errors and reports, such as "pipe inode".
	Name string
	// Type is the type's id, nonzero and unique within a registry.
	Type Type
	// Grab takes a reference to obj. It may refuse (a task that is already
	// exiting, say); the object then does not enter the table.
	Grab func(obj any) error
	// Drop drops a reference that Grab took or that Restore handed over.
	Drop func(obj any)
	// Users returns obj's own reference count, for leak detection. A type
	// without it cannot be collected, and Leaks does not check its entries.
	Users func(obj any) int64
	// Checkpoint writes obj's state into the image. Nil means the objref
	// record is all there is to save.
	Checkpoint func(ctx C, obj any) error
	// Restore reads the state that follows an objref record and creates the
	// object, returning it with one reference that becomes the table's. On
	// error it returns nothing and holds nothing. Nil means objects of this
	// type only enter a restart table through Insert.
	Restore func(ctx C) (any, error)
	// Collect calls Table.Collect for every object that obj refers to, on
	// obj's first collection. Nil means obj refers to no shared objects.
	Collect func(ctx C, obj any) error
}

// Registry is the table of ops, one entry per type. The engine fills it at
// init; from the moment the first table is made from it, it is read-only, and
// Register refuses with EBUSY. That makes "read-only after init" a fact that
// concurrent tables can rely on rather than a convention.
type Registry[C any] struct {
	byType []*Ops[C] // indexed by Type, nil where nothing is registered
	byName map[string]Type
	frozen atomic.Bool
}

// NewRegistry returns an empty registry.
func NewRegistry[C any]() *Registry[C] {
	return &Registry[C]{byName: make(map[string]Type)}
}

// Register adds a type. It fails with EINVAL for type 0, an empty name or a
// missing Grab or Drop; with EEXIST for a type id or a name already
// registered; and with EBUSY once a table has been made from the registry.
// Register must not be called concurrently with itself.
func (r *Registry[C]) Register(ops Ops[C]) error {
	what := fmt.Sprintf("register %q (type %d)", ops.Name, ops.Type)
	switch {
	case r.frozen.Load():
		return fail(what, errno.EBUSY, "the registry is in use by a table")
	case ops.Type == 0:
		return fail(what, errno.EINVAL, "type 0 is reserved")
	case ops.Name == "":
		return fail(what, errno.EINVAL, "no name")
	case ops.Grab == nil:
		return fail(what, errno.EINVAL, "no Grab op")
	case ops.Drop == nil:
		return fail(what, errno.EINVAL, "no Drop op")
	}
	if old := r.get(ops.Type); old != nil {
		return fail(what, errno.EEXIST, "type %d is already %q", ops.Type, old.Name)
	}
	if t, dup := r.byName[ops.Name]; dup {
		return fail(what, errno.EEXIST, "the name is already type %d's", t)
	}
	if int(ops.Type) >= len(r.byType) {
		grown := make([]*Ops[C], int(ops.Type)+1)
		copy(grown, r.byType)
		r.byType = grown
	}
	stored := ops
	r.byType[ops.Type] = &stored
	r.byName[ops.Name] = ops.Type
	return nil
}

// Ops returns a copy of the ops registered for t, and false if there are none.
func (r *Registry[C]) Ops(t Type) (Ops[C], bool) {
	if o := r.get(t); o != nil {
		return *o, true
	}
	return Ops[C]{}, false
}

// ByName returns the type registered under name, and false if there is none.
func (r *Registry[C]) ByName(name string) (Type, bool) {
	t, ok := r.byName[name]
	return t, ok
}

// Name returns t's registered name, or "type N" for an unregistered type, so
// that an error about a bad type id read from an image still says which.
func (r *Registry[C]) Name(t Type) string {
	if o := r.get(t); o != nil {
		return o.Name
	}
	return fmt.Sprintf("type %d", t)
}

func (r *Registry[C]) get(t Type) *Ops[C] {
	if int(t) < len(r.byType) {
		return r.byType[t]
	}
	return nil
}

// fail builds the package's errors: what the operation was about, why it
// failed, and the errno, which errors.Is and errno.Of find.
func fail(what string, e errno.Errno, format string, args ...any) error {
	return fmt.Errorf("objhash: %s: %s: %w", what, fmt.Sprintf(format, args...), e)
}

// opFailed wraps an error returned by one of a type's ops. Ops are the
// engine's code and should fail with an errno; one that does not gets EIO
// beside its own error, so that every error out of this package carries an
// errno the engine can return to its caller.
func opFailed(what string, err error) error {
	if _, ok := errno.Of(err); ok {
		return fmt.Errorf("objhash: %s: %w", what, err)
	}
	return fmt.Errorf("objhash: %s: %w: %w", what, err, errno.EIO)
}

// badObject says why obj cannot be a table entry, or returns "". Objects are
// pointers: the table keys the checkpoint side by identity, and a pointer is
// what has one. Anything else would be compared by value (two equal structs
// would pass for one object) or, for maps, slices and funcs, could not be a
// map key at all.
func badObject(obj any) string {
	if obj == nil {
		return "nil object"
	}
	v := reflect.ValueOf(obj)
	if v.Kind() != reflect.Pointer {
		return fmt.Sprintf("object of type %T is not a pointer", obj)
	}
	if v.IsNil() {
		return fmt.Sprintf("nil %T", obj)
	}
	return ""
}
