package inspect_test

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"pgregory.net/rapid"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// toJSON returns ShowJSON's output for an image, and its error.
func toJSON(t testworld.T, img []byte) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := inspect.ShowJSON(&out, bytes.NewReader(img))
	return out.String(), err
}

// encode runs Encode on JSON text.
func encode(js string, opts inspect.EncodeOptions) ([]byte, error) {
	var out bytes.Buffer
	err := inspect.EncodeWith(&out, strings.NewReader(js), opts)
	return out.Bytes(), err
}

// allBytes is every byte value, for tails that are not text.
func allBytes() string {
	b := make([]byte, 256)
	for i := range b {
		b[i] = byte(i)
	}
	return string(b)
}

// TestJSONRoundTrip: the JSON of an image encodes back to the identical
// bytes, for images of every kind, well formed or not.
func TestJSONRoundTrip(t *testing.T) {
	withEdit := func(script string, edit func(recs []*image.Record)) func(t *testing.T) []byte {
		return func(t *testing.T) []byte {
			recs := records(t, imageOf(t, script))
			edit(recs)
			return image.Encode(recs, false)
		}
	}
	cases := []struct {
		name string
		img  func(t *testing.T) []byte
	}{
		{"demo", func(t *testing.T) []byte { return imageOf(t, testworld.Demo) }},
		{"pipe data of every byte value", func(t *testing.T) []byte {
			return imageOf(t, fmt.Sprintf("spawn 1\npipe 1 = 0 1\nwrite 1 1 %q = 256\nwrite 1 1 \"text\" = 4", allBytes()))
		}},
		{"ghost contents of every byte value, and a ghost FIFO", func(t *testing.T) []byte {
			return imageOf(t, fmt.Sprintf(`
				spawn 1
				open 1 /g O_RDWR|O_CREAT 0600 = 0
				write 1 0 %q = 256
				unlink 1 /g
				mkfifo 1 /q
				open 1 /q O_RDWR = 1
				write 1 1 "fifo bytes" = 10
				unlink 1 /q`, allBytes()))
		}},
		{"packet-mode pipe, directory, cwd, high fds, registers", func(t *testing.T) []byte {
			return imageOf(t, `
				spawn 1 "a name"
				mkdir 1 /d
				chdir 1 /d
				open 1 /d O_RDONLY|O_DIRECTORY = 0
				pipe 1 O_DIRECT = 1 2
				write 1 2 "one" = 3
				write 1 2 "two" = 3
				dup2 1 2 65535 = 65535
				regs 1 rax=-1 r15=0xffffffffffffffff rip=0x7fff0000`)
		}},
		{"error record", func(t *testing.T) []byte {
			img, err := testworld.Checkpoint(t, testworld.Build(t, "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nflock 1 0 LOCK_SH"), 1)
			require.Error(t, err)
			return img
		}},
		{"wrong checksum", func(t *testing.T) []byte {
			img := imageOf(t, testworld.Demo)
			img[len(img)-5] ^= 0x80
			return img
		}},
		{"pad fields and a comm that is not text", withEdit(testworld.Demo, func(recs []*image.Record) {
			setField(t, recs[2], "Pad", uint32(0xdeadbeef))
			setField(t, recs[3], "Comm", [16]byte{0xff, 'x', 0, 'y'})
			setField(t, recs[0], "Sysname", [64]byte{'a', '\n', 0x01})
		})},
		{"negative and huge values", withEdit(testworld.Demo, func(recs []*image.Record) {
			setField(t, recs[3], "Pid", int32(-2147483648))
			setField(t, recs[11], "Version", uint64(1<<64-1))
			setField(t, recs[11], "Pos", int64(-1))
		})},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			img := c.img(t)
			js, err := toJSON(t, img)
			require.NoError(t, err)
			require.True(t, json.Valid([]byte(js)), "valid JSON")
			got, err := encode(js, inspect.EncodeOptions{})
			require.NoError(t, err)
			assert.Equal(t, img, got)
		})
	}
}

// TestJSONRoundTripTruncated: the JSON of a cut image holds the records
// before the cut and the error; it encodes back to those records' bytes.
func TestJSONRoundTripTruncated(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	js, err := toJSON(t, img[:876])
	require.Error(t, err)
	assert.Contains(t, js, `"error": {"offset":864,"message":"image offset 864: PIPE_BUF record: image cut short: 12 of 32 bytes"}`)
	got, err := encode(js, inspect.EncodeOptions{})
	require.NoError(t, err)
	assert.Equal(t, img[:864], got)

	// Cut between two records, or empty: no record is damaged, but the
	// image has no tail, which the error says.
	for _, n := range []int{864, 0} {
		js, err := toJSON(t, img[:n])
		require.Error(t, err)
		assert.Contains(t, js, fmt.Sprintf(`"error": {"offset":%d,"message":"image offset %d: image ends without a tail or error record: cut short"}`, n, n))
		got, err := encode(js, inspect.EncodeOptions{})
		require.NoError(t, err)
		assert.Equal(t, len(img[:n]), len(got))
		assert.True(t, bytes.Equal(img[:n], got))
	}
}

func TestJSONShape(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	recs := records(t, img)
	js, err := toJSON(t, img)
	require.NoError(t, err)
	lines := strings.Split(js, "\n")
	assert.Equal(t, `{"records": [`, lines[0])
	for _, want := range []string{
		`  {"index":3,"offset":408,"type":"TASK","length":32,"fields":{"Pid":1,"PPid":0,"State":0,"ExitCode":0,"Comm":"init"},"symbols":{"State":"live"}},`,
		`  {"index":13,"offset":728,"type":"FD","length":16,"of":"file table #1","fields":{"Fd":1,"File":2,"CloseOnExec":1,"Pad":0},"marks":{"File":"ref"},"symbols":{"CloseOnExec":"cloexec"}},`,
		`  {"index":15,"offset":768,"type":"FILE","length":56,"of":"file #3","fields":{"FileType":3,"Async":0,"Flags":0,"Mode":1,"Pipe":4,"Ghost":0,"PageTail":0,"Pos":0,"Version":0,"Size":0,"Changes":0},"marks":{"Pipe":"first"},"symbols":{"FileType":"pipe","Flags":"O_RDONLY","Mode":"READ"}},`,
		`  {"index":18,"offset":864,"type":"PIPE_BUF","length":17,"of":"pipe #4","fields":{"Offset":0,"Flags":0},"tail":"in flight"},`,
		fmt.Sprintf(`  {"index":%d,"offset":%d,"type":"TAIL","length":16,"fields":{"Magic":"CKPTEND","CRC":%d,"Pad":0},"symbols":{"CRC":"matches"}}`,
			len(recs)-1, recs[len(recs)-1].Offset, binary.LittleEndian.Uint32(img[len(img)-8:])),
	} {
		assert.Contains(t, lines, want)
	}
	var doc struct {
		Records []map[string]any
		Summary inspect.Summary
	}
	require.NoError(t, json.Unmarshal([]byte(js), &doc))
	assert.Len(t, doc.Records, len(recs))
	assert.Equal(t, int64(4), doc.Summary.Count("tasks"))
	assert.Equal(t, int64(3), doc.Summary.CountBy("tasks", "live"))
	assert.Equal(t, inspect.ChecksumOK, doc.Summary.Checksum)
	regs := doc.Records[indexOf(recs, ckpt.RecRegs, 0)]
	assert.Equal(t, "REGS", regs["type"])
	assert.Equal(t, "pid 1", regs["of"])
	assert.Nil(t, regs["tail"], "the registers are fields")
	assert.Equal(t, float64(0x401000), regs["fields"].(map[string]any)["Regs.Rip"])
}

// TestEditJSON edits an image by hand, through its JSON: the file position
// of a descriptor. Without FixCRC the checksum no longer matches and restart
// refuses the image; with it, restart gives the edited world.
func TestEditJSON(t *testing.T) {
	k := testworld.Build(t, testworld.Demo)
	img, err := testworld.Checkpoint(t, k, 1)
	require.NoError(t, err)
	js, err := toJSON(t, img)
	require.NoError(t, err)
	edited := strings.Replace(js, `"Pos":12,`, `"Pos":3,`, 1)
	require.NotEqual(t, js, edited)

	stale, err := encode(edited, inspect.EncodeOptions{})
	require.NoError(t, err)
	rep, _ := inspect.Inspect(bytes.NewReader(stale))
	assert.Equal(t, inspect.ChecksumMismatch, rep.Summary.Checksum)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err = (&ckpt.Engine{Kernel: k2}).Restart(bytes.NewReader(stale), 0)
	require.Error(t, err, "restart checks the checksum")

	fixed, err := encode(edited, inspect.EncodeOptions{FixCRC: true})
	require.NoError(t, err)
	rep, _ = inspect.Inspect(bytes.NewReader(fixed))
	assert.Equal(t, inspect.ChecksumOK, rep.Summary.Checksum)
	k3 := kernel.New(kernel.Config{DiskFrom: k})
	_, err = (&ckpt.Engine{Kernel: k3}).Restart(bytes.NewReader(fixed), 0)
	require.NoError(t, err)
	pos, err := k3.Lseek(1, 0, 0, 1 /* SEEK_CUR */)
	require.NoError(t, err)
	assert.Equal(t, int64(3), pos)
}

// roundTrips checks that an image's JSON encodes back to the identical
// bytes.
func roundTrips(t *rapid.T, img []byte) {
	js, err := toJSON(t, img)
	if err != nil {
		t.Fatalf("ShowJSON: %v", err)
	}
	got, err := encode(js, inspect.EncodeOptions{})
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}
	if !bytes.Equal(img, got) {
		t.Fatalf("the image changed through JSON:\n%s", js)
	}
}

// TestJSONRoundTripProperty: the image of any small world survives JSON
// and Encode byte for byte. (Images ending in an error record: the "error
// record" case of TestJSONRoundTrip; props.Worlds takes no lock, so its
// checkpoints succeed.)
func TestJSONRoundTripProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		w := props.Worlds(props.Config{Steps: 30}).Draw(t, "world")
		roundTrips(t, testworld.Image(t, w.K))
	})
}

// TestJSONRoundTripBytesProperty: props.Worlds writes only ASCII letters
// and names every task "init", so this draws the rest of what JSON must
// carry: pipe bytes and unlinked-file contents of any value, text of any
// runes or not text at all (Show writes it as hex), and task names of any
// runes, NUL included, which the kernel cuts to 15 bytes, perhaps inside a
// rune (the comm is then written as byte values).
func TestJSONRoundTripBytesProperty(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		data := rapid.OneOf(
			rapid.SliceOfN(rapid.Byte(), 1, 300),
			rapid.Map(rapid.StringN(1, 100, 300), func(s string) []byte { return []byte(s) }))
		name := rapid.StringN(0, 20, -1)
		k := kernel.New(kernel.Config{})
		_, err := k.Spawn(1, name.Draw(t, "comm"))
		require.NoError(t, err)
		fds, err := k.Pipe2(1, rapid.SampledFrom([]int{0, vfs.O_DIRECT}).Draw(t, "pipe flags"))
		require.NoError(t, err)
		for range rapid.IntRange(0, 3).Draw(t, "writes") {
			_, err := k.Write(1, fds[1], data.Draw(t, "pipe data"))
			require.NoError(t, err)
		}
		fd, err := k.Open(1, "/g", vfs.O_RDWR|vfs.O_CREAT, 0600)
		require.NoError(t, err)
		_, err = k.Write(1, fd, data.Draw(t, "ghost contents"))
		require.NoError(t, err)
		require.NoError(t, k.Unlink(1, "/g"))
		_, err = k.Clone(1, 2, 0, name.Draw(t, "child comm"))
		require.NoError(t, err)
		roundTrips(t, testworld.Image(t, k))
	})
}

// TestEditRegisterJSON edits a register by name in the JSON: the image
// encodes back with only that register changed, restart gives the task
// that value, and diff names the register with both values.
func TestEditRegisterJSON(t *testing.T) {
	k := testworld.Build(t, "spawn 1 init\nregs 1 rbx=0x2a fs_base=0x7f0000001000 mxcsr=0x1fa0")
	img := testworld.Image(t, k)
	js, err := toJSON(t, img)
	require.NoError(t, err)
	same, err := encode(js, inspect.EncodeOptions{})
	require.NoError(t, err)
	require.Equal(t, img, same, "the named registers encode back to the identical bytes")

	edited := strings.Replace(js, `"Regs.Rbx":42,`, `"Regs.Rbx":43,`, 1)
	require.NotEqual(t, js, edited)
	fixed, err := encode(edited, inspect.EncodeOptions{FixCRC: true})
	require.NoError(t, err)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err = (&ckpt.Engine{Kernel: k2}).Restart(bytes.NewReader(fixed), 0)
	require.NoError(t, err)
	assert.Equal(t, uint64(43), k2.View().Task(1).Regs.Regs.Rbx)

	var out bytes.Buffer
	require.NoError(t, inspect.WriteDiff(&out, report(t, img), report(t, fixed), "a", "b"))
	recs := records(t, img)
	at := indexOf(recs, ckpt.RecRegs, 0)
	assert.Contains(t, out.String(), fmt.Sprintf("~ REGS       of pid 1, record %d at offset %d -> record %[1]d at offset %[2]d\n      Regs.Rbx: 0x2a -> 0x2b\n", at, recs[at].Offset))
}

// TestCompressedImage: a zstd image is shown as its plain form is (offsets
// and checksum are the plain records'); Encode, which writes records
// plain, refuses its JSON and says how to have the same image
// uncompressed, which restarts.
func TestCompressedImage(t *testing.T) {
	k := testworld.Build(t, testworld.Demo)
	plain := testworld.Image(t, k)
	img, err := (&ckpt.Engine{Kernel: k, Compress: true, Clock: runner.FixedClock(runner.DefaultTime)}).Snapshot(1, 0)
	require.NoError(t, err)
	require.Less(t, len(img), len(plain))
	rep := report(t, img)
	assert.Equal(t, inspect.ChecksumOK, rep.Summary.Checksum)
	assert.Equal(t, "zstd", rep.Records[0].Field("Flags").Symbol)
	assert.Len(t, rep.Records, len(report(t, plain).Records))

	js, err := toJSON(t, img)
	require.NoError(t, err)
	_, err = encode(js, inspect.EncodeOptions{})
	assert.EqualError(t, err, "inspect: record 0 (HEADER): Flags 65536 say the records after it are compressed (0x10000), "+
		"and Encode writes them plain: take 0x10000 out of Flags (0) for the same image uncompressed")
	got, err := encode(strings.Replace(js, `"Flags":65536,`, `"Flags":0,`, 1), inspect.EncodeOptions{FixCRC: true})
	require.NoError(t, err)
	assert.Equal(t, plain, got)
}
