package socket_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/socket"
)

// migrate builds a world from script lines, moves it through a checkpoint
// into a fresh kernel, checks that the copy is the same world, then runs
// the after lines on both, which must give what they expect.
func migrate(t *testing.T, script, after string) {
	t.Helper()
	s, err := scenario.ParseString("world.scn", script)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	m, err := (&ckpt.Engine{Kernel: k}).Migrate(1, 0, 0)
	require.NoError(t, err)
	require.NoError(t, m.Kernel.Check())
	require.NoError(t, equiv.Equal(k.View(), m.Kernel.View()))
	a, err := scenario.ParseString("after.scn", after)
	require.NoError(t, err)
	require.NoError(t, scenario.Replay(k, a), "the original world")
	require.NoError(t, scenario.Replay(m.Kernel, a), "the restored world")
}

func TestMigrateSocketPairs(t *testing.T) {
	for _, tc := range []struct{ name, script, after string }{
		{"stream with bytes both ways", `
			spawn 1
			socketpair 1 SOCK_STREAM = 0 1
			write 1 0 "hello" = 5
			write 1 0 "world" = 5
			read 1 1 3 = "hel"
			write 1 1 "back" = 4`, `
			read 1 1 100 = "loworld"
			read 1 0 100 = "back"
			read 1 0 1 = BLOCKED`},
		{"datagrams and an empty one", `
			spawn 1
			socketpair 1 SOCK_DGRAM SOCK_NONBLOCK = 0 1
			write 1 0 "one" = 3
			write 1 0 "" = 0
			write 1 1 "two" = 3`, `
			read 1 1 100 = "one"
			read 1 1 100 = ""
			read 1 1 100 = EAGAIN
			read 1 0 100 = "two"`},
		{"ends shared across tasks and fds", `
			spawn 1
			socketpair 1 SOCK_SEQPACKET = 0 1
			dup 1 0 = 2
			fork 1 2
			close 1 1
			write 2 1 "from the child" = 14`, `
			read 1 2 4 = "from"
			read 2 0 100 = BLOCKED`},
		{"one end closed, with a reset pending", `
			spawn 1
			socketpair 1 SOCK_STREAM SOCK_NONBLOCK = 0 1
			write 1 0 "to 1" = 4
			write 1 1 "to 0" = 4
			close 1 1`, `
			read 1 0 100 = "to 0"
			read 1 0 100 = ECONNRESET
			read 1 0 100 = ""
			write 1 0 "x" = EPIPE`},
		{"a datagram end disconnected", `
			spawn 1
			socketpair 1 SOCK_DGRAM SOCK_NONBLOCK = 0 1
			close 1 1
			write 1 0 "x" = ECONNREFUSED`, `
			write 1 0 "x" = ENOTCONN`},
		{"shutdown", `
			spawn 1
			socketpair 1 SOCK_STREAM SOCK_NONBLOCK = 0 1
			write 1 0 "data" = 4
			shutdown 1 0 SHUT_WR`, `
			write 1 0 "x" = EPIPE
			read 1 1 100 = "data"
			read 1 1 100 = ""`},
	} {
		t.Run(tc.name, func(t *testing.T) { migrate(t, tc.script, tc.after) })
	}
}

// TestLeakOfAnEndOutside: a container holding one end of a pair whose other
// end a task outside holds is refused, naming the pair and where the
// container holds it.
func TestLeakOfAnEndOutside(t *testing.T) {
	s, err := scenario.ParseString("world.scn", `
		spawn 1
		socketpair 1 SOCK_STREAM = 0 1
		fork 1 2
		close 1 1
		close 2 0`)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	_, err = (&ckpt.Engine{Kernel: k}).Snapshot(2, 0)
	require.ErrorIs(t, err, errno.EBUSY)
	require.ErrorContains(t, err, "socket pair objref 3: 1 reference from outside")
	require.ErrorContains(t, err, "held inside by the socket pair of pid 2 fd 1")
	_, err = (&ckpt.Engine{Kernel: k}).Migrate(2, ckpt.CHECKPOINT_SUBTREE, 0)
	require.NoError(t, err, "a subtree takes its end; the restored pair's other end is closed")
}

// hostileWorld is a world with a stream pair holding bytes both ways, one
// of its messages partly read, and a datagram pair whose other end is
// closed; it returns the kernel and its image.
func hostileWorld(t *testing.T) (*kernel.Kernel, []byte) {
	s, err := scenario.ParseString("world.scn", `
		spawn 1
		socketpair 1 SOCK_STREAM = 0 1
		write 1 0 "hello" = 5
		read 1 1 2 = "he"
		write 1 1 "back" = 4
		socketpair 1 SOCK_DGRAM = 2 3
		write 1 3 "msg" = 3
		close 1 2`)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	img, err := (&ckpt.Engine{Kernel: k}).Snapshot(1, 0)
	require.NoError(t, err)
	return k, img
}

// nth returns the index of the n-th record of type t.
func nth(t *testing.T, recs []*image.Record, typ image.Type, n int) int {
	for i, r := range recs {
		if r.Type == typ {
			if n == 0 {
				return i
			}
			n--
		}
	}
	require.FailNow(t, "no such record", "%v #%d", typ, n)
	return -1
}

func editPair(t *testing.T, recs []*image.Record, n int, edit func(*socket.SocketPairRecord)) int {
	i := nth(t, recs, socket.RecSocketPair, n)
	p, err := socket.SocketPairKind.Decode(recs[i])
	require.NoError(t, err)
	edit(&p)
	recs[i] = socket.SocketPairKind.Record(&p, nil)
	return i
}

// TestRestartRefusesHostileSocketImages: each edit of a socket record makes
// an image no checkpoint writes; restart refuses it with EINVAL, naming
// what is wrong, and leaves the kernel as it was.
func TestRestartRefusesHostileSocketImages(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, recs []*image.Record) []*image.Record
		want string
	}{
		{"a socket type AF_UNIX lacks", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 0, func(p *socket.SocketPairRecord) { p.Type = 7 })
			return recs
		}, "SOCKET_PAIR record: socket type 7"},
		{"unknown end flags", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 0, func(p *socket.SocketPairRecord) { p.Ends[1].Flags |= 4 })
			return recs
		}, "end 1: flags 0x5"},
		{"a stream end whose peer closed, not shut down", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 0, func(p *socket.SocketPairRecord) { p.Ends[0].Flags = 0; p.Ends[0].Messages = 0 })
			recs = dropFirst(t, recs, socket.RecSocketMsg) // end 0's message
			return recs
		}, "peer closed, shutdown 0"},
		{"a reset pending with the peer open", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 0, func(p *socket.SocketPairRecord) { p.Ends[0].Err = uint32(errno.ECONNRESET) })
			return recs
		}, "error ECONNRESET pending"},
		{"a datagram end disconnected with its peer open", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 1, func(p *socket.SocketPairRecord) {
				p.Ends[0].Flags, p.Ends[1].Flags = 1, 1|2
			})
			return recs
		}, "disconnected"},
		{"a message of the other end", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, socket.RecSocketMsg, 0)
			m, _ := socket.SocketMsgKind.Decode(recs[i])
			m.End = 1 - m.End
			recs[i] = socket.SocketMsgKind.Record(&m, recs[i].Tail)
			return recs
		}, "a message of end"},
		{"a stream message read to its end", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, socket.RecSocketMsg, 1) // "hello", 2 bytes read
			m, _ := socket.SocketMsgKind.Decode(recs[i])
			recs[i] = socket.SocketMsgKind.Record(&m, nil)
			return recs
		}, "a stream skb of 2 bytes, 0 unread"},
		{"a socket end 2", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, socket.RecSocket, 0)
			s, _ := socket.SocketKind.Decode(recs[i])
			s.End = 2
			recs[i] = socket.SocketKind.Record(&s, nil)
			return recs
		}, "socket end 2"},
		{"two files on one end", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, socket.RecSocket, 1)
			s, _ := socket.SocketKind.Decode(recs[i])
			s.End = 0
			recs[i] = socket.SocketKind.Record(&s, nil)
			return recs
		}, "a second file on end 0 of socket pair 3"},
		{"a file on an end saved closed", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, socket.RecSocket, 2)
			s, _ := socket.SocketKind.Decode(recs[i])
			s.End = 0
			recs[i] = socket.SocketKind.Record(&s, nil)
			return recs
		}, "end 0 of socket pair 6 was saved closed"},
		{"an end saved open with no file", func(t *testing.T, recs []*image.Record) []*image.Record {
			editPair(t, recs, 1, func(p *socket.SocketPairRecord) { p.Ends[0].Flags = 1 })
			return recs
		}, "socket pair: end 0 saved open, but no file is open on it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, img := hostileWorld(t)
			recs, err := image.ReadAll(bytes.NewReader(img))
			require.NoError(t, err)
			recs = tc.edit(t, recs)
			testworld.RestartRefused(t, k, image.Encode(recs, true), errno.EINVAL, tc.want)
		})
	}
}

func dropFirst(t *testing.T, recs []*image.Record, typ image.Type) []*image.Record {
	i := nth(t, recs, typ, 0)
	return append(recs[:i:i], recs[i+1:]...)
}
