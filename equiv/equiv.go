// Package equiv is the equivalence checker between two worlds in two
// kernels: it says whether a restored world is the one that was saved, by
// isomorphism (the same task tree and fd numbers, the same sharing of
// tables, files, pipes, socket pairs, address spaces, segments and page
// frames, the same bytes in flight and in memory, registers and reference
// counts), and lists every difference when it is not. Equal compares every
// field a checkpoint saves (every register of the whole x86cpu state
// included) and every reference count, those of dentries and inodes too;
// EqualImages compares two images as the worlds they describe, objects
// named by a walk rather than by objref.
//
// It is a plain package, with no test library in it, so that the ckptsim
// command (verify, the demo) can use it; the generators of random worlds
// and the properties that use this checker are in package props, for tests
// only.
package equiv

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// DiffError lists how one world differs from another, one line per
// difference, each naming the path to it (pid 3, fd 5, its file, its pipe,
// the field) and both values.
type DiffError struct {
	Lines []string
}

func (e *DiffError) Error() string {
	const max = 40
	lines := e.Lines
	if len(lines) > max {
		lines = append(lines[:max:max], fmt.Sprintf("... and %d more", len(e.Lines)-max))
	}
	return "worlds differ:\n  " + strings.Join(lines, "\n  ")
}

// Equal compares two whole worlds: every task, the top-level tasks, and how
// many objects of each kind (files, tables, pipes, address spaces, frames,
// tasks...) are alive. It returns
// nil or a *DiffError.
func Equal(a, b *kernel.View) error {
	c := newComparer(a, b)
	c.whole = true
	var pa, pb []int
	for _, t := range a.Tasks {
		pa = append(pa, t.Pid)
	}
	for _, t := range b.Tasks {
		pb = append(pb, t.Pid)
	}
	c.same("tasks", pa, pb)
	c.same("top-level tasks", a.Top, b.Top)
	for _, pid := range a.Top {
		if b.Task(pid) != nil {
			c.tree(pid, true)
		}
	}
	for _, k := range kref.Kinds() {
		c.same("live "+k.String()+" objects", a.Live.Count(k), b.Live.Count(k))
	}
	return c.result()
}

// EqualSubtree compares the subtree rooted at pid in a with the one rooted
// at pid in b, ignoring the root's parent: a container compared with its
// restored copy, which has no parent.
func EqualSubtree(a, b *kernel.View, pid int) error {
	c := newComparer(a, b)
	if a.Task(pid) == nil || b.Task(pid) == nil {
		c.diff(fmt.Sprintf("pid %d", pid), a.Task(pid) != nil, b.Task(pid) != nil)
		return c.result()
	}
	c.tree(pid, false)
	return c.result()
}

// comparer matches the objects of two views by structure: the first time
// it meets an object of a (by id) along some path, it pairs it with the
// object of b at the same path; meeting either again, elsewhere, the pairing
// must hold both ways, or sharing differs.
type comparer struct {
	a, b *kernel.View
	// whole says the views are whole worlds (Equal), not a container in a
	// larger one: then every reference count is the world's own, those of
	// linked dentries too.
	whole bool
	lines []string
	pairs map[string]map[uint64]uint64 // kind -> a id -> b id
	back  map[string]map[uint64]uint64 // kind -> b id -> a id
}

func newComparer(a, b *kernel.View) *comparer {
	return &comparer{a: a, b: b, pairs: map[string]map[uint64]uint64{}, back: map[string]map[uint64]uint64{}}
}

func (c *comparer) result() error {
	if len(c.lines) == 0 {
		return nil
	}
	return &DiffError{Lines: c.lines}
}

func (c *comparer) diff(path string, x, y any) {
	c.lines = append(c.lines, fmt.Sprintf("%s: %v != %v", path, x, y))
}

func (c *comparer) same(path string, x, y any) {
	if fmt.Sprint(x) != fmt.Sprint(y) {
		c.diff(path, x, y)
	}
}

// pair records that object x of a corresponds to y of b, and reports
// whether this is the first time the pair is met (so its contents need
// comparing). A pairing that contradicts an earlier one is a sharing
// difference.
func (c *comparer) pair(kind, path string, x, y uint64) bool {
	if c.pairs[kind] == nil {
		c.pairs[kind], c.back[kind] = map[uint64]uint64{}, map[uint64]uint64{}
	}
	px, seenX := c.pairs[kind][x]
	_, seenY := c.back[kind][y]
	switch {
	case !seenX && !seenY:
		c.pairs[kind][x], c.back[kind][y] = y, x
		return true
	case seenX && px == y:
		return false
	}
	c.lines = append(c.lines, fmt.Sprintf("%s: sharing differs: this %s is shared differently in the two worlds", path, kind))
	return false
}

func (c *comparer) tree(pid int, withParent bool) {
	ta, tb := c.a.Task(pid), c.b.Task(pid)
	p := fmt.Sprintf("pid %d", pid)
	if withParent {
		c.same(p+" parent", ta.PPid, tb.PPid)
	}
	c.same(p+" comm", ta.Comm, tb.Comm)
	c.same(p+" state", ta.State, tb.State)
	c.same(p+" exit code", ta.ExitCode, tb.ExitCode)
	c.same(p+" references", ta.Refs, tb.Refs)
	c.same(p+" children", ta.Children, tb.Children)
	for _, d := range ta.Regs.Diff(tb.Regs) {
		c.lines = append(c.lines, p+" registers: "+d)
	}
	if (ta.FileTable == 0) != (tb.FileTable == 0) {
		c.diff(p+" has a file table", ta.FileTable != 0, tb.FileTable != 0)
	} else if ta.FileTable != 0 && c.pair("file table", p, ta.FileTable, tb.FileTable) {
		c.fileTable(p+" file table", c.a.FileTables[ta.FileTable], c.b.FileTables[tb.FileTable])
	}
	if (ta.FS == 0) != (tb.FS == 0) {
		c.diff(p+" has an fs state", ta.FS != 0, tb.FS != 0)
	} else if ta.FS != 0 && c.pair("fs state", p, ta.FS, tb.FS) {
		fa, fb := c.a.FSStates[ta.FS], c.b.FSStates[tb.FS]
		c.same(p+" fs root", fa.Root, fb.Root)
		c.same(p+" fs cwd", fa.Cwd, fb.Cwd)
		c.same(p+" fs state references", fa.Refs, fb.Refs)
	}
	c.mm(p, ta, tb)
	for i, child := range ta.Children {
		if i < len(tb.Children) && tb.Children[i] == child {
			c.tree(child, true)
		}
	}
}

func (c *comparer) fileTable(p string, ta, tb kernel.FileTableView) {
	c.same(p+" references", ta.Refs, tb.Refs)
	fds := func(t kernel.FileTableView) []int {
		var out []int
		for _, d := range t.Fds {
			out = append(out, d.Fd)
		}
		return out
	}
	c.same(p+" descriptors", fds(ta), fds(tb))
	byFd := map[int]kernel.FdView{}
	for _, d := range tb.Fds {
		byFd[d.Fd] = d
	}
	for _, da := range ta.Fds {
		db, ok := byFd[da.Fd]
		if !ok {
			continue
		}
		fp := fmt.Sprintf("%s fd %d", strings.TrimSuffix(p, " file table"), da.Fd)
		c.same(fp+" close-on-exec", da.CloseOnExec, db.CloseOnExec)
		if c.pair("file", fp, da.File, db.File) {
			c.file(fp+" file", c.a.Files[da.File], c.b.Files[db.File])
		}
	}
}

func (c *comparer) file(p string, fa, fb kernel.FileView) {
	c.same(p+" type", fa.Type, fb.Type)
	c.same(p+" flags", vfs.FormatOpenFlags(fa.Flags), vfs.FormatOpenFlags(fb.Flags))
	c.same(p+" O_ASYNC from open", fa.AsyncFromOpen, fb.AsyncFromOpen)
	c.same(p+" mode", fa.Mode, fb.Mode)
	c.same(p+" position", fa.Pos, fb.Pos)
	c.same(p+" version", fa.Version, fb.Version)
	c.same(p+" owner", fa.Owner, fb.Owner)
	c.same(p+" lock", fa.Lock, fb.Lock)
	c.same(p+" references", fa.Refs, fb.Refs)
	c.same(p+" path", fa.Path, fb.Path)
	c.same(p+" unlinked", fa.Unlinked, fb.Unlinked)
	if (fa.Inode == nil) != (fb.Inode == nil) {
		c.diff(p+" has an inode", fa.Inode != nil, fb.Inode != nil)
	} else if fa.Inode != nil {
		ia, ib := fa.Inode, fb.Inode
		c.same(p+" inode mode", fmt.Sprintf("%#o", ia.Mode), fmt.Sprintf("%#o", ib.Mode))
		c.same(p+" inode size", ia.Size, ib.Size)
		c.same(p+" inode change counter", ia.Changes, ib.Changes)
		c.same(p+" inode references", ia.Refs, ib.Refs)
		if c.whole || fa.Unlinked {
			c.same(p+" dentry references", ia.DentryRefs, ib.DentryRefs)
		}
		if !bytes.Equal(ia.Contents, ib.Contents) {
			c.diff(p+" contents", short(ia.Contents), short(ib.Contents))
		}
		if !bytes.Equal(ia.Tail, ib.Tail) {
			c.diff(p+" bytes past the end in its last page", short(ia.Tail), short(ib.Tail))
		}
		// An unlinked inode is shared by the files open on it: that
		// sharing must survive too.
		if fa.Unlinked && fb.Unlinked {
			c.pair("unlinked inode", p, ia.Ino, ib.Ino)
		}
	}
	if (fa.Pipe == 0) != (fb.Pipe == 0) {
		c.diff(p+" has a pipe", fa.Pipe != 0, fb.Pipe != 0)
	} else if fa.Pipe != 0 && c.pair("pipe", p+" pipe", fa.Pipe, fb.Pipe) {
		c.pipe(p+" pipe", c.a.Pipes[fa.Pipe], c.b.Pipes[fb.Pipe])
	}
	if (fa.Socket == 0) != (fb.Socket == 0) {
		c.diff(p+" is a socket", fa.Socket != 0, fb.Socket != 0)
	} else if fa.Socket != 0 {
		c.same(p+" socket end", fa.SocketEnd, fb.SocketEnd)
		if c.pair(PairSocket, p+" socket pair", fa.Socket, fb.Socket) {
			c.socket(p+" socket pair", c.a.Sockets[fa.Socket], c.b.Sockets[fb.Socket])
		}
	}
}

// socket compares the pairs of two sockets met at the same path, on their
// first pairing: type, references, and both ends: which is open, shutdown,
// pending error, disconnection, and every message in flight with its bytes
// and how much of it was read (which is what the sender's buffer still
// holds).
func (c *comparer) socket(p string, pa, pb kernel.SocketPairView) {
	c.same(p+" type", pa.Type, pb.Type)
	c.same(p+" references", pa.Refs, pb.Refs)
	for i := range pa.Ends {
		ea, eb := pa.Ends[i], pb.Ends[i]
		ep := fmt.Sprintf("%s end %d", p, i)
		c.same(ep+" open", ea.Open, eb.Open)
		c.same(ep+" shutdown", ea.Shutdown, eb.Shutdown)
		c.same(ep+" pending error", ea.Err, eb.Err)
		c.same(ep+" disconnected", ea.Disconnected, eb.Disconnected)
		c.same(ep+" messages", len(ea.Queue), len(eb.Queue))
		for k := range min(len(ea.Queue), len(eb.Queue)) {
			ma, mb := ea.Queue[k], eb.Queue[k]
			mp := fmt.Sprintf("%s message %d", ep, k)
			c.same(mp+" bytes read", ma.Consumed, mb.Consumed)
			if !bytes.Equal(ma.Data, mb.Data) {
				c.diff(mp+" bytes", short(ma.Data), short(mb.Data))
			}
		}
	}
}

func (c *comparer) pipe(p string, pa, pb kernel.PipeView) {
	c.same(p+" references", pa.Refs, pb.Refs)
	c.same(p+" readers", pa.Readers, pb.Readers)
	c.same(p+" writers", pa.Writers, pb.Writers)
	c.same(p+" buffers", len(pa.Buffers), len(pb.Buffers))
	for i := range min(len(pa.Buffers), len(pb.Buffers)) {
		ba, bb := pa.Buffers[i], pb.Buffers[i]
		bp := fmt.Sprintf("%s buffer %d", p, i)
		c.same(bp+" offset", ba.Offset, bb.Offset)
		c.same(bp+" packet", ba.Packet, bb.Packet)
		if !bytes.Equal(ba.Data, bb.Data) {
			c.diff(bp+" bytes", short(ba.Data), short(bb.Data))
		}
	}
}

// short renders bytes for a difference line: quoted, cut after 40 bytes.
func short(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("%q... (%d bytes)", b[:40], len(b))
	}
	return fmt.Sprintf("%q", b)
}
