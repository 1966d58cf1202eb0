package objhash

import (
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// Collect counts one reference to obj found inside the container being
// checkpointed, adding obj to the table if it is new, and returns its objref.
// On obj's first collection (first is true) it calls the type's Collect op,
// which calls Collect in turn for the objects obj refers to; a reference
// cycle ends there, since the second visit only counts.
//
// The engine calls Collect once for every reference it finds, including
// references it holds itself on purpose (its own image file, say, if that
// lives in the container), and then Leaks. The collect pass may share the
// checkpoint's table: Collect assigns objrefs like LookupAdd but does not
// mark anything checkpointed, so the checkpoint proper still writes every
// object on its first encounter.
//
// Besides the errors of LookupAdd, it fails with EINVAL for a type without
// a Users op, whose leaks could not be checked, and returns the Collect op's
// error, with EIO added if it carries no errno.
func (t *Table[C]) Collect(ctx C, obj any, typ Type) (objref int32, first bool, err error) {
	if e, ok := t.present(obj, typ); ok && e.counted > 0 {
		// Counted before, so its type has a Users op: every reference
		// after an object's first comes here.
		e.counted++
		return e.objref, false, nil
	}
	ops, err := t.checkpointArgs("collect", obj, typ)
	if err != nil {
		return 0, false, err
	}
	if ops.Users == nil {
		return 0, false, fail("collect "+ops.Name, errno.EINVAL, "the type has no Users op")
	}
	e, err := t.findOrAdd("collect", obj, ops)
	if err != nil {
		return 0, false, err
	}
	e.counted++
	objref, first = e.objref, e.counted == 1
	if first && ops.Collect != nil {
		if err := ops.Collect(ctx, obj); err != nil {
			return 0, false, opFailed(fmt.Sprintf("collect %s objref %d", ops.Name, objref), err)
		}
	}
	return objref, first, nil
}

// Leaks checks the counts of a collect pass. For every entry whose type has
// a Users op it compares the object's reference count, less the table's own
// reference, with the references Collect counted; it returns nil when they
// all agree and a *LeakError naming every entry that does not.
//
// Every entry is checked, not only those Collect reached, so Leaks belongs
// after the collect pass and before anything else adds to the table. It
// fails with EINVAL on a restart-side or discarded table.
func (t *Table[C]) Leaks() error {
	if err := t.usable("leaks", CheckpointSide); err != nil {
		return err
	}
	var found []Leak
	for i := range t.entries.len() {
		e := t.entries.at(i)
		ops := t.reg.get(e.typ)
		if ops.Users == nil {
			continue
		}
		if users := ops.Users(e.obj); users-1 != e.counted {
			found = append(found, Leak{
				Type: e.typ, Name: ops.Name, Objref: e.objref,
				Users: users, Counted: e.counted,
			})
		}
	}
	if found == nil {
		return nil
	}
	return &LeakError{Leaks: found}
}

// Leak is one object whose reference count the collect pass does not
// account for.
type Leak struct {
	Type    Type
	Name    string // the type's name
	Objref  int32
	Users   int64 // the object's reference count, the table's included
	Counted int64 // references found inside the container
}

// Outside returns how many references to the object come from outside the
// container. It is negative when Collect counted more references than the
// object has, which means the engine counted one reference twice or counted
// one that does not exist: a bug in the engine, not in the container.
func (l Leak) Outside() int64 { return l.Users - 1 - l.Counted }

// String describes the leak, such as "file objref 3: 1 reference from
// outside (4 in all, 2 inside, 1 the table's)".
func (l Leak) String() string {
	out := l.Outside()
	if out < 0 {
		return fmt.Sprintf("%s objref %d: %d references counted inside, but it has only %d besides the table's (engine bug)",
			l.Name, l.Objref, l.Counted, l.Users-1)
	}
	noun := "references"
	if out == 1 {
		noun = "reference"
	}
	return fmt.Sprintf("%s objref %d: %d %s from outside (%d in all, %d inside, 1 the table's)",
		l.Name, l.Objref, out, noun, l.Users, l.Counted)
}

// LeakError is the result of a collect pass that found objects referenced
// from outside the container, or counted wrongly. It is EBUSY, which
// errors.Is and errno.Of see, when at least one object is referenced from
// outside: the checkpoint is refused because the container is in use from
// outside. When every discrepancy is an over-count (Outside negative) it is
// EINVAL instead, since then the engine's own collect ops are wrong and
// blaming the container would mislead.
type LeakError struct {
	Leaks []Leak // in objref order
}

// Errno returns EBUSY or EINVAL, as LeakError's doc says.
func (e *LeakError) Errno() errno.Errno {
	for _, l := range e.Leaks {
		if l.Outside() > 0 {
			return errno.EBUSY
		}
	}
	return errno.EINVAL
}

// Error lists every leak.
func (e *LeakError) Error() string {
	var b strings.Builder
	b.WriteString("objhash: leaks: ")
	for i, l := range e.Leaks {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(l.String())
	}
	b.WriteString(": ")
	b.WriteString(e.Errno().Error())
	return b.String()
}

// Unwrap returns the errno, so that errors.Is(err, errno.EBUSY) holds for a
// container in use from outside.
func (e *LeakError) Unwrap() error { return e.Errno() }
