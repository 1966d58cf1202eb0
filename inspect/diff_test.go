package inspect_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

func report(t *testing.T, img []byte) *inspect.Report {
	t.Helper()
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	return rep
}

// edited returns the demo image with edit applied to its records, the
// checksum recomputed.
func edited(t *testing.T, img []byte, edit func(recs []*image.Record) []*image.Record) []byte {
	t.Helper()
	recs, err := image.ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	return image.Encode(edit(recs), true)
}

func indexOf(recs []*image.Record, typ image.Type, n int) int {
	for i, r := range recs {
		if r.Type == typ {
			if n == 0 {
				return i
			}
			n--
		}
	}
	return -1
}

// tailAt says where an image's TAIL record is, as a change names it:
// "record 57 at offset 4888". Tests compute it, so that a format that
// grows every image does not move what they pin.
func tailAt(t *testing.T, img []byte) string {
	t.Helper()
	recs := records(t, img)
	last := recs[len(recs)-1]
	require.Equal(t, image.TypeTail, last.Type)
	return fmt.Sprintf("record %d at offset %d", len(recs)-1, last.Offset)
}

func TestDiff(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	crc := fmt.Sprintf("0x%08x", binary.LittleEndian.Uint32(img[len(img)-8:]))
	for _, tc := range []struct {
		name string
		edit func(recs []*image.Record) []*image.Record
		want []string // each change, as Change.String renders it, in order, but the tail's
	}{
		{"identical", func(recs []*image.Record) []*image.Record { return recs }, nil},
		{"a field changed", func(recs []*image.Record) []*image.Record {
			i := indexOf(recs, vfs.RecFile, 0)
			var f vfs.FileRecord
			require.NoError(t, recs[i].Decode(&f))
			f.Pos++
			require.NoError(t, recs[i].SetFixed(&f))
			return recs
		}, []string{
			"~ FILE       of file #2, record 11 at offset 632 -> record 11 at offset 632\n      Pos: 12 -> 13",
		}},
		{"a record removed", func(recs []*image.Record) []*image.Record {
			i := indexOf(recs, task.RecFd, 1)
			return append(recs[:i:i], recs[i+1:]...)
		}, []string{
			// The file table's count is left as it was: the diff shows
			// records, it does not check them.
			"- FD         of file table #1, record 13 at offset 728: Fd=1 File=2(ref) CloseOnExec=1(cloexec)",
		}},
		{"two records swapped", func(recs []*image.Record) []*image.Record {
			i := indexOf(recs, task.RecFd, 0)
			recs[i], recs[i+1] = recs[i+1], recs[i]
			return recs
		}, []string{
			"- FD         of file table #1, record 12",
			"+ FD         of file table #1, record 13",
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			other := edited(t, img, tc.edit)
			changes := inspect.Diff(report(t, img), report(t, other))
			var got []string
			for _, c := range changes {
				got = append(got, c.String())
			}
			want := tc.want
			if want != nil { // and the checksum, recomputed
				want = append(want, "~ TAIL       "+tailAt(t, img)+" -> "+tailAt(t, other)+"\n      CRC: "+crc+"(matches) ->")
			}
			require.Len(t, got, len(want), "changes:\n%s", strings.Join(got, "\n"))
			for i, w := range want {
				assert.True(t, strings.HasPrefix(got[i], w), "change %d:\n%s\nwant it to start with:\n%s", i, got[i], w)
			}
		})
	}
}

func TestWriteDiff(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	var out bytes.Buffer
	require.NoError(t, inspect.WriteDiff(&out, report(t, img), report(t, img), "a.ckpt", "b.ckpt"))
	n := len(records(t, img))
	assert.Contains(t, out.String(), fmt.Sprintf("--- a.ckpt (%d records, %d bytes)\n+++ b.ckpt (%[1]d records, %[2]d bytes)\n", n, len(img)))
	assert.Contains(t, out.String(), "identical records\n")

	cut := img[:len(img)-100]
	rep, err := inspect.Inspect(bytes.NewReader(cut))
	require.Error(t, err)
	out.Reset()
	require.NoError(t, inspect.WriteDiff(&out, report(t, img), rep, "whole", "cut"))
	assert.Contains(t, out.String(), "! cut cannot be read to its end: image offset")
	assert.Contains(t, out.String(), "- TAIL")
	assert.Regexp(t, `\n\d+ records differ\n$`, out.String())
}

// TestDiffShow checks that the diff of two images' Show texts finds the
// same records changed, removed and added as the diff of the images.
func TestDiffShow(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	other := edited(t, img, func(recs []*image.Record) []*image.Record {
		i := indexOf(recs, task.RecFd, 1)
		recs = append(recs[:i:i], recs[i+1:]...)
		j := indexOf(recs, vfs.RecPipeBuf, 0)
		recs[j].Tail = []byte("in a flight")
		return recs
	})
	showOf := func(img []byte) string {
		out, err := show(t, img)
		require.NoError(t, err)
		return out
	}
	byRecords := inspect.Diff(report(t, img), report(t, other))
	byText := inspect.DiffShow(showOf(img), showOf(other))
	require.Len(t, byText, len(byRecords))
	for i := range byRecords {
		assert.Equal(t, byRecords[i].Kind, byText[i].Kind)
		assert.Equal(t, byRecords[i].Old, byText[i].Old)
		assert.Equal(t, byRecords[i].New, byText[i].New)
	}
	assert.Equal(t, "~ PIPE_BUF   of pipe #4, record 18 at offset 864 -> record 17 at offset 840\n"+
		"      length: 17 -> 19\n"+
		`      data: "in flight" -> "in a flight"`, byText[1].String())
}

func TestSplitFieldsWithBlanks(t *testing.T) {
	text := `     1  GHOST 48  Mode=0100644(regular 0644) PathLen=9 data="a b=c"... (4096 bytes) CRC=0x1(mismatch: computed 0x2) x=1`
	changes := inspect.DiffShow("", text)
	require.Len(t, changes, 1)
	assert.Equal(t, `+ GHOST      record 0 at offset 1: length=48 Mode=0100644(regular 0644) PathLen=9 data="a b=c"... (4096 bytes) CRC=0x1(mismatch: computed 0x2) x=1`, changes[0].String())
	assert.Len(t, changes[0].Fields, 6)
}

// TestDiffRenumbering: one close between two checkpoints renumbers every
// object met after the file it closed; the diff pairs the objects by their
// place in the tree, says so on one line, and shows the close as one FD
// record removed (and the table's count), not as every record that names
// an objref.
func TestDiffRenumbering(t *testing.T) {
	k := testworld.Build(t, `
		spawn 1 init
		open 1 "/a" O_RDWR|O_CREAT 0644 = 0
		open 1 "/b" O_RDWR|O_CREAT 0644 = 1
		pipe 1 = 2 3
		write 1 3 "hi" = 2
		fork 1 2`)
	before := testworld.Image(t, k)
	err := k.Close(1, 0)
	require.NoError(t, err)
	after := testworld.Image(t, k)
	var got []string
	for _, c := range inspect.Diff(report(t, before), report(t, after)) {
		got = append(got, c.String())
	}
	assert.Equal(t, []string{
		// /a is still open in the child's table, where it is now met first.
		"= objects renumbered, the same in both images: file #2 -> #9, file #3 -> #2, file #4 -> #3, pipe #5 -> #4, file #6 -> #5, fs state #7 -> #6, mm #8 -> #7, file table #9 -> #8",
		"~ FILE_TABLE of file table #1, record 7 at offset 520 -> record 7 at offset 520\n      Fds: 4 -> 3",
		"- FD         of file table #1, record 10 at offset 624: Fd=0 File=2(first) CloseOnExec=0",
		fmt.Sprintf("~ TAIL       %s -> %s\n      CRC: 0x%08x(matches) -> 0x%08x(matches)", tailAt(t, before), tailAt(t, after),
			binary.LittleEndian.Uint32(before[len(before)-8:]), binary.LittleEndian.Uint32(after[len(after)-8:])),
	}, got)
}

// TestDiffSharingChanged: a descriptor that shared a file and now names a
// file of its own differs in its File field, and the new file is added
// whole.
func TestDiffSharingChanged(t *testing.T) {
	k := testworld.Build(t, `
		spawn 1 init
		open 1 "/a" O_RDWR|O_CREAT 0644 = 0
		dup 1 0 = 1`)
	before := testworld.Image(t, k)
	err := k.Close(1, 1)
	require.NoError(t, err)
	_, err = k.Open(1, "/a", vfs.O_RDONLY, 0)
	require.NoError(t, err)
	after := testworld.Image(t, k)
	var got []string
	for _, c := range inspect.Diff(report(t, before), report(t, after)) {
		got = append(got, c.String())
	}
	require.Len(t, got, 5, "%s", strings.Join(got, "\n"))
	assert.Equal(t, "= objects renumbered, the same in both images: fs state #3 -> #4, mm #4 -> #5", got[0])
	// In the new image's order: the new file's records, then the FD.
	assert.Regexp(t, `^\+ OBJREF     of file table #1, record 10 at offset 608: ObjType=3\(file\) Objref=3\(first\)$`, got[1])
	assert.Regexp(t, `^\+ FILE       of file #3, record 11 at offset 624: FileType=1\(regular\) Async=0 Flags=0100000\(O_RDONLY\|O_LARGEFILE\)`, got[2])
	assert.Equal(t, "~ FD         of file table #1, record 10 at offset 608 -> record 12 at offset 696\n      File: 2(ref) -> 3(first)", got[3])
	assert.Regexp(t, `^~ TAIL`, got[4])
}
