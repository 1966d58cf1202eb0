package equiv_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// world runs a script on a fresh kernel.
func world(t *testing.T, script string) *kernel.Kernel { return testworld.Build(t, script) }

// base is the world every case varies: a tree of three tasks, a regular
// file, a pipe with bytes in flight, a FIFO, an unlinked file.
const base = `
spawn 1 init
mkdir 1 /d
open 1 /d/f O_RDWR|O_CREAT 0644
write 1 0 "hello"
pipe 1
write 1 2 "in flight"
mkfifo 1 /q
open 1 /q O_RDWR
open 1 /g O_RDWR|O_CREAT 0600
write 1 4 "ghostly"
unlink 1 /g
fork 1 2
clone 1 3 CLONE_FS
`

// TestEqualSeesEveryField varies the base world in one thing at a time:
// Equal must find the two worlds different and name what differs, and the
// base world must equal itself. Each saved field a restart could lose has
// a case here.
func TestEqualSeesEveryField(t *testing.T) {
	same := world(t, base)
	require.NoError(t, equiv.Equal(same.View(), world(t, base).View()))
	for _, tc := range []struct {
		name   string
		a, b   string // lines added to the base world
		freeze int    // freeze this pid of b, when not 0
		want   string // a substring of a difference line
	}{
		{name: "comm", a: "clone 1 4 a", b: "clone 1 4 b", want: "pid 4 comm: a != b"},
		{name: "comm of 15 bytes", a: `clone 1 4 "fifteen-bytes15"`, b: `clone 1 4 "fifteen-bytes1"`, want: "pid 4 comm"},
		{name: "exit code", a: "exit 2 3", b: "exit 2 4", want: "pid 2 exit code: 3 != 4"},
		{name: "zombie or live", a: "exit 2 0", want: "pid 2 state"},
		{name: "frozen", freeze: 2, want: "pid 2 state"},
		{name: "general register", b: "regs 2 r12=7", want: "pid 2 registers: r12: 0x0 != 0x7"},
		{name: "compat-mode cs", b: "regs 3 cs=0x23", want: "pid 3 registers: cs: 0x33 != 0x23"},
		{name: "gs_base", b: "regs 1 gs_base=0x1000", want: "pid 1 registers: gs_base"},
		{name: "data selector", b: "regs 1 es=0x7", want: "pid 1 registers: es"},
		{name: "x87 control word", b: "regs 1 fpu.cwd=0x27f", want: "pid 1 registers: fpu.cwd: 0x37f != 0x27f"},
		{name: "x87 status word", b: "regs 1 fpu.swd=0x4000", want: "pid 1 registers: fpu.swd"},
		{name: "x87 tag word", b: "regs 1 fpu.twd=0x80", want: "pid 1 registers: fpu.twd"},
		{name: "x87 opcode", b: "regs 1 fpu.fop=0x1", want: "pid 1 registers: fpu.fop"},
		{name: "x87 pointers", b: "regs 1 fpu.rip=0x401000 fpu.rdp=0x8", want: "pid 1 registers: fpu.rdp"},
		{name: "x87 stack", b: "regs 1 fpu.st7.hi=0x3fff", want: "pid 1 registers: fpu.st7"},
		{name: "XMM register", b: "regs 1 fpu.xmm15.hi=1", want: "pid 1 registers: fpu.xmm15"},
		{name: "mxcsr", b: "regs 1 mxcsr=0x1f81", want: "pid 1 registers: fpu.mxcsr"},
		{name: "FXSAVE padding", b: "regs 1 fpu.padding[23]=1", want: "pid 1 registers: fpu.padding[23]"},
		{name: "debug status", b: "regs 1 dr6=0xffff0ff0", want: "pid 1 registers: dr6"},
		{name: "debug control and address", b: "regs 1 dr1=0x1000 dr7=0x4", want: "pid 1 registers: dr1"},
		{name: "fd number", a: "dup2 1 0 7", b: "dup2 1 0 8", want: "pid 1 file table descriptors: [0 1 2 3 4 7] != [0 1 2 3 4 8]"},
		{name: "close-on-exec", b: "fcntl 2 0 F_SETFD FD_CLOEXEC", want: "pid 2 fd 0 close-on-exec: false != true"},
		{name: "status flags", b: "fcntl 1 0 F_SETFL O_APPEND", want: "pid 1 fd 0 file flags: O_RDWR|O_LARGEFILE != O_RDWR|O_APPEND|O_LARGEFILE"},
		{name: "position", b: "lseek 1 0 2 SEEK_SET", want: "position: 5 != 2"},
		{name: "version", a: "lseek 1 0 0 SEEK_SET", b: "lseek 1 0 1 SEEK_SET\nlseek 1 0 0 SEEK_SET", want: "version"},
		{name: "path", a: "open 1 /d/x O_RDONLY|O_CREAT", b: "open 1 /d/y O_RDONLY|O_CREAT", want: "path: /d/x != /d/y"},
		{name: "contents", b: `write 1 0 "!"`, want: "contents"},
		{name: "unlinked", b: "unlink 1 /d/f", want: "unlinked: false != true"},
		{name: "pipe bytes", b: `write 1 2 "!"`, want: "pipe buffer 0 bytes"},
		{name: "pipe buffer offset", a: `read 1 1 1`, b: `read 1 1 1` + "\n" + `read 1 1 1`, want: "buffer 0 offset: 1 != 2"},
		{name: "pipe packet mode", a: "pipe 1 O_DIRECT\nwrite 1 6 \"x\"", b: "pipe 1\nwrite 1 6 \"x\"", want: "packet: true != false"},
		{name: "pipe ends", b: "close 1 1\nclose 2 1", want: "pid 3 fd 1 file references: 3 != 1"},
		{name: "FIFO bytes", b: `write 1 3 "x"`, want: "pid 1 fd 3 file pipe buffers: 0 != 1"},
		{name: "cwd", b: "chdir 3 /d", want: "fs cwd: / != /d"},
		{name: "file table shared or copied", a: "fork 1 4", b: "clone 1 4 CLONE_FILES", want: "sharing differs"},
		{name: "fs state shared or copied", a: "clone 1 4 CLONE_FS", b: "fork 1 4", want: "sharing differs"},
		{name: "file shared or not", a: "dup 1 0", b: "open 1 /d/f O_RDWR", want: "sharing differs"},
		{name: "children order", a: "fork 1 5\nfork 1 4", b: "fork 1 4\nfork 1 5", want: "pid 1 children"},
		{name: "live objects", b: "spawn 9 other\nmkdir 9 /e", want: "tasks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, b := world(t, base+tc.a), world(t, base+tc.b)
			if tc.freeze != 0 {
				require.NoError(t, b.Freeze(tc.freeze))
			}
			err := equiv.Equal(a.View(), b.View())
			require.Error(t, err, "the worlds differ in %s", tc.name)
			d, ok := errors.AsType[*equiv.DiffError](err)
			require.True(t, ok, "%v", err)
			assert.Contains(t, strings.Join(d.Lines, "\n"), tc.want)
		})
	}
}

// TestEqualSubtreeIgnoresOutside compares a container with its restored
// copy: what tasks outside it hold (the root's parent, references to linked
// dentries) is not the container's.
func TestEqualSubtreeIgnoresOutside(t *testing.T) {
	k := world(t, base+"spawn 30 other\nopen 30 /d/f O_RDONLY\nfork 30 31\n")
	e := &ckpt.Engine{Kernel: k, Clock: testworld.Clock}
	m, err := e.Migrate(30, 0, 0)
	require.NoError(t, err)
	require.NoError(t, equiv.EqualSubtree(k.View(), m.Kernel.View(), 30))
	assert.Error(t, equiv.Equal(k.View(), m.Kernel.View()), "the whole worlds differ")
	assert.Error(t, equiv.EqualSubtree(k.View(), m.Kernel.View(), 1), "pid 1 is not in the copy")
}

// image1 returns the checkpoint of the base world with the given lines,
// rooted at pid 1, with a fixed clock.
func image1(t *testing.T, lines string) []byte {
	t.Helper()
	return testworld.Image(t, world(t, base+lines))
}

// renumber gives every objref n of an image the number 1000-n, everywhere:
// the same world, its objrefs in decreasing order.
func renumber(t *testing.T, img []byte) []byte {
	t.Helper()
	recs, err := imgedit.Read(img)
	require.NoError(t, err)
	for _, r := range recs {
		fields := []string{}
		if imgedit.Is(r, "OBJREF") {
			fields = append(fields, "Objref")
		}
		for _, f := range image.SpecOf(r.Type).Refs() {
			fields = append(fields, f.Name)
		}
		for _, f := range fields {
			if ref := imgedit.Get(r, f); ref > 0 {
				imgedit.Set(r, f, 1000-ref)
			}
		}
	}
	return image.Encode(recs, true)
}

// TestEqualImages compares images as worlds: objrefs do not matter, an
// object nothing refers to does not matter, the header does not matter;
// every field of every record does.
func TestEqualImages(t *testing.T) {
	img := image1(t, "regs 2 fpu.xmm3.lo=5 dr0=0x1000 dr7=0x1\n")
	require.NoError(t, equiv.EqualImages(img, img))
	require.NoError(t, equiv.EqualImages(img, renumber(t, img)), "objrefs renumbered")
	require.NotEqual(t, img, renumber(t, img))

	recs, err := imgedit.Read(img)
	require.NoError(t, err)
	// An fs state, introduced before the root's own, that nothing uses.
	var extra []*image.Record
	for i, r := range recs {
		if imgedit.Is(r, "FS") {
			extra = imgedit.Clone(recs[i-1 : i+1])
			imgedit.Set(extra[0], "Objref", 999)
			break
		}
	}
	require.Len(t, extra, 2)
	at := slices.IndexFunc(recs, func(r *image.Record) bool { return imgedit.Is(r, "OBJREF") })
	unused := slices.Concat(recs[:at], extra, recs[at:])
	require.NoError(t, equiv.EqualImages(img, image.Encode(unused, true)), "an unused object")

	// The header is not the world; bytes after the tail are not either.
	imgedit.Set(recs[0], "Time", 42)
	imgedit.SetBytes(recs[0], "Nodename", []byte("elsewhere"))
	other := append(image.Encode(recs, true), "after the tail"...)
	require.NoError(t, equiv.EqualImages(img, other))

	for _, tc := range []struct {
		name, lines, want string
	}{
		{"comm", "clone 1 4 x", `TREE 0: Tasks=3 Pad=0 != Tasks=4 Pad=0`},
		{"register", "regs 3 fpu.st2.hi=0x4000", "REGS 2: fpu.st2"},
		{"debug register", "regs 3 dr6=1", "dr6"},
		{"close-on-exec", "fcntl 1 0 F_SETFD FD_CLOEXEC", "CloseOnExec=1"},
		{"position", "lseek 1 0 1 SEEK_SET", "Pos=1"},
		{"flags", "fcntl 1 1 F_SETFL O_NONBLOCK", "Flags=2048"},
		{"pipe bytes", `write 1 2 "!"`, "Bytes=10"},
		{"ghost contents", `write 1 4 "!"`, `ghost 1: Mode=33152 PathLen=2 Changes=1 tail="/gghostly" != Mode=33152 PathLen=2 Changes=2 tail="/gghostly!"`},
		{"sharing", "close 2 0\ndup2 2 1 0", "file table 2 FD 0: Fd=0 CloseOnExec=0 Pad=0 File=file 1 != Fd=0 CloseOnExec=0 Pad=0 File=file 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := equiv.EqualImages(img, image1(t, "regs 2 fpu.xmm3.lo=5 dr0=0x1000 dr7=0x1\n"+tc.lines))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
		})
	}

	assert.Error(t, equiv.EqualImages(img, img[:len(img)-16]), "an image without its tail")
}
