package graph_test

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// nodes lists a graph's nodes as "name [kind] label lines / ...".
func nodes(g *graph.Graph) []string {
	var out []string
	for _, n := range g.Nodes {
		s := fmt.Sprintf("%s [%s] %s", n.Name, n.Kind, strings.Join(n.Label, " / "))
		if n.Zombie {
			s += " (zombie)"
		}
		out = append(out, s)
	}
	return out
}

// edges lists a graph's edges as "from -> to [kind] label".
func edges(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, fmt.Sprintf("%s -> %s [%s] %s", e.From, e.To, e.Kind, e.Label))
	}
	return out
}

func dot(t *testing.T, g *graph.Graph) string {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, g.WriteDOT(&b))
	return b.String()
}

// TestDemoFromImage: the demo world's image gives exactly these objects and
// references, each shared object once.
func TestDemoFromImage(t *testing.T) {
	g, err := graph.FromImage(bytes.NewReader(testworld.Image(t, testworld.Build(t, testworld.Demo))))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"task_1 [task] pid 1 / init",
		"task_2 [task] pid 2 / worker",
		"task_3 [task] pid 3 / init",
		"task_4 [task] pid 4 / init / zombie, exit 7 (zombie)",
		"files_1 [file table] file table #1 / 5 fds",
		"file_2 [file] file #2: regular / /data / O_RDWR|O_LARGEFILE / pos 12",
		"file_3 [file] file #3: pipe / O_RDONLY / pos 0",
		"pipe_4 [pipe] pipe #4 / \"in flight\" / 9 bytes buffered / 1 reader, 1 writer",
		"file_5 [file] file #5: pipe / O_WRONLY / pos 0",
		"file_6 [file] file #6: regular / /scratch (deleted) / O_RDWR|O_LARGEFILE / pos 14",
		"ghost_7 [ghost] unlinked file #7 / /scratch / regular 0600, 14 bytes",
		"fs_8 [fs state] fs state #8 / root / / cwd /",
		"fs_9 [fs state] fs state #9 / root / / cwd /",
		"files_10 [file table] file table #10 / 3 fds",
		"fs_11 [fs state] fs state #11 / root / / cwd /",
	}, nodes(g))
	assert.Equal(t, []string{
		"task_1 -> task_2 [child] ",
		"task_1 -> task_3 [child] ",
		"task_1 -> task_4 [child] ",
		"files_1 -> file_2 [fd] fd 0, fd 1 (cloexec)",
		"files_1 -> file_3 [fd] fd 2",
		"file_3 -> pipe_4 [pipe] reads",
		"files_1 -> file_5 [fd] fd 3",
		"file_5 -> pipe_4 [pipe] writes",
		"files_1 -> file_6 [fd] fd 4",
		"file_6 -> ghost_7 [ghost] unlinked",
		"task_1 -> files_1 [files] files",
		"task_1 -> fs_8 [fs] fs",
		"task_2 -> files_1 [files] files",
		"task_2 -> fs_9 [fs] fs",
		"files_10 -> file_2 [fd] fd 0, fd 1 (cloexec)",
		"files_10 -> file_3 [fd] fd 2",
		"task_3 -> files_10 [files] files",
		"task_3 -> fs_11 [fs] fs",
	}, edges(g))
}

// TestDemoFromView: the world itself gives the same objects, labelled
// without kernel ids.
func TestDemoFromView(t *testing.T) {
	g := graph.FromView(testworld.Build(t, testworld.Demo).View())
	var labels []string
	for _, n := range g.Nodes {
		labels = append(labels, strings.Join(n.Label, " / "))
		assert.NotContains(t, strings.Join(n.Label, " "), "#", "no objrefs in a view's labels")
	}
	assert.Equal(t, []string{
		"pid 1 / init", "pid 2 / worker", "pid 3 / init", "pid 4 / init / zombie, exit 7",
		"file table / 5 fds",
		"file: regular / /data / O_RDWR|O_LARGEFILE / pos 12",
		"file: pipe / O_RDONLY / pos 0",
		"pipe / \"in flight\" / 9 bytes buffered / 1 reader, 1 writer",
		"file: pipe / O_WRONLY / pos 0",
		"file: regular / /scratch (deleted) / O_RDWR|O_LARGEFILE / pos 14",
		"unlinked file / /scratch / regular 0600, 14 bytes",
		"fs state / root / / cwd /", "fs state / root / / cwd /",
		"file table / 3 fds",
		"fs state / root / / cwd /",
	}, labels)
}

// TestSharedObjectsOnce: every object is one node, whatever refers to it;
// the shared ones have an edge per reference.
func TestSharedObjectsOnce(t *testing.T) {
	k := testworld.Build(t, testworld.Demo)
	img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
	require.NoError(t, err)
	for name, g := range map[string]*graph.Graph{"view": graph.FromView(k.View()), "image": img} {
		t.Run(name, func(t *testing.T) {
			seen := map[string]bool{}
			for _, n := range g.Nodes {
				assert.False(t, seen[n.Name], "node %s drawn twice", n.Name)
				seen[n.Name] = true
			}
			in := map[string][]graph.EdgeKind{}
			for _, e := range g.Edges {
				require.NotNil(t, g.Node(e.From), "edge from %s", e.From)
				require.NotNil(t, g.Node(e.To), "edge to %s", e.To)
				in[e.To] = append(in[e.To], e.Kind)
			}
			shared := map[graph.Kind]int{}
			for _, n := range g.Nodes {
				if len(in[n.Name]) > 1 {
					shared[n.Kind]++
				}
			}
			// pid 1's table (with the worker), /data and the pipe's read
			// end (with the forked child's table), the pipe (both ends).
			assert.Equal(t, map[graph.Kind]int{graph.KindFileTable: 1, graph.KindFile: 2, graph.KindPipe: 1}, shared)
		})
	}
}

// idRef matches what differs between a view's graph and an image's: node
// names (kernel ids or objrefs) and the objrefs in labels.
var idRef = regexp.MustCompile(` #[0-9]+`)

// sameShape checks that two graphs have the same nodes in the same order,
// with the same labels but for objrefs, and the same edges between them.
func sameShape(t require.TestingT, view, img *graph.Graph) {
	require.Equal(t, len(view.Nodes), len(img.Nodes), "node count")
	pos := func(g *graph.Graph) map[string]int {
		m := map[string]int{}
		for i, n := range g.Nodes {
			m[n.Name] = i
		}
		return m
	}
	vp, ip := pos(view), pos(img)
	for i := range view.Nodes {
		v, m := view.Nodes[i], img.Nodes[i]
		require.Equal(t, v.Kind, m.Kind, "node %d", i)
		require.Equal(t, v.Zombie, m.Zombie, "node %d", i)
		label := strings.Join(m.Label, "\n")
		if m.Kind != graph.KindTask { // a task's label has no objref, but its name may read " #0"
			label = idRef.ReplaceAllString(label, "")
		}
		require.Equal(t, strings.Join(v.Label, "\n"), label, "node %d", i)
	}
	require.Equal(t, len(view.Edges), len(img.Edges), "edge count")
	for i := range view.Edges {
		v, m := view.Edges[i], img.Edges[i]
		require.Equal(t, fmt.Sprint(vp[v.From], vp[v.To], v.Kind, v.Label), fmt.Sprint(ip[m.From], ip[m.To], m.Kind, m.Label), "edge %d", i)
	}
}

// countKinds counts a graph's nodes by kind.
func countKinds(g *graph.Graph) map[graph.Kind]int {
	m := map[graph.Kind]int{}
	for _, n := range g.Nodes {
		m[n.Kind]++
	}
	return m
}

var worlds = []struct{ name, script string }{
	{"demo", testworld.Demo},
	{"one task, no files", "spawn 1"},
	{"FIFO, unlinked, with a reader and a writer", `
		spawn 1
		mkfifo 1 /q
		open 1 /q O_RDONLY|O_NONBLOCK = 0
		open 1 /q O_WRONLY = 1
		write 1 1 "queued" = 6
		open 1 /q O_RDWR = 2
		unlink 1 /q`},
	{"CLONE_FS and a tree of three generations", `
		spawn 1
		mkdir 1 /d
		clone 1 2 CLONE_FS
		chdir 2 /d
		fork 2 3
		fork 3 4
		clone 3 5 CLONE_FILES|CLONE_FS
		open 5 /d/f O_WRONLY|O_CREAT = 0
		exit 4 1`},
}

// TestImageAndViewSameShape: a world and its image give the same graph
// but for names and objrefs.
func TestImageAndViewSameShape(t *testing.T) {
	for _, w := range worlds {
		t.Run(w.name, func(t *testing.T) {
			k := testworld.Build(t, w.script)
			view := graph.FromView(k.View())
			img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
			require.NoError(t, err)
			assert.Equal(t, countKinds(view), countKinds(img))
			sameShape(t, view, img)
		})
	}
}

// TestImageAndViewSameShapeProperty: so do the worlds of props.Worlds,
// one container rooted at pid 1.
func TestImageAndViewSameShapeProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := props.Worlds(props.Config{Steps: 30}).Draw(t, "world").K
		view := graph.FromView(k.View())
		img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
		require.NoError(t, err)
		sameShape(t, view, img)
	})
}

// TestTaskNamesSameInImageAndViewProperty: props.Worlds names every task
// "init", so this draws the names: any runes, which the kernel cuts to 15
// bytes, perhaps inside a rune. No NUL: the kernel keeps one, but an image
// cannot (its comm is NUL-padded), so the two graphs would rightly differ.
func TestTaskNamesSameInImageAndViewProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		name := func() string {
			return strings.ReplaceAll(rapid.StringN(0, 20, -1).Draw(t, "comm"), "\x00", "0")
		}
		k := kernel.New(kernel.Config{})
		_, err := k.Spawn(1, name())
		require.NoError(t, err)
		live := []int{1}
		clones := rapid.IntRange(0, 4).Draw(t, "clones")
		for child := 2; child < 2+clones; child++ {
			flags := rapid.SampledFrom([]int{0, kernel.CLONE_FILES, kernel.CLONE_FS, kernel.CLONE_FILES | kernel.CLONE_FS}).Draw(t, "clone flags")
			_, err := k.Clone(rapid.SampledFrom(live).Draw(t, "parent"), child, flags, name())
			require.NoError(t, err)
			if rapid.Bool().Draw(t, "exit") { // a zombie shows its name too
				require.NoError(t, k.Exit(child, 0))
			} else {
				live = append(live, child)
			}
		}
		view := graph.FromView(k.View())
		img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
		require.NoError(t, err)
		sameShape(t, view, img)
	})
}

// TestDeterministic: the same world, built twice, gives the same bytes.
func TestDeterministic(t *testing.T) {
	for _, w := range worlds {
		t.Run(w.name, func(t *testing.T) {
			a, b := testworld.Build(t, w.script), testworld.Build(t, w.script)
			assert.Equal(t, dot(t, graph.FromView(a.View())), dot(t, graph.FromView(b.View())))
			ga, err := graph.FromImage(bytes.NewReader(testworld.Image(t, a)))
			require.NoError(t, err)
			gb, err := graph.FromImage(bytes.NewReader(testworld.Image(t, b)))
			require.NoError(t, err)
			assert.Equal(t, dot(t, ga), dot(t, gb))
		})
	}
}

// TestTinyDOT pins down the whole DOT of a tiny world: the tree top-down,
// the objects in rows by kind, the pipe (both ends) shared, with its bytes.
func TestTinyDOT(t *testing.T) {
	g, err := graph.FromImage(bytes.NewReader(testworld.Image(t, testworld.Build(t, `
		spawn 1 init
		pipe 1 O_CLOEXEC = 0 1
		write 1 1 "hi" = 2
		fork 1 2
		exit 2 3`))))
	require.NoError(t, err)
	g.NoLegend = true
	assert.Equal(t, `digraph ckptsim {
	graph [rankdir=TB, newrank=true, fontname="Helvetica", fontsize=12, nodesep=0.3, ranksep=0.45];
	node [fontname="Helvetica", fontsize=10];
	edge [fontname="Helvetica", fontsize=9];
	task_1 [label="pid 1\ninit", shape=box, style="rounded,filled", fillcolor="#dbe9f6"];
	task_2 [label="pid 2\ninit\nzombie, exit 3", shape=box, style="rounded,dashed,filled", fillcolor="#eeeeee", fontcolor="#555555"];
	files_1 [label="file table #1\n2 fds", shape=tab, style="filled", fillcolor="#fdf1d6"];
	file_2 [label="file #2: pipe\nO_RDONLY\npos 0", shape=note, style="filled", fillcolor="#ffffff"];
	pipe_3 [label="pipe #3\n\"hi\"\n2 bytes buffered\n1 reader, 1 writer", shape=cylinder, style="filled", fillcolor="#f7dde4", color="#b03030", penwidth=2.5];
	file_4 [label="file #4: pipe\nO_WRONLY\npos 0", shape=note, style="filled", fillcolor="#ffffff"];
	fs_5 [label="fs state #5\nroot /\ncwd /", shape=folder, style="filled", fillcolor="#e6f2e0"];
	{rank=same; files_1; fs_5;}
	{rank=same; file_2; file_4;}
	task_1 -> task_2 [style=bold, color="#4a7ab5"];
	files_1 -> file_2 [label="fd 0 (cloexec)"];
	file_2 -> pipe_3 [label="reads", color="#b5485f"];
	files_1 -> file_4 [label="fd 1 (cloexec)"];
	file_4 -> pipe_3 [label="writes", color="#b5485f"];
	task_1 -> files_1 [label="files"];
	task_1 -> fs_5 [label="fs", color="#6b8f5e"];
}
`, dot(t, g))

	// The legend, below the lowest row.
	g.NoLegend = false
	out := dot(t, g)
	assert.Contains(t, out, "\tlegend [shape=plaintext, margin=0, label=<<table ")
	assert.Contains(t, out, ">shared: referenced more than once</td>")
	assert.Contains(t, out, "\tpipe_3 -> legend [style=invis];\n")
	assert.NotContains(t, out, "changed by this", "only frames have changes")
}

// TestShared: the objects with more than one reference are marked, a file
// table's descriptors each counting.
func TestShared(t *testing.T) {
	g := graph.FromView(testworld.Build(t, testworld.Demo).View())
	var shared []string
	for _, n := range g.Nodes {
		if n.Shared {
			shared = append(shared, strings.Join(n.Label, " / "))
		}
	}
	assert.Equal(t, []string{
		"file table / 5 fds", // pids 1 and 2
		"file: regular / /data / O_RDWR|O_LARGEFILE / pos 12",        // fds 0 and 1 of two tables
		"file: pipe / O_RDONLY / pos 0",                              // fd 2 of two tables
		`pipe / "in flight" / 9 bytes buffered / 1 reader, 1 writer`, // both ends
	}, shared)
}

// TestPipeBytesInLabel: a pipe's label quotes its first bytes, unprintable
// ones escaped, and says how many there are.
func TestPipeBytesInLabel(t *testing.T) {
	g := graph.FromView(testworld.Build(t, `
		spawn 1
		pipe 1 = 0 1
		write 1 1 "a\x00\tlong line of bytes in flight, more than a label holds" = 56`).View())
	var label []string
	for _, n := range g.Nodes {
		if n.Kind == graph.KindPipe {
			label = n.Label
		}
	}
	assert.Equal(t, []string{"pipe", `"a\x00\tlong line of bytes in"...`, "56 bytes buffered", "1 reader, 1 writer"}, label)
}

// TestDOTEscaping: names with quotes, backslashes and control characters
// stay inside their labels.
func TestDOTEscaping(t *testing.T) {
	g := graph.FromView(testworld.Build(t, `
		spawn 1 "say \"hi\" \\o/"
		open 1 "/new\nline" O_RDWR|O_CREAT = 0
		open 1 "/caf\u00e9 \\ \"x\"" O_RDWR|O_CREAT = 1`).View())
	out := dot(t, g)
	assert.Contains(t, out, `task_1 [label="pid 1\nsay \"hi\" \\o/", `)
	assert.Contains(t, out, `[label="file: regular\n\"/new\\nline\"\nO_RDWR|O_LARGEFILE\npos 0", `, "a control character makes the name quoted, Go style")
	assert.Contains(t, out, `[label="file: regular\n/café \\ \"x\"\nO_RDWR|O_LARGEFILE\npos 0", `)
	if svg, err := renderSVG(g); err == nil {
		assert.Contains(t, svg, "say &quot;hi&quot; \\o/", "dot read the label back as written")
	}
}

func renderSVG(g *graph.Graph) (string, error) {
	var b bytes.Buffer
	err := graph.WriteSVG(&b, g)
	return b.String(), err
}
