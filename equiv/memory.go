package equiv

import (
	"bytes"
	"fmt"

	"github.com/ckptsim/ckptsim/sim/kernel"
)

// This file compares address spaces (design section 2.6): which tasks
// share one, each VMA list and break exactly, what each VMA maps (the
// same open file, by the file isomorphism, or the same segment at the same
// offset), the anon_vma identities that decide later merges, and every
// page that has a frame: presence, bytes, map count and frame identity. A
// frame is paired like any shared object, so the partition of pages into
// frames (which pages share one copy on write, which segment page a
// private page still is) must be the same in both worlds: this is what
// `sameframe` shows, and what linux-cr and CRIU lose.

// mm compares the address spaces of a task, p naming it.
func (c *comparer) mm(p string, ta, tb *kernel.TaskView) {
	if (ta.MM == 0) != (tb.MM == 0) {
		c.diff(p+" has an address space", ta.MM != 0, tb.MM != 0)
		return
	}
	if ta.MM == 0 || !c.pair(PairMM, p+" address space", ta.MM, tb.MM) {
		return
	}
	p += " address space"
	ma, mb := c.a.MMs[ta.MM], c.b.MMs[tb.MM]
	c.same(p+" references", ma.Refs, mb.Refs)
	c.same(p+" start_brk", hex(ma.StartBrk), hex(mb.StartBrk))
	c.same(p+" break", hex(ma.Brk), hex(mb.Brk))
	c.same(p+" VMAs", len(ma.VMAs), len(mb.VMAs))
	for i := range min(len(ma.VMAs), len(mb.VMAs)) {
		c.vma(fmt.Sprintf("%s vma %#x", p, ma.VMAs[i].Start), ma.VMAs[i], mb.VMAs[i])
	}
	c.pages(p+" page", ma.Pages, mb.Pages)
}

func (c *comparer) vma(p string, va, vb kernel.VMAView) {
	c.same(p+" range", fmt.Sprintf("%#x-%#x", va.Start, va.End), fmt.Sprintf("%#x-%#x", vb.Start, vb.End))
	c.same(p+" protection", va.Prot, vb.Prot)
	c.same(p+" flags", va.Flags, vb.Flags)
	c.same(p+" heap", va.Heap, vb.Heap)
	c.same(p+" page offset", hex(va.PgOff), hex(vb.PgOff))
	c.same(p+" maps line", va.Line, vb.Line)
	c.same(p+" anon_vma chain", va.Chain, vb.Chain)
	if (va.Anon == 0) != (vb.Anon == 0) {
		c.diff(p+" has an anon_vma", va.Anon != 0, vb.Anon != 0)
	} else if va.Anon != 0 {
		c.pair(PairAnonVMA, p+" anon_vma", va.Anon, vb.Anon)
	}
	if (va.File == 0) != (vb.File == 0) {
		c.diff(p+" maps a file", va.File != 0, vb.File != 0)
	} else if va.File != 0 && c.pair(PairFile, p+" file", va.File, vb.File) {
		c.file(p+" file", c.a.Files[va.File], c.b.Files[vb.File])
	}
	if (va.Segment == 0) != (vb.Segment == 0) {
		c.diff(p+" maps a segment", va.Segment != 0, vb.Segment != 0)
	} else if va.Segment != 0 && c.pair(PairSegment, p+" segment", va.Segment, vb.Segment) {
		sa, sb := c.a.Segments[va.Segment], c.b.Segments[vb.Segment]
		c.same(p+" segment references", sa.Refs, sb.Refs)
		c.same(p+" segment pages", sa.Pages, sb.Pages)
		c.pages(p+" segment page", sa.Frames, sb.Frames)
	}
}

// pages compares the pages that have frames, in order: the same pages
// (no page materialised or lost), the same bytes and map counts, and the
// same frames, paired.
func (c *comparer) pages(p string, pa, pb []kernel.PageView) {
	i, j := 0, 0
	for i < len(pa) || j < len(pb) {
		switch {
		case j == len(pb) || i < len(pa) && pa[i].Addr < pb[j].Addr:
			c.diff(fmt.Sprintf("%s %#x has a frame", p, pa[i].Addr), true, false)
			i++
		case i == len(pa) || pb[j].Addr < pa[i].Addr:
			c.diff(fmt.Sprintf("%s %#x has a frame", p, pb[j].Addr), false, true)
			j++
		default:
			a, b := pa[i], pb[j]
			pp := fmt.Sprintf("%s %#x", p, a.Addr)
			c.same(pp+" map count", a.MapCount, b.MapCount)
			if !bytes.Equal(a.Data, b.Data) {
				c.diff(pp+" bytes", short(a.Data), short(b.Data))
			}
			c.pair(PairFrame, pp+" frame", a.Frame, b.Frame)
			i++
			j++
		}
	}
}

func hex(v uint64) string { return fmt.Sprintf("%#x", v) }
