package inspect_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/internal/testworld"
	"github.com/ckptsim/ckptsim/sim/errno"
)

// show returns Show's output for an image, and its error.
func show(t *testing.T, img []byte) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := inspect.Show(&out, bytes.NewReader(img))
	return out.String(), err
}

// TestShowDemo pins down lines of the demo image: offsets, names, symbolic
// fields, first and ref marks, tail parts, and the summary. The records
// after the first task's file table and fs state are matched without their
// offsets, which every record type a format adds before them moves.
func TestShowDemo(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	out, err := show(t, img)
	require.NoError(t, err)
	lines := strings.Split(out, "\n")
	for _, want := range []string{
		"  offset  record      length  of              fields",
		`       0  HEADER         360                  Magic="CKPTSIM" Major=1 Minor=3 Flags=0 Time=1700000000000000000(2023-11-14T22:13:20Z) SimVersion="0.1" Sysname="Linux" Nodename="ckptsim" Release="6.18.0-ckptsim" Version="#1 ckptsim 0.1" Machine="x86_64"`,
		`     368  ARCH            16                  Arch=1(x86-64) RegsSize=216 FPUSize=512 DebugSize=64`,
		`     408  TASK            32                  Pid=1 PPid=0 State=0(live) ExitCode=0 Comm="init"`,
		`     448  TASK            32                  Pid=2 PPid=1 State=0(live) ExitCode=0 Comm="worker"`,
		`     528  TASK            32                  Pid=4 PPid=1 State=1(zombie) ExitCode=7 Comm="init"`,
		`     568  PIDNS            8                  LastPid=0`,
		`     584  OBJREF           8  pid 1           ObjType=1(file table) Objref=1(first)`,
		// An empty page tail is left out: PageTail=0 says so.
		`     632  FILE            61  file #2         FileType=1(regular) Async=0 Flags=0100002(O_RDWR|O_LARGEFILE) Mode=0x1f(READ|WRITE|LSEEK|PREAD|PWRITE) Pipe=0 Ghost=0 PageTail=0 Pos=12 Version=0 Size=12 Changes=1 path="/data"`,
		// The dup'd descriptor refers to the file its original met first.
		`     704  FD              16  file table #1   Fd=0 File=2(first) CloseOnExec=0`,
		`     728  FD              16  file table #1   Fd=1 File=2(ref) CloseOnExec=1(cloexec)`,
		// The pipe's state follows the first file open on it: that
		// file's Pipe field is the pipe's first encounter; the other
		// end's is a reference.
		`     768  FILE            56  file #3         FileType=3(pipe) Async=0 Flags=0(O_RDONLY) Mode=0x1(READ) Pipe=4(first) Ghost=0 PageTail=0 Pos=0 Version=0 Size=0 Changes=0`,
		`     832  OBJREF           8  file #3         ObjType=4(pipe) Objref=4(first)`,
		`     864  PIPE_BUF        17  pipe #4         Offset=0 Flags=0 data="in flight"`,
		`     936  FILE            56  file #5         FileType=3(pipe) Async=0 Flags=01(O_WRONLY) Mode=0x2(WRITE) Pipe=4(ref) Ghost=0 PageTail=0 Pos=0 Version=0 Size=0 Changes=0`,
		`    1056  GHOST           38  ghost #7        Mode=0100600(regular 0600) PathLen=8 Changes=1 path="/scratch" contents="ghost contents"`,
		`    1104  FILE            56  file #6         FileType=1(regular) Async=0 Flags=0100002(O_RDWR|O_LARGEFILE) Mode=0x1f(READ|WRITE|LSEEK|PREAD|PWRITE) Pipe=0 Ghost=7(first) PageTail=0 Pos=14 Version=0 Size=14 Changes=1`,
		`    1208  FS              10  fs state #8     RootLen=1 CwdLen=1 root="/" cwd="/"`,
		`    1232  TASK_OBJS        8  pid 1           FileTable=1(first) FS=8(first)`,
		// From here on, without offsets. Each task's address space
		// comes after its TASK_OBJS, then its TASK_MM.
		`OBJREF           8  pid 1           ObjType=6(mm) Objref=9(first)`,
		`MM              24  mm #9           StartBrk=0x1000000 Brk=0x1000000 Vmas=0`,
		`TASK_MM          8  pid 1           MM=9(first)`,
		`REGS           792  pid 1           Regs.OrigRax=0x3b Regs.Rip=0x401000 Regs.Cs=0x33 Regs.Eflags=0x202 Regs.Rsp=0x7fffffffe000 Regs.Ss=0x2b FPU.Cwd=0x37f FPU.Mxcsr=0x1f80 FPU.MxcsrMask=0xffff (130 more fields, all zero)`,
		// The CLONE_FILES worker shares pid 1's table; the forked child
		// has its own table of the same files.
		`TASK_OBJS        8  pid 2           FileTable=1(ref) FS=10(first)`,
		`FD              16  file table #12  Fd=0 File=2(ref) CloseOnExec=0`,
		`TASK_OBJS        8  pid 3           FileTable=12(first) FS=13(first)`,
		`TASK_OBJS        8  pid 4           FileTable=0 FS=0`,
		`TASK_MM          8  pid 4           MM=0`,
		fmt.Sprintf(`TAIL            16                  Magic="CKPTEND" CRC=0x%08x(matches)`, binary.LittleEndian.Uint32(img[len(img)-8:])),
		`summary:`,
		`  tasks: 4 (live 3, zombie 1)`,
		`  file tables: 2`,
		`  descriptors: 8`,
		`  fs states: 3`,
		`  files: 4 (pipe 2, regular 2)`,
		`  pipes: 1`,
		`  pipe bytes: 9`,
		`  unlinked files: 1`,
		`  socket pairs: 0`,
		`  address spaces: 3`,
		`  VMAs: 0`,
		fmt.Sprintf(`  checksum: matches (0x%08x)`, binary.LittleEndian.Uint32(img[len(img)-8:])),
		`    REGS            4 records      3200 bytes`,
		`    MM              3 records        96 bytes`,
		fmt.Sprintf(`    total          %d records      %d bytes`, len(records(t, img)), len(img)),
	} {
		if want[0] == ' ' {
			assert.Contains(t, lines, want)
		} else {
			assert.Contains(t, withoutOffsets(lines), want)
		}
	}
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	s := rep.Summary
	assert.Len(t, lines, 1+len(rep.Records)+1+len(s.Counts)+2+len(s.Sizes)+1+1,
		"a heading, the records, the summary (its counts, the checksum, the sizes by record type and the total), and the final newline")
}

// withoutOffsets returns Show's lines with the offset column cut.
func withoutOffsets(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimLeft(strings.TrimLeft(l, " "), "0123456789")
		out[i] = strings.TrimPrefix(out[i], "  ")
	}
	return out
}

func TestInspectSummary(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	s := rep.Summary
	var counts []string
	for _, c := range s.Counts {
		counts = append(counts, c.String())
	}
	assert.Equal(t, []string{"4 tasks (3 live, 1 zombie)", "2 file tables", "8 descriptors", "3 fs states",
		"4 files (2 pipe, 2 regular)", "1 pipe", "9 pipe bytes", "1 unlinked file", "0 socket pairs", "0 socket bytes",
		"3 address spaces", "0 VMAs", "0 page bytes", "0 segments"}, counts)
	assert.Equal(t, int64(4), s.Count("tasks"))
	assert.Equal(t, int64(1), s.CountBy("tasks", "zombie"))
	assert.Equal(t, int64(0), s.Count("no such count"))
	assert.Equal(t, inspect.ChecksumOK, s.Checksum)
	assert.Equal(t, int64(len(img)), s.Total)
	var sum int64
	for _, ts := range s.Sizes {
		sum += ts.Bytes
	}
	assert.Equal(t, s.Total, sum, "the sizes by type add up to the image")
	assert.Contains(t, s.Sizes, inspect.TypeSize{Type: "FD", Count: 8, Bytes: 8 * 24})
	for i := 1; i < len(s.Sizes); i++ {
		assert.Less(t, image.SpecNamed(s.Sizes[i-1].Type).Type, image.SpecNamed(s.Sizes[i].Type).Type, "by type number")
	}
}

// objectLines describes the objects the walker found: each with its task,
// the object it is nested in, and the types of the records of its state.
func objectLines(rep *inspect.Report) []string {
	var objs []string
	for _, o := range rep.Objects {
		s := o.Name() + " of " + o.Task.Name()
		if o.Parent != nil {
			s += " in " + o.Parent.Name()
		}
		objs = append(objs, s+": "+typeNames(o.State))
	}
	return objs
}

// typeNames lists records' types: "MM VMA PAGES".
func typeNames(recs []*inspect.Record) string {
	var names []string
	for _, r := range recs {
		names = append(names, r.Type.String())
	}
	return strings.Join(names, " ")
}

// TestWalkDemo checks the structure the walker finds in the demo image:
// each object with the records of its state, nested where it was met
// first, and each task with its own records and the objects it met first.
func TestWalkDemo(t *testing.T) {
	rep, err := inspect.Inspect(bytes.NewReader(imageOf(t, testworld.Demo)))
	require.NoError(t, err)
	require.Empty(t, rep.Faults)
	assert.Equal(t, []string{
		"file table #1 of pid 1: FILE_TABLE FD FD FD FD FD",
		"file #2 of pid 1 in file table #1: FILE",
		"file #3 of pid 1 in file table #1: FILE",
		"pipe #4 of pid 1 in file #3: PIPE PIPE_BUF",
		"file #5 of pid 1 in file table #1: FILE",
		"file #6 of pid 1 in file table #1: FILE",
		"ghost #7 of pid 1 in file #6: GHOST",
		"fs state #8 of pid 1: FS",
		"mm #9 of pid 1: MM",
		"fs state #10 of pid 2: FS",
		"mm #11 of pid 2: MM",
		"file table #12 of pid 3: FILE_TABLE FD FD FD",
		"fs state #13 of pid 3: FS",
		"mm #14 of pid 3: MM",
	}, objectLines(rep))
	var tasks []string
	for _, tk := range rep.Tasks {
		s := fmt.Sprintf("%s %s %s %d:", tk.Name(), tk.Comm, tk.State, tk.ExitCode)
		for _, r := range tk.Records {
			s += " " + r.Type.String()
		}
		for _, o := range tk.Objects {
			s += " " + o.Name()
		}
		if tk.Parent != nil {
			s += " child of " + tk.Parent.Name()
		}
		tasks = append(tasks, s)
	}
	assert.Equal(t, []string{
		"pid 1 init live 0: TASK_OBJS TASK_MM REGS file table #1 fs state #8 mm #9",
		"pid 2 worker live 0: TASK_OBJS TASK_MM REGS fs state #10 mm #11 child of pid 1",
		"pid 3 init live 0: TASK_OBJS TASK_MM REGS file table #12 fs state #13 mm #14 child of pid 1",
		"pid 4 init zombie 7: TASK_OBJS TASK_MM REGS child of pid 1",
	}, tasks)
	assert.Len(t, rep.Tasks[0].Children, 3)
	// Every record is the stream's, the tree's, a task's or an object's.
	for _, r := range rep.Records {
		if r.Object != nil {
			assert.Equal(t, r.Object.Task, r.Task, "record %d", r.Index)
		}
	}
	assert.Equal(t, "file table #1", rep.Records[12].Owner(), "an FD is its table's")
	assert.Equal(t, "pid 1", rep.Records[8].Owner(), "an OBJREF is where its object was met")
}

// TestWalkMemory: an address space's records are its state, PAGES too
// (the record type has no object type of its own: it is a VMA's or a
// segment's), so that a task's records stay its own and the next task's
// begin where they do. The segment and the file its VMAs meet first are
// nested in the address space; the thread's TASK_MM names pid 1's.
func TestWalkMemory(t *testing.T) {
	rep, err := inspect.Inspect(bytes.NewReader(imageOf(t, testworld.Memory)))
	require.NoError(t, err)
	require.Empty(t, rep.Faults)
	assert.Equal(t, []string{
		"file table #1 of pid 1: FILE_TABLE",
		"fs state #2 of pid 1: FS",
		"mm #3 of pid 1: MM VMA PAGES VMA VMA",
		"segment #4 of pid 1 in mm #3: SEGMENT PAGES",
		"file #5 of pid 1 in mm #3: FILE",
		"file table #6 of pid 2: FILE_TABLE",
		"fs state #7 of pid 2: FS",
		"mm #8 of pid 2: MM VMA PAGES VMA VMA",
		"file table #9 of pid 3: FILE_TABLE",
		"fs state #10 of pid 3: FS",
	}, objectLines(rep))
	for _, tk := range rep.Tasks {
		assert.Equal(t, "TASK_OBJS TASK_MM REGS", typeNames(tk.Records), tk.Name())
	}
	var mm []string
	for _, ref := range rep.Objects[2].Refs {
		mm = append(mm, ref.Record.Owner()+" "+ref.Field.Name+"="+ref.Field.Mark)
	}
	assert.Equal(t, []string{"pid 1 MM=first", "pid 3 MM=ref"}, mm, "one address space, two tasks")
	assert.Equal(t, int64(4096+4096), rep.Summary.Count("page bytes"), "the frame fork shares is saved once")
	assert.Equal(t, int64(6), rep.Summary.Count("VMAs"))

	// A task's REGS record written right after its address space's pages
	// (a format that reordered them) is still the task's: the Order
	// section places REGS, so it is no part of an object.
	recs := records(t, imageOf(t, testworld.Memory))
	i, j := indexOf(recs, ckpt.RecTaskMM, 0), indexOf(recs, ckpt.RecRegs, 0)
	require.Equal(t, i+1, j)
	recs[i], recs[j] = recs[j], recs[i]
	rep, err = inspect.Inspect(bytes.NewReader(image.Encode(recs, true)))
	require.NoError(t, err)
	require.Empty(t, rep.Faults)
	assert.Equal(t, "pid 1", rep.Records[i].Owner())
	assert.Equal(t, "REGS", rep.Records[i].Type.String())
	assert.Equal(t, "MM VMA PAGES VMA VMA", typeNames(rep.Objects[2].State), "the address space's state ends where it did")
}

// TestShowAll prints every field with TextOptions.All: the registers that
// are zero, and the pad fields.
func TestShowAll(t *testing.T) {
	img := imageOf(t, "spawn 1\nregs 1 rbx=0x2a fs_base=0x7f0000001000 mxcsr=0x1fa0")
	out, err := show(t, img)
	require.NoError(t, err)
	assert.Contains(t, out, "Regs.Rbx=0x2a Regs.OrigRax=0x3b Regs.Rip=0x401000 Regs.Cs=0x33 Regs.Eflags=0x202 Regs.Rsp=0x7fffffffe000 Regs.Ss=0x2b Regs.FsBase=0x7f0000001000 FPU.Cwd=0x37f FPU.Mxcsr=0x1fa0 FPU.MxcsrMask=0xffff (128 more fields, all zero)\n")
	assert.Contains(t, out, "FileTable=1(first) FS=2(first)\n")
	var all bytes.Buffer
	require.NoError(t, inspect.ShowWith(&all, bytes.NewReader(img), inspect.TextOptions{All: true}))
	assert.Contains(t, all.String(), "Regs.R15=0x0 Regs.R14=0x0")
	assert.Contains(t, all.String(), "FPU.Padding[23]=0x0 Debug[0]=0x0")
	assert.NotContains(t, all.String(), "more fields")
	assert.Contains(t, all.String(), "Tasks=1 Pad=0\n")
}

// TestMarks checks the first/ref marks of every objref field of the demo
// image: each objref's OBJREF record is its introduction, the field that met
// it first is marked first, and every later field ref.
func TestMarks(t *testing.T) {
	rep, err := inspect.Inspect(bytes.NewReader(imageOf(t, testworld.Demo)))
	require.NoError(t, err)
	var got []string
	for _, r := range rep.Records {
		for _, f := range r.Fields {
			if f.Mark != "" {
				got = append(got, r.Type.String()+"."+f.Name+"="+f.Mark+"#"+strconv.FormatInt(f.Int(), 10))
			}
		}
	}
	assert.Equal(t, []string{
		"OBJREF.Objref=first#1",
		"OBJREF.Objref=first#2", "FD.File=first#2", "FD.File=ref#2",
		"OBJREF.Objref=first#3", "FILE.Pipe=first#4", "OBJREF.Objref=first#4", "FD.File=first#3",
		"OBJREF.Objref=first#5", "FILE.Pipe=ref#4", "FD.File=first#5",
		"OBJREF.Objref=first#6", "OBJREF.Objref=first#7", "FILE.Ghost=first#7", "FD.File=first#6",
		"OBJREF.Objref=first#8", "TASK_OBJS.FileTable=first#1", "TASK_OBJS.FS=first#8",
		"OBJREF.Objref=first#9", "TASK_MM.MM=first#9",
		"OBJREF.Objref=first#10", "TASK_OBJS.FileTable=ref#1", "TASK_OBJS.FS=first#10",
		"OBJREF.Objref=first#11", "TASK_MM.MM=first#11",
		"OBJREF.Objref=first#12", "FD.File=ref#2", "FD.File=ref#2", "FD.File=ref#3",
		"OBJREF.Objref=first#13", "TASK_OBJS.FileTable=first#12", "TASK_OBJS.FS=first#13",
		"OBJREF.Objref=first#14", "TASK_MM.MM=first#14",
	}, got)
}

// TestDanglingMark marks a reference to an objref no OBJREF record
// introduces.
func TestDanglingMark(t *testing.T) {
	recs := records(t, imageOf(t, testworld.Demo))
	setField(t, recs[12], "File", 99) // the first FD record
	out, err := show(t, image.Encode(recs, true))
	require.NoError(t, err, "inspect shows what is there; restart is the one to refuse it")
	assert.Contains(t, out, "     704  FD              16  file table #1   Fd=0 File=99(dangling) CloseOnExec=0\n")
	assert.Contains(t, out, "     728  FD              16  file table #1   Fd=1 File=2(first) CloseOnExec=1(cloexec)\n")
	rep, err := inspect.Inspect(bytes.NewReader(image.Encode(recs, true)))
	require.NoError(t, err)
	require.Len(t, rep.Faults, 1, "the walker notes what it cannot follow")
	assert.EqualError(t, rep.Faults[0], "image offset 704: FD record: File names objref 99, which no OBJREF record of a file introduces")
}

func TestShowErrorRecord(t *testing.T) {
	k := testworld.Build(t, "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nflock 1 0 LOCK_EX")
	img, err := testworld.Checkpoint(t, k, 1)
	require.ErrorIs(t, err, errno.EBADF)
	out, err := show(t, img)
	require.NoError(t, err, "an image that ends in an error record is well formed")
	assert.Contains(t, out, "     480  FILE_TABLE       8  file table #1  Fds=1\n"+
		"     496  OBJREF           8  file table #1  ObjType=3(file) Objref=2(first)\n"+
		`     512  ERROR          145                 message="pid 1: objhash: checkpoint file table objref 1: fd 0: objhash: checkpoint file objref 2: the file holds a flock lock: EBADF (bad file descriptor)"`+"\n")
	assert.Contains(t, out, "  checksum: missing (no tail record)\n")
	assert.Contains(t, out, `  checkpoint failed: "pid 1: objhash: checkpoint file table objref 1: fd 0: objhash: checkpoint file objref 2: the file holds a flock lock: EBADF (bad file descriptor)"`)
}

func TestShowChecksumMismatch(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	crc := binary.LittleEndian.Uint32(img[len(img)-8:])
	img[len(img)-8] ^= 0xff // the CRC field of the tail
	out, err := show(t, img)
	require.NoError(t, err)
	assert.Contains(t, out, fmt.Sprintf(`%8d  TAIL            16                  Magic="CKPTEND" CRC=0x%08x(mismatch: computed 0x%08x)`, len(img)-24, crc^0xff, crc))
	assert.Contains(t, out, fmt.Sprintf("  checksum: MISMATCH: stored 0x%08x, computed 0x%08x\n", crc^0xff, crc))
}

// TestShowTruncated cuts the demo image inside the PIPE_BUF record: Show
// prints the records before it, then the error with the record's offset,
// and returns the error.
func TestShowTruncated(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	out, err := show(t, img[:876])
	require.Error(t, err)
	assert.ErrorIs(t, err, errno.EINVAL)
	var ie *image.Error
	require.ErrorAs(t, err, &ie)
	assert.Equal(t, int64(864), ie.Offset)
	assert.Contains(t, out, "     832  OBJREF           8  file #3        ObjType=4(pipe) Objref=4(first)\n"+
		"     848  PIPE             8  pipe #4        Buffers=1 Bytes=9\nerror: image offset 864: PIPE_BUF record: image cut short: 12 of 32 bytes\nsummary:\n")
	assert.Contains(t, out, "  pipes: 1\n  pipe bytes: 0\n")
	assert.Contains(t, out, "  checksum: missing (no tail record)\n")
	assert.Contains(t, out, "    total          18 records       864 bytes\n")
}

func TestShowMalformed(t *testing.T) {
	img := imageOf(t, testworld.Demo)
	binary.LittleEndian.PutUint32(img[392:], 77) // the TREE record's type
	out, err := show(t, img)
	require.EqualError(t, err, "image offset 392: unknown record type 77")
	assert.Contains(t, out, "  offset  record      length  fields\n", "no record belongs to anything: no of column")
	assert.Contains(t, out, "     368  ARCH            16  Arch=1(x86-64) RegsSize=216 FPUSize=512 DebugSize=64\nerror: image offset 392: unknown record type 77\n")
}

// TestShowTails checks the renderings of tails: long pipe data cut with its
// length, bytes that are not text escaped, a non-text comm in hex.
func TestShowTails(t *testing.T) {
	img := imageOf(t, `
		spawn 1 init
		pipe 1 = 0 1
		write 1 1 "`+strings.Repeat("0123456789", 10)+`" = 100
		pipe 1 = 2 3
		write 1 3 "\x00\xff\n" = 3`)
	recs := records(t, img)
	setField(t, recs[3], "Comm", [16]byte{'a', 0, 'b'})
	out, err := show(t, image.Encode(recs, true))
	require.NoError(t, err)
	assert.Contains(t, out, `data="012345678901234567890123456789012345678901234567890123456789"... (100 bytes)`)
	assert.Contains(t, out, `data="\x00\xff\n"`)
	assert.Contains(t, out, `Comm=0x61006200000000000000000000000000`)
}

// TestShowPages: a page's bytes are quoted up to the zeros that end it,
// which are counted; a run of frames met before names them; an empty page
// tail, which its FILE record's PageTail says is empty, is left out.
func TestShowPages(t *testing.T) {
	out, err := show(t, imageOf(t, testworld.Memory))
	require.NoError(t, err)
	assert.Contains(t, out, `  mm #3          Addr=0x10000000 Count=1 Kind=1(data) First=0 data="parent"... (4096 bytes, the last 4090 zero)`+"\n")
	assert.Contains(t, out, `  segment #4     Addr=0x0 Count=1 Kind=1(data) First=0 data="shared"... (4096 bytes, the last 4090 zero)`+"\n")
	assert.Contains(t, out, `  mm #8          Addr=0x10000000 Count=1 Kind=2(frames) First=1`+"\n")
	assert.Contains(t, out, ` PageTail=0 Pos=12 Version=0 Size=12 Changes=1 path="/data"`+"\n")

	out, err = show(t, imageOf(t, `
		spawn 1
		mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS = 0x10000000
		memwrite 1 0x10000000 "\x00" = 1`))
	require.NoError(t, err)
	assert.Contains(t, out, `data=""... (4096 bytes, all zero)`+"\n")
}

// TestFdsNoSuchPid: fds of a pid the image does not hold is an error that
// says which pids it holds.
func TestFdsNoSuchPid(t *testing.T) {
	rep, err := inspect.Inspect(bytes.NewReader(imageOf(t, testworld.Demo)))
	require.NoError(t, err)
	var out bytes.Buffer
	err = rep.WriteFds(&out, 9)
	assert.ErrorIs(t, err, inspect.ErrNoSuchPid)
	assert.EqualError(t, err, "pid 9: no such pid in the image (it holds pids 1, 2, 3, 4)")
	require.NoError(t, rep.WriteFds(&out, 4))
	assert.Equal(t, "pid 4 init: a zombie, no file table\n", out.String())
}
