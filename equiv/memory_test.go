package equiv_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
)

// memoryWorld: pid 1 wrote private pages and a segment, then forked pid 2
// (pages shared copy on write) and cloned pid 3 (CLONE_VM: one address
// space); a file is mapped shared, with bytes stored past its end.
const memoryWorld = `
spawn 1
open 1 /data O_RDWR|O_CREAT 0644 = 0
write 1 0 "hello" = 5
mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
memwrite 1 0x10000000 "one" = 3
memwrite 1 0x10001000 "two" = 3
mmap 1 0x10010000 8192 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10010000
memwrite 1 0x10010000 "seg" = 3
mmap 1 0x10020000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_FIXED_NOREPLACE 0 0 = 0x10020000
memwrite 1 0x10020008 "tail" = 4
fork 1 2
clone 1 3 CLONE_VM
`

// TestMemoryDifferences: each change to the restored world's view of its
// memory is a difference Equal names, with its path.
func TestMemoryDifferences(t *testing.T) {
	s, err := scenario.ParseString("world.scn", memoryWorld)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	m, err := (&ckpt.Engine{Kernel: k}).Migrate(1, 0, 0)
	require.NoError(t, err)
	require.NoError(t, equiv.Equal(k.View(), m.Kernel.View()))

	mmOf := func(v *kernel.View, pid int) kernel.MMView { return v.MMs[v.Task(pid).MM] }
	setMM := func(v *kernel.View, pid int, f func(*kernel.MMView)) {
		mv := mmOf(v, pid)
		mv.VMAs = append([]kernel.VMAView(nil), mv.VMAs...)
		mv.Pages = append([]kernel.PageView(nil), mv.Pages...)
		f(&mv)
		v.MMs[mv.ID] = mv
	}
	for _, tc := range []struct {
		name string
		edit func(v *kernel.View)
		want string
	}{
		{"copy-on-write sharing lost", func(v *kernel.View) {
			setMM(v, 2, func(m *kernel.MMView) { m.Pages[0].Frame += 1000 })
		}, "pid 2 address space page 0x10000000 frame: sharing differs"},
		{"a page's bytes", func(v *kernel.View) {
			setMM(v, 1, func(m *kernel.MMView) { m.Pages[1].Data = []byte("TWO") })
		}, `pid 1 address space page 0x10001000 bytes: "two`},
		{"a page lost", func(v *kernel.View) {
			setMM(v, 1, func(m *kernel.MMView) { m.Pages = m.Pages[1:] })
		}, "pid 1 address space page 0x10000000 has a frame: true != false"},
		{"a map count", func(v *kernel.View) {
			setMM(v, 1, func(m *kernel.MMView) { m.Pages[0].MapCount++ })
		}, "pid 1 address space page 0x10000000 map count: 2 != 3"},
		{"protection", func(v *kernel.View) {
			setMM(v, 1, func(m *kernel.MMView) { m.VMAs[0].Prot = mm.ProtRead })
		}, "pid 1 address space vma 0x10000000 protection: rw- != r--"},
		{"the break", func(v *kernel.View) {
			setMM(v, 1, func(m *kernel.MMView) { m.Brk += 4096 })
		}, "pid 1 address space break: 0x1000000 != 0x1001000"},
		{"an anon_vma", func(v *kernel.View) {
			setMM(v, 2, func(m *kernel.MMView) { m.VMAs[0].Anon = 1 })
		}, "pid 2 address space vma 0x10000000 anon_vma: sharing differs"},
		{"CLONE_VM sharing lost", func(v *kernel.View) {
			mv := mmOf(v, 3)
			mv.ID += 1000
			v.MMs[mv.ID] = mv
			v.Task(3).MM = mv.ID
		}, "pid 3 address space: sharing differs"},
		{"a segment page", func(v *kernel.View) {
			seg := v.Segments[mmOf(v, 1).VMAs[1].Segment]
			seg.Frames = nil
			v.Segments[seg.ID] = seg
		}, "pid 1 address space vma 0x10010000 segment page 0x0 has a frame: true != false"},
		{"a segment's identity", func(v *kernel.View) {
			setMM(v, 2, func(m *kernel.MMView) { m.VMAs[1].Segment += 1000 })
			v.Segments[mmOf(v, 2).VMAs[1].Segment] = v.Segments[mmOf(v, 1).VMAs[1].Segment]
		}, "pid 2 address space vma 0x10010000 segment: sharing differs"},
		{"bytes past the end of a mapped file", func(v *kernel.View) {
			f := v.Files[mmOf(v, 1).VMAs[2].File]
			in := *f.Inode
			in.Tail = nil
			f.Inode = &in
			v.Files[f.ID] = f
		}, "pid 1 fd 0 file bytes past the end in its last page"},
		{"one frame more alive", func(v *kernel.View) {
			v.Live = append(v.Live, v.Live[len(v.Live)-1])
			v.Live[len(v.Live)-1].Kind = kref.Frame
		}, "live frame objects"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := m.Kernel.View()
			tc.edit(b)
			err := equiv.Equal(k.View(), b)
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
			require.Equal(t, 1, strings.Count(err.Error(), "\n"), "one difference")
		})
	}
}
