// Package socket is AF_UNIX socket pairs, as socketpair(2) makes them: two
// connected sockets of one type (SOCK_STREAM, SOCK_DGRAM or
// SOCK_SEQPACKET), each an open file, each receiving what the other sends.
//
// What is modelled is what a program can see of Linux 6.18, measured on the
// real kernel (the scripts in scenario/testdata/linux/12_socketpair.scn
// say each result):
//
//   - A stream carries bytes: a read takes what it asks for across the
//     writes that sent it. A datagram or seqpacket socket carries messages:
//     a read takes one message, and what does not fit is lost; an empty
//     message is one too.
//   - A sender may queue data while what it has in flight takes less than
//     its send buffer, 212992 bytes (net.core.wmem_default), counted as
//     Linux counts it: by each message's truesize, its sk_buff with the
//     kmalloc bucket or pages its bytes take (see truesize.go). So 278
//     one-byte writes fill a socket, or 93 writes of 1000 bytes. A stream
//     write is cut into skbs of at most 36544 bytes and may be partly sent;
//     a datagram larger than the buffer less 32 bytes is EMSGSIZE.
//   - shutdown(2) stops receiving (SHUT_RD), sending (SHUT_WR) or both, for
//     the socket and, on a stream or seqpacket pair, in mirror for its
//     peer. Closing one end shuts its stream or seqpacket peer down both
//     ways, with ECONNRESET pending there (for its next read, or a
//     seqpacket's next call) if data sent to the closed end was left
//     unread. A datagram peer is not told: its next write is ECONNREFUSED,
//     and the ones after it ENOTCONN.
//   - A call that would wait returns BLOCKED at once and has no effect, as
//     everywhere in the simulator (a blocking stream write that sent part of
//     its bytes returns that count, as Linux does when a signal interrupts
//     it); O_NONBLOCK makes it EAGAIN. Signals are not modelled: a write
//     that Linux answers with SIGPIPE and EPIPE returns EPIPE.
//
// The pair is one shared object, as a pipe is: a checkpoint saves it once,
// with both ends' state and the messages in flight, and the file of each
// end refers to it (checkpoint.go).
package socket

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Socket types and the flags socketpair(2) takes with them.
const (
	SOCK_STREAM    = 1
	SOCK_DGRAM     = 2
	SOCK_RAW       = 3 // an AF_UNIX raw socket is a datagram socket
	SOCK_SEQPACKET = 5
	SOCK_NONBLOCK  = vfs.O_NONBLOCK
	SOCK_CLOEXEC   = vfs.O_CLOEXEC

	sockTypeMask = 0xf
)

// How to shut a socket down.
const (
	SHUT_RD   = 0
	SHUT_WR   = 1
	SHUT_RDWR = 2
)

// The shutdown bits of an end: Linux's RCV_SHUTDOWN and SEND_SHUTDOWN.
const (
	rcvShutdown  = 1
	sendShutdown = 2
	shutdownMask = rcvShutdown | sendShutdown
)

// TypeSocket is the file type of a socket.
const TypeSocket vfs.FileType = 5

// Pair is a connected pair of sockets: the object both ends' files share.
// Its reference count is held by the files open on its ends.
type Pair struct {
	kref.Count
	typ  int
	ends [2]end
}

// end is one socket of a pair.
type end struct {
	// queue is what this end has received and not yet read, oldest first.
	queue []skb
	// shutdown holds rcvShutdown and sendShutdown.
	shutdown int
	// err is an error pending for this end's next call (Linux's sk_err):
	// ECONNRESET when its stream or seqpacket peer closed with data unread.
	err errno.Errno
	// open is true while a file is open on this end.
	open bool
	// disconnected is true for a datagram end that found its peer closed:
	// it has no peer any more.
	disconnected bool
}

// skb is one message in flight (Linux's sk_buff): the bytes not yet read,
// how many were read already (a stream reads an skb in parts, and frees it
// only when it is read to its end), and the memory it takes.
type skb struct {
	data     []byte
	consumed int
	truesize int
}

// Ref implements kref.Object.
func (p *Pair) Ref() *kref.Count { return &p.Count }

// Get takes a reference.
func (p *Pair) Get() { p.Count.Get() }

// Put drops a reference; the last one frees the pair.
func (p *Pair) Put() { p.Count.Put(nil) }

// Type returns the pair's socket type.
func (p *Pair) Type() int { return p.typ }

func newPair(reg *kref.Registry, typ int) *Pair {
	p := &Pair{typ: typ}
	p.Init(reg, kref.SocketPair, p)
	return p
}

// NewPair creates a pair of connected sockets, as socketpair(AF_UNIX, typ,
// 0) does: typ is the socket type with SOCK_NONBLOCK and SOCK_CLOEXEC
// (which the caller applies to the descriptors). It returns the two files,
// each with one reference, the caller's. Flags other than those two are
// EINVAL, a type AF_UNIX does not have ESOCKTNOSUPPORT.
func NewPair(reg *kref.Registry, typ int) (a, b *vfs.File, err error) {
	flags := typ &^ sockTypeMask
	if flags&^(SOCK_NONBLOCK|SOCK_CLOEXEC) != 0 {
		return nil, nil, errno.EINVAL
	}
	switch typ &= sockTypeMask; typ {
	case SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET:
	case SOCK_RAW:
		typ = SOCK_DGRAM
	default:
		return nil, nil, errno.ESOCKTNOSUPPORT
	}
	p := newPair(reg, typ)
	defer p.Put() // the files hold it now
	return p.open(reg, 0, flags&SOCK_NONBLOCK), p.open(reg, 1, flags&SOCK_NONBLOCK), nil
}

// open opens a file on end i, with the given status flags besides O_RDWR;
// the file takes a reference to the pair.
func (p *Pair) open(reg *kref.Registry, i, flags int) *vfs.File {
	p.Get()
	p.ends[i].open = true
	return vfs.NewFile(reg, &endOps{pair: p, i: i}, vfs.O_RDWR|flags, vfs.FMODE_READ|vfs.FMODE_WRITE)
}

// Shutdown shuts f's socket down, as shutdown(2): how is SHUT_RD, SHUT_WR
// or SHUT_RDWR (EINVAL otherwise). A file that is no socket is ENOTSOCK.
func Shutdown(f *vfs.File, how int) error {
	o, ok := f.Ops().(*endOps)
	if !ok {
		return errno.ENOTSOCK
	}
	if how < SHUT_RD || how > SHUT_RDWR {
		return errno.EINVAL
	}
	mode := how + 1 // SHUT_RD -> rcvShutdown, SHUT_WR -> sendShutdown
	p := o.pair
	p.ends[o.i].shutdown |= mode
	if peer := &p.ends[1-o.i]; p.typ != SOCK_DGRAM && peer.open {
		// The peer stops the other way round: it may no longer send to a
		// socket that receives nothing, and receives nothing more from one
		// that sends nothing.
		if mode&rcvShutdown != 0 {
			peer.shutdown |= sendShutdown
		}
		if mode&sendShutdown != 0 {
			peer.shutdown |= rcvShutdown
		}
	}
	return nil
}

// endOps are the file operations of one end of a pair (Linux's
// socket_file_ops with unix_stream_ops or unix_dgram_ops).
type endOps struct {
	pair *Pair
	i    int
}

func (o *endOps) me() *end   { return &o.pair.ends[o.i] }
func (o *endOps) peer() *end { return &o.pair.ends[1-o.i] }

// Type implements vfs.FileOperations.
func (o *endOps) Type() vfs.FileType { return TypeSocket }

// SetflMask implements vfs.FileOperations: sockets take O_ASYNC and
// O_NOATIME but not O_DIRECT, which is EINVAL.
func (o *endOps) SetflMask() int { return vfs.SetflMask &^ vfs.O_DIRECT }

// Seek implements vfs.FileOperations: a socket cannot seek.
func (o *endOps) Seek(f *vfs.File, offset int64, whence int) (int64, error) {
	return 0, errno.ESPIPE
}

// Release closes the end, as Linux's unix_release_sock: what was sent to it
// and not read is gone; a stream or seqpacket peer is shut down both ways,
// with ECONNRESET pending if that data was there. The end's state goes
// with it.
func (o *endOps) Release(f *vfs.File) {
	o.pair.close(o.i)
	o.pair.Put()
}

// close closes end i.
func (p *Pair) close(i int) {
	me, peer := &p.ends[i], &p.ends[1-i]
	if p.typ != SOCK_DGRAM && peer.open {
		peer.shutdown = shutdownMask
		if me.leftUnread() {
			peer.err = errno.ECONNRESET
		}
	}
	*me = end{}
}

// leftUnread reports whether what the end has not read makes its closing
// an ECONNRESET for its peer: a byte, or more than one message. A lone
// empty seqpacket message does not (Linux 6.18, measured: the peer then
// reads end of file, and its write gets EPIPE).
func (e *end) leftUnread() bool {
	return len(e.queue) > 1 || len(e.queue) == 1 && len(e.queue[0].data) > e.queue[0].consumed
}

// takeErr returns and clears the end's pending error (Linux's sock_error).
func (e *end) takeErr() error {
	err := e.err
	e.err = 0
	if err == 0 {
		return nil
	}
	return err
}

// wmem returns what the end has in flight: the truesize of the messages in
// its peer's queue, all of which it sent.
func (o *endOps) wmem() int {
	n := 0
	for _, s := range o.peer().queue {
		n += s.truesize
	}
	return n
}

// wouldBlock is the error of a call that would wait: EAGAIN under
// O_NONBLOCK, BLOCKED otherwise.
func wouldBlock(f *vfs.File) error {
	if f.Flags()&vfs.O_NONBLOCK != 0 {
		return errno.EAGAIN
	}
	return errno.BLOCKED
}

// Read implements vfs.FileOperations: a stream reads bytes, a datagram or
// seqpacket socket one message.
func (o *endOps) Read(f *vfs.File, p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil // sock_read_iter: "match SYS5 behaviour"
	}
	if o.pair.typ == SOCK_STREAM {
		return o.readStream(f, p)
	}
	return o.readMessage(f, p)
}

// readStream copies what is queued, across skbs, freeing each one read to
// its end. With nothing queued: a pending error, end of file once
// receiving is shut down, or a wait.
func (o *endOps) readStream(f *vfs.File, p []byte) (int, error) {
	me := o.me()
	n := 0
	for len(me.queue) > 0 && n < len(p) {
		s := &me.queue[0]
		k := copy(p[n:], s.data)
		n += k
		s.data, s.consumed = s.data[k:], s.consumed+k
		if len(s.data) == 0 {
			me.queue = me.queue[1:]
		}
	}
	switch {
	case n > 0:
		return n, nil
	case me.err != 0:
		return 0, me.takeErr()
	case me.shutdown&rcvShutdown != 0:
		return 0, nil
	}
	return 0, wouldBlock(f)
}

// readMessage takes the first message; what does not fit is lost. A
// pending error comes first. With nothing queued and receiving shut down, a
// seqpacket socket reads end of file; a datagram socket does too if it
// would wait, but EAGAIN under O_NONBLOCK (Linux signals EOF on a
// non-blocking disconnected socket for SEQPACKET only).
func (o *endOps) readMessage(f *vfs.File, p []byte) (int, error) {
	me := o.me()
	if me.err != 0 {
		return 0, me.takeErr()
	}
	if len(me.queue) > 0 {
		n := copy(p, me.queue[0].data)
		me.queue = me.queue[1:]
		return n, nil
	}
	err := wouldBlock(f)
	if me.shutdown&rcvShutdown != 0 && (o.pair.typ == SOCK_SEQPACKET || err == errno.BLOCKED) {
		return 0, nil
	}
	return 0, err
}

// Write implements vfs.FileOperations.
func (o *endOps) Write(f *vfs.File, p []byte) (int, error) {
	if o.pair.typ == SOCK_STREAM {
		return o.writeStream(f, p)
	}
	return o.writeMessage(f, p)
}

// allocate is Linux's sock_alloc_send_pskb: a pending error, a send
// shutdown, or a send buffer already full stop a new skb.
func (o *endOps) allocate(f *vfs.File) error {
	me := o.me()
	switch {
	case me.err != 0:
		return me.takeErr()
	case me.shutdown&sendShutdown != 0:
		return errno.EPIPE
	case o.wmem() >= SndBuf:
		return wouldBlock(f)
	}
	return nil
}

// writeStream is unix_stream_sendmsg: the bytes go in skbs of at most
// maxStreamSkb bytes, each while the send buffer has room; a write that
// could send only part returns that part.
func (o *endOps) writeStream(f *vfs.File, p []byte) (int, error) {
	if o.me().shutdown&sendShutdown != 0 {
		return 0, errno.EPIPE
	}
	sent := 0
	for sent < len(p) {
		if err := o.allocate(f); err != nil {
			if sent > 0 {
				return sent, nil
			}
			return 0, err
		}
		peer := o.peer()
		if !peer.open || peer.shutdown&rcvShutdown != 0 {
			if sent > 0 {
				return sent, nil
			}
			return 0, errno.EPIPE
		}
		k := min(len(p)-sent, maxStreamSkb)
		peer.queue = append(peer.queue, skb{data: append([]byte(nil), p[sent:sent+k]...), truesize: streamTruesize(k)})
		sent += k
	}
	return sent, nil
}

// FaultingWrite is the result of a write to socket file f of count bytes
// whose source cannot be read whole (a fault in the buffer): the error the
// write meets before Linux copies anything (a send shutdown, a pending
// error, a message too long, a full send buffer), as writeStream and
// writeMessage meet it, else EFAULT.
func FaultingWrite(f *vfs.File, count int) error {
	o := f.Ops().(*endOps)
	me := o.me()
	if o.pair.typ == SOCK_STREAM {
		if me.shutdown&sendShutdown != 0 {
			return errno.EPIPE
		}
	} else {
		if o.pair.typ == SOCK_SEQPACKET && me.err != 0 {
			return me.takeErr()
		}
		if count > SndBuf-32 {
			return errno.EMSGSIZE
		}
	}
	if err := o.allocate(f); err != nil {
		return err
	}
	return errno.EFAULT
}

// writeMessage is unix_seqpacket_sendmsg and unix_dgram_sendmsg: one
// message, whole or not at all.
func (o *endOps) writeMessage(f *vfs.File, p []byte) (int, error) {
	me := o.me()
	if o.pair.typ == SOCK_SEQPACKET && me.err != 0 {
		return 0, me.takeErr()
	}
	if len(p) > SndBuf-32 {
		return 0, errno.EMSGSIZE
	}
	if err := o.allocate(f); err != nil {
		return 0, err
	}
	peer := o.peer()
	switch {
	case me.disconnected:
		return 0, errno.ENOTCONN
	case !peer.open && o.pair.typ == SOCK_DGRAM:
		me.disconnected = true
		return 0, errno.ECONNREFUSED
	case !peer.open, peer.shutdown&rcvShutdown != 0:
		return 0, errno.EPIPE
	}
	peer.queue = append(peer.queue, skb{data: append([]byte(nil), p...), truesize: dgramTruesize(len(p))})
	return len(p), nil
}

// Of returns the pair and end a file is open on, and false for a file that
// is no socket.
func Of(f *vfs.File) (p *Pair, end int, ok bool) {
	o, ok := f.Ops().(*endOps)
	if !ok {
		return nil, 0, false
	}
	return o.pair, o.i, true
}

// Check checks a pair's invariants, given how many files are open on each
// end: an end is open exactly when one file is open on it, and a closed
// end has no state; a stream or seqpacket end whose peer closed is shut
// down both ways; only such an end has an error pending, ECONNRESET; only a
// datagram end whose peer closed is disconnected; each queue holds what its
// sender could have sent (every message but the last sent while the buffer
// had room) in messages of the sizes the type allows.
func (p *Pair) Check(files [2]int) []error {
	var errs []error
	bad := func(i int, format string, args ...any) {
		errs = append(errs, fmt.Errorf("end %d: %s", i, fmt.Sprintf(format, args...)))
	}
	for i := range p.ends {
		e, peer := &p.ends[i], &p.ends[1-i]
		switch {
		case files[i] > 1:
			bad(i, "%d files open on one end", files[i])
		case e.open != (files[i] == 1):
			bad(i, "open is %v with %d files", e.open, files[i])
		case !e.open && (len(e.queue) > 0 || e.shutdown != 0 || e.err != 0 || e.disconnected):
			bad(i, "closed, with state left")
		}
		if !e.open {
			continue
		}
		if p.typ != SOCK_DGRAM && !peer.open && e.shutdown != shutdownMask {
			bad(i, "peer closed, shutdown %d", e.shutdown)
		}
		if e.err != 0 && (e.err != errno.ECONNRESET || p.typ == SOCK_DGRAM || peer.open) {
			bad(i, "error %s pending", e.err.Name())
		}
		if e.disconnected && (p.typ != SOCK_DGRAM || peer.open) {
			bad(i, "disconnected")
		}
		if err := checkQueue(p.typ, e.queue); err != nil {
			bad(i, "%v", err)
		}
	}
	return errs
}

// checkQueue checks a queue of messages of one type, as its sender could
// have sent them.
func checkQueue(typ int, q []skb) error {
	wmem := 0
	for k, s := range q {
		total := s.consumed + len(s.data)
		switch {
		case typ == SOCK_STREAM && (len(s.data) == 0 || total > maxStreamSkb):
			return fmt.Errorf("message %d: a stream skb of %d bytes, %d unread", k, total, len(s.data))
		case typ != SOCK_STREAM && (s.consumed != 0 || total > SndBuf-32):
			return fmt.Errorf("message %d: a message of %d bytes, %d read", k, total, s.consumed)
		case s.truesize != truesize(typ, total):
			return fmt.Errorf("message %d: truesize %d, not %d", k, s.truesize, truesize(typ, total))
		case wmem >= SndBuf:
			return fmt.Errorf("message %d: sent with %d bytes in flight, the buffer holds %d", k, wmem, SndBuf)
		}
		wmem += s.truesize
	}
	return nil
}

// truesize is the truesize of a message of n bytes of a socket type.
func truesize(typ, n int) int {
	if typ == SOCK_STREAM {
		return streamTruesize(n)
	}
	return dgramTruesize(n)
}

// EndState is what one end of a pair holds, for views and tools.
type EndState struct {
	Open         bool
	Shutdown     int // 1 receiving shut down, 2 sending, 3 both
	Err          errno.Errno
	Disconnected bool
	// Queue is what the end has received and not read, oldest first.
	Queue []Message
}

// Message is one message (a stream's skb) in flight: its unread bytes and
// how many of its bytes were read already.
type Message struct {
	Data     []byte
	Consumed int
}

// Ends returns a copy of both ends' state.
func (p *Pair) Ends() [2]EndState {
	var out [2]EndState
	for i, e := range p.ends {
		out[i] = EndState{Open: e.open, Shutdown: e.shutdown, Err: e.err, Disconnected: e.disconnected}
		for _, s := range e.queue {
			out[i].Queue = append(out[i].Queue, Message{Data: append([]byte(nil), s.data...), Consumed: s.consumed})
		}
	}
	return out
}
