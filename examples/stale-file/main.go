// Stale-file shows how a checkpoint refers to files on disk, and how
// restart notices that one has changed since.
//
// An image does not copy a regular file that still has a name: its FILE
// record holds the path, the position, and the file's size and change
// counter when it was saved. Restart reopens the path on the destination's
// disk and compares: a file that changed, even to the same size, is refused
// with ESTALE, and one that is gone with ENOENT, each error naming the path
// and the record's offset. A file that has been unlinked but is still open
// has no name to go back to, so its contents travel in the image, in a GHOST
// record, and do not depend on the disk. Restart is all or nothing: a
// refused restart leaves no task behind.
//
//	go run ./examples/stale-file
package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// The container's task and the editor outside it, the files, and what they
// hold.
const (
	app     = 1
	editor  = 9
	notes   = "/notes"
	scratch = "/scratch"
	draft   = "first draft"
	edit    = "FIRST"
	temp    = "temporary data"
)

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stale-file:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// World is the app's container, the editor outside it, and the app's
// descriptors.
type World struct {
	K                  *kernel.Kernel
	NotesFd, ScratchFd int
}

// build makes the app with notes open, and a scratch file it has unlinked
// but still holds open; and an editor task, outside the app's container.
func build() (*World, error) {
	k := kernel.New(kernel.Config{})
	if _, err := k.Spawn(app, "app"); err != nil {
		return nil, err
	}
	if _, err := k.Spawn(editor, "editor"); err != nil {
		return nil, err
	}
	w := &World{K: k}
	var err error
	if w.NotesFd, err = k.Open(app, notes, vfs.O_RDWR|vfs.O_CREAT, 0o644); err != nil {
		return nil, err
	}
	if _, err := k.Write(app, w.NotesFd, []byte(draft)); err != nil {
		return nil, err
	}
	if _, err := k.Lseek(app, w.NotesFd, 0, vfs.SEEK_SET); err != nil {
		return nil, err
	}
	if w.ScratchFd, err = k.Open(app, scratch, vfs.O_RDWR|vfs.O_CREAT, 0o600); err != nil {
		return nil, err
	}
	if _, err := k.Write(app, w.ScratchFd, []byte(temp)); err != nil {
		return nil, err
	}
	if _, err := k.Lseek(app, w.ScratchFd, 0, vfs.SEEK_SET); err != nil {
		return nil, err
	}
	if err := k.Unlink(app, scratch); err != nil {
		return nil, err
	}
	return w, nil
}

// checkpoint saves the app's container, frozen for the time of the
// checkpoint.
func checkpoint(k *kernel.Kernel) ([]byte, error) {
	return (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(app, 0)
}

// restart tries the image in a fresh kernel on a copy of k's disk as it is
// now, and returns that kernel and restart's error.
func restart(k *kernel.Kernel, img []byte) (*kernel.Kernel, error) {
	k2, _, err := (&ckpt.Engine{}).RestartCopy(k, img, 0)
	return k2, err
}

// editNotes has the editor overwrite the start of the notes with text of
// the same length: the size stays, the contents and change counter move.
func editNotes(k *kernel.Kernel) error {
	fd, err := k.Open(editor, notes, vfs.O_WRONLY, 0)
	if err != nil {
		return err
	}
	if _, err := k.Write(editor, fd, []byte(edit)); err != nil {
		return err
	}
	return k.Close(editor, fd)
}

// fileRecords returns the lines inspect.Show prints for the image's FILE and
// GHOST records.
func fileRecords(img []byte) ([]string, error) {
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return nil, err
	}
	var text bytes.Buffer
	rep.WriteText(&text) // a bytes.Buffer does not fail
	lines := strings.Split(text.String(), "\n")
	var picked []string
	for _, r := range rep.Records {
		if t := r.Type.String(); t == "FILE" || t == "GHOST" {
			picked = append(picked, strings.TrimSpace(lines[1+r.Index])) // line 0 is the column header
		}
	}
	return picked, nil
}

// refused checks that a restart failed with want and left no task, and
// prints its error.
func refused(w io.Writer, k2 *kernel.Kernel, err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("restart gave %v, want %v", err, want)
	}
	if n := k2.Registry().Count(kref.Task); n != 0 {
		return fmt.Errorf("a refused restart left %d tasks", n)
	}
	fmt.Fprintf(w, "Restart refuses it, %v, leaving no task behind:\n    %v\n", want, err)
	return nil
}

// run checkpoints the app, then restarts it on the disk as it is, as it is
// after an edit, and after a removal.
func run(w io.Writer) error {
	world, err := build()
	if err != nil {
		return err
	}
	k := world.K
	img, err := checkpoint(k)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The app (pid %d) has %s open (fd %d) holding %q, and %s\n",
		app, notes, world.NotesFd, draft, scratch)
	fmt.Fprintf(w, "(fd %d), which it has unlinked. Their records in the %d-byte image: the path,\n", world.ScratchFd, len(img))
	fmt.Fprintf(w, "size and change counter of one; the other's contents, in a GHOST record.\n\n")
	lines, err := fileRecords(img)
	if err != nil {
		return err
	}
	for _, l := range lines {
		fmt.Fprintf(w, "    %s\n", l)
	}

	k2, err := restart(k, img)
	if err != nil {
		return err
	}
	got, err := k2.Read(app, world.NotesFd, 64)
	if err != nil {
		return err
	}
	ghost, err := k2.Read(app, world.ScratchFd, 64)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nOn an unchanged copy of the disk restart succeeds. The app reads %q\n", got)
	fmt.Fprintf(w, "from %s, reopened by its path, and %q from the unlinked file,\n", notes, ghost)
	fmt.Fprintf(w, "rebuilt from the image.\n\n")

	if err := editNotes(k); err != nil {
		return err
	}
	fmt.Fprintf(w, "The editor (pid %d, outside the container) overwrites %q with %q: same size.\n", editor, draft[:len(edit)], edit)
	k2, err = restart(k, img)
	if err := refused(w, k2, err, errno.ESTALE); err != nil {
		return err
	}

	if err := k.Unlink(editor, notes); err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThe editor removes %s.\n", notes)
	k2, err = restart(k, img)
	return refused(w, k2, err, errno.ENOENT)
}
