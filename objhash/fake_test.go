package objhash

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// fobj is a fake kernel object with an explicit reference count and a list
// of the shared objects it refers to, which its Checkpoint and Collect ops
// visit.
type fobj struct {
	name    string
	refs    int64
	grabErr error // Grab refuses with this
	ckptErr error // Checkpoint writes a partial record and fails with this
	kids    []kid
	slot    Slot // as a kernel object has, in its kref.Count
}

func (o *fobj) ObjhashSlot() *Slot { return &o.slot }

type kid struct {
	o *fobj
	t Type
}

// The test types. The ids are sparse on purpose: the registry must not
// assume they are consecutive.
const (
	tFile  Type = 1 // every op
	tPipe  Type = 2 // every op
	tTable Type = 3 // every op
	tTask  Type = 7 // no Restore (only inserted), no Collect
	tBare  Type = 9 // Grab and Drop only: no Users, no state
)

var allTypes = []Type{tFile, tPipe, tTable, tTask, tBare}

func hasUsers(t Type) bool   { return t != tBare }
func hasCkpt(t Type) bool    { return t != tBare }
func hasRestore(t Type) bool { return t == tFile || t == tPipe || t == tTable }
func hasCollect(t Type) bool { return t == tFile || t == tPipe || t == tTable }
func registered(t Type) bool {
	return t == tFile || t == tPipe || t == tTable || t == tTask || t == tBare
}

// fctx is the fake engine context: the table in use, the image written so
// far (one string a record), and what Restore is to do next.
type fctx struct {
	tab       *Table[*fctx]
	image     []string
	objrefErr error // writeObjref fails with this
	plan      []restorePlan
	drops     []string // names, in the order Drop saw them
}

// restorePlan is what one call of the fake Restore does: park sibling with
// Insert if set, then fail with err if set, else create obj (one reference).
type restorePlan struct {
	obj     *fobj
	retNil  bool
	err     error
	sibling *fobj
	sibRef  int32
	sibType Type
}

func (c *fctx) writeObjref(objref int32, t Type) error {
	if c.objrefErr != nil {
		return c.objrefErr
	}
	c.image = append(c.image, fmt.Sprintf("objref %d type %d", objref, t))
	return nil
}

func asFobj(obj any) (*fobj, error) {
	o, ok := obj.(*fobj)
	if !ok {
		return nil, fmt.Errorf("fake ops given a %T: %w", obj, errno.EINVAL)
	}
	return o, nil
}

func fakeOps(c func() *fctx, name string, t Type) Ops[*fctx] {
	ops := Ops[*fctx]{
		Name: name,
		Type: t,
		Grab: func(obj any) error {
			o, err := asFobj(obj)
			if err != nil {
				return err
			}
			if o.grabErr != nil {
				return o.grabErr
			}
			o.refs++
			return nil
		},
		Drop: func(obj any) {
			o := obj.(*fobj)
			o.refs--
			if o.refs < 0 {
				panic("fake: " + o.name + " dropped below zero")
			}
			if cx := c(); cx != nil {
				cx.drops = append(cx.drops, o.name)
			}
		},
	}
	if hasUsers(t) {
		ops.Users = func(obj any) int64 { return obj.(*fobj).refs }
	}
	if hasCkpt(t) {
		ops.Checkpoint = func(c *fctx, obj any) error {
			o := obj.(*fobj)
			var refs []int32
			for _, k := range o.kids {
				r, err := c.tab.CheckpointObj(c, k.o, k.t, c.writeObjref)
				if err != nil {
					return err
				}
				refs = append(refs, r)
			}
			if o.ckptErr != nil {
				c.image = append(c.image, "partial "+o.name)
				return o.ckptErr
			}
			c.image = append(c.image, fmt.Sprintf("state %s %v", o.name, refs))
			return nil
		}
	}
	if hasRestore(t) {
		ops.Restore = func(c *fctx) (any, error) {
			p := c.plan[0]
			c.plan = c.plan[1:]
			if p.sibling != nil {
				if err := c.tab.Insert(p.sibling, p.sibRef, p.sibType); err != nil {
					return nil, err
				}
			}
			if p.err != nil {
				return nil, p.err
			}
			if p.retNil {
				return nil, nil
			}
			p.obj.refs++
			return p.obj, nil
		}
	}
	if hasCollect(t) {
		ops.Collect = func(c *fctx, obj any) error {
			for _, k := range obj.(*fobj).kids {
				if _, _, err := c.tab.Collect(c, k.o, k.t); err != nil {
					return err
				}
			}
			return nil
		}
	}
	return ops
}

var typeNames = map[Type]string{tFile: "file", tPipe: "pipe", tTable: "file table", tTask: "task", tBare: "bare"}

// newRegistry registers the test types. Drop records into whatever context
// cur returns, which may be nil.
func newRegistry(cur func() *fctx) *Registry[*fctx] {
	reg := NewRegistry[*fctx]()
	for _, t := range allTypes {
		if err := reg.Register(fakeOps(cur, typeNames[t], t)); err != nil {
			panic(err)
		}
	}
	return reg
}

func noCtx() *fctx { return nil }
