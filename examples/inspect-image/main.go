// Inspect-image reads a checkpoint image record by record, edits it by
// hand, and watches restart refuse the result.
//
// Package inspect decodes every record generically, from the format's own
// field tables, and marks each field that names an objref as the object's
// first encounter or a later reference. Its JSON form keeps every raw value,
// one record per line, so that inspect.Encode rebuilds the identical image
// from it; edit a line first and the image carries exactly that change.
// Here the edit points a descriptor (one that refers to a file met before)
// at an objref that no record introduces.
// Inspect marks it dangling; restart, which validates every record before
// using it, refuses it with an error naming the record's offset. Restart
// reads in sequence and checks the tail's checksum last, so the edit is
// refused for what it says even when the checksum is left stale. A byte
// changed where nothing else would notice, in the bytes of a pipe, gets
// past every other check and is refused by the checksum. Either way restart
// leaves nothing in the kernel.
//
//	go run ./examples/inspect-image
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
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// script builds the world: a file open at an offset, shared by a parent and
// its child, and a pipe with bytes in it. Each line must give the result
// after "=".
const script = `
	spawn 1 init
	open 1 /data O_RDWR|O_CREAT 0644 = 0
	write 1 0 "hello, world" = 12
	lseek 1 0 7 SEEK_SET = 7
	pipe 1 = 1 2
	write 1 2 "in flight" = 9
	fork 1 2
`

// dangling is the objref the hand edit puts in an FD record: no OBJREF
// record introduces it.
const dangling = 99

func main() {
	if err := run(os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "inspect-image:", err)
		os.Exit(1)
	}
}

// clock fixes the time in the image header, so that every run prints the
// same image.
func clock() time.Time { return time.Unix(1700000000, 0) }

// build runs the script's system calls on a new kernel.
func build() (*kernel.Kernel, error) {
	s, err := scenario.ParseString("world", script)
	if err != nil {
		return nil, err
	}
	k := kernel.New(kernel.Config{})
	return k, scenario.Replay(k, s)
}

// checkpoint saves the world rooted at pid 1, frozen for the time of the
// checkpoint.
func checkpoint(k *kernel.Kernel) ([]byte, error) {
	return (&ckpt.Engine{Kernel: k, Clock: clock}).Snapshot(1, 0)
}

// Attempt is one restart, and what it left in its kernel.
type Attempt struct {
	Err error
	// Tasks is the number of tasks alive in the kernel after it: restart is
	// all or nothing, so 0 when it failed.
	Tasks int
}

// restart tries the image in a fresh kernel on a copy of k's disk.
func restart(k *kernel.Kernel, img []byte) Attempt {
	k2, _, err := (&ckpt.Engine{}).RestartCopy(k, img, 0)
	return Attempt{Err: err, Tasks: k2.Registry().Count(kref.Task)}
}

// Edit is the hand edit of the image's JSON form: the line of the first FD
// record, before and after its File objref was replaced.
type Edit struct {
	Before, After string
	JSON          string // the whole edited JSON
}

// editJSON points the first FD record's file at the dangling objref, as one
// would in an editor: the JSON form has one record per line.
func editJSON(js string) (*Edit, error) {
	lines := strings.Split(js, "\n")
	for i, l := range lines {
		// A descriptor that refers to its file by reference: one whose file
		// is introduced right before it must refer to that file.
		if !strings.Contains(l, `"type":"FD"`) || !strings.Contains(l, `"File":"ref"`) {
			continue
		}
		start := strings.Index(l, `"File":`)
		if start < 0 {
			return nil, fmt.Errorf("no File field in %s", l)
		}
		end := start + strings.Index(l[start:], ",")
		edited := l[:start] + fmt.Sprintf(`"File":%d`, dangling) + l[end:]
		e := &Edit{Before: l, After: edited}
		lines[i] = edited
		e.JSON = strings.Join(lines, "\n")
		return e, nil
	}
	return nil, errors.New("no FD record referring to a file already met in the JSON")
}

// encode turns JSON back into an image, recomputing the checksum or not.
func encode(js string, fixCRC bool) ([]byte, error) {
	var img bytes.Buffer
	err := inspect.EncodeWith(&img, strings.NewReader(js), inspect.EncodeOptions{FixCRC: fixCRC})
	return img.Bytes(), err
}

// corrupt returns a copy of img with the first byte of the first pipe
// buffer's data changed, and where that data lies in the image.
func corrupt(img []byte) (bad []byte, start, end int64, err error) {
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return nil, 0, 0, err
	}
	for _, r := range rep.Records {
		if r.Type.String() == "PIPE_BUF" {
			// The tail follows the 8-byte record header and the fixed part.
			start = r.Offset + 8 + int64(r.Length-len(r.Tail))
			bad = bytes.Clone(img)
			bad[start] ^= 0x20 // flips the case of a letter
			return bad, start, start + int64(len(r.Tail)), nil
		}
	}
	return nil, 0, 0, errors.New("no pipe buffer in the image")
}

// edited returns the first record of the image whose File field is marked
// mark.
func edited(img []byte, mark string) (*inspect.Record, error) {
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return nil, err
	}
	for _, r := range rep.Records {
		if f := r.Field("File"); f != nil && f.Mark == mark {
			return r, nil
		}
	}
	return nil, fmt.Errorf("no record with a File marked %s", mark)
}

// run shows the image, edits it, corrupts it, and tells how restart
// answered each.
func run(w io.Writer) error {
	k, err := build()
	if err != nil {
		return err
	}
	img, err := checkpoint(k)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "The world, as a scenario script:\n%s\n", script)
	fmt.Fprintf(w, "Its image, as inspect.Show prints it:\n\n")
	if err := inspect.Show(w, bytes.NewReader(img)); err != nil {
		return err
	}

	// The JSON form, and back: the same bytes.
	rep, err := inspect.Inspect(bytes.NewReader(img))
	if err != nil {
		return err
	}
	var js bytes.Buffer
	if err := rep.WriteJSON(&js); err != nil {
		return err
	}
	same, err := encode(js.String(), false)
	if err != nil {
		return err
	}
	if !bytes.Equal(same, img) {
		return errors.New("the unedited JSON does not encode back to the image")
	}
	fmt.Fprintf(w, "\nThe JSON form (%d bytes) encodes back to the identical %d-byte image.\n", js.Len(), len(img))

	// The hand edit, its checksum fixed: restart refuses what it says.
	edit, err := editJSON(js.String())
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nA hand edit of the first FD record that refers to a file met before:\n  - %s\n  + %s\n", edit.Before, edit.After)
	fixed, err := encode(edit.JSON, true)
	if err != nil {
		return err
	}
	rec, err := edited(fixed, inspect.MarkDangling)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Encoded with FixCRC, inspect marks the field: File=%d(%s), at offset %d.\n",
		rec.Field("File").Int(), rec.Field("File").Mark, rec.Offset)
	r := restart(k, fixed)
	if !errors.Is(r.Err, errno.EINVAL) || !strings.Contains(r.Err.Error(), fmt.Sprintf("image offset %d: FD record", rec.Offset)) {
		return fmt.Errorf("restart of the edited image gave %v, not EINVAL at offset %d", r.Err, rec.Offset)
	}
	fmt.Fprintf(w, "Restart refuses it, EINVAL, naming the FD record's offset (%d tasks left behind):\n    %v\n",
		r.Tasks, r.Err)

	stale, err := encode(edit.JSON, false)
	if err != nil {
		return err
	}
	srep, _ := inspect.Inspect(bytes.NewReader(stale))
	r2 := restart(k, stale)
	if r2.Err == nil || r2.Err.Error() != r.Err.Error() {
		return fmt.Errorf("restart of the edited image with a stale checksum gave %v", r2.Err)
	}
	fmt.Fprintf(w, "Encoded without FixCRC the checksum is stale too (%s: stored 0x%08x, computed\n",
		srep.Summary.Checksum, srep.Summary.Stored)
	fmt.Fprintf(w, "0x%08x), but restart reads in order and checks the tail last: the FD record is\n", srep.Summary.Computed)
	fmt.Fprintf(w, "refused first, with the same error.\n")

	// A changed byte that nothing but the checksum notices.
	bad, start, end, err := corrupt(img)
	if err != nil {
		return err
	}
	brep, _ := inspect.Inspect(bytes.NewReader(bad))
	fmt.Fprintf(w, "\nOne byte changed at offset %d, inside the pipe's bytes: %q becomes %q.\n",
		start, img[start:end], bad[start:end])
	r = restart(k, bad)
	if r.Err == nil {
		return errors.New("restart accepted a corrupted image")
	}
	fmt.Fprintf(w, "Every record is still well formed; inspect finds the checksum %s (stored\n", brep.Summary.Checksum)
	fmt.Fprintf(w, "0x%08x, computed 0x%08x), and so does restart (%d tasks left behind):\n",
		brep.Summary.Stored, brep.Summary.Computed, r.Tasks)
	fmt.Fprintf(w, "    %v\n", r.Err)
	return nil
}
