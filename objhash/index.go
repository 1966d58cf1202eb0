package objhash

import "unsafe"

// The table's two indexes, one per side, are what every reference a
// checkpoint or restart meets goes through; they are kept as cheap as a
// bare map or cheaper (issue 16).

// eface is the layout of an interface value: its dynamic type's descriptor
// and its data word. For a pointer, the data word is the pointer itself.
type eface struct {
	typ, data unsafe.Pointer
}

func partsOf(obj any) eface { return *(*eface)(unsafe.Pointer(&obj)) }

// ptrIndex finds checkpoint-side entries by their object. Objects are
// pointers, so the index is keyed by the pointer alone, which hashes as one
// word, where a map keyed by the interface hashes through the dynamic
// type's hash function. Two objects of different Go types can share an
// address (a struct and its first field); the entry keeps the object with
// its type, a hit is checked against it, and the second object at an
// address is kept in a map keyed by the whole interface, which is rarely
// more than empty.
type ptrIndex struct {
	byPtr   map[unsafe.Pointer]*entry
	aliases map[any]*entry
}

// get returns obj's entry, or nil. obj must be a non-nil pointer.
func (x *ptrIndex) get(obj any) *entry {
	p := partsOf(obj)
	e := x.byPtr[p.data]
	if e == nil || partsOf(e.obj).typ == p.typ {
		return e
	}
	return x.aliases[obj]
}

// put enters e, whose object is not in the index yet.
func (x *ptrIndex) put(e *entry) {
	p := partsOf(e.obj)
	if x.byPtr[p.data] == nil {
		x.byPtr[p.data] = e
		return
	}
	if x.aliases == nil {
		x.aliases = make(map[any]*entry)
	}
	x.aliases[e.obj] = e
}

// refIndex finds restart-side entries by objref. Objrefs in an image are
// dense, 1, 2, 3, ... in order, so they index a slice; an objref far past
// the entries there are (which only a hostile image or a test makes) goes
// to a map instead, so that one large number cannot make the slice large.
type refIndex struct {
	dense  []*entry // by objref; [0] is unused
	sparse map[int32]*entry
}

// slack is how far past twice the number of entries an objref may be and
// still be kept in the slice.
const slack = 1024

func (x *refIndex) get(objref int32) *entry {
	if int64(objref) < int64(len(x.dense)) {
		return x.dense[objref]
	}
	return x.sparse[objref]
}

// put enters e under objref, which is not in the index yet; n is the
// number of entries in the table, e included.
func (x *refIndex) put(objref int32, e *entry, n int32) {
	if int64(objref) >= int64(len(x.dense)) && int64(objref) <= 2*int64(n)+slack {
		grown := make([]*entry, max(int(objref)+1, 2*len(x.dense)))
		copy(grown, x.dense)
		x.dense = grown
		for ref, moved := range x.sparse {
			if int64(ref) < int64(len(x.dense)) {
				x.dense[ref] = moved
				delete(x.sparse, ref)
			}
		}
	}
	if int64(objref) < int64(len(x.dense)) {
		x.dense[objref] = e
		return
	}
	if x.sparse == nil {
		x.sparse = make(map[int32]*entry)
	}
	x.sparse[objref] = e
}

// Slot is room in an object for the checkpoint-side table that holds it:
// the table finds the object's entry there, in memory the object's own
// visit has brought into the cache, where a hash index of a million
// objects misses the cache on nearly every probe (issue 16's scaling). A
// kernel object keeps one in its reference count (kref.Count), which
// every kernel object embeds.
//
// A slot serves one table at a time: the first that enters the object
// takes it, and its Discard gives it back; a table that finds the slot
// taken (by another table alive at the same time, or by another object at
// the same address) keeps the object in its hash index instead. A slot
// belongs to the checkpoint that holds the kernel's lock, and is no more
// safe for concurrent use than the object it is in.
type Slot struct {
	e *entry
}

// Slotted is an object with a Slot.
type Slotted interface {
	ObjhashSlot() *Slot
}

// slotOf returns obj's slot, or nil for an object without one (or a nil
// pointer, which the slow path refuses).
func slotOf(obj any) *Slot {
	if s, ok := obj.(Slotted); ok && partsOf(obj).data != nil {
		return s.ObjhashSlot()
	}
	return nil
}
