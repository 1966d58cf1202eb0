package ckpt_test

import (
	"bytes"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// TestCompressedImages: a compressed image restores the same world as the
// plain one, holds the same records (offsets and checksum of the plain
// form), and is smaller; a cut or damaged one is refused cleanly.
func TestCompressedImages(t *testing.T) {
	k := world(t, `
		spawn 1
		open 1 /data O_RDWR|O_CREAT 0644 = 0
		write 1 0 "hello, world" = 12
		pipe 1 = 1 2
		write 1 2 "in flight" = 9
		fork 1 2
		clone 1 3 CLONE_FILES|CLONE_FS`)
	plain, err := (&ckpt.Engine{Kernel: k, Clock: epochClock}).Snapshot(1, 0)
	require.NoError(t, err)
	e := &ckpt.Engine{Kernel: k, Clock: epochClock, Compress: true}
	packed, err := e.Snapshot(1, 0)
	require.NoError(t, err)
	assert.Less(t, len(packed), len(plain)/3, "%d bytes compressed, %d plain", len(packed), len(plain))

	recsPlain, err := image.ReadAll(bytes.NewReader(plain))
	require.NoError(t, err)
	recsPacked, err := image.ReadAll(bytes.NewReader(packed))
	require.NoError(t, err)
	require.Len(t, recsPacked, len(recsPlain))
	// The headers differ by the flag, and so the tails' checksums, which
	// cover the header; every record between is the same.
	for i := 1; i < len(recsPlain)-1; i++ {
		assert.Equal(t, recsPlain[i], recsPacked[i], "record %d", i)
	}
	last := recsPacked[len(recsPacked)-1]
	tail, err := image.TailKind.Decode(last)
	require.NoError(t, err)
	assert.Equal(t, last.CRC, tail.CRC, "the checksum of the records as they are before compression")

	k2, _, err := e.RestartCopy(k, packed, 0)
	require.NoError(t, err)
	require.NoError(t, equiv.Equal(k.View(), k2.View()))

	for _, bad := range [][]byte{packed[:len(packed)-7], packed[:400], append(append([]byte(nil), packed[:420]...), bytes.Repeat([]byte{0xa5}, 64)...)} {
		k3 := kernel.New(kernel.Config{DiskFrom: k})
		before := k3.Registry().Snapshot()
		_, err := ckpt.New(k3).Restart(bytes.NewReader(bad), 0)
		require.ErrorIs(t, err, errno.EINVAL)
		assert.Empty(t, before.Diff(k3.Registry().Snapshot()))
	}
}
