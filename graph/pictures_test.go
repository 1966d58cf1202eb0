package graph_test

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// wide is a world of 14 tasks: a chain, eight children of init forked
// alike (one a zombie), and three threads sharing everything with pid 2.
const wide = `
	spawn 1 init
	open 1 /shared O_RDWR|O_CREAT 0644 = 0
	clone 1 2 CLONE_FILES|CLONE_FS level1
	fork 2 3
	fork 1 10
	fork 1 11
	fork 1 12
	fork 1 13
	fork 1 14
	fork 1 15
	fork 1 16
	fork 1 17
	exit 16 16
	clone 2 20 CLONE_FILES|CLONE_FS thread
	clone 2 21 CLONE_FILES|CLONE_FS thread
	clone 2 22 CLONE_FILES|CLONE_FS thread
	open 13 /own O_RDWR|O_CREAT 0644 = 1`

func byLabel(g *graph.Graph, first string) *graph.Node {
	for _, n := range g.Nodes {
		if n.Label[0] == first {
			return n
		}
	}
	return nil
}

// TestGroup: alike leaf tasks fold into one node, their private copies
// into one stacked node each, and what they share stays shared.
func TestGroup(t *testing.T) {
	k := testworld.Build(t, wide)
	g := graph.FromView(k.View())
	require.Equal(t, 14, countKinds(g)[graph.KindTask])
	g.Group()

	forked := byLabel(g, "pids 10-12, 14, 15, 17 (6 tasks)")
	require.NotNil(t, forked, "%v", nodes(g))
	assert.Equal(t, 6, forked.Count)
	assert.Equal(t, []string{"pids 10-12, 14, 15, 17 (6 tasks)", "init"}, forked.Label)
	assert.NotNil(t, byLabel(g, "pid 13"), "pid 13 has a file of its own: apart")
	assert.NotNil(t, byLabel(g, "pid 16"), "the zombie differs: apart")
	threads := byLabel(g, "pids 20-22 (3 tasks)")
	require.NotNil(t, threads)
	assert.Equal(t, []string{"pids 20-22 (3 tasks)", "thread"}, threads.Label)
	assert.Equal(t, map[graph.Kind]int{graph.KindTask: 7, graph.Kind("file table"): 4, graph.Kind("fs state"): 4, graph.Kind("mm"): 6, graph.Kind("file"): 2}, countKinds(g),
		"every live task has its own address space: pids 1, 2, 3 and 13 theirs, each group its stack")

	tables := byLabel(g, "6 file tables, one each")
	require.NotNil(t, tables)
	assert.Equal(t, 6, tables.Count)
	fss := byLabel(g, "6 fs states, one each")
	require.NotNil(t, fss)
	assert.Equal(t, []string{"6 fs states, one each", "root /", "cwd /"}, fss.Label)
	mms := byLabel(g, "3 mms, one each")
	require.NotNil(t, mms, "the threads share files and fs state, not memory")
	assert.Equal(t, []string{"3 mms, one each", "no VMAs"}, mms.Label)

	refsTo := func(n *graph.Node) int {
		refs := 0
		for _, e := range g.Edges {
			if e.To == n.Name && e.Kind != graph.EdgeChild {
				refs += e.Refs
			}
		}
		return refs
	}
	for _, n := range g.Nodes {
		switch {
		case n.Kind == graph.Kind("file") && slices.Contains(n.Label, "path /shared"):
			// fd 0 of pid 1's table, of 3's, of 13's and of the six copies.
			assert.Equal(t, 9, refsTo(n))
			assert.True(t, n.Shared)
		case n.Kind == graph.Kind("file"):
			assert.Equal(t, 1, refsTo(n), "/own, in 13's table only")
			assert.False(t, n.Shared)
		case n == tables, n == fss:
			assert.Equal(t, 1, refsTo(n), "six copies, each held by its one task")
			assert.False(t, n.Shared, "no copy is shared")
		}
	}
	ones := 0
	for _, e := range g.Edges {
		if e.From == "task_1" && e.Kind == graph.EdgeHolds && e.Label == "file table" {
			ones++
			assert.Equal(t, 5, refsTo(g.Node(e.To)), "pid 1's table: pids 1, 2 and the three threads")
		}
	}
	assert.Equal(t, 1, ones)
	assert.Equal(t, forked.Name, g.Drawn("task_17"), "a folded task is drawn as its group")
	assert.Equal(t, "task_13", g.Drawn("task_13"))

	// Two alike tasks are still drawn apart.
	g2 := graph.FromView(testworld.Build(t, "spawn 1\nfork 1 2\nfork 1 3").View())
	g2.Group()
	assert.Equal(t, 3, countKinds(g2)[graph.KindTask])
}

// TestGroupSameInViewAndImage: the image of a world groups as the world.
func TestGroupSameInViewAndImage(t *testing.T) {
	k := testworld.Build(t, wide)
	view := graph.FromView(k.View())
	img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
	require.NoError(t, err)
	view.Group()
	img.Group()
	sameShape(t, view, img)
}

// TestFromScriptAt: the world after a line, and lines that are none.
func TestFromScriptAt(t *testing.T) {
	s, err := scenario.ParseString("demo.scn", "# the demo\n"+testworld.Demo)
	require.NoError(t, err)
	g, err := graph.FromScriptAt(s, 7) // through the pipe
	require.NoError(t, err)
	assert.Equal(t, "demo.scn after line 7", g.Title)
	assert.Equal(t, map[graph.Kind]int{graph.KindTask: 1, graph.Kind("file table"): 1, graph.Kind("fs state"): 1, graph.Kind("mm"): 1, graph.Kind("file"): 3, graph.Kind("pipe"): 1}, countKinds(g))
	for _, line := range []int{1, 99} {
		_, err = graph.FromScriptAt(s, line)
		assert.EqualError(t, err, "demo.scn: line "+strconv.Itoa(line)+" is not a statement of the script (its statements are on lines 3 to 16)")
	}
}

// TestFrames: one frame a line, each the same graph but for what is seen:
// the same nodes and edges in the same order with labels of the same size;
// what a line creates or changes is marked.
func TestFrames(t *testing.T) {
	s, err := scenario.ParseString("demo.scn", testworld.Demo+"\tcheckpoint 1 => x\n\tclose 1 4\n")
	require.NoError(t, err)
	frames, err := graph.Frames(s)
	require.NoError(t, err)
	require.Len(t, frames, len(s.Lines))
	first := frames[0].Graph
	width := func(n *graph.Node) []int {
		var w []int
		for _, l := range n.Label {
			w = append(w, utf8.RuneCountInString(l))
		}
		return w
	}
	for i, f := range frames {
		g := f.Graph
		assert.Equal(t, s.Lines[i], f.Line)
		assert.True(t, strings.HasPrefix(g.Title, "demo.scn line "+strconv.Itoa(f.Line.Num)+": "+f.Line.Text), g.Title)
		assert.Equal(t, utf8.RuneCountInString(first.Title), utf8.RuneCountInString(g.Title), "titles padded alike")
		require.Equal(t, len(first.Nodes), len(g.Nodes), "frame %d", i)
		require.Equal(t, len(first.Edges), len(g.Edges), "frame %d", i)
		for j, n := range g.Nodes {
			assert.Equal(t, first.Nodes[j].Name, n.Name)
			assert.Equal(t, width(first.Nodes[j]), width(n), "node %s in frame %d", n.Name, i)
		}
		for j, e := range g.Edges {
			assert.Equal(t, first.Edges[j].From+first.Edges[j].To, e.From+e.To)
			assert.Equal(t, utf8.RuneCountInString(first.Edges[j].Label), utf8.RuneCountInString(e.Label))
		}
	}
	changed := func(i int) []string {
		var out []string
		for _, n := range frames[i].Graph.Nodes {
			if n.Changed {
				out = append(out, n.Name)
			}
			assert.False(t, n.Changed && n.Hidden)
		}
		return out
	}
	visible := func(i int) (n int) {
		for _, x := range frames[i].Graph.Nodes {
			if !x.Hidden {
				n++
			}
		}
		return n
	}
	assert.Len(t, changed(0), 4, "spawn: the task, its table, fs state and address space")
	assert.Equal(t, 4, visible(0))
	assert.Len(t, changed(1), 2, "open: the table (1 fd) and the file")
	last := len(frames) - 1
	assert.Empty(t, changed(last-1), "a checkpoint changes nothing")
	assert.Contains(t, frames[last-1].Graph.Title, "(a checkpoint changes nothing)")
	assert.Equal(t, visible(last-1)-2, visible(last), "close of the unlinked file's last fd: the file and its ghost go")

	var b bytes.Buffer
	require.NoError(t, frames[3].Graph.WriteDOT(&b))
	assert.Contains(t, b.String(), `fontname="monospace"`)
	assert.Contains(t, b.String(), "style=invis")
	assert.Contains(t, b.String(), `\l"`, "left-aligned lines")
	assert.Contains(t, b.String(), "yellow: created or changed by this frame's line")

	bad, err := scenario.ParseString("bad.scn", "spawn 1\nclose 1 5\n")
	require.NoError(t, err)
	_, err = graph.Frames(bad)
	assert.EqualError(t, err, "bad.scn:2: close 1 5: got EBADF, expected success")
}

// TestFramesKeepTheirPlace: Graphviz puts every node at the same place in
// every frame that shows it.
func TestFramesKeepTheirPlace(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz)")
	}
	s, err := scenario.ParseString("demo.scn", testworld.Demo)
	require.NoError(t, err)
	frames, err := graph.Frames(s)
	require.NoError(t, err)
	var first map[string]string
	for i, f := range frames {
		if i%4 != 0 && i != len(frames)-1 { // a few frames are enough
			continue
		}
		pos := layout(t, f.Graph)
		if first == nil {
			first = pos
			continue
		}
		assert.Equal(t, first, pos, "frame %d", i)
	}
}

// layout runs dot -Tplain and returns each node's position and size.
func layout(t *testing.T, g *graph.Graph) map[string]string {
	t.Helper()
	var in bytes.Buffer
	require.NoError(t, g.WriteDOT(&in))
	cmd := exec.Command("dot", "-Tplain")
	cmd.Stdin = &in
	out, err := cmd.Output()
	require.NoError(t, err)
	pos := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 6 && f[0] == "node" {
			pos[f[1]] = strings.Join(f[2:6], " ")
		}
	}
	require.NotEmpty(t, pos)
	return pos
}

// TestRestored: a world and its restored copy side by side, each object
// tagged with its pair's number.
func TestRestored(t *testing.T) {
	k := testworld.Build(t, testworld.Demo)
	m, err := (&ckpt.Engine{Kernel: k, Clock: testworld.Clock}).Migrate(1, 0, 0)
	require.NoError(t, err)
	g := graph.Restored(k.View(), m.Kernel.View(), 1)
	assert.Equal(t, "equiv: the same world", g.Title)
	require.Len(t, g.Clusters, 2)
	single := graph.FromView(k.View())
	require.Len(t, g.Nodes, 2*len(single.Nodes))
	pairable := pairedKinds(k.View(), m.Kernel.View())
	want := 0
	for _, n := range single.Nodes {
		if pairable(n.Kind) {
			want++
		}
	}
	tags := map[string][]string{}
	pairs := 0
	for _, e := range g.Edges {
		if e.Kind == graph.EdgePair {
			pairs++
			from, to := g.Node(e.From), g.Node(e.To)
			assert.Equal(t, "before", from.Cluster)
			assert.Equal(t, "after", to.Cluster)
			assert.Equal(t, from.Label, to.Label, "a pair looks the same")
			assert.Equal(t, from.Tag, to.Tag)
			if from.Kind != graph.KindTask {
				tags[from.Tag] = append(tags[from.Tag], from.Name)
			}
		}
	}
	assert.Equal(t, want, pairs, "every object of a kind equiv pairs paired")
	for tag, names := range tags {
		assert.Len(t, names, 1, "tag %s used once", tag)
	}
	assert.Len(t, tags, want-4, "every such object but the 4 tasks tagged")
	var b bytes.Buffer
	require.NoError(t, g.WriteDOT(&b))
	assert.Contains(t, b.String(), "subgraph cluster_0 {\n\t\tlabel=\"before: the world checkpointed\";")
	assert.Contains(t, b.String(), `label="file table  [1]\nfds 5"`)
	assert.Contains(t, b.String(), "[n]: an object and the restored copy equiv paired it with")

	// A container less than the world: the same container.
	k = testworld.Build(t, "spawn 1\nfork 1 2\nopen 2 /f O_RDWR|O_CREAT 0644 = 0")
	m, err = (&ckpt.Engine{Kernel: k}).Migrate(2, 0, 0)
	require.NoError(t, err)
	g = graph.Restored(k.View(), m.Kernel.View(), 2)
	assert.Equal(t, "equiv: the same container", g.Title)
	// And a copy that is not the world: the title says so.
	g = graph.Restored(k.View(), testworld.Build(t, "spawn 2").View(), 2)
	assert.Equal(t, "equiv: NOT the same container", g.Title)
}

// pairedKinds reports which kinds of node a picture of a world beside its
// restored copy can tag: tasks, and the kinds of object equiv pairs in the
// two worlds (by its names for them: a ghost is an unlinked inode, an mm
// an address space).
func pairedKinds(before, after *kernel.View) func(graph.Kind) bool {
	pairs := equiv.Pair(before, after, 0)
	names := map[graph.Kind]string{"ghost": equiv.PairGhost, "mm": equiv.PairMM}
	return func(k graph.Kind) bool {
		name, ok := names[k]
		if !ok {
			name = string(k)
		}
		return k == graph.KindTask || len(pairs[name]) > 0
	}
}

// TestRenderPNG: a PNG through dot, and formats it does not know.
func TestRenderPNG(t *testing.T) {
	g := graph.FromView(testworld.Build(t, testworld.Demo).View())
	var b bytes.Buffer
	assert.EqualError(t, graph.Render(&b, g, "gif"), `graph: unknown picture format "gif" (svg or png)`)
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz)")
	}
	require.NoError(t, graph.Render(&b, g, graph.PNG))
	assert.True(t, bytes.HasPrefix(b.Bytes(), []byte("\x89PNG\r\n\x1a\n")), "a PNG")
}

// TestRestoredSocketPairs: socket pairs and their files pair with their
// restored copies too, each tagged.
func TestRestoredSocketPairs(t *testing.T) {
	k := testworld.Build(t, worlds[3].script)
	m, err := (&ckpt.Engine{Kernel: k, Clock: testworld.Clock}).Migrate(1, 0, 0)
	require.NoError(t, err)
	g := graph.Restored(k.View(), m.Kernel.View(), 1)
	assert.Equal(t, "equiv: the same world", g.Title)
	paired := map[string]bool{}
	for _, e := range g.Edges {
		if e.Kind == graph.EdgePair {
			paired[e.From] = true
		}
	}
	pairable := pairedKinds(k.View(), m.Kernel.View())
	socketPairs := 0
	for _, n := range g.Nodes {
		if n.Cluster != "before" || !pairable(n.Kind) {
			continue
		}
		assert.True(t, paired[n.Name], "%s is paired", n.Name)
		if n.Kind == "socket pair" {
			socketPairs++
			assert.NotEmpty(t, n.Tag)
		}
	}
	assert.Equal(t, 3, socketPairs)
}

// TestRestoredMemory: address spaces and segments pair with their restored
// copies too (equiv's "address space" and "segment"), each tagged.
func TestRestoredMemory(t *testing.T) {
	k := testworld.Build(t, testworld.Memory)
	m, err := (&ckpt.Engine{Kernel: k, Clock: testworld.Clock}).Migrate(1, 0, 0)
	require.NoError(t, err)
	g := graph.Restored(k.View(), m.Kernel.View(), 1)
	assert.Equal(t, "equiv: the same world", g.Title)
	tagged := map[graph.Kind]int{}
	for _, n := range g.Nodes {
		if n.Cluster == "before" && n.Kind != graph.KindTask {
			assert.NotEmpty(t, n.Tag, "%s is tagged", n.Name)
			tagged[n.Kind]++
		}
	}
	assert.Equal(t, 2, tagged["mm"], "pid 1's (the thread's too) and pid 2's")
	assert.Equal(t, 1, tagged["segment"])
}
