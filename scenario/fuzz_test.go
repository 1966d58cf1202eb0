package scenario_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/internal/allocs"
	"github.com/ckptsim/ckptsim/scenario"
)

// parseAllocs bounds what Parse may allocate for a script of n bytes: 64
// KiB + 32*n. It reads the script whole, splits it into lines and each line
// into words, each copied a few times on the way.
var parseAllocs = allocs.Bound{Base: 64 << 10, PerByte: 32}

// FuzzParse parses arbitrary scripts with scenario.Parse: it must never
// panic, must allocate within parseAllocs, must refuse with an error of at
// most 1 KiB (however long the line it quotes), and every
// line it accepts must parse again, from its statement text alone, into
// the same line.
//
//	go test -run XXX -fuzz FuzzParse -fuzztime 5m ./scenario
//
// The seeds are the example scripts and the Linux conformance scripts
// (read at run time) and the inputs kept in testdata/fuzz/FuzzParse.
func FuzzParse(f *testing.F) {
	var paths []string
	for _, dir := range []string{filepath.Join("..", "examples", "scenarios"), filepath.Join("testdata", "linux")} {
		p, err := filepath.Glob(filepath.Join(dir, "*.scn"))
		require.NoError(f, err)
		paths = append(paths, p...)
	}
	require.NotEmpty(f, paths)
	for _, p := range paths {
		text, err := os.ReadFile(p)
		require.NoError(f, err)
		f.Add(string(text))
	}
	f.Fuzz(func(t *testing.T, text string) {
		var s *scenario.Script
		var err error
		parseAllocs.Within(t, "parse", len(text), func() { s, err = scenario.ParseString("fuzz.scn", text) })
		if err != nil {
			// A long word is quoted in a prefix of 64 bytes, which %q
			// may render four times as long (\xf1 for each byte not
			// UTF-8), beside a list of the commands or names expected.
			if len(err.Error()) > 1024 {
				t.Fatalf("an error of %d bytes: %.400s", len(err.Error()), err)
			}
			return
		}
		for _, l := range s.Lines {
			if strings.ContainsAny(l.Text, "\n") {
				t.Fatalf("line %d's statement spans lines: %q", l.Num, l.Text)
			}
			again, err := scenario.ParseString("again.scn", l.Text)
			if err != nil {
				t.Fatalf("line %d, %q, does not parse again: %v", l.Num, l.Text, err)
			}
			if len(again.Lines) != 1 {
				t.Fatalf("line %d, %q, parses again as %d lines", l.Num, l.Text, len(again.Lines))
			}
			a := again.Lines[0]
			a.Num = l.Num
			if !reflect.DeepEqual(l, a) {
				t.Fatalf("line %d, %q, parses again as another line:\n%+v\n%+v", l.Num, l.Text, l, a)
			}
		}
	})
}
