package graph

import (
	"bufio"
	"fmt"
	"html"
	"io"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

// look is how a kind of node is drawn.
type look struct {
	shape, style, fill, font string
}

// taskLook is a task's look; zombieLook a zombie's: grey and dashed, an
// outline of a task.
var (
	taskLook   = look{shape: "box", style: "rounded,filled", fill: "#dbe9f6"}
	zombieLook = look{shape: "box", style: "rounded,dashed,filled", fill: "#eeeeee", font: "#555555"}
)

// palette are the looks of objects, by object type number from 1: file
// tables, fs states, files, pipes and ghosts keep the looks the first
// pictures gave them, and each type after them gets the next look, the
// palette starting again after its last. No type is named here: a type
// added later is drawn with no change to this package.
var palette = []look{
	{shape: "tab", style: "filled", fill: "#fdf1d6"},
	{shape: "folder", style: "filled", fill: "#e6f2e0"},
	{shape: "note", style: "filled", fill: "#ffffff"},
	{shape: "cylinder", style: "filled", fill: "#f7dde4"},
	{shape: "note", style: "dashed,filled", fill: "#eeeeee"},
	{shape: "box3d", style: "filled", fill: "#e8e0f4"},
	{shape: "component", style: "filled", fill: "#dff0f3"},
	{shape: "cylinder", style: "filled", fill: "#e3e8fb"},
}

// lookOf returns how a kind of node is drawn.
func lookOf(k Kind) look {
	if k == KindTask {
		return taskLook
	}
	for _, t := range image.ObjTypes() {
		if image.ObjTypeName(t) == string(k) {
			return palette[(int(t)+len(palette)-1)%len(palette)]
		}
	}
	return look{shape: "box", style: "filled", fill: "#ffffff"}
}

// Highlights, each explained by the legend.
const (
	sharedColor  = "#b03030" // the border of a shared object
	sharedWidth  = "2.5"
	changedFill  = "#ffe866" // a node the frame's line changed: a highlighter
	clusterColor = "#999999"
	childColor   = "#4a7ab5"
)

// edgeStyle is how a kind of edge is drawn.
var edgeStyle = map[EdgeKind]string{
	EdgeChild: `style=bold, color="` + childColor + `"`,
	EdgeHolds: ``,
	EdgeRef:   ``,
	EdgePair:  `style=invis, constraint=false`, // Restored tags the pairs instead
}

// layers returns the rows objects are drawn in below the task tree: by
// how many references from a task they are (a task's file table first,
// then its files, then their pipes), each row in node order.
func (g *Graph) layers() [][]string {
	depth := map[string]int{}
	for _, n := range g.Nodes {
		if n.Kind == KindTask {
			depth[n.Name] = 0
		}
	}
	for changed := true; changed; {
		changed = false
		for _, e := range g.Edges {
			if e.Kind != EdgeHolds && e.Kind != EdgeRef {
				continue
			}
			if d, ok := depth[e.From]; ok {
				if old, seen := depth[e.To]; !seen || d+1 < old {
					depth[e.To] = d + 1
					changed = true
				}
			}
		}
	}
	var rows [][]string
	for _, n := range g.Nodes {
		d, ok := depth[n.Name]
		if !ok || n.Kind == KindTask {
			continue
		}
		for len(rows) < d {
			rows = append(rows, nil)
		}
		rows[d-1] = append(rows[d-1], n.Name)
	}
	return rows
}

// WriteDOT writes the graph in Graphviz's DOT language: the same graph gives
// the same bytes. The task tree is drawn top-down, a parent above its
// children (a zombie too), and below it the objects in rows by how far
// they are from a task: file tables, fs states and address spaces, then
// open files and segments, then pipes and unlinked files.
// Shared objects have a red border, groups (Group) a double outline; a
// legend says so. Labels are quoted and escaped; node names are the
// graph's own, made of letters, digits and underscores.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	font := "Helvetica"
	if g.fixed {
		font = "monospace"
	}
	fmt.Fprintln(bw, "digraph ckptsim {")
	fmt.Fprintf(bw, "\tgraph [rankdir=TB, newrank=true, fontname=%q, fontsize=12, nodesep=0.3, ranksep=0.45", font)
	if g.Title != "" {
		fmt.Fprintf(bw, ", labelloc=t, label=%s", g.quote(g.Title))
	}
	fmt.Fprintln(bw, "];")
	fmt.Fprintf(bw, "\tnode [fontname=%q, fontsize=10];\n", font)
	fmt.Fprintf(bw, "\tedge [fontname=%q, fontsize=9];\n", font)
	for _, n := range g.Nodes {
		if n.Cluster == "" {
			g.writeNode(bw, "\t", n)
		}
	}
	for i, c := range g.Clusters {
		fmt.Fprintf(bw, "\tsubgraph cluster_%d {\n\t\tlabel=%s; color=%q; fontsize=12;\n", i, g.quote(c.Label), clusterColor)
		for _, n := range g.Nodes {
			if n.Cluster == c.Name {
				g.writeNode(bw, "\t\t", n)
			}
		}
		fmt.Fprintln(bw, "\t}")
	}
	// The legend goes below the lowest row, tied to one of its nodes by
	// an unseen edge (rank=sink does not hold with newrank, which ranks
	// across the clusters of a before/after picture).
	lowest := ""
	if len(g.Nodes) > 0 {
		lowest = g.Nodes[len(g.Nodes)-1].Name
	}
	// Tasks of one depth on one row: the tree reads top-down, siblings
	// side by side.
	depth := map[string]int{}
	rows := map[int][]string{}
	maxDepth := -1
	for _, e := range g.Edges {
		if e.Kind == EdgeChild {
			depth[e.To] = depth[e.From] + 1 // preorder: the parent's is known
		}
	}
	for _, n := range g.Nodes {
		if n.Kind == KindTask {
			d := depth[n.Name]
			rows[d] = append(rows[d], n.Name)
			maxDepth = max(maxDepth, d)
		}
	}
	for d := 0; d <= maxDepth; d++ {
		if len(rows[d]) > 1 {
			fmt.Fprintf(bw, "\t{rank=same; %s;}\n", strings.Join(rows[d], "; "))
		}
	}
	for _, names := range g.layers() {
		if len(names) > 0 {
			lowest = names[len(names)-1]
		}
		if len(names) > 1 {
			fmt.Fprintf(bw, "\t{rank=same; %s;}\n", strings.Join(names, "; "))
		}
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+g.quote(e.Label))
		}
		if st := edgeStyle[e.Kind]; st != "" {
			attrs = append(attrs, st)
		}
		if e.Hidden {
			attrs = append(attrs, "style=invis")
		}
		if len(attrs) == 0 {
			fmt.Fprintf(bw, "\t%s -> %s;\n", e.From, e.To)
		} else {
			fmt.Fprintf(bw, "\t%s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
		}
	}
	if !g.NoLegend {
		fmt.Fprintf(bw, "\tlegend [shape=plaintext, margin=0, label=<%s>];\n", g.legend())
		if lowest != "" {
			fmt.Fprintf(bw, "\t%s -> legend [style=invis];\n", lowest)
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

// writeNode writes one node's statement.
func (g *Graph) writeNode(w io.Writer, indent string, n *Node) {
	lk := lookOf(n.Kind)
	if n.Zombie {
		lk = zombieLook
	}
	label := slices.Clone(n.Label)
	if n.Tag != "" && len(label) > 0 {
		label[0] += "  [" + n.Tag + "]"
	}
	attrs := []string{"label=" + g.quote(strings.Join(label, "\n")), "shape=" + lk.shape}
	switch {
	case n.Hidden:
		// Invisible, and the same size as where it is seen: it keeps its
		// place in the frames that have it.
		attrs = append(attrs, "style=invis")
	default:
		fill := lk.fill
		if n.Changed {
			fill = changedFill
		}
		attrs = append(attrs, fmt.Sprintf("style=%q", lk.style), fmt.Sprintf("fillcolor=%q", fill))
		if lk.font != "" {
			attrs = append(attrs, fmt.Sprintf("fontcolor=%q", lk.font))
		}
		if n.Shared {
			attrs = append(attrs, fmt.Sprintf("color=%q", sharedColor), "penwidth="+sharedWidth)
		}
	}
	if n.Count > 1 {
		attrs = append(attrs, "peripheries=2")
	}
	fmt.Fprintf(w, "%s%s [%s];\n", indent, n.Name, strings.Join(attrs, ", "))
}

// legend returns the legend, an HTML-like label: a swatch of each kind of
// node in the picture, what the highlights mean, and the edges.
func (g *Graph) legend() string {
	var drawn []Kind
	for _, n := range g.Nodes {
		if !slices.Contains(drawn, n.Kind) {
			drawn = append(drawn, n.Kind)
		}
	}
	kinds := []Kind{KindTask}
	for _, t := range image.ObjTypes() { // in type order, as the palette
		if k := Kind(image.ObjTypeName(t)); slices.Contains(drawn, k) {
			kinds = append(kinds, k)
		}
	}
	for _, k := range drawn {
		if !slices.Contains(kinds, k) {
			kinds = append(kinds, k)
		}
	}
	cols := len(kinds) + 1
	var b strings.Builder
	b.WriteString(`<table border="0" cellborder="1" cellspacing="3" cellpadding="2"><tr>`)
	swatch := func(fill, text string) {
		fmt.Fprintf(&b, `<td bgcolor="%s">%s</td>`, fill, html.EscapeString(text))
	}
	swatch(taskLook.fill, "task")
	swatch(zombieLook.fill, "zombie")
	for _, k := range kinds[1:] {
		swatch(lookOf(k).fill, string(k))
	}
	b.WriteString(`</tr><tr>`)
	fmt.Fprintf(&b, `<td colspan="%d" border="3" color="%s">shared: referenced more than once</td>`, cols/2, sharedColor)
	fmt.Fprintf(&b, `<td colspan="%d">double outline: alike tasks, or their copies, drawn once</td>`, cols-cols/2)
	if g.frame {
		fmt.Fprintf(&b, `</tr><tr><td colspan="%d" bgcolor="%s">yellow: created or changed by this frame's line</td>`, cols, changedFill)
	}
	fmt.Fprintf(&b, `</tr><tr><td colspan="%d" border="0"><font color="%s">blue: parent to child</font>; `, cols, childColor)
	b.WriteString(`black: a reference, labelled with what it is<br/>(a task's file table, a table's descriptors, a socket's end, a mapping)`)
	if len(g.Clusters) > 0 {
		b.WriteString(`;<br/>[n]: an object and the restored copy equiv paired it with (tasks pair by pid)`)
	}
	b.WriteString(`</td></tr></table>`)
	return b.String()
}

// quote makes a DOT string: backslashes and quotes escaped, and each
// newline the \n escape that breaks a label's line (in a fixed-layout
// frame, \l: left-aligned, so that padding at the end stays unseen).
// Lines hold no other control characters: display quotes names that have
// them.
func (g *Graph) quote(s string) string {
	nl := `\n`
	if g.fixed {
		nl = `\l`
		s += "\n"
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", nl)
	return `"` + r.Replace(s) + `"`
}
