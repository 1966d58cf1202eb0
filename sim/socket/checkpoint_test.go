package socket_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
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
