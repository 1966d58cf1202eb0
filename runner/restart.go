package runner

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// RestartOptions change what Restart does; the zero value restarts and
// shows the restored world, and runs nothing after.
type RestartOptions struct {
	// Then, when set, is a script whose lines run on the restored world
	// after it is shown, as run runs a script; Run says where the images
	// of its checkpoint lines go and the clock (Run.Kernel is ignored).
	Then *scenario.Script
	Run  RunOptions
}

// RestartResult is what a restart did.
type RestartResult struct {
	Root   int            // the restored container's root pid
	Kernel *kernel.Kernel // the kernel it lives in
	// Differs is true when the disk came from a script and the restored
	// world is not the world of its checkpoint line (an edited image, or
	// one of another line): Restart shows how, and that is not an error.
	Differs bool
	Then    RunResult // what Then did
}

// ErrInconsistent is Restart's error when the restored kernel fails its
// consistency check: a bug of the engine or the kernel, never of the image.
var ErrInconsistent = errors.New("the restored kernel fails its consistency check")

// Restart restarts the image img (named name in messages) in a fresh kernel
// on a copy of disk, and prints to w: the image's summary, the restart with
// the kernel's consistency check, and the restored world, fact by fact as
// the demo prints it. When the disk came from a script (ScriptDisk), each
// fact is compared with the script's world at its checkpoint line ("ok" or
// "DIFF"), and equiv says whether the worlds are the same; otherwise the
// facts say what the world holds. Then opts.Then runs on the restored world.
//
// A refused restart returns restart's error as it is (a *ckpt.Error: the
// errno, and for a bad image the record and its offset), having printed the
// summary when the image could be read; a failed consistency check wraps
// ErrInconsistent; a line of Then that does not give its result returns a
// *scenario.Error.
func Restart(w io.Writer, name string, img []byte, disk *Disk, opts RestartOptions) (RestartResult, error) {
	var res RestartResult
	if rep, err := inspect.Inspect(bytes.NewReader(img)); err == nil {
		fmt.Fprintf(w, "Image %s: ", name)
		writeSummary(w, rep.Summary)
	}
	k, root, err := (&ckpt.Engine{Clock: opts.Run.Clock}).RestartCopy(disk.Kernel, img, 0)
	if err != nil {
		return res, err
	}
	res.Root, res.Kernel = root, k
	check := consistency(k)
	fmt.Fprintf(w, "\nRestarted in a fresh kernel on a copy of %s: root pid %d; the kernel's consistency check %s.\n", disk.Name, root, check)
	if check != "passes" {
		return res, fmt.Errorf("%s: %w: %s", name, ErrInconsistent, check)
	}
	res.Differs = writeRestored(w, disk, k.View(), root)

	if opts.Then != nil {
		fmt.Fprintln(w, "\nThe restored world goes on:")
		run := opts.Run
		run.Kernel = k
		res.Then, err = Run(opts.Then, w, run)
	}
	return res, err
}

// writeRestored prints the restored world: compared with the script's
// world at its checkpoint line when the disk has one, fact by fact when
// the container was that whole world. It reports whether they differ.
func writeRestored(w io.Writer, disk *Disk, restored *kernel.View, root int) bool {
	cp := disk.Checkpoint
	if cp == nil {
		fmt.Fprintln(w, "What it holds, read from the restored world's view:")
		writeHolds(w, restored)
		return false
	}
	from := disk.Kernel.View()
	at := fmt.Sprintf("line %d (%s)", cp.Num, cp.Text)
	equal := EqualRestored(from, restored, cp.Pid())
	if !wholeWorld(from, cp.Pid()) {
		// The facts are of whole worlds: the script's holds more than the
		// container, so say only what equiv found, then what it holds.
		if equal == nil {
			fmt.Fprintf(w, "equiv.EqualSubtree: the restored world is the container the script had at %s.\n", at)
		} else {
			fmt.Fprintf(w, "equiv.EqualSubtree: not the container the script had at %s: %v\n", at, equal)
		}
		fmt.Fprintln(w, "What it holds, read from the restored world's view:")
		writeHolds(w, restored)
		return equal != nil
	}
	if equal == nil {
		fmt.Fprintf(w, "equiv.Equal: the restored world is the script's world at %s. What matched, read from each world's view:\n", at)
	} else {
		fmt.Fprintf(w, "equiv.Equal: not the script's world at %s (an edited image, or another line's): %v\n", at, equal)
	}
	differs := writeMatched(w, from, restored)
	return equal != nil || differs > 0
}
