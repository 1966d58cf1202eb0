package graph

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
)

// ErrNoDot is Render's error when Graphviz's dot program is not installed.
var ErrNoDot = errors.New("graph: the dot program of Graphviz is not installed " +
	"(on Debian or Ubuntu: apt-get install graphviz; elsewhere see https://graphviz.org/download/)")

// Formats Render writes, as dot's -T option names them.
const (
	SVG = "svg"
	PNG = "png"
)

// pngDPI is the resolution of PNG pictures: sharp enough to project.
const pngDPI = 110

// Render draws the graph as SVG or PNG with Graphviz's dot program, found on
// the PATH. Without it, it returns ErrNoDot, which says how to install it;
// WriteDOT needs nothing. Only a complete picture is written.
func Render(w io.Writer, g *Graph, format string) error {
	if format != SVG && format != PNG {
		return fmt.Errorf("graph: unknown picture format %q (svg or png)", format)
	}
	path, err := exec.LookPath("dot")
	if err != nil {
		return ErrNoDot
	}
	var dot, out, stderr bytes.Buffer
	if err := g.WriteDOT(&dot); err != nil {
		return err
	}
	args := []string{"-T" + format}
	if format == PNG {
		args = append(args, fmt.Sprintf("-Gdpi=%d", pngDPI))
	}
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = &dot, &out, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("graph: %s %s: %v: %s", path, strings.Join(args, " "), err, strings.TrimSpace(stderr.String()))
	}
	_, err = w.Write(out.Bytes())
	return err
}

// WriteSVG renders the graph as SVG: Render(w, g, SVG).
func WriteSVG(w io.Writer, g *Graph) error { return Render(w, g, SVG) }
