// Package golden is the image format's regression harness.
//
// Every scenario script in examples/scenarios is run with a fixed clock and
// the image of each checkpoint it takes is kept in testdata/golden, with the
// image's Show text beside it (NAME.ckpt and NAME.ckpt.txt), so that a
// reviewer reads a format change as a diff of text. The test fails when a
// freshly made image differs from its golden one, and says how, record by
// record (Compare). `make golden` rewrites them after an intended change.
//
// testdata/compat/VERSION holds the images of every released format
// version, each beside the script it came from; the test restarts each one
// with the running code and checks the restored world against the world
// the script builds. When the format moves to a new version, the previous
// version's images are added there (`make compat`), and must keep passing:
// images written before still restart, or are refused with a clear error,
// as the version policy in ckpt/image/FORMAT.md says.
package golden

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// Image is the image of one successful checkpoint of a script.
type Image struct {
	// Name is the image's file name: BASE.ckpt for the script's first
	// successful checkpoint, BASE.N.ckpt for its N-th.
	Name string
	// Line is the checkpoint line's number in the script.
	Line int
	// Pid is the container's root.
	Pid  int
	Data []byte
}

// Checkpoint is one successful checkpoint of a script, as Run meets it: the
// image, and the kernel it was taken in, as the checkpoint left it.
type Checkpoint struct {
	Image
	Kernel *kernel.Kernel
}

// Run runs a script with the default fixed clock (runner.DefaultTime) and
// calls each for every checkpoint that succeeds, naming its images after
// base. Refused checkpoints make no image: a refusal's image ends with an
// error record, and what the format must keep is the images that restart.
func Run(s *scenario.Script, base string, each func(Checkpoint) error) error {
	// The script's "=> NAME" lines write their images too: into a
	// directory of their own, not the caller's.
	dir, err := os.MkdirTemp("", "ckptsim-golden-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	n := 0
	_, err = runner.Run(s, io.Discard, runner.RunOptions{
		Dir: dir,
		OnCheckpoint: func(l *scenario.Line, k *kernel.Kernel, img []byte, err error) error {
			if err != nil {
				return nil
			}
			n++
			name := base + ".ckpt"
			if n > 1 {
				name = fmt.Sprintf("%s.%d.ckpt", base, n)
			}
			return each(Checkpoint{Image{Name: name, Line: l.Num, Pid: l.Pid(), Data: img}, k})
		},
	})
	return err
}

// Images returns the images of a script's successful checkpoints.
func Images(s *scenario.Script, base string) ([]Image, error) {
	var out []Image
	err := Run(s, base, func(c Checkpoint) error {
		out = append(out, c.Image)
		return nil
	})
	return out, err
}

// Show returns an image's Show text, and the error that stopped reading it.
func Show(img []byte) (string, error) {
	var b bytes.Buffer
	err := inspect.Show(&b, bytes.NewReader(img))
	return b.String(), err
}

// Compare compares a freshly made image with its golden one, whose Show
// text (written when the golden image was made) is goldenText. It returns
// "" when the two are the same bytes, and otherwise says how they differ,
// record by record: from both images, read with the running code, or, when
// the running code cannot read the golden image (the format changed under
// it), from the golden text and the fresh image's text.
func Compare(golden []byte, goldenText string, fresh []byte) string {
	if bytes.Equal(golden, fresh) {
		return ""
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the image differs from its golden one (%d bytes, now %d)\n", len(golden), len(fresh))
	old, oldErr := inspect.Inspect(bytes.NewReader(golden))
	now, nowErr := inspect.Inspect(bytes.NewReader(fresh))
	if nowErr != nil {
		fmt.Fprintf(&b, "the new image cannot be read: %v\n", nowErr)
	}
	if oldErr == nil {
		inspect.WriteDiff(&b, old, now, "golden", "new")
		return b.String()
	}
	fmt.Fprintf(&b, "the golden image cannot be read by this code (%v);\ncomparing the golden Show text with the new image's:\n", oldErr)
	freshText, _ := Show(fresh)
	inspect.WriteChanges(&b, inspect.DiffShow(goldenText, freshText))
	return b.String()
}
