package image

import (
	"encoding/binary"
	"flag"
	"os"
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite FORMAT.md from the record definitions")

// TestFormatDoc fails when FORMAT.md and the record definitions disagree.
func TestFormatDoc(t *testing.T) {
	want := Markdown()
	if *update {
		require.NoError(t, os.WriteFile("FORMAT.md", []byte(want), 0o644))
	}
	got, err := os.ReadFile("FORMAT.md")
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "FORMAT.md is stale: run go test ./ckpt/image -update")
}

// TestSpecs checks what the format promises of every record type: a fixed
// part that is a multiple of 8 bytes with every field documented and
// naturally aligned, a unique type number and name, sane tail bounds.
func TestSpecs(t *testing.T) {
	types, names := map[Type]bool{}, map[string]bool{}
	for _, s := range Specs {
		assert.False(t, types[s.Type], "type %d twice", s.Type)
		assert.False(t, names[s.Name], "name %s twice", s.Name)
		types[s.Type], names[s.Name] = true, true
		assert.Zero(t, s.FixedSize()%8, "%s: fixed part of %d bytes is not a multiple of 8", s.Name, s.FixedSize())
		for _, f := range s.Fields() {
			assert.NotEmpty(t, f.Doc, "%s.%s has no doc tag", s.Name, f.Name)
			align := f.Size
			if f.Kind[0] == '[' {
				align = 1
			}
			assert.Zero(t, f.Offset%align, "%s.%s at offset %d is not aligned", s.Name, f.Name, f.Offset)
		}
		if s.Fixed != nil {
			assert.Equal(t, s.FixedSize(), binary.Size(reflect.New(s.Fixed).Interface()),
				"%s: Go inserts padding the encoding does not have", s.Name)
		}
		assert.LessOrEqual(t, s.MinTail, s.MaxTail, s.Name)
		assert.Equal(t, s.Tail != "", s.MaxTail > 0, "%s: a tail needs a description and a bound", s.Name)
		assert.Same(t, s, SpecOf(s.Type))
	}
}
