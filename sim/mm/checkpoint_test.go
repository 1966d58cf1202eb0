package mm_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// world builds a kernel from script lines.
func world(t *testing.T, script string) *kernel.Kernel {
	t.Helper()
	s, err := scenario.ParseString("world.scn", script)
	require.NoError(t, err)
	k := kernel.New(kernel.Config{})
	require.NoError(t, scenario.Replay(k, s))
	return k
}

// migrate builds a world from script lines, moves it through a checkpoint
// into a fresh kernel, checks that the copy is the same world, then runs
// the after lines on both, which must give what they expect: the copy
// behaves as the original does, copy on write and sharing included.
func migrate(t *testing.T, script, after string) {
	t.Helper()
	k := world(t, script)
	m, err := (&ckpt.Engine{Kernel: k}).Migrate(1, 0, 0)
	require.NoError(t, err)
	require.NoError(t, m.Kernel.Check())
	require.NoError(t, equiv.Equal(k.View(), m.Kernel.View()))
	a, err := scenario.ParseString("after.scn", after)
	require.NoError(t, err)
	require.NoError(t, scenario.Replay(k, a), "the original world")
	require.NoError(t, scenario.Replay(m.Kernel, a), "the restored world")
	require.NoError(t, m.Kernel.Check())
}

func TestMigrateMemory(t *testing.T) {
	for _, tc := range []struct{ name, script, after string }{
		{"private pages shared copy on write after fork", `
			spawn 1
			mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			memwrite 1 0x10000000 "parent" = 6
			fork 1 2
			fork 2 3`, `
			sameframe 1 2 0x10000000 = 1
			sameframe 2 3 0x10000000 = 1
			memwrite 2 0x10000000 "child!" = 6
			sameframe 1 2 0x10000000 = 0
			sameframe 1 3 0x10000000 = 1
			memread 1 0x10000000 6 = "parent"
			memread 3 0x10000000 6 = "parent"
			memread 2 0x10001000 2 = "\x00\x00"`},
		{"one address space shared by CLONE_VM", `
			spawn 1
			brk 1 0x1002000 = 0x1002000
			memwrite 1 0x1000000 "heap" = 4
			clone 1 2 CLONE_VM
			fork 1 3`, `
			memwrite 2 0x1000000 "HEAP" = 4
			memread 1 0x1000000 4 = "HEAP"
			memread 3 0x1000000 4 = "heap"
			brk 2 0x1003000 = 0x1003000
			brk 1 0 = 0x1003000
			brk 3 0 = 0x1002000`},
		{"a segment of shared anonymous memory across fork and mremap", `
			spawn 1
			mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			memwrite 1 0x10001000 "shared" = 6
			mremap 1 0x10000000 0 4096 MREMAP_MAYMOVE|MREMAP_FIXED 0x10100000 = 0x10100000
			fork 1 2`, `
			memwrite 2 0x10100000 "alias" = 5
			memread 1 0x10000000 5 = "alias"
			memread 2 0x10001000 6 = "shared"
			sameframe 1 2 0x10001000 = 1`},
		{"a segment VMA grown past its segment", `
			spawn 1
			mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			memwrite 1 0x10000000 "one" = 3
			mremap 1 0x10000000 4096 8192 0 = 0x10000000`, `
			memread 1 0x10000000 3 = "one"
			memread 1 0x10001000 1 = EFAULT
			vma 1 0x10001000 = "10000000-10002000 rw-s 00000000 /dev/zero (deleted)"`},
		{"file mappings, private pages copied and the page past the end", `
			spawn 1
			open 1 /data O_RDWR|O_CREAT 0644 = 0
			write 1 0 "hello, world" = 12
			mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED 0 0 = 0x10000000
			mmap 1 0x10001000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE 0 0 = 0x10001000
			memwrite 1 0x10001000 "priv" = 4
			memwrite 1 0x1000000c "tail" = 4
			close 1 0 = 0`, `
			memread 1 0x1000000c 4 = "tail"
			memread 1 0x10001000 6 = "privo,"
			memread 1 0x10002000 1 = EFAULT
			memwrite 1 0x10000000 "J" = 1
			open 1 /data O_RDONLY = 0
			read 1 0 100 = "Jello, world"
			memread 1 0x10001000 1 = "p"
			madvise 1 0x10001000 4096 MADV_DONTNEED = 0
			memread 1 0x10001000 5 = "Jello"`},
		{"a mapping holds an unlinked file", `
			spawn 1
			open 1 /gone O_RDWR|O_CREAT 0644 = 0
			write 1 0 "still here" = 10
			mmap 1 0x10000000 4096 PROT_READ MAP_SHARED 0 0 = 0x10000000
			close 1 0 = 0
			unlink 1 /gone = 0`, `
			memread 1 0x10000000 10 = "still here"
			vma 1 0x10000000 = "10000000-10001000 r--s 00000000 /gone (deleted)"`},
	} {
		t.Run(tc.name, func(t *testing.T) { migrate(t, tc.script, tc.after) })
	}
}

// dataBytes returns how many page bytes the image's PAGES records carry.
func dataBytes(t *testing.T, img []byte) int {
	recs, err := image.ReadAll(bytes.NewReader(img))
	require.NoError(t, err)
	n := 0
	for _, r := range recs {
		if r.Type == mm.RecPages {
			n += len(r.Tail)
		}
	}
	return n
}

// TestSavedOnce: the page bytes of an image are 4096 times the frames the
// world holds, however many tasks map each one.
func TestSavedOnce(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		frames int
	}{
		{"ten tasks forked after three pages were written", `
			spawn 1
			mmap 1 0x10000000 16384 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			memwrite 1 0x10000000 "a" = 1
			memwrite 1 0x10001000 "b" = 1
			memwrite 1 0x10003000 "c" = 1
			fork 1 2
			fork 1 3
			fork 1 4
			fork 1 5
			fork 1 6
			fork 1 7
			fork 1 8
			fork 1 9
			fork 1 10`, 3},
		{"a store after fork makes one more frame", `
			spawn 1
			mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			memwrite 1 0x10000000 "a" = 1
			fork 1 2
			fork 1 3
			memwrite 3 0x10000000 "b" = 1`, 2},
		{"a segment mapped twice in two tasks", `
			spawn 1
			mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			mremap 1 0x10000000 0 8192 MREMAP_MAYMOVE|MREMAP_FIXED 0x10100000 = 0x10100000
			memwrite 1 0x10000000 "x" = 1
			memread 1 0x10001000 1 = "\x00"
			fork 1 2`, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := world(t, tc.script)
			img, err := (&ckpt.Engine{Kernel: k}).Snapshot(1, 0)
			require.NoError(t, err)
			require.Equal(t, tc.frames*mm.PageSize, dataBytes(t, img))
		})
	}
}

// TestMemoryLeaks: an address space, a segment or a file that a task
// outside the container holds is refused with EBUSY, naming where the
// container holds it; a subtree checkpoint takes them as its own.
func TestMemoryLeaks(t *testing.T) {
	for _, tc := range []struct{ name, script, want string }{
		{"an address space shared with the parent", `
			spawn 1
			clone 1 2 CLONE_VM`, "mm objref 3: 1 reference from outside (3 in all, 1 inside, 1 the table's), held inside by the address space of pid 2"},
		{"a segment mapped by the parent", `
			spawn 1
			mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
			fork 1 2`, "segment objref 4: 1 reference from outside (3 in all, 1 inside, 1 the table's), held inside by pid 2 vma 0x10000000"},
		{"a mapped file the parent holds by a descriptor", `
			spawn 1
			open 1 /data O_RDWR|O_CREAT 0644 = 0
			mmap 1 0x10000000 4096 PROT_READ MAP_PRIVATE 0 0 = 0x10000000
			fork 1 2
			close 2 0 = 0`, "file objref 4: 2 references from outside (4 in all, 1 inside, 1 the table's), held inside by pid 2 vma 0x10000000"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k := world(t, tc.script)
			_, err := (&ckpt.Engine{Kernel: k}).Snapshot(2, 0)
			require.ErrorIs(t, err, errno.EBUSY)
			require.ErrorContains(t, err, tc.want)
			m, err := (&ckpt.Engine{Kernel: k}).Migrate(2, ckpt.CHECKPOINT_SUBTREE, 0)
			require.NoError(t, err)
			require.NoError(t, m.Kernel.Check())
		})
	}
}

// TestLockedFileThroughAMapping: a file holding a flock lock, reached only
// through a mapping, is refused as through a descriptor, naming the VMA.
func TestLockedFileThroughAMapping(t *testing.T) {
	k := world(t, `
		spawn 1
		open 1 /data O_RDWR|O_CREAT 0644 = 0
		mmap 1 0x10000000 4096 PROT_READ MAP_SHARED 0 0 = 0x10000000
		flock 1 0 LOCK_EX = 0
		close 1 0 = 0`)
	_, err := (&ckpt.Engine{Kernel: k}).Snapshot(1, 0)
	require.ErrorIs(t, err, errno.EBADF)
	require.ErrorContains(t, err, "vma 0x10000000")
	require.ErrorContains(t, err, "flock")
}

// hostileWorld holds every kind of mapping: private anonymous pages (pid
// 2 shares them by fork), a segment, a shared file mapping with bytes past
// the end of its file, a private file mapping with a copied page, an
// anonymous mapping without pages, and a pipe.
func hostileWorld(t *testing.T) (*kernel.Kernel, []byte) {
	k := world(t, `
		spawn 1
		open 1 /data O_RDWR|O_CREAT 0644 = 0
		write 1 0 "hello, world" = 12
		mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
		memwrite 1 0x10000000 "anon" = 4
		memwrite 1 0x10001000 "two" = 3
		mmap 1 0x10010000 8192 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10010000
		memwrite 1 0x10010000 "seg" = 3
		mmap 1 0x10020000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_FIXED_NOREPLACE 0 0 = 0x10020000
		memwrite 1 0x1002000c "tail" = 4
		mmap 1 0x10030000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_FIXED_NOREPLACE 0 0 = 0x10030000
		memwrite 1 0x10030000 "cow" = 3
		mmap 1 0x10040000 8192 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10040000
		pipe 1 = 1 2
		fork 1 2`)
	img, err := (&ckpt.Engine{Kernel: k}).Snapshot(1, 0)
	require.NoError(t, err)
	return k, img
}

// nth returns the index of the n-th record of type typ.
func nth(t *testing.T, recs []*image.Record, typ image.Type, n int) int {
	t.Helper()
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

// edit decodes the n-th record of kind k, lets f change it, and encodes it
// back in place with its tail; it returns the record's index.
func edit[T any](t *testing.T, recs []*image.Record, k *image.Kind[T], n int, f func(*T)) int {
	t.Helper()
	i := nth(t, recs, k.Type(), n)
	v, err := k.Decode(recs[i])
	require.NoError(t, err)
	f(&v)
	recs[i] = k.Record(&v, recs[i].Tail)
	return i
}

// The VMAs of pid 1 in hostileWorld, in the order of its VMA records.
const (
	vmaAnon = iota
	vmaSegment
	vmaSharedFile
	vmaPrivateFile
	vmaEmpty
)

// TestRestartRefusesHostileMemoryImages: each edit of a memory record
// makes an image no checkpoint writes (design section 2.5.4); restart
// refuses it with EINVAL, naming what is wrong, and leaves the kernel as
// it was.
func TestRestartRefusesHostileMemoryImages(t *testing.T) {
	vma := func(n int, f func(*mm.VMARecord)) func(*testing.T, []*image.Record) []*image.Record {
		return func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.VMAKind, n, f)
			return recs
		}
	}
	pages := func(n int, f func(*mm.PagesRecord)) func(*testing.T, []*image.Record) []*image.Record {
		return func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.PagesKind, n, f)
			return recs
		}
	}
	type hostile struct {
		name string
		edit func(t *testing.T, recs []*image.Record) []*image.Record
		want string
	}
	for _, tc := range []hostile{
		{"overlapping VMAs", vma(vmaSegment, func(v *mm.VMARecord) { v.Start, v.End = 0x10001000, 0x10003000 }),
			"not after the VMA that ends at 0x10002000"},
		{"unsorted VMAs", vma(vmaSegment, func(v *mm.VMARecord) { v.Start, v.End = 0xf000000, 0xf002000 }),
			"not after the VMA"},
		{"an unaligned VMA", vma(vmaEmpty, func(v *mm.VMARecord) { v.Start = 0x10040010 }),
			"not a page-aligned range below TASK_SIZE"},
		{"an empty VMA", vma(vmaEmpty, func(v *mm.VMARecord) { v.End = v.Start }),
			"not a page-aligned range below TASK_SIZE"},
		{"a VMA above TASK_SIZE", vma(vmaEmpty, func(v *mm.VMARecord) { v.Start, v.End = mm.TaskSize-0x1000, mm.TaskSize+0x1000 }),
			"not a page-aligned range below TASK_SIZE"},
		{"a VMA mergeable with the one before", func(t *testing.T, recs []*image.Record) []*image.Record {
			// Split the empty anonymous VMA in two records, as no system
			// call leaves it.
			i := edit(t, recs, mm.VMAKind, vmaEmpty, func(v *mm.VMARecord) { v.End = v.Start + 0x1000 })
			second, err := mm.VMAKind.Decode(recs[i])
			require.NoError(t, err)
			second.Start, second.End, second.PgOff = second.End, second.End+0x1000, second.PgOff+1
			recs = append(recs[:i+1], append([]*image.Record{mm.VMAKind.Record(&second, nil)}, recs[i+1:]...)...)
			edit(t, recs, mm.MMKind, 0, func(m *mm.MMRecord) { m.Vmas++ })
			return recs
		}, "mergeable with the VMA before it"},
		{"unknown protection", vma(vmaEmpty, func(v *mm.VMARecord) { v.Prot = 8 }), "protection 0x8"},
		{"unknown flags", vma(vmaEmpty, func(v *mm.VMARecord) { v.Flags |= 1 << 20 }), "flags"},
		{"a private anonymous VMA that may not write", vma(vmaEmpty, func(v *mm.VMARecord) { v.Flags = 0 }),
			"do not fit its backing"},
		{"a file and a segment", vma(vmaSharedFile, func(v *mm.VMARecord) { v.Segment = 8 }),
			"both a file and a segment"},
		{"a page offset that overflows", vma(vmaPrivateFile, func(v *mm.VMARecord) { v.PgOff = 1 << 62 }),
			"overflows"},
		{"a file mapping of a pipe", vma(vmaPrivateFile, func(v *mm.VMARecord) { v.File = 3 }),
			"maps a file that is not a regular file"},
		{"a file of unknown type", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, vfs.FileKind, 0, func(f *vfs.FileRecord) { f.FileType = 99 })
			return recs
		}, "file type"},
		{"a shared writable mapping of a file opened read-only", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, vfs.FileKind, 0, func(f *vfs.FileRecord) {
				f.Flags, f.Mode = uint32(vfs.O_LARGEFILE), uint32(vfs.FMODE_READ|vfs.FMODE_LSEEK|vfs.FMODE_PREAD|vfs.FMODE_PWRITE)
			})
			return recs
		}, "shares a file not open for writing"},
		{"a mapping of a file changed since", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, vfs.FileKind, 0, func(f *vfs.FileRecord) { f.Size++ })
			return recs
		}, "/data: changed since the checkpoint (size 12, 2 changes; saved 13, 2)"},
		{"too many VMAs", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.MMKind, 0, func(m *mm.MMRecord) { m.Vmas = 70000 })
			return recs
		}, "70000 VMAs, vm.max_map_count is 65530"},
		{"an unaligned start_brk", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.MMKind, 0, func(m *mm.MMRecord) { m.StartBrk++ })
			return recs
		}, "start_brk"},
		{"a break below start_brk", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.MMKind, 0, func(m *mm.MMRecord) { m.Brk = m.StartBrk - 0x1000 })
			return recs
		}, "start_brk"},
		{"a page outside its VMA", pages(0, func(p *mm.PagesRecord) { p.Addr = 0x10002000 }),
			"pages 0x10002000-0x10004000, where pages 0x10000000-0x10002000 may come, in order"},
		{"a run of pages past its VMA", pages(0, func(p *mm.PagesRecord) { p.Count = 3 }),
			"pages 0x10000000-0x10003000"},
		{"pages in a shared file VMA", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := edit(t, recs, mm.VMAKind, vmaSharedFile, func(v *mm.VMARecord) { v.Runs, v.Anon, v.Chain = 1, 2, 1 })
			run := mm.PagesRecord{Addr: 0x10020000, Count: 1, Kind: 1}
			return append(recs[:i+1], append([]*image.Record{mm.PagesKind.Record(&run, make([]byte, mm.PageSize))}, recs[i+1:]...)...)
		}, "page 0x10020000 is not in a private VMA"},
		{"pages twice", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.VMAKind, vmaAnon, func(v *mm.VMARecord) { v.Runs++ })
			i := nth(t, recs, mm.RecPages, 0)
			return append(recs[:i+1], recs[i:]...)
		}, "pages 0x10000000-0x10002000, where pages 0x10002000-0x10002000 may come, in order"},
		{"an unaligned page", pages(0, func(p *mm.PagesRecord) { p.Addr = 0x10000010 }),
			"pages 0x10000010"},
		{"a run of no pages", pages(0, func(p *mm.PagesRecord) { p.Count = 0 }), "a run of 0 pages"},
		{"a run too long", pages(0, func(p *mm.PagesRecord) { p.Count = 300 }), "a run of 300 pages"},
		{"a data run short of its bytes", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, mm.RecPages, 0)
			recs[i].Tail = recs[i].Tail[:100]
			return recs
		}, "a run of 2 pages of data with 100 bytes"},
		{"a frame named before it is met", pages(0, func(p *mm.PagesRecord) { p.Kind, p.First = 2, 1 }),
			"frames 1 to 2, of 0 met so far"},
		{"an unknown frame", func(t *testing.T, recs []*image.Record) []*image.Record {
			// pid 2's first run names frames of pid 1.
			i := nth(t, recs, mm.RecPages, 0)
			for ; ; i++ {
				if p, err := mm.PagesKind.Decode(recs[i]); err == nil && recs[i].Type == mm.RecPages && p.Kind == 2 {
					break
				}
			}
			p, err := mm.PagesKind.Decode(recs[i])
			require.NoError(t, err)
			p.First = 1000
			recs[i] = mm.PagesKind.Record(&p, nil)
			return recs
		}, "frames 1000 to"},
		{"a run of frames of a parent image", pages(0, func(p *mm.PagesRecord) { p.Kind = 3 }), "a run of kind 3"},
		{"a segment page beyond its size", func(t *testing.T, recs []*image.Record) []*image.Record {
			// The segment's run comes right after its SEGMENT record.
			i := nth(t, recs, mm.RecSegment, 0) + 1
			p, err := mm.PagesKind.Decode(recs[i])
			require.NoError(t, err)
			p.Addr = 2 * mm.PageSize
			recs[i] = mm.PagesKind.Record(&p, recs[i].Tail)
			return recs
		}, "pages 0x2000-0x3000, where pages 0x0-0x2000 may come"},
		{"an empty segment", func(t *testing.T, recs []*image.Record) []*image.Record {
			edit(t, recs, mm.SegmentKind, 0, func(s *mm.SegmentRecord) { s.Pages = 0 })
			return recs
		}, "a segment of 0 pages"},
		{"an anon_vma numbered ahead", vma(vmaAnon, func(v *mm.VMARecord) { v.Anon = 2 }),
			"anon_vma 2, where 1 is the next new one"},
		{"private pages without an anon_vma", vma(vmaAnon, func(v *mm.VMARecord) { v.Anon, v.Chain = 0, 0 }),
			"private pages in a VMA without an anon_vma"},
		{"an anon_vma chain without an anon_vma", vma(vmaEmpty, func(v *mm.VMARecord) { v.Anon, v.Chain = 0, 2 }),
			"anon_vma chain of 2"},
		{"a page-cache tail longer than the last page's", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := edit(t, recs, vfs.FileKind, 0, func(f *vfs.FileRecord) { f.PageTail++ })
			recs[i].Tail = append([]byte{'x'}, recs[i].Tail...)
			return recs
		}, "a page tail of 4085 bytes, where the last page has 4084 past the end"},
		{"a page-cache tail of zeros", func(t *testing.T, recs []*image.Record) []*image.Record {
			i := nth(t, recs, vfs.RecFile, 0)
			clear(recs[i].Tail[:mm.PageSize-12])
			return recs
		}, "a page tail of zeros"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, img := hostileWorld(t)
			recs, err := image.ReadAll(bytes.NewReader(img))
			require.NoError(t, err)
			recs = tc.edit(t, recs)
			want := errno.EINVAL
			if strings.Contains(tc.want, "changed since the checkpoint") {
				want = errno.ESTALE
			}
			testworld.RestartRefused(t, k, image.Encode(recs, true), want, tc.want)
		})
	}
}

// TestHostileWorldRestarts: the unedited image of the hostile tests
// restarts, so every refusal above is the edit's.
func TestHostileWorldRestarts(t *testing.T) {
	k, img := hostileWorld(t)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := ckpt.New(k2).Restart(bytes.NewReader(img), 0)
	require.NoError(t, err)
	require.NoError(t, k2.Check())
	require.NoError(t, equiv.Equal(k.View(), k2.View()))
}

// TestDebugLog: the memory area of the debug log has a line per VMA and
// per run of pages, on both sides, naming new frames and frames met before.
func TestDebugLog(t *testing.T) {
	k := world(t, `
		spawn 1
		mmap 1 0x10000000 8192 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE = 0x10000000
		memwrite 1 0x10000000 "a" = 1
		memwrite 1 0x10001000 "b" = 1
		fork 1 2`)
	for _, side := range []string{"checkpoint", "restart"} {
		var out bytes.Buffer
		log := slog.New(slog.NewTextHandler(&out, &slog.HandlerOptions{Level: slog.LevelDebug}))
		img, err := (&ckpt.Engine{Kernel: k, Log: log}).Snapshot(1, 0)
		require.NoError(t, err)
		if side == "restart" {
			out.Reset()
			e := &ckpt.Engine{Kernel: kernel.New(kernel.Config{DiskFrom: k}), Log: log}
			_, err = e.Restart(bytes.NewReader(img), 0)
			require.NoError(t, err)
		}
		for _, want := range []string{
			"msg=vma area=memory start=0x10000000 end=0x10002000 prot=rw- flags=maywrite|account pgoff=0x10000 file=0 segment=0 runs=1",
			`msg=run area=memory addr=0x10000000 pages=2 kind="new frames" "first frame"=1`,
			`msg=run area=memory addr=0x10000000 pages=2 kind="frames met before" "first frame"=1`,
		} {
			require.Contains(t, out.String(), want, side)
		}
	}
}
