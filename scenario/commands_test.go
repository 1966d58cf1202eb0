package scenario

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/kernel"
)

// commandCases run every form of every command of the table: a line after
// a setup, what it prints, and lines after it that show it did what it
// says (each must give its expected result). Every form has a case with its
// fewest arguments and one with its most (for a repeated parameter, two
// repetitions), so that every reader of every argument runs.
var commandCases = []struct {
	usage string // the form the line must take
	setup string
	line  string
	out   string // the outcome as printed
	after string
	check func(t *testing.T, k *kernel.Kernel)
}{
	{usage: "spawn PID [COMM]", line: "spawn 1", out: "0", after: "spawn 1 = EEXIST",
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "sim", k.View().Task(1).Comm) }},
	{usage: "spawn PID [COMM]", line: "spawn 1 init", out: "0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "init", k.View().Task(1).Comm) }},
	{usage: "clone PID CHILD [FLAGS [COMM]]", setup: "spawn 1 init\nopen 1 / O_RDONLY = 0",
		line: "clone 1 2", out: "0", after: "close 2 0\nclose 1 0 = 0", // a copy of the file table
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "init", k.View().Task(2).Comm) }},
	{usage: "clone PID CHILD [FLAGS [COMM]]", setup: "spawn 1 init\nopen 1 / O_RDONLY = 0",
		line: "clone 1 2 CLONE_FILES worker", out: "0", after: "close 2 0\nclose 1 0 = EBADF", // the table is shared
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "worker", k.View().Task(2).Comm) }},
	{usage: "clone PID CHILD [FLAGS [COMM]]", setup: "spawn 1 init\nopen 1 / O_RDONLY = 0",
		line: "clone 1 2 0x400", out: "0", after: "close 2 0\nclose 1 0 = EBADF"},
	{usage: "clone PID CHILD COMM", setup: "spawn 1 init\nopen 1 / O_RDONLY = 0",
		line: "clone 1 2 worker", out: "0", after: "close 2 0\nclose 1 0 = 0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "worker", k.View().Task(2).Comm) }},
	{usage: "clone PID CHILD COMM", setup: "spawn 1 init",
		line: `clone 1 2 "CLONE_FILES"`, out: "0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.Equal(t, "CLONE_FILES", k.View().Task(2).Comm) }},
	{usage: "fork PID CHILD", setup: "spawn 1", line: "fork 1 2", out: "0", after: "wait 1 2 = BLOCKED"},
	{usage: "exit PID CODE", setup: "spawn 1\nfork 1 2", line: "exit 2 300", out: "0", after: "wait 1 2 = 44"},
	{usage: "wait PID CHILD", setup: "spawn 1\nfork 1 2\nexit 2 7", line: "wait 1 2", out: "7", after: "wait 1 2 = ECHILD"},
	{usage: "mkdir PID PATH [MODE]", setup: "spawn 1", line: "mkdir 1 /d", out: "0", after: "mkdir 1 /d = EEXIST\nopen 1 /d O_RDONLY|O_DIRECTORY = 0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 0o777, permOf(t, k, 1, 0)) }},
	{usage: "mkdir PID PATH [MODE]", setup: "spawn 1", line: `mkdir 1 "/a dir" 0700`, out: "0", after: `open 1 "/a dir" O_RDONLY = 0`,
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 0o700, permOf(t, k, 1, 0)) }},
	{usage: "mkfifo PID PATH [MODE]", setup: "spawn 1", line: "mkfifo 1 /p", out: "0", after: "open 1 /p O_RDWR = 0\nwrite 1 0 \"x\" = 1",
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 0o666, permOf(t, k, 1, 0)) }},
	{usage: "mkfifo PID PATH [MODE]", setup: "spawn 1", line: "mkfifo 1 /p 0600", out: "0", after: "open 1 /p O_RDWR = 0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 0o600, permOf(t, k, 1, 0)) }},
	{usage: "unlink PID PATH", setup: "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0", line: "unlink 1 /f", out: "0", after: "open 1 /f O_RDONLY = ENOENT"},
	{usage: "chdir PID PATH", setup: "spawn 1\nmkdir 1 /d", line: "chdir 1 /d", out: "0", after: "open 1 f O_RDWR|O_CREAT 0644 = 0\nopen 1 /d/f O_RDONLY = 1"},
	{usage: "open PID PATH FLAGS [MODE]", setup: "spawn 1\nmkdir 1 /d", line: "open 1 /d O_RDONLY", out: "0", after: "fcntl 1 0 F_GETFL = O_RDONLY|O_LARGEFILE"},
	{usage: "open PID PATH FLAGS [MODE]", setup: "spawn 1", line: "open 1 /f O_RDWR|O_CREAT 0640", out: "0", after: "fcntl 1 0 F_GETFL = O_RDWR|O_LARGEFILE",
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 0o640, permOf(t, k, 1, 0)) }},
	{usage: "close PID FD", setup: "spawn 1\npipe 1", line: "close 1 0", out: "0", after: "close 1 0 = EBADF\nclose 1 1 = 0"},
	{usage: "read PID FD COUNT", setup: "spawn 1\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 5", line: "read 1 0 3", out: `"hel"`, after: `read 1 0 9 = "lo"`},
	{usage: "write PID FD STRING", setup: "spawn 1\npipe 1 = 0 1", line: `write 1 1 "hi\x00"`, out: "3", after: `read 1 0 9 = "hi\x00"`},
	{usage: "read PID FD ADDR COUNT", setup: "spawn 1\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 5\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS",
		line: "read 1 0 0x10000000 9", out: "5", after: `memread 1 0x10000000 6 = "hello\x00"`},
	{usage: "write PID FD ADDR COUNT", setup: "spawn 1\npipe 1 = 0 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS\nmemwrite 1 0x10000000 \"hi\"",
		line: "write 1 1 0x10000000 2", out: "2", after: `read 1 0 9 = "hi"`},
	{usage: "lseek PID FD OFFSET WHENCE", setup: "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nwrite 1 0 \"abc\" = 3",
		line: "lseek 1 0 -2 SEEK_END", out: "1", after: `read 1 0 9 = "bc"`},
	{usage: "dup PID FD", setup: "spawn 1\npipe 1 = 0 1", line: "dup 1 0", out: "2", after: "close 1 0\nclose 1 1\nwrite 1 2 \"x\" = EBADF"},
	{usage: "dup2 PID OLDFD NEWFD", setup: "spawn 1\npipe 1 = 0 1", line: "dup2 1 1 5", out: "5", after: `write 1 5 "x" = 1`},
	{usage: "dup3 PID OLDFD NEWFD [FLAGS]", setup: "spawn 1\npipe 1 = 0 1", line: "dup3 1 1 5", out: "5", after: "fcntl 1 5 F_GETFD = 0"},
	{usage: "dup3 PID OLDFD NEWFD [FLAGS]", setup: "spawn 1\npipe 1 = 0 1", line: "dup3 1 1 5 O_CLOEXEC", out: "5", after: "fcntl 1 5 F_GETFD = FD_CLOEXEC"},
	{usage: "pipe PID [FLAGS]", setup: "spawn 1", line: "pipe 1", out: "0 1", after: "read 1 0 1 = BLOCKED"},
	{usage: "pipe PID [FLAGS]", setup: "spawn 1", line: "pipe 1 O_NONBLOCK|O_CLOEXEC", out: "0 1", after: "read 1 0 1 = EAGAIN\nfcntl 1 1 F_GETFD = FD_CLOEXEC"},
	{usage: "socketpair PID TYPE [FLAGS]", setup: "spawn 1", line: "socketpair 1 SOCK_STREAM", out: "0 1",
		after: "write 1 0 \"hi\" = 2\nread 1 1 5 = \"hi\"\nread 1 1 5 = BLOCKED"},
	{usage: "socketpair PID TYPE [FLAGS]", setup: "spawn 1", line: "socketpair 1 SOCK_DGRAM SOCK_NONBLOCK|SOCK_CLOEXEC", out: "0 1",
		after: "read 1 1 5 = EAGAIN\nfcntl 1 0 F_GETFD = FD_CLOEXEC"},
	{usage: "shutdown PID FD HOW", setup: "spawn 1\nsocketpair 1 SOCK_STREAM", line: "shutdown 1 0 SHUT_WR", out: "0",
		after: "read 1 1 5 = \"\"\nwrite 1 0 \"x\" = EPIPE"},
	{usage: "fcntl PID FD CMD [ARG]", setup: "spawn 1\npipe 1", line: "fcntl 1 1 F_GETFL", out: "1"},
	{usage: "fcntl PID FD CMD [ARG]", setup: "spawn 1\npipe 1", line: "fcntl 1 0 F_SETFD FD_CLOEXEC", out: "0", after: "fcntl 1 0 F_GETFD = FD_CLOEXEC"},
	{usage: "flock PID FD OP", setup: "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nopen 1 /f O_RDONLY = 1",
		line: "flock 1 0 LOCK_EX", out: "0", after: "flock 1 1 LOCK_EX|LOCK_NB = EAGAIN"},
	{usage: "mmap PID ADDR LEN PROT FLAGS [FD [OFFSET]]", setup: "spawn 1",
		line: "mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS", out: "0x10000000",
		after: "memwrite 1 0x10000000 \"x\" = 1\nvma 1 0x10000000 = \"10000000-10001000 rw-p 00000000\""},
	{usage: "mmap PID ADDR LEN PROT FLAGS [FD [OFFSET]]", setup: "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0",
		line: "mmap 1 0x10000000 4096 PROT_READ MAP_SHARED 0 4096", out: "0x10000000",
		after: "vma 1 0x10000000 = \"10000000-10001000 r--s 00001000 /f\"\nmemread 1 0x10000000 1 = EFAULT"},
	{usage: "munmap PID ADDR LEN", setup: "spawn 1\nmmap 1 0x10000000 8192 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS",
		line: "munmap 1 0x10001000 4096", out: "0", after: "vma 1 0x10001000 = \"\"\nvma 1 0x10000000 = \"10000000-10001000 r--p 00000000\""},
	{usage: "mprotect PID ADDR LEN PROT", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS",
		line: "mprotect 1 0x10000000 4096 PROT_READ", out: "0", after: "memwrite 1 0x10000000 \"x\" = EFAULT"},
	{usage: "mremap PID OLD OLDLEN NEWLEN [FLAGS [NEWADDR]]", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS",
		line: "mremap 1 0x10000000 4096 8192", out: "0x10000000", after: "vma 1 0x10000000 = \"10000000-10002000 r--p 00000000\""},
	{usage: "mremap PID OLD OLDLEN NEWLEN [FLAGS [NEWADDR]]", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS",
		line: "mremap 1 0x10000000 4096 4096 MREMAP_MAYMOVE|MREMAP_FIXED 0x10010000", out: "0x10010000",
		after: "vma 1 0x10000000 = \"\"\nvma 1 0x10010000 = \"10010000-10011000 r--p 00000000\""},
	{usage: "madvise PID ADDR LEN ADVICE", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS\nmemwrite 1 0x10000000 \"x\"",
		line: "madvise 1 0x10000000 4096 MADV_DONTNEED", out: "0", after: "memread 1 0x10000000 1 = \"\\x00\""},
	{usage: "msync PID ADDR LEN FLAGS", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ MAP_SHARED|MAP_ANONYMOUS",
		line: "msync 1 0x10000000 4096 MS_SYNC", out: "0", after: "msync 1 0x10000000 8192 MS_ASYNC = ENOMEM"},
	{usage: "brk PID ADDR", setup: "spawn 1", line: "brk 1 0", out: "0x1000000",
		after: "brk 1 0x1000010 = 0x1000010\nmemwrite 1 0x1000000 \"x\" = 1\nvma 1 0x1000000 = \"01000000-01001000 rw-p 00000000 [heap]\""},
	{usage: "memwrite PID ADDR DATA", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS",
		line: `memwrite 1 0x10000ffe "abc"`, out: "2", after: `memread 1 0x10000ffe 9 = "ab"`},
	{usage: "memread PID ADDR COUNT", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS\nmemwrite 1 0x10000000 \"hi\"",
		line: "memread 1 0x10000000 3", out: `"hi\x00"`, after: "memread 1 0x10001000 1 = EFAULT"},
	{usage: "vma PID ADDR", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_SHARED|MAP_ANONYMOUS",
		line: "vma 1 0x10000000", out: `"10000000-10001000 rw-s 00000000 /dev/zero (deleted)"`, after: `vma 1 0x10001000 = ""`},
	{usage: "sameframe PID PID2 ADDR", setup: "spawn 1\nmmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS\nmemwrite 1 0x10000000 \"x\"\nfork 1 2",
		line: "sameframe 1 2 0x10000000", out: "1", after: "memwrite 2 0x10000000 \"y\"\nsameframe 1 2 0x10000000 = 0\nclone 1 3 CLONE_VM\nsameframe 1 3 0x10000000 = 1"},
	{usage: "regs PID NAME=VALUE...", setup: "spawn 1", line: "regs 1 rax=5", out: "0",
		check: func(t *testing.T, k *kernel.Kernel) { assert.EqualValues(t, 5, reg(t, k, 1, "rax")) }},
	{usage: "regs PID NAME=VALUE...", setup: "spawn 1", line: "regs 1 r15=-1 rip=0x401000", out: "0",
		check: func(t *testing.T, k *kernel.Kernel) {
			assert.Equal(t, ^uint64(0), reg(t, k, 1, "r15"))
			assert.EqualValues(t, 0x401000, reg(t, k, 1, "rip"))
		}},
	{usage: "checkpoint PID [FLAGS] [=> NAME]", setup: "spawn 1", line: "checkpoint 1", out: "error: " + ErrNotASystemCall.Error()},
	{usage: "checkpoint PID [FLAGS] [=> NAME]", setup: "spawn 1", line: "checkpoint 1 CHECKPOINT_SUBTREE => a.img", out: "error: " + ErrNotASystemCall.Error()},
}

// permOf returns the permission bits of the inode open at fd of task pid.
func permOf(t *testing.T, k *kernel.Kernel, pid, fd int) uint32 {
	t.Helper()
	v := k.View()
	for _, e := range v.FileTables[v.Task(pid).FileTable].Fds {
		if e.Fd == fd {
			return v.Files[e.File].Inode.Mode & 0o7777
		}
	}
	t.Fatalf("pid %d has no fd %d", pid, fd)
	return 0
}

// reg returns register name of task pid.
func reg(t *testing.T, k *kernel.Kernel, pid int, name string) uint64 {
	t.Helper()
	r, err := k.Regs(pid)
	require.NoError(t, err)
	v, err := r.Get(name)
	require.NoError(t, err)
	return v
}

// TestEveryCommand parses and runs every form of every command (each case
// of commandCases), and checks that the cases cover every form of the
// table with its fewest and its most arguments.
func TestEveryCommand(t *testing.T) {
	type shape struct {
		usage string
		args  int
	}
	covered := map[shape]bool{}
	for _, tc := range commandCases {
		t.Run(tc.line, func(t *testing.T) {
			s, err := ParseString("t.scn", tc.setup+"\n"+tc.line+"\n"+tc.after)
			require.NoError(t, err)
			k := kernel.New(kernel.Config{})
			at := len(strings.Split(tc.setup, "\n"))
			if tc.setup == "" {
				at = 0
			}
			for _, l := range s.Lines[:at] {
				require.True(t, Exec(k, l).Matches(l.Expect), "setup: %s", l.Text)
			}
			l := s.Lines[at]
			c, err := match(l.Cmd, l.Args)
			require.NoError(t, err)
			assert.Equal(t, tc.usage, c.usage())
			covered[shape{c.usage(), len(l.Args)}] = true

			o := Exec(k, l)
			assert.Equal(t, tc.out, o.String())
			if c.exec.call == nil {
				assert.ErrorIs(t, o.Err, ErrNotASystemCall)
			} else {
				assert.True(t, o.Matches(nil), "%s: %v", l.Text, o.Err)
			}
			for _, l := range s.Lines[at+1:] {
				o := Exec(k, l)
				assert.True(t, o.Matches(l.Expect), "after: %s", l.Mismatch(o))
			}
			if tc.check != nil {
				tc.check(t, k)
			}
			require.NoError(t, k.Check())
		})
	}
	for _, c := range commands {
		least, most := 0, 0
		for _, p := range c.params {
			if !p.optional {
				least++
			}
			most++
		}
		if c.params[len(c.params)-1].many {
			most++ // two repetitions
		}
		for _, n := range []int{least, most} {
			assert.True(t, covered[shape{c.usage(), n}], "no case runs %q with %d arguments", c.usage(), n)
		}
	}
}

// TestCommandTable checks the rules of the table that the parser relies
// on: parameters in order, unique names, flag positions with names, forms
// of one command agreeing on "=> NAME", and flag names that mean one value
// wherever they appear (an expected result accepts them all).
func TestCommandTable(t *testing.T) {
	value := map[string]int64{}
	for _, c := range commands {
		t.Run(c.usage(), func(t *testing.T) {
			require.NotEmpty(t, c.params, "no parameters")
			assert.True(t, strings.HasPrefix(c.params[0].name, "PID"), "the first parameter is the calling task")
			assert.Equal(t, takesImage(c.name), c.image, "every form of %s agrees on \"=> NAME\"", c.name)
			assert.Equal(t, c.exec.call == nil, c.image, "only checkpoint is run by the caller")
			seen := map[string]bool{}
			optional := false
			for i, p := range c.params {
				assert.False(t, seen[p.name], "parameter %s twice", p.name)
				seen[p.name] = true
				assert.Regexp(t, `^[A-Z][A-Z0-9_]*(=[A-Z]+)?$`, p.name)
				assert.False(t, optional && !p.optional, "%s: a required parameter after an optional one", p.name)
				optional = optional || p.optional
				if p.many {
					assert.Equal(t, len(c.params)-1, i, "%s: only the last parameter repeats", p.name)
					assert.False(t, p.optional, "%s: a repeated parameter is required", p.name)
				}
				assert.Equal(t, p.kind == argFlags, len(p.names) > 0, "%s: flag names exactly for a flag position", p.name)
				for n, v := range p.names {
					if old, ok := value[n]; ok {
						assert.Equal(t, old, v, "flag %s has two values", n)
					}
					value[n] = v
					assert.True(t, isName(n), "flag %s does not look like a name", n)
					assert.False(t, isErrnoName(n), "flag %s reads as an errno in a result", n)
				}
			}
		})
	}
	assert.Equal(t, value, resultNames)
}

// TestCommandsDocumented checks that docs/SCENARIOS.md keeps step with the
// table: every form's usage and every flag name appear there, in
// backquotes, and every command the reference lists is in the table.
func TestCommandsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/SCENARIOS.md")
	require.NoError(t, err)
	text := string(doc)
	for _, c := range commands {
		assert.True(t, strings.Contains(text, "`"+c.usage()+"`"), "docs/SCENARIOS.md does not list `%s`", c.usage())
		for _, p := range c.params {
			for n := range p.names {
				assert.True(t, strings.Contains(text, "`"+n+"`"), "docs/SCENARIOS.md does not list `%s` (%s of %s)", n, p.name, c.name)
			}
		}
	}
	// Rows of the command reference: "| `COMMAND ...` | ... |".
	rows := regexp.MustCompile("(?m)^\\| `([a-z0-9]+) [^`]*` ").FindAllStringSubmatch(text, -1)
	require.NotEmpty(t, rows)
	for _, r := range rows {
		_, known := forms[r[1]]
		assert.True(t, known, "docs/SCENARIOS.md lists %q, which is not a command", r[1])
	}
}

// TestCommandRefusals checks the messages for lines that fit no form of
// their command: a wrong count or kind, with every form's usage.
func TestCommandRefusals(t *testing.T) {
	for _, tc := range []struct{ line, msg string }{
		{"close 1", "close: expected 2 arguments, found 1 (usage: close PID FD)"},
		{"close 1 2 3", "close: expected 2 arguments, found 3 (usage: close PID FD)"},
		{"open 1 /f O_RDWR 0644 9", "open: expected at most 4 arguments, found 5 (usage: open PID PATH FLAGS [MODE])"},
		{"regs 1", "regs: expected 2 arguments or more, found 1 (usage: regs PID NAME=VALUE...)"},
		{"regs 1 rax=1 rbx", "regs: expected NAME=VALUE, found \"rbx\""},
		{"regs 1 rax=1 eax=2", "regs: unknown register \"eax\""},
		{"regs 1 rax=x", `regs: rax: expected an integer, found "x"`},
		{`regs 1 "rax=1"`, `regs: expected NAME=VALUE, found "rax=1"`},
		{"write 1 1 hello", `write: STRING: expected a quoted string, found "hello" (usage: write PID FD STRING or write PID FD ADDR COUNT)`},
		{`read 1 0 "8"`, "read: COUNT: expected an integer, found a string"},
		{`lseek 1 0 0 "SEEK_SET"`, "lseek: WHENCE: expected flags, found a string"},
		{"lseek 1 0 0 O_RDONLY", `lseek: WHENCE: unknown flag "O_RDONLY"`},
		{"fcntl 1 0 F_SETFD LOCK_EX", `fcntl: ARG: unknown flag "LOCK_EX"`},
		{"clone 1", "clone: expected 2 arguments or more, found 1 (usage: clone PID CHILD [FLAGS [COMM]] or clone PID CHILD COMM)"},
		{"clone 1 2 CLONE_FS a b", "clone: expected at most 4 arguments, found 5 (usage: clone PID CHILD [FLAGS [COMM]] or clone PID CHILD COMM)"},
		{"clone 1 2 worker x", `clone: FLAGS: expected an integer or flag names, found "worker"`},
		{"clone 1 x", `clone: CHILD: expected an integer, found "x"`},
		{"checkpoint 1 CLONE_VM", `checkpoint: FLAGS: unknown flag "CLONE_VM"`},
		{"pipe 1 = 3 x", `pipe: expected an integer, found "x"`},
		{`close 1 1 = "x"`, `close: expected an integer or an errno after "=", found "x"`},
		{"close 1 1 = 0 0", `close: expected an integer or an errno after "=", found "0 0"`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			_, err := ParseString("t.scn", tc.line)
			require.Error(t, err)
			assert.Contains(t, err.Error(), "t.scn:1: "+tc.msg)
		})
	}
}

// TestResultKinds checks each kind of result end to end: how the expected
// result parses, how an outcome prints, and that they compare; an address
// is written and printed in hex, and compares by value however written.
func TestResultKinds(t *testing.T) {
	for _, tc := range []struct {
		kind    resultKind
		expect  string // after "="
		o       Outcome
		printed string
	}{
		{resultInt, "O_RDWR|O_APPEND", Outcome{Int: 0o2002}, "1026"},
		{resultInt, "-1", Outcome{Int: -1}, "-1"},
		{resultAddr, "0x10000000", Outcome{Int: 0x10000000}, "0x10000000"},
		{resultAddr, "268435456", Outcome{Int: 0x10000000}, "0x10000000"},
		{resultAddr, "0x7fffffffe000", Outcome{Int: 0x7fffffffe000}, "0x7fffffffe000"},
		{resultString, `"10000000-10001000 rw-p 00000000"`, Outcome{Bytes: []byte("10000000-10001000 rw-p 00000000")}, `"10000000-10001000 rw-p 00000000"`},
		{resultString, `""`, Outcome{}, `""`},
		{resultPair, "3 4", Outcome{Pair: [2]int{3, 4}}, "3 4"},
	} {
		t.Run(tc.printed, func(t *testing.T) {
			toks, _, err := tokenize(tc.expect)
			require.NoError(t, err)
			e, err := parseExpect(toks, tc.kind)
			require.NoError(t, err)
			o := tc.o
			o.kind = tc.kind
			assert.Equal(t, tc.printed, o.String())
			assert.True(t, o.Matches(e))
			other := o
			other.Int, other.Bytes, other.Pair = o.Int+1, append([]byte("x"), o.Bytes...), [2]int{o.Pair[0], o.Pair[1] + 1}
			assert.False(t, other.Matches(e), "a different value")
			for _, k := range []resultKind{resultInt, resultAddr, resultString, resultPair} {
				if k.expectKind() != tc.kind.expectKind() {
					other := o
					other.kind = k
					assert.False(t, other.Matches(e), "a result of another kind")
				}
			}
		})
	}
	_, err := parseExpect([]token{{text: "PROT_READ"}}, resultAddr)
	assert.EqualError(t, err, `expected an integer, found "PROT_READ"`)
	_, err = parseExpect([]token{{quoted: true, text: "x"}}, resultAddr)
	assert.EqualError(t, err, `expected an address or an errno after "=", found "x"`)
}

// TestShapesOfOneName shows the shapes the memory commands of
// design/memory.md will have, on a table of their own: read and write with
// data or with a memory address, and nested optional parameters. A line
// takes the first form it fits; the result kind follows the form.
func TestShapesOfOneName(t *testing.T) {
	var calls []string
	record := func(what string) func(*kernel.Kernel, args) (int, error) {
		return func(_ *kernel.Kernel, a args) (int, error) {
			calls = append(calls, fmt.Sprintf("%s %v", what, a.list))
			return 0, nil
		}
	}
	prot := map[string]int64{"PROT_READ": 1, "PROT_WRITE": 2}
	table := []command{
		{name: "read", params: []param{pid, fd, number("COUNT")}, exec: returnsString(func(_ *kernel.Kernel, a args) (string, error) {
			return strings.Repeat("x", a.int("COUNT")), nil
		})},
		{name: "read", params: []param{pid, fd, number("ADDR"), number("COUNT")}, exec: returnsInt(record("read to memory"))},
		{name: "write", params: []param{pid, fd, data("STRING")}, exec: returnsInt(record("write data"))},
		{name: "write", params: []param{pid, fd, number("ADDR"), number("COUNT")}, exec: returnsInt(record("write from memory"))},
		{name: "mmap", params: []param{pid, number("ADDR"), number("LEN"), flagsIn("PROT", prot), number("FLAGS"), opt(fd), opt(number("OFFSET"))},
			exec: returnsAddr(func(_ *kernel.Kernel, a args) (int64, error) {
				return a.int64("ADDR") + int64(a.intOr("OFFSET", 0)), nil
			})},
	}
	byName := map[string][]*command{}
	for i := range table {
		byName[table[i].name] = append(byName[table[i].name], &table[i])
	}
	assert.Equal(t, "mmap PID ADDR LEN PROT FLAGS [FD [OFFSET]]", table[4].usage())
	for _, tc := range []struct {
		line string
		out  string // the outcome printed, or the error
	}{
		{`read 1 0 3`, `"xxx"`},
		{`read 1 0 0x10000000 3`, "0"},
		{`write 1 0 "abc"`, "0"},
		{`write 1 0 0x10000000 3`, "0"},
		{`mmap 1 0x10000000 4096 PROT_READ 0x22`, "0x10000000"},
		{`mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE 1 3 0x1000`, "0x10001000"},
		{`read 1 0 "x" 3`, `read: ADDR: expected an integer, found a string (usage: read PID FD COUNT or read PID FD ADDR COUNT)`},
		{`write 1 0 0x10000000`, `write: STRING: expected a quoted string, found "0x10000000" (usage: write PID FD STRING or write PID FD ADDR COUNT)`},
		{`write 1 0 "abc" 3`, `write: ADDR: expected an integer, found a string`},
		{`read 1 0`, `read: expected 3 arguments, found 2 (usage: read PID FD COUNT or read PID FD ADDR COUNT)`},
		{`mmap 1 0 4096 PROT_EXEC 0x22`, `mmap: PROT: unknown flag "PROT_EXEC"`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			toks, _, err := tokenize(tc.line)
			require.NoError(t, err)
			var list []Arg
			for _, tok := range toks[1:] {
				list = append(list, Arg{Quoted: tok.quoted, Text: tok.text})
			}
			c, err := matchForm(byName[toks[0].text], list)
			if err != nil {
				assert.Contains(t, err.Error(), tc.out)
				return
			}
			o := c.exec.call(nil, args{c, list})
			o.kind = c.exec.result
			assert.Equal(t, tc.out, o.String())
		})
	}
	assert.Equal(t, []string{
		"read to memory [{false 1} {false 0} {false 0x10000000} {false 3}]",
		"write data [{false 1} {false 0} {true abc}]",
		"write from memory [{false 1} {false 0} {false 0x10000000} {false 3}]",
	}, calls)
}

// TestLongInputIsNotEchoed checks that no message quotes a megabyte of a
// script: an unknown command, a bad argument, a bad result, a mismatch.
// Each names the beginning of what was wrong and its length.
func TestLongInputIsNotEchoed(t *testing.T) {
	const n = 1 << 20
	long := strings.Repeat("a", n)
	for _, tc := range []struct{ name, line, want string }{
		{"unknown command", long + " 1", `unknown command "aaaa`},
		{"bad integer", "close 1 1" + long, `FD: expected an integer, found "1aaa`},
		{"unquoted data", "write 1 1 " + long, `STRING: expected a quoted string, found "aaaa`},
		{"unknown flag", "open 1 /f O_" + strings.ToUpper(long), `FLAGS: unknown flag "O_AAA`},
		{"bad flag word", "open 1 /f O_RDWR|" + long, `FLAGS: expected an integer or flag names, found "O_RDWR|aaa`},
		{"unknown errno", "close 1 1 = E" + strings.ToUpper(long), `unknown errno "EAAA`},
		{"bad result", `close 1 1 = "` + long + `"`, `expected an integer or an errno after "=", found "aaaa`},
		{"bad string", `write 1 1 "\q` + long + `"`, `bad string "\qaaa`},
		{"unknown register", "regs 1 r" + long + "=1", `unknown register "raaa`},
		{"bad image name", "checkpoint 1 => /" + long, `image name "/aaa`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseString("t.scn", tc.line)
			require.Error(t, err)
			msg := err.Error()
			assert.Less(t, len(msg), 400, "%.400s", msg)
			assert.Contains(t, msg, tc.want)
			assert.Regexp(t, `\.\.\. \(10485\d\d bytes\)`, msg)
		})
	}

	t.Run("mismatch", func(t *testing.T) {
		data := strings.Repeat("é", n/2) // two bytes each: the cut falls on a character
		s, err := ParseString("t.scn", fmt.Sprintf("spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nwrite 1 0 %q = 7\nlseek 1 0 0 SEEK_SET = 0\nread 1 0 %d = %q\n", data, n, data[:n-2]+"x"))
		require.NoError(t, err)
		k := kernel.New(kernel.Config{})
		err = Replay(k, s)
		var se *Error
		require.True(t, errors.As(err, &se), "%v", err)
		assert.Equal(t, 3, se.Line)
		assert.Less(t, len(err.Error()), 300, "%.300s", err)
		assert.Contains(t, err.Error(), `t.scn:3: write 1 0 "éé`)
		assert.Contains(t, err.Error(), fmt.Sprintf("... (%d bytes): got %d, expected 7", n+len("write 1 0 \"\" = 7"), n))

		l := s.Lines[4]
		o := Exec(k, &Line{Cmd: "lseek", Args: []Arg{{Text: "1"}, {Text: "0"}, {Text: "0"}, {Text: "SEEK_SET"}}})
		require.NoError(t, o.Err)
		msg := l.Mismatch(Exec(k, l))
		assert.Less(t, len(msg), 300, "%.300s", msg)
		assert.Regexp(t, `^read 1 0 1048576 = "(é){10,}\.\.\. \(\d+ bytes\): got "(\\u00e9|é){10,}"\.\.\. \(1048576 bytes\), expected "(\\u00e9|é){10,}"\.\.\. \(1048575 bytes\)$`, msg)
	})
}
