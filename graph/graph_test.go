package graph_test

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/vfs"
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

// edges lists a graph's edges as "from -> to [kind] label", a label's
// lines separated by " / ".
func edges(g *graph.Graph) []string {
	var out []string
	for _, e := range g.Edges {
		out = append(out, fmt.Sprintf("%s -> %s [%s] %s", e.From, e.To, e.Kind, strings.ReplaceAll(e.Label, "\n", " / ")))
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
		"file_table_1 [file table] file table #1 / fds 5",
		"file_2 [file] file #2 / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 12, size 12, changes 1 / path /data",
		"file_3 [file] file #3 / pipe / O_RDONLY / READ",
		`pipe_4 [pipe] pipe #4 / "in flight" / 9 bytes buffered`,
		"file_5 [file] file #5 / pipe / O_WRONLY / WRITE",
		"file_6 [file] file #6 / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 14, size 14, changes 1",
		`ghost_7 [ghost] ghost #7 / regular 0600 / changes 1 / path /scratch / contents "ghost contents"`,
		"fs_state_8 [fs state] fs state #8 / root / / cwd /",
		"mm_9 [mm] mm #9 / no VMAs",
		"fs_state_10 [fs state] fs state #10 / root / / cwd /",
		"mm_11 [mm] mm #11 / no VMAs",
		"file_table_12 [file table] file table #12 / fds 3",
		"fs_state_13 [fs state] fs state #13 / root / / cwd /",
		"mm_14 [mm] mm #14 / no VMAs",
	}, nodes(g))
	// In the order the image's records name them: a file's pipe or ghost
	// (its FILE record) before the file's descriptor (the FD after it).
	assert.Equal(t, []string{
		"task_1 -> task_2 [child] ",
		"task_1 -> task_3 [child] ",
		"task_1 -> task_4 [child] ",
		"file_table_1 -> file_2 [ref] fd 0, fd 1 cloexec",
		"file_3 -> pipe_4 [ref] pipe",
		"file_table_1 -> file_3 [ref] fd 2",
		"file_5 -> pipe_4 [ref] pipe",
		"file_table_1 -> file_5 [ref] fd 3",
		"file_6 -> ghost_7 [ref] ghost",
		"file_table_1 -> file_6 [ref] fd 4",
		"task_1 -> file_table_1 [holds] file table",
		"task_1 -> fs_state_8 [holds] fs",
		"task_1 -> mm_9 [holds] mm",
		"task_2 -> file_table_1 [holds] file table",
		"task_2 -> fs_state_10 [holds] fs",
		"task_2 -> mm_11 [holds] mm",
		"file_table_12 -> file_2 [ref] fd 0, fd 1 cloexec",
		"file_table_12 -> file_3 [ref] fd 2",
		"task_3 -> file_table_12 [holds] file table",
		"task_3 -> fs_state_13 [holds] fs",
		"task_3 -> mm_14 [holds] mm",
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
		"file table / fds 5",
		"file / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 12, size 12, changes 1 / path /data",
		"file / pipe / O_RDONLY / READ",
		`pipe / "in flight" / 9 bytes buffered`,
		"file / pipe / O_WRONLY / WRITE",
		"file / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 14, size 14, changes 1",
		`ghost / regular 0600 / changes 1 / path /scratch / contents "ghost contents"`,
		"fs state / root / / cwd /", "mm / no VMAs",
		"fs state / root / / cwd /", "mm / no VMAs",
		"file table / fds 3",
		"fs state / root / / cwd /", "mm / no VMAs",
	}, labels)
}

// TestMemoryFromImage: an address space is a node, labelled by its VMAs,
// its written pages and its break (mm.MMLabel); a VMA is a record of it,
// not a node: a mapping of a segment or a file is an edge, labelled with
// its range, protection and flags on lines of their own, to stay narrow.
// The thread's address space is pid 1's: one node, two edges; the segment
// both address spaces map is one node; the closed file is drawn, reached
// from the mappings that hold it. The world's own graph is the same.
func TestMemoryFromImage(t *testing.T) {
	k := testworld.Build(t, testworld.Memory)
	g, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
	require.NoError(t, err)
	assert.Equal(t, []string{
		"task_1 [task] pid 1 / init",
		"task_2 [task] pid 2 / init",
		"task_3 [task] pid 3 / thread",
		"file_table_1 [file table] file table #1",
		"fs_state_2 [fs state] fs state #2 / root / / cwd /",
		"mm_3 [mm] mm #3 / 3 VMAs (16 KiB) / 1 page written",
		"segment_4 [segment] segment #4 / 1 page, 1 written",
		"file_5 [file] file #5 / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 12, size 12, changes 1 / path /data",
		"file_table_6 [file table] file table #6",
		"fs_state_7 [fs state] fs state #7 / root / / cwd /",
		"mm_8 [mm] mm #8 / 3 VMAs (16 KiB) / 1 page written",
		"file_table_9 [file table] file table #9",
		"fs_state_10 [fs state] fs state #10 / root / / cwd /",
	}, nodes(g))
	var memory []string
	for _, e := range edges(g) {
		if strings.Contains(e, "mm_") {
			memory = append(memory, e)
		}
	}
	assert.Equal(t, []string{
		"mm_3 -> segment_4 [ref] start 0x10010000 / end 0x10011000 / rw- shared|maywrite",
		"mm_3 -> file_5 [ref] start 0x10020000 / end 0x10021000 / r-- maywrite",
		"task_1 -> mm_3 [holds] mm",
		"mm_8 -> segment_4 [ref] start 0x10010000 / end 0x10011000 / rw- shared|maywrite",
		"mm_8 -> file_5 [ref] start 0x10020000 / end 0x10021000 / r-- maywrite",
		"task_2 -> mm_8 [holds] mm",
		"task_3 -> mm_3 [holds] mm",
	}, memory)
	for _, n := range g.Nodes {
		assert.Equal(t, n.Name == "mm_3" || n.Name == "segment_4" || n.Name == "file_5", n.Shared, n.Name)
	}
	sameShape(t, graph.FromView(k.View()), g)
}

// TestPageTailLabel: what a store through a shared mapping left past a
// file's end, which only memory holds and the image carries in the file's
// FILE record, is in the file's box, from the world and from its image:
// its bytes that are not zero, and how many are.
func TestPageTailLabel(t *testing.T) {
	i := slices.IndexFunc(worlds, func(w struct{ name, script string }) bool {
		return strings.Contains(w.name, "past a mapped file's end")
	})
	require.GreaterOrEqual(t, i, 0)
	k := testworld.Build(t, worlds[i].script)
	img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
	require.NoError(t, err)
	for name, g := range map[string]*graph.Graph{"view": graph.FromView(k.View()), "image": img} {
		found := false
		for _, n := range g.Nodes {
			if n.Kind == "file" {
				found = true
				assert.Contains(t, n.Label, `page tail "past the end" (4091 bytes, 4079 of them zero)`, name)
			}
		}
		assert.True(t, found, name)
	}
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
			assert.Equal(t, map[graph.Kind]int{graph.Kind("file table"): 1, graph.Kind("file"): 2, graph.Kind("pipe"): 1}, shared)
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
	{"socket pairs: messages both ways, a shared end, a closed end, a reset", `
		spawn 1 init
		socketpair 1 SOCK_STREAM = 0 1
		write 1 0 "hello, " = 7
		write 1 0 "world" = 5
		read 1 1 3 = "hel"
		write 1 1 "back" = 4
		socketpair 1 SOCK_DGRAM SOCK_NONBLOCK = 2 3
		write 1 2 "one" = 3
		write 1 2 "two" = 3
		fork 1 2
		close 1 3
		socketpair 1 SOCK_SEQPACKET SOCK_NONBLOCK = 3 4
		write 1 3 "unread" = 6
		write 1 4 "left" = 4
		close 1 4
		shutdown 1 0 SHUT_WR`},
	{"memory: a COW page, a shared segment, a mapped file, a CLONE_VM thread", testworld.Memory},
	{"memory: an unlinked file mapped, a segment of four forked children, a moved break", `
		spawn 1 init
		open 1 /m O_RDWR|O_CREAT 0644 = 0
		write 1 0 "mapped" = 6
		mmap 1 0x10000000 4096 PROT_READ MAP_SHARED 0 0 = 0x10000000
		unlink 1 /m
		close 1 0
		mmap 1 0x10100000 16384 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS = 0x10100000
		memwrite 1 0x10101000 "x" = 1
		fork 1 2
		fork 1 3
		fork 1 4
		fork 1 5
		brk 5 0x1002000 = 0x1002000`},
	{"memory: a store past a mapped file's end, in its last page", `
		spawn 1 init
		open 1 /t O_RDWR|O_CREAT 0644 = 0
		write 1 0 "short" = 5
		mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED 0 0 = 0x10000000
		memwrite 1 0x10000100 "past the end" = 12
		fork 1 2`},
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

// TestMemorySameInImageAndViewProperty: worlds of a few tasks with memory
// of every kind (private and shared anonymous mappings written here and
// there, file mappings shared and private, of files later closed or
// unlinked, fork, CLONE_VM, a moved break, munmap, zombies) give the same
// graph from the world and from its image, grouped or not. The files end
// inside a page, so that a store through a shared mapping past a file's
// end leaves bytes only memory holds: the page tail, which the first FILE
// record of the inode carries and both pictures show.
func TestMemorySameInImageAndViewProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		k := memoryWorld(t)
		view := graph.FromView(k.View())
		img, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
		require.NoError(t, err)
		sameShape(t, view, img)
		view.Group()
		img.Group()
		sameShape(t, view, img)
	})
}

// memoryWorld draws a world of memory system calls; calls that fail are
// part of it (they change nothing).
func memoryWorld(t *rapid.T) *kernel.Kernel {
	k := kernel.New(kernel.Config{})
	_, err := k.Spawn(1, "init")
	require.NoError(t, err)
	for _, f := range []struct {
		path string
		size int
	}{{"/a", 100}, {"/b", mm.PageSize + 10}} {
		fd, err := k.Open(1, f.path, vfs.O_RDWR|vfs.O_CREAT, 0o644)
		require.NoError(t, err)
		_, err = k.Write(1, fd, bytes.Repeat([]byte(f.path[1:]), f.size))
		require.NoError(t, err)
	}
	live, next := []int{1}, 2
	slot := func(label string) uint64 {
		return 0x10000000 + uint64(rapid.IntRange(0, 15).Draw(t, label))*mm.PageSize
	}
	for range rapid.IntRange(1, 25).Draw(t, "steps") {
		pid := rapid.SampledFrom(live).Draw(t, "pid")
		switch rapid.IntRange(0, 9).Draw(t, "call") {
		case 0, 1:
			length := uint64(rapid.IntRange(1, 3).Draw(t, "pages")) * mm.PageSize
			prot := rapid.SampledFrom([]int{int(mm.ProtRead), int(mm.ProtRead | mm.ProtWrite)}).Draw(t, "prot")
			flags := rapid.SampledFrom([]int{mm.MAP_PRIVATE, mm.MAP_SHARED}).Draw(t, "sharing") | mm.MAP_FIXED
			fd := rapid.IntRange(-1, 3).Draw(t, "fd")
			if fd < 0 {
				flags |= mm.MAP_ANONYMOUS
			}
			_, _ = k.Mmap(pid, slot("addr"), length, prot, flags, fd, 0)
		case 2, 3:
			at := slot("addr") + uint64(rapid.SampledFrom([]int{0, 96, 200, 4090}).Draw(t, "offset in the page"))
			_, _ = k.ProcessVMWritev(pid, at, []byte(rapid.StringN(1, 8, 8).Draw(t, "data")))
		case 4:
			_ = k.Munmap(pid, slot("addr"), uint64(rapid.IntRange(1, 2).Draw(t, "pages"))*mm.PageSize)
		case 5:
			flags := rapid.SampledFrom([]int{0, kernel.CLONE_VM, kernel.CLONE_FILES, kernel.CLONE_VM | kernel.CLONE_FILES | kernel.CLONE_FS}).Draw(t, "clone flags")
			if _, err := k.Clone(pid, next, flags, "init"); err == nil {
				live = append(live, next)
			}
			next++
		case 6:
			_ = k.Close(pid, rapid.IntRange(0, 3).Draw(t, "fd"))
		case 7:
			path := rapid.SampledFrom([]string{"/a", "/b"}).Draw(t, "path")
			if rapid.Bool().Draw(t, "unlink") {
				_ = k.Unlink(pid, path)
			} else {
				_, _ = k.Open(pid, path, rapid.SampledFrom([]int{vfs.O_RDONLY, vfs.O_RDWR}).Draw(t, "mode"), 0)
			}
		case 8:
			_, _ = k.Brk(pid, 0x1000000+uint64(rapid.IntRange(0, 3).Draw(t, "heap pages"))*mm.PageSize)
		case 9: // a leaf exits: a zombie below its parent
			if tv := k.View().Task(pid); pid != 1 && len(tv.Children) == 0 {
				require.NoError(t, k.Exit(pid, 0))
				live = slices.DeleteFunc(live, func(p int) bool { return p == pid })
			}
		}
	}
	return k
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
	file_table_1 [label="file table #1\nfds 2", shape=tab, style="filled", fillcolor="#fdf1d6"];
	file_2 [label="file #2\npipe\nO_RDONLY\nREAD", shape=note, style="filled", fillcolor="#ffffff"];
	pipe_3 [label="pipe #3\n\"hi\"\n2 bytes buffered", shape=cylinder, style="filled", fillcolor="#f7dde4", color="#b03030", penwidth=2.5];
	file_4 [label="file #4\npipe\nO_WRONLY\nWRITE", shape=note, style="filled", fillcolor="#ffffff"];
	fs_state_5 [label="fs state #5\nroot /\ncwd /", shape=folder, style="filled", fillcolor="#e6f2e0"];
	mm_6 [label="mm #6\nno VMAs", shape=box3d, style="filled", fillcolor="#e8e0f4"];
	{rank=same; file_table_1; fs_state_5; mm_6;}
	{rank=same; file_2; file_4;}
	task_1 -> task_2 [style=bold, color="#4a7ab5"];
	file_2 -> pipe_3 [label="pipe"];
	file_table_1 -> file_2 [label="fd 0 cloexec"];
	file_4 -> pipe_3 [label="pipe"];
	file_table_1 -> file_4 [label="fd 1 cloexec"];
	task_1 -> file_table_1 [label="file table"];
	task_1 -> fs_state_5 [label="fs"];
	task_1 -> mm_6 [label="mm"];
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
		"file table / fds 5", // pids 1 and 2
		"file / regular / O_RDWR|O_LARGEFILE / READ|WRITE|LSEEK|PREAD|PWRITE / pos 12, size 12, changes 1 / path /data", // fds 0 and 1 of two tables
		"file / pipe / O_RDONLY / READ",         // fd 2 of two tables
		`pipe / "in flight" / 9 bytes buffered`, // both ends
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
		if n.Kind == graph.Kind("pipe") {
			label = n.Label
		}
	}
	assert.Equal(t, []string{"pipe", `"a\x00\tlong line of bytes in"...`, "56 bytes buffered"}, label)
}

// TestSocketPairs: a socket pair is drawn from its records' spec and its
// Label (socket.PairLabel): each end's state and what waits for it to read;
// each socket's file refers to it by its end.
func TestSocketPairs(t *testing.T) {
	k := testworld.Build(t, worlds[3].script)
	g, err := graph.FromImage(bytes.NewReader(testworld.Image(t, k)))
	require.NoError(t, err)
	var pairs []string
	for _, n := range g.Nodes {
		if n.Kind == "socket pair" {
			pairs = append(pairs, strings.Join(n.Label, " / "))
		}
	}
	assert.Equal(t, []string{
		`socket pair #3 / SOCK_STREAM / end 0: SHUT_WR, "back" to read (4 bytes) / end 1: SHUT_RD, "lo, world" to read (9 bytes)`,
		`socket pair #6 / SOCK_DGRAM / end 0: nothing to read / end 1: "onetwo" to read (2 messages, 6 bytes)`,
		`socket pair #8 / SOCK_SEQPACKET / end 0: SHUT_RDWR, ECONNRESET, "left" to read (1 message, 4 bytes) / end 1: closed`,
	}, pairs)
	assert.Contains(t, edges(g), "file_2 -> socket_pair_3 [ref] end 0")
	assert.Contains(t, edges(g), "file_4 -> socket_pair_3 [ref] end 1")
	assert.Contains(t, nodes(g), "file_2 [file] file #2 / socket / O_RDWR / READ|WRITE")
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
	assert.Contains(t, out, `[label="file\nregular\nO_RDWR|O_LARGEFILE\nREAD|WRITE|LSEEK|PREAD|PWRITE\npath \"/new\\nline\"", `, "a control character makes the name quoted, Go style")
	assert.Contains(t, out, `[label="file\nregular\nO_RDWR|O_LARGEFILE\nREAD|WRITE|LSEEK|PREAD|PWRITE\npath \"/café \\\\ \\\"x\\\"\"", `, "a blank makes it quoted too")
	if svg, err := renderSVG(g); err == nil {
		assert.Contains(t, svg, "say &quot;hi&quot; \\o/", "dot read the label back as written")
	}
}

func renderSVG(g *graph.Graph) (string, error) {
	var b bytes.Buffer
	err := graph.WriteSVG(&b, g)
	return b.String(), err
}
