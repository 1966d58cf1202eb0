package vfs_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/vfs"
)

// cache reads n bytes of the page cache at off.
func cache(in *vfs.Inode, off int64, n int) []byte {
	p := make([]byte, n)
	in.ReadCache(off, p)
	return p
}

// truncations records what a mapping was told.
type truncations []int64

func (t *truncations) Truncated(size int64) { *t = append(*t, size) }

// The tail of the last page, as Linux 6.18 keeps it (measured with a
// 10-byte file mapped shared): stores past the end stay in memory only,
// survive a growth that does not reach them, and become what a growth
// that covers them writes (a hole's zeros, or the data).
func TestPageCacheTail(t *testing.T) {
	fs, _ := newFS()
	f := open(t, fs, "/f", vfs.O_RDWR|vfs.O_CREAT)
	defer f.Put()
	in := f.Dentry().Inode()
	write := func(pos int64, s string) {
		t.Helper()
		_, err := f.Seek(pos, vfs.SEEK_SET)
		require.NoError(t, err)
		_, err = f.Write([]byte(s))
		require.NoError(t, err)
	}
	write(0, "0123456789")
	assert.EqualValues(t, 1, in.CachePages())
	assert.Equal(t, []byte("789\x00\x00"), cache(in, 7, 5), "past the end reads 0")

	changes := in.Changes()
	in.WriteCache(20, []byte("T"))
	in.WriteCache(100, []byte("H"))
	assert.Greater(t, in.Changes(), changes, "a store through a shared mapping changes the file")
	assert.Equal(t, []byte("T"), cache(in, 20, 1))
	assert.EqualValues(t, 10, in.Size(), "a store past the end does not grow the file")
	assert.Equal(t, []byte("0123456789"), in.Contents())
	assert.Equal(t, 'T', rune(in.Tail()[10]))

	write(10, "abcde") // 15 bytes: byte 20 is still past the end
	assert.Equal(t, []byte("T"), cache(in, 20, 1))
	write(25, "Z") // a hole over byte 20
	assert.Equal(t, []byte{0}, cache(in, 20, 1))
	assert.Equal(t, []byte("H"), cache(in, 100, 1), "past the new end: kept")
	write(26, string(make([]byte, 74))+"C") // covers byte 100
	assert.Equal(t, []byte("C\x00"), cache(in, 100, 2))

	in.WriteCache(4000, []byte("end"))
	write(101, string(make([]byte, 5000))) // into a second page: the old tail is covered, the new page's is zero
	assert.EqualValues(t, 2, in.CachePages())
	assert.Equal(t, []byte{0, 0, 0}, cache(in, 4000, 3))
	assert.Nil(t, in.Tail())

	in.WriteCache(0, []byte("S"))
	assert.Equal(t, byte('S'), in.Contents()[0], "a store within the file is the file")
}

// Truncation drops the tail and tells every mapping; a file that only
// grows tells none.
func TestPageCacheTruncation(t *testing.T) {
	fs, _ := newFS()
	f := open(t, fs, "/f", vfs.O_RDWR|vfs.O_CREAT)
	defer f.Put()
	in := f.Dentry().Inode()
	_, err := f.Write([]byte("data"))
	require.NoError(t, err)
	in.WriteCache(10, []byte("tail"))
	var a, b truncations
	in.AddMapping(&a)
	in.AddMapping(&b)
	assert.True(t, in.HasMapping(&a))
	assert.Len(t, in.Mappings(), 2)

	g := open(t, fs, "/f", vfs.O_RDWR|vfs.O_TRUNC)
	defer g.Put()
	assert.Equal(t, truncations{0}, a)
	assert.Equal(t, truncations{0}, b)
	assert.EqualValues(t, 0, in.CachePages())
	_, err = g.Write([]byte("x"))
	require.NoError(t, err)
	assert.Equal(t, []byte("x\x00\x00\x00\x00\x00"), cache(in, 0, 6), "the old tail is gone")

	in.RemoveMapping(&a)
	assert.False(t, in.HasMapping(&a))
	require.NoError(t, fs.WriteFile("/f", []byte("new"), 0o644)) // replacing is a truncation too
	assert.Equal(t, truncations{0, 0}, b)
	assert.Equal(t, truncations{0}, a)

	in.SetTail([]byte("restored"))
	assert.Equal(t, []byte("new"), in.Contents())
	assert.Equal(t, []byte("restored"), cache(in, 3, 8))
}
