package objhash

import (
	"errors"
	"slices"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// errnoOf returns the errno err carries, or 0 for nil, and fails the test
// for a non-nil error without one.
func errnoOf(t require.TestingT, err error) errno.Errno {
	if err == nil {
		return 0
	}
	e, ok := errno.Of(err)
	require.True(t, ok, "error without an errno: %v", err)
	return e
}

func entries[C any](tab *Table[C]) []Entry { return slices.Collect(tab.All()) }

func TestRegisterRefusesBadOps(t *testing.T) {
	reg := NewRegistry[*fctx]()
	good := fakeOps(noCtx, "file", tFile)
	require.NoError(t, reg.Register(good))

	cases := []struct {
		name string
		edit func(*Ops[*fctx])
		want errno.Errno
	}{
		{"type 0", func(o *Ops[*fctx]) { o.Type = 0 }, errno.EINVAL},
		{"no name", func(o *Ops[*fctx]) { o.Name = "" }, errno.EINVAL},
		{"no grab", func(o *Ops[*fctx]) { o.Grab = nil }, errno.EINVAL},
		{"no drop", func(o *Ops[*fctx]) { o.Drop = nil }, errno.EINVAL},
		{"duplicate type", func(o *Ops[*fctx]) { o.Type = tFile }, errno.EEXIST},
		{"duplicate name", func(o *Ops[*fctx]) { o.Name = "file" }, errno.EEXIST},
	}
	for _, c := range cases {
		ops := fakeOps(noCtx, "pipe", tPipe)
		c.edit(&ops)
		assert.ErrorIs(t, reg.Register(ops), c.want, c.name)
		if got, ok := reg.Ops(ops.Type); ok {
			assert.NotEqual(t, ops.Name, got.Name, "%s: refused ops must not be registered", c.name)
		}
		_, ok := reg.ByName("pipe")
		assert.False(t, ok, c.name)
	}

	// Optional ops really are optional.
	require.NoError(t, reg.Register(Ops[*fctx]{Name: "bare", Type: 300, Grab: func(any) error { return nil }, Drop: func(any) {}}))
	got, ok := reg.Ops(300)
	require.True(t, ok)
	assert.Equal(t, "bare", got.Name)
	ty, ok := reg.ByName("file")
	assert.True(t, ok)
	assert.Equal(t, tFile, ty)
	assert.Equal(t, "type 4", reg.Name(4))

	// Once a table exists the registry is read-only.
	NewCheckpoint(reg).Discard()
	assert.ErrorIs(t, reg.Register(fakeOps(noCtx, "pipe", tPipe)), errno.EBUSY)
}

// TestCheckpointObjNestedSharing saves two files that share a pipe inode,
// and a file table holding both twice: every object's objref record and
// state appear once, the inode's with the first file that refers to it, and
// every later reference is the objref alone.
func TestCheckpointObjNestedSharing(t *testing.T) {
	c := &fctx{}
	reg := newRegistry(func() *fctx { return c })
	c.tab = NewCheckpoint(reg)

	inode := &fobj{name: "inode", refs: 2}
	rd := &fobj{name: "rd", refs: 1, kids: []kid{{inode, tPipe}}}
	wr := &fobj{name: "wr", refs: 1, kids: []kid{{inode, tPipe}}}
	files := &fobj{name: "files", refs: 1, kids: []kid{{rd, tFile}, {wr, tFile}, {rd, tFile}, {wr, tFile}}}

	ref, err := c.tab.CheckpointObj(c, files, tTable, c.writeObjref)
	require.NoError(t, err)
	assert.Equal(t, int32(1), ref)
	assert.Equal(t, []string{
		"objref 1 type 3",
		"objref 2 type 1",
		"objref 3 type 2",
		"state inode []",
		"state rd [3]",
		"objref 4 type 1",
		"state wr [3]",
		"state files [2 4 2 4]",
	}, c.image)

	// Later encounters write nothing.
	n := len(c.image)
	for _, o := range []struct {
		o   *fobj
		t   Type
		ref int32
	}{{files, tTable, 1}, {rd, tFile, 2}, {inode, tPipe, 3}, {wr, tFile, 4}} {
		ref, err := c.tab.CheckpointObj(c, o.o, o.t, c.writeObjref)
		require.NoError(t, err)
		assert.Equal(t, o.ref, ref)
		ref, ok, err := c.tab.Lookup(o.o, o.t)
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, o.ref, ref)
	}
	assert.Len(t, c.image, n)

	// One reference each, dropped by Discard in reverse order of entry.
	assert.Equal(t, []int64{3, 2, 2, 2}, []int64{inode.refs, rd.refs, wr.refs, files.refs})
	for _, e := range entries(c.tab) {
		assert.True(t, e.Checkpointed)
	}
	c.tab.Discard()
	assert.Equal(t, []string{"wr", "inode", "rd", "files"}, c.drops)
	assert.Equal(t, []int64{2, 1, 1, 1}, []int64{inode.refs, rd.refs, wr.refs, files.refs})
	c.tab.Discard()
	assert.Len(t, c.drops, 4, "a second Discard drops nothing")
}

// TestCheckpointObjFailureIsFinal: an object whose saving failed part-way is
// never written again, and every later CheckpointObj for it fails.
func TestCheckpointObjFailureIsFinal(t *testing.T) {
	c := &fctx{}
	c.tab = NewCheckpoint(newRegistry(noCtx))
	defer c.tab.Discard()

	bad := &fobj{name: "bad", ckptErr: errors.New("disk on fire")}
	_, err := c.tab.CheckpointObj(c, bad, tFile, c.writeObjref)
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EIO, "an op error without an errno gets EIO")
	assert.ErrorContains(t, err, "checkpoint file objref 1: disk on fire")
	assert.Equal(t, []string{"objref 1 type 1", "partial bad"}, c.image)

	_, err = c.tab.CheckpointObj(c, bad, tFile, c.writeObjref)
	assert.ErrorIs(t, err, errno.EIO)
	assert.ErrorContains(t, err, "failed before")
	assert.Len(t, c.image, 2, "a failed object is not written again")
	e := entries(c.tab)[0]
	assert.True(t, e.Failed)
	assert.False(t, e.Checkpointed)

	// A parent fails with its child, and is not written again either.
	parent := &fobj{name: "parent", kids: []kid{{bad, tFile}}}
	_, err = c.tab.CheckpointObj(c, parent, tTable, c.writeObjref)
	assert.ErrorIs(t, err, errno.EIO)
	assert.Equal(t, []string{"objref 1 type 1", "partial bad", "objref 2 type 3"}, c.image)

	// The objref record itself failing.
	c.objrefErr = errno.ENOSPC
	lone := &fobj{name: "lone"}
	_, err = c.tab.CheckpointObj(c, lone, tPipe, c.writeObjref)
	assert.ErrorIs(t, err, errno.ENOSPC)
	assert.ErrorContains(t, err, "checkpoint pipe objref 3: objref record")
	c.objrefErr = nil
	_, err = c.tab.CheckpointObj(c, lone, tPipe, c.writeObjref)
	assert.ErrorIs(t, err, errno.ENOSPC)
	assert.Len(t, c.image, 3)

	_, err = c.tab.CheckpointObj(c, &fobj{}, tPipe, nil)
	assert.ErrorIs(t, err, errno.EINVAL, "nil objref writer")
}

// TestCheckpointObjCycle: an object that refers back to itself cannot be
// restored, so saving it fails with ELOOP instead of recursing forever.
func TestCheckpointObjCycle(t *testing.T) {
	c := &fctx{}
	c.tab = NewCheckpoint(newRegistry(noCtx))
	defer c.tab.Discard()
	a := &fobj{name: "a"}
	b := &fobj{name: "b", kids: []kid{{a, tFile}}}
	a.kids = []kid{{b, tFile}}
	_, err := c.tab.CheckpointObj(c, a, tFile, c.writeObjref)
	assert.ErrorIs(t, err, errno.ELOOP)
	assert.ErrorContains(t, err, "checkpoint file objref 1: reached again")

	// Collect is only counting, and cycles are fine there.
	d := &fobj{name: "d", refs: 2} // one from e, one that the engine found
	e := &fobj{name: "e", refs: 1, kids: []kid{{d, tFile}}}
	d.kids = []kid{{e, tFile}}
	c2 := &fctx{}
	c2.tab = NewCheckpoint(newRegistry(noCtx))
	_, _, err = c2.tab.Collect(c2, d, tFile)
	require.NoError(t, err)
	assert.NoError(t, c2.tab.Leaks())
	c2.tab.Discard()
}

// TestLookupAddFirst: LookupAdd reports first until the object counts as
// written, including for an object the collect pass entered.
func TestLookupAddFirst(t *testing.T) {
	c := &fctx{}
	c.tab = NewCheckpoint(newRegistry(noCtx))
	defer c.tab.Discard()

	a, b := &fobj{name: "a"}, &fobj{name: "b"}
	_, ok, err := c.tab.Lookup(a, tFile)
	require.NoError(t, err)
	assert.False(t, ok)

	ref, first, err := c.tab.LookupAdd(a, tFile)
	require.NoError(t, err)
	assert.Equal(t, int32(1), ref)
	assert.True(t, first)
	ref, first, err = c.tab.LookupAdd(a, tFile)
	require.NoError(t, err)
	assert.Equal(t, int32(1), ref)
	assert.False(t, first)
	// The caller of LookupAdd wrote its state: CheckpointObj writes nothing.
	ref, err = c.tab.CheckpointObj(c, a, tFile, c.writeObjref)
	require.NoError(t, err)
	assert.Equal(t, int32(1), ref)
	assert.Empty(t, c.image)

	ref, first, err = c.tab.Collect(c, b, tFile)
	require.NoError(t, err)
	assert.Equal(t, int32(2), ref)
	assert.True(t, first)
	_, first, err = c.tab.Collect(c, b, tFile)
	require.NoError(t, err)
	assert.False(t, first)
	_, first, err = c.tab.LookupAdd(b, tFile)
	require.NoError(t, err)
	assert.True(t, first, "collected but not yet written")

	_, _, err = c.tab.LookupAdd(a, tPipe)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "lookup-add file objref 1: is a file, not a pipe")
	_, _, err = c.tab.Lookup(a, tPipe)
	assert.ErrorIs(t, err, errno.EINVAL)
}

// TestRestartNestedSharing restores the two ends of a pipe the way a file
// type's Restore op would: the first end's restore creates the pipe, keeps
// one end and parks the other under the inode's objref; the second end's
// record finds it with Fetch.
func TestRestartNestedSharing(t *testing.T) {
	c := &fctx{}
	reg := NewRegistry[*fctx]()
	var created []*fobj
	fileOps := fakeOps(func() *fctx { return c }, "file", tFile)
	const inodeRef = 3
	fileOps.Restore = func(c *fctx) (any, error) {
		obj, ok, err := c.tab.Find(inodeRef, tFile)
		if err != nil {
			return nil, err
		}
		if ok {
			// The other end, parked: it gets a reference for its caller.
			o := obj.(*fobj)
			o.refs++
			return o, nil
		}
		rd, wr := &fobj{name: "rd", refs: 1}, &fobj{name: "wr", refs: 1}
		created = append(created, rd, wr)
		err = c.tab.Insert(wr, inodeRef, tFile)
		wr.refs-- // the pipe's creation reference, now the table's business
		if err != nil {
			rd.refs--
			return nil, err
		}
		return rd, nil
	}
	require.NoError(t, reg.Register(fileOps))
	c.tab = NewRestart(reg)

	rd, err := c.tab.RestoreObj(c, 1, tFile)
	require.NoError(t, err)
	wr, err := c.tab.RestoreObj(c, 2, tFile)
	require.NoError(t, err)
	require.Len(t, created, 2, "one pipe, both ends")
	assert.Same(t, created[0], rd)
	assert.Same(t, created[1], wr)

	for ref, want := range map[int32]any{1: rd, 2: wr, inodeRef: wr} {
		got, err := c.tab.Fetch(ref, tFile)
		require.NoError(t, err)
		assert.Same(t, want, got)
	}
	// The table holds one reference per entry: rd one, wr two.
	assert.Equal(t, int64(1), rd.(*fobj).refs)
	assert.Equal(t, int64(2), wr.(*fobj).refs)
	assert.Equal(t, []int32{1, 2, 3}, objrefs(c.tab))

	c.tab.Discard()
	assert.Equal(t, []string{"wr", "rd", "wr"}, c.drops, "reverse order of entry")
	assert.Zero(t, rd.(*fobj).refs)
	assert.Zero(t, wr.(*fobj).refs)
}

func objrefs[C any](tab *Table[C]) []int32 {
	var out []int32
	for e := range tab.All() {
		out = append(out, e.Objref)
	}
	return out
}

// TestRestoreObjErrors covers RestoreObj's failures and what each leaves.
func TestRestoreObjErrors(t *testing.T) {
	c := &fctx{}
	c.tab = NewRestart(newRegistry(noCtx))
	a := &fobj{name: "a"}

	c.plan = []restorePlan{{obj: a}}
	_, err := c.tab.RestoreObj(c, 5, tFile)
	require.NoError(t, err)
	assert.Equal(t, int64(1), a.refs, "Restore's reference became the table's")

	_, err = c.tab.RestoreObj(c, 5, tPipe)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "objref is taken by a file")
	_, err = c.tab.RestoreObj(c, 6, tTask)
	assert.ErrorIs(t, err, errno.EINVAL, "no Restore op")
	_, err = c.tab.RestoreObj(c, 6, 42)
	assert.ErrorIs(t, err, errno.EINVAL, "unknown type")
	assert.ErrorContains(t, err, "restore objref 6: type 42 is not registered")
	_, err = c.tab.RestoreObj(c, 0, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)

	c.plan = []restorePlan{{err: errno.ENOSPC}}
	_, err = c.tab.RestoreObj(c, 6, tFile)
	assert.ErrorIs(t, err, errno.ENOSPC)
	c.plan = []restorePlan{{retNil: true}}
	_, err = c.tab.RestoreObj(c, 6, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)

	// Restore parks something under its own objref: the new object goes.
	b, s := &fobj{name: "b"}, &fobj{name: "s"}
	c.plan = []restorePlan{{obj: b, sibling: s, sibRef: 6, sibType: tPipe}}
	_, err = c.tab.RestoreObj(c, 6, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "taken by a pipe while restoring")
	assert.Zero(t, b.refs)
	assert.Equal(t, int64(1), s.refs)

	_, err = c.tab.Fetch(6, tFile)
	assert.ErrorIs(t, err, errno.ENOMSG)
	assert.EqualError(t, err, "objhash: fetch objref 6: is a pipe, not a file: ENOMSG (no message of desired type)")
	_, err = c.tab.Fetch(7, tFile)
	assert.ErrorIs(t, err, ErrNoObjref, "not EINVAL: a missing object is not a bad argument")
	assert.NotErrorIs(t, err, errno.EINVAL)
	_, ok, err := c.tab.Find(7, tFile)
	assert.NoError(t, err)
	assert.False(t, ok)

	c.tab.Discard()
	assert.Zero(t, a.refs)
	assert.Zero(t, s.refs)
}

// TestMisuseIsAnError: every misuse is an error with the documented errno,
// never a panic, and leaves reference counts alone.
func TestMisuseIsAnError(t *testing.T) {
	reg := newRegistry(noCtx)
	c := &fctx{}
	ck := NewCheckpoint(reg)
	rs := NewRestart(reg)
	c.tab = ck
	o := &fobj{name: "o", refs: 1}
	n := 42
	var typedNil *fobj

	for _, bad := range []any{nil, typedNil, fobj{}, 7, []int{1}, map[int]int{}} {
		_, _, err := ck.Lookup(bad, tFile)
		assert.ErrorIs(t, err, errno.EINVAL, "%#v", bad)
		_, _, err = ck.LookupAdd(bad, tFile)
		assert.ErrorIs(t, err, errno.EINVAL)
		_, err = ck.CheckpointObj(c, bad, tFile, c.writeObjref)
		assert.ErrorIs(t, err, errno.EINVAL)
		_, _, err = ck.Collect(c, bad, tFile)
		assert.ErrorIs(t, err, errno.EINVAL)
		assert.ErrorIs(t, rs.Insert(bad, 1, tFile), errno.EINVAL)
	}
	// A pointer the type's Grab refuses (the fake's Grab wants a *fobj).
	_, _, err := ck.LookupAdd(&n, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.Zero(t, ck.Len())

	// Unregistered types.
	for _, ty := range []Type{0, 4, 99} {
		_, _, err := ck.LookupAdd(o, ty)
		assert.ErrorIs(t, err, errno.EINVAL)
		_, err = rs.Fetch(1, ty)
		assert.ErrorIs(t, err, errno.EINVAL)
	}
	_, _, err = ck.Collect(c, o, tBare)
	assert.ErrorIs(t, err, errno.EINVAL, "no Users op")
	assert.ErrorContains(t, err, "collect bare")

	// Objrefs that are not positive.
	for _, ref := range []int32{0, -1, -1 << 31} {
		assert.ErrorIs(t, rs.Insert(o, ref, tFile), errno.EINVAL)
		_, err := rs.Fetch(ref, tFile)
		assert.ErrorIs(t, err, errno.EINVAL)
	}

	// The wrong side.
	_, _, err = rs.LookupAdd(o, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "not allowed on a restart table")
	assert.ErrorIs(t, ck.Insert(o, 1, tFile), errno.EINVAL)
	_, err = ck.Fetch(1, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorIs(t, rs.Leaks(), errno.EINVAL)
	var zero Table[*fctx]
	_, _, err = zero.Lookup(o, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)

	// A refused Grab leaves the table as it was.
	o.grabErr = errno.ENOMEM
	_, _, err = ck.LookupAdd(o, tFile)
	assert.ErrorIs(t, err, errno.ENOMEM)
	assert.ErrorIs(t, rs.Insert(o, 1, tFile), errno.ENOMEM)
	assert.Zero(t, ck.Len())
	assert.Zero(t, rs.Len())
	o.grabErr = nil

	// Duplicate objref on insert.
	require.NoError(t, rs.Insert(o, 1, tFile))
	assert.ErrorIs(t, rs.Insert(&fobj{}, 1, tFile), errno.EINVAL)

	// Use after discard.
	ck.Discard()
	rs.Discard()
	_, _, err = ck.LookupAdd(o, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "discarded")
	_, err = rs.Fetch(1, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorIs(t, ck.Leaks(), errno.EINVAL)
	assert.Equal(t, int64(1), o.refs)
	assert.Empty(t, entries(ck))
	assert.True(t, ck.Discarded())
}

// TestNewNilRegistryPanics: a table without types is a wiring bug.
func TestNewNilRegistryPanics(t *testing.T) {
	assert.Panics(t, func() { NewCheckpoint[*fctx](nil) })
	assert.Panics(t, func() { NewRestart[*fctx](nil) })
}

// TestManyObjects crosses the entry list's chunk boundaries on both sides.
func TestManyObjects(t *testing.T) {
	reg := newRegistry(noCtx)
	ck, rs := NewCheckpoint(reg), NewRestart(reg)
	assert.Equal(t, CheckpointSide, ck.Side())
	assert.Equal(t, "restart", rs.Side().String())
	objs := make([]*fobj, 3*chunkSize+7)
	for i := range objs {
		objs[i] = &fobj{name: "o"}
		ref, first, err := ck.LookupAdd(objs[i], tFile)
		require.NoError(t, err)
		require.True(t, first)
		require.Equal(t, int32(i+1), ref)
		// The restart side gets them in the opposite order.
		require.NoError(t, rs.Insert(objs[i], int32(len(objs)-i), tPipe))
	}
	require.Equal(t, len(objs), ck.Len())
	for i, o := range objs {
		ref, ok, err := ck.Lookup(o, tFile)
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, int32(i+1), ref)
		got, err := rs.Fetch(int32(len(objs)-i), tPipe)
		require.NoError(t, err)
		require.Same(t, o, got)
		require.Equal(t, int64(2), o.refs)
	}
	for _, tab := range []*Table[*fctx]{ck, rs} {
		want := int32(1)
		for e := range tab.All() {
			require.Equal(t, want, e.Objref)
			want++
		}
		require.Equal(t, int32(len(objs)+1), want)
	}
	ck.Discard()
	rs.Discard()
	for _, o := range objs {
		require.Zero(t, o.refs)
	}
}

// TestDiscardFromWithinAnOp: an op that discards the table it was called
// from gets an error back rather than a crash, and no reference leaks.
func TestDiscardFromWithinAnOp(t *testing.T) {
	c := &fctx{}
	reg := NewRegistry[*fctx]()
	ops := fakeOps(noCtx, "file", tFile)
	ops.Checkpoint = func(c *fctx, obj any) error { c.tab.Discard(); return nil }
	ops.Restore = func(c *fctx) (any, error) {
		c.tab.Discard()
		o := c.plan[0].obj
		o.refs++
		return o, nil
	}
	require.NoError(t, reg.Register(ops))

	o := &fobj{name: "o"}
	c.tab = NewCheckpoint(reg)
	_, err := c.tab.CheckpointObj(c, o, tFile, c.writeObjref)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "discarded while writing")
	assert.Zero(t, o.refs)

	c.tab = NewRestart(reg)
	c.plan = []restorePlan{{obj: o}}
	_, err = c.tab.RestoreObj(c, 1, tFile)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "discarded while restoring")
	assert.Zero(t, o.refs)
}

// TestEntryStaysSmall: the entry layout is part of the benchmark's story;
// this catches a field added without thought.
func TestEntryStaysSmall(t *testing.T) {
	assert.Equal(t, uintptr(32), unsafe.Sizeof(entry{}))
}

// outer and its first field share an address: two objects the checkpoint
// side must tell apart although its index is keyed by the pointer.
type inner struct{ refs int64 }

type outer struct {
	in   inner
	refs int64
}

func TestObjectsSharingAnAddress(t *testing.T) {
	const tOuter, tInner Type = 1, 2
	reg := NewRegistry[struct{}]()
	require.NoError(t, reg.Register(Ops[struct{}]{Name: "outer", Type: tOuter,
		Grab: func(obj any) error { obj.(*outer).refs++; return nil },
		Drop: func(obj any) { obj.(*outer).refs-- }}))
	require.NoError(t, reg.Register(Ops[struct{}]{Name: "inner", Type: tInner,
		Grab: func(obj any) error { obj.(*inner).refs++; return nil },
		Drop: func(obj any) { obj.(*inner).refs-- }}))
	for _, innerFirst := range []bool{false, true} {
		o := &outer{}
		require.Equal(t, unsafe.Pointer(o), unsafe.Pointer(&o.in))
		tab := NewCheckpoint(reg)
		type call struct {
			obj any
			typ Type
		}
		calls := []call{{o, tOuter}, {&o.in, tInner}}
		if innerFirst {
			calls[0], calls[1] = calls[1], calls[0]
		}
		for round := range 2 {
			for i, c := range calls {
				ref, first, err := tab.LookupAdd(c.obj, c.typ)
				require.NoError(t, err)
				assert.Equal(t, int32(i+1), ref, "innerFirst %v, round %d, call %d", innerFirst, round, i)
				assert.Equal(t, round == 0, first)
				ref, ok, err := tab.Lookup(c.obj, c.typ)
				require.NoError(t, err)
				assert.True(t, ok)
				assert.Equal(t, int32(i+1), ref)
			}
		}
		// Each under the other's type is the caller's mistake, not a hit.
		_, _, err := tab.LookupAdd(o, tInner)
		assert.ErrorIs(t, err, errno.EINVAL)
		_, _, err = tab.LookupAdd(&o.in, tOuter)
		assert.ErrorIs(t, err, errno.EINVAL)
		assert.Equal(t, 2, tab.Len())
		assert.Equal(t, int64(1), o.refs)
		assert.Equal(t, int64(1), o.in.refs)
		tab.Discard()
		assert.Equal(t, int64(0), o.refs)
		assert.Equal(t, int64(0), o.in.refs)
	}
}

// TestSlotsServeOneTableAtATime: an object's slot leads the first table
// that enters it to its entry; a second table alive at the same time, or
// one after a table that was never discarded, keeps the object in its
// hash index, and each finds its own entry; Discard gives the slot back.
func TestSlotsServeOneTableAtATime(t *testing.T) {
	reg := newRegistry(func() *fctx { return &fctx{} })
	a, b, c := &fobj{name: "a"}, &fobj{name: "b"}, &fobj{name: "c"}
	first, second := NewCheckpoint(reg), NewCheckpoint(reg)
	refs := func(tab *Table[*fctx], objs ...*fobj) []int32 {
		var out []int32
		for _, o := range objs {
			ref, _, err := tab.LookupAdd(o, tFile)
			require.NoError(t, err)
			out = append(out, ref)
		}
		return out
	}
	assert.Equal(t, []int32{1, 2}, refs(first, a, b))
	assert.Equal(t, []int32{1, 2, 3}, refs(second, b, c, a)) // b and a in second's index, c in its slot
	assert.Equal(t, []int32{1, 2}, refs(first, a, b))
	assert.Equal(t, []int32{1, 2, 3}, refs(second, b, c, a))
	_, ok, err := first.Lookup(c, tFile)
	require.NoError(t, err)
	assert.False(t, ok, "c is in second's slot, not in first")
	first.Discard()
	assert.Nil(t, a.slot.e)
	assert.NotNil(t, c.slot.e)
	assert.Equal(t, []int32{1, 2, 3}, refs(second, b, c, a))

	// second is never discarded: a third table finds c's slot taken by it.
	third := NewCheckpoint(reg)
	assert.Equal(t, []int32{1, 2}, refs(third, c, a))
	assert.Equal(t, []int32{1, 2}, refs(third, c, a))
	assert.Equal(t, int64(2), c.refs, "second's and third's")
	third.Discard()
	assert.Equal(t, int64(1), c.refs)
	assert.Equal(t, []int32{1, 2, 3}, refs(second, b, c, a))
	second.Discard()
	assert.Nil(t, c.slot.e)
}
