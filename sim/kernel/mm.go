package kernel

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/task"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// This file holds the memory system calls: the address space's own
// (mmap, munmap, mprotect, mremap, madvise, msync, brk, which package mm
// implements), the calls that move bytes between memory and files
// (read(2) and write(2) with a buffer in task memory) or within a task
// (process_vm_readv, process_vm_writev), and two questions /proc answers:
// a mapping's maps line and whether two tasks map one page frame.

// maxRW is the most one call moves (Linux's MAX_RW_COUNT).
const maxRW = 0x7ffff000

// addrArg renders an address in errors, in hex as strace does.
type addrArg uint64

func (a addrArg) String() string { return fmt.Sprintf("%#x", uint64(a)) }

// memOf returns the live caller and its address space.
func (k *Kernel) memOf(pid int) (*task.Task, *mm.MM, error) {
	t, err := k.caller(pid)
	if err != nil {
		return nil, nil, err
	}
	return t, t.MM(), nil
}

// Mmap maps memory, as mmap(2), and returns its address (see mm.MM.Mmap
// for the rules). offset must be page-aligned (EINVAL); without
// MAP_ANONYMOUS, fd must be open (EBADF); with it, fd and offset are
// ignored.
func (k *Kernel) Mmap(pid int, addr, length uint64, prot, flags, fd int, offset int64) (uint64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	a, err := k.mmap(pid, addr, length, prot, flags, fd, offset)
	return a, fail(pid, "mmap", err, addrArg(addr), length, prot, addrArg(flags), fd, offset)
}

func (k *Kernel) mmap(pid int, addr, length uint64, prot, flags, fd int, offset int64) (uint64, error) {
	t, m, err := k.memOf(pid)
	if err != nil {
		return 0, err
	}
	if offset%mm.PageSize != 0 {
		return 0, errno.EINVAL
	}
	var f *vfs.File
	if flags&mm.MAP_ANONYMOUS == 0 {
		if f, err = t.Files().File(fd); err != nil {
			return 0, err
		}
	}
	return m.Mmap(mm.MmapArgs{Addr: addr, Length: length, Prot: mm.Prot(prot), Flags: flags, File: f, Offset: uint64(offset)})
}

// Munmap unmaps memory, as munmap(2).
func (k *Kernel) Munmap(pid int, addr, length uint64) error {
	return k.memCall(pid, "munmap", func(m *mm.MM) error { return m.Munmap(addr, length) }, addrArg(addr), length)
}

// Mprotect changes the protection of memory, as mprotect(2).
func (k *Kernel) Mprotect(pid int, addr, length uint64, prot int) error {
	return k.memCall(pid, "mprotect", func(m *mm.MM) error { return m.Mprotect(addr, length, prot) }, addrArg(addr), length, prot)
}

// Madvise advises on memory, as madvise(2): MADV_DONTNEED drops private
// pages; MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL and MADV_WILLNEED are
// accepted.
func (k *Kernel) Madvise(pid int, addr, length uint64, advice int) error {
	return k.memCall(pid, "madvise", func(m *mm.MM) error { return m.Madvise(addr, length, advice) }, addrArg(addr), length, advice)
}

// Msync checks a range as msync(2) does; there is nothing to write back.
func (k *Kernel) Msync(pid int, addr, length uint64, flags int) error {
	return k.memCall(pid, "msync", func(m *mm.MM) error { return m.Msync(addr, length, flags) }, addrArg(addr), length, flags)
}

// memCall runs an address-space call of the caller's.
func (k *Kernel) memCall(pid int, call string, op func(m *mm.MM) error, args ...any) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m, err := k.memOf(pid)
	if err == nil {
		err = op(m)
	}
	return fail(pid, call, err, args...)
}

// Mremap resizes or moves a mapping, as mremap(2), and returns its
// address.
func (k *Kernel) Mremap(pid int, addr, oldLen, newLen uint64, flags int, newAddr uint64) (uint64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m, err := k.memOf(pid)
	var a uint64
	if err == nil {
		a, err = m.Mremap(addr, oldLen, newLen, flags, newAddr)
	}
	return a, fail(pid, "mremap", err, addrArg(addr), oldLen, newLen, flags, addrArg(newAddr))
}

// Brk moves the program break, as brk(2), and returns the break: the new
// one, or the old one when the move is refused (brk(0) asks). It fails
// only when pid cannot make calls.
func (k *Kernel) Brk(pid int, addr uint64) (uint64, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m, err := k.memOf(pid)
	if err != nil {
		return 0, fail(pid, "brk", err, addrArg(addr))
	}
	return m.Brk(addr), nil
}

// ProcessVMReadv reads count bytes of pid's own memory at addr, as
// process_vm_readv(2) with pid as both caller and target: up to the first
// page it may not read (PROT_READ is needed; a page past the end of its
// file faults), EFAULT when that is the first page. A count of 0 reads
// nothing, wherever.
func (k *Kernel) ProcessVMReadv(pid int, addr uint64, count int) ([]byte, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m, err := k.memOf(pid)
	var out []byte
	switch {
	case err != nil:
	case count < 0:
		err = errno.EINVAL // an iovec longer than ssize_t holds
	default:
		out, err = readMemory(m, addr, count, mm.Remote)
	}
	return out, fail(pid, "process_vm_readv", err, addrArg(addr), count)
}

// ProcessVMWritev stores data in pid's own memory at addr, as
// process_vm_writev(2) with pid as both caller and target, and returns how
// many bytes it stored: up to the first page it may not write (PROT_WRITE
// is needed), EFAULT when that is the first page.
func (k *Kernel) ProcessVMWritev(pid int, addr uint64, data []byte) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m, err := k.memOf(pid)
	n := 0
	if err == nil {
		if len(data) > maxRW {
			data = data[:maxRW]
		}
		n, err = m.Access(addr, data, true, mm.Remote)
		if n > 0 {
			err = nil
		}
	}
	return n, fail(pid, "process_vm_writev", err, addrArg(addr), len(data))
}

// readMemory reads up to count bytes at addr, page by page, stopping at
// the first page that refuses: the bytes before it, or its fault when
// there are none. It allocates what it reads, not what it is asked for.
func readMemory(m *mm.MM, addr uint64, count int, how mm.How) ([]byte, error) {
	count = min(count, maxRW)
	var out []byte
	for len(out) < count {
		chunk := make([]byte, min(mm.PageSize-int((addr+uint64(len(out)))%mm.PageSize), count-len(out)))
		n, err := m.Access(addr+uint64(len(out)), chunk, false, how)
		out = append(out, chunk[:n]...)
		if err != nil {
			if len(out) > 0 {
				return out, nil
			}
			return nil, err
		}
	}
	return out, nil
}

// userRange is Linux's access_ok: a buffer must lie below TASK_SIZE.
func userRange(addr uint64, count int) error {
	if addr > mm.TaskSize || uint64(count) > mm.TaskSize-addr {
		return errno.EFAULT
	}
	return nil
}

// ReadMem reads up to count bytes from fd into pid's memory at addr, as
// read(2) with a buffer in memory, and returns how many it read. The copy
// is the CPU's (a PROT_READ page is EFAULT, a PROT_WRITE-only page is
// fine) and stops at the first page it may not write: a regular file
// returns what fits before it; a pipe takes whole buffers only, so the
// bytes of the buffer that did not fit stay in the pipe, though the part
// that fitted has been stored, as Linux leaves it. Nothing fitting is
// EFAULT, unless there was nothing to read (end of file, an empty pipe).
func (k *Kernel) ReadMem(pid, fd int, addr uint64, count int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, err := k.readMem(pid, fd, addr, count)
	return n, fail(pid, "read", err, fd, addrArg(addr), count)
}

func (k *Kernel) readMem(pid, fd int, addr uint64, count int) (int, error) {
	t, f, err := k.fileOf(pid, fd)
	switch {
	case err != nil:
		return 0, err
	case f.Mode()&vfs.FMODE_READ == 0:
		return 0, errno.EBADF
	case count < 0:
		return 0, errno.EFAULT // a size_t that large is no user buffer
	}
	// The buffer is checked first, even for no byte (access_ok), and a
	// directory refuses any read, even of no byte (generic_read_dir).
	if err := userRange(addr, count); err != nil {
		return 0, err
	}
	if err := posOverflows(f, count); err != nil {
		return 0, err
	}
	switch {
	case f.Type() == vfs.TypeDirectory:
		return 0, errno.EISDIR
	case count == 0:
		return 0, nil
	}
	m := t.MM()
	count = min(count, maxRW, vfs.MaxFileSize)
	room := m.Accessible(addr, count, true, mm.CPU)
	if p := f.Pipe(); p != nil {
		return readPipeToMemory(m, f, p, addr, count, room)
	}
	if p, end, ok := socket.Of(f); ok {
		return readSocketToMemory(m, f, p.Type(), p.Ends()[end], addr, count, room)
	}
	if room == 0 {
		return 0, nothingFits(f)
	}
	buf := make([]byte, min(count, room))
	n, err := f.Read(buf)
	if n > 0 {
		m.Access(addr, buf[:n], true, mm.CPU)
	}
	return n, err
}

// nothingFits is the result of a read or write whose buffer faults at its
// first byte: what the file would answer before its first copy, else
// EFAULT.
func nothingFits(f *vfs.File) error {
	switch {
	case f.Type() == vfs.TypeDirectory:
		return errno.EISDIR
	case f.Type() == vfs.TypeRegular && f.Pos() >= f.Dentry().Inode().Size():
		return nil // end of file: nothing to copy
	}
	return errno.EFAULT
}

// readPipeToMemory is pipe_read with a buffer of which room bytes can be
// written: it takes buffer after buffer (a packet, whole) while each fits;
// of the first that does not, the part that fits is stored but the buffer
// stays in the pipe.
func readPipeToMemory(m *mm.MM, f *vfs.File, p *vfs.Pipe, addr uint64, count, room int) (int, error) {
	bufs := p.Buffers()
	if len(bufs) == 0 {
		return f.Read(make([]byte, 1)) // end of file, EAGAIN or BLOCKED
	}
	whole, left := 0, count
	var partial []byte
	for _, b := range bufs {
		chars := min(len(b.Data), left)
		if chars > room-whole {
			partial = b.Data[:room-whole]
			break
		}
		whole += chars
		left -= chars
		if b.Packet || left == 0 {
			break
		}
	}
	if whole > 0 {
		buf := make([]byte, whole)
		f.Read(buf)
		m.Access(addr, buf, true, mm.CPU)
	}
	m.Access(addr+uint64(whole), partial, true, mm.CPU)
	if whole == 0 {
		return 0, errno.EFAULT
	}
	return whole, nil
}

// readSocketToMemory is a socket's read with a buffer of which room bytes
// can be written (Linux 6.18, measured): a stream takes message after
// message (one per write that sent it) while each fits, storing the part of
// the first that does not and leaving it queued, as a pipe does; a datagram
// or seqpacket socket takes one message, and one that does not fit is
// lost, with EFAULT, after the part that fitted was stored.
func readSocketToMemory(m *mm.MM, f *vfs.File, typ int, st socket.EndState, addr uint64, count, room int) (int, error) {
	if len(st.Queue) == 0 || st.Err != 0 && typ != socket.SOCK_STREAM {
		return f.Read(make([]byte, 1)) // nothing to copy: end of file, an error, or a wait
	}
	if typ != socket.SOCK_STREAM {
		if chars := min(len(st.Queue[0].Data), count); chars > room {
			buf := make([]byte, max(room, 1))
			f.Read(buf) // takes the message, and loses it
			m.Access(addr, buf[:room], true, mm.CPU)
			return 0, errno.EFAULT
		}
		buf := make([]byte, min(count, room))
		n, err := f.Read(buf)
		m.Access(addr, buf[:n], true, mm.CPU)
		return n, err
	}
	whole, left := 0, count
	var partial []byte
	for _, msg := range st.Queue {
		chars := min(len(msg.Data), left)
		if chars > room-whole {
			partial = msg.Data[:room-whole]
			break
		}
		whole += chars
		if left -= chars; left == 0 {
			break
		}
	}
	if whole > 0 {
		buf := make([]byte, whole)
		f.Read(buf)
		m.Access(addr, buf, true, mm.CPU)
	}
	m.Access(addr+uint64(whole), partial, true, mm.CPU)
	if whole == 0 {
		return 0, errno.EFAULT
	}
	return whole, nil
}

// WriteMem writes count bytes of pid's memory at addr to fd, as write(2)
// with a buffer in memory, and returns how many it wrote. The copy is the
// CPU's (PROT_WRITE-only pages can be read, PROT_NONE ones cannot) and
// stops at the first page it may not read: a regular file takes what lies
// before it; a pipe takes whole pages of the write (after the part that
// merges into its last buffer), so a write that faults within its first
// page writes nothing. Nothing written is EFAULT, after the checks the
// file makes before its first copy (EPIPE, EAGAIN or BLOCKED on a full
// pipe, EFBIG at the largest file size, EISDIR).
func (k *Kernel) WriteMem(pid, fd int, addr uint64, count int) (int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	n, err := k.writeMem(pid, fd, addr, count)
	return n, fail(pid, "write", err, fd, addrArg(addr), count)
}

func (k *Kernel) writeMem(pid, fd int, addr uint64, count int) (int, error) {
	t, f, err := k.fileOf(pid, fd)
	switch {
	case err != nil:
		return 0, err
	case f.Mode()&vfs.FMODE_WRITE == 0:
		return 0, errno.EBADF
	case count < 0:
		return 0, errno.EFAULT // a size_t that large is no user buffer
	}
	// The buffer is checked first, even for no byte (access_ok); a write
	// of no byte then goes to the file as the write of an empty string
	// does (a socket whose peer is gone refuses it: EPIPE).
	if err := userRange(addr, count); err != nil {
		return 0, err
	}
	if count == 0 {
		return f.Write(nil)
	}
	m := t.MM()
	count = min(count, maxRW)
	readable := m.Accessible(addr, count, false, mm.CPU)
	take := readable
	if _, _, ok := socket.Of(f); ok && readable < count {
		// A socket copies a write into one message (a stream, into one
		// per chunk of about half its send buffer): a fault anywhere in
		// it fails the write, unless the write fails before the copy.
		return 0, socket.FaultingWrite(f, count)
	}
	if p := f.Pipe(); p != nil {
		var fault bool
		if take, fault = pipeTakes(p, count, readable); fault && p.Readers() > 0 {
			return 0, errno.EFAULT
		}
	}
	if take == 0 {
		return 0, writeNothing(f)
	}
	data := make([]byte, take)
	m.Access(addr, data, false, mm.CPU)
	return f.Write(data)
}

// pipeTakes is how much of a count-byte write, of which the first readable
// bytes can be read, pipe_write copies: the part that merges into the last
// buffer (count modulo a page, when it fits there), which must be readable
// whole or the write faults at once (fault), then the pages after it that
// are readable whole.
func pipeTakes(p *vfs.Pipe, count, readable int) (take int, fault bool) {
	if readable == count {
		return count, false
	}
	merged := 0
	if chars := count % vfs.PageSize; chars != 0 {
		if bufs := p.Buffers(); len(bufs) > 0 {
			last := bufs[len(bufs)-1]
			if !last.Packet && last.Offset+len(last.Data)+chars <= vfs.PageSize {
				if readable < chars {
					return 0, true
				}
				merged = chars
			}
		}
	}
	return merged + (readable-merged)/vfs.PageSize*vfs.PageSize, false
}

// writeNothing is the result of a write of which nothing can be copied:
// the file's own refusal, if it refuses before copying, else EFAULT.
func writeNothing(f *vfs.File) error {
	if p := f.Pipe(); p != nil {
		switch {
		case p.Readers() == 0:
			return errno.EPIPE
		case len(p.Buffers()) < vfs.PipeBuffers:
			return errno.EFAULT
		case f.Flags()&vfs.O_NONBLOCK != 0:
			return errno.EAGAIN
		}
		return errno.BLOCKED
	}
	switch f.Type() {
	case vfs.TypeDirectory:
		return errno.EISDIR
	case vfs.TypeRegular:
		pos := f.Pos()
		if f.Flags()&vfs.O_APPEND != 0 {
			pos = f.Dentry().Inode().Size()
		}
		if pos >= vfs.MaxFileSize {
			return errno.EFBIG
		}
	}
	return errno.EFAULT
}

// MapsLine returns the line of /proc/PID/maps for the mapping that holds
// addr, without device and inode (see mm.MM.Line), or "" when nothing is
// mapped there.
func (k *Kernel) MapsLine(pid int, addr uint64) (string, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	t, m, err := k.memOf(pid)
	if err != nil {
		return "", fail(pid, "maps", err, addrArg(addr))
	}
	v := m.Find(addr)
	if v == nil {
		return "", nil
	}
	return m.Line(v, t.FS().Root()), nil
}

// SameFrame reports whether the page at addr is the same memory in task
// pid and task other: the same frame (after fork, until one of them
// writes it; always, in a shared mapping), or the same file page. Linux
// answers from /proc/PID/pagemap, where a page that the task has not
// touched since fork (or a shared one) may show no frame yet; see
// mm.MM.PageAt.
func (k *Kernel) SameFrame(pid, other int, addr uint64) (bool, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, m1, err := k.memOf(pid)
	if err != nil {
		return false, fail(pid, "sameframe", err, other, addrArg(addr))
	}
	t2 := k.tasks[other]
	if t2 == nil || t2.State() == task.Zombie {
		return false, fail(pid, "sameframe", errno.ESRCH, other, addrArg(addr))
	}
	a, ok1 := m1.PageAt(addr)
	b, ok2 := t2.MM().PageAt(addr)
	return ok1 && ok2 && a == b, nil
}
