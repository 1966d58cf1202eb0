package image

import (
	"bytes"
	"encoding/binary"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"
)

// FORMAT.md is tested in package ckpt, where every record type of the
// simulator is registered (TestFormatDoc there).

// TestSpecs checks what the format promises of every record type this
// package's tests know: a fixed part that is a multiple of 8 bytes with
// every field documented and naturally aligned, a unique type number and
// name, sane tail bounds.
func TestSpecs(t *testing.T) {
	for _, s := range Specs() {
		assert.Same(t, s, SpecOf(s.Type))
		assert.Same(t, s, SpecNamed(s.Name))
		assert.Zero(t, s.FixedSize()%8, "%s: fixed part of %d bytes is not a multiple of 8", s.Name, s.FixedSize())
		for _, f := range s.Fields() {
			assert.NotEmpty(t, f.Doc, "%s.%s has no doc tag", s.Name, f.Name)
		}
		if s.Fixed != nil {
			assert.Equal(t, s.FixedSize(), binary.Size(reflect.New(s.Fixed).Interface()),
				"%s: Go inserts padding the encoding does not have", s.Name)
		}
	}
}

// TestRegisterRefusesBrokenSpecs checks that Define refuses, at once, a
// spec the format could not keep.
func TestRegisterRefusesBrokenSpecs(t *testing.T) {
	type padded struct {
		A uint8  `doc:"a"`
		B uint64 `doc:"b"`
	}
	type odd struct {
		A uint32 `doc:"a"`
	}
	type undocumented struct {
		A uint64
	}
	type badRef struct {
		Ref uint64 `doc:"an objref of the wrong width"`
	}
	cases := map[string]func(){
		"Go padding":     func() { Define[padded](Spec{Type: 950, Name: "P", Doc: "p"}) },
		"not a multiple": func() { Define[odd](Spec{Type: 951, Name: "O", Doc: "o"}) },
		"no doc":         func() { Define[undocumented](Spec{Type: 952, Name: "U", Doc: "u"}) },
		"no such field": func() {
			Define[tCount](Spec{Type: 953, Name: "M", Doc: "m", Meaning: map[string]Meaning{"X": {Hex: true}}})
		},
		"objref width": func() {
			Define[badRef](Spec{Type: 954, Name: "R", Doc: "r", Meaning: map[string]Meaning{"Ref": {Ref: 1}}})
		},
		"taken number":     func() { Define[tCount](Spec{Type: tCountKind.Type(), Name: "T_OTHER", Doc: "x"}) },
		"taken name":       func() { Define[tCount](Spec{Type: 955, Name: "T_COUNT", Doc: "x"}) },
		"tail without doc": func() { Define[tCount](Spec{Type: 956, Name: "T", Doc: "t", Tail: TailSpec{Max: 4}}) },
		"tail part lengths": func() {
			Define[tCount](Spec{Type: 957, Name: "T", Doc: "t", Tail: TailSpec{Doc: "x", Max: 4, Parts: []TailPart{{"a", "Len"}}}})
		},
	}
	for name, define := range cases {
		assert.Panics(t, define, name)
	}
}

// nested is a fixed part with nested structs and arrays, as REGS has.
type nested struct {
	A   uint16 `doc:"a"`
	B   int16  `doc:"b"`
	Arr [2]struct {
		X uint32 `doc:"x"`
		Y int32  `doc:"y"`
	} `doc:"pairs"`
	Name [12]byte  `doc:"a name"`
	Nums [2]uint64 `doc:"numbers"`
	In   struct {
		Z   uint32 `doc:"z"`
		Pad uint32 `doc:"zero"`
	} `doc:"an inner struct"`
	Pad2 uint64 `doc:"zero"`
}

var nestedKind = Define[nested](Spec{Type: 960, Name: "T_NESTED", Doc: "Nested fields."})

func TestFieldsFlattenNestedParts(t *testing.T) {
	var names []string
	for _, f := range nestedKind.Spec().Fields() {
		names = append(names, f.Name)
	}
	assert.Equal(t, []string{"A", "B", "Arr[0].X", "Arr[0].Y", "Arr[1].X", "Arr[1].Y", "Name", "Nums[0]", "Nums[1]", "In.Z", "In.Pad", "Pad2"}, names)
	v := nested{A: 1, B: -2, Name: [12]byte{'n'}, Nums: [2]uint64{3, 1 << 63}}
	v.Arr[1].Y = -5
	rec := nestedKind.Record(&v, nil)
	spec := nestedKind.Spec()
	get := func(name string) uint64 {
		n, ok := spec.Field(name).Value(rec.Fixed)
		require.True(t, ok, name)
		return n
	}
	assert.Equal(t, uint64(1), get("A"))
	assert.Equal(t, int64(-2), int64(get("B")), "signed fields are sign-extended")
	assert.Equal(t, int64(-5), int64(get("Arr[1].Y")))
	assert.Equal(t, uint64(1<<63), get("Nums[1]"))
	_, ok := spec.Field("Name").Value(rec.Fixed)
	assert.False(t, ok, "a byte array has no number")
	assert.Equal(t, []string{"In.Pad", "Pad2"}, []string{spec.pads[0].Name, spec.pads[1].Name})
}

// TestKindEncodingIsTheFormat checks that a Kind's encoding, the struct's
// own memory on this host, is the little-endian field-by-field encoding
// the format defines, both ways.
func TestKindEncodingIsTheFormat(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var v nested
		v.A, v.B = rapid.Uint16().Draw(t, "a"), rapid.Int16().Draw(t, "b")
		for i := range v.Arr {
			v.Arr[i].X, v.Arr[i].Y = rapid.Uint32().Draw(t, "x"), rapid.Int32().Draw(t, "y")
		}
		copy(v.Name[:], rapid.SliceOfN(rapid.Byte(), 0, 12).Draw(t, "name"))
		v.Nums[0], v.Nums[1] = rapid.Uint64().Draw(t, "n0"), rapid.Uint64().Draw(t, "n1")
		v.In.Z = rapid.Uint32().Draw(t, "z")
		var want bytes.Buffer
		require.NoError(t, binary.Write(&want, binary.LittleEndian, &v))
		require.Equal(t, want.Bytes(), nestedKind.Encode(&v))
		back, err := nestedKind.Decode(nestedKind.Record(&v, nil))
		require.NoError(t, err)
		require.Equal(t, v, back)
	})
}

// TestTailParts splits tails by the lengths in the fixed part.
func TestTailParts(t *testing.T) {
	type lens struct {
		ALen uint32 `doc:"a"`
		Pad  uint32 `doc:"zero"`
	}
	k := Define[lens](Spec{Type: 961, Name: "T_PARTS", Doc: "Parts.",
		Tail: TailSpec{Doc: "a then b", Max: 100, Parts: []TailPart{{"a", "ALen"}, {"b", ""}}}})
	parts, ok := k.Spec().Parts(k.Record(&lens{ALen: 2}, []byte("xxyyy")))
	assert.True(t, ok)
	assert.Equal(t, []Part{{"a", []byte("xx")}, {"b", []byte("yyy")}}, parts)
	parts, ok = k.Spec().Parts(k.Record(&lens{ALen: 9}, []byte("xx")))
	assert.False(t, ok, "lengths that do not add up")
	assert.Equal(t, []Part{{"tail", []byte("xx")}}, parts)
}
