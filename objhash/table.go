package objhash

import (
	"cmp"
	"fmt"
	"iter"
	"math"
	"slices"
	"unsafe"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// Side is the half of checkpoint/restart that a table serves.
type Side uint8

// The two sides. The zero Side belongs to a Table that was not made with
// NewCheckpoint or NewRestart, and every call on such a table fails.
const (
	CheckpointSide Side = iota + 1
	RestartSide
)

// String returns "checkpoint" or "restart".
func (s Side) String() string {
	switch s {
	case CheckpointSide:
		return "checkpoint"
	case RestartSide:
		return "restart"
	}
	return "unmade"
}

// state is how far an entry's state has got into the image, on the
// checkpoint side.
type state uint8

const (
	// unwritten: in the table (by Collect, say) but nothing written yet.
	unwritten state = iota
	// writing: its objref record is out and its Checkpoint op is running.
	writing
	// written: saved, by CheckpointObj or by the caller of LookupAdd.
	written
	// failed: writing it failed part-way; Table.failures says how.
	failed
)

// entry is one object in a table. It is kept small, 32 bytes, because a
// checkpoint makes one for every shared object it meets: the type's ops are
// found through the registry, and the rare failure's error lives in a map of
// its own.
type entry struct {
	obj     any
	objref  int32
	typ     Type
	state   state
	counted int64 // references found by Collect
}

// Table is the object table of one checkpoint or one restart. Make it with
// NewCheckpoint or NewRestart, use it from one goroutine, and Discard it when
// the operation ends, however it ends.
//
// Every method fails with EINVAL when called on a discarded table or on a
// table of the other side, for an object that is not a non-nil pointer, for
// an objref that is not positive, and for a type that is not registered.
type Table[C any] struct {
	reg     *Registry[C]
	side    Side
	entries entryList // in the order they entered
	byObj   ptrIndex  // checkpoint side: object → entry, when not in its Slot
	// slottedInIndex counts the objects with a Slot kept in byObj (their
	// slot was taken): while there are none, an object whose slot does not
	// lead to this table is not in it, and no hash probe is needed.
	slottedInIndex int
	byRef          refIndex        // restart side: objref → entry
	failures       map[int32]error // checkpoint side: objref → why it failed
	discarded      bool
}

// NewCheckpoint returns an empty checkpoint-side table whose types are those
// of reg. From then on reg is read-only. A nil reg is a wiring bug in the
// engine, and panics.
func NewCheckpoint[C any](reg *Registry[C]) *Table[C] {
	return NewCheckpointFor(reg, 0)
}

// NewCheckpointFor is NewCheckpoint for a table that will hold about n
// objects (as many as a collect pass found, say): its index is made that
// large at once rather than grown, rehashing, as objects come.
func NewCheckpointFor[C any](reg *Registry[C], n int) *Table[C] {
	t := newTable(reg, CheckpointSide)
	t.byObj.byPtr = make(map[unsafe.Pointer]*entry, max(n, 0))
	return t
}

// NewRestart returns an empty restart-side table whose types are those of
// reg. From then on reg is read-only. A nil reg panics.
func NewRestart[C any](reg *Registry[C]) *Table[C] {
	return newTable(reg, RestartSide)
}

func newTable[C any](reg *Registry[C], side Side) *Table[C] {
	if reg == nil {
		panic("objhash: table made with a nil registry")
	}
	reg.frozen.Store(true)
	return &Table[C]{reg: reg, side: side}
}

// Side returns the side the table serves.
func (t *Table[C]) Side() Side { return t.side }

// Len returns the number of objects in the table; 0 once it is discarded.
func (t *Table[C]) Len() int { return int(t.entries.len()) }

// Discarded reports whether Discard has been called.
func (t *Table[C]) Discarded() bool { return t.discarded }

// usable checks that the table may serve a call of the given side.
func (t *Table[C]) usable(what string, side Side) error {
	switch {
	case t.discarded:
		return fail(what, errno.EINVAL, "the table is discarded")
	case t.side == 0:
		return fail(what, errno.EINVAL, "the table was not made by NewCheckpoint or NewRestart")
	case t.side != side:
		return fail(what, errno.EINVAL, "not allowed on a %v table", t.side)
	}
	return nil
}

// present is the fast path of every checkpoint-side call: obj's entry when
// the table holds it under typ. An object in the table passed every check
// when it entered, so none is repeated: this runs once for every reference
// a checkpoint meets, and most references are to objects met before.
//
// It needs no check of obj: the index is keyed by the data word alone, so
// no value can make the lookup panic, and a hit whose dynamic type is not
// the entry's is left to the slow path. A discarded or restart-side table
// has no index.
func (t *Table[C]) present(obj any, typ Type) (*entry, bool) {
	if sl := slotOf(obj); sl != nil {
		if e := sl.e; e != nil && e.obj == obj && t.owns(e) {
			return e, e.typ == typ
		}
		if t.slottedInIndex == 0 {
			return nil, false // not in the table: the slow path adds it
		}
	}
	p := partsOf(obj)
	e := t.byObj.byPtr[p.data]
	if e == nil || partsOf(e.obj).typ != p.typ {
		return nil, false // the slow path says what is wrong, or finds an alias
	}
	return e, e.typ == typ
}

// checkpointArgs vets the arguments that every checkpoint-side call shares.
func (t *Table[C]) checkpointArgs(op string, obj any, typ Type) (*Ops[C], error) {
	if err := t.usable(op, CheckpointSide); err != nil {
		return nil, err
	}
	// The error context is built only on failure: this is the hot path of
	// every checkpoint, and a string built on every call is an allocation.
	if bad := badObject(obj); bad != "" {
		return nil, fail(op+" "+t.reg.Name(typ), errno.EINVAL, "%s", bad)
	}
	if ops := t.reg.get(typ); ops != nil {
		return ops, nil
	}
	return nil, fail(op+" "+t.reg.Name(typ), errno.EINVAL, "type %d is not registered", typ)
}

// find returns obj's entry, or nil. An object entered under another type
// is an error: the caller has mistaken what it holds, and the reference the
// table took would be dropped by the wrong Drop.
func (t *Table[C]) find(op string, obj any, ops *Ops[C]) (*entry, error) {
	e := t.lookup(obj)
	if e != nil && e.typ != ops.Type {
		name := t.reg.Name(e.typ)
		return nil, fail(fmt.Sprintf("%s %s objref %d", op, name, e.objref),
			errno.EINVAL, "is a %s, not a %s", name, ops.Name)
	}
	return e, nil
}

// findOrAdd returns obj's entry, adding it with the next objref and a
// reference of its own if it is new. A refused Grab leaves the table as it
// was, objref counter included, so objrefs stay dense.
func (t *Table[C]) findOrAdd(op string, obj any, ops *Ops[C]) (*entry, error) {
	e, err := t.find(op, obj, ops)
	if err != nil || e != nil {
		return e, err
	}
	if t.entries.len() == math.MaxInt32 {
		return nil, fail(op+" "+ops.Name, errno.EOVERFLOW, "no objref left")
	}
	if err := ops.Grab(obj); err != nil {
		return nil, opFailed(op+" "+ops.Name+": grab", err)
	}
	e = t.entries.push(entry{obj: obj, objref: t.entries.len() + 1, typ: ops.Type})
	t.index(e)
	return e, nil
}

// Lookup returns obj's objref if it is in the table, without adding it.
// The second result is false, with no error, for an object not yet seen.
func (t *Table[C]) Lookup(obj any, typ Type) (objref int32, ok bool, err error) {
	ops, err := t.checkpointArgs("lookup", obj, typ)
	if err != nil {
		return 0, false, err
	}
	e, err := t.find("lookup", obj, ops)
	if err != nil || e == nil {
		return 0, false, err
	}
	return e.objref, true, nil
}

// Add returns obj's objref, adding obj to the table if it is new, without
// saving it: for an object whose state comes after the record that refers
// to it (nested sharing: a pipe after the first file open on it), which
// CheckpointObj then writes on its first call. Its errors are LookupAdd's.
func (t *Table[C]) Add(obj any, typ Type) (int32, error) {
	if e, ok := t.present(obj, typ); ok {
		return e.objref, nil
	}
	ops, err := t.checkpointArgs("add", obj, typ)
	if err != nil {
		return 0, err
	}
	e, err := t.findOrAdd("add", obj, ops)
	if err != nil {
		return 0, err
	}
	return e.objref, nil
}

// LookupAdd returns obj's objref, adding obj to the table if it is new. It is
// for callers that write an object's state themselves: first is true when
// the caller must now write it, and the object counts as checkpointed from
// then on, so CheckpointObj will not write it again.
//
// First is true on the object's first encounter in the checkpoint proper,
// which is not always when it entered the table: an object that only the
// collect pass has seen (see Collect) is still unwritten, and its first
// LookupAdd reports first. An object whose CheckpointObj is under way or has
// failed is not first; its objref is returned all the same.
//
// Besides the errors common to all methods, it fails with EINVAL for an
// object already entered under another type, with Grab's error if Grab
// refuses the object, and with EOVERFLOW if objrefs run out.
func (t *Table[C]) LookupAdd(obj any, typ Type) (objref int32, first bool, err error) {
	if e, ok := t.present(obj, typ); ok && e.state != unwritten {
		return e.objref, false, nil
	}
	ops, err := t.checkpointArgs("lookup-add", obj, typ)
	if err != nil {
		return 0, false, err
	}
	e, err := t.findOrAdd("lookup-add", obj, ops)
	if err != nil {
		return 0, false, err
	}
	if e.state == unwritten {
		e.state = written
		first = true
	}
	return e.objref, first, nil
}

// CheckpointObj returns obj's objref and, on the object's first encounter,
// saves it: it calls writeObjref, with which the engine writes the objref
// record, and then the type's Checkpoint op, which writes the state. Later
// calls return the objref alone. In the image an object's state therefore
// comes exactly once, right before its first reference; the Checkpoint op
// may call CheckpointObj for the objects nested in its own, and those come
// out, each once, within it.
//
// If writing fails part-way, the image holds a partial object that no retry
// could mend: writing the record and the state again would put the object in
// the image twice. The object is marked failed instead, and every later
// CheckpointObj for it returns the first error again rather than an objref,
// so that nothing goes on to refer to a half-written object. (The seeds'
// checkpoint_obj marks such an object checkpointed and hands out its objref
// on the next call; the checkpoint is failing by then anyway, but an engine
// that missed the first error would produce an image that refers to it.)
//
// An object reached again while its own Checkpoint op is still running
// would refer to itself before its state is complete, and no restart could
// create it; that call fails with ELOOP, and with it the outer call.
//
// Besides the errors of LookupAdd, it fails with EINVAL for a nil
// writeObjref and returns writeObjref's or Checkpoint's error, with EIO added
// if it carries no errno.
func (t *Table[C]) CheckpointObj(ctx C, obj any, typ Type, writeObjref func(objref int32, t Type) error) (int32, error) {
	if e, ok := t.present(obj, typ); ok && e.state == written && writeObjref != nil {
		return e.objref, nil // the common case, kept free of formatting
	}
	ops, err := t.checkpointArgs("checkpoint", obj, typ)
	if err != nil {
		return 0, err
	}
	if writeObjref == nil {
		return 0, fail("checkpoint "+ops.Name, errno.EINVAL, "no objref writer")
	}
	e, err := t.findOrAdd("checkpoint", obj, ops)
	if err != nil {
		return 0, err
	}
	objref := e.objref
	if e.state == written {
		return objref, nil // the common case, kept free of formatting
	}
	// Named only on failure: every object's first encounter comes here.
	what := func() string { return fmt.Sprintf("checkpoint %s objref %d", ops.Name, objref) }
	switch e.state {
	case writing:
		return 0, fail(what(), errno.ELOOP, "reached again while its own state is being written")
	case failed:
		return 0, fmt.Errorf("objhash: %s: failed before: %w", what(), t.failures[objref])
	}
	e.state = writing
	if err = writeObjref(objref, typ); err != nil {
		err = opFailed(what()+": objref record", err)
	} else if ops.Checkpoint != nil {
		if err = ops.Checkpoint(ctx, obj); err != nil {
			err = opFailed(what(), err)
		}
	}
	if t.discarded {
		// The engine discarded the table from within its own op; the entry
		// is gone with the rest, and the call cannot have succeeded.
		return 0, fail(what(), errno.EINVAL, "the table was discarded while writing")
	}
	if err != nil {
		e.state = failed
		if t.failures == nil {
			t.failures = make(map[int32]error)
		}
		t.failures[objref] = err
		return 0, err
	}
	e.state = written
	return objref, nil
}

// restartWhat names a restart-side call in its errors: "fetch objref 7",
// or with a type name "insert objref 7 as pipe". Only failures call it, so
// that Fetch, the hot path of every restart, formats nothing.
func restartWhat(op string, objref int32, name string) string {
	if name == "" {
		return fmt.Sprintf("%s objref %d", op, objref)
	}
	return fmt.Sprintf("%s objref %d as %s", op, objref, name)
}

// restartArgs vets the arguments that every restart-side call shares.
func (t *Table[C]) restartArgs(op string, objref int32, typ Type) (*Ops[C], error) {
	if t.discarded || t.side != RestartSide {
		// Named only on failure: Fetch is restart's hot path.
		return nil, t.usable(restartWhat(op, objref, ""), RestartSide)
	}
	if objref <= 0 {
		return nil, fail(restartWhat(op, objref, ""), errno.EINVAL, "objrefs are positive")
	}
	if ops := t.reg.get(typ); ops != nil {
		return ops, nil
	}
	return nil, fail(restartWhat(op, objref, ""), errno.EINVAL, "type %d is not registered", typ)
}

// add enters obj under objref on the restart side, with the reference the
// caller has already secured.
func (t *Table[C]) add(obj any, objref int32, ops *Ops[C]) {
	e := t.entries.push(entry{obj: obj, objref: objref, typ: ops.Type, state: written})
	t.byRef.put(objref, e, t.entries.len())
}

// Insert enters obj under objref, taking a reference to it. It is for an
// object that came into being while another was being restored, such as the
// second end of a pipe, parked here until its own reference comes up.
//
// Besides the errors common to all methods, it fails with EINVAL if objref
// is already in the table, and with Grab's error if Grab refuses obj; either
// way the table is unchanged.
func (t *Table[C]) Insert(obj any, objref int32, typ Type) error {
	ops, err := t.restartArgs("insert", objref, typ)
	if err != nil {
		return err
	}
	if bad := badObject(obj); bad != "" {
		return fail(restartWhat("insert", objref, ops.Name), errno.EINVAL, "%s", bad)
	}
	if dup := t.byRef.get(objref); dup != nil {
		return fail(restartWhat("insert", objref, ops.Name), errno.EINVAL,
			"objref is taken by a %s", t.reg.Name(dup.typ))
	}
	if err := ops.Grab(obj); err != nil {
		return opFailed(restartWhat("insert", objref, ops.Name)+": grab", err)
	}
	t.add(obj, objref, ops)
	return nil
}

// ErrNoObjref is the error of Fetch for an objref that no object has: it
// is distinct from the EINVAL of a malformed call, so that a missing object
// is never mistaken for a bad argument, nor the reverse. It carries ENOENT.
var ErrNoObjref = fmt.Errorf("no such objref: %w", errno.ENOENT)

// Fetch returns the object entered under objref. It fails with ErrNoObjref
// for an objref not in the table and with ENOMSG for one entered under
// another type, which in an image is a record naming the wrong kind of
// object.
func (t *Table[C]) Fetch(objref int32, typ Type) (any, error) {
	obj, ok, err := t.Find(objref, typ)
	if err == nil && !ok {
		ops, _ := t.reg.Ops(typ)
		err = fmt.Errorf("objhash: %s (wanted a %s): %w", restartWhat("fetch", objref, ""), ops.Name, ErrNoObjref)
	}
	return obj, err
}

// Find is Fetch for an objref that may not have been restored yet: it
// reports false, and no error, when no object has it. Its other errors are
// Fetch's.
func (t *Table[C]) Find(objref int32, typ Type) (any, bool, error) {
	ops, err := t.restartArgs("fetch", objref, typ)
	if err != nil {
		return nil, false, err
	}
	e := t.byRef.get(objref)
	if e == nil {
		return nil, false, nil
	}
	if e.typ != ops.Type {
		return nil, false, fail(restartWhat("fetch", objref, ""), errno.ENOMSG, "is a %s, not a %s", t.reg.Name(e.typ), ops.Name)
	}
	return e.obj, true, nil
}

// RestoreObj creates the object whose objref record has just been read, with
// the type's Restore op, and enters it under objref. The reference Restore
// returns becomes the table's: taking another and dropping Restore's, as the
// seeds do, comes to the same count but adds a Grab that could fail at the
// worst moment.
//
// Besides the errors common to all methods, it fails with EINVAL if objref
// is already in the table, if the type has no Restore op, or if Restore
// returns something that is not a non-nil pointer; it returns Restore's own
// error, with EIO added if it carries no errno. If Restore itself entered an
// object under objref, the new object's reference is dropped and RestoreObj
// fails with EINVAL.
func (t *Table[C]) RestoreObj(ctx C, objref int32, typ Type) (any, error) {
	ops, err := t.restartArgs("restore", objref, typ)
	if err != nil {
		return nil, err
	}
	// Named only on failure: every object of a restart comes here.
	what := func() string { return restartWhat("restore", objref, ops.Name) }
	if ops.Restore == nil {
		return nil, fail(what(), errno.EINVAL, "the type is only ever inserted")
	}
	if dup := t.byRef.get(objref); dup != nil {
		return nil, fail(what(), errno.EINVAL, "objref is taken by a %s", t.reg.Name(dup.typ))
	}
	obj, err := ops.Restore(ctx)
	if err != nil {
		return nil, opFailed(what(), err)
	}
	if bad := badObject(obj); bad != "" {
		// Nothing here can be dropped safely: there is no object to drop.
		return nil, fail(what(), errno.EINVAL, "Restore returned a %s", bad)
	}
	if t.discarded {
		ops.Drop(obj)
		return nil, fail(what(), errno.EINVAL, "the table was discarded while restoring")
	}
	if dup := t.byRef.get(objref); dup != nil {
		ops.Drop(obj)
		return nil, fail(what(), errno.EINVAL, "objref was taken by a %s while restoring", t.reg.Name(dup.typ))
	}
	t.add(obj, objref, ops)
	return obj, nil
}

// Discard drops the table's reference to every object, once each, and
// empties the table; the engine calls it when the checkpoint or restart
// ends, whether it succeeded or failed. Calling it again does nothing, and
// every other call on a discarded table fails with EINVAL.
//
// References are dropped in the reverse of the order the objects entered.
// The order has to be fixed, because a drop can be the last one and
// releasing an object has visible effects in the simulated kernel (a pipe
// whose last writer goes away, a file table closing its files): walking a Go
// map would release in a different order on every run. Reverse order is the
// usual way to unwind what was acquired, as deferred calls and the kernel's
// error paths do, so the table's drops mirror its grabs.
func (t *Table[C]) Discard() {
	if t.discarded {
		return
	}
	t.discarded = true
	entries := t.entries
	t.entries, t.byObj, t.byRef, t.failures = entryList{}, ptrIndex{}, refIndex{}, nil
	for i := entries.len() - 1; i >= 0; i-- {
		e := entries.at(i)
		if sl := slotOf(e.obj); sl != nil && sl.e == e {
			sl.e = nil
		}
		t.reg.get(e.typ).Drop(e.obj)
	}
}

// owns reports whether e, found in an object's slot, is one of t's
// checkpoint-side entries (objref n is entry n-1) rather than a stale one
// of a table that was never discarded.
func (t *Table[C]) owns(e *entry) bool {
	i := e.objref - 1
	return t.byObj.byPtr != nil && i >= 0 && i < t.entries.len() && t.entries.at(i) == e
}

// lookup returns obj's checkpoint-side entry, or nil; obj is a non-nil
// pointer.
func (t *Table[C]) lookup(obj any) *entry {
	if sl := slotOf(obj); sl != nil {
		if e := sl.e; e != nil && e.obj == obj && t.owns(e) {
			return e
		}
		if t.slottedInIndex == 0 {
			return nil
		}
	}
	return t.byObj.get(obj)
}

// index enters e, new, in its object's slot when that is free, else in
// the hash index.
func (t *Table[C]) index(e *entry) {
	if sl := slotOf(e.obj); sl != nil {
		if sl.e == nil {
			sl.e = e
			return
		}
		t.slottedInIndex++
	}
	t.byObj.put(e)
}

// Entry describes one object in a table, for tests and debugging.
type Entry struct {
	Objref int32
	Type   Type
	Name   string // the type's name
	Obj    any
	// Checkpointed is true once the object's state is in the image: written
	// by CheckpointObj or left to the caller of LookupAdd. Restart-side
	// entries are always checkpointed, their state having come from one.
	Checkpointed bool
	// Failed is true when CheckpointObj failed part-way through the object.
	Failed bool
	// Collected is the number of references Collect has counted.
	Collected int64
}

// All returns the table's entries in objref order, as they are when the
// iteration starts. The table may change during the iteration without
// affecting it.
func (t *Table[C]) All() iter.Seq[Entry] {
	return func(yield func(Entry) bool) {
		list := make([]Entry, t.entries.len())
		for i := range t.entries.len() {
			e := t.entries.at(i)
			list[i] = Entry{
				Objref:       e.objref,
				Type:         e.typ,
				Name:         t.reg.Name(e.typ),
				Obj:          e.obj,
				Checkpointed: e.state == written,
				Failed:       e.state == failed,
				Collected:    e.counted,
			}
		}
		// Checkpoint-side entries are already in objref order; restart-side
		// ones are in the order the image brought them, which is objref
		// order too but for the objects inserted while another was being
		// restored: checked first, since restart walks every entry.
		byRef := func(a, b Entry) int { return cmp.Compare(a.Objref, b.Objref) }
		if !slices.IsSortedFunc(list, byRef) {
			slices.SortFunc(list, byRef)
		}
		for _, e := range list {
			if !yield(e) {
				return
			}
		}
	}
}
