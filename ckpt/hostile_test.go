package ckpt_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// hostileCase is one malformed image: the hostile world's image edited
// record by record. Restart must refuse it with errno, with a message that
// holds every string of msg and, unless at is noRecord, names the edited
// image's record at index at by its offset and type (at == len(recs)
// stands for the end of the image).
type hostileCase struct {
	name string
	// edit changes the records (a deep copy of the world's image) and
	// returns them with the index of the record the error is about.
	edit func(t *testing.T, recs []*image.Record) ([]*image.Record, int)
	// keepCRC encodes the edited records without recomputing the tail's
	// checksum.
	keepCRC bool
	// cfg sets the target kernel's limits; setup changes the target kernel
	// (its disk, its pids) before the restart.
	cfg   kernel.Config
	setup func(t *testing.T, k2 *kernel.Kernel)
	errno errno.Errno
	msg   []string
}

const noRecord = -1

// Field editors: each finds the record, edits its fixed part and returns the
// records with the record's index.

func editHeader(t *testing.T, recs []*image.Record, f func(*image.Header)) ([]*image.Record, int) {
	i := findRecord(t, recs, image.TypeHeader, 0, nil)
	editFixed(t, recs, i, f)
	return recs, i
}

func editArch(t *testing.T, recs []*image.Record, f func(*image.Arch)) ([]*image.Record, int) {
	i := findRecord(t, recs, image.TypeArch, 0, nil)
	editFixed(t, recs, i, f)
	return recs, i
}

func editTree(t *testing.T, recs []*image.Record, f func(*ckpt.TreeRecord)) ([]*image.Record, int) {
	i := findRecord(t, recs, ckpt.RecTree, 0, nil)
	editFixed(t, recs, i, f)
	return recs, i
}

func editTask(t *testing.T, recs []*image.Record, pid int32, f func(*ckpt.TaskRecord)) ([]*image.Record, int) {
	i := findRecord(t, recs, ckpt.RecTask, 0, taskPid(pid))
	editFixed(t, recs, i, f)
	return recs, i
}

// editFd edits the n-th FD record with the given number (n 0: the root's
// table).
func editFd(t *testing.T, recs []*image.Record, fd int32, n int, f func(*task.FdRecord)) ([]*image.Record, int) {
	i := findRecord(t, recs, task.RecFd, n, fdNum(fd))
	editFixed(t, recs, i, f)
	return recs, i
}

// editObjref edits the n-th OBJREF record of an object type.
func editObjref(t *testing.T, recs []*image.Record, typ object.Type, n int, f func(*image.Objref)) ([]*image.Record, int) {
	i := findRecord(t, recs, image.TypeObjref, n, objrefOf(typ))
	editFixed(t, recs, i, f)
	return recs, i
}

// editFile edits the n-th FILE record of a file type.
func editFile(t *testing.T, recs []*image.Record, ft vfs.FileType, n int, f func(*vfs.FileRecord)) ([]*image.Record, int) {
	i := findRecord(t, recs, vfs.RecFile, n, fileOfType(ft))
	editFixed(t, recs, i, f)
	return recs, i
}

// setFilePath replaces the path of the regular file /dir/file's record.
func setFilePath(t *testing.T, recs []*image.Record, p string) ([]*image.Record, int) {
	i := findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeRegular))
	require.Equal(t, "/dir/file", string(recs[i].Tail))
	recs[i].Tail = []byte(p)
	return recs, i
}

func editFirst[T any](t *testing.T, recs []*image.Record, typ image.Type, f func(*T)) ([]*image.Record, int) {
	i := findRecord(t, recs, typ, 0, nil)
	editFixed(t, recs, i, f)
	return recs, i
}

// remove deletes record i.
func dropRecord(recs []*image.Record, i int) []*image.Record {
	return append(recs[:i:i], recs[i+1:]...)
}

// insert puts copies of rs before record i.
func insertRecords(recs []*image.Record, i int, rs ...*image.Record) []*image.Record {
	out := append(recs[:i:i], cloneRecords(rs)...)
	return append(out, recs[i:]...)
}

// readerReads is how restart names the versions it reads.
var readerReads = fmt.Sprintf("this reader reads %d.0 to %d.%d", image.VersionMajor, image.VersionMajor, image.VersionMinor)

func hostileCases() []hostileCase {
	setCRCWrong := func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
		i := findRecord(t, recs, image.TypeTail, 0, nil)
		return recs, i
	}
	return []hostileCase{
		// The header and the architecture.
		{name: "header magic", errno: errno.EINVAL, msg: []string{`bad magic "XKPTSIM\x00": not a ckptsim image`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editHeader(t, recs, func(h *image.Header) { h.Magic[0] = 'X' })
			}},
		{name: "format major 2", errno: errno.EINVAL, msg: []string{fmt.Sprintf("image format 2.%d", image.VersionMinor), readerReads},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editHeader(t, recs, func(h *image.Header) { h.Major = 2 })
			}},
		{name: "format of a newer minor", errno: errno.EINVAL, msg: []string{fmt.Sprintf("image format 1.%d", image.VersionMinor+1), readerReads},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editHeader(t, recs, func(h *image.Header) { h.Minor = image.VersionMinor + 1 })
			}},
		{name: "format major 0", errno: errno.EINVAL, msg: []string{fmt.Sprintf("image format 0.%d", image.VersionMinor), readerReads},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editHeader(t, recs, func(h *image.Header) { h.Major = 0 })
			}},
		{name: "unknown checkpoint flags", errno: errno.EINVAL, msg: []string{"unknown checkpoint flags 0x6"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editHeader(t, recs, func(h *image.Header) { h.Flags = 6 })
			}},
		{name: "architecture id", errno: errno.EINVAL, msg: []string{"architecture 2 with 216/512/64-byte register areas", "this kernel is x86-64 with 216/512/64"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editArch(t, recs, func(a *image.Arch) { a.Arch = 2 })
			}},
		{name: "regs size", errno: errno.EINVAL, msg: []string{"architecture 1 with 224/512/64-byte register areas", "this kernel is x86-64 with 216/512/64"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editArch(t, recs, func(a *image.Arch) { a.RegsSize = 224 })
			}},
		{name: "fpu size", errno: errno.EINVAL, msg: []string{"architecture 1 with 216/832/64-byte register areas"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editArch(t, recs, func(a *image.Arch) { a.FPUSize = 832 })
			}},
		{name: "debug regs size", errno: errno.EINVAL, msg: []string{"architecture 1 with 216/512/0-byte register areas"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editArch(t, recs, func(a *image.Arch) { a.DebugSize = 0 })
			}},
		{name: "arch record removed", errno: errno.EINVAL, msg: []string{"found where a ARCH record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, image.TypeArch, 0, nil)
				return dropRecord(recs, i), i // the TREE record now stands there
			}},

		// The task tree.
		{name: "tree of 0 tasks", errno: errno.EINVAL, msg: []string{"0 tasks"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks = 0 })
			}},
		{name: "tree of 2^32-1 tasks", errno: errno.EINVAL, msg: []string{"4294967295 tasks"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks = 1<<32 - 1 })
			}},
		{name: "tree of pid_max tasks", errno: errno.EINVAL, msg: []string{"4194304 tasks"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks = kernel.DefaultPidMax })
			}},
		// The engine restores objects wherever an OBJREF record comes, so
		// the error names the first record after them (TASK_OBJS), not the
		// first OBJREF: see TestBugObjectsOutOfPlace (uncommitted).
		{name: "tree counts more tasks than it has", errno: errno.EINVAL, msg: []string{"PIDNS record: found where a TASK record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs, _ = editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks = 5 })
				return recs, noRecord
			}},
		{name: "tree counts fewer tasks than it has", errno: errno.EINVAL, msg: []string{"found where a PIDNS record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs, _ = editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks = 3 })
				return recs, findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwWorker))
			}},
		{name: "last pid beyond pid_max", errno: errno.EINVAL, msg: []string{fmt.Sprintf("last pid %d, pid_max is %d", kernel.DefaultPidMax, kernel.DefaultPidMax)},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, ckpt.RecPidNS, func(ns *ckpt.PidNSRecord) { ns.LastPid = kernel.DefaultPidMax })
			}},
		{name: "negative last pid", errno: errno.EINVAL, msg: []string{"last pid -1"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, ckpt.RecPidNS, func(ns *ckpt.PidNSRecord) { ns.LastPid = -1 })
			}},
		{name: "pid namespace record missing", errno: errno.EINVAL, msg: []string{"found where a PIDNS record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecPidNS, 0, nil)
				return dropRecord(recs, i), i
			}},
		{name: "duplicate pid", errno: errno.EINVAL, msg: []string{"pid 100 appears twice"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.Pid = hwRoot })
			}},
		{name: "duplicated task record", errno: errno.EINVAL, msg: []string{"pid 101 appears twice"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwChild))
				recs = insertRecords(recs, i+1, recs[i])
				recs, _ = editTree(t, recs, func(tr *ckpt.TreeRecord) { tr.Tasks++ })
				return recs, i + 1
			}},
		{name: "pid in use in the target kernel", errno: errno.EEXIST, msg: []string{"pid 101 is taken"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				_, err := k2.Spawn(hwChild, "squatter")
				require.NoError(t, err)
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwChild))
			}},
		{name: "root pid in use in the target kernel", errno: errno.EEXIST, msg: []string{"pid 100 is taken"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				_, err := k2.Spawn(hwRoot, "squatter")
				require.NoError(t, err)
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwRoot))
			}},
		{name: "pid pid_max", errno: errno.EINVAL, msg: []string{"pid 4194304 out of range 1..4194303"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwWorker, func(tr *ckpt.TaskRecord) { tr.Pid = kernel.DefaultPidMax })
			}},
		{name: "pid beyond a small pid_max", errno: errno.EINVAL, msg: []string{"pid 103 out of range 1..102"},
			cfg: kernel.Config{PidMax: 103},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwWorker))
			}},
		{name: "pid 0", errno: errno.EINVAL, msg: []string{"pid 0 out of range"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.Pid = 0 })
			}},
		{name: "negative pid", errno: errno.EINVAL, msg: []string{"pid -7 out of range"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwRoot, func(tr *ckpt.TaskRecord) { tr.Pid = -7 })
			}},
		{name: "parent not an ancestor (a sibling)", errno: errno.EINVAL, msg: []string{"pid 103: parent 101 is not an ancestor in preorder"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwWorker, func(tr *ckpt.TaskRecord) { tr.PPid = hwChild })
			}},
		{name: "parent not in the tree", errno: errno.EINVAL, msg: []string{"pid 101: parent 999 is not an ancestor in preorder"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.PPid = 999 })
			}},
		{name: "own parent", errno: errno.EINVAL, msg: []string{"pid 101: parent 101 is not an ancestor in preorder"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.PPid = hwChild })
			}},
		{name: "child with parent 0", errno: errno.EINVAL, msg: []string{"pid 101: parent 0 is not an ancestor in preorder"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.PPid = 0 })
			}},
		{name: "root with a parent", errno: errno.EINVAL, msg: []string{"the root, pid 100, must be live and have parent 0"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwRoot, func(tr *ckpt.TaskRecord) { tr.PPid = 1 })
			}},
		{name: "root a zombie", errno: errno.EINVAL, msg: []string{"the root, pid 100, must be live and have parent 0"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwRoot, func(tr *ckpt.TaskRecord) { tr.State = 1 })
			}},
		{name: "task state 2", errno: errno.EINVAL, msg: []string{"pid 101: state 2"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.State = 2 })
			}},
		{name: "zombie exit code 256", errno: errno.EINVAL, msg: []string{"pid 102: exit code 256"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwZombie, func(tr *ckpt.TaskRecord) { tr.ExitCode = 256 })
			}},
		{name: "zombie exit code -1", errno: errno.EINVAL, msg: []string{"pid 102: exit code -1"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwZombie, func(tr *ckpt.TaskRecord) { tr.ExitCode = -1 })
			}},
		{name: "live task with an exit code", errno: errno.EINVAL, msg: []string{"pid 101: exit code 3"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwChild, func(tr *ckpt.TaskRecord) { tr.ExitCode = 3 })
			}},
		{name: "comm without NUL", errno: errno.EINVAL, msg: []string{"pid 103: command name without a terminating NUL"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwWorker, func(tr *ckpt.TaskRecord) { copy(tr.Comm[:], "0123456789abcdef") })
			}},
		{name: "comm with bytes after its NUL", errno: errno.EINVAL, msg: []string{"pid 100: command name with bytes after its NUL"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editTask(t, recs, hwRoot, func(tr *ckpt.TaskRecord) { tr.Comm[15] = 'x' })
			}},
		{name: "task record removed", errno: errno.EINVAL, msg: []string{"PIDNS record: found where a TASK record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwWorker))
				return dropRecord(recs, i), noRecord // as above
			}},
		{name: "task records swapped: a zombie gets a file table", errno: errno.EINVAL,
			msg: []string{"pid 102: ", "a zombie with a file table or fs state"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				// 102 before 101 is still preorder, but the records of
				// 101's objects now go to the zombie.
				i := findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwChild))
				j := findRecord(t, recs, ckpt.RecTask, 0, taskPid(hwZombie))
				recs[i], recs[j] = recs[j], recs[i]
				return recs, findRecord(t, recs, ckpt.RecTaskObjs, 1, nil)
			}},

		// A task's objects and registers.
		{name: "zombie with a file table", errno: errno.EINVAL, msg: []string{"pid 102: ", "a zombie with a file table or fs state"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 2, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FileTable = 1 })
				return recs, i
			}},
		{name: "zombie with an fs state", errno: errno.EINVAL, msg: []string{"pid 102: ", "a zombie with a file table or fs state"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 2, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FS = 11 })
				return recs, i
			}},
		// Pid 103 shares pid 100's fs state (CLONE_FS): its TASK_OBJS
		// names it by reference, with no OBJREF before.
		{name: "live task without an fs state", errno: errno.EINVAL, msg: []string{"pid 103: ", "objref 0 for a fs state"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 3, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FS = 0 })
				return recs, i
			}},
		{name: "task objs naming a file as its fs state", errno: errno.ENOMSG, msg: []string{"pid 103: ", "fetch objref 2: is a file, not a fs state"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 3, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FS = 2 })
				return recs, i
			}},
		{name: "task objs naming an unknown fs state", errno: errno.EINVAL, msg: []string{"pid 103: ", "objref 77 names no fs state restored before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 3, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FS = 77 })
				return recs, i
			}},
		// A file table introduced right before a TASK_OBJS that names
		// another: not an image checkpoint writes.
		{name: "file table introduced and not used", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 1, a file table, is not used by the TASK_OBJS record it comes before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 0, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FileTable = 2 })
				return recs, findRecord(t, recs, image.TypeObjref, 0, objrefOf(task.ObjFileTable))
			}},
		{name: "live task without a file table", errno: errno.EINVAL, msg: []string{"pid 103: ", "a file table, is not used by the TASK_OBJS record"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecTaskObjs, 3, nil)
				editFixed(t, recs, i, func(o *ckpt.TaskObjsRecord) { o.FileTable = 0 })
				return recs, findRecord(t, recs, image.TypeObjref, 2, objrefOf(task.ObjFileTable))
			}},
		{name: "registers: bad cs", errno: errno.EINVAL, msg: []string{"pid 100: ", "regs: cs 0x10: not a user code selector"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecRegs, 0, nil)
				editRegs(t, recs[i], func(s *x86cpu.State) { s.Regs.Cs = 0x10 })
				return recs, i
			}},
		{name: "registers: non-canonical rip", errno: errno.EINVAL, msg: []string{"pid 101: ", "regs: rip 0x800000000000: not a user address"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecRegs, 1, nil)
				editRegs(t, recs[i], func(s *x86cpu.State) { s.Regs.Rip = 1 << 47 })
				return recs, i
			}},
		{name: "registers: IOPL in a zombie's eflags", errno: errno.EINVAL, msg: []string{"pid 102: ", "regs: eflags 0x3202: IOPL set"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecRegs, 2, nil)
				editRegs(t, recs[i], func(s *x86cpu.State) { s.Regs.Eflags |= 0x3000 })
				return recs, i
			}},
		{name: "regs record removed", errno: errno.EINVAL, msg: []string{"pid 103: ", "found where a REGS record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, ckpt.RecRegs, 3, nil)
				return dropRecord(recs, i), i // the TAIL stands there now
			}},

		// Objrefs.
		{name: "objref of an unknown object type", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 1 of unknown object type 9"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, task.ObjFileTable, 0, func(o *image.Objref) { o.ObjType = 9 })
			}},
		{name: "objref of an object type no image has", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 1 of unknown object type 32768"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, task.ObjFileTable, 0, func(o *image.Objref) { o.ObjType = 0x8000 })
			}},
		{name: "objref of object type 0", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 2 of unknown object type 0"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, vfs.ObjFile, 0, func(o *image.Objref) { o.ObjType = 0 })
			}},
		{name: "objref of object type 2^16", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 2 of unknown object type 65536"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, vfs.ObjFile, 0, func(o *image.Objref) { o.ObjType = 1 << 16 })
			}},
		{name: "objref of a pipe out of place", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 2, a pipe, found where a FD record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, vfs.ObjFile, 0, func(o *image.Objref) { o.ObjType = uint32(vfs.ObjPipe) })
			}},
		// Objrefs count from 1 in order of first encounter: an objref used
		// twice, or not positive, is out of that order.
		{name: "duplicate objref", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 2 out of order: objrefs count from 1 in order of first encounter, and the next is 3"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, vfs.ObjFile, 1, func(o *image.Objref) { o.Objref = 2 })
			}},
		{name: "duplicated fs state records", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 11 out of order"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, image.TypeObjref, 0, objrefOf(task.ObjFS))
				return insertRecords(recs, i+2, recs[i], recs[i+1]), i + 2
			}},
		{name: "objref 0", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 0 out of order"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, task.ObjFileTable, 0, func(o *image.Objref) { o.Objref = 0 })
			}},
		{name: "negative objref", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref -3 out of order"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, task.ObjFS, 0, func(o *image.Objref) { o.Objref = -3 })
			}},
		{name: "object's record missing after its objref", errno: errno.EINVAL, msg: []string{"pid 100: ", "found where a FS record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFS, 0, nil)
				return dropRecord(recs, i), i
			}},

		// File tables and descriptors.
		// The dup'd fd refers to its file by reference.
		{name: "fd naming an unknown objref", errno: errno.EINVAL, msg: []string{"pid 100: ", "fd 1: ", "objref 99 names no file restored before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdDup, 0, func(fd *task.FdRecord) { fd.File = 99 })
			}},
		{name: "fd naming a file it was not preceded by", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 2, a file, is not used by the FD record it comes before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				editFd(t, recs, hwFdFile, 0, func(fd *task.FdRecord) { fd.File = 99 })
				return recs, findRecord(t, recs, image.TypeObjref, 0, objrefOf(vfs.ObjFile))
			}},
		// Pid 101's table, a copy of pid 100's, refers to every file by
		// reference.
		{name: "fd naming a ghost", errno: errno.ENOMSG, msg: []string{"pid 101: ", "fd 6: ", "fetch objref 9: is a ghost, not a file"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdGhost2, 1, func(fd *task.FdRecord) { fd.File = 9 })
			}},
		{name: "fd naming a file table", errno: errno.ENOMSG, msg: []string{"pid 101: ", "fd 0: ", "fetch objref 1: is a file table, not a file"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdFile, 1, func(fd *task.FdRecord) { fd.File = 1 })
			}},
		{name: "fds not increasing", errno: errno.EINVAL, msg: []string{"pid 100: ", "fd 0 after fd 0: descriptors must increase"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdDup, 0, func(fd *task.FdRecord) { fd.Fd = 0 })
			}},
		{name: "fd records swapped", errno: errno.EINVAL, msg: []string{"pid 101: ", "fd 2 after fd 3: descriptors must increase"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFd, 1, fdNum(hwFdPipeR))
				recs[i], recs[i+1] = recs[i+1], recs[i]
				return recs, i + 1
			}},
		{name: "negative fd", errno: errno.EINVAL, msg: []string{"pid 100: ", "fd -1 after fd -1: descriptors must increase"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdFile, 0, func(fd *task.FdRecord) { fd.Fd = -1 })
			}},
		{name: "fd at RLIMIT_NOFILE", errno: errno.EMFILE, msg: []string{"pid 100: ", "fd 5 is beyond RLIMIT_NOFILE 5"},
			cfg: kernel.Config{NoFile: 5},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, task.RecFd, 0, fdNum(hwFdGhost1))
			}},
		{name: "fd 2^31-1", errno: errno.EMFILE, msg: []string{"pid 100: ", "fd 2147483647 is beyond RLIMIT_NOFILE 65536"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdGhost2, 0, func(fd *task.FdRecord) { fd.Fd = 1<<31 - 1 })
			}},
		{name: "more fds than nr_open", errno: errno.EMFILE, msg: []string{"pid 100: ", "7 descriptors, nr_open is 6"},
			cfg: kernel.Config{NrOpen: 6},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, task.RecFileTable, 0, nil)
			}},
		{name: "file table of 2^32-1 fds", errno: errno.EMFILE, msg: []string{"pid 100: ", "4294967295 descriptors, nr_open is 1048576"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, task.RecFileTable, func(ft *task.FileTableRecord) { ft.Fds = 1<<32 - 1 })
			}},
		{name: "file table counts more fds than it has", errno: errno.EINVAL, msg: []string{"pid 100: ", "OBJREF record: objref 11, a fs state, found where a FD record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				// As above: the fs state's OBJREF and FS records are taken
				// in, and the TASK_OBJS record is named.
				recs, _ = editFirst(t, recs, task.RecFileTable, func(ft *task.FileTableRecord) { ft.Fds = 8 })
				return recs, noRecord
			}},
		{name: "close-on-exec 2", errno: errno.EINVAL, msg: []string{"pid 100: ", "fd 3: close-on-exec 2"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdPipeW, 0, func(fd *task.FdRecord) { fd.CloseOnExec = 2 })
			}},
		{name: "fd padding not zero", errno: errno.EINVAL, msg: []string{"Pad is not zero"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFd(t, recs, hwFdPipeW, 0, func(fd *task.FdRecord) { fd.Pad = 1 })
			}},

		// Files.
		{name: "file flags O_CREAT", errno: errno.EINVAL, msg: []string{"pid 100: ", "flags O_RDWR|O_CREAT|O_LARGEFILE could create or truncate"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Flags |= vfs.O_CREAT })
			}},
		{name: "file flags O_TRUNC", errno: errno.EINVAL, msg: []string{"pid 100: ", "O_TRUNC", "could create or truncate"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Flags |= vfs.O_TRUNC })
			}},
		{name: "file flags O_EXCL", errno: errno.EINVAL, msg: []string{"pid 100: ", "O_EXCL", "could create or truncate"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeFIFO, 0, func(f *vfs.FileRecord) { f.Flags |= vfs.O_EXCL })
			}},
		{name: "file flags O_NOCTTY", errno: errno.EINVAL, msg: []string{"pid 100: ", "O_NOCTTY", "could create or truncate"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 1, func(f *vfs.FileRecord) { f.Flags |= vfs.O_NOCTTY })
			}},
		{name: "mode not matching the flags", errno: errno.EINVAL, msg: []string{"pid 100: ", "saved mode"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Mode &^= uint32(vfs.FMODE_WRITE) })
			}},
		{name: "unknown mode bits", errno: errno.EINVAL, msg: []string{"pid 100: ", "mode bits"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Mode |= 0x20 })
			}},
		{name: "a file type no kind of file has", errno: errno.EINVAL, msg: []string{"pid 100: ", "file type 99"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.FileType = 99 })
			}},
		{name: "position on a pipe", errno: errno.EINVAL, msg: []string{"pid 100: ", "position 5 on a file that cannot seek"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypePipe, 0, func(f *vfs.FileRecord) { f.Pos = 5 })
			}},
		{name: "negative position", errno: errno.EINVAL, msg: []string{"pid 100: ", "position -1"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Pos = -1 })
			}},
		{name: "path a/b", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "dir/file" is not a canonical path inside the container`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "dir/file")
			}},
		{name: "path /a/../b", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/dir/../dir/file" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/dir/../dir/file")
			}},
		{name: "path /a/", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/dir/file/" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/dir/file/")
			}},
		{name: "path /a//b", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/dir//file" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/dir//file")
			}},
		{name: "path /a/./b", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/dir/./file" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/dir/./file")
			}},
		{name: "path escaping /..", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/../dir/file" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/../dir/file")
			}},
		{name: "path escaping ../", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "../../dir/file" is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "../../dir/file")
			}},
		{name: "fs state with a non-canonical cwd", errno: errno.EINVAL, msg: []string{"pid 100: ", `path "/dir/.." is not a canonical path`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFS, 0, nil)
				recs[i].Tail = []byte("//dir/..")
				editFixed(t, recs, i, func(fs *task.FSRecord) { fs.CwdLen = 7 })
				return recs, i
			}},
		{name: "fs state with path lengths off", errno: errno.EINVAL, msg: []string{"pid 100: ", "paths of 1 and 3 bytes in a 5-byte tail"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFS, 0, nil)
				editFixed(t, recs, i, func(fs *task.FSRecord) { fs.CwdLen = 3 })
				return recs, i
			}},
		{name: "fs state cwd a regular file", errno: errno.ENOTDIR, msg: []string{"pid 100: ", "/dir/file is not a directory"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFS, 0, nil)
				recs[i].Tail = []byte("//dir/file")
				editFixed(t, recs, i, func(fs *task.FSRecord) { fs.CwdLen = 9 })
				return recs, i
			}},
		{name: "regular file changed on the target disk", errno: errno.ESTALE, msg: []string{"pid 100: ", "/dir/file: changed since the checkpoint"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				require.NoError(t, k2.WriteFile("/dir/file", []byte("changed"), 0o644))
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeRegular))
			}},
		{name: "regular file rewritten with the same size", errno: errno.ESTALE, msg: []string{"pid 100: ", "/dir/file: changed since the checkpoint"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				require.NoError(t, k2.WriteFile("/dir/file", []byte("HELLO, WORLD"), 0o644))
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeRegular))
			}},
		{name: "regular file missing on the target disk", errno: errno.ENOENT, msg: []string{"pid 100: ", "/dir/file: "},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				withHelperTask(t, k2, func(pid int) { require.NoError(t, k2.Unlink(pid, "/dir/file")) })
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeRegular))
			}},
		{name: "path to a missing file", errno: errno.ENOENT, msg: []string{"pid 100: ", "/dir/nofile: "},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return setFilePath(t, recs, "/dir/nofile")
			}},
		{name: "regular file now a directory", errno: errno.ESTALE, msg: []string{"pid 100: ", "/dir: no longer a regular file"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) { return setFilePath(t, recs, "/dir") }},
		{name: "FIFO path now a regular file", errno: errno.ESTALE, msg: []string{"pid 100: ", "/fifo: no longer a FIFO"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				withHelperTask(t, k2, func(pid int) { require.NoError(t, k2.Unlink(pid, "/fifo")) })
				require.NoError(t, k2.WriteFile("/fifo", nil, 0o644))
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeFIFO))
			}},
		{name: "FIFO already open in the target kernel", errno: errno.EBUSY, msg: []string{"pid 100: ", "/fifo: the FIFO is already open in this kernel"},
			setup: func(t *testing.T, k2 *kernel.Kernel) {
				_, err := k2.Spawn(1, "holder")
				require.NoError(t, err)
				_, err = k2.Open(1, "/fifo", vfs.O_RDWR, 0)
				require.NoError(t, err)
			},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return recs, findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypeFIFO))
			}},
		{name: "regular file with a pipe", errno: errno.EINVAL, msg: []string{"pid 100: ", "pipe objref 4 for a regular file"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Pipe = 4 })
			}},
		{name: "pipe end with a path", errno: errno.EINVAL, msg: []string{"pid 100: ", "a pipe file with a name"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, vfs.RecFile, 0, fileOfType(vfs.TypePipe))
				recs[i].Tail = []byte("/dir/file")
				return recs, i
			}},
		{name: "regular file with a path and a ghost", errno: errno.EINVAL, msg: []string{"pid 100: ", "a regular file needs a path or a ghost, not both"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 0, func(f *vfs.FileRecord) { f.Ghost = 9 })
			}},
		// The second file on the ghost refers to it by reference.
		{name: "file naming a pipe as its ghost", errno: errno.ENOMSG, msg: []string{"pid 100: ", "fetch objref 7: is a pipe, not a ghost"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeRegular, 2, func(f *vfs.FileRecord) { f.Ghost = 7 })
			}},
		{name: "file naming a ghost it was not preceded by", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 9, a ghost, is not used by the FILE record it comes before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				editFile(t, recs, vfs.TypeRegular, 1, func(f *vfs.FileRecord) { f.Ghost = 7 })
				return recs, findRecord(t, recs, image.TypeObjref, 0, objrefOf(vfs.ObjGhost))
			}},
		{name: "FIFO naming an anonymous pipe", errno: errno.EINVAL, msg: []string{"pid 100: ", "/fifo: pipe 4 is an anonymous pipe"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypeFIFO, 0, func(f *vfs.FileRecord) { f.Pipe = 4 })
			}},
		{name: "pipe end naming a FIFO's pipe", errno: errno.EINVAL, msg: []string{"pid 100: ", "pipe 7 is a FIFO's, not an anonymous pipe"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				// The second ghost file, after the FIFO, made a pipe's read
				// end on the FIFO's pipe.
				return editFile(t, recs, vfs.TypeRegular, 2, func(f *vfs.FileRecord) {
					*f = vfs.FileRecord{FileType: vfs.TypePipe, Mode: uint32(vfs.FMODE_READ), Pipe: 7}
				})
			}},

		// Pipes.
		{name: "pipe of 17 buffers", errno: errno.EINVAL, msg: []string{"pid 100: ", "17 buffers of 9 bytes in all: a pipe holds at most 16 buffers, 65536 bytes"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecPipe, func(p *vfs.PipeRecord) { p.Buffers = 17 })
			}},
		{name: "pipe of 65537 bytes", errno: errno.EINVAL, msg: []string{"pid 100: ", "1 buffers of 65537 bytes in all"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecPipe, func(p *vfs.PipeRecord) { p.Bytes = 65537 })
			}},
		{name: "pipe buffer overflowing its page", errno: errno.EINVAL, msg: []string{"pid 100: ", "buffer of 9 bytes at offset 4090 with flags 0x0"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecPipeBuf, func(b *vfs.PipeBufRecord) { b.Offset = 4090 })
			}},
		{name: "pipe buffer with unknown flags", errno: errno.EINVAL, msg: []string{"pid 100: ", "buffer of 9 bytes at offset 0 with flags 0x2"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecPipeBuf, func(b *vfs.PipeBufRecord) { b.Flags = 2 })
			}},
		{name: "pipe byte count not its buffers'", errno: errno.EINVAL, msg: []string{"pid 100: ", "buffers hold 9 bytes, the pipe record says 10"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecPipe, func(p *vfs.PipeRecord) { p.Bytes = 10 })
			}},
		{name: "pipe buffer record removed", errno: errno.EINVAL, msg: []string{"pid 100: ", "found where a PIPE_BUF record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, vfs.RecPipeBuf, 0, nil)
				return dropRecord(recs, i), i
			}},
		{name: "pipe state naming another pipe", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 5 of type 4 where the OBJREF of pipe 4 was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editObjref(t, recs, vfs.ObjPipe, 0, func(o *image.Objref) { o.Objref = 5 })
			}},
		{name: "both pipe ends saved as readers", errno: errno.EINVAL, msg: []string{"pid 100: ", "pipe 4: a second READ end"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypePipe, 1, func(f *vfs.FileRecord) { f.Mode, f.Flags = uint32(vfs.FMODE_READ), vfs.O_RDONLY })
			}},
		{name: "pipe end with mode read and write", errno: errno.EINVAL, msg: []string{"pid 100: ", "pipe end with mode"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFile(t, recs, vfs.TypePipe, 0, func(f *vfs.FileRecord) { f.Mode = uint32(vfs.FMODE_READ | vfs.FMODE_WRITE) })
			}},

		// Ghosts.
		{name: "ghost with a directory mode", errno: errno.EINVAL, msg: []string{"pid 100: ", "ghost with mode 040755"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecGhost, func(g *vfs.GhostRecord) { g.Mode = vfs.S_IFDIR | 0o755 })
			}},
		{name: "ghost FIFO with contents", errno: errno.EINVAL, msg: []string{"pid 100: ", "ghost FIFO with contents"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecGhost, func(g *vfs.GhostRecord) { g.Mode = vfs.S_IFIFO | 0o600 })
			}},
		{name: "ghost path longer than its tail", errno: errno.EINVAL, msg: []string{"pid 100: ", "a 23-byte path in a 22-byte tail"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecGhost, func(g *vfs.GhostRecord) { g.PathLen = 23 })
			}},
		{name: "ghost path /", errno: errno.EINVAL, msg: []string{"pid 100: ", `ghost path "/"`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, vfs.RecGhost, func(g *vfs.GhostRecord) { g.PathLen = 1 })
			}},
		{name: "ghost path not canonical", errno: errno.EINVAL, msg: []string{"pid 100: ", `ghost path "/gh/.."`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, vfs.RecGhost, 0, nil)
				recs[i].Tail = append([]byte("/gh/.."), recs[i].Tail[6:]...)
				return recs, i
			}},
		{name: "ghost in a missing directory", errno: errno.ENOENT, msg: []string{"pid 100: ", "/nodir: "},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, vfs.RecGhost, 0, nil)
				contents := recs[i].Tail[6:]
				recs[i].Tail = append([]byte("/nodir/ghost"), contents...)
				editFixed(t, recs, i, func(g *vfs.GhostRecord) { g.PathLen = 12 })
				return recs, i
			}},
		{name: "file naming its ghost before the ghost's records", errno: errno.EINVAL, msg: []string{"pid 100: ", "objref 9 names no ghost restored before"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				// The first ghost file's OBJREF and GHOST records go.
				i := findRecord(t, recs, image.TypeObjref, 0, objrefOf(vfs.ObjGhost))
				recs = dropRecord(dropRecord(recs, i), i)
				return recs, i // the FILE record
			}},

		// The end of the image.
		{name: "error record in place of the tail", errno: errno.EINVAL, msg: []string{`the image is incomplete, its checkpoint failed: "pid 103: boom"`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, image.TypeTail, 0, nil)
				recs[i] = &image.Record{Type: image.TypeError, Tail: []byte("pid 103: boom")}
				return recs, i
			}},
		{name: "error record in the middle", errno: errno.EINVAL, msg: []string{"pid 100: ", `the image is incomplete, its checkpoint failed: "fd 4: EBADF"`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				i := findRecord(t, recs, task.RecFd, 0, fdNum(hwFdFIFO))
				recs = append(recs[:i:i], &image.Record{Type: image.TypeError, Tail: []byte("fd 4: EBADF")})
				return recs, i
			}},
		{name: "tail checksum wrong", keepCRC: true, errno: errno.EINVAL, msg: []string{"the image is corrupt"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs, _ = editTask(t, recs, hwWorker, func(tr *ckpt.TaskRecord) { tr.Comm[0] = 'W' })
				return setCRCWrong(t, recs)
			}},
		{name: "tail checksum zero", keepCRC: true, errno: errno.EINVAL, msg: []string{"checksum 0x00000000, the image's bytes give 0x", "the image is corrupt"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, image.TypeTail, func(tl *image.Tail) { tl.CRC = 0 })
			}},
		{name: "tail magic", errno: errno.EINVAL, msg: []string{`bad magic "CKPTEND!"`},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, image.TypeTail, func(tl *image.Tail) { tl.Magic[7] = '!' })
			}},
		{name: "tail padding", errno: errno.EINVAL, msg: []string{"Pad is not zero"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return editFirst(t, recs, image.TypeTail, func(tl *image.Tail) { tl.Pad = 1 })
			}},
		{name: "image ends before the tail", errno: errno.EINVAL, msg: []string{"image ends where a TAIL record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs = recs[:len(recs)-1]
				return recs, len(recs)
			}},
		{name: "image ends inside a file table", errno: errno.EINVAL, msg: []string{"pid 100: ", "image ends where a FD record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs = recs[:findRecord(t, recs, task.RecFd, 0, fdNum(hwFdDup))]
				return recs, len(recs)
			}},
		{name: "image ends after the tree", errno: errno.EINVAL, msg: []string{"pid 100: ", "image ends where a TASK_OBJS record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs = recs[:findRecord(t, recs, image.TypeObjref, 0, nil)]
				return recs, len(recs)
			}},
		{name: "image ends after the header", errno: errno.EINVAL, msg: []string{"image ends where a ARCH record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				recs = recs[:1]
				return recs, len(recs)
			}},
		{name: "empty image", errno: errno.EINVAL, msg: []string{"image ends where a HEADER record was expected"},
			edit: func(t *testing.T, recs []*image.Record) ([]*image.Record, int) {
				return nil, 0
			}},
	}
}

// TestRestartRefusesHostileImages restarts each hostile image into a fresh
// kernel with the world's disk: restart must fail with the case's errno and
// message, and leave the kernel exactly as it was.
func TestRestartRefusesHostileImages(t *testing.T) {
	k, img := hostileWorld(t)
	orig := readRecords(t, img)
	seen := map[string]bool{}
	for _, tc := range hostileCases() {
		require.False(t, seen[tc.name], "two cases named %q", tc.name)
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			recs, at := tc.edit(t, cloneRecords(orig))
			edited := image.Encode(recs, !tc.keepCRC)
			cfg := tc.cfg
			cfg.DiskFrom = k
			k2 := kernel.New(cfg)
			if tc.setup != nil {
				tc.setup(t, k2)
			}
			_, err := restartAtomically(t, k2, edited)
			require.Error(t, err, "restart accepted the image:\n%s", dumpRecords(recs))
			assert.Truef(t, errors.Is(err, tc.errno), "errno: want %v, got %v", tc.errno.Name(), errName(err))
			var ce *ckpt.Error
			assert.ErrorAs(t, err, &ce)
			msg := err.Error()
			for _, want := range tc.msg {
				assert.Contains(t, msg, want)
			}
			if at != noRecord {
				offs, end := recordOffsets(recs)
				var where string
				if at == len(recs) {
					where = fmt.Sprintf("image offset %d: ", end)
				} else {
					where = fmt.Sprintf("image offset %d: %v record: ", offs[at], recs[at].Type)
				}
				assert.Contains(t, msg, where, "the message must name the record")
			}
			t.Logf("%s", msg)
			if t.Failed() {
				t.Logf("image:\n%s", dumpRecords(recs))
			}
		})
	}
}

func errName(err error) string {
	if e, ok := errno.Of(err); ok {
		return e.Name()
	}
	return "none"
}

// TestHostileImageUnedited makes sure the hostile cases test what they say:
// the world's image, re-encoded untouched, restarts.
func TestHostileImageUnedited(t *testing.T) {
	k, img := hostileWorld(t)
	recs := readRecords(t, img)
	require.Equal(t, img, image.Encode(recs, true), "Encode(ReadAll(image)) is the image")
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	root, err := restartAtomically(t, k2, image.Encode(cloneRecords(recs), true))
	require.NoError(t, err)
	require.Equal(t, hwRoot, root)
	require.NoError(t, k2.Check())
}
