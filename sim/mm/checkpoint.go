package mm

import (
	"fmt"
	"slices"
	"sync/atomic"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// This file is how address spaces are saved and restored, with the exact
// identity of every page frame, which neither linux-cr nor CRIU keeps.
//
// An address space (MM) is a shared object (tasks that share it by
// CLONE_VM refer to one objref): its break, then its VMAs in address order,
// each right after the objects it maps (its file, or its segment, saved on
// their first encounter, before the VMA that meets them), each followed by
// the runs of its private pages. A segment of shared anonymous memory is a
// shared object too: its size, then the runs of its pages.
//
// Frames are numbered like objrefs, from 1 in order of first encounter,
// across the whole image: the first time a frame is met its bytes are
// written (a run of kind 1, "data"), and every later page that maps it
// names its number (kind 2, "frames"). So a frame that a hundred forked
// tasks share copy on write is written once and restored as one frame
// mapped a hundred times; restart installs each frame where the image
// says, and the copy-on-write sharing is exactly what it was.
//
// What is not saved: the pages of shared file mappings, which are the
// file's own (on the disk restart is given, checked by the file's size
// and change counter), and the private pages a task never wrote (no frame:
// they read the file, or zeros). The bytes a store through a shared mapping
// left past the end of a file, in its last page, live in memory only and
// go with the file's FILE record (package vfs).

// The object types of this package: their numbers in OBJREF records.
const (
	ObjMM      object.Type = 6
	ObjSegment object.Type = 7
)

// The record types of this package; their numbers are part of the format.
const (
	RecMM      image.Type = 50
	RecVMA     image.Type = 51
	RecPages   image.Type = 52
	RecSegment image.Type = 53
)

// MMRecord is the MM record: an address space's break; exactly Vmas VMA
// records follow.
type MMRecord struct {
	StartBrk uint64 `doc:"where the heap starts (start_brk), page-aligned"`
	Brk      uint64 `doc:"the program break, at or above StartBrk"`
	Vmas     uint32 `doc:"number of VMA records that follow"`
	Pad      uint32 `doc:"zero"`
}

// VMARecord is the VMA record: one mapping, in address order; the PAGES
// records of its private pages follow.
type VMARecord struct {
	Start   uint64 `doc:"first address, page-aligned"`
	End     uint64 `doc:"the address after the last page, page-aligned, at most TASK_SIZE"`
	PgOff   uint64 `doc:"page offset of Start in its file or segment (for private anonymous memory, the page number it was mapped at)"`
	Prot    uint32 `doc:"protection: 1 read, 2 write, 4 exec"`
	Flags   uint32 `doc:"1 shared, 2 may write, 4 accounted, 8 no reserve, 16 no huge pages (MAP_STACK), 32 random read, 64 sequential read"`
	File    int32  `doc:"objref of the open file it maps; 0 for anonymous memory"`
	Segment int32  `doc:"objref of the shared anonymous segment it maps; 0 otherwise"`
	Anon    uint32 `doc:"its anon_vma, numbered from 1 within the address space in order of first appearance; 0 for none"`
	Chain   uint32 `doc:"the length of its anon_vma chain (more than 1 in a child after fork); 0 without an anon_vma"`
	Runs    uint32 `doc:"number of PAGES records that follow"`
	Pad     uint32 `doc:"zero"`
}

// SegmentRecord is the SEGMENT record: a segment of shared anonymous
// memory; the PAGES records of its frames follow.
type SegmentRecord struct {
	Pages uint64 `doc:"size in pages"`
	Runs  uint32 `doc:"number of PAGES records that follow"`
	Pad   uint32 `doc:"zero"`
}

// PagesRecord is the PAGES record: a run of consecutive pages and their
// frames.
type PagesRecord struct {
	Addr  uint64 `doc:"the run's first address (in a segment: its offset in bytes), page-aligned"`
	Count uint32 `doc:"pages in the run, 1 to 256"`
	Kind  uint16 `doc:"1: new frames, numbered on from the last one, whose bytes follow; 2: frames met before, First to First+Count-1"`
	Pad   uint16 `doc:"zero"`
	First uint32 `doc:"kind 2: the first frame's number; else 0"`
	Pad2  uint32 `doc:"zero"`
}

// Kinds of runs.
const (
	runData   = 1
	runFrames = 2
	maxRun    = 256 // pages in one run: a 1 MiB tail at most
)

// The kinds of the memory records.
var (
	MMKind = image.Define[MMRecord](image.Spec{
		Type: RecMM, Name: "MM", Doc: "An address space.", Object: ObjMM,
		Place:   "after the address space's OBJREF, before the TASK_MM record of the first task that has it; its VMA records follow.",
		Meaning: map[string]image.Meaning{"StartBrk": {Hex: true}, "Brk": {Hex: true}},
		Count:   image.Count{Name: "address spaces"},
		Label:   mmLabel,
	})
	VMAKind = image.Define[VMARecord](image.Spec{
		Type: RecVMA, Name: "VMA", Doc: "A mapping of an address space.", Object: ObjMM,
		Place: "in its address space's state, in address order, after the records of the file or segment it maps when this is their first encounter.",
		Meaning: map[string]image.Meaning{
			"Start": {Hex: true}, "End": {Hex: true}, "PgOff": {Hex: true},
			"Prot":    {Format: func(v uint64) string { return Prot(v).String() }},
			"Flags":   {Format: func(v uint64) string { return Flags(v).String() }},
			"File":    {Ref: vfs.ObjFile},
			"Segment": {Ref: ObjSegment},
		},
		Count: image.Count{Name: "VMAs"},
	})
	SegmentKind = image.Define[SegmentRecord](image.Spec{
		Type: RecSegment, Name: "SEGMENT", Doc: "A segment of shared anonymous memory.", Object: ObjSegment,
		Place: "after the segment's OBJREF, before the VMA that first maps it; its PAGES records follow.",
		Count: image.Count{Name: "segments"},
		Label: segmentLabel,
	})
	PagesKind = image.Define[PagesRecord](image.Spec{
		Type: RecPages, Name: "PAGES", Doc: "A run of pages and their frames.",
		Place: "after a VMA record (its private pages, in address order) or a SEGMENT record.",
		Meaning: map[string]image.Meaning{
			"Addr": {Hex: true},
			"Kind": {Names: map[uint64]string{runData: "data", runFrames: "frames"}},
		},
		Tail:  image.TailSpec{Doc: "kind 1: the pages' bytes, 4096 each", Max: maxRun * PageSize, Parts: []image.TailPart{{Name: "data"}}},
		Count: image.Count{Name: "page bytes", Bytes: true},
	})
)

// MMLabel says what an address space holds, in a few lines for a picture:
// how many VMAs and how much they map, how many of its private pages were
// written (have a frame: those an image saves with it, or names as saved
// before), and the break when it moved. The MM record's spec labels an
// image's address space with it (image.Spec.Label); package graph labels a
// running world's with it too, so that the two agree.
func MMLabel(vmas int, mapped uint64, written int, startBrk, brk uint64) []string {
	label := []string{fmt.Sprintf("%s (%d KiB)", plural(vmas, "VMA"), mapped/1024)}
	if vmas == 0 {
		label[0] = "no VMAs"
	}
	if written > 0 {
		label = append(label, plural(written, "page")+" written")
	}
	if brk != startBrk {
		label = append(label, fmt.Sprintf("brk %#x", brk))
	}
	return label
}

// SegmentLabel says what a segment of shared anonymous memory holds, for a
// picture: its size in pages, and how many of them were written (have a
// frame). Its spec and package graph label segments with it.
func SegmentLabel(pages int64, written int) []string {
	s := plural(int(pages), "page")
	if written > 0 {
		s += fmt.Sprintf(", %d written", written)
	}
	return []string{s}
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// mmLabel is MMLabel of an address space's records: its MM record, its VMA
// records and the PAGES records of their private pages. It trusts no
// length: a record that does not decode is not counted.
func mmLabel(state []*image.Record) []string {
	var m MMRecord // Record.Decode: the kind refers to this function
	if len(state) == 0 || state[0].Decode(&m) != nil {
		return nil
	}
	vmas, mapped, written := 0, uint64(0), 0
	for _, r := range state[1:] {
		var v VMARecord
		var p PagesRecord
		switch {
		case r.Type == RecVMA && r.Decode(&v) == nil:
			vmas++
			if v.End > v.Start {
				mapped += v.End - v.Start
			}
		case r.Type == RecPages && r.Decode(&p) == nil:
			written += int(p.Count)
		}
	}
	return MMLabel(vmas, mapped, written, m.StartBrk, m.Brk)
}

// segmentLabel is SegmentLabel of a segment's records: its SEGMENT record
// and the PAGES records of its frames.
func segmentLabel(state []*image.Record) []string {
	var s SegmentRecord
	if len(state) == 0 || state[0].Decode(&s) != nil {
		return nil
	}
	written := 0
	for _, r := range state[1:] {
		var p PagesRecord
		if r.Type == RecPages && r.Decode(&p) == nil {
			written += int(p.Count)
		}
	}
	return SegmentLabel(int64(s.Pages), written)
}

func init() {
	object.Register(object.Ops{Type: ObjMM, Name: "mm", Checkpoint: checkpointMM, Restore: restoreMM, Collect: collectMM})
	object.Register(object.Ops{Type: ObjSegment, Name: "segment", Checkpoint: checkpointSegment, Restore: restoreSegment})
}

// frames numbers the frames of one checkpoint or restart, by first
// encounter: number n is the n-th frame whose bytes the image holds.
type frames struct {
	// Checkpoint: gen names this checkpoint in the frames' stamps, count
	// is the last number given; runs is scratch space for one VMA's.
	gen   uint64
	count uint32
	runs  []run
	// cuts remembers how each stretch of a page table was cut, by its
	// first frame: fork copies page tables, so a hundred forked tasks
	// hold a hundred stretches of the same frames at the same places, and
	// comparing a stretch's entries with one cut before (a scan of
	// pointers side by side) costs less than visiting each frame again.
	cuts map[*Frame]cutOf
	// Restart: frame n is list[n-1], with a reference.
	list []*Frame
}

// stamp is a frame's number in the checkpoint of generation gen.
type stamp struct {
	gen uint64
	n   uint32
}

// generations names checkpoints, so that a stamp left by an earlier one
// means nothing to a later one: no pass is needed to clear them.
var generations atomic.Uint64

var framesKey = object.Key[frames]{Name: "mm frames"}

func framesOf(ctx object.Locals) *frames {
	fr := object.Local(ctx, &framesKey)
	if fr.gen == 0 {
		fr.gen = generations.Add(1)
	}
	return fr
}

// number returns f's number in this checkpoint, and whether f was met
// before; a frame met now gets the next number.
func (fr *frames) number(f *Frame) (uint32, bool) {
	if f.saved.gen == fr.gen {
		return f.saved.n, true
	}
	fr.count++
	f.saved = stamp{fr.gen, fr.count}
	return fr.count, false
}

// Release drops restart's reference to every frame it made: the pages
// that map them hold theirs.
func (fr *frames) Release() {
	for _, f := range fr.list {
		f.Put()
	}
	fr.list = nil
}

// Limits are the kernel's bounds a restored address space must respect;
// the engine sets them for a restart with SetLimits.
type Limits struct {
	MaxMapCount int
}

var limitsKey = object.Key[Limits]{Name: "mm limits"}

// SetLimits gives one restart the kernel's limits.
func SetLimits(ctx object.Locals, l Limits) { *object.Local(ctx, &limitsKey) = l }

// run is a run of pages: from addr (in a segment, the offset), one frame
// each, numbered first on, met now (data, whose bytes go with the run) or
// before.
type run struct {
	addr  uint64
	fs    []*Frame
	first uint32
	data  bool
}

// cut appends the runs of es, the page-table entries of consecutive pages
// from page number first (nil where a page has no frame), numbering the
// frames met for the first time: consecutive pages, at most maxRun, whose
// frames are all new (and so numbered on), or all met before with
// consecutive numbers. The runs must then be written, in order.
func (fr *frames) cut(runs []run, first uint64, es []*Frame) []run {
	for i := 0; i < len(es); {
		if es[i] == nil {
			i++
			continue
		}
		n, known := fr.number(es[i])
		j := i + 1
		for ; j < len(es) && j-i < maxRun && es[j] != nil; j++ {
			f := es[j]
			if known {
				if f.saved.gen != fr.gen || f.saved.n != n+uint32(j-i) {
					break
				}
				continue
			}
			if f.saved.gen == fr.gen {
				break // met before, or twice in this run
			}
			fr.number(f)
		}
		runs = append(runs, run{(first + uint64(i)) * PageSize, es[i:j], n, !known})
		i = j
	}
	return runs
}

// cutOf is how a stretch of page-table entries es was cut: its runs, with
// addresses counted from the stretch's first page.
type cutOf struct {
	es   []*Frame
	runs []run
}

// cutAgain appends the runs of es, as cut does, reusing the cut of an
// earlier stretch with the same entries when there is one. Every frame of
// such a stretch has been numbered, so cut would now make runs of frames
// met before only, each as long as the numbers go on by one (and maxRun
// allows): the earlier runs, in order, are those runs' pieces, so joining
// each to the one before when the pages and the numbers follow on gives
// them (TestCutAgainIsCut).
func (fr *frames) cutAgain(runs []run, first uint64, es []*Frame) []run {
	i := slices.IndexFunc(es, func(f *Frame) bool { return f != nil })
	if i < 0 {
		return runs
	}
	if c, ok := fr.cuts[es[i]]; ok && len(c.es) == len(es) && (&c.es[0] == &es[0] || slices.Equal(c.es, es)) {
		base := len(runs)
		for _, rn := range c.runs {
			off := rn.addr / PageSize
			rn.addr += first * PageSize
			rn.fs = es[off : off+uint64(len(rn.fs))]
			rn.data = false
			for len(rn.fs) > 0 {
				if n := len(runs); n > base {
					p := &runs[n-1]
					if p.addr+uint64(len(p.fs))*PageSize == rn.addr && p.first+uint32(len(p.fs)) == rn.first && len(p.fs) < maxRun {
						k := min(maxRun-len(p.fs), len(rn.fs))
						p.fs = p.fs[:len(p.fs)+k]
						rn.addr += uint64(k) * PageSize
						rn.first += uint32(k)
						rn.fs = rn.fs[k:]
						continue
					}
				}
				runs = append(runs, rn)
				break
			}
		}
		return runs
	}
	n := len(runs)
	runs = fr.cut(runs, first, es)
	if _, ok := fr.cuts[es[i]]; !ok {
		if fr.cuts == nil {
			fr.cuts = map[*Frame]cutOf{}
		}
		own := slices.Clone(runs[n:])
		for k := range own {
			own[k].addr -= first * PageSize
		}
		fr.cuts[es[i]] = cutOf{es, own}
	}
	return runs
}

// runsOf returns the runs of the pages of t in [from, to), numbering new
// frames; the slice is reused by the next call.
func (fr *frames) runsOf(t *pageTable, from, to uint64) []run {
	runs := fr.runs[:0]
	t.blocks(from, to, func(first uint64, es []*Frame) { runs = fr.cutAgain(runs, first, es) })
	fr.runs = runs
	return runs
}

// writeRuns writes runs of pages.
func writeRuns(ctx object.Saver, runs []run) error {
	var data [][]byte
	for _, rn := range runs {
		rec := PagesRecord{Addr: rn.addr, Count: uint32(len(rn.fs)), Kind: runFrames, First: rn.first}
		data = data[:0]
		if rn.data {
			rec.Kind, rec.First = runData, 0
			for _, f := range rn.fs {
				data = append(data, f.data[:])
			}
		}
		if err := PagesKind.Write(ctx, &rec, data...); err != nil {
			return err
		}
		logRun(ctx, &rec, rn.first)
	}
	return nil
}

// hexAddr prints an address in the debug log as maps do.
type hexAddr uint64

func (a hexAddr) String() string { return fmt.Sprintf("%#x", uint64(a)) }

// logRun writes a run to the debug log: its pages and its frames, new or
// met before, from number first on.
func logRun(log object.Log, rec *PagesRecord, first uint32) {
	if !log.Debugging() {
		return
	}
	what := "frames met before"
	if rec.Kind == runData {
		what = "new frames"
	}
	log.Debug("memory", "run", "addr", hexAddr(rec.Addr), "pages", rec.Count, "kind", what, "first frame", first)
}

// logVMA writes a VMA to the debug log, as /proc/PID/maps would show it,
// with the objrefs of what it maps.
func logVMA(log object.Log, rec *VMARecord) {
	if !log.Debugging() {
		return
	}
	log.Debug("memory", "vma", "start", hexAddr(rec.Start), "end", hexAddr(rec.End), "prot", Prot(rec.Prot),
		"flags", Flags(rec.Flags), "pgoff", hexAddr(rec.PgOff), "file", rec.File, "segment", rec.Segment, "runs", rec.Runs)
}

// checkpointMM saves an address space: MM, then each VMA after what it
// maps, with the runs of its private pages.
func checkpointMM(ctx object.Saver, obj any) error {
	m := obj.(*MM)
	if err := MMKind.Write(ctx, &MMRecord{StartBrk: m.startBrk, Brk: m.brk, Vmas: uint32(len(m.vmas))}); err != nil {
		return err
	}
	anons := map[*AnonVMA]uint32{}
	for _, v := range m.vmas {
		if err := checkpointVMA(ctx, v, anons); err != nil {
			return fmt.Errorf("vma %#x: %w", v.start, err)
		}
	}
	return nil
}

func checkpointVMA(ctx object.Saver, v *VMA, anons map[*AnonVMA]uint32) error {
	rec := VMARecord{Start: v.start, End: v.end, PgOff: v.pgoff, Prot: uint32(v.prot), Flags: uint32(v.flags), Chain: uint32(v.chain)}
	var err error
	if v.file != nil {
		if rec.File, err = ctx.Save(v.file, vfs.ObjFile); err != nil {
			return err
		}
	}
	if v.seg != nil {
		if rec.Segment, err = ctx.Save(v.seg, ObjSegment); err != nil {
			return err
		}
	}
	if v.anon != nil {
		if anons[v.anon] == 0 {
			anons[v.anon] = uint32(len(anons) + 1)
		}
		rec.Anon = anons[v.anon]
	}
	// The VMA's runs, cut after what it maps is saved: a segment's frames
	// come first in the numbering, as in the image.
	runs := framesOf(ctx).runsOf(&v.mm.pages, pageOf(v.start), pageOf(v.end))
	rec.Runs = uint32(len(runs))
	if err := VMAKind.Write(ctx, &rec); err != nil {
		return err
	}
	logVMA(ctx, &rec)
	return writeRuns(ctx, runs)
}

// collectMM counts what the address space's VMAs map: their files and
// segments. The frames it shares copy on write with a task outside are no
// leak (nothing shows the sharing); they are saved as the container's own.
func collectMM(ctx object.Collector, obj any) error {
	for _, v := range obj.(*MM).vmas {
		at := object.AtAddr("vma", v.start)
		if v.file != nil {
			if err := ctx.Collect(v.file, vfs.ObjFile, at); err != nil {
				return err
			}
		}
		if v.seg != nil {
			if err := ctx.Collect(v.seg, ObjSegment, at); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkpointSegment saves a segment: its size, then the runs of its pages
// (by offset).
func checkpointSegment(ctx object.Saver, obj any) error {
	s := obj.(*Segment)
	runs := framesOf(ctx).runsOf(&s.frames, 0, uint64(s.pages))
	if err := SegmentKind.Write(ctx, &SegmentRecord{Pages: uint64(s.pages), Runs: uint32(len(runs))}); err != nil {
		return err
	}
	return writeRuns(ctx, runs)
}

// readRuns reads n runs of pages and calls install for each page with its
// frame: pages in increasing order, each run inside [lo, hi), frames new
// (made from the run's bytes, numbered on) or named by numbers already
// given. Nothing is made before a run is checked.
func readRuns(ctx object.Restorer, n uint32, lo, hi uint64, install func(addr uint64, fs []*Frame) error) error {
	fr := object.Local(ctx, &framesKey)
	next := lo
	for range n {
		rec, r, err := PagesKind.Read(ctx)
		if err != nil {
			return err
		}
		size := uint64(rec.Count) * PageSize
		switch {
		case rec.Count == 0 || rec.Count > maxRun:
			return r.Errorf("a run of %d pages", rec.Count)
		case !aligned(rec.Addr) || rec.Addr < next || rec.Addr+size > hi || rec.Addr+size < rec.Addr:
			return r.Errorf("pages %#x-%#x, where pages %#x-%#x may come, in order", rec.Addr, rec.Addr+size, next, hi)
		case rec.Kind == runData && (rec.First != 0 || uint64(len(r.Tail)) != size):
			return r.Errorf("a run of %d pages of data with %d bytes", rec.Count, len(r.Tail))
		case rec.Kind == runFrames && (len(r.Tail) != 0 || rec.First == 0 || uint64(rec.First)+uint64(rec.Count)-1 > uint64(len(fr.list))):
			return r.Errorf("frames %d to %d, of %d met so far", rec.First, uint64(rec.First)+uint64(rec.Count)-1, len(fr.list))
		case rec.Kind != runData && rec.Kind != runFrames:
			return r.Errorf("a run of kind %d", rec.Kind)
		}
		first := rec.First
		if rec.Kind == runData {
			first = uint32(len(fr.list)) + 1
			for k := range uint64(rec.Count) {
				// The record's bytes are the frames' own: no copy.
				page := (*[PageSize]byte)(r.Tail[k*PageSize : (k+1)*PageSize])
				fr.list = append(fr.list, adoptFrame(ctx.Registry(), page))
			}
		}
		logRun(ctx, &rec, first)
		if err := install(rec.Addr, fr.list[first-1:first-1+rec.Count]); err != nil {
			return r.Wrap(err)
		}
		next = rec.Addr + size
	}
	return nil
}

// restoreMM reads an address space and builds it, VMA by VMA and page by
// page, through the restart constructors, which refuse what the system
// calls could not have built (overlapping, unsorted, mergeable VMAs; a
// file VMA on a file that cannot be mapped so; pages outside a private
// VMA).
func restoreMM(ctx object.Restorer) (any, error) {
	rec, r, err := MMKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	lim := object.Local(ctx, &limitsKey)
	if int64(rec.Vmas) > int64(lim.MaxMapCount)+1 {
		return nil, r.Errorf("%d VMAs, vm.max_map_count is %d", rec.Vmas, lim.MaxMapCount)
	}
	m := New(ctx.Registry(), lim.MaxMapCount)
	if err := m.SetBrk(rec.StartBrk, rec.Brk); err != nil {
		m.Put()
		return nil, r.Wrap(err)
	}
	anons := []*AnonVMA{}
	for range rec.Vmas {
		if err := restoreVMA(ctx, m, &anons); err != nil {
			m.Put()
			return nil, err
		}
	}
	return m, nil
}

func restoreVMA(ctx object.Restorer, m *MM, anons *[]*AnonVMA) error {
	v, r, err := VMAKind.Read(ctx)
	if err != nil {
		return err
	}
	spec := VMASpec{Start: v.Start, End: v.End, PgOff: v.PgOff, Prot: Prot(v.Prot), Flags: Flags(v.Flags), Chain: int(v.Chain)}
	if v.File != 0 {
		obj, err := ctx.Fetch(v.File, vfs.ObjFile)
		if err != nil {
			return r.Wrap(err)
		}
		spec.File = obj.(*vfs.File)
	}
	if v.Segment != 0 {
		obj, err := ctx.Fetch(v.Segment, ObjSegment)
		if err != nil {
			return r.Wrap(err)
		}
		spec.Segment = obj.(*Segment)
	}
	switch {
	case v.Anon > uint32(len(*anons))+1:
		return r.Errorf("anon_vma %d, where %d is the next new one", v.Anon, len(*anons)+1)
	case v.Anon == uint32(len(*anons))+1:
		*anons = append(*anons, NewAnonVMA())
		fallthrough
	case v.Anon > 0:
		spec.Anon = (*anons)[v.Anon-1]
	}
	if v.Runs > 0 && spec.Anon == nil {
		// The first private page gives a VMA its anon_vma.
		return r.Errorf("private pages in a VMA without an anon_vma")
	}
	if err := m.AddVMA(spec); err != nil {
		return r.Wrap(err)
	}
	logVMA(ctx, &v)
	return readRuns(ctx, v.Runs, v.Start, v.End, m.InstallPages)
}

// restoreSegment reads a segment and its frames.
func restoreSegment(ctx object.Restorer) (any, error) {
	rec, r, err := SegmentKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if rec.Pages == 0 || rec.Pages > TaskSize/PageSize {
		return nil, r.Errorf("a segment of %d pages", rec.Pages)
	}
	s := NewSegment(ctx.Registry(), int64(rec.Pages))
	err = readRuns(ctx, rec.Runs, 0, rec.Pages*PageSize, func(off uint64, fs []*Frame) error {
		for i, f := range fs {
			s.Install(int64(off/PageSize)+int64(i), f)
		}
		return nil
	})
	if err != nil {
		s.Put()
		return nil, err
	}
	return s, nil
}
