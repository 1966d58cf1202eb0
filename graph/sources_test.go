package graph_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/task"
)

// TestFromScript runs a script, skipping its checkpoint lines, and graphs
// the world it built.
func TestFromScript(t *testing.T) {
	s, err := scenario.ParseString("demo.scn", testworld.Demo+"\tcheckpoint 1 => demo\n\tclose 1 4\n")
	require.NoError(t, err)
	g, err := graph.FromScript(s)
	require.NoError(t, err)
	k := testworld.Build(t, testworld.Demo+"\tclose 1 4\n")
	assert.Equal(t, dot(t, graph.FromView(k.View())), dot(t, g))
	assert.Equal(t, map[graph.Kind]int{graph.KindTask: 4, graph.Kind("file table"): 2, graph.Kind("fs state"): 3, graph.Kind("mm"): 3, graph.Kind("file"): 3, graph.Kind("pipe"): 1},
		countKinds(g), "the unlinked file is gone with its last descriptor")
}

func TestFromScriptFailingLine(t *testing.T) {
	s, err := scenario.ParseString("bad.scn", "spawn 1\n\nopen 1 /nowhere O_RDONLY = 0\n")
	require.NoError(t, err)
	_, err = graph.FromScript(s)
	var se *scenario.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 3, se.Line)
	assert.EqualError(t, err, "bad.scn:3: open 1 /nowhere O_RDONLY = 0: got ENOENT, expected 0")

	s, err = scenario.ParseString("bad.scn", "spawn 1\nclose 1 0")
	require.NoError(t, err)
	_, err = graph.FromScript(s)
	assert.EqualError(t, err, "bad.scn:2: close 1 0: got EBADF, expected success")
}

// TestFromImageErrors: an image that cannot be followed is refused with the
// offset of the record at fault.
func TestFromImageErrors(t *testing.T) {
	img := testworld.Image(t, testworld.Build(t, testworld.Demo))
	recs, err := image.ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	edited := func(edit func(recs []*image.Record) []*image.Record) []byte {
		cp := append([]*image.Record(nil), recs...)
		return image.Encode(edit(cp), true)
	}
	setFd := func(rec *image.Record, file int32) *image.Record {
		var fd task.FdRecord
		require.NoError(t, rec.Decode(&fd))
		fd.File = file
		out := *rec
		require.NoError(t, out.SetFixed(&fd))
		return &out
	}
	flocked, err := testworld.Checkpoint(t, testworld.Build(t, "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nflock 1 0 LOCK_EX"), 1)
	require.Error(t, err)
	cases := []struct {
		name string
		img  []byte
		want string
	}{
		{"cut short", img[:876], "image offset 864: PIPE_BUF record: image cut short: 12 of 32 bytes"},
		{"no tail", img[:len(img)-24], fmt.Sprintf("image offset %d: image ends without a tail or error record: cut short", len(img)-24)},
		{"error record", flocked, "image offset 512: ERROR record: the checkpoint failed: pid 1: objhash: checkpoint file table objref 1: fd 0: objhash: checkpoint file objref 2: the file holds a flock lock: EBADF (bad file descriptor)"},
		{"a descriptor of an unknown file", edited(func(r []*image.Record) []*image.Record {
			r[12] = setFd(r[12], 42)
			return r
		}), "image offset 704: FD record: File names objref 42, which no OBJREF record of a file introduces"},
		{"a file's state without its objref", edited(func(r []*image.Record) []*image.Record {
			return append(r[:10], r[11:]...) // the OBJREF record of /data
		}), "image offset 616: FILE record: not in the state of any file: no OBJREF record of a file comes before it"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := graph.FromImage(bytes.NewReader(c.img))
			require.Error(t, err)
			assert.ErrorIs(t, err, errno.EINVAL)
			assert.EqualError(t, err, c.want)
		})
	}
}

// TestFromImageIgnoresChecksum: the graph of an image whose checksum is
// wrong is still drawn; restart is what refuses it.
func TestFromImageIgnoresChecksum(t *testing.T) {
	img := testworld.Image(t, testworld.Build(t, testworld.Demo))
	binary.LittleEndian.PutUint32(img[len(img)-8:], 0)
	_, err := graph.FromImage(bytes.NewReader(img))
	assert.NoError(t, err)
}

func TestWriteSVG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz)")
	}
	g, err := graph.FromImage(bytes.NewReader(testworld.Image(t, testworld.Build(t, testworld.Demo))))
	require.NoError(t, err)
	svg, err := renderSVG(g)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(svg, "<?xml"), "an SVG document")
	assert.Contains(t, svg, "</svg>")
	for _, n := range g.Nodes {
		assert.Contains(t, svg, "<title>"+n.Name+"</title>", "every node is drawn")
	}
	assert.Contains(t, svg, "file table #1")
	assert.Contains(t, svg, "9 bytes buffered")
}

func TestWriteSVGWithoutDot(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	var out bytes.Buffer
	err := graph.WriteSVG(&out, graph.FromView(testworld.Build(t, "spawn 1").View()))
	require.True(t, errors.Is(err, graph.ErrNoDot))
	assert.Contains(t, err.Error(), "apt-get install graphviz")
	assert.Zero(t, out.Len(), "nothing written")
}
