package runner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// VerifyResult is what a passing verify reports.
type VerifyResult struct {
	Lines       int   // statements run
	Checkpoints int   // successful checkpoints (each followed by a restart)
	Every       int   // of those, the ones VerifyOptions.Every added
	ImageBytes  int64 // total bytes of the images taken
}

// VerifyOptions change what Verify does; the zero value checkpoints at the
// script's checkpoint lines only.
type VerifyOptions struct {
	// Every adds a checkpoint and restart after every line where one
	// succeeds: after each system call line, when the migrating world is
	// one tree, it is checkpointed whole (no flags); when that succeeds it
	// is replaced by its restored copy, with every check of a checkpoint
	// line; when it is refused (a lock, an owner, a task outside the
	// tree...), nothing must have changed. So every later line also runs
	// on a world that has just migrated.
	Every bool
}

// Failure is why a script failed verify: the line, what differed, and the
// differences between two worlds when there are some.
type Failure struct {
	Script string
	Line   int
	What   string
	// Diff lists how two worlds differ, one difference a line (the
	// equiv.DiffError's lines), or is empty.
	Diff []string
	// Err is the cause: the *equiv.DiffError, the refusal or the restart's
	// error; errors.Is and errors.As see through it.
	Err error
}

// maxDiff bounds the differences a Failure prints: the first ones say what
// went wrong, hundreds more hide it.
const maxDiff = 40

// Error returns "NAME:LINE: what differed", then the differences, indented.
func (f *Failure) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s:%d: %s", f.Script, f.Line, f.What)
	for i, d := range f.Diff {
		if i == maxDiff {
			fmt.Fprintf(&b, "\n    ... and %d more", len(f.Diff)-maxDiff)
			break
		}
		b.WriteString("\n    " + d)
	}
	return b.String()
}

// Unwrap returns the cause.
func (f *Failure) Unwrap() error { return f.Err }

// Verify runs the script as docs/SCENARIOS.md says verify does; nil error means it passed.
// On failure the error's message is "NAME:LINE: what differed" followed by a readable diff.
//
// Two worlds run the script in lockstep: the reference world, which never
// checkpoints, and the migrating world, which at every successful checkpoint
// line is replaced by restart(checkpoint(itself)) in a fresh kernel on a
// copy of its disk. Every line must give its expected result on the
// reference world and the same result on the migrating one. At a checkpoint
// line the restored world must be equivalent to the one it was taken from
// (equiv.Equal, or equiv.EqualSubtree when the container is not the whole
// world, after which the migrating world holds only that container and is
// compared with the reference only there: see compare) and to the
// reference; a refused
// checkpoint must leave the migrating world equal to the reference. The
// worlds are compared once more at the end. The error is a *Failure.
func Verify(s *scenario.Script) (VerifyResult, error) {
	return VerifyWith(s, VerifyOptions{})
}

// VerifyWith is Verify with options.
func VerifyWith(s *scenario.Script, opts VerifyOptions) (VerifyResult, error) {
	v := &verifier{s: s, ref: kernel.New(kernel.Config{}), mig: kernel.New(kernel.Config{})}
	for _, l := range s.Lines {
		var err error
		if l.Cmd == "checkpoint" {
			err = v.checkpoint(l)
		} else if err = v.exec(l); err == nil && opts.Every {
			err = v.every(l)
		}
		if err != nil {
			return v.res, err
		}
		v.res.Lines++
	}
	if len(s.Lines) > 0 {
		last := s.Lines[len(s.Lines)-1]
		if err := v.compare(v.ref.View(), v.mig.View()); err != nil {
			return v.res, v.fail(last, "at the end of the script, the migrating world differs from the reference", err)
		}
	}
	return v.res, nil
}

// verifier holds the two worlds of a verify run.
type verifier struct {
	s        *scenario.Script
	ref, mig *kernel.Kernel
	// root is 0 while the migrating world is the whole world, and the pid
	// of the container it was left with by the last checkpoint of less
	// than that.
	root int
	res  VerifyResult
}

// fail makes the Failure of line l; a *equiv.DiffError cause gives its
// lines as the diff.
func (v *verifier) fail(l *scenario.Line, what string, cause error) *Failure {
	f := &Failure{Script: v.s.Name, Line: l.Num, What: what, Err: cause}
	if d, ok := errors.AsType[*equiv.DiffError](cause); ok {
		f.Diff = d.Lines
	}
	return f
}

// EqualRestored compares a world restored from a checkpoint of the
// container rooted at pid with the world it was taken from: the whole
// world when the container was all of it (equiv.Equal), the container's
// subtree otherwise (equiv.EqualSubtree). It returns nil or a
// *equiv.DiffError.
func EqualRestored(from, restored *kernel.View, pid int) error {
	if wholeWorld(from, pid) {
		return equiv.Equal(from, restored)
	}
	return equiv.EqualSubtree(from, restored, pid)
}

// wholeWorld reports whether the container rooted at pid is all of the
// world v shows.
func wholeWorld(v *kernel.View, pid int) bool { return len(v.Top) == 1 && v.Top[0] == pid }

// compare compares a view of the reference world with one of the migrating
// world, over what the migrating world holds: the whole world, or after a
// checkpoint of less than that, each of its top-level trees with the same
// subtree of the reference. Going by the trees the migrating world holds
// rather than by the container's root follows the container when its root
// exits: the reference keeps the root as a zombie for its parent, which the
// migrating world does not have, so it reaps the root at once, as Linux's
// init would; the container cannot tell.
func (v *verifier) compare(ref, mig *kernel.View) error {
	if v.root == 0 {
		return equiv.Equal(ref, mig)
	}
	var diff equiv.DiffError
	for _, pid := range mig.Top {
		err := equiv.EqualSubtree(ref, mig, pid)
		d, ok := errors.AsType[*equiv.DiffError](err)
		switch {
		case ok:
			diff.Lines = append(diff.Lines, d.Lines...)
		case err != nil:
			return err
		}
	}
	if len(diff.Lines) > 0 {
		return &diff
	}
	return nil
}

// exec runs a system call line on both worlds.
func (v *verifier) exec(l *scenario.Line) error {
	a, b := scenario.Exec(v.ref, l), scenario.Exec(v.mig, l)
	if !a.Equal(b) {
		what := fmt.Sprintf("%s: %s on the migrating world, %s on the reference", scenario.Short(l.Text), scenario.Short(b.String()), scenario.Short(a.String()))
		refView, migView := v.ref.View(), v.mig.View()
		if v.root != 0 && migView.Task(l.Pid()) == nil && refView.Task(l.Pid()) != nil {
			what += fmt.Sprintf(" (pid %d is not in the migrating world, which holds only the container rooted at pid %d)", l.Pid(), v.root)
		}
		return v.fail(l, what, v.compare(refView, migView))
	}
	if !a.Matches(l.Expect) {
		return v.fail(l, l.Mismatch(a), a.Err)
	}
	return nil
}

// checkpoint runs a checkpoint line: on the migrating world only, which it
// replaces by its restored copy when the checkpoint succeeds.
func (v *verifier) checkpoint(l *scenario.Line) error {
	pid, flags, err := checkpointArgs(l)
	if err != nil {
		return v.fail(l, err.Error(), err)
	}
	img, cerr := (&ckpt.Engine{Kernel: v.mig, Clock: FixedClock(DefaultTime)}).Snapshot(pid, flags)
	if o := scenario.CheckpointOutcome(cerr); !o.Matches(l.Expect) {
		return v.fail(l, mismatch(l, o), cerr)
	}
	if cerr != nil {
		// Refused, as the line expects.
		return v.unchanged(l, scenario.Short(l.Text))
	}
	return v.restart(l, scenario.Short(l.Text), pid, img)
}

// every checkpoints the migrating world after line l when it is one tree,
// and migrates it when the checkpoint succeeds (VerifyOptions.Every).
func (v *verifier) every(l *scenario.Line) error {
	top := v.mig.View().Top
	if len(top) != 1 {
		return nil
	}
	pid := top[0]
	what := fmt.Sprintf("%s, then checkpoint %d (verify --every)", scenario.Short(l.Text), pid)
	img, cerr := (&ckpt.Engine{Kernel: v.mig, Clock: FixedClock(DefaultTime)}).Snapshot(pid, 0)
	if cerr != nil {
		return v.unchanged(l, what)
	}
	if err := v.restart(l, what, pid, img); err != nil {
		return err
	}
	v.res.Every++
	return nil
}

// unchanged checks, after a refused checkpoint (what names it), that the
// checkpoint changed nothing.
func (v *verifier) unchanged(l *scenario.Line, what string) error {
	if err := v.compare(v.ref.View(), v.mig.View()); err != nil {
		return v.fail(l, what+": refused, yet the migrating world now differs from the reference", err)
	}
	return nil
}

// restart restarts img, a checkpoint of the container rooted at pid that
// what names, in a fresh kernel on a copy of the migrating world's disk,
// checks the restored world, and makes it the migrating world.
func (v *verifier) restart(l *scenario.Line, what string, pid int, img []byte) error {
	k, root, err := (&ckpt.Engine{Clock: FixedClock(DefaultTime)}).RestartCopy(v.mig, img, 0)
	switch {
	case err != nil:
		return v.fail(l, fmt.Sprintf("%s: restart of the %d-byte image failed: %v", what, len(img), err), err)
	case root != pid:
		return v.fail(l, fmt.Sprintf("%s: restart returned pid %d as the root", what, root), nil)
	}
	if err := k.Check(); err != nil {
		return v.fail(l, fmt.Sprintf("%s: the restored kernel is inconsistent: %v", what, err), err)
	}
	from, restored := v.mig.View(), k.View()
	whole := wholeWorld(from, pid)
	if err := EqualRestored(from, restored, pid); err != nil {
		return v.fail(l, fmt.Sprintf("%s: the restored world differs from the world it was taken from", what), err)
	}
	v.mig = k
	if !whole {
		v.root = pid
	}
	v.res.Checkpoints++
	v.res.ImageBytes += int64(len(img))
	if err := v.compare(v.ref.View(), restored); err != nil {
		return v.fail(l, fmt.Sprintf("%s: the restored world differs from the reference", what), err)
	}
	return nil
}
