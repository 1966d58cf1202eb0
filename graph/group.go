package graph

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// MinGroup is how many alike tasks Group folds into one node: two are
// still clearer side by side.
const MinGroup = 3

// Group folds alike leaf tasks into one node each, so that a large world
// stays readable: tasks with the same parent, name and state, with no
// children, that share the same file table and fs state (threads made with
// CLONE_FILES|CLONE_FS) or hold private copies alike in every drawn detail
// (children forked one after the other), MinGroup or more of them. The
// group's node says which pids it stands for and how many; private copies
// fold into one node each too ("8 file tables, one each"), drawn as a
// stack, whose references count once per task, so that what they refer to
// is still shown as shared. Nothing is folded that a picture would show
// differently: a task with a file of its own stays apart.
func (g *Graph) Group() {
	out := map[string][]*Edge{}
	in := map[string][]*Edge{}
	for _, e := range g.Edges {
		out[e.From] = append(out[e.From], e)
		in[e.To] = append(in[e.To], e)
	}
	var order []string
	groups := map[string][]*Node{}
	for _, n := range g.Nodes {
		if n.Kind != KindTask || n.Count > 1 {
			continue
		}
		sig, ok := g.taskSignature(n, in, out)
		if !ok {
			continue
		}
		if groups[sig] == nil {
			order = append(order, sig)
		}
		groups[sig] = append(groups[sig], n)
	}
	for _, sig := range order {
		if members := groups[sig]; len(members) >= MinGroup {
			g.fold(members, out)
		}
	}
	g.markShared()
}

// taskSignature returns what a task looks like in the picture, for a leaf
// task: two tasks of the same signature can be drawn as one.
func (g *Graph) taskSignature(n *Node, in, out map[string][]*Edge) (string, bool) {
	parent := ""
	for _, e := range in[n.Name] {
		if e.Kind == EdgeChild {
			parent = e.From
		}
	}
	sig := []string{n.Cluster, parent, strings.Join(n.Label[1:], "\n"), strconv.FormatBool(n.Zombie)}
	for _, e := range out[n.Name] {
		switch e.Kind {
		case EdgeChild:
			return "", false // a parent: its children hang from it
		case EdgeHolds:
			sig = append(sig, e.Label+":"+g.objectSignature(e.To, e.Kind, in, out))
		}
	}
	return strings.Join(sig, "\x00"), true
}

// objectSignature returns how a task's file table or fs state looks: its
// name when others hold it too (they must hold the same one), its contents
// when it is the task's own copy.
func (g *Graph) objectSignature(name string, kind EdgeKind, in, out map[string][]*Edge) string {
	holders := 0
	for _, e := range in[name] {
		if e.Kind == kind {
			holders++
		}
	}
	if holders > 1 {
		return "shared " + name
	}
	s := "copy " + strings.Join(g.index[name].Label[1:], "\n")
	for _, e := range out[name] {
		if e.Kind != EdgePair {
			s += "\n" + string(e.Kind) + " " + e.To + " " + e.Label
		}
	}
	return s
}

// fold replaces alike tasks by one node, and their private copies by one
// node each.
func (g *Graph) fold(members []*Node, out map[string][]*Edge) {
	first := members[0]
	var pids []int
	gone := map[string]bool{}
	for _, m := range members {
		pids = append(pids, m.Pid)
		if m != first {
			gone[m.Name] = true
			g.alias[m.Name] = first.Name
		}
	}
	first.Count = len(members)
	first.Label = append([]string{fmt.Sprintf("pids %s (%d tasks)", pidRanges(pids), len(members))}, first.Label[1:]...)
	for _, e := range out[first.Name] {
		if e.Kind != EdgeHolds {
			continue
		}
		obj := g.index[e.To]
		holders := 0
		for _, f := range g.Edges {
			if f.To == obj.Name && f.Kind == e.Kind {
				holders++
			}
		}
		if holders > 1 { // shared: one edge from the group, standing for each
			e.Refs = len(members)
			continue
		}
		// Private copies: the first member's stands for all.
		obj.Count = len(members)
		obj.Label = append([]string{fmt.Sprintf("%d %ss, one each", len(members), obj.Kind)}, obj.Label[1:]...)
		for _, f := range out[obj.Name] {
			f.Refs *= len(members)
		}
		for _, m := range members[1:] {
			for _, me := range out[m.Name] {
				if me.Kind == e.Kind && me.Label == e.Label {
					gone[me.To] = true
					g.alias[me.To] = obj.Name
				}
			}
		}
	}
	g.remove(gone)
}

// remove takes nodes out of the graph, with every edge from or to them.
func (g *Graph) remove(gone map[string]bool) {
	g.Nodes = slices.DeleteFunc(g.Nodes, func(n *Node) bool { return gone[n.Name] })
	g.Edges = slices.DeleteFunc(g.Edges, func(e *Edge) bool { return gone[e.From] || gone[e.To] })
	for name := range gone {
		delete(g.index, name)
	}
}

// Drawn returns the name of the node that stands for the node of that name:
// itself, or the group node Group folded it into.
func (g *Graph) Drawn(name string) string {
	if a, ok := g.alias[name]; ok {
		return a
	}
	return name
}

// pidRanges renders sorted pids with runs as ranges: "10-15, 17".
func pidRanges(pids []int) string {
	slices.Sort(pids)
	var parts []string
	for i := 0; i < len(pids); {
		j := i
		for j+1 < len(pids) && pids[j+1] == pids[j]+1 {
			j++
		}
		switch {
		case j == i:
			parts = append(parts, strconv.Itoa(pids[i]))
		case j == i+1:
			parts = append(parts, strconv.Itoa(pids[i]), strconv.Itoa(pids[j]))
		default:
			parts = append(parts, fmt.Sprintf("%d-%d", pids[i], pids[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
