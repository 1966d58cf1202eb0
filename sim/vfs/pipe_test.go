package vfs_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

func newPipe(t *testing.T, flags int) (r, w *vfs.File, reg *kref.Registry) {
	t.Helper()
	reg = kref.NewRegistry()
	r, w = vfs.NewPipeFiles(reg, flags)
	t.Cleanup(func() {
		r.Put()
		w.Put()
		assert.Empty(t, reg.Snapshot(), "closing both ends releases everything")
	})
	return r, w, reg
}

func read(t *testing.T, f *vfs.File, n int) string {
	t.Helper()
	buf := make([]byte, n)
	got, err := f.Read(buf)
	require.NoError(t, err)
	return string(buf[:got])
}

func write(t *testing.T, f *vfs.File, s string) {
	t.Helper()
	n, err := f.Write([]byte(s))
	require.NoError(t, err)
	require.Equal(t, len(s), n)
}

func TestNewPipeFiles(t *testing.T) {
	for _, tc := range []struct {
		name           string
		flags          int
		rFlags, wFlags int
	}{
		{"none", 0, vfs.O_RDONLY, vfs.O_WRONLY},
		{"O_NONBLOCK on both ends", vfs.O_NONBLOCK, vfs.O_NONBLOCK, vfs.O_WRONLY | vfs.O_NONBLOCK},
		{"O_DIRECT on the write end only", vfs.O_DIRECT, vfs.O_RDONLY, vfs.O_WRONLY | vfs.O_DIRECT},
		{"O_CLOEXEC is the caller's", vfs.O_CLOEXEC, vfs.O_RDONLY, vfs.O_WRONLY},
		{"others dropped", vfs.O_NONBLOCK | vfs.O_DIRECT | vfs.O_CLOEXEC | vfs.O_APPEND | vfs.O_RDWR | vfs.O_LARGEFILE,
			vfs.O_NONBLOCK, vfs.O_WRONLY | vfs.O_NONBLOCK | vfs.O_DIRECT},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, reg := newPipe(t, tc.flags)
			assert.Equal(t, tc.rFlags, r.Flags())
			assert.Equal(t, tc.wFlags, w.Flags())
			assert.Equal(t, vfs.FMODE_READ, r.Mode(), "a pipe end cannot seek")
			assert.Equal(t, vfs.FMODE_WRITE, w.Mode())
			assert.Equal(t, vfs.TypePipe, r.Type())
			assert.Equal(t, vfs.TypePipe, w.Type())
			assert.Nil(t, r.Dentry())
			assert.Nil(t, w.Dentry())
			p := r.Pipe()
			require.NotNil(t, p)
			assert.Same(t, p, w.Pipe())
			assert.Nil(t, p.FIFO())
			assert.Equal(t, 1, p.Readers())
			assert.Equal(t, 1, p.Writers())
			assert.Equal(t, int64(2), p.Refs(), "one reference per end")
			assert.Equal(t, int64(1), r.Refs())
			assert.Equal(t, 1, reg.Count(kref.Pipe))
			assert.Equal(t, 2, reg.Count(kref.File))
			assert.Len(t, reg.Snapshot(), 3)
			_, err := r.Seek(0, vfs.SEEK_CUR)
			assert.ErrorIs(t, err, errno.ESPIPE)
		})
	}
}

func TestPipeEndRelease(t *testing.T) {
	reg := kref.NewRegistry()
	r, w := vfs.NewPipeFiles(reg, 0)
	p := r.Pipe()
	write(t, w, "bye")
	w.Put()
	assert.Equal(t, 0, p.Writers())
	assert.Equal(t, int64(1), p.Refs())
	assert.Equal(t, "bye", read(t, r, 10), "the bytes outlive the writer")
	assert.Equal(t, "", read(t, r, 10), "then end of file")
	r.Put()
	assert.Empty(t, reg.Snapshot())
}

func TestSetBuffersRefuses(t *testing.T) {
	page := func(off, n int) vfs.PipeBuffer {
		return vfs.PipeBuffer{Offset: off, Data: bytes.Repeat([]byte("x"), n)}
	}
	ok := page(0, 1)
	many := make([]vfs.PipeBuffer, vfs.PipeBuffers+1)
	for i := range many {
		many[i] = ok
	}
	for _, tc := range []struct {
		name    string
		prefill string
		bufs    []vfs.PipeBuffer
		want    errno.Errno
		msg     string
	}{
		{"an empty buffer", "", []vfs.PipeBuffer{ok, {Offset: 0}}, errno.EINVAL, "pipe buffer 1: 0 bytes at offset 0"},
		{"an empty buffer first", "", []vfs.PipeBuffer{{Offset: 7, Data: []byte{}}}, errno.EINVAL, "pipe buffer 0: 0 bytes at offset 7"},
		{"offset+len past the page", "", []vfs.PipeBuffer{ok, ok, page(4000, 97)}, errno.EINVAL, "pipe buffer 2: 97 bytes at offset 4000"},
		{"a whole page at an offset", "", []vfs.PipeBuffer{page(1, vfs.PageSize)}, errno.EINVAL, "pipe buffer 0: 4096 bytes at offset 1"},
		{"more than a page", "", []vfs.PipeBuffer{page(0, vfs.PageSize+1)}, errno.EINVAL, "pipe buffer 0: 4097 bytes"},
		{"a negative offset", "", []vfs.PipeBuffer{page(-1, 1)}, errno.EINVAL, "pipe buffer 0: 1 bytes at offset -1"},
		{"more than 16 buffers", "", many, errno.EINVAL, "17 pipe buffers, at most 16"},
		{"a pipe that is not empty", "abc", []vfs.PipeBuffer{ok}, errno.EBUSY, "pipe already holds 3 bytes"},
		{"a pipe that is not empty, even with nothing to set", "abc", nil, errno.EBUSY, "pipe already holds 3 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, _ := newPipe(t, 0)
			if tc.prefill != "" {
				write(t, w, tc.prefill)
			}
			before := r.Pipe().Buffers()
			err := r.Pipe().SetBuffers(tc.bufs)
			require.Error(t, err)
			assert.ErrorIs(t, err, tc.want)
			assert.Contains(t, err.Error(), tc.msg)
			assert.Equal(t, before, r.Pipe().Buffers(), "a refused ring changes nothing")
		})
	}
}

func TestSetBuffersAccepts(t *testing.T) {
	full := make([]vfs.PipeBuffer, vfs.PipeBuffers)
	for i := range full {
		full[i] = vfs.PipeBuffer{Offset: i, Data: []byte{byte('a' + i)}}
	}
	for _, tc := range []struct {
		name string
		bufs []vfs.PipeBuffer
	}{
		{"nothing", nil},
		{"a page ending exactly at the page end", []vfs.PipeBuffer{{Offset: 4000, Data: bytes.Repeat([]byte("y"), 96)}}},
		{"a whole page", []vfs.PipeBuffer{{Data: bytes.Repeat([]byte("z"), vfs.PageSize)}}},
		{"sixteen buffers", full},
		{"packets and plain buffers", []vfs.PipeBuffer{
			{Offset: 100, Data: []byte("abc")},
			{Offset: 0, Data: []byte("packet"), Packet: true},
			{Offset: 4095, Data: []byte("!")},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _, _ := newPipe(t, 0)
			p := r.Pipe()
			require.NoError(t, p.SetBuffers(tc.bufs))
			got := p.Buffers()
			want := tc.bufs
			if want == nil {
				want = []vfs.PipeBuffer{}
			}
			assert.Equal(t, want, got, "Buffers gives back what SetBuffers set")
			n := 0
			for _, b := range tc.bufs {
				n += len(b.Data)
			}
			assert.Equal(t, n, p.Len())
		})
	}
}

// TestBuffersAreCopies: what Buffers returns is the caller's own (SetBuffers
// takes its buffers over, as restart hands them); a merge into a buffer
// taken over leaves the caller's slice alone.
func TestBuffersAreCopies(t *testing.T) {
	r, w, _ := newPipe(t, 0)
	p := r.Pipe()
	data := []byte("abc")
	in := []vfs.PipeBuffer{{Offset: 5, Data: data[:3:3]}}
	require.NoError(t, p.SetBuffers(in))
	out := p.Buffers()
	out[0].Data[1] = 'Y'
	assert.Equal(t, "abc", string(p.Buffers()[0].Data))
	_, err := w.Ops().Write(w, []byte("d"))
	require.NoError(t, err)
	assert.Equal(t, "abc", string(data), "the merge did not write into the slice handed over")
	assert.Equal(t, "abcd", read(t, r, 10))
}

// TestRestoredLayoutGovernsWrites: the offsets a restart sets decide, as in
// Linux, whether the next small write merges into the last page.
func TestRestoredLayoutGovernsWrites(t *testing.T) {
	for _, tc := range []struct {
		name  string
		ring  []vfs.PipeBuffer
		write string
		want  []vfs.PipeBuffer
	}{
		{"merges when it fits the page",
			[]vfs.PipeBuffer{{Offset: 4000, Data: []byte("ab")}}, "cd",
			[]vfs.PipeBuffer{{Offset: 4000, Data: []byte("abcd")}}},
		{"fits to the last byte",
			[]vfs.PipeBuffer{{Offset: 4000, Data: bytes.Repeat([]byte("a"), 90)}}, "123456",
			[]vfs.PipeBuffer{{Offset: 4000, Data: append(bytes.Repeat([]byte("a"), 90), "123456"...)}}},
		{"one byte too many: a new page",
			[]vfs.PipeBuffer{{Offset: 4000, Data: bytes.Repeat([]byte("a"), 90)}}, "1234567",
			[]vfs.PipeBuffer{{Offset: 4000, Data: bytes.Repeat([]byte("a"), 90)}, {Data: []byte("1234567")}}},
		{"never into a packet",
			[]vfs.PipeBuffer{{Data: []byte("pk"), Packet: true}}, "x",
			[]vfs.PipeBuffer{{Data: []byte("pk"), Packet: true}, {Data: []byte("x")}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w, _ := newPipe(t, 0)
			require.NoError(t, r.Pipe().SetBuffers(tc.ring))
			write(t, w, tc.write)
			assert.Equal(t, tc.want, r.Pipe().Buffers())
		})
	}

	// A restored full ring: a one-byte write still merges into the last
	// page, a page-sized one has no room.
	r, w, _ := newPipe(t, vfs.O_NONBLOCK)
	full := make([]vfs.PipeBuffer, vfs.PipeBuffers)
	for i := range full {
		full[i] = vfs.PipeBuffer{Data: []byte{'a'}}
	}
	require.NoError(t, r.Pipe().SetBuffers(full))
	write(t, w, "b")
	_, err := w.Write(make([]byte, vfs.PageSize))
	assert.ErrorIs(t, err, errno.EAGAIN)
	assert.Len(t, r.Pipe().Buffers(), vfs.PipeBuffers)
	assert.Equal(t, "ab", string(r.Pipe().Buffers()[vfs.PipeBuffers-1].Data))
}

func TestPacketReads(t *testing.T) {
	t.Run("one packet per read, the rest discarded", func(t *testing.T) {
		r, w, _ := newPipe(t, vfs.O_DIRECT)
		write(t, w, "hello")
		write(t, w, "world")
		assert.Equal(t, []vfs.PipeBuffer{
			{Data: []byte("hello"), Packet: true},
			{Data: []byte("world"), Packet: true},
		}, r.Pipe().Buffers(), "packets are never merged")
		assert.Equal(t, "he", read(t, r, 2))
		assert.Equal(t, 5, r.Pipe().Len(), "the rest of the packet is gone")
		assert.Equal(t, "world", read(t, r, 100))
		_, err := r.Read(make([]byte, 1))
		assert.ErrorIs(t, err, errno.BLOCKED)
	})
	t.Run("a packet larger than a page is one packet per page", func(t *testing.T) {
		r, w, _ := newPipe(t, vfs.O_DIRECT)
		write(t, w, strings.Repeat("a", vfs.PageSize)+"bc")
		bufs := r.Pipe().Buffers()
		require.Len(t, bufs, 2)
		assert.True(t, bufs[0].Packet && bufs[1].Packet)
		assert.Equal(t, vfs.PageSize, len(read(t, r, 2*vfs.PageSize)))
		assert.Equal(t, "bc", read(t, r, 2*vfs.PageSize))
	})
	t.Run("a read takes plain bytes, then stops at the end of a packet", func(t *testing.T) {
		r, _, _ := newPipe(t, 0)
		require.NoError(t, r.Pipe().SetBuffers([]vfs.PipeBuffer{
			{Data: []byte("ab")},
			{Data: []byte("cdef"), Packet: true},
			{Data: []byte("gh")},
		}))
		assert.Equal(t, "abc", read(t, r, 3), "the packet's first byte; the rest discarded")
		assert.Equal(t, []vfs.PipeBuffer{{Data: []byte("gh")}}, r.Pipe().Buffers())
		assert.Equal(t, "gh", read(t, r, 10))
	})
	t.Run("a large read stops after a whole packet", func(t *testing.T) {
		r, _, _ := newPipe(t, 0)
		require.NoError(t, r.Pipe().SetBuffers([]vfs.PipeBuffer{
			{Data: []byte("ab"), Packet: true},
			{Data: []byte("cd"), Packet: true},
		}))
		assert.Equal(t, "ab", read(t, r, 10))
		assert.Equal(t, "cd", read(t, r, 10))
	})
	t.Run("a plain write after packets starts a plain page", func(t *testing.T) {
		r, w, _ := newPipe(t, vfs.O_DIRECT)
		write(t, w, "pk")
		require.NoError(t, w.SetFlags(0))
		write(t, w, "x")
		write(t, w, "y")
		assert.Equal(t, []vfs.PipeBuffer{
			{Data: []byte("pk"), Packet: true},
			{Data: []byte("xy")},
		}, r.Pipe().Buffers())
		assert.Equal(t, "pk", read(t, r, 10))
		assert.Equal(t, "xy", read(t, r, 10))
	})
}

func TestOpenFIFOEnd(t *testing.T) {
	fs, reg := newFS()
	root := fs.Root()
	require.NoError(t, fs.Mkfifo(root, root, "/p", 0600))
	mkdirs(t, fs, "/d")
	require.NoError(t, fs.WriteFile("/f", nil, 0644))
	d := lookup(t, fs, "/p")
	in := d.Inode()
	require.Nil(t, in.Pipe())

	// A reader with no writer does not wait; it creates the pipe.
	r, err := fs.OpenFIFOEnd(d, vfs.O_RDONLY)
	require.NoError(t, err)
	p := in.Pipe()
	require.NotNil(t, p, "the first open creates the FIFO's pipe")
	assert.Same(t, p, r.Pipe())
	assert.Same(t, in, p.FIFO())
	assert.Same(t, d, r.Dentry())
	assert.Equal(t, vfs.TypeFIFO, r.Type())
	assert.Equal(t, vfs.O_RDONLY|vfs.O_LARGEFILE, r.Flags())
	assert.Equal(t, vfs.FMODE_READ, r.Mode())
	assert.Equal(t, 1, p.Readers())
	assert.Equal(t, 0, p.Writers())
	assert.Equal(t, int64(1), p.Refs())
	assert.Equal(t, int64(2), d.Refs(), "the file holds the FIFO's dentry")

	// A writer joins the same pipe; open-only flags are dropped.
	w, err := fs.OpenFIFOEnd(d, vfs.O_WRONLY|vfs.O_NONBLOCK|vfs.O_CLOEXEC|vfs.O_CREAT|vfs.O_TRUNC)
	require.NoError(t, err)
	assert.Same(t, p, w.Pipe())
	assert.Equal(t, vfs.O_WRONLY|vfs.O_NONBLOCK|vfs.O_LARGEFILE, w.Flags())
	assert.Equal(t, vfs.FMODE_WRITE, w.Mode())
	rw, err := fs.OpenFIFOEnd(d, vfs.O_RDWR)
	require.NoError(t, err)
	assert.Equal(t, vfs.FMODE_READ|vfs.FMODE_WRITE, rw.Mode())
	assert.Equal(t, 2, p.Readers())
	assert.Equal(t, 2, p.Writers())
	assert.Equal(t, int64(3), p.Refs())
	assert.Equal(t, int64(4), d.Refs())
	assert.Equal(t, 1, reg.Count(kref.Pipe))

	// Refusals, with no effect.
	before := reg.Snapshot()
	for _, tc := range []struct {
		name  string
		d     *vfs.Dentry
		flags int
	}{
		{"access mode 3", d, vfs.O_ACCMODE},
		{"access mode 3 with O_NONBLOCK", d, vfs.O_ACCMODE | vfs.O_NONBLOCK},
		{"a regular file", lookup(t, fs, "/f"), vfs.O_RDONLY},
		{"a directory", lookup(t, fs, "/d"), vfs.O_RDONLY},
	} {
		f, err := fs.OpenFIFOEnd(tc.d, tc.flags)
		assert.Nil(t, f, tc.name)
		assert.ErrorIs(t, err, errno.EINVAL, tc.name)
	}
	assert.Equal(t, "", before.Diff(reg.Snapshot()))

	// The bytes flow between the files.
	write(t, w, "via fifo")
	assert.Equal(t, "via", read(t, r, 3))
	assert.Equal(t, " fifo", read(t, rw, 10))
	write(t, rw, "left over")

	// Closing every file releases the pipe and its bytes; the next open
	// starts a new, empty one.
	r.Put()
	w.Put()
	assert.NotNil(t, in.Pipe())
	rw.Put()
	assert.Nil(t, in.Pipe())
	assert.Equal(t, 0, reg.Count(kref.Pipe))
	assert.Equal(t, int64(1), d.Refs())

	r2, err := fs.OpenFIFOEnd(d, vfs.O_RDONLY|vfs.O_NONBLOCK)
	require.NoError(t, err)
	assert.NotSame(t, p, r2.Pipe())
	assert.Equal(t, 0, r2.Pipe().Len())
	assert.Equal(t, "", read(t, r2, 10), "no writer: end of file")
	r2.Put()
	assert.Equal(t, 0, reg.Count(kref.File))
}
