package spectest_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	_ "github.com/ckptsim/ckptsim/ckpt" // every record type of the simulator
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/testworld"
)

// A gadget: an object type of this test only, with a record of its state
// (GADGET: an enum, a length, a number, a tail in two parts, counted in
// the summary by its enum) and a record a task uses it by (GADGET_USE: an
// objref field and a number). This is all there is of it.
const objGadget object.Type = 99

type gadgetRecord struct {
	Color   uint32 `doc:"1 red, 2 blue"`
	NameLen uint32 `doc:"length of the name at the start of the tail"`
	Size    int64  `doc:"how big it is"`
}

type gadgetUseRecord struct {
	Gadget int32  `doc:"objref of the gadget"`
	Slot   uint32 `doc:"where the task keeps it"`
}

var (
	gadgetKind = image.Define[gadgetRecord](image.Spec{Type: 90, Name: "GADGET", Doc: "A gadget's state.", Object: objGadget,
		Meaning: map[string]image.Meaning{"Color": {Names: map[uint64]string{1: "red", 2: "blue"}}},
		Tail: image.TailSpec{Doc: "its name, then its payload", Max: 1024,
			Parts: []image.TailPart{{Name: "name", LenField: "NameLen"}, {Name: "payload"}}},
		Count: image.Count{Name: "gadgets", By: "Color"}})
	gadgetUseKind = image.Define[gadgetUseRecord](image.Spec{Type: 91, Name: "GADGET_USE", Doc: "A task's gadget.",
		Meaning: map[string]image.Meaning{"Gadget": {Ref: objGadget}}})
)

func init() {
	object.Register(object.Ops{Type: objGadget, Name: "gadget",
		Restore: func(object.Restorer) (any, error) { return nil, errors.New("a gadget of the spec test") }})
}

// plainImage is the image of a world of one task with one file.
func plainImage(t *testing.T) []byte {
	return testworld.Image(t, testworld.Build(t, "spawn 1 init\nopen 1 /f O_RDWR|O_CREAT 0644 = 0"))
}

// gadgetRef is the gadget's objref in gadgetImage: the one after the
// plain image's objects.
func gadgetRef(t *testing.T) int32 {
	t.Helper()
	return int32(len(report(t, plainImage(t)).Objects) + 1)
}

// gadgetImage is the image of a world of one task, with a gadget that the
// task uses, introduced right before the record that uses it, as a
// checkpoint would: OBJREF, GADGET, then GADGET_USE, after the task's
// registers.
func gadgetImage(t *testing.T, color uint32, payload string) []byte {
	t.Helper()
	recs, err := image.ReadAll(bytes.NewReader(plainImage(t)))
	require.NoError(t, err)
	tail := recs[len(recs)-1]
	require.Equal(t, image.TypeTail, tail.Type)
	ref := gadgetRef(t)
	recs = append(recs[:len(recs)-1],
		image.ObjrefKind.Record(&image.Objref{ObjType: uint32(objGadget), Objref: ref}, nil),
		gadgetKind.Record(&gadgetRecord{Color: color, NameLen: 5, Size: 42}, []byte("probe"+payload)),
		gadgetUseKind.Record(&gadgetUseRecord{Gadget: ref, Slot: 3}, nil),
		tail)
	return image.Encode(recs, true)
}

func report(t *testing.T, img []byte) *inspect.Report {
	t.Helper()
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	require.Empty(t, rep.Faults)
	return rep
}

// TestNewRecordType: show, the summary, ps, the JSON round trip, diff and
// graph read the gadget from its definition alone.
func TestNewRecordType(t *testing.T) {
	img := gadgetImage(t, 1, "some bytes")
	rep := report(t, img)
	ref := gadgetRef(t)
	gadget := fmt.Sprintf("gadget #%d", ref)
	// The plain image's records, then OBJREF, GADGET, GADGET_USE.
	first := len(report(t, plainImage(t)).Records) - 1
	at := func(i int) string { return fmt.Sprintf("record %d at offset %d", first+i, rep.Records[first+i].Offset) }

	// show: the records with their fields' meaning, what each belongs to,
	// the tail in its parts, the objref marked; the summary counts it.
	var show bytes.Buffer
	require.NoError(t, rep.WriteText(&show))
	for _, want := range []string{
		fmt.Sprintf("  OBJREF           8  pid 1          ObjType=99(gadget) Objref=%d(first)\n", ref),
		fmt.Sprintf("  GADGET          31  %-13s  Color=1(red) NameLen=5 Size=42 name=\"probe\" payload=\"some bytes\"\n", gadget),
		fmt.Sprintf("  GADGET_USE       8  pid 1          Gadget=%d(first) Slot=3\n", ref),
		"  gadgets: 1 (red 1, blue 0)\n",
	} {
		assert.Contains(t, show.String(), want)
	}
	assert.Equal(t, int64(1), rep.Summary.CountBy("gadgets", "red"))
	o := rep.Objects[len(rep.Objects)-1]
	assert.Equal(t, gadget, o.Name())
	assert.Equal(t, rep.Tasks[0], o.Task)

	// ps: a column for the task's new objref field.
	var ps bytes.Buffer
	require.NoError(t, rep.WritePS(&ps))
	assert.Equal(t, fmt.Sprintf("PID  PPID  STATE  EXIT  COMM  FILE TABLE  FS  MM  GADGET\n1    0     live         init  #1          #3  #4  #%d\n", ref), ps.String())

	// JSON: every field by name, back to the identical bytes; an edit of a
	// field comes through.
	var js bytes.Buffer
	require.NoError(t, rep.WriteJSON(&js))
	assert.Contains(t, js.String(), `"type":"GADGET","length":31,"of":"`+gadget+`","fields":{"Color":1,"NameLen":5,"Size":42},"tail":"probesome bytes","symbols":{"Color":"red"}}`)
	var back bytes.Buffer
	require.NoError(t, inspect.Encode(&back, strings.NewReader(js.String())))
	assert.Equal(t, img, back.Bytes())
	var edited bytes.Buffer
	require.NoError(t, inspect.EncodeWith(&edited, strings.NewReader(strings.Replace(js.String(), `"Color":1,`, `"Color":2,`, 1)),
		inspect.EncodeOptions{FixCRC: true}))
	assert.Equal(t, gadgetImage(t, 2, "some bytes"), edited.Bytes())

	// diff: the field by name with both meanings; a gadget gone is its
	// records gone, not a renumbering of anything.
	var changes []string
	for _, c := range inspect.Diff(rep, report(t, gadgetImage(t, 2, "other bytes"))) {
		changes = append(changes, c.String())
	}
	require.Len(t, changes, 2, "%s", strings.Join(changes, "\n"))
	assert.Equal(t, "~ GADGET     of "+gadget+", "+at(1)+" -> "+at(1)+"\n"+
		"      Color: 1(red) -> 2(blue)\n"+
		"      payload: \"some bytes\" -> \"other bytes\"", changes[0])
	plain := plainImage(t)
	changes = nil
	for _, c := range inspect.Diff(report(t, plain), rep) {
		changes = append(changes, c.String())
	}
	require.Len(t, changes, 4, "%s", strings.Join(changes, "\n"))
	assert.Equal(t, fmt.Sprintf("+ OBJREF     of pid 1, %s: ObjType=99(gadget) Objref=%d(first)", at(0), ref), changes[0])
	assert.Equal(t, "+ GADGET     of "+gadget+", "+at(1)+`: Color=1(red) NameLen=5 Size=42 name="probe" payload="some bytes"`, changes[1])
	assert.Equal(t, fmt.Sprintf("+ GADGET_USE of pid 1, %s: Gadget=%d(first) Slot=3", at(2), ref), changes[2])

	// graph: a node of the gadget's kind, labelled by its record's fields,
	// held by the task through the field that names it.
	g, err := graph.FromImage(bytes.NewReader(img))
	require.NoError(t, err)
	node := fmt.Sprintf("gadget_%d", ref)
	n := g.Node(node)
	require.NotNil(t, n)
	assert.Equal(t, graph.Kind("gadget"), n.Kind)
	assert.Equal(t, []string{gadget, "red", "size 42", "name probe", `payload "some bytes"`}, n.Label)
	found := false
	for _, e := range g.Edges {
		if e.From == "task_1" && e.To == node {
			found = true
			assert.Equal(t, graph.EdgeHolds, e.Kind)
			assert.Equal(t, "gadget", e.Label)
		}
	}
	assert.True(t, found, "the task holds its gadget")
	var dot bytes.Buffer
	require.NoError(t, g.WriteDOT(&dot))
	assert.Contains(t, dot.String(), node+` [label="`+gadget+`\nred\nsize 42\nname probe\npayload \"some bytes\"", shape=`)
	assert.Contains(t, dot.String(), `>gadget</td>`, "the legend has its kind")
}
