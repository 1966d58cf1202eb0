package ckpt

import (
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// The engine's own records: the task tree and, per task, its objects and
// registers. The records of the shared objects are their types' own (see
// package object).

// TreeRecord is the TREE record: it starts the task tree.
type TreeRecord struct {
	Tasks uint32 `doc:"number of task records that follow"`
	Pad   uint32 `doc:"zero"`
}

// TaskRecord is the TASK record: one task of the tree, in preorder: a parent
// before its children, children in creation order.
type TaskRecord struct {
	Pid      int32               `doc:"pid"`
	PPid     int32               `doc:"parent's pid; 0 for the container's root"`
	State    uint32              `doc:"0 live, 1 zombie"`
	ExitCode int32               `doc:"a zombie's exit code, 0..255"`
	Comm     [image.CommLen]byte `doc:"command name, NUL-padded, at most 15 bytes"`
}

// PidNSRecord is the PIDNS record, from format 1.1: the pid namespace's
// allocator, which a task's next fork without a chosen pid continues from
// (Linux's ns_last_pid, which C/R tools restore for that reason).
type PidNSRecord struct {
	LastPid int32  `doc:"the last pid handed out; the next one picked is the first free pid after it"`
	Pad     uint32 `doc:"zero"`
}

// TaskMMRecord is the TASK_MM record, from format 1.2: a task's address
// space, after its TASK_OBJS; a zombie has none (objref 0). It follows the
// address space's own records on their first encounter.
type TaskMMRecord struct {
	MM  int32  `doc:"objref of the address space, 0 for a zombie"`
	Pad uint32 `doc:"zero"`
}

// The states of a TASK record.
const (
	taskLive   = 0
	taskZombie = 1
)

// TaskObjsRecord is the TASK_OBJS record: a task's file table and fs state;
// a zombie has neither (objref 0). It follows the objects' own records on
// their first encounter.
type TaskObjsRecord struct {
	FileTable int32 `doc:"objref of the file table, 0 for a zombie"`
	FS        int32 `doc:"objref of the fs state, 0 for a zombie"`
}

// The engine's record types: their numbers, part of the format, and kinds.
const (
	RecTree     image.Type = 10
	RecTask     image.Type = 11
	RecTaskObjs image.Type = 12
	RecRegs     image.Type = 13
	RecPidNS    image.Type = 14
	RecTaskMM   image.Type = 15
)

var (
	TreeKind = image.Define[TreeRecord](image.Spec{Type: RecTree, Name: "TREE", Doc: "Starts the task tree."})
	TaskKind = image.Define[TaskRecord](image.Spec{Type: RecTask, Name: "TASK", Doc: "One task, in preorder.",
		Meaning: map[string]image.Meaning{"State": {Names: map[uint64]string{taskLive: "live", taskZombie: "zombie"}}},
		Count:   image.Count{Name: "tasks", By: "State"}})
	PidNSKind = image.Define[PidNSRecord](image.Spec{Type: RecPidNS, Name: "PIDNS",
		Doc: "The pid allocator's position.", Place: "after the TASK records, from format 1.1."})
	TaskObjsKind = image.Define[TaskObjsRecord](image.Spec{Type: RecTaskObjs, Name: "TASK_OBJS", Doc: "A task's file table and fs state.",
		Meaning: map[string]image.Meaning{"FileTable": {Ref: task.ObjFileTable}, "FS": {Ref: task.ObjFS}}})
	TaskMMKind = image.Define[TaskMMRecord](image.Spec{Type: RecTaskMM, Name: "TASK_MM", Doc: "A task's address space.",
		Place:   "after its TASK_OBJS, from format 1.2.",
		Meaning: map[string]image.Meaning{"MM": {Ref: mm.ObjMM}}})
	RegsKind = image.Define[x86cpu.State](image.Spec{Type: RecRegs, Name: "REGS", Hex: true,
		Doc: "A task's user register state: user_regs_struct (216 bytes), the FXSAVE area (512), the debug registers (64)."})
)
