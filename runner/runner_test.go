package runner_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// pipeScript is SCENARIOS.md's example: a pipe with bytes in flight, shared
// by parent and child, checkpointed between write and read.
const pipeScript = `# a pipe with bytes in flight
spawn 1 init
pipe 1 = 0 1
write 1 1 "hello" = 5
fork 1 2
close 2 1
checkpoint 1 => pipe.img
read 2 0 16 = "hello"
close 1 1
read 2 0 16 = ""
`

func parse(t *testing.T, name, text string) *scenario.Script {
	t.Helper()
	s, err := scenario.ParseString(name, text)
	require.NoError(t, err)
	return s
}

func TestVerify(t *testing.T) {
	tests := []struct {
		name   string
		script string
		// For a passing script: its counts. ImageBytes is only checked
		// to be positive when there are checkpoints.
		lines, checkpoints int
		// For a failing one: the line, words of the message, and an errno
		// the error must wrap (0 for none).
		failLine int
		failMsg  []string
		cause    errno.Errno
	}{
		{name: "pipe in flight", script: pipeScript, lines: 9, checkpoints: 1},
		{name: "no checkpoint", script: "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\n", lines: 2},
		{
			name: "refused: a file holding a flock",
			script: `spawn 1 init
				open 1 /f O_RDWR|O_CREAT 0644 = 0
				flock 1 0 LOCK_EX
				checkpoint 1 = EBADF
				flock 1 0 LOCK_UN
				checkpoint 1
				write 1 0 "after" = 5`,
			lines: 7, checkpoints: 1,
		},
		{
			name: "refused: a container sharing a pipe with its parent",
			script: `spawn 1 init
				pipe 1 = 0 1
				write 1 1 "abc" = 3
				fork 1 2
				checkpoint 2 = EBUSY
				close 1 0
				close 1 1
				checkpoint 2
				read 2 0 10 = "abc"
				close 2 1
				read 2 0 10 = ""`,
			lines: 11, checkpoints: 1,
		},
		{
			name: "subtree container, then its root exits",
			script: `spawn 1 init
				open 1 /x O_RDWR|O_CREAT 0644 = 0
				fork 1 2
				close 1 0
				checkpoint 2
				write 2 0 "hi" = 2
				fork 2 3
				exit 2 0
				lseek 3 0 0 SEEK_CUR = 2`,
			lines: 9, checkpoints: 1,
		},
		{
			name: "one of two top-level trees",
			script: `spawn 1 init
				spawn 5 other
				pipe 1 = 0 1
				checkpoint 1
				write 1 1 "x" = 1
				read 1 0 1 = "x"`,
			lines: 6, checkpoints: 1,
		},
		{
			name:     "a line that does not give its result",
			script:   "spawn 1 init\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 4\n",
			failLine: 3, failMsg: []string{`write 1 1 "hello" = 4`, "got 5, expected 4"},
		},
		{
			name:     "a call that fails with no result stated",
			script:   "spawn 1 init\nclose 1 7\n",
			failLine: 2, failMsg: []string{"got EBADF, expected success"}, cause: errno.EBADF,
		},
		{
			name: "a refusal the script does not expect",
			script: `spawn 1 init
				open 1 /f O_RDWR|O_CREAT 0644 = 0
				fcntl 1 0 F_SETOWN 1
				checkpoint 1`,
			failLine: 4, failMsg: []string{"checkpoint 1: got EBUSY, expected success", "owner"}, cause: errno.EBUSY,
		},
		{
			name:     "a checkpoint expected to be refused that succeeds",
			script:   "spawn 1 init\ncheckpoint 1 = EBUSY\n",
			failLine: 2, failMsg: []string{"got 0, expected EBUSY"},
		},
		{
			name: "CHECKPOINT_SUBTREE leaves the outside's references behind",
			script: `spawn 1 init
				pipe 1 = 0 1
				fork 1 2
				checkpoint 2 CHECKPOINT_SUBTREE
				write 2 1 "hi" = 2`,
			failLine: 4, failMsg: []string{"restored world differs from the world it was taken from", "pid 2 fd 0 file references: 2 != 1"},
		},
		{
			name: "a line for a task the migrated container does not hold",
			script: `spawn 1 init
				fork 1 2
				checkpoint 2
				open 1 /y O_RDWR|O_CREAT 0644 = 0`,
			failLine: 4, failMsg: []string{"ESRCH on the migrating world, 0 on the reference", "pid 1 is not in the migrating world"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res, err := runner.Verify(parse(t, "t.scn", tt.script))
			if tt.failLine == 0 {
				require.NoError(t, err)
				assert.Equal(t, tt.lines, res.Lines)
				assert.Equal(t, tt.checkpoints, res.Checkpoints)
				assert.Equal(t, tt.checkpoints > 0, res.ImageBytes > 0, "image bytes %d", res.ImageBytes)
				return
			}
			require.Error(t, err)
			f, ok := errors.AsType[*runner.Failure](err)
			require.True(t, ok, "%T", err)
			assert.Equal(t, tt.failLine, f.Line)
			assert.Equal(t, tt.failLine-1, res.Lines, "lines run before the failure")
			first, _, _ := strings.Cut(err.Error(), "\n")
			assert.True(t, strings.HasPrefix(first, "t.scn:"+strconv.Itoa(tt.failLine)+": "), first)
			for _, m := range tt.failMsg {
				assert.Contains(t, err.Error(), m)
			}
			if tt.cause != 0 {
				assert.ErrorIs(t, err, tt.cause)
			}
		})
	}
}

// A failure's diff is the equiv.DiffError's lines, reachable with errors.As.
func TestVerifyDiffIsTheDiffError(t *testing.T) {
	_, err := runner.Verify(parse(t, "leak.scn", `spawn 1 init
		pipe 1 = 0 1
		fork 1 2
		checkpoint 2 CHECKPOINT_SUBTREE`))
	d, ok := errors.AsType[*equiv.DiffError](err)
	require.True(t, ok, "%v", err)
	f, _ := errors.AsType[*runner.Failure](err)
	assert.Equal(t, d.Lines, f.Diff)
	for _, l := range d.Lines {
		assert.Contains(t, err.Error(), "\n    "+l)
	}
}

// The bytes Verify counts are the bytes of the images Run writes.
func TestVerifyCountsTheImages(t *testing.T) {
	s := parse(t, "pipe.scn", pipeScript)
	res, err := runner.Verify(s)
	require.NoError(t, err)
	dir := t.TempDir()
	_, err = runner.Run(s, &bytes.Buffer{}, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(dir, "pipe.img"))
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), res.ImageBytes)
}

func TestRun(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := runner.Run(parse(t, "pipe.scn", pipeScript), &out, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, runner.RunResult{Lines: 9, Checkpoints: 1, Images: []string{filepath.Join(dir, "pipe.img")}, ImageBytes: res.ImageBytes}, res)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 9, out.String())
	assert.Regexp(t, `^   3  pipe 1 +  = 0 1$`, lines[1])
	assert.Regexp(t, `^   8  read 2 0 16 +  = "hello"$`, lines[6])
	assert.Regexp(t, `^   7  checkpoint 1 += 0   # \d+ bytes in .*pipe.img$`, lines[5])

	// The image is a complete one, of the world at the checkpoint line,
	// and restarts.
	img, err := os.ReadFile(res.Images[0])
	require.NoError(t, err)
	assert.True(t, runner.IsImage(img))
	rep, err := inspect.Inspect(bytes.NewReader(img))
	require.NoError(t, err)
	assert.Equal(t, inspect.ChecksumOK, rep.Summary.Checksum)
	assert.Equal(t, int64(5), rep.Summary.Count("pipe bytes"))
	assert.Equal(t, int64(2), rep.Summary.Count("tasks"))
	k := kernel.New(kernel.Config{})
	_, err = ckpt.New(k).Restart(bytes.NewReader(img), 0)
	require.NoError(t, err)
}

// TestRunLongLines: a megabyte-long write and read print as short lines,
// their text cut with its length said.
func TestRunLongLines(t *testing.T) {
	big := strings.Repeat("x", 1<<20)
	script := "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\n" +
		"write 1 0 \"" + big + "\" = 1048576\nlseek 1 0 0 SEEK_SET = 0\nread 1 0 1048576 = \"" + big + "\"\n"
	var out bytes.Buffer
	_, err := runner.Run(parse(t, "long.scn", script), &out, runner.RunOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	require.Len(t, lines, 5)
	for _, l := range lines {
		assert.Less(t, len(l), 200, "%.200s", l)
	}
	assert.Contains(t, lines[2], `write 1 0 "xxx`)
	assert.Contains(t, lines[2], "... (1048588 bytes) = 1048576")
	assert.Contains(t, lines[4], `= "xxx`)
	assert.Contains(t, lines[4], "... (1048578 bytes)")
}

// Images are reproducible with the default clock, and the clock option is
// what their headers record.
func TestRunClock(t *testing.T) {
	image := func(opts runner.RunOptions) []byte {
		opts.Dir = t.TempDir()
		res, err := runner.Run(parse(t, "pipe.scn", pipeScript), &bytes.Buffer{}, opts)
		require.NoError(t, err)
		img, err := os.ReadFile(res.Images[0])
		require.NoError(t, err)
		return img
	}
	a, b := image(runner.RunOptions{}), image(runner.RunOptions{})
	assert.Equal(t, a, b, "the same script gave different images")

	later := time.Unix(1800000000, 0)
	c := image(runner.RunOptions{Clock: runner.FixedClock(later)})
	assert.NotEqual(t, a, c)
	rep, err := inspect.Inspect(bytes.NewReader(c))
	require.NoError(t, err)
	assert.Equal(t, uint64(later.UnixNano()), rep.Records[0].Field("Time").Bits)
}

func TestRunRefusedCheckpoint(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	res, err := runner.Run(parse(t, "lock.scn", `spawn 1 init
		open 1 /f O_RDWR|O_CREAT 0644 = 0
		flock 1 0 LOCK_EX
		checkpoint 1 = EBADF => locked.img
		flock 1 0 LOCK_UN`), &out, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, 0, res.Checkpoints)
	assert.Equal(t, int64(0), res.ImageBytes)
	assert.Regexp(t, `checkpoint 1 += EBADF   # .*flock.*locked.img: \d+ bytes, ending with an error record`, out.String())

	// What the refused checkpoint wrote is kept: an image ending with an
	// error record that says why.
	img, err := os.ReadFile(filepath.Join(dir, "locked.img"))
	require.NoError(t, err)
	rep, _ := inspect.Inspect(bytes.NewReader(img))
	assert.Equal(t, inspect.ChecksumMissing, rep.Summary.Checksum)
	assert.Contains(t, rep.Summary.Error, "flock")
}

// A checkpoint refused where the script expects success stops the run with
// the whole refusal: which pid, fd and why, not only the errno.
func TestRunUnexpectedRefusal(t *testing.T) {
	var out bytes.Buffer
	_, err := runner.Run(parse(t, "owner.scn", `spawn 1 init
		open 1 /f O_RDWR|O_CREAT 0644 = 0
		fcntl 1 0 F_SETOWN 1
		checkpoint 1`), &out, runner.RunOptions{Dir: t.TempDir()})
	require.Error(t, err)
	assert.Equal(t, "owner.scn:4: checkpoint 1: got EBUSY, expected success "+
		"(checkpoint: pid 1: objhash: checkpoint file table objref 1: fd 0: objhash: checkpoint file objref 2: the file has an owner (F_SETOWN 1): EBUSY (device or resource busy))", err.Error())
	assert.Contains(t, out.String(), "= EBUSY   # expected success")
}

func TestRunStopsAtAWrongResult(t *testing.T) {
	var out bytes.Buffer
	res, err := runner.Run(parse(t, "bad.scn", "spawn 1\nwrite 1 0 \"x\" = 1\nspawn 2\n"), &out, runner.RunOptions{Dir: t.TempDir()})
	var se *scenario.Error
	require.ErrorAs(t, err, &se)
	assert.Equal(t, 2, se.Line)
	assert.Equal(t, `bad.scn:2: write 1 0 "x" = 1: got EBADF, expected 1`, err.Error())
	assert.Equal(t, 1, res.Lines)
	assert.Contains(t, out.String(), "= EBADF   # expected 1")
	assert.NotContains(t, out.String(), "spawn 2", "the run went on after the failure")
}

func TestRunCannotWriteImage(t *testing.T) {
	_, err := runner.Run(parse(t, "x.scn", "spawn 1\ncheckpoint 1 => x.img\n"), &bytes.Buffer{},
		runner.RunOptions{Dir: filepath.Join(t.TempDir(), "missing")})
	assert.ErrorContains(t, err, "x.scn:2: ")
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestIsImage(t *testing.T) {
	dir := t.TempDir()
	res, err := runner.Run(parse(t, "pipe.scn", pipeScript), &bytes.Buffer{}, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	img, err := os.ReadFile(res.Images[0])
	require.NoError(t, err)
	assert.True(t, runner.IsImage(img))
	assert.True(t, runner.IsImage(img[:16]), "the magic is enough")
	assert.True(t, runner.IsImage(img[:15]), "an image cut before its magic still starts with the HEADER type")
	assert.True(t, runner.IsImage(img[:4]))
	assert.False(t, runner.IsImage(img[:3]))
	img[9] = 'X'
	assert.False(t, runner.IsImage(img), "a HEADER type word without the magic")
	assert.False(t, runner.IsImage([]byte(pipeScript)))
	assert.False(t, runner.IsImage([]byte("CKPTSIM\x00 is not at offset 8")))
	assert.False(t, runner.IsImage(nil))
}

func TestParseFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.scn")
	require.NoError(t, os.WriteFile(path, []byte("spawn 1\nopen 1 /x O_BOGUS\n"), 0o644))
	_, err := runner.ParseFile(path)
	assert.EqualError(t, err, path+`:2: open: FLAGS: unknown flag "O_BOGUS" (usage: open PID PATH FLAGS [MODE])`)
	_, err = runner.ParseFile(filepath.Join(t.TempDir(), "none.scn"))
	assert.ErrorIs(t, err, os.ErrNotExist)
}

func TestCheckImage(t *testing.T) {
	dir := t.TempDir()
	res, err := runner.Run(parse(t, "x.scn", pipeScript+"flock 2 0 LOCK_SH\ncheckpoint 1 = EBADF => refused.img\n"),
		&bytes.Buffer{}, runner.RunOptions{Dir: dir})
	require.NoError(t, err)
	good, err := os.ReadFile(res.Images[0])
	require.NoError(t, err)
	refused, err := os.ReadFile(res.Images[1])
	require.NoError(t, err)
	flipped := bytes.Clone(good)
	flipped[len(flipped)-30] ^= 1 // in the last REGS record, before the tail
	tests := []struct {
		name string
		img  []byte
		want string // "" for a whole image
	}{
		{"whole", good, ""},
		{"refused, with its error record", refused, ""},
		{"cut inside a record", good[:len(good)-10], "bad image: "},
		{"cut at a record boundary", good[:len(good)-24], "without a tail or error record: cut short"},
		{"a byte changed", flipped, "checksum mismatch"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, _ := inspect.Inspect(bytes.NewReader(tt.img))
			err := runner.CheckImage(rep)
			if tt.want == "" {
				assert.NoError(t, err)
				return
			}
			assert.ErrorIs(t, err, runner.ErrBadImage)
			assert.ErrorContains(t, err, tt.want)
		})
	}
}

// TestVerifyEvery: verify --every migrates after every line where a
// checkpoint of the one tree succeeds, and skips the others.
func TestVerifyEvery(t *testing.T) {
	tests := []struct {
		name               string
		script             string
		checkpoints, every int
	}{
		// After each of its 9 lines but the checkpoint line itself.
		{"pipe in flight", pipeScript, 9, 8},
		// Not while the lock is held (lines 3 and 4), nor while the owner
		// is set (5).
		{"a lock and an owner", `spawn 1 init
			open 1 /f O_RDWR|O_CREAT 0644 = 0
			flock 1 0 LOCK_EX
			write 1 0 "locked" = 6
			flock 1 0 LOCK_UN
			fcntl 1 0 F_SETOWN 1
			fcntl 1 0 F_SETOWN 0
			lseek 1 0 0 SEEK_CUR = 6`, 5, 5},
		// Two trees: never one container.
		{"two top-level tasks", "spawn 1\nspawn 2\npipe 1 = 0 1\n", 1, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := parse(t, "t.scn", tt.script)
			res, err := runner.VerifyWith(s, runner.VerifyOptions{Every: true})
			require.NoError(t, err)
			assert.Equal(t, tt.checkpoints, res.Checkpoints)
			assert.Equal(t, tt.every, res.Every)
			plain, err := runner.Verify(s)
			require.NoError(t, err)
			assert.Zero(t, plain.Every)
			assert.Equal(t, tt.checkpoints-tt.every, plain.Checkpoints)
		})
	}

	// A line that fails on a world that has migrated is named by its own
	// number: the added checkpoints are not lines of the script.
	_, err := runner.VerifyWith(parse(t, "t.scn", "spawn 1\npipe 1 = 0 1\nwrite 1 1 \"x\" = 2\n"), runner.VerifyOptions{Every: true})
	f, ok := errors.AsType[*runner.Failure](err)
	require.True(t, ok, "%v", err)
	assert.Equal(t, 3, f.Line)
}
