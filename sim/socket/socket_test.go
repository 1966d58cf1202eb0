package socket

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

func pair(t *testing.T, typ int) (a, b *vfs.File) {
	t.Helper()
	a, b, err := NewPair(kref.NewRegistry(), typ|SOCK_NONBLOCK)
	require.NoError(t, err)
	return a, b
}

// TestSendBufferAsLinux checks how many writes of each size fill a socket's
// send buffer, and what the last one sends, against Linux 6.18 (measured
// with nonblocking writes until EAGAIN on a fresh pair).
func TestSendBufferAsLinux(t *testing.T) {
	for _, tc := range []struct {
		typ, size  int
		writes     int
		bytes, end int // bytes sent in all; the errno that ends them
	}{
		{SOCK_STREAM, 1, 278, 278, 0},
		{SOCK_STREAM, 1000, 93, 93000, 0},
		{SOCK_STREAM, 2000, 49, 98000, 0},
		{SOCK_STREAM, 4000, 44, 176000, 0},
		{SOCK_STREAM, 8000, 24, 192000, 0},
		{SOCK_STREAM, 16000, 13, 208000, 0},
		{SOCK_STREAM, 32000, 7, 224000, 0},
		{SOCK_STREAM, 64000, 4, 228544, 0},
		{SOCK_STREAM, 128000, 2, 237632, 0},
		{SOCK_STREAM, 256000, 1, 219264, 0},
		{SOCK_DGRAM, 1, 278, 278, 0},
		{SOCK_DGRAM, 1000, 93, 93000, 0},
		{SOCK_DGRAM, 2000, 49, 98000, 0},
		{SOCK_DGRAM, 4000, 26, 104000, 0},
		{SOCK_DGRAM, 8000, 13, 104000, 0},
		{SOCK_DGRAM, 16000, 13, 208000, 0},
		{SOCK_DGRAM, 32000, 7, 224000, 0},
		{SOCK_DGRAM, 64000, 4, 256000, 0},
		{SOCK_DGRAM, 128000, 2, 256000, 0},
		{SOCK_DGRAM, 256000, 0, 0, int(errno.EMSGSIZE)},
		{SOCK_SEQPACKET, 1000, 93, 93000, 0},
		{SOCK_SEQPACKET, 64000, 4, 256000, 0},
	} {
		a, _ := pair(t, tc.typ)
		buf := make([]byte, tc.size)
		writes, sent := 0, 0
		var err error
		for {
			var n int
			if n, err = a.Ops().Write(a, buf); err != nil {
				break
			}
			writes, sent = writes+1, sent+n
		}
		want := errno.EAGAIN
		if tc.end != 0 {
			want = errno.Errno(tc.end)
		}
		assert.Equal(t, []int{tc.writes, tc.bytes}, []int{writes, sent}, "type %d, writes of %d", tc.typ, tc.size)
		assert.True(t, errors.Is(err, want), "type %d, writes of %d: ended with %v", tc.typ, tc.size, err)
	}
}
