package ckpt_test

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// The hostile world's pids and fds, as hostileWorld builds them.
const (
	hwRoot   = 100 // the container's root
	hwChild  = 101 // forked: a copy of the root's file table, the pipe shared
	hwZombie = 102 // exited with code 7, not reaped
	hwWorker = 103 // cloned with CLONE_FS, chdir'd to /dir

	hwFdFile   = 0 // /dir/file, O_RDWR, at position 6
	hwFdDup    = 1 // dup of fd 0
	hwFdPipeR  = 2 // pipe, read end, "in flight" waiting
	hwFdPipeW  = 3 // pipe, write end
	hwFdFIFO   = 4 // /fifo, O_RDWR, "fifo bytes" waiting
	hwFdGhost1 = 5 // /ghost, unlinked, first open
	hwFdGhost2 = 6 // /ghost, unlinked, second open
)

// epochClock makes images reproducible.
func epochClock() time.Time { return time.Unix(0, 0) }

// hostileWorld builds the world the hostile-image tests edit images of,
// through system calls only, and returns the kernel, frozen, with its image.
func hostileWorld(t testing.TB) (*kernel.Kernel, []byte) {
	t.Helper()
	k := kernel.New(kernel.Config{})
	must := func(err error) {
		t.Helper()
		require.NoError(t, err)
	}
	mustInt := func(n int, err error) int {
		t.Helper()
		require.NoError(t, err)
		return n
	}
	mustInt(k.Spawn(hwRoot, "init"))
	must(k.Mkdir(hwRoot, "/dir", 0o755))
	must(k.WriteFile("/dir/file", []byte("hello, world"), 0o644))
	require.Equal(t, hwFdFile, mustInt(k.Open(hwRoot, "/dir/file", vfs.O_RDWR, 0)))
	_, err := k.Lseek(hwRoot, hwFdFile, 6, vfs.SEEK_SET)
	must(err)
	require.Equal(t, hwFdDup, mustInt(k.Dup(hwRoot, hwFdFile)))
	fds, err := k.Pipe2(hwRoot, 0)
	must(err)
	require.Equal(t, [2]int{hwFdPipeR, hwFdPipeW}, fds)
	mustInt(k.Write(hwRoot, hwFdPipeW, []byte("in flight")))
	must(k.Mkfifo(hwRoot, "/fifo", 0o644))
	require.Equal(t, hwFdFIFO, mustInt(k.Open(hwRoot, "/fifo", vfs.O_RDWR, 0)))
	mustInt(k.Write(hwRoot, hwFdFIFO, []byte("fifo bytes")))
	require.Equal(t, hwFdGhost1, mustInt(k.Open(hwRoot, "/ghost", vfs.O_CREAT|vfs.O_RDWR, 0o600)))
	mustInt(k.Write(hwRoot, hwFdGhost1, []byte("ghostly contents")))
	require.Equal(t, hwFdGhost2, mustInt(k.Open(hwRoot, "/ghost", vfs.O_RDONLY, 0)))
	must(k.Unlink(hwRoot, "/ghost"))
	mustInt(k.Fork(hwRoot, hwChild))
	mustInt(k.Fork(hwRoot, hwZombie))
	must(k.Exit(hwZombie, 7))
	mustInt(k.Clone(hwRoot, hwWorker, kernel.CLONE_FS, "worker"))
	must(k.Chdir(hwWorker, "/dir"))
	regs, err := k.Regs(hwRoot)
	must(err)
	regs.Regs.Rax, regs.Regs.Rbx, regs.Regs.Rip = 42, 0xdeadbeef, 0x401234
	must(k.SetRegs(hwRoot, regs))
	must(k.Freeze(hwRoot))
	return k, checkpointImage(t, k, hwRoot)
}

// checkpointImage checkpoints the frozen container at pid with the fixed
// clock and returns its image.
func checkpointImage(t testing.TB, k *kernel.Kernel, pid int) []byte {
	t.Helper()
	var buf bytes.Buffer
	e := &ckpt.Engine{Kernel: k, Clock: epochClock}
	_, err := e.Checkpoint(pid, &buf, 0)
	require.NoError(t, err)
	return buf.Bytes()
}

// readRecords splits an image into records.
func readRecords(t testing.TB, img []byte) []*image.Record {
	t.Helper()
	recs, err := image.ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	return recs
}

// dumpRecords describes records one a line, for failure messages.
func dumpRecords(recs []*image.Record) string {
	var b strings.Builder
	for i, r := range recs {
		fmt.Fprintf(&b, "%3d @%-5d %-10v", i, r.Offset, r.Type)
		if s := image.SpecOf(r.Type); s != nil && s.Fixed != nil && r.Type != ckpt.RecRegs {
			v := newFixed(r.Type)
			if err := r.Decode(v); err == nil {
				fmt.Fprintf(&b, " %+v", derefFixed(v))
			}
		}
		if len(r.Tail) > 0 && r.Type != ckpt.RecRegs {
			fmt.Fprintf(&b, " tail %q", clip(r.Tail, 40))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// newFixed returns a pointer to a new fixed struct of record type t.
func newFixed(t image.Type) any {
	if s := image.SpecOf(t); s != nil && s.Fixed != nil {
		return reflect.New(s.Fixed).Interface()
	}
	return nil
}

func derefFixed(v any) any {
	switch p := v.(type) {
	case *image.Header:
		return fmt.Sprintf("{Magic:%q Major:%d Minor:%d Flags:%#x}", p.Magic[:], p.Major, p.Minor, p.Flags)
	case *ckpt.TaskRecord:
		return fmt.Sprintf("{Pid:%d PPid:%d State:%d ExitCode:%d Comm:%q}", p.Pid, p.PPid, p.State, p.ExitCode, bytes.TrimRight(p.Comm[:], "\x00"))
	case *image.Tail:
		return fmt.Sprintf("{Magic:%q CRC:%#x}", p.Magic[:], p.CRC)
	}
	return v
}

// cloneRecords deep-copies records, so that a case can edit them freely.
func cloneRecords(recs []*image.Record) []*image.Record {
	out := make([]*image.Record, len(recs))
	for i, r := range recs {
		c := *r
		c.Fixed = append([]byte(nil), r.Fixed...)
		c.Tail = append([]byte(nil), r.Tail...)
		out[i] = &c
	}
	return out
}

// findRecord returns the index of the n-th record (from 0) of type t that
// match accepts (nil accepts all); it fails the test when there is none.
func findRecord(t testing.TB, recs []*image.Record, typ image.Type, n int, match func(r *image.Record) bool) int {
	t.Helper()
	for i, r := range recs {
		if r.Type != typ || match != nil && !match(r) {
			continue
		}
		if n == 0 {
			return i
		}
		n--
	}
	require.FailNow(t, "no such record", "%v #%d\n%s", typ, n, dumpRecords(recs))
	return -1
}

// editFixed decodes record i's fixed part into a T, lets edit change it and
// writes it back.
func editFixed[T any](t testing.TB, recs []*image.Record, i int, edit func(*T)) {
	t.Helper()
	var v T
	require.NoError(t, recs[i].Decode(&v))
	edit(&v)
	require.NoError(t, recs[i].SetFixed(&v))
}

// restartAtomically restarts img into k2 and checks that a failure changed
// nothing: the registry is as it was, and k2's own check passes. It returns
// the restart's result.
func restartAtomically(t testing.TB, k2 *kernel.Kernel, img []byte) (int, error) {
	t.Helper()
	before := k2.Registry().Snapshot()
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), ckpt.RESTART_FROZEN)
	if err != nil {
		require.Empty(t, before.Diff(k2.Registry().Snapshot()), "the failed restart left the registry changed: %v", err)
	}
	require.NoError(t, k2.Check(), "after restart (err %v)", err)
	return root, err
}

// editRegs decodes a REGS record, edits it and encodes it again.
func editRegs(t testing.TB, r *image.Record, edit func(*x86cpu.State)) {
	t.Helper()
	s, err := ckpt.RegsKind.Decode(r)
	require.NoError(t, err)
	edit(&s)
	r.Fixed = ckpt.RegsKind.Record(&s, nil).Fixed
}

// TestHostileWorldImage prints the hostile world's image, to help whoever
// writes a new case (go test -run HostileWorldImage -v).
func TestHostileWorldImage(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	t.Logf("%d bytes, %d records\n%s", len(img), len(recs), dumpRecords(recs))
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	root, err := restartAtomically(t, k2, img)
	require.NoError(t, err)
	require.Equal(t, hwRoot, root)
}

// Record matchers for findRecord.

func taskPid(pid int32) func(*image.Record) bool {
	return func(r *image.Record) bool {
		var v ckpt.TaskRecord
		return r.Decode(&v) == nil && v.Pid == pid
	}
}

func fdNum(fd int32) func(*image.Record) bool {
	return func(r *image.Record) bool {
		var v task.FdRecord
		return r.Decode(&v) == nil && v.Fd == fd
	}
}

func objrefOf(typ object.Type) func(*image.Record) bool {
	return func(r *image.Record) bool {
		var v image.Objref
		return r.Decode(&v) == nil && v.ObjType == uint32(typ)
	}
}

func fileOfType(ft vfs.FileType) func(*image.Record) bool {
	return func(r *image.Record) bool {
		var v vfs.FileRecord
		return r.Decode(&v) == nil && vfs.FileType(v.FileType) == ft
	}
}

// offsets returns each record's offset in Encode's output, and the length of
// the whole.
func recordOffsets(recs []*image.Record) ([]int64, int64) {
	out := make([]int64, len(recs))
	var off int64
	for i, r := range recs {
		out[i] = off
		off += image.RecordSize(len(r.Fixed) + len(r.Tail))
	}
	return out, off
}

// withHelperTask runs fn in a short-lived task of k, pid 1, that exits (and is
// reaped) afterwards: for changing the disk through system calls.
func withHelperTask(t testing.TB, k *kernel.Kernel, fn func(pid int)) {
	t.Helper()
	_, err := k.Spawn(1, "helper")
	require.NoError(t, err)
	fn(1)
	require.NoError(t, k.Exit(1, 0))
}
