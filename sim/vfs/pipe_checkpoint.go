package vfs

import (
	"fmt"
	"strconv"

	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/ckpt/object"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// Pipes are saved by nested sharing, as in the seeds: the files open on a
// pipe (the two ends of an anonymous pipe, or any number of files on a
// FIFO) are objects of their own, and the pipe they share is one more,
// with its own objref, whose state (its ring of page buffers, in their
// layout) comes once, right after the FILE record of the first file open on
// it. Restart restores the pipe there, and every file on it opens an end of
// that one pipe.

// PipeRecord is the PIPE record: a pipe's state; its buffers follow.
type PipeRecord struct {
	Buffers uint32 `doc:"number of pipe buffer records that follow, at most 16"`
	Bytes   uint32 `doc:"bytes in the pipe, the sum of the buffers'"`
}

// PipeBufRecord is the PIPE_BUF record: one page buffer of a pipe's ring,
// oldest first; the tail is its unread bytes.
type PipeBufRecord struct {
	Offset uint32 `doc:"where the unread bytes start in the 4096-byte page"`
	Flags  uint32 `doc:"1: written in packet mode (O_DIRECT)"`
}

// pipeBufPacket is the PIPE_BUF flag of a buffer written in packet mode.
const pipeBufPacket = 1

// The pipe's records.
var (
	PipeKind = image.Define[PipeRecord](image.Spec{
		Type: RecPipe, Name: "PIPE", Doc: "A pipe's state.", Object: ObjPipe,
		Place: "after the pipe's OBJREF, which follows the FILE record of the first file open on the pipe; its PIPE_BUF records follow.",
		Count: image.Count{Name: "pipes"},
		Label: pipeLabel,
	})
	PipeBufKind = image.Define[PipeBufRecord](image.Spec{
		Type: RecPipeBuf, Name: "PIPE_BUF", Doc: "One buffer of a pipe.", Object: ObjPipe,
		Meaning: map[string]image.Meaning{"Flags": {Names: map[uint64]string{pipeBufPacket: "packet"}}},
		Tail:    image.TailSpec{Doc: "the buffer's unread bytes", Min: 1, Max: PageSize, Parts: []image.TailPart{{Name: "data"}}},
		Count:   image.Count{Name: "pipe bytes", Bytes: true},
	})
)

// PipeLabel says what a pipe holds, in a few lines for a picture: its
// first bytes, quoted, and how many bytes wait in it. The PIPE record's
// spec labels an image's pipe with it (image.Spec.Label); package graph
// labels a running world's pipe with it too, so the two agree.
func PipeLabel(bufs []PipeBuffer) []string {
	const show = 24 // a label is a box, not a dump
	var first []byte
	n := 0
	for _, b := range bufs {
		n += len(b.Data)
		if room := show - len(first); room > 0 {
			first = append(first, b.Data[:min(room, len(b.Data))]...)
		}
	}
	var label []string
	if n > 0 {
		q := strconv.QuoteToGraphic(string(first))
		if n > show {
			q += "..."
		}
		label = append(label, q)
	}
	if n == 1 {
		return append(label, "1 byte buffered")
	}
	return append(label, fmt.Sprintf("%d bytes buffered", n))
}

// pipeLabel is PipeLabel of a pipe's records: its PIPE_BUF records' bytes.
func pipeLabel(state []*image.Record) []string {
	var bufs []PipeBuffer
	for _, r := range state {
		if r.Type == RecPipeBuf {
			bufs = append(bufs, PipeBuffer{Data: r.Tail})
		}
	}
	return PipeLabel(bufs)
}

func init() {
	object.Register(object.Ops{Type: ObjPipe, Name: "pipe", Checkpoint: checkpointPipe, Restore: restorePipe})
	RegisterFileType(FileTypeOps{Type: TypePipe, Name: "pipe", Piped: true, Restore: restorePipeEnd})
	RegisterFileType(FileTypeOps{Type: TypeFIFO, Name: "fifo", Named: true, Unlinkable: true, Piped: true, Restore: restoreFIFO})
}

// checkpointPipe saves a pipe's state: the PIPE record, then its buffers,
// oldest first, each from the ring itself.
func checkpointPipe(ctx object.Saver, obj any) error {
	p := obj.(*Pipe)
	if err := PipeKind.Write(ctx, &PipeRecord{Buffers: uint32(len(p.bufs)), Bytes: uint32(p.Len())}); err != nil {
		return err
	}
	for _, b := range p.bufs {
		rec := PipeBufRecord{Offset: uint32(b.offset)}
		if b.packet {
			rec.Flags = pipeBufPacket
		}
		if err := PipeBufKind.Write(ctx, &rec, b.data); err != nil {
			return err
		}
	}
	return nil
}

// restorePipe reads a pipe's state and creates the pipe, with no file open
// on it yet: the files that refer to it open its ends.
func restorePipe(ctx object.Restorer) (any, error) {
	pr, r, err := PipeKind.Read(ctx)
	if err != nil {
		return nil, err
	}
	if pr.Buffers > PipeBuffers || pr.Bytes > PipeCapacity {
		return nil, r.Errorf("%d buffers of %d bytes in all: a pipe holds at most %d buffers, %d bytes",
			pr.Buffers, pr.Bytes, PipeBuffers, PipeCapacity)
	}
	bufs := make([]PipeBuffer, 0, pr.Buffers)
	total := 0
	for range pr.Buffers {
		b, br, err := PipeBufKind.Read(ctx)
		if err != nil {
			return nil, err
		}
		if b.Flags&^pipeBufPacket != 0 || int64(b.Offset)+int64(len(br.Tail)) > PageSize {
			return nil, br.Errorf("buffer of %d bytes at offset %d with flags %#x", len(br.Tail), b.Offset, b.Flags)
		}
		bufs = append(bufs, PipeBuffer{Offset: int(b.Offset), Data: br.OwnTail(), Packet: b.Flags&pipeBufPacket != 0})
		total += len(br.Tail)
	}
	if total != int(pr.Bytes) {
		return nil, r.Errorf("buffers hold %d bytes, the pipe record says %d", total, pr.Bytes)
	}
	p := newPipe(ctx.Registry())
	if err := p.SetBuffers(bufs); err != nil {
		p.Put()
		return nil, r.Wrap(err)
	}
	return p, nil
}

// Checkpoint saves a pipe end or a file on a FIFO with its pipe, by nested
// sharing: the FILE record names the pipe's objref, and the pipe's state
// follows it when this is the pipe's first encounter.
func (pipeOps) Checkpoint(ctx object.Saver, f *File, rec FileRecord, path string) error {
	ref, err := ctx.Objref(f.pipe, ObjPipe)
	if err != nil {
		return err
	}
	rec.Pipe = ref
	if err := WriteFileRecord(ctx, &rec, path); err != nil {
		return err
	}
	_, err = ctx.Save(f.pipe, ObjPipe)
	return err
}

// Collect counts the pipe.
func (pipeOps) Collect(ctx object.Collector, f *File) error {
	return ctx.Collect(f.pipe, ObjPipe, object.Named("the pipe"))
}

// restoredPipes are the pipes this restart has created, by objref, with
// the ends of anonymous ones already open: a pipe has one read end and one
// write end, and a third file on it is an image no checkpoint writes.
type restoredPipes struct {
	refs map[*Pipe]int32
	ends map[int32]FMode
}

var pipesKey = object.Key[restoredPipes]{Name: "vfs pipes"}

// pipeOf returns the pipe objref ref names: restored before, or restored now
// from the state that follows.
func pipeOf(ctx object.Restorer, ref int32) (*Pipe, error) {
	rp := object.Local(ctx, &pipesKey)
	if rp.refs == nil {
		rp.refs, rp.ends = map[*Pipe]int32{}, map[int32]FMode{}
	}
	obj, ok, err := ctx.Find(ref, ObjPipe)
	if err != nil {
		return nil, err
	}
	if !ok {
		if obj, err = ctx.RestoreNext(ref, ObjPipe); err != nil {
			return nil, err
		}
		rp.refs[obj.(*Pipe)] = ref
	}
	return obj.(*Pipe), nil
}

// restorePipeEnd opens one end of a pipe: the first file restored on a pipe
// restores the pipe, and each opens its end of it. An end no file opens
// stays closed, as it was when the checkpoint was taken.
func restorePipeEnd(ctx object.Restorer, rec FileRecord, _ *Dentry) (*File, error) {
	mode := FMode(rec.Mode)
	if mode != FMODE_READ && mode != FMODE_WRITE {
		return nil, fmt.Errorf("pipe end with mode %v: %w", mode, errno.EINVAL)
	}
	p, err := pipeOf(ctx, rec.Pipe)
	if err != nil {
		return nil, err
	}
	if p.fifo != nil {
		return nil, fmt.Errorf("pipe %d is a FIFO's, not an anonymous pipe: %w", rec.Pipe, errno.EINVAL)
	}
	ends := object.Local(ctx, &pipesKey).ends
	if ends[rec.Pipe]&mode != 0 {
		return nil, fmt.Errorf("pipe %d: a second %v end (a pipe has one of each): %w", rec.Pipe, mode, errno.EINVAL)
	}
	ends[rec.Pipe] |= mode
	flags := O_RDONLY
	if mode == FMODE_WRITE {
		flags = O_WRONLY
	}
	return p.newEnd(ctx.Registry(), flags, TypePipe, nil), nil
}

// restoreFIFO opens a FIFO again without waiting for a peer. The first
// file restored on it gives the FIFO its saved pipe, which must not be open
// in the restarting kernel; later ones open the same pipe.
func restoreFIFO(ctx object.Restorer, rec FileRecord, d *Dentry) (*File, error) {
	if !d.inode.IsFIFO() {
		return nil, stale(d, "no longer a FIFO")
	}
	rp := object.Local(ctx, &pipesKey)
	if cur := d.inode.pipe; cur != nil {
		ref, mine := rp.refs[cur]
		switch {
		case !mine:
			return nil, fmt.Errorf("%s: the FIFO is already open in this kernel: %w", d.Path(), errno.EBUSY)
		case ref != rec.Pipe:
			return nil, fmt.Errorf("%s: the FIFO's pipe is objref %d, not %d: %w", d.Path(), ref, rec.Pipe, errno.EINVAL)
		}
	}
	p, err := pipeOf(ctx, rec.Pipe)
	if err != nil {
		return nil, err
	}
	switch {
	case p.fifo == nil && (p.readers > 0 || p.writers > 0):
		return nil, fmt.Errorf("%s: pipe %d is an anonymous pipe: %w", d.Path(), rec.Pipe, errno.EINVAL)
	case p.fifo != nil && p.fifo != d.inode:
		return nil, fmt.Errorf("%s: pipe %d belongs to another FIFO: %w", d.Path(), rec.Pipe, errno.EINVAL)
	case p.fifo == nil:
		p.fifo, d.inode.pipe = d.inode, p
	}
	return containerOf(ctx).FS.OpenFIFOEnd(d, int(rec.Flags))
}
