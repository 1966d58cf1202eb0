package runner_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// filesScript builds a world on a disk with a directory, a file written
// once and a FIFO, and checkpoints it twice: before and after a second
// write to the file.
const filesScript = `spawn 1 init
mkdir 1 /etc 0755
open 1 /etc/data O_RDWR|O_CREAT 0640 = 0
write 1 0 "hello, world" = 12
mkfifo 1 /q 0620
open 1 /q O_RDWR = 1
open 1 /empty O_RDONLY|O_CREAT 0444 = 2
chdir 1 /etc
checkpoint 1 => once.img
write 1 0 "!" = 1
checkpoint 1 => twice.img
`

// hostTree makes, in a new directory, the disk filesScript builds at its
// first checkpoint line.
func hostTree(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	require.NoError(t, os.Mkdir(filepath.Join(dir, "etc"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "etc", "data"), []byte("hello, world"), 0o640))
	require.NoError(t, os.Chmod(filepath.Join(dir, "etc", "data"), 0o640)) // whatever the umask
	require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "q"), 0o620))
	require.NoError(t, os.Chmod(filepath.Join(dir, "q"), 0o620))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "empty"), nil, 0o444))
	return dir
}

// images runs a script and returns its images by name.
func images(t *testing.T, s *scenario.Script) map[string][]byte {
	t.Helper()
	dir := t.TempDir()
	res, err := runner.Run(s, &bytes.Buffer{}, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	out := map[string][]byte{}
	for _, p := range res.Images {
		img, err := os.ReadFile(p)
		require.NoError(t, err)
		out[filepath.Base(p)] = img
	}
	return out
}

// TestLoadDisk: a host tree becomes the same disk a script builds, modes
// and change counters included, so the script's image restarts on it.
func TestLoadDisk(t *testing.T) {
	disk, err := runner.LoadDisk(hostTree(t))
	require.NoError(t, err)
	assert.Contains(t, disk.Name, "(1 directory, 2 regular files, 1 FIFO, 12 bytes)")
	assert.Nil(t, disk.Checkpoint)
	assert.NoError(t, disk.Kernel.Check())
	assert.Empty(t, disk.Kernel.View().Tasks, "the loader task is gone")

	s := parse(t, "files.scn", filesScript)
	imgs := images(t, s)
	var out bytes.Buffer
	res, err := runner.Restart(&out, "once.img", imgs["once.img"], disk, runner.RestartOptions{})
	require.NoError(t, err, out.String())
	assert.False(t, res.Differs)
	v := res.Kernel.View()
	for _, f := range v.Files {
		if f.Inode == nil {
			continue
		}
		switch f.Path {
		case "/etc/data":
			assert.Equal(t, uint32(vfs.S_IFREG|0o640), f.Inode.Mode)
			assert.Equal(t, uint64(1), f.Inode.Changes)
			assert.Equal(t, "hello, world", string(f.Inode.Contents))
		case "/q":
			assert.Equal(t, uint32(vfs.S_IFIFO|0o620), f.Inode.Mode)
		case "/empty":
			assert.Equal(t, uint32(vfs.S_IFREG|0o444), f.Inode.Mode)
			assert.Equal(t, uint64(0), f.Inode.Changes, "an empty file was never written")
		default:
			t.Errorf("unexpected file %s", f.Path)
		}
	}
	assert.Contains(t, out.String(), "What it holds, read from the restored world's view:\n  tasks and tree     1 tasks: 1 init\n")

	// The file written twice has a change counter the loaded disk cannot
	// have: restart refuses it, naming the file and both.
	_, err = runner.Restart(&bytes.Buffer{}, "twice.img", imgs["twice.img"], disk, runner.RestartOptions{})
	assert.ErrorIs(t, err, errno.ESTALE)
	assert.ErrorContains(t, err, "FILE record: /etc/data: changed since the checkpoint (size 12, 1 changes; saved 13, 2)")
}

func TestLoadDiskRefuses(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, dir string)
		want  string
		is    error
	}{
		{"a symbolic link", func(t *testing.T, dir string) {
			require.NoError(t, os.Symlink("x", filepath.Join(dir, "link")))
		}, "link: a symbolic link cannot be loaded into the simulated disk", runner.ErrNotLoadable},
		{"a socket", func(t *testing.T, dir string) {
			fd, err := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
			require.NoError(t, err)
			defer syscall.Close(fd)
			require.NoError(t, syscall.Bind(fd, &syscall.SockaddrUnix{Name: filepath.Join(dir, "sock")}))
		}, "sock: a socket cannot be loaded", runner.ErrNotLoadable},
		{"a file over the size limit", func(t *testing.T, dir string) {
			f, err := os.Create(filepath.Join(dir, "big"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(vfs.MaxFileSize+1)) // sparse: nothing is read
			require.NoError(t, f.Close())
		}, "big: 16777217 bytes cannot be loaded into the simulated disk: a simulated regular file holds at most 16777216", runner.ErrNotLoadable},
		{"a name longer than NAME_MAX", func(t *testing.T, dir string) {
			// The host allows 255 bytes too: the simulator's limit is
			// Linux's, so the longest host name loads.
			require.NoError(t, os.WriteFile(filepath.Join(dir, strings.Repeat("n", 255)), nil, 0o644))
		}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tt.setup(t, dir)
			_, err := runner.LoadDisk(dir)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, tt.is)
			assert.ErrorContains(t, err, tt.want)
		})
	}
	// A link to the tree is followed; links inside it are refused.
	tree := hostTree(t)
	link := filepath.Join(t.TempDir(), "link")
	require.NoError(t, os.Symlink(tree, link))
	disk, err := runner.LoadDisk(link)
	require.NoError(t, err)
	assert.Contains(t, disk.Name, "(1 directory, 2 regular files, 1 FIFO, 12 bytes)")

	_, err = runner.LoadDisk(filepath.Join(t.TempDir(), "none"))
	assert.ErrorIs(t, err, os.ErrNotExist)
	file := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(file, nil, 0o644))
	_, err = runner.LoadDisk(file)
	assert.EqualError(t, err, file+": not a directory")
}

// TestScriptDiskChoosesTheLine: which checkpoint line's disk an image gets.
func TestScriptDiskChoosesTheLine(t *testing.T) {
	two := parse(t, "two.scn", filesScript)
	one := parse(t, "one.scn", "spawn 1\ncheckpoint 1\nspawn 2\n")
	same := parse(t, "same.scn", "spawn 1\ncheckpoint 1 => x.img\nspawn 2\ncheckpoint 1 => x.img\n")
	none := parse(t, "none.scn", "spawn 1\n")
	tests := []struct {
		name  string
		s     *scenario.Script
		image string
		line  int
		want  int    // the line chosen
		err   string // or the error
	}{
		{"by the image's name", two, "/some/dir/twice.img", 0, 11, ""},
		{"by the image's name, the other", two, "once.img", 0, 9, ""},
		{"by line", two, "twice.img", 9, 9, ""},
		{"a line that is no checkpoint", two, "twice.img", 3, 0, "two.scn: line 3 is not a checkpoint line; its checkpoint lines are 9, 11"},
		{"several and no name matches", two, "other.img", 0, 0, "two.scn: no checkpoint line writes other.img and there are 2, so say which: its checkpoint lines are 9, 11"},
		{"the only one", one, "whatever.img", 0, 2, ""},
		{"a name written twice: the last line wrote the file", same, "x.img", 0, 4, ""},
		{"no checkpoint line", none, "x.img", 0, 0, "none.scn has no checkpoint line"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			disk, err := runner.ScriptDisk(tt.s, tt.image, tt.line)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, disk.Checkpoint.Num)
			assert.Contains(t, disk.Name, "at line "+strconv.Itoa(tt.want))
		})
	}

	// The lines before the chosen one ran, and only they.
	disk, err := runner.ScriptDisk(same, "x.img", 2)
	require.NoError(t, err)
	assert.Len(t, disk.Kernel.View().Tasks, 1)
	disk, err = runner.ScriptDisk(same, "x.img", 4)
	require.NoError(t, err)
	assert.Len(t, disk.Kernel.View().Tasks, 2)

	// A line before the checkpoint that fails stops it.
	_, err = runner.ScriptDisk(parse(t, "bad.scn", "spawn 1\nclose 1 0\ncheckpoint 1\n"), "x", 0)
	assert.EqualError(t, err, "bad.scn:2: close 1 0: got EBADF, expected success")
}

// TestRestartOnScriptDisk: the restored world is compared with the
// script's, fact by fact; an edited image shows as DIFF, and is no error.
func TestRestartOnScriptDisk(t *testing.T) {
	s := parse(t, "files.scn", filesScript)
	imgs := images(t, s)
	disk, err := runner.ScriptDisk(s, "twice.img", 0)
	require.NoError(t, err)
	var out bytes.Buffer
	res, err := runner.Restart(&out, "twice.img", imgs["twice.img"], disk, runner.RestartOptions{})
	require.NoError(t, err)
	assert.False(t, res.Differs)
	assert.Contains(t, out.String(), "Image twice.img: ")
	assert.Contains(t, out.String(), "Restarted in a fresh kernel on a copy of the disk of files.scn at line 11: root pid 1; the kernel's consistency check passes.\n")
	assert.Contains(t, out.String(), "equiv.Equal: the restored world is the script's world at line 11 (checkpoint 1 => twice.img). What matched")
	assert.Contains(t, out.String(), "  ok    fd numbers         pid 1: 0 1 2 (* close-on-exec)\n")
	assert.NotContains(t, out.String(), "DIFF")

	// An edited image: the task's name changed.
	recs, err := image.ReadAll(bytes.NewReader(imgs["twice.img"]))
	require.NoError(t, err)
	for _, r := range recs {
		if r.Type == ckpt.RecTask {
			var tk ckpt.TaskRecord
			require.NoError(t, r.Decode(&tk))
			copy(tk.Comm[:], "edited\x00")
			require.NoError(t, r.SetFixed(&tk))
		}
	}
	out.Reset()
	res, err = runner.Restart(&out, "edited.img", image.Encode(recs, true), disk, runner.RestartOptions{})
	require.NoError(t, err, "a restored world that differs is shown, not refused")
	assert.True(t, res.Differs)
	assert.Contains(t, out.String(), "equiv.Equal: not the script's world at line 11 (checkpoint 1 => twice.img) (an edited image, or another line's): worlds differ:\n  pid 1 comm: init != edited")
	assert.Contains(t, out.String(), "  DIFF  tasks and tree     1 tasks: 1 init\n                           restored: 1 tasks: 1 edited\n")
}

// TestRestartSubtree: a container that was not the whole world is compared
// as a subtree.
func TestRestartSubtree(t *testing.T) {
	s := parse(t, "sub.scn", "spawn 1 init\nfork 1 2\ncheckpoint 2 => sub.img\n")
	disk, err := runner.ScriptDisk(s, "sub.img", 0)
	require.NoError(t, err)
	var out bytes.Buffer
	res, err := runner.Restart(&out, "sub.img", images(t, s)["sub.img"], disk, runner.RestartOptions{})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Root)
	assert.False(t, res.Differs)
	assert.Contains(t, out.String(), "equiv.EqualSubtree: the restored world is the container the script had at line 3 (checkpoint 2 => sub.img).\nWhat it holds")
	assert.Contains(t, out.String(), "  tasks and tree     1 tasks: 2 init\n")
}

// TestRestartThen: a script continues the restored world, as run runs it,
// its images in the directory given.
func TestRestartThen(t *testing.T) {
	s := parse(t, "pipe.scn", pipeScript)
	img := images(t, s)["pipe.img"]
	dir := t.TempDir()
	then := parse(t, "then.scn", "read 2 0 16 = \"hello\"\nclose 1 1\ncheckpoint 1 => later.img\nread 2 0 16 = \"\"\n")
	var out bytes.Buffer
	res, err := runner.Restart(&out, "pipe.img", img, runner.EmptyDisk(), runner.RestartOptions{Then: then, Run: runner.RunOptions{Dir: dir}})
	require.NoError(t, err)
	assert.Equal(t, 4, res.Then.Lines)
	assert.Equal(t, []string{filepath.Join(dir, "later.img")}, res.Then.Images)
	assert.Contains(t, out.String(), "\nThe restored world goes on:\n   1  read 2 0 16  = \"hello\"\n")

	// A line that does not give its result stops it, naming it.
	bad := parse(t, "bad.scn", "read 2 0 16 = \"bye\"\n")
	_, err = runner.Restart(&bytes.Buffer{}, "pipe.img", img, runner.EmptyDisk(), runner.RestartOptions{Then: bad})
	var se *scenario.Error
	require.True(t, errors.As(err, &se))
	assert.EqualError(t, err, `bad.scn:1: read 2 0 16 = "bye": got "hello", expected "bye"`)
}

// TestRestartRefused: restart's refusal comes back as it is, with its
// errno, record and offset; nothing is restored.
func TestRestartRefused(t *testing.T) {
	img := images(t, parse(t, "pipe.scn", pipeScript))["pipe.img"]
	var out bytes.Buffer
	_, err := runner.Restart(&out, "cut.img", img[:600], runner.EmptyDisk(), runner.RestartOptions{})
	assert.True(t, errors.As(err, new(*ckpt.Error)))
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.ErrorContains(t, err, "image offset 552: FILE record: image cut short")
	assert.NotContains(t, out.String(), "Image cut.img", "no summary of an image that cannot be read")
	assert.NotContains(t, out.String(), "Restarted")
}

// TestMigrateAt: which checkpoint a line names, and what it refuses.
func TestMigrateAt(t *testing.T) {
	s := parse(t, "m.scn", `spawn 1 init
pipe 1 = 0 1
fork 1 2
checkpoint 2 CHECKPOINT_SUBTREE
spawn 5
checkpoint 1 => one.img
`)
	tests := []struct {
		name string
		line int
		pid  int
		what string
		err  string
	}{
		{"the first checkpoint line", 0, 2, "checkpoint 2 CHECKPOINT_SUBTREE", ""},
		{"a checkpoint line", 6, 1, "checkpoint 1 => one.img", ""},
		{"after another statement", 3, 1, "fork 1 2, then checkpoint 1", ""},
		{"several trees", 5, 0, "", "m.scn:5: the world has 2 top-level trees after this line: which to checkpoint? Give a checkpoint line's number"},
		{"a comment", 7, 0, "", "m.scn: line 7 is not a statement of the script"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := runner.MigrateAt(s, tt.line)
			if tt.err != "" {
				assert.EqualError(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.pid, m.Pid)
			assert.Equal(t, tt.what, m.What)
			assert.NotEmpty(t, m.Image)
			assert.NotNil(t, m.Kernel.View().Task(tt.pid))
			assert.NotNil(t, m.Before.View().Task(tt.pid), "the world is left as it was")
		})
	}

	_, err := runner.MigrateAt(parse(t, "none.scn", "spawn 1\n"), 0)
	assert.EqualError(t, err, "none.scn has no checkpoint line: say after which line to checkpoint")
	_, err = runner.MigrateAt(parse(t, "leak.scn", "spawn 1\npipe 1 = 0 1\nfork 1 2\ncheckpoint 2 = EBUSY\n"), 0)
	assert.ErrorIs(t, err, errno.EBUSY)
	assert.ErrorContains(t, err, "leak.scn:4: checkpoint 2 = EBUSY: checkpoint: leak detection")
}
