package graph

import (
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// Restored draws a world and its restored copy side by side, each in a box.
// Each object and the copy equiv.Pair paired it with carry the same tag,
// (Node.Tag, drawn "[n]" after their first line; tasks pair by pid), and are joined by an
// EdgePair edge, which the DOT has but does not draw: with the two worlds
// laid out alike, fifteen dotted lines across the picture hid more than the
// tags do. root is the restored container's root pid; the title says
// whether equiv finds the copy the same world (or container).
func Restored(before, after *kernel.View, root int) *Graph {
	what, err := "the same world", equiv.Equal(before, after)
	pairRoot := 0
	if len(before.Top) != 1 || before.Top[0] != root {
		what, err = "the same container", equiv.EqualSubtree(before, after, root)
		pairRoot = root
	}
	verdict := "equiv: " + what
	if err != nil {
		verdict = "equiv: NOT " + what
	}
	g := newGraph()
	g.Title = verdict
	g.Clusters = []Cluster{
		{Name: "before", Label: "before: the world checkpointed"},
		{Name: "after", Label: "after: restarted in a fresh kernel"},
	}
	g.merge(FromView(before), "a_", "before")
	g.merge(FromView(after), "b_", "after")
	g.pairEdges(before, after, equiv.Pair(before, after, pairRoot))
	g.markShared()
	return g
}

// merge adds another graph's nodes and edges, their names prefixed, into
// cluster.
func (g *Graph) merge(o *Graph, prefix, cluster string) {
	for _, n := range o.Nodes {
		c := *n
		c.Name, c.Cluster = prefix+n.Name, cluster
		g.add(&c)
	}
	for _, e := range o.Edges {
		c := *e
		c.From, c.To = prefix+e.From, prefix+e.To
		g.Edges = append(g.Edges, &c)
	}
}

// pairKind is the kind equiv's pairing names a view's object by: its
// object type's name, but for a ghost, which equiv pairs as the unlinked
// inode it is, by inode number, and an mm, which it calls an address space.
func pairKind(k Kind) string {
	switch k {
	case kindGhost:
		return equiv.PairGhost
	case kindMM:
		return equiv.PairMM
	}
	return string(k)
}

// pairEdges joins each object of the before world ("a_" nodes) to its
// restored copy ("b_" nodes): tasks by pid, the others as equiv paired
// them, through the kernel ids (inode numbers for ghosts) that name a view's
// nodes. In node order, so that the output is deterministic.
func (g *Graph) pairEdges(before, after *kernel.View, pairs equiv.Pairs) {
	tag := 0
	join := func(a, b string) {
		na, nb := g.index["a_"+a], g.index["b_"+b]
		if na == nil || nb == nil {
			return
		}
		g.edge(na.Name, nb.Name, EdgePair, "")
		if na.Kind != KindTask {
			tag++
			na.Tag = strconv.Itoa(tag)
			nb.Tag = na.Tag
		}
	}
	for _, n := range g.Nodes {
		if n.Cluster != "before" {
			continue
		}
		name := strings.TrimPrefix(n.Name, "a_")
		if n.Kind == KindTask {
			if after.Task(n.Pid) != nil {
				join(name, name)
			}
			continue
		}
		prefix, id, ok := viewID(name)
		if !ok {
			continue
		}
		if to, ok := pairs[pairKind(n.Kind)][id]; ok {
			join(name, nodeName(n.Kind, prefix+strconv.FormatUint(to, 10)))
		}
	}
}

// viewID parses a view node's name into what nodeName made it from: the
// id's prefix ("k" for a kernel id, "i" for an inode number) and number.
func viewID(name string) (string, uint64, bool) {
	id := name[strings.LastIndexByte(name, '_')+1:]
	if len(id) < 2 || (id[0] != 'k' && id[0] != 'i') {
		return "", 0, false
	}
	n, err := strconv.ParseUint(id[1:], 10, 64)
	return id[:1], n, err == nil
}
