package image

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/sim/errno"
)

// Test record types, numbered where no real one is: a file with a path, a
// buffer of bytes, a fixed part with a Pad field, a tail of fixed length,
// and one with a big tail.
type (
	tFile struct {
		FileType uint16 `doc:"type"`
		Pad      uint16 `doc:"zero"`
		Flags    uint32 `doc:"flags"`
		Pos      int64  `doc:"position"`
	}
	tBuf struct {
		Offset uint32 `doc:"offset"`
		Flags  uint32 `doc:"flags"`
	}
	tCount struct {
		N   uint32 `doc:"count"`
		Pad uint32 `doc:"zero"`
	}
)

var (
	tFileKind  = Define[tFile](Spec{Type: 901, Name: "T_FILE", Doc: "A test file.", Tail: TailSpec{Doc: "path", Max: MaxPath}})
	tBufKind   = Define[tBuf](Spec{Type: 902, Name: "T_BUF", Doc: "A test buffer.", Tail: TailSpec{Doc: "bytes", Min: 1, Max: PageSize}})
	tCountKind = Define[tCount](Spec{Type: 903, Name: "T_COUNT", Doc: "A test count."})
	tRegsKind  = Define[NoFixed](Spec{Type: 904, Name: "T_REGS", Doc: "A fixed-length tail.", Tail: TailSpec{Doc: "regs", Min: 792, Max: 792}})
	tBigKind   = Define[tCount](Spec{Type: 905, Name: "T_BIG", Doc: "A big tail.", Tail: TailSpec{Doc: "contents", Min: 2, Max: MaxPath + MaxContents}})
)

// sample writes a small image: header, a file record with a path, a
// buffer, and the tail.
func sample(t *testing.T) []byte {
	var b bytes.Buffer
	w := NewWriter(&b)
	require.NoError(t, HeaderKind.Write(w, &Header{Magic: HeaderMagic, Major: VersionMajor}))
	require.NoError(t, tFileKind.Write(w, &tFile{FileType: 1, Flags: 2, Pos: 5}, []byte("/a/b")))
	require.NoError(t, tBufKind.Write(w, &tBuf{Offset: 3}, []byte("hel"), []byte("lo")))
	require.NoError(t, w.WriteTail())
	return b.Bytes()
}

func TestRoundTrip(t *testing.T) {
	img := sample(t)
	assert.Zero(t, len(img)%8, "records are padded to 8 bytes")
	recs, err := ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	require.Len(t, recs, 4)
	f, err := tFileKind.Decode(recs[1])
	require.NoError(t, err)
	assert.Equal(t, tFile{FileType: 1, Flags: 2, Pos: 5}, f)
	assert.Equal(t, "/a/b", string(recs[1].Tail))
	assert.Equal(t, "hello", string(recs[2].Tail))
	assert.Equal(t, int64(len(img)-24), recs[3].Offset, "the tail is the last 24 bytes")
	tail, err := TailKind.Decode(recs[3])
	require.NoError(t, err)
	assert.Equal(t, crc32Of(img[:recs[3].Offset]), tail.CRC)
	assert.Equal(t, tail.CRC, recs[3].CRC, "the reader computes the checksum of what precedes the tail")
	assert.Equal(t, img, Encode(recs, false), "re-encoding gives the same bytes")
}

// TestFramingErrors checks that each malformed framing is refused with
// EINVAL and the offset of the record at fault.
func TestFramingErrors(t *testing.T) {
	img := sample(t)
	fileOff := 8 + 360 // the header record: an 8-byte header and a 360-byte fixed part
	set32 := func(off int, v uint32) []byte {
		b := append([]byte(nil), img...)
		binary.LittleEndian.PutUint32(b[off:], v)
		return b
	}
	cases := []struct {
		name string
		img  []byte
		want string
	}{
		{"unknown type", set32(fileOff, 999), "image offset 368: unknown record type 999"},
		{"too long", set32(fileOff+4, 16+MaxPath+1), "image offset 368: T_FILE record: length 4112, allowed 16..4111"},
		{"too short", set32(fileOff+4, 8), "T_FILE record: length 8, allowed 16..4111"},
		{"cut in a header", img[:fileOff+3], "image offset 368: image cut short: 3 of 8 bytes"},
		{"cut in a payload", img[:fileOff+20], "image offset 368: T_FILE record: image cut short: 20 of 32 bytes"},
		{"non-zero padding", func() []byte { b := append([]byte(nil), img...); b[fileOff+8+16+4] = 1; return b }(), "T_FILE record: padding is not zero"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ReadAll(bytes.NewReader(c.img))
			require.Error(t, err)
			assert.ErrorIs(t, err, errno.EINVAL)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestDecodeChecksPadFields(t *testing.T) {
	rec := tCountKind.Record(&tCount{N: 1, Pad: 7}, nil)
	_, err := tCountKind.Decode(rec)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.Contains(t, err.Error(), "Pad is not zero")
	var v tCount
	err = rec.Decode(&v)
	assert.ErrorIs(t, err, errno.EINVAL, "the reflecting decoder checks them too")
}

func TestWriterRefusesWhatTheFormatForbids(t *testing.T) {
	w := NewWriter(io.Discard)
	assert.Error(t, w.WriteRecord(&Spec{Type: 99, Name: "X", Doc: "x"}, nil), "unregistered type")
	assert.Error(t, w.WriteRecord(tFileKind.Spec(), make([]byte, 8)), "wrong fixed size")
	assert.Error(t, tRegsKind.Write(w, &NoFixed{}, make([]byte, 791)), "tail too short")
	assert.Error(t, tBufKind.Write(w, &tBuf{}, make([]byte, PageSize+1)), "tail too long")
	assert.Error(t, tBufKind.Write(w, &tBuf{}, make([]byte, PageSize), []byte("x")), "tail too long in pieces")
	assert.NoError(t, tBufKind.Write(w, &tBuf{}, []byte("x")))
}

type failingWriter struct{ n int }

func (f *failingWriter) Write(p []byte) (int, error) {
	if f.n -= len(p); f.n < 0 {
		return 0, errors.New("disk full")
	}
	return len(p), nil
}

func TestWriterErrorSticks(t *testing.T) {
	w := NewWriter(&failingWriter{n: 20})
	require.NoError(t, tCountKind.Write(w, &tCount{}))
	err := tCountKind.Write(w, &tCount{})
	require.Error(t, err)
	assert.Contains(t, err.Error(), "offset 16")
	assert.Equal(t, err, tCountKind.Write(w, &tCount{}), "later writes return the first error")
}

// TestStreamProperty writes random records and reads them back: the same
// records, every offset a multiple of 8, the tail's checksum right.
func TestStreamProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		var b bytes.Buffer
		w := NewWriter(&b)
		var tails [][]byte
		for i := rapid.IntRange(0, 20).Draw(t, "records"); i > 0; i-- {
			tail := rapid.SliceOfN(rapid.Byte(), 1, PageSize).Draw(t, "tail")
			off := rapid.Uint32Range(0, uint32(PageSize-len(tail))).Draw(t, "offset")
			cut := rapid.IntRange(0, len(tail)).Draw(t, "cut") // the tail in two pieces
			require.NoError(t, tBufKind.Write(w, &tBuf{Offset: off}, tail[:cut], tail[cut:]))
			tails = append(tails, tail)
		}
		require.NoError(t, w.WriteTail())
		recs, err := ReadAll(bytes.NewReader(b.Bytes()))
		require.NoError(t, err)
		require.Len(t, recs, len(tails)+1)
		for i, tail := range tails {
			require.Equal(t, tail, recs[i].Tail)
			require.Zero(t, recs[i].Offset%8)
		}
		tl, err := TailKind.Decode(recs[len(tails)])
		require.NoError(t, err)
		require.Equal(t, recs[len(tails)].CRC, tl.CRC)
	})
}

// bytesAllocated returns the bytes fn allocates on the heap.
func bytesAllocated(fn func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	fn()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// A record's declared length is a claim, not a fact: a GHOST record that
// says 16 MiB follows in a 2.7 KB image used to make the reader allocate
// the whole 16 MiB before it found the image cut short (6,000 times the
// input; issue 11, fault 1). Memory must track the bytes present.
func TestReaderAllocatesWhatArrivesNotWhatIsClaimed(t *testing.T) {
	for _, present := range []int{0, 100, 2700, 200 << 10} {
		var img bytes.Buffer
		hdr := make([]byte, 8)
		binary.LittleEndian.PutUint32(hdr, uint32(tBigKind.Type()))
		binary.LittleEndian.PutUint32(hdr[4:], uint32(tBigKind.Spec().FixedSize()+MaxPath+MaxContents))
		img.Write(hdr)
		img.Write(make([]byte, present))
		var err error
		n := bytesAllocated(func() { _, err = NewReader(bytes.NewReader(img.Bytes())).Next() })
		require.ErrorContains(t, err, "image cut short")
		assert.LessOrEqual(t, n, uint64(3*present+256<<10),
			"reading a cut record with %d bytes present allocated %d bytes", present, n)
	}
}
