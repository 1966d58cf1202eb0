package ckpt_test

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/ckpt/image"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/internal/imgedit"
	"github.com/ckptsim/ckptsim/props"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
	"github.com/ckptsim/ckptsim/sim/x86cpu"
)

// The rules: every check restart makes and every refusal of checkpoint,
// each pinned at its boundary. A rule's cases come in pairs where the rule
// has a boundary: the image (or world) right at it, which restart must
// accept and restore exactly (checkpointing the restored world again gives
// the image back, props.SameImage), and the one a step beyond, which must
// be refused with the rule's errno and message. A rule removed, or moved by
// one, fails one side of the pair. docs/RULES.md lists every rule with the
// test that pins it, these and the hostile cases (hostile_test.go) and
// properties (props) that pin others.
//
// The images are crafted through system calls and edited by record and
// field name (internal/imgedit), through behaviour and the format, not the
// engine's code, so the tests hold however the engine is arranged.

// rulesClock makes the rule images reproducible.
func rulesClock() time.Time { return time.Unix(1700000000, 0) }

// ruleWorld runs a script in a fresh kernel with the given limits.
func ruleWorld(t *testing.T, cfg kernel.Config, script string) *kernel.Kernel {
	t.Helper()
	s, err := scenario.ParseString("rule world", script)
	require.NoError(t, err)
	k := kernel.New(cfg)
	require.NoError(t, scenario.Replay(k, s))
	return k
}

// ruleImage checkpoints the container rooted at root, freezing it for the
// checkpoint and thawing it after, and returns its records.
func ruleImage(t *testing.T, k *kernel.Kernel, root int) []*image.Record {
	t.Helper()
	img, err := (&ckpt.Engine{Kernel: k, Clock: rulesClock}).Snapshot(root, 0)
	require.NoError(t, err)
	recs, err := imgedit.Read(img)
	require.NoError(t, err)
	return recs
}

// restartRule restarts img in a fresh kernel with limits cfg on a copy of
// disk's disk. A refusal must leave that kernel as it was; an acceptance
// must give a consistent kernel whose container checkpoints back to img.
func restartRule(t *testing.T, disk *kernel.Kernel, cfg kernel.Config, img []byte) error {
	t.Helper()
	cfg.DiskFrom = disk
	k2 := kernel.New(cfg)
	before := k2.Registry().Snapshot()
	root, err := ckpt.New(k2).Restart(bytes.NewReader(img), 0)
	require.NoError(t, k2.Check(), "after restart (%v)", err)
	if err != nil {
		require.Empty(t, before.Diff(k2.Registry().Snapshot()), "the refused restart (%v) changed the kernel", err)
		return err
	}
	again, err := props.Reimage(k2, root, img)
	require.NoError(t, err, "the restored container cannot be checkpointed")
	require.NoError(t, props.SameImage(img, again), "the restored container is not the image's")
	return nil
}

// ruleRec returns the n-th record (from 0) of the type called typ whose fields
// have the given values.
func ruleRec(t *testing.T, recs []*image.Record, typ string, n int, fields map[string]int64) *image.Record {
	t.Helper()
	for _, r := range recs {
		if !imgedit.Is(r, typ) {
			continue
		}
		match := true
		for f, v := range fields {
			match = match && imgedit.Get(r, f) == v
		}
		if match {
			if n == 0 {
				return r
			}
			n--
		}
	}
	require.FailNow(t, "no such record", "%s #%d with %v", typ, n, fields)
	return nil
}

// ruleSet returns an edit that sets fields of the n-th record of a type whose
// fields match.
func ruleSet(typ string, n int, match map[string]int64, fields map[string]int64) func(*testing.T, []*image.Record) []*image.Record {
	return func(t *testing.T, recs []*image.Record) []*image.Record {
		r := ruleRec(t, recs, typ, n, match)
		for f, v := range fields {
			imgedit.Set(r, f, v)
		}
		return recs
	}
}

// ruleRegs returns an edit of the n-th REGS record's state.
func ruleRegs(n int, edit func(*x86cpu.State)) func(*testing.T, []*image.Record) []*image.Record {
	return func(t *testing.T, recs []*image.Record) []*image.Record {
		r := ruleRec(t, recs, "REGS", n, nil)
		var s x86cpu.State
		require.NoError(t, s.UnmarshalBinary(imgedit.Payload(r)))
		edit(&s)
		b, err := s.MarshalBinary()
		require.NoError(t, err)
		imgedit.SetPayload(r, b)
		return recs
	}
}

// File types, modes and flags as images hold them.
const (
	ftRegular, ftDir, ftPipe, ftFIFO = 1, 2, 3, 4
	modeRead, modeWrite              = 1, 2
	oLargefile                       = 0o100000
	oCloexec                         = 0o2000000
	sIFDIR, sIFREG, sIFIFO           = 0o040000, 0o100000, 0o010000
)

// filesWorld has a file of every type: fd 0 /d/f (regular, "hello"), fds
// 1 and 2 a pipe holding "in flight", fd 3 the FIFO /q, fd 4 an unlinked
// file ("ghostly"), fd 5 the directory /d; pid 2 is a fork of pid 1.
const filesWorld = `
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
open 1 /d O_RDONLY|O_DIRECTORY
fork 1 2
`

// restartCase is one image of a restart rule's: accepted (errno 0) and
// restored exactly, or refused with errno and a message holding msg.
type restartCase struct {
	rule   string // the rule, as docs/RULES.md names it
	what   string // this case
	cfg    kernel.Config
	script string
	root   int            // the container's root; 0 for pid 1
	target *kernel.Config // the restarting kernel's limits, when not cfg's
	edit   func(t *testing.T, recs []*image.Record) []*image.Record
	// raw edits the encoded image, checksum recomputed, for what records
	// cannot say (their padding); it returns the bytes to restart.
	raw   func(t *testing.T, img []byte) []byte
	errno errno.Errno
	msg   string
}

func (c restartCase) run(t *testing.T) {
	k := ruleWorld(t, c.cfg, c.script)
	root := c.root
	if root == 0 {
		root = 1
	}
	recs := ruleImage(t, k, root)
	if c.edit != nil {
		recs = c.edit(t, imgedit.Clone(recs))
	}
	target := c.cfg
	if c.target != nil {
		target = *c.target
	}
	img := image.Encode(recs, true)
	if c.raw != nil {
		img = c.raw(t, img)
	}
	err := restartRule(t, k, target, img)
	if c.errno == 0 {
		require.NoError(t, err, "the image at the rule's boundary is refused")
		return
	}
	require.Error(t, err, "the image beyond the rule's boundary is accepted")
	assert.True(t, errors.Is(err, c.errno), "errno: want %s, got %v", c.errno.Name(), err)
	assert.Contains(t, err.Error(), c.msg)
}

// limitsWorld fills pid 1's table: fds 0 to 7 on a kernel whose nr_open and
// RLIMIT_NOFILE are both 8.
func limitsWorld() (kernel.Config, string) {
	var b strings.Builder
	b.WriteString("spawn 1\nopen 1 / O_RDONLY|O_DIRECTORY\n")
	for fd := 1; fd < 8; fd++ {
		fmt.Fprintf(&b, "dup 1 0 = %d\n", fd)
	}
	b.WriteString("dup 1 0 = EMFILE\n")
	return kernel.Config{NrOpen: 8, NoFile: 8}, b.String()
}

// deepWorld makes, through props.DeepPath, a file or working directory of
// pid 1 whose path is exactly n bytes long, then perhaps more lines.
func deepWorld(t *testing.T, n int, leafDir bool, more string) string {
	var lines []string
	k := kernel.New(kernel.Config{})
	exec := func(line string) scenario.Outcome {
		s, err := scenario.ParseString("deep", line)
		require.NoError(t, err)
		o := scenario.Exec(k, s.Lines[0])
		lines = append(lines, line+" = "+o.String())
		return o
	}
	exec("spawn 1")
	exec("mkdir 1 /d")
	props.DeepPath(exec, 1, n, leafDir)
	v := k.View()
	deepest := len(v.FSStates[v.Task(1).FS].Cwd)
	if !leafDir {
		deepest = len(v.Files[v.FileTables[v.Task(1).FileTable].Fds[0].File].Path)
	}
	require.Equal(t, n, deepest, "the deep path's length")
	return strings.Join(lines, "\n") + "\n" + more
}

// restartRules are the restart rules' cases.
func restartRules(t *testing.T) []restartCase {
	limCfg, limScript := limitsWorld()
	full := "spawn 1\npipe 1\n" + strings.Repeat("write 1 1 \""+strings.Repeat("x", 4096)+"\"\n", 16)
	return []restartCase{
		// The task tree.
		{rule: "tree: fewer tasks than pid_max", what: "pid_max-1 tasks", script: "spawn 1\nfork 1 2\nfork 1 3\nfork 1 4\n",
			target: &kernel.Config{PidMax: 5}},
		{rule: "tree: fewer tasks than pid_max", what: "pid_max tasks", script: "spawn 1\nfork 1 2\nfork 1 3\nfork 1 4\n",
			target: &kernel.Config{PidMax: 4}, errno: errno.EINVAL, msg: "TREE record: 4 tasks"},
		{rule: "task: pid below pid_max", what: "pid pid_max-1", script: "spawn 1\nfork 1 9\n", target: &kernel.Config{PidMax: 10}},
		{rule: "task: pid below pid_max", what: "pid pid_max", script: "spawn 1\nfork 1 10\n", target: &kernel.Config{PidMax: 10},
			errno: errno.EINVAL, msg: "pid 10 out of range 1..9"},
		{rule: "task: command name of at most 15 bytes and a NUL", what: "15 bytes",
			script: "spawn 1 \"fifteen-bytes15\"\nclone 1 2 \"sixteen-bytes-16\"\n"},
		{rule: "task: state live or zombie", what: "a zombie", script: "spawn 1\nfork 1 2\nexit 2 0\n"},
		{rule: "task: a zombie's exit code in 0..255", what: "exit code 255", script: "spawn 1\nfork 1 2\nexit 2 255\n"},
		{rule: "task: a zombie's exit code in 0..255", what: "exit code 256", script: "spawn 1\nfork 1 2\nexit 2 255\n",
			edit: ruleSet("TASK", 0, map[string]int64{"Pid": 2}, map[string]int64{"ExitCode": 256}), errno: errno.EINVAL, msg: "pid 2: exit code 256"},
		{rule: "task: a zombie's exit code in 0..255", what: "exit code 0", script: "spawn 1\nfork 1 2\nexit 2 1\n",
			edit: ruleSet("TASK", 0, map[string]int64{"Pid": 2}, map[string]int64{"ExitCode": 0})},
		{rule: "task: a zombie's exit code in 0..255", what: "exit code -1", script: "spawn 1\nfork 1 2\nexit 2 0\n",
			edit: ruleSet("TASK", 0, map[string]int64{"Pid": 2}, map[string]int64{"ExitCode": -1}), errno: errno.EINVAL, msg: "pid 2: exit code -1"},
		{rule: "task: a live task's exit code 0", what: "exit code 1", script: "spawn 1\nfork 1 2\n",
			edit: ruleSet("TASK", 0, map[string]int64{"Pid": 2}, map[string]int64{"ExitCode": 1}), errno: errno.EINVAL, msg: "pid 2: exit code 1"},
		{rule: "tree: preorder, each parent an ancestor", what: "back up two levels",
			script: "spawn 1\nfork 1 2\nfork 2 3\nfork 3 4\nfork 1 5\n"},
		{rule: "tree: preorder, each parent an ancestor", what: "a parent whose subtree has ended",
			script: "spawn 1\nfork 1 2\nfork 2 3\nfork 1 4\nfork 1 5\n",
			edit:   ruleSet("TASK", 0, map[string]int64{"Pid": 5}, map[string]int64{"PPid": 3}), errno: errno.EINVAL,
			msg: "pid 5: parent 3 is not an ancestor in preorder"},

		// Limits.
		{rule: "file table: at most nr_open descriptors", what: "exactly nr_open", cfg: limCfg, script: limScript},
		{rule: "file table: at most nr_open descriptors", what: "nr_open+1", cfg: limCfg, script: limScript,
			target: &kernel.Config{NrOpen: 7, NoFile: 7}, errno: errno.EMFILE, msg: "8 descriptors, nr_open is 7"},
		{rule: "fd: below RLIMIT_NOFILE", what: "RLIMIT_NOFILE-1", cfg: limCfg, script: limScript},
		{rule: "fd: below RLIMIT_NOFILE", what: "RLIMIT_NOFILE", cfg: limCfg, script: limScript,
			target: &kernel.Config{NrOpen: 8, NoFile: 7}, errno: errno.EMFILE, msg: "fd 7 is beyond RLIMIT_NOFILE 7"},
		{rule: "fd: close-on-exec 0 or 1", what: "1", script: "spawn 1\npipe 1 O_CLOEXEC\nopen 1 / O_RDONLY\n"},

		// Paths.
		{rule: "fs state: canonical paths of at most PATH_MAX-1 bytes", what: "a cwd of 4095 bytes",
			script: deepWorld(t, props.PathMax, true, "")},
		{rule: "fs state: canonical paths of at most PATH_MAX-1 bytes", what: "a cwd of 4096 bytes",
			script: deepWorld(t, props.PathMax, true, ""),
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "FS", 0, nil)
				r.Tail = append(r.Tail, 'z')
				imgedit.Set(r, "CwdLen", imgedit.Get(r, "CwdLen")+1)
				return recs
			},
			errno: errno.EINVAL, msg: "is not a canonical path inside the container"},
		{rule: "file: canonical path of at most PATH_MAX-1 bytes", what: "a path of 4095 bytes",
			script: deepWorld(t, props.PathMax, false, "")},
		{rule: "file: canonical path of at most PATH_MAX-1 bytes", what: "a path of 4096 bytes",
			script: deepWorld(t, props.PathMax, false, ""),
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "FILE", 0, nil)
				r.Tail = append(r.Tail, 'z')
				return recs
			},
			errno: errno.EINVAL, msg: "is not a canonical path inside the container"},
		{rule: "record: length within its type's bounds", what: "a pipe buffer of a whole page",
			script: "spawn 1\npipe 1\nwrite 1 1 \"" + strings.Repeat("p", 4096) + "\"\n"},
		{rule: "record: length within its type's bounds", what: "a pipe buffer of a page and a byte",
			script: "spawn 1\npipe 1\nwrite 1 1 \"" + strings.Repeat("p", 4096) + "\"\n",
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "PIPE_BUF", 0, nil)
				r.Tail = append(r.Tail, 'p')
				imgedit.Set(ruleRec(t, recs, "PIPE", 0, nil), "Bytes", 4097)
				return recs
			},
			errno: errno.EINVAL, msg: "PIPE_BUF record: length 4105, allowed 9..4104"},
		{rule: "ghost: a path of at most PATH_MAX-1 bytes", what: "4095 bytes",
			script: deepWorld(t, props.PathMax, false, "write 1 0 \"contents\"\nunlink 1 "+strings.Repeat("z", props.PathMax-2-15*256-1)+"\n")},
		{rule: "ghost: a path of at most PATH_MAX-1 bytes", what: "4096 bytes",
			script: deepWorld(t, props.PathMax, false, "write 1 0 \"contents\"\nunlink 1 "+strings.Repeat("z", props.PathMax-2-15*256-1)+"\n"),
			edit:   ruleSet("GHOST", 0, nil, map[string]int64{"PathLen": props.PathMax + 1}), errno: errno.EINVAL, msg: "a 4096-byte path in a 4103-byte tail"},
		{rule: "ghost: a name of at most NAME_MAX bytes", what: "255 bytes",
			script: "spawn 1\nopen 1 " + strings.Repeat("n", 255) + " O_RDWR|O_CREAT 0600\nunlink 1 " + strings.Repeat("n", 255) + "\n"},

		// Files.
		{rule: "file: status flags restored as saved", what: "every status flag a file keeps",
			script: "spawn 1\nopen 1 /f O_RDWR|O_CREAT|O_APPEND|O_NONBLOCK|O_DIRECT|O_SYNC|O_NOATIME 0644\npipe 1 O_NONBLOCK|O_DIRECT\nfcntl 1 1 F_SETFL O_ASYNC|O_NONBLOCK\nmkdir 1 /d\nopen 1 /d O_RDONLY|O_NONBLOCK\n"},
		{rule: "file: status flags restored as saved", what: "a flag the reopened file does not keep", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0}, map[string]int64{"Flags": 2 | oCloexec}),
			errno: errno.EINVAL, msg: "cannot be restored"},
		{rule: "file: status flags restored as saved", what: "O_LARGEFILE missing from a regular file", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0}, map[string]int64{"Flags": 2}),
			errno: errno.EINVAL, msg: "status flags O_RDWR cannot be restored (got O_RDWR|O_LARGEFILE)"},
		{rule: "file: status flags restored as saved", what: "O_DIRECT on a directory", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftDir}, map[string]int64{"Flags": 0o40000 | oLargefile}),
			errno: errno.EINVAL, msg: "cannot be restored"},
		{rule: "file: O_ASYNC from open only on a FIFO with O_ASYNC", what: "a FIFO opened with O_ASYNC (F_SETFL cannot clear it) and one given it by F_SETFL (it can)",
			script: "spawn 1\nmkfifo 1 /q 0644\nopen 1 /q O_RDWR|0o20000\nopen 1 /q O_RDWR\nfcntl 1 1 F_SETFL 0o20000\npipe 1\nfcntl 1 3 F_SETFL 0o20000\n",
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				require.Equal(t, int64(1), imgedit.Get(ruleRec(t, recs, "FILE", 0, map[string]int64{"FileType": ftFIFO}), "Async"))
				require.Equal(t, int64(0), imgedit.Get(ruleRec(t, recs, "FILE", 1, map[string]int64{"FileType": ftFIFO}), "Async"))
				return recs
			}},
		{rule: "file: O_ASYNC from open only on a FIFO with O_ASYNC", what: "a FIFO without O_ASYNC", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftFIFO}, map[string]int64{"Async": 1}),
			errno: errno.EINVAL, msg: "O_ASYNC from open (1) on a fifo file with flags O_RDWR|O_LARGEFILE"},
		{rule: "file: O_ASYNC from open only on a FIFO with O_ASYNC", what: "a pipe end with O_ASYNC", script: "spawn 1\npipe 1\nfcntl 1 0 F_SETFL 0o20000\n",
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftPipe}, map[string]int64{"Async": 1}),
			errno: errno.EINVAL, msg: "O_ASYNC from open (1) on a pipe file"},
		{rule: "file: O_ASYNC from open only on a FIFO with O_ASYNC", what: "Async 2", script: "spawn 1\nmkfifo 1 /q 0644\nopen 1 /q O_RDWR|0o20000\n",
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftFIFO}, map[string]int64{"Async": 2}),
			errno: errno.EINVAL, msg: "O_ASYNC from open (2)"},
		{rule: "file: mode the reopened file's", what: "a regular file's mode without pwrite", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0}, map[string]int64{"Mode": 0xf}),
			errno: errno.EINVAL, msg: "saved mode"},
		{rule: "file: known mode bits", what: "bit 0x20", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0}, map[string]int64{"Mode": 0x3f}),
			errno: errno.EINVAL, msg: "mode bits"},
		{rule: "file: type 1..4", what: "type 0", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0}, map[string]int64{"FileType": 0}),
			errno: errno.EINVAL, msg: "file type 0"},
		{rule: "file: a size and change counter only on a regular file", what: "a directory with a size", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftDir}, map[string]int64{"Size": 1}), errno: errno.EINVAL,
			msg: "for a directory file"},
		{rule: "file: a size and change counter only on a regular file", what: "a pipe end with a change counter", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftPipe}, map[string]int64{"Changes": 1}), errno: errno.EINVAL,
			msg: "for a pipe file"},
		{rule: "file: a size and change counter only on a regular file", what: "a FIFO with a size", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftFIFO}, map[string]int64{"Size": 1}), errno: errno.EINVAL,
			msg: "for a fifo file"},
		{rule: "file: a ghost only for a regular file or FIFO", what: "a directory with a ghost", script: filesWorld,
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "FILE", 0, map[string]int64{"FileType": ftDir})
				imgedit.Set(r, "Ghost", 9)
				r.Tail = nil
				return recs
			},
			errno: errno.EINVAL, msg: "ghost objref 9 for a directory"},
		{rule: "file: a ghost objref is not negative", what: "ghost -1", script: filesWorld,
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 0})
				imgedit.Set(r, "Ghost", -1)
				r.Tail = nil
				return recs
			},
			errno: errno.EINVAL, msg: "ghost objref -1"},
		{rule: "file: a pipe objref exactly on a pipe end or FIFO", what: "a pipe end without one", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftPipe}, map[string]int64{"Pipe": 0}), errno: errno.EINVAL,
			msg: "pipe objref 0 for a pipe file"},
		{rule: "file: a pipe objref exactly on a pipe end or FIFO", what: "a negative one", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftFIFO}, map[string]int64{"Pipe": -4}), errno: errno.EINVAL,
			msg: "pipe objref -4 for a fifo file"},
		{rule: "file: the position of a file that cannot seek is 0", what: "a pipe end at 0", script: filesWorld},
		{rule: "file: a position the file can seek to", what: "the largest", script: "spawn 1\nopen 1 /f O_RDWR|O_CREAT\nlseek 1 0 17592186040320 SEEK_SET\n"},
		{rule: "file: a position the file can seek to", what: "one more", script: "spawn 1\nopen 1 /f O_RDWR|O_CREAT\nlseek 1 0 17592186040320 SEEK_SET\n",
			edit: ruleSet("FILE", 0, nil, map[string]int64{"Pos": 17592186040321}), errno: errno.EINVAL, msg: "position 17592186040321"},
		{rule: "regular file: the ghost's size and changes", what: "a size one more than the ghost's", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 9}, map[string]int64{"Size": 8}), errno: errno.EINVAL,
			msg: "the file says size 8 and 1 changes, its ghost 9 (/g (deleted)) size 7 and 1 changes"},
		{rule: "regular file: the ghost's size and changes", what: "a change counter one more", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 9}, map[string]int64{"Changes": 2}), errno: errno.EINVAL,
			msg: "the file says size 7 and 2 changes"},
		{rule: "file: a ghost of the file's type", what: "a FIFO on a regular file's ghost", script: filesWorld,
			edit:  ruleSet("FILE", 0, map[string]int64{"FileType": ftRegular, "Ghost": 9}, map[string]int64{"FileType": ftFIFO, "Size": 0, "Changes": 0, "Pipe": 7}),
			errno: errno.EINVAL, msg: "a fifo file on ghost 9"},
		{rule: "file: a ghost of the file's type", what: "a regular file on a FIFO's ghost",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDWR\nunlink 1 /q\n",
			edit:   ruleSet("FILE", 0, map[string]int64{"FileType": ftFIFO}, map[string]int64{"FileType": ftRegular, "Pipe": 0}),
			errno:  errno.EINVAL, msg: "a regular file on ghost"},

		// Pipes and FIFOs.
		{rule: "pipe end: mode read or write", what: "mode 0", script: filesWorld,
			edit: ruleSet("FILE", 0, map[string]int64{"FileType": ftPipe}, map[string]int64{"Mode": 0}), errno: errno.EINVAL, msg: "pipe end with mode"},
		{rule: "pipe end: an end no file claims is dropped", what: "a pipe whose write end was closed",
			script: "spawn 1\npipe 1\nwrite 1 1 \"left\"\nclose 1 1\n"},
		{rule: "pipe: at most 16 buffers and 65536 bytes", what: "a full pipe: 16 buffers, 65536 bytes", script: full},
		{rule: "pipe: at most 16 buffers and 65536 bytes", what: "17 buffers", script: full,
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				i := ruleIndex(recs, ruleRec(t, recs, "PIPE_BUF", 15, nil))
				extra := imgedit.Clone(recs[i : i+1])
				imgedit.Set(ruleRec(t, recs, "PIPE", 0, nil), "Buffers", 17)
				imgedit.Set(ruleRec(t, recs, "PIPE", 0, nil), "Bytes", 65537)
				extra[0].Tail = []byte("y")
				return append(recs[:i+1:i+1], append(extra, recs[i+1:]...)...)
			},
			errno: errno.EINVAL, msg: "17 buffers of 65537 bytes in all: a pipe holds at most 16 buffers, 65536 bytes"},
		{rule: "pipe buffer: its bytes within its page", what: "the last byte of the page",
			script: "spawn 1\npipe 1\nwrite 1 1 \"" + strings.Repeat("p", 4096) + "\"\nread 1 0 4095\n"},
		{rule: "pipe buffer: its bytes within its page", what: "one byte past it",
			script: "spawn 1\npipe 1\nwrite 1 1 \"" + strings.Repeat("p", 4096) + "\"\nread 1 0 4095\n",
			edit:   ruleSet("PIPE_BUF", 0, nil, map[string]int64{"Offset": 4096}), errno: errno.EINVAL, msg: "buffer of 1 bytes at offset 4096"},
		{rule: "pipe buffer: flags 0 or packet", what: "a packet", script: "spawn 1\npipe 1 O_DIRECT\nwrite 1 1 \"one\"\nwrite 1 1 \"two\"\n"},
		{rule: "FIFO: files opened on it share its pipe", what: "two files, one pipe",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDONLY|O_NONBLOCK\nopen 1 /q O_WRONLY\nwrite 1 1 \"through\"\nopen 1 /q O_RDWR\n"},
		{rule: "FIFO: a pipe objref names this FIFO's pipe", what: "another FIFO's pipe",
			script: "spawn 1\nmkfifo 1 /q\nmkfifo 1 /r\nopen 1 /q O_RDWR\nopen 1 /r O_RDWR\n",
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				first := imgedit.Get(ruleRec(t, recs, "FILE", 0, map[string]int64{"FileType": ftFIFO}), "Pipe")
				r := ruleRec(t, recs, "FILE", 1, map[string]int64{"FileType": ftFIFO})
				imgedit.Set(r, "Pipe", first)
				// Its pipe's state goes: the pipe is not new any more.
				i := ruleIndex(recs, r)
				return append(recs[:i+1:i+1], recs[i+3:]...)
			},
			errno: errno.EINVAL, msg: "/r: pipe 3 belongs to another FIFO"},
		{rule: "FIFO: all its files name one pipe", what: "a second file naming a new pipe",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDWR\nopen 1 /q O_RDWR\n",
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				r := ruleRec(t, recs, "FILE", 1, map[string]int64{"FileType": ftFIFO})
				imgedit.Set(r, "Pipe", 9)
				// A state for the new pipe, copied from the first's.
				i := ruleIndex(recs, ruleRec(t, recs, "OBJREF", 0, map[string]int64{"ObjType": 4}))
				state := imgedit.Clone(recs[i : i+2])
				imgedit.Set(state[0], "Objref", 9)
				j := ruleIndex(recs, r)
				return append(recs[:j+1:j+1], append(state, recs[j+1:]...)...)
			},
			errno: errno.EINVAL, msg: "the FIFO's pipe is objref 3, not 9"},

		// Ghosts.
		{rule: "ghost: a regular file or FIFO, permission bits only", what: "every permission bit",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT 07777\nunlink 1 /g\n"},
		{rule: "ghost: a regular file or FIFO, permission bits only", what: "a bit above the type",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT 0600\nunlink 1 /g\n",
			edit:   ruleSet("GHOST", 0, nil, map[string]int64{"Mode": 0o200000 | sIFREG | 0o600}), errno: errno.EINVAL, msg: "ghost with mode 0300600"},
		{rule: "ghost: a regular file or FIFO, permission bits only", what: "two types at once",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT 0600\nunlink 1 /g\n",
			edit:   ruleSet("GHOST", 0, nil, map[string]int64{"Mode": sIFREG | sIFIFO | 0o600}), errno: errno.EINVAL, msg: "ghost with mode 0110600"},
		{rule: "ghost: contents of at most a file's largest size", what: "16 MiB",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT 0600\nunlink 1 /g\n", edit: ghostOfSize(vfs.MaxFileSize)},
		{rule: "ghost: contents of at most a file's largest size", what: "16 MiB and a byte",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT 0600\nunlink 1 /g\n", edit: ghostOfSize(vfs.MaxFileSize + 1),
			errno: errno.EINVAL, msg: "ghost of 16777217 bytes, more than a file holds (16777216)"},
		{rule: "ghost: a FIFO has no contents or changes", what: "a FIFO ghost",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDWR\nwrite 1 0 \"in the pipe\"\nunlink 1 /q\n"},
		{rule: "ghost: a FIFO has no contents or changes", what: "with a change counter",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDWR\nunlink 1 /q\n",
			edit:   ruleSet("GHOST", 0, nil, map[string]int64{"Changes": 1}), errno: errno.EINVAL, msg: "ghost FIFO with contents"},

		// The stream.
		{rule: "header: known checkpoint flags", what: "CHECKPOINT_SUBTREE", script: "spawn 1\nfork 1 2\n",
			edit: ruleSet("HEADER", 0, nil, map[string]int64{"Flags": ckpt.CHECKPOINT_SUBTREE})},
		{rule: "header: known checkpoint flags", what: "the lowest unknown flag", script: "spawn 1\n",
			edit: ruleSet("HEADER", 0, nil, map[string]int64{"Flags": 2}), errno: errno.EINVAL, msg: "unknown checkpoint flags 0x2"},
		{rule: "record: zero padding", what: "a padding byte not zero", script: "spawn 1\n",
			raw: func(t *testing.T, img []byte) []byte {
				// The FS record of "/" and "/" is 8+2 bytes, padded with 6.
				recs, err := imgedit.Read(img)
				require.NoError(t, err)
				fs := ruleRec(t, recs, "FS", 0, nil)
				img[fs.End()-1] = 1
				recs, err = image.ReadAll(bytes.NewReader(img[:fs.End()]))
				require.Error(t, err, "the reader takes the altered padding")
				return img
			},
			errno: errno.EINVAL, msg: "FS record: padding is not zero"},
		{rule: "pid namespace: the last pid below pid_max", what: "pid_max-1", script: "spawn 0\n", target: &kernel.Config{PidMax: 2}},
		{rule: "pid namespace: the last pid below pid_max", what: "pid_max", script: "spawn 0\n", target: &kernel.Config{PidMax: 2},
			edit: ruleSet("PIDNS", 0, nil, map[string]int64{"LastPid": 2}), errno: errno.EINVAL, msg: "last pid 2, pid_max is 2"},
		{rule: "directory: still a directory", what: "a regular file in its place", script: filesWorld,
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				ruleRec(t, recs, "FILE", 0, map[string]int64{"FileType": ftDir}).Tail = []byte("/d/f")
				return recs
			},
			errno: errno.ESTALE, msg: "/d/f: no longer a directory"},
		{rule: "ghost: a name of at most NAME_MAX bytes", what: "256 bytes",
			script: "spawn 1\nopen 1 " + strings.Repeat("n", 255) + " O_RDWR|O_CREAT 0600\nunlink 1 " + strings.Repeat("n", 255) + "\n",
			edit: func(t *testing.T, recs []*image.Record) []*image.Record {
				g := ruleRec(t, recs, "GHOST", 0, nil)
				g.Tail = append([]byte("/n"), g.Tail[1:]...)
				imgedit.Set(g, "PathLen", 257)
				return recs
			},
			errno: errno.EINVAL, msg: "ghost name"},
	}
}

// ghostOfSize returns an edit that gives the first ghost, and the file
// open on it, n bytes of contents.
func ghostOfSize(n int) func(*testing.T, []*image.Record) []*image.Record {
	return func(t *testing.T, recs []*image.Record) []*image.Record {
		g := ruleRec(t, recs, "GHOST", 0, nil)
		g.Tail = append(g.Tail[:imgedit.Get(g, "PathLen")], bytes.Repeat([]byte("g"), n)...)
		imgedit.Set(ruleRec(t, recs, "FILE", 0, nil), "Size", int64(n))
		return recs
	}
}

func ruleIndex(recs []*image.Record, r *image.Record) int {
	for i, x := range recs {
		if x == r {
			return i
		}
	}
	return -1
}

// TestRestartRules runs every restart rule's cases.
func TestRestartRules(t *testing.T) {
	for _, c := range restartRules(t) {
		t.Run(c.rule+"/"+c.what, c.run)
	}
}

// TestRegisterRules restarts images whose registers sit at each of
// x86cpu's validation boundaries, in a live task and in a zombie: restart
// must accept the one and refuse the other, so that it validates every part
// of every task's state (package x86cpu's tests pin the rules themselves).
func TestRegisterRules(t *testing.T) {
	const top = x86cpu.TaskSizeMax
	pairs := []struct {
		name    string
		ok, bad func(*x86cpu.State)
		msg     string
	}{
		{"rip", func(s *x86cpu.State) { s.Regs.Rip = top - 1 }, func(s *x86cpu.State) { s.Regs.Rip = top }, "rip"},
		{"gs_base", func(s *x86cpu.State) { s.Regs.GsBase = top - 1 }, func(s *x86cpu.State) { s.Regs.GsBase = top }, "gs_base"},
		{"cs", func(s *x86cpu.State) { s.Regs.Cs = x86cpu.User32CS }, func(s *x86cpu.State) { s.Regs.Cs = x86cpu.UserDS }, "cs"},
		{"TLS selector", func(s *x86cpu.State) { s.Regs.Fs = x86cpu.GDTEntryTLSMax<<3 | 3 }, func(s *x86cpu.State) { s.Regs.Fs = (x86cpu.GDTEntryTLSMax+1)<<3 | 3 }, "fs"},
		{"LDT selector", func(s *x86cpu.State) { s.Regs.Es = 0xffff }, func(s *x86cpu.State) { s.Regs.Es = 0xfffe }, "es"},
		{"eflags", func(s *x86cpu.State) { s.Regs.Eflags = x86cpu.RequiredFlags | x86cpu.UserFlags },
			func(s *x86cpu.State) { s.Regs.Eflags = x86cpu.RequiredFlags | x86cpu.UserFlags | x86cpu.FlagVIP }, "eflags"},
		{"mxcsr", func(s *x86cpu.State) { s.FPU.Mxcsr = x86cpu.MXCSRFeatureMask }, func(s *x86cpu.State) { s.FPU.Mxcsr = x86cpu.MXCSRFeatureMask + 1 }, "mxcsr"},
		{"x87 and XMM state", func(s *x86cpu.State) {
			s.FPU.Cwd, s.FPU.ST[7].SignExp, s.FPU.XMM[15].Hi, s.FPU.Padding[23] = 0xffff, 0xffff, 1<<64-1, 7
		},
			func(s *x86cpu.State) { s.FPU.MxcsrMask = 0xfffe }, "mxcsr_mask"},
		{"breakpoint address", func(s *x86cpu.State) { s.Debug[3] = top - 1 }, func(s *x86cpu.State) { s.Debug[3] = top }, "dr3"},
		{"breakpoint alignment", func(s *x86cpu.State) { s.Debug[0], s.Debug[7] = 0x1008, 0x2<<18|1<<16|1 },
			func(s *x86cpu.State) { s.Debug[0], s.Debug[7] = 0x1004, 0x2<<18|1<<16|1 }, "dr0"},
		{"debug status", func(s *x86cpu.State) { s.Debug[6] = 1<<32 - 1 }, func(s *x86cpu.State) { s.Debug[6] = 1 << 32 }, "dr6"},
		{"debug control", func(s *x86cpu.State) { s.Debug[7] = 0x3ff }, func(s *x86cpu.State) { s.Debug[7] = 0x400 }, "dr7"},
		{"DR5", func(s *x86cpu.State) { s.Debug[5] = 0 }, func(s *x86cpu.State) { s.Debug[5] = 1 }, "dr5"},
	}
	for _, p := range pairs {
		for n, who := range []string{"a live task", "a zombie"} {
			t.Run(p.name+" of "+who, func(t *testing.T) {
				restartCase{script: "spawn 1\nfork 1 2\nexit 2 0\n", edit: ruleRegs(n, p.ok)}.run(t)
				restartCase{script: "spawn 1\nfork 1 2\nexit 2 0\n", edit: ruleRegs(n, p.bad), errno: errno.EINVAL,
					msg: fmt.Sprintf("pid %d: image offset", n+1)}.run(t)
			})
		}
	}
}

// checkpointCase is one world of a checkpoint rule's: saved (errno 0), or
// refused with errno and a message holding msg. Either way checkpoint
// changes nothing.
type checkpointCase struct {
	rule, what string
	script     string
	root       int
	// prepare changes the frozen world before the checkpoint (thaws a
	// task, say).
	prepare func(t *testing.T, k *kernel.Kernel)
	flags   int
	errno   errno.Errno
	msg     string
}

func (c checkpointCase) run(t *testing.T) {
	k := ruleWorld(t, kernel.Config{}, c.script)
	root := c.root
	if root == 0 {
		root = 1
	}
	require.NoError(t, k.Freeze(root))
	if c.prepare != nil {
		c.prepare(t, k)
	}
	view, live := k.View(), k.Registry().Snapshot()
	var img bytes.Buffer
	_, err := (&ckpt.Engine{Kernel: k, Clock: rulesClock}).Checkpoint(root, &img, c.flags)
	assert.Empty(t, live.Diff(k.Registry().Snapshot()), "checkpoint (%v) changed reference counts", err)
	assert.NoError(t, equiv.Equal(view, k.View()), "checkpoint (%v) changed the world", err)
	if c.errno != 0 {
		require.Error(t, err, "the world beyond the rule's boundary is saved")
		assert.True(t, errors.Is(err, c.errno), "errno: want %s, got %v", c.errno.Name(), err)
		assert.Contains(t, err.Error(), c.msg)
		return
	}
	require.NoError(t, err, "the world at the rule's boundary is refused")
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err = ckpt.New(k2).Restart(bytes.NewReader(img.Bytes()), ckpt.RESTART_FROZEN)
	require.NoError(t, err)
	require.NoError(t, k2.Check())
	if c.flags&ckpt.CHECKPOINT_SUBTREE == 0 {
		// A subtree's copy lacks what the outside held.
		require.NoError(t, equiv.EqualSubtree(k.View(), k2.View(), root))
	}
}

func ruleThaw(pid int) func(*testing.T, *kernel.Kernel) {
	return func(t *testing.T, k *kernel.Kernel) { require.NoError(t, k.Thaw(pid)) }
}

func checkpointRules(t *testing.T) []checkpointCase {
	tree := "spawn 1\nfork 1 2\nfork 2 3\nfork 2 4\nfork 1 5\nexit 5 0\n"
	return []checkpointCase{
		{rule: "checkpoint: known flags", what: "CHECKPOINT_SUBTREE", script: "spawn 1\n", flags: ckpt.CHECKPOINT_SUBTREE},
		{rule: "checkpoint: known flags", what: "the lowest unknown flag", script: "spawn 1\n", flags: 2, errno: errno.EINVAL, msg: "unknown flags 0x2"},
		{rule: "checkpoint: the root a live task", what: "a zombie", script: "spawn 1\nfork 1 2\nexit 2 0\n", root: 2, errno: errno.ESRCH, msg: "pid 2 is not a live task"},
		{rule: "checkpoint: every task frozen", what: "all frozen, a zombie among them", script: tree},
		{rule: "checkpoint: every task frozen", what: "the last task of the tree running", script: tree, prepare: ruleThaw(4),
			errno: errno.EBUSY, msg: "pid 4 is not frozen"},
		{rule: "checkpoint: every task frozen", what: "a task in the middle running", script: tree, prepare: ruleThaw(2),
			errno: errno.EBUSY, msg: "pid 2 is not frozen"},
		{rule: "checkpoint: no file holds a lock", what: "a shared lock", script: "spawn 1\nopen 1 / O_RDONLY\nflock 1 0 LOCK_SH\n",
			errno: errno.EBADF, msg: "the file holds a flock lock"},
		{rule: "checkpoint: no file holds a lock", what: "a lock taken and dropped", script: "spawn 1\nopen 1 / O_RDONLY\nflock 1 0 LOCK_EX\nflock 1 0 LOCK_UN\n"},
		{rule: "checkpoint: no file has an owner", what: "a live task", script: "spawn 1\nfork 1 2\npipe 1\nfcntl 1 1 F_SETOWN 2\n",
			errno: errno.EBUSY, msg: "the file has an owner (F_SETOWN 2)"},
		{rule: "checkpoint: no file has an owner", what: "a zombie", script: "spawn 1\nfork 1 2\npipe 1\nfcntl 1 1 F_SETOWN 2\nexit 2 0\n",
			errno: errno.EBUSY, msg: "the file has an owner (F_SETOWN 2)"},
		{rule: "checkpoint: no file has an owner", what: "a process group", script: "spawn 1\npipe 1\nfcntl 1 0 F_SETOWN -1\n",
			errno: errno.EBUSY, msg: "the file has an owner (F_SETOWN -1)"},
		{rule: "checkpoint: no file has an owner", what: "a task since reaped",
			script: "spawn 1\nfork 1 2\npipe 1\nfcntl 1 1 F_SETOWN 2\nexit 2 0\nwait 1 2\nfcntl 1 1 F_GETOWN = 0\n"},
		{rule: "checkpoint: no file has an owner", what: "an owner set back to 0", script: "spawn 1\npipe 1\nfcntl 1 0 F_SETOWN 1\nfcntl 1 0 F_SETOWN 0\n"},
		{rule: "checkpoint: paths of at most PATH_MAX-1 bytes", what: "a file of 4095 bytes", script: deepWorld(t, props.PathMax, false, "")},
		{rule: "checkpoint: paths of at most PATH_MAX-1 bytes", what: "a file of 4096 bytes", script: deepWorld(t, props.PathMax+1, false, ""),
			errno: errno.ENAMETOOLONG, msg: "a 4096-byte path, longer than PATH_MAX"},
		{rule: "checkpoint: paths of at most PATH_MAX-1 bytes", what: "a cwd of 4095 bytes", script: deepWorld(t, props.PathMax, true, "")},
		{rule: "checkpoint: paths of at most PATH_MAX-1 bytes", what: "a cwd of 4096 bytes", script: deepWorld(t, props.PathMax+1, true, ""),
			errno: errno.ENAMETOOLONG, msg: "a 4096-byte path, longer than PATH_MAX"},
		{rule: "checkpoint: paths of at most PATH_MAX-1 bytes", what: "an unlinked file's of 4096 bytes",
			script: deepWorld(t, props.PathMax+1, false, "unlink 1 "+strings.Repeat("z", props.PathMax+1-2-15*256-1)+"\n"),
			errno:  errno.ENAMETOOLONG, msg: "a 4096-byte path, longer than PATH_MAX"},
		{rule: "checkpoint: nothing shared with the outside", what: "a file table", script: "spawn 1\nclone 1 2 CLONE_FILES\n", root: 2,
			errno: errno.EBUSY, msg: "file table objref 1"},
		{rule: "checkpoint: nothing shared with the outside", what: "an fs state", script: "spawn 1\nclone 1 2 CLONE_FS\n", root: 2,
			errno: errno.EBUSY, msg: "fs state objref"},
		{rule: "checkpoint: nothing shared with the outside", what: "a file", script: "spawn 1\npipe 1\nfork 1 2\n", root: 2,
			errno: errno.EBUSY, msg: "file objref 2"},
		{rule: "checkpoint: nothing shared with the outside", what: "a pipe", script: "spawn 1\npipe 1\nfork 1 2\nclose 1 0\nclose 2 1\n", root: 2,
			errno: errno.EBUSY, msg: "pipe objref"},
		{rule: "checkpoint: nothing shared with the outside", what: "an unlinked file",
			script: "spawn 1\nopen 1 /g O_RDWR|O_CREAT\nspawn 2\nopen 2 /g O_RDONLY\nunlink 1 /g\n",
			errno:  errno.EBUSY, msg: "ghost objref"},
		{rule: "checkpoint: nothing shared with the outside", what: "a FIFO's pipe",
			script: "spawn 1\nmkfifo 1 /q\nopen 1 /q O_RDWR\nspawn 2\nopen 2 /q O_RDONLY|O_NONBLOCK\n",
			errno:  errno.EBUSY, msg: "pipe objref"},
		{rule: "checkpoint: nothing shared with the outside", what: "everything shared, with CHECKPOINT_SUBTREE",
			script: "spawn 1\npipe 1\nclone 1 2 CLONE_FILES|CLONE_FS\n", root: 2, flags: ckpt.CHECKPOINT_SUBTREE},
	}
}

// TestCheckpointRules runs every checkpoint rule's cases.
func TestCheckpointRules(t *testing.T) {
	for _, c := range checkpointRules(t) {
		t.Run(c.rule+"/"+c.what, c.run)
	}
}

// TestRestartFrozenFreezesEveryTask restarts a tree with RESTART_FROZEN: every live task
// comes back frozen, not only the root, and zombies stay zombies; without
// the flag every task runs.
func TestRestartFrozenFreezesEveryTask(t *testing.T) {
	k := ruleWorld(t, kernel.Config{}, "spawn 1\nfork 1 2\nfork 2 3\nfork 1 4\nexit 4 9\n")
	img, err := (&ckpt.Engine{Kernel: k, Clock: rulesClock}).Snapshot(1, 0)
	require.NoError(t, err)
	require.NoError(t, k.Freeze(1))
	frozen := k.View()
	require.NoError(t, k.Thaw(1))
	for _, flags := range []int{0, ckpt.RESTART_FROZEN} {
		k2 := kernel.New(kernel.Config{DiskFrom: k})
		_, err := ckpt.New(k2).Restart(bytes.NewReader(img), flags)
		require.NoError(t, err)
		want := k.View()
		if flags != 0 {
			want = frozen
		}
		require.NoError(t, equiv.Equal(want, k2.View()), "restart flags %#x", flags)
	}
}

// TestRestartReadsNothingPastTheTail restarts an image followed by more
// bytes in the same stream (another image, or garbage): restart accepts it,
// as the format decides, and leaves every byte after the tail unread for
// whoever reads the stream next.
func TestRestartReadsNothingPastTheTail(t *testing.T) {
	k := ruleWorld(t, kernel.Config{}, filesWorld)
	img, err := (&ckpt.Engine{Kernel: k, Clock: rulesClock}).Snapshot(1, 0)
	require.NoError(t, err)
	for name, after := range map[string][]byte{
		"garbage":       []byte("\xff\x00 not a record"),
		"another image": img,
		"a lone header": img[:8],
	} {
		t.Run(name, func(t *testing.T) {
			stream := bytes.NewReader(append(append([]byte(nil), img...), after...))
			k2 := kernel.New(kernel.Config{DiskFrom: k})
			_, err := ckpt.New(k2).Restart(stream, 0)
			require.NoError(t, err)
			require.Equal(t, len(after), stream.Len(), "restart read past the tail")
			require.NoError(t, equiv.Equal(k.View(), k2.View()))
		})
	}
}
