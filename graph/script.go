package graph

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// FromScript runs a scenario script's system calls on a fresh kernel and
// returns the graph of the world they build. Checkpoint lines are skipped:
// they change nothing in the world. A line whose call does not give what the
// line expects stops the run with a *scenario.Error naming the script and
// line.
func FromScript(s *scenario.Script) (*Graph, error) {
	k := kernel.New(kernel.Config{})
	if err := scenario.Replay(k, s); err != nil {
		return nil, err
	}
	return FromView(k.View()), nil
}

// FromScriptAt is FromScript up to line: the world after the statement on
// that line of the file, which must be one (not a comment or blank line).
func FromScriptAt(s *scenario.Script, line int) (*Graph, error) {
	k, _, err := runTo(s, line, true)
	if err != nil {
		return nil, err
	}
	g := FromView(k.View())
	g.Title = fmt.Sprintf("%s after line %d", s.Name, line)
	return g, nil
}

// runTo runs the script's lines on a fresh kernel up to the statement on
// line (through it when through is set, else up to it), skipping checkpoint
// lines, and returns the kernel and that statement.
func runTo(s *scenario.Script, line int, through bool) (*kernel.Kernel, *scenario.Line, error) {
	var at *scenario.Line
	for _, l := range s.Lines {
		if l.Num == line {
			at = l
		}
	}
	if at == nil {
		return nil, nil, fmt.Errorf("%s: line %d is not a statement of the script (%s)", s.Name, line, statementLines(s))
	}
	k := kernel.New(kernel.Config{})
	for _, l := range s.Lines {
		if l.Num > line || l.Num == line && !through {
			break
		}
		if err := execLine(k, s, l); err != nil {
			return nil, nil, err
		}
	}
	return k, at, nil
}

// statementLines says which lines of a script are statements.
func statementLines(s *scenario.Script) string {
	if len(s.Lines) == 0 {
		return "it has none"
	}
	return fmt.Sprintf("its statements are on lines %d to %d", s.Lines[0].Num, s.Lines[len(s.Lines)-1].Num)
}

// execLine runs one line's system call (none for a checkpoint line) and
// checks its result.
func execLine(k *kernel.Kernel, s *scenario.Script, l *scenario.Line) error {
	if l.Cmd == "checkpoint" {
		return nil
	}
	if o := scenario.Exec(k, l); !o.Matches(l.Expect) {
		return &scenario.Error{File: s.Name, Line: l.Num, Msg: l.Mismatch(o)}
	}
	return nil
}

// Frame is the picture of a script's world after one of its lines.
type Frame struct {
	Line  *scenario.Line
	Graph *Graph
}

// Frames runs a script line by line and returns the graph of its world
// after each line, for a class to step through. Every frame holds every
// node and edge of every frame, those of other frames drawn invisible, and
// every label padded to the largest it is in any frame, in a fixed-width
// font: so Graphviz lays out each frame alike, and an object stays in one
// place from its first frame to its last. Each frame's title is its line;
// the nodes the line created or changed are marked Changed. Tasks are not
// grouped: a group would come and go from one line to the next.
func Frames(s *scenario.Script) ([]*Frame, error) {
	k := kernel.New(kernel.Config{})
	var frames []*Frame
	for _, l := range s.Lines {
		if err := execLine(k, s, l); err != nil {
			return nil, err
		}
		g := FromView(k.View())
		g.Title = fmt.Sprintf("%s line %d: %s", s.Name, l.Num, l.Text)
		if l.Cmd == "checkpoint" {
			g.Title += "  (a checkpoint changes nothing)"
		}
		frames = append(frames, &Frame{Line: l, Graph: g})
	}
	fix(frames)
	return frames, nil
}

// fix makes the frames' graphs the same graph but for what is seen: the
// union of their nodes and edges, in order of first appearance, hidden
// where absent, labels padded to one size.
func fix(frames []*Frame) {
	var nodes []string
	var edges []string
	lines, width := map[string]int{}, map[string]int{}
	first := map[string]*Node{}
	firstEdge := map[string]*Edge{}
	titleWidth := 0
	for _, f := range frames {
		titleWidth = max(titleWidth, utf8.RuneCountInString(f.Graph.Title))
		for _, n := range f.Graph.Nodes {
			if first[n.Name] == nil {
				first[n.Name] = n
				nodes = append(nodes, n.Name)
			}
			lines[n.Name] = max(lines[n.Name], len(n.Label))
			for _, l := range n.Label {
				width[n.Name] = max(width[n.Name], utf8.RuneCountInString(l))
			}
		}
		for _, e := range f.Graph.Edges {
			key := edgeKey(e)
			if firstEdge[key] == nil {
				firstEdge[key] = e
				edges = append(edges, key)
			}
			width[key] = max(width[key], utf8.RuneCountInString(e.Label))
		}
	}
	var prev map[string]string // node name -> label, in the previous frame
	for _, f := range frames {
		g := f.Graph
		have := map[string]*Node{}
		seen := map[string]string{}
		for _, n := range g.Nodes {
			have[n.Name] = n
			seen[n.Name] = strings.Join(n.Label, "\n")
		}
		haveEdge := map[string]*Edge{}
		for _, e := range g.Edges {
			haveEdge[edgeKey(e)] = e
		}
		out := newGraph()
		out.Title, out.fixed, out.frame = pad(g.Title, titleWidth), true, true
		for _, name := range nodes {
			n := have[name]
			if n == nil {
				c := *first[name]
				n = &c
				n.Hidden, n.Changed = true, false
			} else if old, ok := prev[name]; !ok || old != seen[name] {
				n.Changed = true
			}
			label := make([]string, lines[name])
			for i := range label {
				if i < len(n.Label) {
					label[i] = n.Label[i]
				}
				label[i] = pad(label[i], width[name])
			}
			n.Label = label
			out.add(n)
		}
		for _, key := range edges {
			e := haveEdge[key]
			if e == nil {
				c := *firstEdge[key]
				e = &c
				e.Hidden = true
			}
			if e.Label != "" || width[key] > 0 {
				e.Label = pad(e.Label, width[key])
			}
			out.Edges = append(out.Edges, e)
		}
		out.markShared()
		f.Graph = out
		prev = seen
	}
}

// edgeKey identifies an edge across frames: a file table's edge to a file
// is one whatever descriptors it stands for.
func edgeKey(e *Edge) string { return e.From + " " + e.To + " " + string(e.Kind) }

// pad fills s with spaces to width runes.
func pad(s string, width int) string {
	if n := utf8.RuneCountInString(s); n < width {
		return s + strings.Repeat(" ", width-n)
	}
	return s
}
