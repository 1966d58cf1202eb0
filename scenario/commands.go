package scenario

import (
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// commands is the command table: every form of every script command, each
// with its syntax and its system call (see "Adding a command" in the
// package doc). A command name with several forms is listed once per form;
// a line takes the first form its arguments fit.
var commands = []command{
	{name: "spawn", params: []param{pid, opt(comm)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		_, err := k.Spawn(a.pid(), a.textOr("COMM", ""))
		return err
	})},
	// clone's FLAGS may be left out before COMM: a word that is not a
	// clone flag set, or a quoted one, is the command name.
	{name: "clone", params: []param{pid, child, opt(flagsIn("FLAGS", cloneFlags)), opt(comm)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		_, err := k.Clone(a.pid(), a.int("CHILD"), a.flagsOr("FLAGS", 0), a.textOr("COMM", ""))
		return err
	})},
	{name: "clone", params: []param{pid, child, comm}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		_, err := k.Clone(a.pid(), a.int("CHILD"), 0, a.text("COMM"))
		return err
	})},
	{name: "fork", params: []param{pid, child}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		_, err := k.Fork(a.pid(), a.int("CHILD"))
		return err
	})},
	{name: "exit", params: []param{pid, number("CODE")}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Exit(a.pid(), a.int("CODE"))
	})},
	{name: "wait", params: []param{pid, child}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Wait(a.pid(), a.int("CHILD"))
	})},
	{name: "mkdir", params: []param{pid, path, opt(mode)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Mkdir(a.pid(), a.text("PATH"), uint32(a.intOr("MODE", 0o777)))
	})},
	{name: "mkfifo", params: []param{pid, path, opt(mode)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Mkfifo(a.pid(), a.text("PATH"), uint32(a.intOr("MODE", 0o666)))
	})},
	{name: "unlink", params: []param{pid, path}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Unlink(a.pid(), a.text("PATH"))
	})},
	{name: "chdir", params: []param{pid, path}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Chdir(a.pid(), a.text("PATH"))
	})},
	{name: "open", params: []param{pid, path, flagsIn("FLAGS", openFlags), opt(mode)}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Open(a.pid(), a.text("PATH"), a.flags("FLAGS"), uint32(a.intOr("MODE", 0)))
	})},
	{name: "close", params: []param{pid, fd}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Close(a.pid(), a.int("FD"))
	})},
	{name: "read", params: []param{pid, fd, number("COUNT")}, exec: returnsString(func(k *kernel.Kernel, a args) ([]byte, error) {
		return k.Read(a.pid(), a.int("FD"), a.int("COUNT"))
	})},
	{name: "write", params: []param{pid, fd, data("STRING")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Write(a.pid(), a.int("FD"), []byte(a.text("STRING")))
	})},
	// read and write with a buffer in the task's memory: an address where
	// the count (read) or the data (write) would be.
	{name: "read", params: []param{pid, fd, number("ADDR"), number("COUNT")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.ReadMem(a.pid(), a.int("FD"), a.addr("ADDR"), a.int("COUNT"))
	})},
	{name: "write", params: []param{pid, fd, number("ADDR"), number("COUNT")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.WriteMem(a.pid(), a.int("FD"), a.addr("ADDR"), a.int("COUNT"))
	})},
	{name: "lseek", params: []param{pid, fd, number("OFFSET"), flagsIn("WHENCE", whences)}, exec: returnsInt(func(k *kernel.Kernel, a args) (int64, error) {
		return k.Lseek(a.pid(), a.int("FD"), a.int64("OFFSET"), a.flags("WHENCE"))
	})},
	{name: "dup", params: []param{pid, fd}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Dup(a.pid(), a.int("FD"))
	})},
	{name: "dup2", params: []param{pid, number("OLDFD"), number("NEWFD")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Dup2(a.pid(), a.int("OLDFD"), a.int("NEWFD"))
	})},
	{name: "dup3", params: []param{pid, number("OLDFD"), number("NEWFD"), opt(flagsIn("FLAGS", openFlags))}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Dup3(a.pid(), a.int("OLDFD"), a.int("NEWFD"), a.flagsOr("FLAGS", 0))
	})},
	{name: "pipe", params: []param{pid, opt(flagsIn("FLAGS", openFlags))}, exec: returnsPair(func(k *kernel.Kernel, a args) ([2]int, error) {
		return k.Pipe2(a.pid(), a.flagsOr("FLAGS", 0))
	})},
	{name: "fcntl", params: []param{pid, fd, flagsIn("CMD", fcntlCmds), opt(flagsIn("ARG", fcntlArgs))}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.Fcntl(a.pid(), a.int("FD"), a.flags("CMD"), a.flagsOr("ARG", 0))
	})},
	{name: "flock", params: []param{pid, fd, flagsIn("OP", lockOps)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Flock(a.pid(), a.int("FD"), a.flags("OP"))
	})},
	{name: "socketpair", params: []param{pid, flagsIn("TYPE", sockTypes), opt(flagsIn("FLAGS", sockFlags))}, exec: returnsPair(func(k *kernel.Kernel, a args) ([2]int, error) {
		return k.Socketpair(a.pid(), a.flags("TYPE")|a.flagsOr("FLAGS", 0))
	})},
	{name: "shutdown", params: []param{pid, fd, flagsIn("HOW", shutHows)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Shutdown(a.pid(), a.int("FD"), a.flags("HOW"))
	})},
	{name: "mmap", params: []param{pid, number("ADDR"), number("LEN"), flagsIn("PROT", protFlags), flagsIn("FLAGS", mapFlags), opt(fd), opt(number("OFFSET"))}, exec: returnsAddr(func(k *kernel.Kernel, a args) (uint64, error) {
		return k.Mmap(a.pid(), a.addr("ADDR"), a.addr("LEN"), a.flags("PROT"), a.flags("FLAGS"), a.intOr("FD", -1), int64(a.intOr("OFFSET", 0)))
	})},
	{name: "munmap", params: []param{pid, number("ADDR"), number("LEN")}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Munmap(a.pid(), a.addr("ADDR"), a.addr("LEN"))
	})},
	{name: "mprotect", params: []param{pid, number("ADDR"), number("LEN"), flagsIn("PROT", protFlags)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Mprotect(a.pid(), a.addr("ADDR"), a.addr("LEN"), a.flags("PROT"))
	})},
	{name: "mremap", params: []param{pid, number("OLD"), number("OLDLEN"), number("NEWLEN"), opt(flagsIn("FLAGS", mremapFlags)), opt(number("NEWADDR"))}, exec: returnsAddr(func(k *kernel.Kernel, a args) (uint64, error) {
		return k.Mremap(a.pid(), a.addr("OLD"), a.addr("OLDLEN"), a.addr("NEWLEN"), a.flagsOr("FLAGS", 0), uint64(a.intOr("NEWADDR", 0)))
	})},
	{name: "madvise", params: []param{pid, number("ADDR"), number("LEN"), flagsIn("ADVICE", advices)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Madvise(a.pid(), a.addr("ADDR"), a.addr("LEN"), a.flags("ADVICE"))
	})},
	{name: "msync", params: []param{pid, number("ADDR"), number("LEN"), flagsIn("FLAGS", msyncFlags)}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return k.Msync(a.pid(), a.addr("ADDR"), a.addr("LEN"), a.flags("FLAGS"))
	})},
	// brk's result is the break: the new one, or the old one when refused.
	{name: "brk", params: []param{pid, number("ADDR")}, exec: returnsAddr(func(k *kernel.Kernel, a args) (uint64, error) {
		return k.Brk(a.pid(), a.addr("ADDR"))
	})},
	{name: "memwrite", params: []param{pid, number("ADDR"), data("DATA")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		return k.ProcessVMWritev(a.pid(), a.addr("ADDR"), []byte(a.text("DATA")))
	})},
	{name: "memread", params: []param{pid, number("ADDR"), number("COUNT")}, exec: returnsString(func(k *kernel.Kernel, a args) ([]byte, error) {
		return k.ProcessVMReadv(a.pid(), a.addr("ADDR"), a.int("COUNT"))
	})},
	{name: "vma", params: []param{pid, number("ADDR")}, exec: returnsString(func(k *kernel.Kernel, a args) (string, error) {
		return k.MapsLine(a.pid(), a.addr("ADDR"))
	})},
	{name: "sameframe", params: []param{pid, number("PID2"), number("ADDR")}, exec: returnsInt(func(k *kernel.Kernel, a args) (int, error) {
		same, err := k.SameFrame(a.pid(), a.int("PID2"), a.addr("ADDR"))
		if same {
			return 1, err
		}
		return 0, err
	})},
	{name: "regs", params: []param{pid, many(param{name: "NAME=VALUE", kind: argReg})}, exec: returnsZero(func(k *kernel.Kernel, a args) error {
		return setRegs(k, a.pid(), a.all("NAME=VALUE"))
	})},
	// checkpoint needs a checkpoint engine, which this package does not
	// import: its caller runs it (runner, golden), and Replay skips it.
	{name: "checkpoint", params: []param{pid, opt(flagsIn("FLAGS", CheckpointFlags))}, image: true, exec: runByCaller},
}

// The name spaces of flag arguments, one per kind of position. An expected
// result accepts the names of every one (resultNames).
var (
	openFlags   = namesOf(vfs.OpenFlagNames())
	fcntlCmds   = map[string]int64{"F_DUPFD": kernel.F_DUPFD, "F_GETFD": kernel.F_GETFD, "F_SETFD": kernel.F_SETFD, "F_GETFL": kernel.F_GETFL, "F_SETFL": kernel.F_SETFL, "F_GETOWN": kernel.F_GETOWN, "F_SETOWN": kernel.F_SETOWN, "F_DUPFD_CLOEXEC": kernel.F_DUPFD_CLOEXEC}
	fcntlArgs   = union(openFlags, map[string]int64{"FD_CLOEXEC": kernel.FD_CLOEXEC})
	whences     = map[string]int64{"SEEK_SET": vfs.SEEK_SET, "SEEK_CUR": vfs.SEEK_CUR, "SEEK_END": vfs.SEEK_END}
	lockOps     = map[string]int64{"LOCK_SH": vfs.LOCK_SH, "LOCK_EX": vfs.LOCK_EX, "LOCK_NB": vfs.LOCK_NB, "LOCK_UN": vfs.LOCK_UN, "LOCK_MAND": vfs.LOCK_MAND}
	sockTypes   = map[string]int64{"SOCK_STREAM": socket.SOCK_STREAM, "SOCK_DGRAM": socket.SOCK_DGRAM, "SOCK_SEQPACKET": socket.SOCK_SEQPACKET}
	sockFlags   = map[string]int64{"SOCK_NONBLOCK": socket.SOCK_NONBLOCK, "SOCK_CLOEXEC": socket.SOCK_CLOEXEC}
	shutHows    = map[string]int64{"SHUT_RD": socket.SHUT_RD, "SHUT_WR": socket.SHUT_WR, "SHUT_RDWR": socket.SHUT_RDWR}
	cloneFlags  = map[string]int64{"CLONE_VM": kernel.CLONE_VM, "CLONE_FS": kernel.CLONE_FS, "CLONE_FILES": kernel.CLONE_FILES}
	protFlags   = map[string]int64{"PROT_NONE": 0, "PROT_READ": int64(mm.ProtRead), "PROT_WRITE": int64(mm.ProtWrite), "PROT_EXEC": int64(mm.ProtExec)}
	mapFlags    = map[string]int64{"MAP_SHARED": mm.MAP_SHARED, "MAP_PRIVATE": mm.MAP_PRIVATE, "MAP_SHARED_VALIDATE": mm.MAP_SHARED_VALIDATE, "MAP_FIXED": mm.MAP_FIXED, "MAP_ANONYMOUS": mm.MAP_ANONYMOUS, "MAP_FIXED_NOREPLACE": mm.MAP_FIXED_NOREPLACE, "MAP_NORESERVE": mm.MAP_NORESERVE, "MAP_POPULATE": mm.MAP_POPULATE}
	mremapFlags = map[string]int64{"MREMAP_MAYMOVE": mm.MREMAP_MAYMOVE, "MREMAP_FIXED": mm.MREMAP_FIXED}
	advices     = map[string]int64{"MADV_NORMAL": mm.MADV_NORMAL, "MADV_RANDOM": mm.MADV_RANDOM, "MADV_SEQUENTIAL": mm.MADV_SEQUENTIAL, "MADV_WILLNEED": mm.MADV_WILLNEED, "MADV_DONTNEED": mm.MADV_DONTNEED}
	msyncFlags  = map[string]int64{"MS_ASYNC": mm.MS_ASYNC, "MS_INVALIDATE": mm.MS_INVALIDATE, "MS_SYNC": mm.MS_SYNC}
	// CheckpointFlags are the names of the checkpoint flags. The engine's
	// tests check that its constants agree.
	CheckpointFlags = map[string]int64{"CHECKPOINT_SUBTREE": 1}
)

// resultNames are the flag names an expected integer result may use: the
// names of every flag position of the table (F_GETFL's result, say, is
// written with open flags).
var resultNames = func() map[string]int64 {
	out := map[string]int64{}
	for _, c := range commands {
		for _, p := range c.params {
			for n, v := range p.names {
				out[n] = v
			}
		}
	}
	return out
}()

func namesOf(m map[string]int) map[string]int64 {
	out := make(map[string]int64, len(m))
	for k, v := range m {
		out[k] = int64(v)
	}
	return out
}

func union(ms ...map[string]int64) map[string]int64 {
	out := map[string]int64{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
