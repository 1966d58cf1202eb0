package graph

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
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

// Kind is what a node is: KindTask, or the name of an object's type
// ("file table", "pipe", "socket pair"), as the object types register it.
type Kind string

// KindTask is the kind of a task's node.
const KindTask Kind = "task"

// Edge is one reference.
type Edge struct {
	From, To string // node names
	Kind     EdgeKind
	// Label says which reference: what the record that makes it says of
	// it (a file table's descriptors of a file: "fd 0, fd 1 cloexec"; a
	// socket's end), or the field's name ("file table", "pipe").
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
	EdgeHolds EdgeKind = "holds" // a task to an object its own records name (its file table, its fs state)
	EdgeRef   EdgeKind = "ref"   // an object to an object its state names (a table's file, a file's pipe)
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
// encounter: tasks in preorder, then the objects in objref order, then the
// references in the order the image names them.
func draw(m *model) *Graph {
	g := newGraph()
	defer g.markShared()
	for _, t := range m.tasks {
		g.add(taskNode(t))
		if t.ppid != 0 && g.index[taskName(t.ppid)] != nil {
			g.edge(taskName(t.ppid), taskName(t.pid), EdgeChild, "")
		}
	}
	for _, o := range m.objs {
		g.add(&Node{Name: o.name, Kind: o.kind, Label: append([]string{title(string(o.kind), o.ref)}, o.label...)})
	}
	for _, r := range m.refs {
		kind := EdgeRef
		if r.holds {
			kind = EdgeHolds
		}
		sep := ", " // "fd 0, fd 1 cloexec"
		if strings.Contains(strings.Join(r.labels, ""), "\n") {
			sep = "\n\n" // labels of several lines, a blank line between
		}
		g.edge(r.from, r.to, kind, strings.Join(r.labels, sep)).Refs = len(r.labels)
	}
	return g
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
