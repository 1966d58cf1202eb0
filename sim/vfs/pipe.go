package vfs

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
)

// Pipe geometry, as Linux's defaults: a ring of 16 page-sized buffers.
const (
	PageSize     = 4096
	PipeBuffers  = 16
	PipeCapacity = PageSize * PipeBuffers
)

// Pipe is a pipe inode (Linux's pipe_inode_info): the buffer shared by the
// read end and the write end of a pipe, or by every file open on a FIFO.
//
// Its contents are a ring of at most PipeBuffers page buffers, as in Linux,
// and the layout is observable: a small write merges into the last page only
// if it fits there, and a page is freed only when it has been read to its
// end. After 65536 bytes are written and 4095 read, a one-byte write does
// not fit until one more byte is read. So the simulator keeps the layout,
// and a checkpoint saves it, rather than a flat byte string.
//
// Its reference count is held by every file open on it.
type Pipe struct {
	kref.Count
	bufs    []pipeBuffer
	readers int // files open on the pipe for reading
	writers int // files open on the pipe for writing
	// fifo is the FIFO inode the pipe belongs to, nil for an anonymous pipe.
	fifo *Inode
	// locks are the flock locks of an anonymous pipe (whose inode, in Linux,
	// is pipefs's; a FIFO's locks live on its own inode).
	locks flockState
}

// pipeBuffer is one page of the ring: the unread bytes are
// page[offset:offset+len(data)], kept as data.
type pipeBuffer struct {
	offset int
	data   []byte
	// packet marks a buffer written in packet mode (O_DIRECT): it is never
	// merged into, and a read takes it whole.
	packet bool
}

// PipeBuffer describes one buffer of a pipe's ring, for views and
// checkpoints.
type PipeBuffer struct {
	Offset int    // where the unread bytes start in the page
	Data   []byte // the unread bytes
	Packet bool   // written in packet mode
}

// Ref implements kref.Object.
func (p *Pipe) Ref() *kref.Count { return &p.Count }

func newPipe(reg *kref.Registry) *Pipe {
	p := &Pipe{}
	p.Init(reg, kref.Pipe, p)
	return p
}

// Readers returns the number of files open on the pipe for reading.
func (p *Pipe) Readers() int { return p.readers }

// Writers returns the number of files open on the pipe for writing.
func (p *Pipe) Writers() int { return p.writers }

// FIFO returns the FIFO inode of a named pipe, or nil.
func (p *Pipe) FIFO() *Inode { return p.fifo }

// Len returns the number of unread bytes.
func (p *Pipe) Len() int {
	n := 0
	for _, b := range p.bufs {
		n += len(b.data)
	}
	return n
}

// Buffers returns a copy of the ring, oldest buffer first.
func (p *Pipe) Buffers() []PipeBuffer {
	out := make([]PipeBuffer, len(p.bufs))
	for i, b := range p.bufs {
		out[i] = PipeBuffer{Offset: b.offset, Data: append([]byte(nil), b.data...), Packet: b.packet}
	}
	return out
}

// SetBuffers replaces the contents of an empty pipe with the given ring, as
// restart does, taking the buffers' bytes over (the caller must not use
// them again). Each buffer must hold at least one byte and lie within its
// page, and there may be at most PipeBuffers of them; otherwise EINVAL, with
// the buffer named.
func (p *Pipe) SetBuffers(bufs []PipeBuffer) error {
	if len(p.bufs) != 0 {
		return fmt.Errorf("pipe already holds %d bytes: %w", p.Len(), errno.EBUSY)
	}
	if len(bufs) > PipeBuffers {
		return fmt.Errorf("%d pipe buffers, at most %d: %w", len(bufs), PipeBuffers, errno.EINVAL)
	}
	ring := make([]pipeBuffer, len(bufs))
	for i, b := range bufs {
		if len(b.Data) == 0 || b.Offset < 0 || b.Offset+len(b.Data) > PageSize {
			return fmt.Errorf("pipe buffer %d: %d bytes at offset %d do not fit a %d-byte page: %w",
				i, len(b.Data), b.Offset, PageSize, errno.EINVAL)
		}
		// A write that merges into the buffer appends to it, and so
		// copies it then, if ever.
		ring[i] = pipeBuffer{offset: b.Offset, data: b.Data[:len(b.Data):len(b.Data)], packet: b.Packet}
	}
	p.bufs = ring
	return nil
}

// Get takes a reference.
func (p *Pipe) Get() { p.Count.Get() }

// Put drops a reference; when the last file is gone, so is the buffer, and a
// FIFO forgets it (the next open of the FIFO starts a new, empty pipe).
func (p *Pipe) Put() {
	p.Count.Put(func() {
		p.bufs = nil
		if p.fifo != nil {
			p.fifo.pipe = nil
		}
	})
}

// NewPipeFiles creates a pipe and its two ends, as pipe2(2): the read end
// and the write end, each with one reference, the caller's. Of flags, only
// O_NONBLOCK (both ends) and O_DIRECT (packet mode, the write end) stay in
// the files' status flags; the caller handles O_CLOEXEC.
func NewPipeFiles(reg *kref.Registry, flags int) (r, w *File) {
	p := newPipe(reg)
	r = p.newEnd(reg, O_RDONLY|flags&O_NONBLOCK, TypePipe, nil)
	w = p.newEnd(reg, O_WRONLY|flags&(O_NONBLOCK|O_DIRECT), TypePipe, nil)
	p.Put() // the ends hold the pipe now
	return r, w
}

// newEnd opens a file on the pipe with the given status flags; the file
// takes its own reference on the pipe, and over the caller's on d.
func (p *Pipe) newEnd(reg *kref.Registry, flags int, t FileType, d *Dentry) *File {
	p.Get()
	mode := openMode(flags) & (FMODE_READ | FMODE_WRITE)
	f := newFile(reg, pipeOps{t}, d, flags, mode)
	f.pipe = p
	if mode&FMODE_READ != 0 {
		p.readers++
	}
	if mode&FMODE_WRITE != 0 {
		p.writers++
	}
	return f
}

// pipeOps are the operations of a pipe end or a file open on a FIFO (Linux's
// pipefifo_fops).
type pipeOps struct{ t FileType }

func (o pipeOps) Type() FileType { return o.t }

// SetflMask: pipes implement fasync, so O_ASYNC sticks; O_DIRECT switches the
// write end to packet mode.
func (pipeOps) SetflMask() int { return SetflMask }

func (pipeOps) Seek(f *File, offset int64, whence int) (int64, error) {
	return 0, errno.ESPIPE
}

func (pipeOps) Release(f *File) {
	p := f.pipe
	if f.mode&FMODE_READ != 0 {
		p.readers--
	}
	if f.mode&FMODE_WRITE != 0 {
		p.writers--
	}
	p.Put()
}

// Read follows Linux's pipe_read: it takes bytes from the oldest buffers,
// freeing each page read to its end, and returns what it got without
// waiting once it got anything. An empty pipe is end of file when no writer
// is left, EAGAIN under O_NONBLOCK, and BLOCKED otherwise.
func (pipeOps) Read(f *File, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	pp := f.pipe
	n := 0
	for len(pp.bufs) > 0 && n < len(p) {
		b := &pp.bufs[0]
		k := copy(p[n:], b.data)
		n += k
		b.data = b.data[k:]
		b.offset += k
		if b.packet {
			// A packet is read whole: what did not fit is discarded.
			b.data = b.data[:0]
		}
		if len(b.data) == 0 {
			pp.bufs = pp.bufs[1:]
		}
		if b.packet {
			break
		}
	}
	switch {
	case n > 0:
		return n, nil
	case pp.writers == 0:
		return 0, nil
	case f.flags&O_NONBLOCK != 0:
		return 0, errno.EAGAIN
	}
	return 0, errno.BLOCKED
}

// Write follows Linux's pipe_write: the part of the write beyond a whole
// number of pages merges into the last buffer if it fits there entirely;
// the rest goes into new pages, one per 4096 bytes, while the ring has
// room. When the ring is full the write returns what it wrote so far, or
// EAGAIN (O_NONBLOCK) or BLOCKED when that is nothing. With no reader left
// the write fails with EPIPE (signals are not modelled).
func (pipeOps) Write(f *File, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	pp := f.pipe
	if pp.readers == 0 {
		return 0, errno.EPIPE
	}
	packet := f.flags&O_DIRECT != 0
	n := 0
	if chars := len(p) % PageSize; chars != 0 && len(pp.bufs) > 0 {
		last := &pp.bufs[len(pp.bufs)-1]
		if !last.packet && last.offset+len(last.data)+chars <= PageSize {
			last.data = append(last.data, p[:chars]...)
			n = chars
		}
	}
	for n < len(p) && len(pp.bufs) < PipeBuffers {
		k := min(PageSize, len(p)-n)
		page := append(make([]byte, 0, PageSize), p[n:n+k]...)
		pp.bufs = append(pp.bufs, pipeBuffer{data: page, packet: packet})
		n += k
	}
	switch {
	case n > 0:
		return n, nil
	case f.flags&O_NONBLOCK != 0:
		return 0, errno.EAGAIN
	}
	return 0, errno.BLOCKED
}

// OpenFIFO opens a FIFO as Linux's fifo_open does. A reader waits for a
// writer and a writer for a reader; O_RDWR never waits. With O_NONBLOCK a
// reader does not wait, and a writer with no reader fails with ENXIO.
// Where Linux would wait, the simulator returns BLOCKED and the open has no
// effect. O_DIRECT is EINVAL, after the waiting and ENXIO. The first open
// of a FIFO creates its pipe; the pipe goes when the last file open on it
// is closed, and with it any unread bytes.
func (fs *FS) OpenFIFO(d *Dentry, flags int) (*File, error) {
	readers, writers := 0, 0
	if p := d.inode.pipe; p != nil {
		readers, writers = p.readers, p.writers
	}
	nonblock := flags&O_NONBLOCK != 0
	switch flags & O_ACCMODE {
	case O_RDONLY:
		if writers == 0 && !nonblock {
			return nil, errno.BLOCKED
		}
	case O_WRONLY:
		if readers == 0 && nonblock {
			return nil, errno.ENXIO
		}
		if readers == 0 {
			return nil, errno.BLOCKED
		}
	case O_RDWR:
	default:
		return nil, errno.EINVAL
	}
	// Linux opens the FIFO (fifo_open, which waits or fails first) and only
	// then refuses O_DIRECT, which no FIFO opened by open(2) can have; the
	// open it undoes leaves nothing behind.
	if flags&O_DIRECT != 0 {
		return nil, errno.EINVAL
	}
	return fs.OpenFIFOEnd(d, flags)
}

// OpenFIFOEnd opens a file on the FIFO d without waiting for a peer, as
// restart does; it creates the FIFO's pipe if the FIFO has none open.
func (fs *FS) OpenFIFOEnd(d *Dentry, flags int) (*File, error) {
	if !d.inode.IsFIFO() {
		return nil, errno.EINVAL
	}
	if flags&O_ACCMODE == O_ACCMODE {
		return nil, errno.EINVAL
	}
	p := d.inode.pipe
	if p == nil {
		p = newPipe(fs.reg)
		p.fifo = d.inode
		d.inode.pipe = p
		defer p.Put() // the new file holds the pipe
	}
	d.Get()
	return p.newEnd(fs.reg, flags&openFlagsKept|O_LARGEFILE, TypeFIFO, d), nil
}
