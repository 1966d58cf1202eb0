package graph

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// style is how a kind of node is drawn.
var style = map[Kind]string{
	KindTask:      `shape=box, style="rounded,filled", fillcolor="#dbe9f6"`,
	KindFileTable: `shape=tab, style=filled, fillcolor="#fdf1d6"`,
	KindFS:        `shape=folder, style=filled, fillcolor="#e6f2e0"`,
	KindFile:      `shape=note, style=filled, fillcolor="#ffffff"`,
	KindPipe:      `shape=cylinder, style=filled, fillcolor="#f7dde4"`,
	KindGhost:     `shape=note, style="dashed,filled", fillcolor="#eeeeee"`,
}

// zombieStyle overrides a zombie task's style: grey and dashed, an outline
// of a task.
const zombieStyle = `shape=box, style="rounded,dashed,filled", fillcolor="#eeeeee", fontcolor="#555555"`

// edgeStyle is how a kind of edge is drawn. A task tree edge does not
// constrain the ranks, so that the tasks stay in one column on the left and
// the objects they refer to spread to the right of them.
var edgeStyle = map[EdgeKind]string{
	EdgeChild: `style=bold, color="#4a7ab5", constraint=false`,
	EdgeFiles: ``,
	EdgeFS:    `color="#6b8f5e"`,
	EdgeFd:    ``,
	EdgePipe:  `color="#b5485f"`,
	EdgeGhost: `style=dashed`,
}

// WriteDOT writes the graph in Graphviz's DOT language: the same graph gives
// the same bytes. Labels are quoted and escaped; node names are the graph's
// own, made of letters, digits and underscores.
func (g *Graph) WriteDOT(w io.Writer) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "digraph ckptsim {")
	fmt.Fprintln(bw, `	graph [rankdir=LR, fontname="Helvetica", nodesep=0.25, ranksep=0.7];`)
	fmt.Fprintln(bw, `	node [fontname="Helvetica", fontsize=10];`)
	fmt.Fprintln(bw, `	edge [fontname="Helvetica", fontsize=9];`)
	var tasks []string
	for _, n := range g.Nodes {
		st := style[n.Kind]
		if n.Zombie {
			st = zombieStyle
		}
		fmt.Fprintf(bw, "\t%s [label=%s, %s];\n", n.Name, quote(strings.Join(n.Label, "\n")), st)
		if n.Kind == KindTask {
			tasks = append(tasks, n.Name)
		}
	}
	if len(tasks) > 0 {
		fmt.Fprintf(bw, "\t{rank=same; %s;}\n", strings.Join(tasks, "; "))
	}
	for _, e := range g.Edges {
		var attrs []string
		if e.Label != "" {
			attrs = append(attrs, "label="+quote(e.Label))
		}
		if st := edgeStyle[e.Kind]; st != "" {
			attrs = append(attrs, st)
		}
		if len(attrs) == 0 {
			fmt.Fprintf(bw, "\t%s -> %s;\n", e.From, e.To)
		} else {
			fmt.Fprintf(bw, "\t%s -> %s [%s];\n", e.From, e.To, strings.Join(attrs, ", "))
		}
	}
	fmt.Fprintln(bw, "}")
	return bw.Flush()
}

// quote makes a DOT string: backslashes and quotes escaped, and each
// newline the \n escape that breaks a label's line. Lines hold no other
// control characters: display quotes names that have them.
func quote(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}
