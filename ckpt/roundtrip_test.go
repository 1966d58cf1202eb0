package ckpt_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/objhash"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/mm"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// roundTrips are worlds for every object type and sharing pattern, each
// with lines that run afterwards on the original and on the restored world
// and must give the same results there.
var roundTrips = []struct {
	name, world, after string
}{
	{"one task, no files", `spawn 1 init`, `open 1 /x O_RDWR|O_CREAT = 0`},
	{"regular file: position, flags, close-on-exec", `
		spawn 1
		open 1 /f O_RDWR|O_CREAT|O_APPEND|O_CLOEXEC 0640 = 0
		write 1 0 "0123456789" = 10
		lseek 1 0 3 SEEK_SET = 3
		open 1 /f O_RDONLY|O_SYNC|O_NOATIME = 1
		lseek 1 1 7 SEEK_SET = 7`,
		`read 1 0 4 = "3456"
		read 1 1 9 = "789"
		write 1 0 "x" = 1
		fcntl 1 0 F_GETFD = 1
		fcntl 1 0 F_GETFL = O_RDWR|O_APPEND|O_LARGEFILE`},
	{"dup'd descriptors share one file", `
		spawn 1
		open 1 /f O_RDWR|O_CREAT = 0
		dup 1 0 = 1
		dup2 1 0 7 = 7
		fcntl 1 0 F_DUPFD_CLOEXEC 20 = 20`,
		`write 1 7 "abc" = 3
		lseek 1 20 0 SEEK_CUR = 3
		fcntl 1 20 F_GETFD = 1`},
	{"fork: two tables share the files", `
		spawn 1
		open 1 /f O_RDWR|O_CREAT = 0
		fork 1 2
		open 2 /g O_WRONLY|O_CREAT = 1`,
		`write 2 0 "ab" = 2
		lseek 1 0 0 SEEK_CUR = 2
		close 2 0
		fcntl 2 0 F_GETFD = EBADF
		fcntl 1 0 F_GETFD = 0`},
	{"CLONE_FILES shares one table", `
		spawn 1
		clone 1 2 CLONE_FILES worker
		open 2 /f O_RDWR|O_CREAT = 0`,
		`close 1 0
		write 2 0 "x" = EBADF
		open 1 /g O_RDWR|O_CREAT = 0`},
	{"CLONE_FS shares one fs state", `
		spawn 1
		mkdir 1 /d
		mkdir 1 /d/e
		clone 1 2 CLONE_FS
		fork 1 3
		chdir 2 /d`,
		`open 1 e O_RDONLY|O_DIRECTORY = 0
		open 3 e O_RDONLY = ENOENT
		chdir 1 e
		open 2 f O_RDWR|O_CREAT = 0
		unlink 3 /d/e/f`},
	{"pipe with bytes in flight, shared by parent and child", `
		spawn 1 init
		pipe 1 = 0 1
		write 1 1 "hello" = 5
		fork 1 2
		close 2 1`,
		`read 2 0 16 = "hello"
		read 2 0 16 = BLOCKED
		close 1 1
		read 2 0 16 = ""`},
	{"pipe whose write end is closed", `
		spawn 1
		pipe 1 = 0 1
		write 1 1 "left over" = 9
		close 1 1`,
		`read 1 0 4 = "left"
		read 1 0 40 = " over"
		read 1 0 4 = ""`},
	{"pipe whose read end is closed", `
		spawn 1
		pipe 1 = 0 1
		close 1 0`,
		`write 1 1 "x" = EPIPE`},
	{"pipe page layout: full ring after a partial read", `
		spawn 1
		pipe 1 O_NONBLOCK = 0 1
		write 1 1 "` + strings.Repeat("p", 4096*15) + `" = 61440
		write 1 1 "` + strings.Repeat("q", 4096) + `" = 4096
		read 1 0 4095 = "` + strings.Repeat("p", 4095) + `"`,
		`write 1 1 "x" = EAGAIN
		read 1 0 1 = "p"
		write 1 1 "x" = 1
		write 1 1 "y" = 1
		write 1 1 "` + strings.Repeat("z", 4096) + `" = EAGAIN`},
	// A packet-mode write still merges into a last buffer written in normal
	// mode, as Linux's pipe_write does; packets start on an empty pipe.
	{"pipe in packet mode", `
		spawn 1
		pipe 1 = 0 1
		write 1 1 "ab" = 2
		write 1 1 "cd" = 2
		fcntl 1 1 F_SETFL O_DIRECT
		write 1 1 "packet" = 6
		read 1 0 100 = "abcdpacket"
		write 1 1 "one" = 3
		write 1 1 "two" = 3`,
		`read 1 0 2 = "on"
		read 1 0 10 = "two"
		read 1 0 10 = BLOCKED`},
	{"non-blocking pipe ends", `
		spawn 1
		pipe 1 O_NONBLOCK|O_CLOEXEC = 0 1`,
		`read 1 0 1 = EAGAIN
		fcntl 1 1 F_GETFL = O_WRONLY|O_NONBLOCK
		fcntl 1 0 F_GETFD = 1`},
	{"FIFO with a reader, a writer and bytes", `
		spawn 1
		mkfifo 1 /q
		open 1 /q O_RDONLY|O_NONBLOCK = 0
		open 1 /q O_WRONLY = 1
		write 1 1 "queued" = 6
		open 1 /q O_RDWR = 2`,
		`read 1 0 3 = "que"
		close 1 1
		close 1 2
		read 1 0 10 = "ued"
		read 1 0 10 = ""
		open 1 /q O_WRONLY|O_NONBLOCK = 1`},
	{"unlinked file, open twice and dup'd", `
		spawn 1
		open 1 /tmp O_RDWR|O_CREAT 0600 = 0
		write 1 0 "ghost data" = 10
		open 1 /tmp O_RDONLY = 1
		dup 1 1 = 2
		unlink 1 /tmp
		open 1 /tmp O_RDWR|O_CREAT = 3
		write 1 3 "new" = 3`,
		`write 1 0 "!" = 1
		read 1 1 20 = "ghost data!"
		read 1 3 20 = ""
		lseek 1 3 0 SEEK_SET = 0
		read 1 3 20 = "new"`},
	{"unlinked FIFO still open", `
		spawn 1
		mkfifo 1 /q
		open 1 /q O_RDWR = 0
		write 1 0 "in flight" = 9
		unlink 1 /q`,
		`read 1 0 20 = "in flight"
		open 1 /q O_RDONLY = ENOENT`},
	{"directory open at an offset", `
		spawn 1
		mkdir 1 /d 0700
		open 1 /d O_RDONLY|O_DIRECTORY = 0
		lseek 1 0 42 SEEK_SET = 42`,
		`lseek 1 0 0 SEEK_CUR = 42
		read 1 0 1 = EISDIR`},
	{"task tree: order of children, zombies, exit codes", `
		spawn 1 init
		fork 1 2
		fork 1 3
		fork 2 4
		fork 4 5
		fork 1 6
		exit 3 300
		exit 5 7`,
		`wait 1 3 = 44
		wait 4 5 = 7
		wait 1 6 = BLOCKED
		wait 1 4 = ECHILD`},
	{"high descriptor numbers", `
		spawn 1
		open 1 /f O_RDWR|O_CREAT = 0
		dup2 1 0 5000 = 5000
		dup2 1 0 65535 = 65535
		close 1 0`,
		`open 1 /g O_RDONLY|O_CREAT = 0
		dup 1 5000 = 1
		fcntl 1 0 F_DUPFD 5000 = 5001`},
	{"registers", `
		spawn 1
		regs 1 rax=0x1234 rip=0x401abc rsp=0x7ffc0000 rflags=0x246 fs_base=0x7f0000001000 mxcsr=0x1fa0 cs=0x33 gs=0x63`,
		`spawn 2`},
	{"access mode 3 and odd flags", `
		spawn 1
		open 1 /f O_CREAT|3 = 0
		open 1 /f O_RDONLY|O_DIRECTORY = ENOTDIR
		open 1 /f O_WRONLY|O_DSYNC|0o20000 = 1
		fcntl 1 1 F_SETFL O_NONBLOCK|O_DIRECT`,
		`fcntl 1 0 F_GETFL = 0o100003
		read 1 0 1 = EBADF
		fcntl 1 1 F_GETFL = O_WRONLY|O_DSYNC|0o20000|O_NONBLOCK|O_DIRECT|O_LARGEFILE`},
}

// TestRoundTrip checkpoints each world, restarts it in a fresh kernel on a
// copy of its disk, checks that the restored world is the same (tasks, tree,
// descriptors, sharing, flags, positions, pipe bytes and layout, registers,
// reference counts, live objects), and that both worlds then behave the
// same.
func TestRoundTrip(t *testing.T) {
	for _, rt := range roundTrips {
		t.Run(rt.name, func(t *testing.T) {
			k := world(t, rt.world)
			img, err := checkpoint(t, k, 1, 0)
			require.NoError(t, err)
			k2 := restart(t, k, img)
			require.NoError(t, equiv.Equal(k.View(), k2.View()))
			lockstep(t, k, k2, rt.after)
			require.NoError(t, k.Check())
			require.NoError(t, k2.Check())
		})
	}
}

// TestDeterminism: with a fixed clock the same world gives the same bytes,
// and checkpoint(restart(image)) gives the image back byte for byte.
func TestDeterminism(t *testing.T) {
	for _, rt := range roundTrips {
		t.Run(rt.name, func(t *testing.T) {
			k := world(t, rt.world)
			img, err := checkpoint(t, k, 1, 0)
			require.NoError(t, err)
			again, err := checkpoint(t, k, 1, 0)
			require.NoError(t, err)
			require.Equal(t, img, again, "two checkpoints of one world differ")
			k2 := restart(t, k, img)
			fixpoint, err := checkpoint(t, k2, 1, 0)
			require.NoError(t, err)
			require.Equal(t, img, fixpoint, "checkpoint(restart(image)) is not the image")
		})
	}
}

// TestStreamThroughPipe moves a world from one kernel to another through an
// io.Pipe: checkpoint writes, restart reads, in sequence, with no seeking
// and no buffer in between.
func TestStreamThroughPipe(t *testing.T) {
	k := world(t, roundTrips[6].world+`
		open 2 /tmp O_RDWR|O_CREAT 0600 = 1
		write 2 1 "ghost" = 5
		unlink 2 /tmp
		spawn 9`)
	require.NoError(t, k.Freeze(1))
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		_, err := engine(k).Checkpoint(1, pw, 0)
		pw.CloseWithError(err)
		done <- err
	}()
	root, err := engine(k2).Restart(pr, 0)
	require.NoError(t, err)
	require.NoError(t, <-done)
	require.NoError(t, k.Thaw(1))
	require.Equal(t, 1, root)
	require.NoError(t, equiv.EqualSubtree(k.View(), k2.View(), 1))
	lockstep(t, k, k2, roundTrips[6].after)
}

// TestRestartFrozen leaves the restored tasks frozen until thawed.
func TestRestartFrozen(t *testing.T) {
	k := world(t, "spawn 1\nfork 1 2\nexit 2 3")
	img, err := checkpoint(t, k, 1, 0)
	require.NoError(t, err)
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err = engine(k2).Restart(bytes.NewReader(img), ckpt.RESTART_FROZEN)
	require.NoError(t, err)
	_, err = k2.Open(1, "/x", vfs.O_CREAT, 0)
	require.ErrorIs(t, err, errno.BLOCKED)
	require.NoError(t, k2.Thaw(1))
	lockstep(t, k, k2, "wait 1 2 = 3")
}

// TestSubtree checkpoints a container below the top: the restored world
// holds just it, its root without a parent.
func TestSubtree(t *testing.T) {
	k := world(t, `
		spawn 1
		fork 1 2
		fork 2 3
		pipe 3 = 0 1
		write 3 1 "sub" = 3`)
	img, err := checkpoint(t, k, 2, 0)
	require.NoError(t, err)
	k2 := restart(t, k, img)
	v2 := k2.View()
	require.Equal(t, []int{2}, v2.Top)
	require.Nil(t, v2.Task(1))
	require.NoError(t, equiv.EqualSubtree(k.View(), v2, 2))
	lockstep(t, k, k2, "read 3 0 9 = \"sub\"")
}

// refusals are worlds a checkpoint must refuse, with the errno and the words
// that say why.
var refusals = []struct {
	name, world string
	pid, flags  int
	want        error
	says        []string
}{
	{"a file holding a lock", "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nfork 1 2\nopen 2 /g O_RDWR|O_CREAT = 1\nflock 2 1 LOCK_EX",
		1, 0, errno.EBADF, []string{"pid 2", "fd 1", "flock"}},
	{"a file with an owner", "spawn 1\npipe 1 = 0 1\nfcntl 1 1 F_SETOWN 1",
		1, 0, errno.EBUSY, []string{"pid 1", "fd 1", "owner"}},
	{"a pipe whose other end is outside", "spawn 1\npipe 1 = 0 1\nfork 1 2\nclose 1 0\nclose 2 1",
		2, 0, errno.EBUSY, []string{"leak detection", "pipe objref 3: 1 reference from outside", "held inside by the pipe of pid 2 fd 0"}},
	{"a file shared with the parent of the container's root", "spawn 1\npipe 1 = 0 1\nfork 1 2\nclose 1 0",
		2, 0, errno.EBUSY, []string{"leak detection", "file objref 4: 1 reference from outside", "held inside by pid 2 fd 1"}},
	{"a file table shared with a task outside", "spawn 1\nclone 1 2 CLONE_FILES\nfork 2 3",
		2, 0, errno.EBUSY, []string{"file table", "held inside by the file table of pid 2"}},
	{"an fs state shared with a task outside", "spawn 1\nclone 1 2 CLONE_FS",
		2, 0, errno.EBUSY, []string{"fs state", "held inside by the fs state of pid 2"}},
	{"a file shared with a task outside by fork", "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nfork 1 2",
		2, 0, errno.EBUSY, []string{"file objref"}},
	{"an unlinked file open outside too", "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0\nfork 1 2\nopen 2 /f O_RDONLY = 1\nclose 2 0\nunlink 1 /f",
		2, 0, errno.EBUSY, []string{"ghost", "held inside by the unlinked file of pid 2 fd 1"}},
	{"unknown flags", "spawn 1", 1, 4, errno.EINVAL, []string{"unknown flags"}},
	{"a working directory deeper than PATH_MAX", "spawn 1\nfork 1 2\n" + deepDirs(2), 1, 0,
		errno.ENAMETOOLONG, []string{"pid 2", "longer than PATH_MAX"}},
	{"a file deeper than PATH_MAX", "spawn 1\n" + deepDirs(1) + "open 1 f O_RDWR|O_CREAT = 0\nchdir 1 /\n", 1, 0,
		errno.ENAMETOOLONG, []string{"pid 1", "fd 0", "longer than PATH_MAX"}},
}

// deepDirs is script lines that take pid down 17 directories of 250-byte
// names: a working directory Linux allows, whose path is longer than
// PATH_MAX.
func deepDirs(pid int) string {
	var b strings.Builder
	name := strings.Repeat("d", 250)
	for range 17 {
		fmt.Fprintf(&b, "mkdir %d %s\nchdir %d %s\n", pid, name, pid, name)
	}
	return b.String()
}

func TestRefusals(t *testing.T) {
	for _, r := range refusals {
		t.Run(r.name, func(t *testing.T) {
			k := world(t, r.world)
			img, err := checkpoint(t, k, r.pid, r.flags)
			require.ErrorIs(t, err, r.want)
			for _, s := range r.says {
				assert.Contains(t, err.Error(), s)
			}
			require.NoError(t, k.Check())
			if len(img) > 0 {
				// A checkpoint that began writing ends its image with an
				// error record saying why, and restart says so.
				recs, rerr := image.ReadAll(bytes.NewReader(img))
				require.NoError(t, rerr)
				last := recs[len(recs)-1]
				require.Equal(t, image.TypeError, last.Type)
				require.Contains(t, string(last.Tail), r.says[0])
				_, rerr = engine(kernel.New(kernel.Config{DiskFrom: k})).Restart(bytes.NewReader(img), 0)
				require.ErrorIs(t, rerr, errno.EINVAL)
				require.Contains(t, rerr.Error(), "incomplete")
			}
		})
	}
}

// An owner that named a task since reaped reads 0 through F_GETOWN, and a
// checkpoint must judge it as the kernel reports it: no owner. It used to
// read the raw F_SETOWN pid and refuse with EBUSY (issue 11, fault 5).
func TestReapedOwnerIsNoOwner(t *testing.T) {
	k := world(t, `
		spawn 1
		fork 1 2
		pipe 1 = 0 1
		fcntl 1 1 F_SETOWN 2
		exit 2 0
		wait 1 2 = 0
		fcntl 1 1 F_GETOWN = 0`)
	img, err := checkpoint(t, k, 1, 0)
	require.NoError(t, err)
	require.NoError(t, equiv.Equal(k.View(), restart(t, k, img).View()))
}

// TestLeakDetectionNamesObjects checks that the error lists each leaking
// object by type and objref, as a typed error.
func TestLeakDetectionNamesObjects(t *testing.T) {
	k := world(t, "spawn 1\npipe 1 = 0 1\nclone 1 2 CLONE_FS\nopen 2 /f O_RDWR|O_CREAT = 2")
	_, err := checkpoint(t, k, 2, 0)
	var leaks *objhash.LeakError
	require.ErrorAs(t, err, &leaks)
	var names []string
	for _, l := range leaks.Leaks {
		names = append(names, fmt.Sprintf("%s %d", l.Name, l.Objref))
	}
	// Pid 2's copy of the table (objref 1) holds both pipe files (2 and 4,
	// with the pipe, 3, between them) and the new file (5); the pipe files
	// and the fs state (6) are shared with pid 1. The pipe is not leaking:
	// both its files are inside.
	assert.Equal(t, []string{"file 2", "file 4", "fs state 6"}, names)
}

func TestRefusesMissingOrDeadRoot(t *testing.T) {
	k := world(t, "spawn 1\nfork 1 2\nexit 2 0")
	for _, pid := range []int{7, 2} {
		_, err := engine(k).Checkpoint(pid, io.Discard, 0)
		require.ErrorIs(t, err, errno.ESRCH)
		require.Contains(t, err.Error(), fmt.Sprintf("pid %d is not a live task", pid))
	}
}

// TestSubtreeFlagSkipsLeakDetection: with CHECKPOINT_SUBTREE the container
// is saved although it shares a pipe with the outside; restored alone, the
// pipe lacks the outside's end.
func TestSubtreeFlagSkipsLeakDetection(t *testing.T) {
	k := world(t, "spawn 1\npipe 1 = 0 1\nwrite 1 1 \"hi\" = 2\nfork 1 2\nclose 2 1")
	img, err := checkpoint(t, k, 2, ckpt.CHECKPOINT_SUBTREE)
	require.NoError(t, err)
	k2 := restart(t, k, img)
	o, err := k2.Read(2, 0, 10)
	require.NoError(t, err)
	require.Equal(t, "hi", string(o))
	_, err = k2.Read(2, 0, 10)
	require.NoError(t, err, "the writer stayed outside: end of file") // k would say BLOCKED
	_, err = k.Read(2, 0, 10)
	require.NoError(t, err)
	_, err = k.Read(2, 0, 10)
	require.ErrorIs(t, err, errno.BLOCKED)
}

// TestRefusesUnfrozen: every live task of the container must be frozen.
func TestRefusesUnfrozen(t *testing.T) {
	k := world(t, "spawn 1\nfork 1 2\nfork 1 3\nexit 3 0")
	require.NoError(t, k.Freeze(2))
	_, err := engine(k).Checkpoint(1, io.Discard, 0)
	require.ErrorIs(t, err, errno.EBUSY)
	require.Contains(t, err.Error(), "pid 1 is not frozen")
}

// noCheckpointOps is a file type without checkpoint operations.
type noCheckpointOps struct{}

func (noCheckpointOps) Type() vfs.FileType                        { return 99 }
func (noCheckpointOps) Read(*vfs.File, []byte) (int, error)       { return 0, nil }
func (noCheckpointOps) Write(f *vfs.File, p []byte) (int, error)  { return len(p), nil }
func (noCheckpointOps) Seek(*vfs.File, int64, int) (int64, error) { return 0, errno.ESPIPE }
func (noCheckpointOps) SetflMask() int                            { return vfs.SetflMask }
func (noCheckpointOps) Release(*vfs.File)                         {}

func TestRefusesFileTypeWithoutCheckpoint(t *testing.T) {
	k := world(t, "spawn 1\nopen 1 /f O_RDWR|O_CREAT = 0")
	require.NoError(t, k.Locked(func(c *kernel.Core) error {
		files := c.Task(1).Files()
		fd, err := files.Alloc(0, c.NoFile())
		files.Install(fd, vfs.NewFile(c.Registry(), noCheckpointOps{}, vfs.O_RDWR, vfs.FMODE_READ|vfs.FMODE_WRITE), false)
		return err
	}))
	img, err := checkpoint(t, k, 1, 0)
	require.ErrorIs(t, err, errno.EBADF)
	require.Contains(t, err.Error(), "pid 1:")
	require.Contains(t, err.Error(), "fd 1: ")
	require.Contains(t, err.Error(), "a file type 99 file cannot be checkpointed")
	require.NotEmpty(t, img)
}

func TestUnknownRestartFlags(t *testing.T) {
	_, err := engine(kernel.New(kernel.Config{})).Restart(bytes.NewReader(nil), 2)
	require.ErrorIs(t, err, errno.EINVAL)
}

// TestCheckpointIDs are unique within a kernel.
func TestCheckpointIDs(t *testing.T) {
	k := world(t, "spawn 1")
	require.NoError(t, k.Freeze(1))
	seen := map[int64]bool{}
	for range 5 {
		id, err := engine(k).Checkpoint(1, io.Discard, 0)
		require.NoError(t, err)
		require.False(t, seen[id])
		seen[id] = true
	}
}

// TestImageSizes measures what sharing saves: 100 tasks sharing one file
// table of 100 files cost about one task's table plus the tree.
func TestImageSizes(t *testing.T) {
	small := world(t, roundTrips[6].world)
	img, err := checkpoint(t, small, 1, 0)
	require.NoError(t, err)
	t.Logf("small world (a pipe with bytes, parent and child): %d bytes", len(img))

	var b strings.Builder
	b.WriteString("spawn 1\n")
	for i := range 100 {
		fmt.Fprintf(&b, "open 1 /f%d O_RDWR|O_CREAT = %d\n", i, i)
	}
	one := world(t, b.String())
	oneImg, err := checkpoint(t, one, 1, 0)
	require.NoError(t, err)
	for pid := 2; pid <= 100; pid++ {
		fmt.Fprintf(&b, "clone 1 %d CLONE_FILES|CLONE_FS\n", pid)
	}
	shared := world(t, b.String())
	sharedImg, err := checkpoint(t, shared, 1, 0)
	require.NoError(t, err)
	// Each further task: its tree entry, its objects, its registers, and
	// an address space of its own (empty: an objref and its MM record),
	// since CLONE_FILES|CLONE_FS does not share memory.
	perTask := len(image.Encode([]*image.Record{{Type: ckpt.RecTask, Fixed: make([]byte, 32)},
		{Type: ckpt.RecTaskObjs, Fixed: make([]byte, 8)}, {Type: ckpt.RecTaskMM, Fixed: make([]byte, 8)},
		{Type: image.TypeObjref, Fixed: make([]byte, 8)}, {Type: mm.RecMM, Fixed: make([]byte, 24)},
		{Type: ckpt.RecRegs, Fixed: make([]byte, image.RegsSize)}}, false))
	t.Logf("one task, 100 files: %d bytes; 100 tasks sharing that table: %d bytes; each further task costs %d bytes",
		len(oneImg), len(sharedImg), perTask)
	require.Equal(t, len(oneImg)+99*perTask, len(sharedImg), "a shared table must be saved once")
}

// TestWorldUnchangedByFailedCheckpoint: a refused checkpoint leaves every
// count where it was (checked inside checkpoint()); so does a failing
// writer.
func TestFailingWriter(t *testing.T) {
	k := world(t, roundTrips[13].world)
	require.NoError(t, k.Freeze(1))
	before := k.Registry().Snapshot()
	_, err := engine(k).Checkpoint(1, &limitedWriter{n: 600}, 0)
	require.Error(t, err)
	require.ErrorIs(t, err, errno.EIO)
	require.Equal(t, "", before.Diff(k.Registry().Snapshot()))
	require.NoError(t, k.Check())
	require.Zero(t, k.Registry().Count(kref.Pipe))
}

type limitedWriter struct{ n int }

func (w *limitedWriter) Write(p []byte) (int, error) {
	if w.n < len(p) {
		return 0, errors.New("no space left")
	}
	w.n -= len(p)
	return len(p), nil
}

// The pid allocator's position is part of the container (Linux's
// ns_last_pid): after a task exits and is reaped, a fork that lets the
// kernel pick the pid gives the same pid in the restored world as in the
// original (it gave 2 after restart, where the original gave 5: issue 13).
func TestRestartKeepsThePidAllocator(t *testing.T) {
	k := world(t, `
		spawn 1
		fork 1 0
		fork 1 0
		fork 1 0
		exit 2 0
		wait 1 2 = 0`)
	img, err := checkpoint(t, k, 1, 0)
	require.NoError(t, err)
	k2 := restart(t, k, img)
	want, err := k.Fork(1, 0)
	require.NoError(t, err)
	got, err := k2.Fork(1, 0)
	require.NoError(t, err)
	assert.Equal(t, 5, want)
	assert.Equal(t, want, got, "the kernel-picked pid after restart")
}
