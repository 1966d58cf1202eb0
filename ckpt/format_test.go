package ckpt_test

import (
	"flag"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
)

var update = flag.Bool("update", false, "rewrite ckpt/image/FORMAT.md from the record definitions")

// TestFormatDoc fails when FORMAT.md and the record definitions disagree.
// It lives here, where every record type of the simulator is registered.
func TestFormatDoc(t *testing.T) {
	want := image.Markdown()
	if *update {
		require.NoError(t, os.WriteFile("image/FORMAT.md", []byte(want), 0o644))
	}
	got, err := os.ReadFile("image/FORMAT.md")
	require.NoError(t, err)
	assert.Equal(t, want, string(got), "FORMAT.md is stale: run go test ./ckpt -run TestFormatDoc -update")
}
