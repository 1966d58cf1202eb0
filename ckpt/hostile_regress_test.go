package ckpt_test

// Regression tests of engine bugs that the hostile-image tests found, each
// named after what restart must do. They failed before the fixes in the
// same commit; the comments say what went wrong.

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// nestedFileTables returns the hostile world's records up to its first
// OBJREF, then depth file tables each nested in the one before: OBJREF
// (file table n), FILE_TABLE (1 fd), OBJREF (file table n+1), ... The
// engine used to restore any object whose OBJREF record came while it looked for
// another record, so each level recurses once more.
func nestedFileTables(t testing.TB, depth int) []byte {
	_, img := hostileWorld(t)
	recs := readRecords(t, img)
	recs = recs[:findRecord(t, recs, image.TypeObjref, 0, nil)]
	var out bytes.Buffer
	out.Write(image.Encode(recs, false))
	for d := 1; d <= depth; d++ {
		o := &image.Record{Type: image.TypeObjref}
		require.NoError(t, o.SetFixed(&image.Objref{ObjType: uint32(task.ObjFileTable), Objref: int32(d)}))
		ft := &image.Record{Type: task.RecFileTable}
		require.NoError(t, ft.SetFixed(&task.FileTableRecord{Fds: 1}))
		out.Write(image.Encode([]*image.Record{o, ft}, false))
	}
	return out.Bytes()
}

// A 32 MB image of nested file tables killed the process with a fatal
// "goroutine stack exceeds 1000000000-byte limit" (not a panic: no recover
// can catch it), because restart restored any object wherever its OBJREF
// came. Restart must refuse a file table inside a file table at once. The
// restart runs in a child process, so that a crash fails this test rather
// than killing the whole test binary.
func TestRestartRefusesDeeplyNestedFileTables(t *testing.T) {
	if os.Getenv("CKPT_NESTED_CHILD") == "1" {
		img := nestedFileTables(t, 1_000_000)
		k2 := kernel.New(kernel.Config{})
		_, err := ckpt.New(k2).Restart(bytes.NewReader(img), 0)
		require.ErrorIs(t, err, errno.EINVAL)
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestRestartRefusesDeeplyNestedFileTables$")
	cmd.Env = append(os.Environ(), "CKPT_NESTED_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "restart of 1,000,000 nested file tables crashed the process:\n%.600s", out)
}

// Below the crash, nesting made restart quadratic in time and memory (each
// level wrapped the error of the level below into a new string): 2,000
// levels, a 64 KB image, took 0.16 s and gave an 87 KB message; 10,000
// levels 15.7 s; 30,000 levels ran out of memory. The refusal must come at
// the first nested OBJREF, with a short message.
func TestRestartRefusesNestedFileTableAtOnce(t *testing.T) {
	img := nestedFileTables(t, 2000)
	k2 := kernel.New(kernel.Config{})
	_, err := restartAtomically(t, k2, img)
	require.ErrorIs(t, err, errno.EINVAL)
	assert.Less(t, len(err.Error()), 4096, "error message of %d bytes", len(err.Error()))
	// The first nested OBJREF is the first wrong record.
	recs := readRecords(t, img)
	i := findRecord(t, recs, image.TypeObjref, 1, nil)
	where := fmt.Sprintf("image offset %d: OBJREF record", recs[i].Offset)
	assert.True(t, strings.Contains(err.Error(), where), "the error does not name %q: %.300s...", where, err)
}

// The record order of FORMAT.md was not enforced: an object's records
// (OBJREF and its state) were restored wherever they came, even before the
// header (so restart looked paths up on the disk before it had checked the
// magic and the version), between TASK records, or inside a file table
// between two FD records. All three images restarted. Each must be refused
// with EINVAL naming the misplaced OBJREF record.
func TestRestartRefusesObjectsOutOfPlace(t *testing.T) {
	k, img := hostileWorld(t)
	orig := readRecords(t, img)
	for _, tc := range []struct {
		name   string
		before func(recs []*image.Record) int // where the fs state's records go
		want   string
	}{
		{"before the header", func(recs []*image.Record) int { return 0 }, "found where a HEADER record was expected"},
		{"between two tasks", func(recs []*image.Record) int {
			return findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwZombie))
		}, "found where a TASK record was expected"},
		{"between two fds", func(recs []*image.Record) int {
			return findRecord(t, recs, task.RecFd, 0, fdNum(hwFdDup))
		}, "found where a FD record was expected"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			recs := cloneRecords(orig)
			i := findRecord(t, recs, image.TypeObjref, 0, objrefOf(task.ObjFS))
			fs := cloneRecords(recs[i : i+2])
			recs = append(recs[:i:i], recs[i+2:]...)
			j := tc.before(recs)
			recs = insertRecords(recs, j, fs...)
			k2 := kernel.New(kernel.Config{DiskFrom: k})
			_, err := restartAtomically(t, k2, image.Encode(recs, true))
			require.Error(t, err, "restart accepted the fs state's records %s", tc.name)
			assert.ErrorIs(t, err, errno.EINVAL)
			offs, _ := recordOffsets(recs)
			assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: OBJREF record: objref 11, a fs state, %s", offs[j], tc.want))
		})
	}
}

// A pipe end's FILE record could name as its pipe the objref of a file:
// restart took that file for the parked other end of the pipe, because the
// other end was parked under the pipe's objref with type file. Here the
// write end (fd 3) is edited into a read end whose pipe is objref 3, the
// read end's file: restart succeeded, fd 3 became a second reference to fd
// 2's file, and the pipe's write end was silently dropped. Objref 3 is a
// file, not a pipe: restart must refuse with EINVAL (or ENOMSG), naming the
// FILE record.
func TestRestartRefusesPipeObjrefNamingAFile(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	i := findRecord(t, recs, vfs.RecFile, 1, fileOfType(vfs.TypePipe))
	editFixed(t, recs, i, func(f *vfs.FileRecord) { f.Mode, f.Flags, f.Pipe = uint32(vfs.FMODE_READ), vfs.O_RDONLY, 3 })
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := restartAtomically(t, k2, image.Encode(recs, true))
	if err == nil {
		v := k2.View()
		fds := v.FileTables[v.Task(hwRoot).FileTable].Fds
		t.Logf("restored: fd 2 is file %d, fd 3 is file %d", fds[2].File, fds[3].File)
	}
	require.Error(t, err, "restart accepted a pipe end whose pipe objref names a file")
	assert.True(t, errors.Is(err, errno.EINVAL) || errors.Is(err, errno.ENOMSG), "errno %v", errName(err))
	assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: FILE record", recs[i].Offset))
}

// A saved path with a NUL byte is not canonical (no checkpoint writes one,
// and Linux paths cannot hold one) but was let through: restart looked it
// up and failed with ENOENT, putting the raw NUL in its message, where it
// must refuse the record with EINVAL.
func TestRestartRefusesPathWithNUL(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	_, i := setFilePath(t, recs, "/dir/file\x00")
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := restartAtomically(t, k2, image.Encode(recs, true))
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EINVAL, "got %v", errName(err))
	assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: FILE record: path %q is not a canonical path", recs[i].Offset, "/dir/file\x00"))
}

// A regular file's FILE record naming a ghost whose mode is a FIFO's was
// refused with ESTALE and a message with an empty path, "FILE record: : no
// longer a regular file". Nothing on the target disk is stale: the image
// contradicts itself (EINVAL), and the message must name the ghost's path.
func TestRestartRefusesRegularFileOnFIFOGhost(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	i := findRecord(t, recs, vfs.RecGhost, 0, nil)
	recs[i].Tail = []byte("/ghost")
	editFixed(t, recs, i, func(g *vfs.GhostRecord) { g.Mode, g.Changes = vfs.S_IFIFO|0o600, 0 })
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := restartAtomically(t, k2, image.Encode(recs, true))
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EINVAL, "got %v", errName(err))
	assert.NotContains(t, err.Error(), ": : ")
	assert.Contains(t, err.Error(), "/ghost")
}

// Two FIFO files on the same path with different pipe objrefs (the second
// ghost file edited into a FIFO file on /fifo with pipe objref 20): restart
// said "/fifo: the FIFO is already open in this kernel: EBUSY", but
// nothing in the target kernel held it; this restart had opened it for the
// first FIFO file. The image contradicts itself: EINVAL, saying that the
// FIFO's pipe is objref 7, not 20.
func TestRestartRefusesSecondPipeForOneFIFO(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	i := findRecord(t, recs, vfs.RecFile, 2, fileOfType(vfs.TypeRegular))
	editFixed(t, recs, i, func(f *vfs.FileRecord) {
		*f = vfs.FileRecord{FileType: vfs.TypeFIFO, Mode: uint32(vfs.FMODE_READ | vfs.FMODE_WRITE), Flags: vfs.O_RDWR | vfs.O_LARGEFILE, Pipe: 20}
	})
	recs[i].Tail = []byte("/fifo")
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := restartAtomically(t, k2, image.Encode(recs, true))
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EINVAL, "got %v: %v", errName(err), err)
	assert.NotContains(t, err.Error(), "already open in this kernel")
}

// A pipe has two ends: the first file restored on it restores the pipe, and
// each opens its end. A third file on the same pipe (here the ghost's
// second file edited into a write end of the pipe) used to get the other
// end's file again, so that two objrefs became one file. It must be
// refused, naming the FILE record.
func TestRestartRefusesThirdFileOnAPipe(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	var first vfs.FileRecord
	require.NoError(t, recs[findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypePipe))].Decode(&first))
	i := findRecord(t, recs, vfs.RecFile, 2, fileOfType(vfs.TypeRegular))
	editFixed(t, recs, i, func(f *vfs.FileRecord) {
		*f = vfs.FileRecord{FileType: vfs.TypePipe, Mode: uint32(vfs.FMODE_WRITE), Flags: vfs.O_WRONLY, Pipe: first.Pipe}
	})
	recs[i].Tail = nil
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := restartAtomically(t, k2, image.Encode(recs, true))
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EINVAL, "got %v", errName(err))
	assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: FILE record: pipe %d: a second WRITE end", recs[i].Offset, first.Pipe))
}

// A FILE record on a ghost whose Size or Changes disagree with the ghost's
// own was restored with the ghost's values, so the restored world
// checkpointed to different records (FILE.Size: 14 -> 15; issue 11, fault
// 2). The image contradicts itself: EINVAL, naming both values.
func TestRestartRefusesFileDisagreeingWithItsGhost(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*vfs.FileRecord)
		want string
	}{
		{"size", func(f *vfs.FileRecord) { f.Size++ }, "size 17 and 1 changes, its ghost 9 (/ghost (deleted)) size 16 and 1 changes"},
		{"changes", func(f *vfs.FileRecord) { f.Changes += 2 }, "size 16 and 3 changes, its ghost 9 (/ghost (deleted)) size 16 and 1 changes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, img := hostileWorld(t)
			recs := readRecords(t, img)
			i := findRecord(t, recs, vfs.RecFile, 0, func(r *image.Record) bool {
				var f vfs.FileRecord
				return r.Decode(&f) == nil && f.Ghost != 0
			})
			editFixed(t, recs, i, tc.edit)
			k2 := kernel.New(kernel.Config{DiskFrom: k})
			_, err := restartAtomically(t, k2, image.Encode(recs, true))
			require.Error(t, err)
			assert.ErrorIs(t, err, errno.EINVAL, "got %v: %v", errName(err), err)
			assert.Contains(t, err.Error(), fmt.Sprintf("image offset %d: FILE record: ", recs[i].Offset))
			assert.Contains(t, err.Error(), tc.want)
		})
	}
}
