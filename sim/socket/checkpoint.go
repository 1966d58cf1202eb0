package socket

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// A socket pair is saved as a pipe is, by nested sharing: each end's file
// is an object (its FILE record, then a SOCKET record naming its pair and
// end), and the pair they share is one more, saved once, right after the
// SOCKET record of the first file met on it: both ends' state and every
// message in flight, with how much of it was read. Restart restores the
// pair there, and each file opens its end of it; an end no file opens stays
// closed, as it was.

// ObjSocketPair is the object type of a socket pair in OBJREF records.
const ObjSocketPair object.Type = 8

// The record types of sockets; their numbers are part of the format.
const (
	RecSocket     image.Type = 40
	RecSocketPair image.Type = 41
	RecSocketMsg  image.Type = 42
)

// SocketRecord is the SOCKET record, after the FILE record of a socket: the
// pair it is an end of.
type SocketRecord struct {
	Pair int32  `doc:"objref of the socket pair"`
	End  uint32 `doc:"which end of the pair: 0 or 1 (the first or second descriptor socketpair returned)"`
}

// SocketPairRecord is the SOCKET_PAIR record: a pair's type and both ends'
// state. The SOCKET_MSG records of end 0's queue follow, then end 1's.
type SocketPairRecord struct {
	Type uint32             `doc:"SOCK_STREAM (1), SOCK_DGRAM (2) or SOCK_SEQPACKET (5)"`
	Pad  uint32             `doc:"zero"`
	Ends [2]SocketEndRecord `doc:"the two ends"`
}

// SocketEndRecord is one end's state in a SOCKET_PAIR record.
type SocketEndRecord struct {
	Flags    uint32 `doc:"1: a file is open on the end; 2: a datagram end whose peer closed, disconnected"`
	Shutdown uint32 `doc:"1: receiving shut down, 2: sending, 3: both"`
	Err      uint32 `doc:"the error pending for the end's next call: 0, or ECONNRESET (104)"`
	Messages uint32 `doc:"number of SOCKET_MSG records of the end's queue"`
}

// SocketMsgRecord is the SOCKET_MSG record: one message received by an end
// and not read; the tail is its unread bytes.
type SocketMsgRecord struct {
	End      uint32 `doc:"the end that received it: 0 or 1"`
	Consumed uint32 `doc:"a stream message's bytes read already (it is freed once read to its end); 0 for a message"`
}

// Flags of an end in a SOCKET_PAIR record.
const (
	endOpen         = 1
	endDisconnected = 2
)

var endFlagNames = map[uint64]string{endOpen: "open", endDisconnected: "disconnected", endOpen | endDisconnected: "open|disconnected"}

// The kinds of the socket records.
var (
	SocketKind = image.Define[SocketRecord](image.Spec{
		Type: RecSocket, Name: "SOCKET", Doc: "The socket a file is: its pair and end.", Object: vfs.ObjFile,
		Place:   "right after the FILE record of a socket.",
		Meaning: map[string]image.Meaning{"Pair": {Ref: ObjSocketPair, After: true}},
	})
	SocketPairKind = image.Define[SocketPairRecord](image.Spec{
		Type: RecSocketPair, Name: "SOCKET_PAIR", Doc: "A pair of connected AF_UNIX sockets.", Object: ObjSocketPair,
		Place:   "after the pair's OBJREF, which follows the SOCKET record of the first socket file met on the pair; its SOCKET_MSG records follow.",
		Meaning: pairMeaning(),
		Count:   image.Count{Name: "socket pairs", By: "Type"},
		Label:   pairLabel,
	})
	SocketMsgKind = image.Define[SocketMsgRecord](image.Spec{
		Type: RecSocketMsg, Name: "SOCKET_MSG", Doc: "A message in flight on a socket pair.", Object: ObjSocketPair,
		Tail:  image.TailSpec{Doc: "its unread bytes", Max: SndBuf - 32, Parts: []image.TailPart{{Name: "data"}}},
		Count: image.Count{Name: "socket bytes", Bytes: true},
	})
)

// The names of a pair's types and of an end's shutdown states.
var (
	typeNames     = map[uint64]string{SOCK_STREAM: "SOCK_STREAM", SOCK_DGRAM: "SOCK_DGRAM", SOCK_SEQPACKET: "SOCK_SEQPACKET"}
	shutdownNames = map[uint64]string{rcvShutdown: "SHUT_RD", sendShutdown: "SHUT_WR", shutdownMask: "SHUT_RDWR"}
)

func pairMeaning() map[string]image.Meaning {
	m := map[string]image.Meaning{"Type": {Names: typeNames}}
	for i := range 2 {
		e := fmt.Sprintf("Ends[%d].", i)
		m[e+"Flags"] = image.Meaning{Names: endFlagNames}
		m[e+"Shutdown"] = image.Meaning{Names: shutdownNames}
		m[e+"Err"] = image.Meaning{Format: func(v uint64) string {
			if v == 0 {
				return ""
			}
			return errno.Errno(v).Name()
		}}
	}
	return m
}

// PairLabel says what a socket pair holds, in a few lines for a picture:
// its type, then each end's state and what waits for it to read, the
// first bytes quoted. The SOCKET_PAIR record's spec labels an image's pair
// with it (image.Spec.Label); package graph labels a running world's pair
// with it too, so the two agree.
func PairLabel(typ int, ends [2]EndState) []string {
	const show = 16 // a label is a box, not a dump
	name := typeNames[uint64(typ)]
	if name == "" {
		name = "type " + strconv.Itoa(typ)
	}
	label := []string{name}
	for i, e := range ends {
		var what []string
		if !e.Open {
			what = append(what, "closed")
		}
		if e.Disconnected {
			what = append(what, "disconnected")
		}
		if s := shutdownNames[uint64(e.Shutdown)]; s != "" {
			what = append(what, s)
		}
		if e.Err != 0 {
			what = append(what, e.Err.Name())
		}
		if len(e.Queue) > 0 {
			var first []byte
			n := 0
			for _, m := range e.Queue {
				n += len(m.Data)
				if room := show - len(first); room > 0 {
					first = append(first, m.Data[:min(room, len(m.Data))]...)
				}
			}
			q := strconv.QuoteToGraphic(string(first))
			if n > show {
				q += "..."
			}
			count := fmt.Sprintf("%d bytes", n)
			switch {
			case typ == SOCK_STREAM:
			case len(e.Queue) == 1:
				count = "1 message, " + count
			default:
				count = fmt.Sprintf("%d messages, %s", len(e.Queue), count)
			}
			what = append(what, fmt.Sprintf("%s to read (%s)", q, count))
		}
		if len(what) == 0 {
			what = []string{"nothing to read"}
		}
		label = append(label, fmt.Sprintf("end %d: %s", i, strings.Join(what, ", ")))
	}
	return label
}

// pairLabel is PairLabel of a pair's records: its SOCKET_PAIR record and
// the SOCKET_MSG records after it. Nil for a SOCKET_PAIR record that does
// not decode.
func pairLabel(state []*image.Record) []string {
	if len(state) == 0 {
		return nil
	}
	var rec SocketPairRecord // Record.Decode: the kind refers to this function
	if err := state[0].Decode(&rec); err != nil {
		return nil
	}
	var ends [2]EndState
	for i, er := range rec.Ends {
		ends[i] = EndState{Open: er.Flags&endOpen != 0, Disconnected: er.Flags&endDisconnected != 0,
			Shutdown: int(er.Shutdown), Err: errno.Errno(er.Err)}
	}
	for _, r := range state[1:] {
		var m SocketMsgRecord
		if err := r.Decode(&m); err == nil && m.End < 2 {
			ends[m.End].Queue = append(ends[m.End].Queue, Message{Data: r.Tail, Consumed: int(m.Consumed)})
		}
	}
	return PairLabel(int(rec.Type), ends)
}

func init() {
	object.Register(object.Ops{Type: ObjSocketPair, Name: "socket pair",
		Checkpoint: checkpointPair, Restore: restorePair, Complete: completePair})
	vfs.RegisterFileType(vfs.FileTypeOps{Type: TypeSocket, Name: "socket", Restore: restoreEnd})
}

// Checkpoint saves a socket's file: its FILE record, the SOCKET record with
// its pair's objref, then the pair on its first encounter.
func (o *endOps) Checkpoint(ctx object.Saver, f *vfs.File, rec vfs.FileRecord, path string) error {
	ref, err := ctx.Objref(o.pair, ObjSocketPair)
	if err != nil {
		return err
	}
	if err := vfs.WriteFileRecord(ctx, &rec, path); err != nil {
		return err
	}
	if err := SocketKind.Write(ctx, &SocketRecord{Pair: ref, End: uint32(o.i)}); err != nil {
		return err
	}
	_, err = ctx.Save(o.pair, ObjSocketPair)
	return err
}

// Collect counts the pair.
func (o *endOps) Collect(ctx object.Collector, f *vfs.File) error {
	return ctx.Collect(o.pair, ObjSocketPair, object.Named("the socket pair"))
}

// checkpointPair saves a pair: its type, both ends' state, then the
// messages each end has received, oldest first.
func checkpointPair(ctx object.Saver, obj any) error {
	p := obj.(*Pair)
	rec := SocketPairRecord{Type: uint32(p.typ)}
	for i, e := range p.ends {
		r := &rec.Ends[i]
		if e.open {
			r.Flags |= endOpen
		}
		if e.disconnected {
			r.Flags |= endDisconnected
		}
		r.Shutdown, r.Err, r.Messages = uint32(e.shutdown), uint32(e.err), uint32(len(e.queue))
	}
	if err := SocketPairKind.Write(ctx, &rec); err != nil {
		return err
	}
	for i, e := range p.ends {
		for _, s := range e.queue {
			if err := SocketMsgKind.Write(ctx, &SocketMsgRecord{End: uint32(i), Consumed: uint32(s.consumed)}, s.data); err != nil {
				return err
			}
		}
	}
	return nil
}

// restorePair reads a pair and its messages and creates it, with no file
// open on it yet, after checking that its state is one Linux could be in:
// the invariants of Pair.Check, with each end open as the record says.
func restorePair(ctx object.Restorer) (any, error) {
	rec, r, err := SocketPairKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	switch rec.Type {
	case SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET:
	default:
		return nil, r.Errorf("socket type %d", rec.Type)
	}
	var ends [2]end
	var files [2]int
	for i, er := range rec.Ends {
		if er.Flags&^(endOpen|endDisconnected) != 0 || er.Shutdown&^shutdownMask != 0 || er.Err > 0xffff {
			return nil, r.Errorf("end %d: flags %#x, shutdown %#x, error %d", i, er.Flags, er.Shutdown, er.Err)
		}
		ends[i] = end{shutdown: int(er.Shutdown), err: errno.Errno(er.Err),
			open: er.Flags&endOpen != 0, disconnected: er.Flags&endDisconnected != 0}
		if ends[i].open {
			files[i] = 1
		}
	}
	for i, er := range rec.Ends {
		if int64(er.Messages) > SndBuf/int64(headTruesize(0))+1 {
			return nil, r.Errorf("end %d: %d messages, more than a send buffer holds", i, er.Messages)
		}
		for range er.Messages {
			m, mr, err := SocketMsgKind.Read(ctx)
			if err != nil {
				return nil, err
			}
			if m.End != uint32(i) || m.Consumed > maxStreamSkb {
				return nil, mr.Errorf("a message of end %d, %d bytes read, where end %d's come", m.End, m.Consumed, i)
			}
			total := int(m.Consumed) + len(mr.Tail)
			ends[i].queue = append(ends[i].queue, skb{data: mr.OwnTail(), consumed: int(m.Consumed), truesize: truesize(int(rec.Type), total)})
		}
	}
	p := newPair(ctx.Registry(), int(rec.Type))
	p.ends = ends
	if errs := p.Check(files); len(errs) > 0 {
		p.Put()
		return nil, r.Wrap(fmt.Errorf("%v: %w", errs[0], errno.EINVAL))
	}
	return p, nil
}

// opened are the ends this restart has opened a file on, per pair.
var openedKey = object.Key[map[*Pair][2]bool]{Name: "socket ends opened"}

// restoreEnd opens the end of a pair a socket's file was: the pair is
// restored with the first file met on it, and each end saved open gets
// exactly one file.
func restoreEnd(ctx object.Restorer, rec vfs.FileRecord, _ *vfs.Dentry) (*vfs.File, error) {
	sr, r, err := SocketKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if sr.End > 1 {
		return nil, r.Errorf("socket end %d", sr.End)
	}
	obj, ok, err := ctx.Find(sr.Pair, ObjSocketPair)
	if err == nil && !ok {
		obj, err = ctx.RestoreNext(sr.Pair, ObjSocketPair)
	}
	if err != nil {
		return nil, r.Wrap(err)
	}
	p := obj.(*Pair)
	opened := object.Local(ctx, &openedKey)
	if *opened == nil {
		*opened = map[*Pair][2]bool{}
	}
	ends := (*opened)[p]
	switch {
	case !p.ends[sr.End].open:
		return nil, r.Errorf("end %d of socket pair %d was saved closed", sr.End, sr.Pair)
	case ends[sr.End]:
		return nil, r.Errorf("a second file on end %d of socket pair %d", sr.End, sr.Pair)
	}
	ends[sr.End] = true
	(*opened)[p] = ends
	p.Get()
	return vfs.NewFile(ctx.Registry(), &endOps{pair: p, i: int(sr.End)}, vfs.O_RDWR, vfs.FMODE_READ|vfs.FMODE_WRITE), nil
}

// completePair checks that every end saved open got its file. In an image
// of a subtree, an end without one was held outside: it is closed now, as
// it would be for the restored sockets, with what closing does to the peer.
func completePair(ctx object.Restorer, obj any) error {
	p := obj.(*Pair)
	opened := (*object.Local(ctx, &openedKey))[p]
	for i, e := range p.ends {
		switch {
		case !e.open || opened[i]:
		case ctx.Subtree():
			p.close(i)
		default:
			return fmt.Errorf("end %d saved open, but no file is open on it: %w", i, errno.EINVAL)
		}
	}
	return nil
}
