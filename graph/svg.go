package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// ErrNoDot is WriteSVG's error when Graphviz's dot program is not
// installed.
var ErrNoDot = errors.New("graph: the dot program of Graphviz is not installed " +
	"(on Debian or Ubuntu: apt-get install graphviz; elsewhere see https://graphviz.org/download/)")

// WriteSVG renders the graph as SVG with Graphviz's dot program (dot -Tsvg),
// found on the PATH. Without it, it returns ErrNoDot, which says how to
// install it; WriteDOT needs nothing.
func WriteSVG(w io.Writer, g *Graph) error {
	path, err := exec.LookPath("dot")
	if err != nil {
		return ErrNoDot
	}
	var dot, svg, stderr bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		return err
	}
	cmd := exec.Command(path, "-Tsvg")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &dot, &svg, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("graph: %s -Tsvg: %v: %s", path, err, strings.TrimSpace(stderr.String()))
	}
	// Only a complete rendering is written: nothing of a failed one.
	_, err = w.Write(svg.Bytes())
	return err
}
