package objhash

import (
	"testing"

	"github.com/ckptsim/ckptsim/internal/cputime"
)

// The benchmarks set LookupAdd beside a bare map[any]int32 doing the same
// job: find the pointer, and on a miss assign the next number and bump the
// object's count (which is all Grab does here).

type bobj struct{ refs int64 }

const benchThing Type = 1

func benchRegistry() *Registry[struct{}] {
	reg := NewRegistry[struct{}]()
	err := reg.Register(Ops[struct{}]{
		Name: "thing",
		Type: benchThing,
		Grab: func(obj any) error { obj.(*bobj).refs++; return nil },
		Drop: func(obj any) { obj.(*bobj).refs-- },
	})
	if err != nil {
		panic(err)
	}
	return reg
}

// presentSet is how many objects the "present" cases cycle through.
const presentSet = 1024

func benchObjects(n int) []*bobj {
	objs := make([]*bobj, n)
	for i := range objs {
		objs[i] = &bobj{}
	}
	return objs
}

var sinkRef int32

// mapLookupAdd is the baseline: what LookupAdd does, on a bare map.
func mapLookupAdd(m map[any]int32, o *bobj) int32 {
	if ref, ok := m[o]; ok {
		return ref
	}
	o.refs++
	ref := int32(len(m) + 1)
	m[o] = ref
	return ref
}

func tableLookupAdd(tab *Table[struct{}], o *bobj) int32 {
	ref, _, err := tab.LookupAdd(o, benchThing)
	if err != nil {
		panic(err)
	}
	return ref
}

// A benchCase does its setup for n operations and returns the loop that
// performs them, so that the setup stays out of the measurement.
type benchCase func(n int) (loop func())

func tableNew(n int) func() {
	objs := benchObjects(n)
	tab := NewCheckpoint(benchRegistry())
	return func() {
		for _, o := range objs {
			sinkRef = tableLookupAdd(tab, o)
		}
	}
}

func tablePresent(n int) func() {
	objs := benchObjects(presentSet)
	tab := NewCheckpoint(benchRegistry())
	for _, o := range objs {
		tableLookupAdd(tab, o)
	}
	return func() {
		for i := range n {
			sinkRef = tableLookupAdd(tab, objs[i%presentSet])
		}
	}
}

// sobj is a bench object with a Slot, as kernel objects have.
type sobj struct {
	bobj
	slot Slot
}

func (o *sobj) ObjhashSlot() *Slot { return &o.slot }

func tableSlottedPresent(n int) func() {
	objs := make([]*sobj, presentSet)
	reg := NewRegistry[struct{}]()
	if err := reg.Register(Ops[struct{}]{Name: "slotted", Type: benchThing,
		Grab: func(obj any) error { obj.(*sobj).refs++; return nil },
		Drop: func(obj any) { obj.(*sobj).refs-- }}); err != nil {
		panic(err)
	}
	tab := NewCheckpoint(reg)
	for i := range objs {
		objs[i] = &sobj{}
		if _, _, err := tab.LookupAdd(objs[i], benchThing); err != nil {
			panic(err)
		}
	}
	return func() {
		for i := range n {
			ref, _, err := tab.LookupAdd(objs[i%presentSet], benchThing)
			if err != nil {
				panic(err)
			}
			sinkRef = ref
		}
	}
}

func mapNew(n int) func() {
	objs := benchObjects(n)
	m := make(map[any]int32)
	return func() {
		for _, o := range objs {
			sinkRef = mapLookupAdd(m, o)
		}
	}
}

func mapPresent(n int) func() {
	objs := benchObjects(presentSet)
	m := make(map[any]int32)
	for _, o := range objs {
		mapLookupAdd(m, o)
	}
	return func() {
		for i := range n {
			sinkRef = mapLookupAdd(m, objs[i%presentSet])
		}
	}
}

func run(b *testing.B, c benchCase) {
	loop := c(b.N)
	b.ReportAllocs()
	b.ResetTimer()
	loop()
}

func BenchmarkLookupAddNew(b *testing.B)     { run(b, tableNew) }
func BenchmarkLookupAddPresent(b *testing.B) { run(b, tablePresent) }
func BenchmarkMapNew(b *testing.B)           { run(b, mapNew) }
func BenchmarkMapPresent(b *testing.B)       { run(b, mapPresent) }

// tableFind is the restart side's hot path: Find of objrefs restored
// before, beside mapFind, a bare map from objref to object.
func tableFind(n int) func() {
	tab := NewRestart(benchRegistry())
	for ref := int32(1); ref <= presentSet; ref++ {
		if err := tab.Insert(&bobj{}, ref, benchThing); err != nil {
			panic(err)
		}
	}
	return func() {
		for i := range n {
			obj, _, err := tab.Find(int32(i%presentSet)+1, benchThing)
			if err != nil {
				panic(err)
			}
			sinkObj = obj
		}
	}
}

func mapFind(n int) func() {
	m := make(map[int32]any)
	for ref := int32(1); ref <= presentSet; ref++ {
		m[ref] = &bobj{}
	}
	return func() {
		for i := range n {
			sinkObj = m[int32(i%presentSet)+1]
		}
	}
}

var sinkObj any

func BenchmarkFind(b *testing.B)    { run(b, tableFind) }
func BenchmarkMapFind(b *testing.B) { run(b, mapFind) }

// BenchmarkLookupAddRatio times each table case against its map case,
// 2^18 operations each, and reports how many times slower the table is as
// x-new, x-present (objects without a Slot, found by the hash index),
// x-present-slotted (objects with one, as kernel objects have) and x-find
// (restart's Find). Each ratio is the median of five
// rounds, the table and the map alternating, each timed in CPU time: the
// machine is shared, and alternating puts both under the same load. Its
// own ns/op is all the rounds together and means little.
func BenchmarkLookupAddRatio(b *testing.B) {
	// A fixed number of operations a round, whatever b.N: make bench
	// runs each benchmark once.
	const ops = 1 << 18
	timed := func(c benchCase) float64 {
		loop := c(ops)
		return float64(cputime.Of(1, loop))
	}
	ratio := func(table, bare benchCase) float64 {
		var rs []float64
		for range 5 {
			rs = append(rs, timed(table)/timed(bare))
		}
		return cputime.Median(rs)
	}
	b.ReportMetric(ratio(tableNew, mapNew), "x-new")
	b.ReportMetric(ratio(tablePresent, mapPresent), "x-present")
	b.ReportMetric(ratio(tableSlottedPresent, mapPresent), "x-present-slotted")
	b.ReportMetric(ratio(tableFind, mapFind), "x-find")
}
