package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Graph is an object graph: nodes and edges in a deterministic order.
type Graph struct {
	Nodes []*Node
	Edges []*Edge
	// Title, when set, is a caption drawn above the picture.
	Title string
	// Clusters are the boxes that nodes with a Cluster are drawn in (the
	// two worlds of a before/after picture), in order.
	Clusters []Cluster
	// NoLegend leaves the legend out of the picture.
	NoLegend bool
	// fixed lays labels out in a fixed-width font, left-aligned, so that
	// labels padded to the same size take the same room in every frame
	// (Frames sets it, having padded them); frame adds the legend entry
	// of a node the frame's line changed.
	fixed, frame bool
	index        map[string]*Node
	// alias maps the name of a node folded into another (a task or its
	// private table or fs state, by Group) to the node it was folded into.
	alias map[string]string
}

// Cluster is a box of nodes with a caption.
type Cluster struct {
	Name, Label string
}

// Node is one object.
type Node struct {
	// Name is the node's DOT id, unique within the graph: "task_1",
	// "file_3" (an image's objref) or "file_k17" (a view's kernel id).
	Name  string
	Kind  Kind
	Label []string // lines, as displayed
	// Pid is a task's pid (the first of a group's).
	Pid int
	// Zombie marks a task that has exited and waits to be reaped.
	Zombie bool
	// Shared marks an object the graph draws more than one reference to
	// (a descriptor each counts): a file table of several tasks, a file of
	// several descriptors, a pipe with both ends open.
	Shared bool
	// Count is how many alike tasks, or alike private objects, the node
	// stands for (Group): 1 for a node that is one object.
	Count int
	// Changed marks, in a frame, a node that is new or whose label changed
	// since the previous frame; Hidden one that exists only in other frames
	// and is drawn invisible, to keep its place.
	Changed, Hidden bool
	// Cluster is the name of the Cluster the node is drawn in, or "".
	Cluster string
	// Tag, when set, is drawn after the label's first line, in brackets:
	// the pair number of an object and its restored copy (Restored).
	Tag string
}

// Kind is what a node is.
type Kind string

// The node kinds.
const (
	KindTask      Kind = "task"
	KindFileTable Kind = "file table"
	KindFS        Kind = "fs state"
	KindFile      Kind = "file"
	KindPipe      Kind = "pipe"
	KindGhost     Kind = "ghost"
)

// Edge is one reference.
type Edge struct {
	From, To string // node names
	Kind     EdgeKind
	// Label says which reference: the descriptors of a file table's file,
	// the direction of a pipe end.
	Label string
	// Refs is how many references the edge stands for: the descriptors of
	// a file table open on the file, times the tables of a group.
	Refs int
	// Hidden marks, in a frame, an edge of other frames only.
	Hidden bool
}

// EdgeKind is what a reference is.
type EdgeKind string

// The edge kinds.
const (
	EdgeChild EdgeKind = "child" // parent task to child task
	EdgeFiles EdgeKind = "files" // task to its file table
	EdgeFS    EdgeKind = "fs"    // task to its fs state
	EdgeFd    EdgeKind = "fd"    // file table to a file, labelled with the descriptors
	EdgePipe  EdgeKind = "pipe"  // file to its pipe
	EdgeGhost EdgeKind = "ghost" // file to its unlinked inode
	EdgePair  EdgeKind = "pair"  // an object to its restored copy (Restored)
)

// Node returns the node of that name, or nil.
func (g *Graph) Node(name string) *Node { return g.index[name] }

func newGraph() *Graph {
	return &Graph{index: map[string]*Node{}, alias: map[string]string{}}
}

// add adds a node unless one of that name exists, and reports whether it
// was new: a shared object is met once per reference but drawn once.
func (g *Graph) add(n *Node) bool {
	if n.Count == 0 {
		n.Count = 1
	}
	if g.index[n.Name] != nil {
		return false
	}
	g.index[n.Name] = n
	g.Nodes = append(g.Nodes, n)
	return true
}

func (g *Graph) edge(from, to string, kind EdgeKind, label string) *Edge {
	e := &Edge{From: from, To: to, Kind: kind, Label: label, Refs: 1}
	g.Edges = append(g.Edges, e)
	return e
}

// markShared sets Shared on every node that more than one reference points
// to. Task tree edges are no references.
func (g *Graph) markShared() {
	refs := map[string]int{}
	for _, e := range g.Edges {
		if e.Kind != EdgeChild && e.Kind != EdgePair && !e.Hidden {
			refs[e.To] += e.Refs
		}
	}
	for _, n := range g.Nodes {
		n.Shared = refs[n.Name] > 1
	}
}

// draw turns a model into a graph, in the checkpoint's order of first
// encounter: tasks in preorder, then each task's file table (its files,
// each with its ghost and pipe, in descriptor order) and fs state.
func draw(m *model) *Graph {
	g := newGraph()
	defer g.markShared()
	for _, t := range m.tasks {
		g.add(taskNode(t))
		if t.ppid != 0 && g.index[taskName(t.ppid)] != nil {
			g.edge(taskName(t.ppid), taskName(t.pid), EdgeChild, "")
		}
	}
	for _, t := range m.tasks {
		if t.files != nil {
			g.drawTable(t.files)
			g.edge(taskName(t.pid), t.files.name, EdgeFiles, "files")
		}
		if fs := t.fs; fs != nil {
			g.add(&Node{Name: fs.name, Kind: KindFS, Label: []string{title("fs state", fs.ref),
				"root " + display(fs.root), "cwd " + display(fs.cwd)}})
			g.edge(taskName(t.pid), fs.name, EdgeFS, "fs")
		}
	}
	return g
}

// drawTable draws a file table on its first encounter: one edge to each of
// its files, labelled with every descriptor of the table open on it, and
// the files.
func (g *Graph) drawTable(ft *mTable) {
	if !g.add(&Node{Name: ft.name, Kind: KindFileTable, Label: []string{title("file table", ft.ref), plural(len(ft.fds), "fd")}}) {
		return
	}
	var order []*mFile
	fds := map[*mFile][]string{}
	for _, fd := range ft.fds {
		if fds[fd.file] == nil {
			order = append(order, fd.file)
		}
		s := "fd " + strconv.Itoa(fd.fd)
		if fd.cloexec {
			s += " (cloexec)"
		}
		fds[fd.file] = append(fds[fd.file], s)
	}
	for _, f := range order {
		g.edge(ft.name, f.name, EdgeFd, strings.Join(fds[f], ", ")).Refs = len(fds[f])
		g.drawFile(f)
	}
}

// drawFile draws a file on its first encounter, with its ghost and pipe.
func (g *Graph) drawFile(f *mFile) {
	label := []string{title("file", f.ref) + ": " + f.typ.String()}
	if f.path != "" { // a pipe end has none: its type says it
		label = append(label, display(f.path))
	}
	label = append(label, vfs.FormatOpenFlags(f.flags), "pos "+strconv.FormatInt(f.pos, 10))
	if !g.add(&Node{Name: f.name, Kind: KindFile, Label: label}) {
		return
	}
	if gh := f.ghost; gh != nil {
		g.add(&Node{Name: gh.name, Kind: KindGhost, Label: []string{title("unlinked file", gh.ref),
			display(gh.path), vfs.FormatMode(gh.mode) + ", " + plural(int(gh.size), "byte")}})
		g.edge(f.name, gh.name, EdgeGhost, "unlinked")
	}
	if p := f.pipe; p != nil {
		g.add(&Node{Name: p.name, Kind: KindPipe, Label: pipeLabel(p)})
		g.edge(f.name, p.name, EdgePipe, pipeEnd(f.mode))
	}
}

// pipeLabel says what a pipe holds: its bytes in flight (the first of
// them, quoted), how many, and its readers and writers.
func pipeLabel(p *mPipe) []string {
	label := []string{title("pipe", p.ref)}
	if p.bytes > 0 {
		const show = 24 // a label is a box, not a dump
		data := strconv.QuoteToGraphic(string(p.data[:min(show, len(p.data))]))
		if p.bytes > show {
			data += "..."
		}
		label = append(label, data)
	}
	return append(label, plural(p.bytes, "byte")+" buffered", plural(p.readers, "reader")+", "+plural(p.writers, "writer"))
}

func taskNode(t *mTask) *Node {
	n := &Node{Name: taskName(t.pid), Kind: KindTask, Pid: t.pid, Label: []string{"pid " + strconv.Itoa(t.pid), display(t.comm)}}
	if t.zombie {
		n.Zombie = true
		n.Label = append(n.Label, fmt.Sprintf("zombie, exit %d", t.exitCode))
	}
	return n
}

func taskName(pid int) string { return "task_" + strconv.Itoa(pid) }

// title is a label's first line: the object's kind, and its objref when it
// has one.
func title(what, ref string) string {
	if ref == "" {
		return what
	}
	return what + " " + ref
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return strconv.Itoa(n) + " " + what + "s"
}

func pipeEnd(m vfs.FMode) string {
	switch {
	case m&vfs.FMODE_READ != 0 && m&vfs.FMODE_WRITE != 0:
		return "reads, writes"
	case m&vfs.FMODE_READ != 0:
		return "reads"
	case m&vfs.FMODE_WRITE != 0:
		return "writes"
	}
	return ""
}

// display returns a name (a path, a command name) as a label shows it: as
// it is when it is printable text, quoted Go-style otherwise, so that no
// byte of it can be invisible or break the output.
func display(s string) string {
	if !utf8.ValidString(s) {
		return strconv.Quote(s)
	}
	for _, c := range s {
		if !unicode.IsPrint(c) {
			return strconv.Quote(s)
		}
	}
	return s
}
