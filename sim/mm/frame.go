package mm

import "github.com/ckptsim/ckptsim/sim/kref"

// Frame is a page of memory: 4096 bytes, the unit of copy on write and of
// sharing.
//
// Its reference count is its map count: one reference per page-table
// entry that maps it (in any address space) and one per segment slot that
// holds it. A private page mapped more than once is copied before a store
// (copy on write); one mapped once is written in place. Its serial number,
// the kref id, is never reused within a kernel: two pages show the same
// frame exactly when their serials are equal.
type Frame struct {
	kref.Count
	data *[PageSize]byte
	// saved is the frame's number in the checkpoint in progress, whose
	// generation it names (checkpoint.go): a field, not a map, so that
	// numbering a page costs a load and a compare.
	saved stamp
}

// Ref implements kref.Object.
func (f *Frame) Ref() *kref.Count { return &f.Count }

// NewFrame returns a frame holding contents (zeros after them; at most a
// page of them is taken) with one reference, the caller's: the page-table
// entry or segment slot it is about to fill.
func NewFrame(reg *kref.Registry, contents []byte) *Frame {
	f := &Frame{data: new([PageSize]byte)}
	copy(f.data[:], contents)
	f.Init(reg, kref.Frame, f)
	return f
}

// adoptFrame returns a frame whose contents are page itself, which the
// caller hands over and must not touch again: restart makes frames of the
// bytes it read, without copying them.
func adoptFrame(reg *kref.Registry, page *[PageSize]byte) *Frame {
	f := &Frame{data: page}
	f.Init(reg, kref.Frame, f)
	return f
}

// Serial returns the frame's serial number.
func (f *Frame) Serial() uint64 { return f.ID() }

// MapCount returns how many page-table entries and segment slots hold the
// frame.
func (f *Frame) MapCount() int64 { return f.Refs() }

// Bytes returns a copy of the frame's contents.
func (f *Frame) Bytes() []byte { return append([]byte(nil), f.data[:]...) }

// Get takes a reference, for a new page-table entry or slot.
func (f *Frame) Get() { f.Count.Get() }

// Put drops a reference.
func (f *Frame) Put() { f.Count.Put(nil) }
