// Package kref gives the simulated kernel's objects explicit reference counts
// and keeps a registry of the objects that are alive.
//
// Every counted object (inode, directory entry, open file, file table, fs
// state, pipe, task, socket pair, address space, shared memory segment,
// page frame) embeds a Count. Init gives it its first reference and
// enters it in its kernel's Registry; Get and Put take and drop references;
// the Put that drops the last one removes the object from the registry and
// runs its release function, which is where release has its effects (a pipe
// whose last writer is gone, a file table that closes its files).
//
// The registry is what lets a test say "nothing leaked": take a Snapshot
// before, run anything, take one after, and compare. An object still alive
// that should not be is named by kind, id and reference count.
package kref

import (
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/ckptsim/ckptsim/objhash"
)

// Kind is a type of kernel object that the registry tracks.
type Kind int

// The kinds of counted kernel objects.
const (
	Inode Kind = iota
	Dentry
	File
	FileTable
	FSState
	Pipe
	Task
	SocketPair
	MM
	Segment
	Frame
	numKinds
)

var kindNames = [numKinds]string{"inode", "dentry", "file", "file table", "fs state", "pipe", "task", "socket pair", "mm", "segment", "frame"}

// Kinds lists every kind, in a fixed order.
func Kinds() []Kind {
	out := make([]Kind, numKinds)
	for i := range out {
		out[i] = Kind(i)
	}
	return out
}

// String returns the kind's name, such as "file table".
func (k Kind) String() string {
	if k >= 0 && k < numKinds {
		return kindNames[k]
	}
	return fmt.Sprintf("kind %d", int(k))
}

// Object is what the registry knows of a counted object.
type Object interface {
	// Ref returns the object's embedded Count.
	Ref() *Count
}

// Count is an explicit reference count. The zero value is not usable: call
// Init when the object is created.
type Count struct {
	refs atomic.Int64
	id   uint64
	kind int32 // a Kind
	slot int32 // where the registry keeps the object
	reg  *Registry
	// table is the objhash slot of the checkpoint that holds the object,
	// which finds it there without a hash probe.
	table objhash.Slot
}

// ObjhashSlot returns the object's slot for a checkpoint's table of shared
// objects (objhash.Slotted): every kernel object, embedding a Count, has
// one.
func (c *Count) ObjhashSlot() *objhash.Slot { return &c.table }

// Init gives a new object its first reference, an id unique within reg, and
// enters it in reg.
func (c *Count) Init(reg *Registry, kind Kind, obj Object) {
	if c.reg != nil {
		panic(fmt.Sprintf("kref: %v %d initialised twice", kind, c.id))
	}
	c.kind = int32(kind)
	c.reg = reg
	c.refs.Store(1)
	c.id, c.slot = reg.add(obj)
}

// Get takes a reference. Taking one on a released object is a kernel bug.
func (c *Count) Get() {
	if c.refs.Add(1) <= 1 {
		panic(fmt.Sprintf("kref: get on released %v %d", Kind(c.kind), c.id))
	}
}

// Put drops a reference. The Put that drops the last one removes the object
// from the registry and then calls release (which may be nil). It reports
// whether the object was released.
func (c *Count) Put(release func()) bool {
	n := c.refs.Add(-1)
	if n < 0 {
		panic(fmt.Sprintf("kref: put on released %v %d", Kind(c.kind), c.id))
	}
	if n > 0 {
		return false
	}
	c.reg.remove(c)
	if release != nil {
		release()
	}
	return true
}

// Refs returns the current number of references.
func (c *Count) Refs() int64 { return c.refs.Load() }

// ID returns the object's id, unique among the objects of its registry and
// assigned in creation order.
func (c *Count) ID() uint64 { return c.id }

// Kind returns the object's kind.
func (c *Count) Kind() Kind { return Kind(c.kind) }

// Registry is the set of live objects of one kernel. It is safe for
// concurrent use.
//
// Every kernel object enters it, so it is a slice of slots, each object
// knowing its own, with a list of the slots freed for reuse: a map from id
// to object cost a map insert (and its growth) for every object a restart
// or a disk copy makes (issue 16).
type Registry struct {
	mu     sync.Mutex
	nextID uint64
	slots  []*[slotChunk]Object // in chunks that never move; nil where free
	n      int32                // slots used so far
	free   []int32              // free slots, reused last freed first
	live   int
}

// slotChunk is how many slots a chunk holds: growing one slice of
// interfaces would copy every slot, with the collector's write barriers,
// each time it doubles.
const slotChunk = 1024

func (r *Registry) slot(i int32) *Object { return &r.slots[i/slotChunk][i%slotChunk] }

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{}
}

func (r *Registry) add(obj Object) (id uint64, slot int32) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.nextID++
	if n := len(r.free); n > 0 {
		slot = r.free[n-1]
		r.free = r.free[:n-1]
	} else {
		if r.n == math.MaxInt32 {
			panic("kref: more live objects than slots")
		}
		slot = r.n
		r.n++
		if int(slot/slotChunk) == len(r.slots) {
			r.slots = append(r.slots, new([slotChunk]Object))
		}
	}
	*r.slot(slot) = obj
	r.live++
	return r.nextID, slot
}

func (r *Registry) remove(c *Count) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if c.slot >= r.n || *r.slot(c.slot) == nil || (*r.slot(c.slot)).Ref() != c {
		panic(fmt.Sprintf("kref: object %d released twice", c.id))
	}
	*r.slot(c.slot) = nil
	r.free = append(r.free, c.slot)
	r.live--
}

// each calls f for every live object, in no particular order; r.mu is
// held.
func (r *Registry) each(f func(c *Count)) {
	for i := range r.n {
		if obj := *r.slot(i); obj != nil {
			f(obj.Ref())
		}
	}
}

// Live is one live object as a snapshot records it.
type Live struct {
	ID   uint64
	Kind Kind
	Refs int64
}

func (l Live) String() string { return fmt.Sprintf("%v %d (%d refs)", l.Kind, l.ID, l.Refs) }

// Snapshot is the registry's contents at one moment, ordered by id.
type Snapshot []Live

// Snapshot records every live object with its reference count.
func (r *Registry) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(Snapshot, 0, r.live)
	r.each(func(c *Count) {
		out = append(out, Live{ID: c.id, Kind: Kind(c.kind), Refs: c.Refs()})
	})
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Count returns how many objects of kind k are live.
func (r *Registry) Count(k Kind) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	r.each(func(c *Count) {
		if Kind(c.kind) == k {
			n++
		}
	})
	return n
}

// Count returns how many objects of kind k the snapshot holds.
func (s Snapshot) Count(k Kind) int {
	n := 0
	for _, l := range s {
		if l.Kind == k {
			n++
		}
	}
	return n
}

// Diff describes how after differs from s: objects that appeared, objects
// that disappeared and objects whose reference count changed. It returns ""
// when the two are the same.
func (s Snapshot) Diff(after Snapshot) string {
	before := make(map[uint64]Live, len(s))
	for _, l := range s {
		before[l.ID] = l
	}
	var lines []string
	for _, l := range after {
		b, ok := before[l.ID]
		switch {
		case !ok:
			lines = append(lines, "new "+l.String())
		case b.Refs != l.Refs:
			lines = append(lines, fmt.Sprintf("%v %d: %d refs, was %d", l.Kind, l.ID, l.Refs, b.Refs))
		}
		delete(before, l.ID)
	}
	for _, l := range s {
		if _, gone := before[l.ID]; gone {
			lines = append(lines, "released "+l.String())
		}
	}
	return strings.Join(lines, "\n")
}
