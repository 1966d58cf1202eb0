// Package image is the checkpoint image format: a stream of typed records,
// written and read strictly in sequence, so that an image can flow straight
// from one kernel's checkpoint into another's restart.
//
// # Records
//
// Every record is an 8-byte header, a payload, and zero padding to the next
// multiple of 8 bytes:
//
//	type    uint32   the record type
//	length  uint32   the payload's length in bytes, without header or padding
//	payload          the fixed part, then the variable tail
//	padding          zero bytes up to a multiple of 8
//
// A record type's payload begins with a fixed part of fixed-width
// little-endian fields, the same on every architecture, followed by a
// variable tail (a path, pipe bytes, a message) whose length bounds are the
// record type's. Every length is checked against those bounds before
// anything is allocated.
//
// An image is a header record and an architecture record, then the records
// of the saved container, then a tail record holding a CRC32C (Castagnoli)
// of every byte before the tail. A checkpoint that fails part-way writes an
// error record, with the reason, instead of the tail.
//
// The record types and their fields are listed, generated from the
// definitions in this file, in FORMAT.md beside it; a test fails when the two
// disagree. The version policy is in FORMAT.md too.
package image

import (
	"strconv"
	"strings"
	"time"
)

// Type is a record type.
type Type uint32

// The record types. The numbers are part of the format.
const (
	TypeHeader    Type = 1
	TypeArch      Type = 2
	TypeTail      Type = 3
	TypeError     Type = 4
	TypeObjref    Type = 5
	TypeTree      Type = 10
	TypeTask      Type = 11
	TypeTaskObjs  Type = 12
	TypeRegs      Type = 13
	TypeFileTable Type = 20
	TypeFd        Type = 21
	TypeFS        Type = 22
	TypeFile      Type = 30
	TypePipe      Type = 31
	TypePipeBuf   Type = 32
	TypeGhost     Type = 33
)

// The format version this package writes: a major number that changes when
// an older reader could no longer read new images, and a minor one for
// compatible changes. See FORMAT.md for the policy.
const (
	VersionMajor = 1
	VersionMinor = 3
)

// Magic numbers at the start and at the end of an image.
var (
	HeaderMagic = [8]byte{'C', 'K', 'P', 'T', 'S', 'I', 'M', 0}
	TailMagic   = [8]byte{'C', 'K', 'P', 'T', 'E', 'N', 'D', 0}
)

// Limits on variable parts, checked before anything is allocated.
const (
	MaxPath     = 4095     // PATH_MAX less the terminating NUL
	MaxMessage  = 4096     // an error record's message
	MaxContents = 16 << 20 // an unlinked file's contents: the simulator's largest file
	PageSize    = 4096     // a pipe buffer's page
	CommLen     = 16       // TASK_COMM_LEN
	UTSLen      = 64       // the uts strings, without Linux's terminating NUL
	RegsSize    = 792      // sim/x86cpu.StateSize: user_regs_struct, FXSAVE, debug registers
)

// Architecture ids of the arch record.
const ArchX86_64 = 1

// Header opens every image.
type Header struct {
	Magic      [8]byte      `doc:"\"CKPTSIM\\0\""`
	Major      uint16       `doc:"format version, major"`
	Minor      uint16       `doc:"format version, minor"`
	Flags      uint32       `doc:"the checkpoint flags (1: CHECKPOINT_SUBTREE), and 0x10000 (FlagZstd): the records after this one are compressed"`
	Time       int64        `doc:"when the checkpoint was taken, Unix nanoseconds (from the caller's clock)"`
	SimVersion [16]byte     `doc:"the simulated kernel's version, NUL-padded"`
	Sysname    [UTSLen]byte `doc:"uts sysname, NUL-padded"`
	Nodename   [UTSLen]byte `doc:"uts nodename"`
	Release    [UTSLen]byte `doc:"uts release"`
	Version    [UTSLen]byte `doc:"uts version"`
	Machine    [UTSLen]byte `doc:"uts machine"`
}

// Arch says which register layout the image holds.
type Arch struct {
	Arch      uint32 `doc:"1: x86-64"`
	RegsSize  uint32 `doc:"bytes of user_regs_struct (216)"`
	FPUSize   uint32 `doc:"bytes of the FXSAVE area (512)"`
	DebugSize uint32 `doc:"bytes of the debug registers (64)"`
}

// Tail closes every complete image.
type Tail struct {
	Magic [8]byte `doc:"\"CKPTEND\\0\""`
	CRC   uint32  `doc:"CRC32C (Castagnoli) of every byte before this record"`
	Pad   uint32  `doc:"zero"`
}

// Objref introduces a shared object on its first encounter: its state
// follows at once, and later references carry only the objref.
type Objref struct {
	ObjType uint32 `doc:"object type: 1 file table, 2 fs state, 3 file, 4 pipe, 5 ghost"`
	Objref  int32  `doc:"the object's id in this image, from 1 in order of first encounter"`
}

// Tree starts the task tree.
type Tree struct {
	Tasks uint32 `doc:"number of task records that follow"`
	Pad   uint32 `doc:"zero"`
}

// Task is one task of the tree, in preorder: a parent before its
// children, children in creation order.
type Task struct {
	Pid      int32         `doc:"pid"`
	PPid     int32         `doc:"parent's pid; 0 for the container's root"`
	State    uint32        `doc:"0 live, 1 zombie"`
	ExitCode int32         `doc:"a zombie's exit code, 0..255"`
	Comm     [CommLen]byte `doc:"command name, NUL-padded, at most 15 bytes"`
}

// TaskObjs names a task's file table and fs state; a zombie has neither
// (objref 0). It follows the objects' own records on their first
// encounter.
type TaskObjs struct {
	FileTable int32 `doc:"objref of the file table, 0 for a zombie"`
	FS        int32 `doc:"objref of the fs state, 0 for a zombie"`
}

// FileTable starts a file table's state; its descriptors follow.
type FileTable struct {
	Fds uint32 `doc:"number of fd records that follow, at most nr_open"`
	Pad uint32 `doc:"zero"`
}

// Fd is one open descriptor. The file's own records come before it on the
// file's first encounter.
type Fd struct {
	Fd          int32  `doc:"descriptor number, increasing within a table"`
	File        int32  `doc:"objref of the open file"`
	CloseOnExec uint32 `doc:"1 if close-on-exec is set, else 0"`
	Pad         uint32 `doc:"zero"`
}

// FS is an fs state: root and working directory, as paths relative to the
// container's root, in the tail.
type FS struct {
	RootLen uint32 `doc:"length of the root path at the start of the tail"`
	CwdLen  uint32 `doc:"length of the working directory's path after it"`
}

// File is an open file: the fields every file has, and those of its type.
// The tail is the path the file was opened through, relative to the
// container's root, for a linked regular file, directory or FIFO.
type File struct {
	FileType uint16 `doc:"1 regular, 2 directory, 3 pipe, 4 FIFO"`
	Pad      uint16 `doc:"zero"`
	Flags    uint32 `doc:"status flags, as F_GETFL reports them"`
	Mode     uint32 `doc:"mode bits: 1 read, 2 write, 4 lseek, 8 pread, 0x10 pwrite"`
	Pipe     int32  `doc:"pipe end or FIFO: objref of its pipe; else 0"`
	Ghost    int32  `doc:"unlinked file: objref of its ghost inode; else 0"`
	Pad2     uint32 `doc:"zero"`
	Pos      int64  `doc:"file position"`
	Version  uint64 `doc:"version counter: lseeks that moved the position"`
	Size     int64  `doc:"regular file: its size when saved; else 0"`
	Changes  uint64 `doc:"regular file: its change counter when saved; else 0"`
}

// Pipe is a pipe's state, on its first encounter, right after the objref
// record that follows the first file open on it. Its buffers follow.
type Pipe struct {
	Buffers uint32 `doc:"number of pipe buffer records that follow, at most 16"`
	Bytes   uint32 `doc:"bytes in the pipe, the sum of the buffers'"`
}

// PipeBuf is one page buffer of a pipe's ring, oldest first; the tail is
// its unread bytes.
type PipeBuf struct {
	Offset uint32 `doc:"where the unread bytes start in the 4096-byte page"`
	Flags  uint32 `doc:"1: written in packet mode (O_DIRECT)"`
}

// Ghost is an unlinked file that is still open: the tail is its last path
// (relative to the container's root), then its contents.
type Ghost struct {
	Mode    uint32 `doc:"inode type and permission bits (st_mode): a regular file or a FIFO"`
	PathLen uint32 `doc:"length of the path at the start of the tail; the contents follow it"`
	Changes uint64 `doc:"a regular file's change counter"`
}

// The record types of the stream itself, with their kinds, for the
// engine and tools. The other record types are
// defined, with Define, by the packages whose objects they save.
var (
	HeaderKind = Define[Header](Spec{Type: TypeHeader, Name: "HEADER", Doc: "Opens the image.",
		Meaning: map[string]Meaning{"Flags": {Format: headerFlags},
			"Time": {Format: func(v uint64) string { return time.Unix(0, int64(v)).UTC().Format(time.RFC3339Nano) }}}})
	ArchKind = Define[Arch](Spec{Type: TypeArch, Name: "ARCH", Doc: "The register layout of the tasks' state.",
		Meaning: map[string]Meaning{"Arch": {Names: map[uint64]string{ArchX86_64: "x86-64"}}}})
	TailKind = Define[Tail](Spec{Type: TypeTail, Name: "TAIL", Doc: "Closes a complete image.",
		Meaning: map[string]Meaning{"CRC": {Hex: true}}})
	ErrorKind = Define[NoFixed](Spec{Type: TypeError, Name: "ERROR", Doc: "Written instead of the tail when checkpoint fails part-way.",
		Tail: TailSpec{Doc: "the error message", Max: MaxMessage, Parts: []TailPart{{Name: "message"}}}})
	ObjrefKind = Define[Objref](Spec{Type: TypeObjref, Name: "OBJREF", Doc: "First encounter of a shared object: its state follows.",
		Meaning: map[string]Meaning{"ObjType": {Format: func(v uint64) string { return ObjTypeName(ObjType(v)) }}}})
)

// headerFlags names the bits of a header's Flags.
func headerFlags(v uint64) string {
	var names []string
	for _, f := range []struct {
		bit  uint64
		name string
	}{{1, "CHECKPOINT_SUBTREE"}, {FlagZstd, "zstd"}} {
		if v&f.bit != 0 {
			names = append(names, f.name)
			v &^= f.bit
		}
	}
	if v != 0 {
		names = append(names, "0x"+strconv.FormatUint(v, 16))
	}
	return strings.Join(names, "|")
}
