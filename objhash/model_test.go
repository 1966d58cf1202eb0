package objhash

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// The model: what a checkpoint table and a restart table should hold after
// any sequence of calls, worked out independently of the implementation.

type mstate uint8

const (
	mUnwritten mstate = iota
	mWriting
	mWritten
	mFailed
)

type ckEntry struct {
	o       *fobj
	t       Type
	st      mstate
	err     errno.Errno
	counted int64
}

type ckModel struct {
	entries   []*ckEntry // entries[i] has objref i+1
	idx       map[*fobj]int
	image     []string
	discarded bool
}

type rsEntry struct {
	o *fobj
	t Type
}

type machine struct {
	pool     []*fobj
	trueType map[*fobj]Type
	baseline map[*fobj]int64
	reg      *Registry[*fctx]

	ck  *Table[*fctx]
	ckc *fctx
	ckm *ckModel

	rs          *Table[*fctx]
	rsc         *fctx
	rsm         map[int32]rsEntry
	rsOrder     []int32 // objrefs in the order they entered
	rsDiscarded bool

	dropLog *fctx // every Drop of either table records here
}

// badObjects are never valid table entries.
var badObjects = []any{nil, (*fobj)(nil), fobj{}, 42, "str", []int{1}}

var drawnTypes = []Type{0, tFile, tPipe, tTable, 4, tTask, tBare, 99}

func newMachine(t *rapid.T) *machine {
	m := &machine{trueType: map[*fobj]Type{}, baseline: map[*fobj]int64{}}
	n := rapid.IntRange(2, 8).Draw(t, "objects")
	for i := range n {
		o := &fobj{name: fmt.Sprintf("o%d", i), refs: rapid.Int64Range(1, 3).Draw(t, "refs")}
		if rapid.IntRange(0, 5).Draw(t, "grab fails") == 0 {
			o.grabErr = errno.ENOMEM
		}
		if rapid.IntRange(0, 7).Draw(t, "checkpoint fails") == 0 {
			o.ckptErr = errors.New("disk on fire")
		}
		m.pool = append(m.pool, o)
		m.trueType[o] = rapid.SampledFrom(allTypes).Draw(t, "type")
		m.baseline[o] = o.refs
	}
	// Nested objects: only later ones, so there are no cycles, but with
	// repeats and with sharing.
	for i, o := range m.pool {
		for _, k := range m.pool[i+1:] {
			for range rapid.IntRange(0, 2).Draw(t, "kid refs") {
				o.kids = append(o.kids, kid{k, m.trueType[k]})
			}
		}
	}
	m.dropLog = &fctx{}
	m.reg = newRegistry(func() *fctx { return m.dropLog })
	m.newCk()
	m.newRs()
	return m
}

func (m *machine) newCk() {
	m.ckc = &fctx{}
	m.ck = NewCheckpoint(m.reg)
	m.ckc.tab = m.ck
	m.ckm = &ckModel{idx: map[*fobj]int{}}
}

func (m *machine) newRs() {
	m.rsc = &fctx{}
	m.rs = NewRestart(m.reg)
	m.rsc.tab = m.rs
	m.rsm = map[int32]rsEntry{}
	m.rsOrder = nil
	m.rsDiscarded = false
}

func (m *machine) drawObj(t *rapid.T) any {
	if rapid.IntRange(0, 9).Draw(t, "bad object?") == 0 {
		return badObjects[rapid.IntRange(0, len(badObjects)-1).Draw(t, "bad object")]
	}
	return m.pool[rapid.IntRange(0, len(m.pool)-1).Draw(t, "object")]
}

// drawType is mostly the object's own type, sometimes any type at all,
// registered or not.
func (m *machine) drawType(t *rapid.T, obj any) Type {
	if o, ok := obj.(*fobj); ok && o != nil && rapid.IntRange(0, 4).Draw(t, "any type?") != 0 {
		return m.trueType[o]
	}
	return rapid.SampledFrom(drawnTypes).Draw(t, "type")
}

// drawRef is often an objref already in the restart table, so that
// fetches find something and duplicates happen.
func (m *machine) drawRef(t *rapid.T, label string) int32 {
	if len(m.rsm) > 0 && rapid.Bool().Draw(t, label+" in table?") {
		return rapid.SampledFrom(slices.Sorted(maps.Keys(m.rsm))).Draw(t, label)
	}
	if rapid.IntRange(0, 5).Draw(t, label+" far?") == 0 {
		// Past the restart table's dense index, and some that it reaches
		// once enough objrefs are in: both ways of keeping one.
		return rapid.SampledFrom([]int32{1030, 1040, 5000, 1 << 20, math.MaxInt32}).Draw(t, label)
	}
	return rapid.Int32Range(-1, 10).Draw(t, label)
}

func validObj(obj any) (*fobj, bool) {
	o, ok := obj.(*fobj)
	return o, ok && o != nil
}

// expectRefs is what o's count must be: its own, plus one for being in the
// checkpoint table, plus one for every restart entry holding it.
func (m *machine) expectRefs(o *fobj) int64 {
	n := m.baseline[o]
	if _, in := m.ckm.idx[o]; in && !m.ckm.discarded {
		n++
	}
	for _, e := range m.rsm {
		if e.o == o {
			n++
		}
	}
	return n
}

// Checkpoint side of the model.

func (m *machine) ckArgs(obj any, ty Type) errno.Errno {
	if _, ok := validObj(obj); !ok || m.ckm.discarded || !registered(ty) {
		return errno.EINVAL
	}
	return 0
}

func (m *ckModel) findOrAdd(o *fobj, ty Type) (int, errno.Errno) {
	if i, ok := m.idx[o]; ok {
		if m.entries[i].t != ty {
			return -1, errno.EINVAL
		}
		return i, 0
	}
	if o.grabErr != nil {
		return -1, errno.ENOMEM
	}
	m.entries = append(m.entries, &ckEntry{o: o, t: ty})
	m.idx[o] = len(m.entries) - 1
	return len(m.entries) - 1, 0
}

func (m *ckModel) checkpoint(o *fobj, ty Type) (int32, errno.Errno) {
	i, e := m.findOrAdd(o, ty)
	if e != 0 {
		return 0, e
	}
	en := m.entries[i]
	ref := int32(i + 1)
	switch en.st {
	case mWritten:
		return ref, 0
	case mWriting:
		return 0, errno.ELOOP
	case mFailed:
		return 0, en.err
	}
	en.st = mWriting
	m.image = append(m.image, fmt.Sprintf("objref %d type %d", ref, ty))
	if hasCkpt(ty) {
		var refs []int32
		for _, k := range o.kids {
			r, e := m.checkpoint(k.o, k.t)
			if e != 0 {
				en.st, en.err = mFailed, e
				return 0, e
			}
			refs = append(refs, r)
		}
		if o.ckptErr != nil {
			m.image = append(m.image, "partial "+o.name)
			en.st, en.err = mFailed, errno.EIO
			return 0, errno.EIO
		}
		m.image = append(m.image, fmt.Sprintf("state %s %v", o.name, refs))
	}
	en.st = mWritten
	return ref, 0
}

func (m *ckModel) collect(o *fobj, ty Type) (int32, bool, errno.Errno) {
	if !hasUsers(ty) {
		return 0, false, errno.EINVAL
	}
	i, e := m.findOrAdd(o, ty)
	if e != 0 {
		return 0, false, e
	}
	en := m.entries[i]
	en.counted++
	first := en.counted == 1
	if first && hasCollect(ty) {
		for _, k := range o.kids {
			if _, _, e := m.collect(k.o, k.t); e != 0 {
				return 0, false, e
			}
		}
	}
	return int32(i + 1), first, 0
}

// Restart side of the model.

func (m *machine) rsInsert(obj any, ref int32, ty Type) errno.Errno {
	o, ok := validObj(obj)
	if m.rsDiscarded || ref <= 0 || !registered(ty) || !ok {
		return errno.EINVAL
	}
	if _, dup := m.rsm[ref]; dup {
		return errno.EINVAL
	}
	if o.grabErr != nil {
		return errno.ENOMEM
	}
	m.rsm[ref] = rsEntry{o, ty}
	m.rsOrder = append(m.rsOrder, ref)
	return 0
}

// TestTablesMatchAModel runs random sequences of calls, good and bad, on a
// checkpoint table and a restart table at once, sharing objects, and checks
// every result, the image written, the entries, and every object's count
// against the model after each step. At the end both tables are discarded
// and every count must be back where it started.
func TestTablesMatchAModel(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newMachine(t)
		actions := map[string]func(*rapid.T){
			"ck lookup": func(t *rapid.T) {
				obj := m.drawObj(t)
				ty := m.drawType(t, obj)
				want, wantRef, wantOK := m.ckArgs(obj, ty), int32(0), false
				if want == 0 {
					if i, in := m.ckm.idx[obj.(*fobj)]; in {
						if m.ckm.entries[i].t != ty {
							want = errno.EINVAL
						} else {
							wantRef, wantOK = int32(i+1), true
						}
					}
				}
				ref, ok, err := m.ck.Lookup(obj, ty)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				require.Equal(t, wantRef, ref)
				require.Equal(t, wantOK, ok)
			},
			"ck lookup-add": func(t *rapid.T) {
				obj := m.drawObj(t)
				ty := m.drawType(t, obj)
				want, wantRef, wantFirst := m.ckArgs(obj, ty), int32(0), false
				if want == 0 {
					var i int
					if i, want = m.ckm.findOrAdd(obj.(*fobj), ty); want == 0 {
						wantRef = int32(i + 1)
						if en := m.ckm.entries[i]; en.st == mUnwritten {
							en.st, wantFirst = mWritten, true
						}
					}
				}
				ref, first, err := m.ck.LookupAdd(obj, ty)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				require.Equal(t, wantRef, ref)
				require.Equal(t, wantFirst, first)
			},
			"ck checkpoint": func(t *rapid.T) {
				obj := m.drawObj(t)
				ty := m.drawType(t, obj)
				want, wantRef := m.ckArgs(obj, ty), int32(0)
				if want == 0 {
					wantRef, want = m.ckm.checkpoint(obj.(*fobj), ty)
				}
				ref, err := m.ck.CheckpointObj(m.ckc, obj, ty, m.ckc.writeObjref)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				require.Equal(t, wantRef, ref)
				require.Equal(t, m.ckm.image, m.ckc.image)
			},
			"ck collect": func(t *rapid.T) {
				obj := m.drawObj(t)
				ty := m.drawType(t, obj)
				want, wantRef, wantFirst := m.ckArgs(obj, ty), int32(0), false
				if want == 0 {
					wantRef, wantFirst, want = m.ckm.collect(obj.(*fobj), ty)
				}
				ref, first, err := m.ck.Collect(m.ckc, obj, ty)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				require.Equal(t, wantRef, ref)
				require.Equal(t, wantFirst, first)
			},
			"ck leaks": func(t *rapid.T) {
				err := m.ck.Leaks()
				if m.ckm.discarded {
					require.ErrorIs(t, err, errno.EINVAL)
					return
				}
				var want []Leak
				wantErrno := errno.EINVAL
				for i, en := range m.ckm.entries {
					if !hasUsers(en.t) {
						continue
					}
					users := m.expectRefs(en.o)
					if users-1 == en.counted {
						continue
					}
					want = append(want, Leak{Type: en.t, Name: typeNames[en.t], Objref: int32(i + 1), Users: users, Counted: en.counted})
					if users-1 > en.counted {
						wantErrno = errno.EBUSY
					}
				}
				if want == nil {
					require.NoError(t, err)
					return
				}
				var le *LeakError
				require.ErrorAs(t, err, &le)
				require.Equal(t, want, le.Leaks)
				require.Equal(t, wantErrno, errnoOf(t, err))
			},
			"ck discard": func(t *rapid.T) {
				var want []string
				if !m.ckm.discarded {
					for _, en := range slices.Backward(m.ckm.entries) {
						want = append(want, en.o.name)
					}
				}
				m.dropLog.drops = nil
				m.ck.Discard()
				m.ckm.discarded = true
				require.Zero(t, m.ck.Len())
				require.Equal(t, want, m.dropLog.drops, "drops, in reverse order of entry")
			},
			"ck renew": func(t *rapid.T) {
				if m.ckm.discarded {
					m.newCk()
				}
			},
			"ck wrong side": func(t *rapid.T) {
				o := m.pool[0]
				var err error
				switch rapid.IntRange(0, 2).Draw(t, "call") {
				case 0:
					err = m.ck.Insert(o, 1, tFile)
				case 1:
					_, err = m.ck.Fetch(1, tFile)
				case 2:
					m.ckc.plan = []restorePlan{{obj: o}}
					_, err = m.ck.RestoreObj(m.ckc, 1, tFile)
					m.ckc.plan = nil
				}
				require.ErrorIs(t, err, errno.EINVAL)
			},
			"rs insert": func(t *rapid.T) {
				obj := m.drawObj(t)
				ref := m.drawRef(t, "objref")
				ty := m.drawType(t, obj)
				want := m.rsInsert(obj, ref, ty)
				err := m.rs.Insert(obj, ref, ty)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
			},
			"rs fetch": func(t *rapid.T) {
				ref := m.drawRef(t, "objref")
				e, in := m.rsm[ref]
				ty := rapid.SampledFrom(drawnTypes).Draw(t, "type")
				if in && rapid.Bool().Draw(t, "right type") {
					ty = e.t
				}
				var want errno.Errno
				switch {
				case m.rsDiscarded || ref <= 0 || !registered(ty):
					want = errno.EINVAL
				case !in:
					want = errno.ENOENT // ErrNoObjref
				case e.t != ty:
					want = errno.ENOMSG
				}
				got, err := m.rs.Fetch(ref, ty)
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				if want == 0 {
					require.Same(t, e.o, got)
				} else {
					require.Nil(t, got)
				}
			},
			"rs restore": func(t *rapid.T) {
				ref := m.drawRef(t, "objref")
				ty := rapid.SampledFrom(drawnTypes).Draw(t, "type")
				p := restorePlan{obj: m.pool[rapid.IntRange(0, len(m.pool)-1).Draw(t, "object")]}
				switch rapid.IntRange(0, 6).Draw(t, "restore does") {
				case 0:
					p.err = errno.ENOSPC
				case 1:
					p.err = errors.New("corrupt record")
				case 2:
					p.retNil = true
				case 3, 4:
					p.sibling = m.pool[rapid.IntRange(0, len(m.pool)-1).Draw(t, "sibling")]
					p.sibRef = m.drawRef(t, "sibling objref")
					if rapid.IntRange(0, 3).Draw(t, "sibling takes the objref") == 0 {
						p.sibRef = ref
					}
					p.sibType = rapid.SampledFrom(allTypes).Draw(t, "sibling type")
				}
				_, taken := m.rsm[ref]
				var want errno.Errno
				if m.rsDiscarded || ref <= 0 || !registered(ty) || !hasRestore(ty) || taken {
					want = errno.EINVAL
				} else {
					// Restore runs.
					if p.sibling != nil {
						want = m.rsInsert(p.sibling, p.sibRef, p.sibType)
					}
					if want == 0 && p.err != nil {
						want = errno.ENOSPC
						if _, ok := errno.Of(p.err); !ok {
							want = errno.EIO
						}
					}
					if want == 0 && p.retNil {
						want = errno.EINVAL
					}
					if _, taken := m.rsm[ref]; want == 0 && taken {
						want = errno.EINVAL
					}
					if want == 0 {
						m.rsm[ref] = rsEntry{p.obj, ty}
						m.rsOrder = append(m.rsOrder, ref)
					}
				}
				m.rsc.plan = []restorePlan{p}
				got, err := m.rs.RestoreObj(m.rsc, ref, ty)
				m.rsc.plan = nil
				require.Equal(t, want, errnoOf(t, err), "%v", err)
				if want == 0 {
					require.Same(t, p.obj, got)
				}
			},
			"rs discard": func(t *rapid.T) {
				var want []string
				for _, ref := range slices.Backward(m.rsOrder) {
					want = append(want, m.rsm[ref].o.name)
				}
				m.dropLog.drops = nil
				m.rs.Discard()
				m.rsDiscarded = true
				clear(m.rsm)
				m.rsOrder = nil
				require.Zero(t, m.rs.Len())
				require.Equal(t, want, m.dropLog.drops, "drops, in reverse order of entry")
			},
			"rs renew": func(t *rapid.T) {
				if m.rsDiscarded {
					m.newRs()
				}
			},
			"rs wrong side": func(t *rapid.T) {
				o := m.pool[0]
				var err error
				switch rapid.IntRange(0, 4).Draw(t, "call") {
				case 0:
					_, _, err = m.rs.Lookup(o, tFile)
				case 1:
					_, _, err = m.rs.LookupAdd(o, tFile)
				case 2:
					_, err = m.rs.CheckpointObj(m.rsc, o, tFile, m.rsc.writeObjref)
				case 3:
					_, _, err = m.rs.Collect(m.rsc, o, tFile)
				case 4:
					err = m.rs.Leaks()
				}
				require.ErrorIs(t, err, errno.EINVAL)
			},
			"": func(t *rapid.T) { // the invariants, checked after every action
				for _, o := range m.pool {
					require.Equal(t, m.expectRefs(o), o.refs, "%s's count", o.name)
				}
				got := entries(m.ck)
				if m.ckm.discarded {
					require.Empty(t, got)
				} else {
					require.Len(t, got, len(m.ckm.entries))
					for i, en := range m.ckm.entries {
						g := got[i]
						require.Equal(t, int32(i+1), g.Objref, "objrefs are dense from 1")
						require.Same(t, en.o, g.Obj, "objref %d", i+1)
						require.Equal(t, en.t, g.Type)
						require.Equal(t, typeNames[en.t], g.Name)
						require.Equal(t, en.st == mWritten, g.Checkpointed, "objref %d", i+1)
						require.Equal(t, en.st == mFailed, g.Failed, "objref %d", i+1)
						require.Equal(t, en.counted, g.Collected, "objref %d", i+1)
					}
				}
				got = entries(m.rs)
				refs := slices.Sorted(maps.Keys(m.rsm))
				require.Len(t, got, len(refs))
				for i, r := range refs {
					require.Equal(t, r, got[i].Objref)
					require.Same(t, m.rsm[r].o, got[i].Obj)
					require.Equal(t, m.rsm[r].t, got[i].Type)
					require.True(t, got[i].Checkpointed)
				}
			},
		}
		// A loop of its own rather than t.Repeat, for longer runs than
		// Repeat's default without a flag: misuse and success both need
		// room to happen.
		check := actions[""]
		delete(actions, "")
		names := slices.Sorted(maps.Keys(actions))
		check(t)
		for range rapid.IntRange(10, 150).Draw(t, "steps") {
			actions[rapid.SampledFrom(names).Draw(t, "action")](t)
			check(t)
		}
		m.ck.Discard()
		m.rs.Discard()
		for _, o := range m.pool {
			require.Equal(t, m.baseline[o], o.refs, "%s's count after discard", o.name)
		}
	})
}
