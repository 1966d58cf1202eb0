package hostlinux

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ckptsim/ckptsim/scenario"
)

// needHost skips a test on a host that cannot run scripts, saying why.
func needHost(t *testing.T) {
	t.Helper()
	if err := Available(); err != nil {
		t.Skipf("not checked against the host kernel: %v", err)
	}
}

func parse(t *testing.T, name, text string) *scenario.Script {
	t.Helper()
	s, err := scenario.ParseString(name, text)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestScripts runs every script of the repository on the host kernel:
// every line the host answers must give what the script expects, which
// is what Linux returns.
func TestScripts(t *testing.T) {
	needHost(t)
	var paths []string
	for _, glob := range []string{"../examples/scenarios/*.scn", "../scenario/testdata/linux/*.scn"} {
		p, err := filepath.Glob(glob)
		if err != nil || len(p) == 0 {
			t.Fatalf("no scripts at %s: %v", glob, err)
		}
		paths = append(paths, p...)
	}
	start := time.Now()
	checked, skipped := 0, 0
	for _, path := range paths {
		t.Run(filepath.Base(path), func(t *testing.T) {
			text, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Run(parse(t, path, string(text)), Options{})
			if err != nil {
				t.Fatal(err)
			}
			checked += rep.Checked
			skipped += rep.Skipped
			for _, l := range rep.Lines {
				if l.Result.Skipped == "" && !l.OK {
					t.Errorf("%s:%d: %s: Linux gives %s", path, l.Line.Num, l.Line.Text, l.Result.Outcome)
				}
			}
		})
	}
	t.Logf("%d scripts: %d lines checked against Linux, %d skipped, in %v", len(paths), checked, skipped, time.Since(start).Round(time.Millisecond))
}

// TestLines runs small scripts whose every line pins one behaviour of the
// agent: real sharing by clone flags, blocking, the pid translations,
// and the lines it skips.
func TestLines(t *testing.T) {
	needHost(t)
	cases := []struct {
		name, script string
		skipped      int
	}{
		{"clone flags share for real", `
spawn 1
clone 1 2 CLONE_VM|CLONE_FILES|CLONE_FS
mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED = 0x10000000
memwrite 2 0x10000000 "vm" = 2
memread 1 0x10000000 2 = "vm"
sameframe 1 2 0x10000000 = 1
pipe 2 = 0 1
close 1 1
write 2 1 "x" = EBADF
mkdir 2 /d
chdir 2 /d
open 1 f O_RDWR|O_CREAT = 1
open 1 /d/f O_RDONLY = 2
fork 1 3
memwrite 3 0x10000000 "co" = 2
memread 1 0x10000000 2 = "vm"
sameframe 1 3 0x10000000 = 0
`, 0},
		{"blocking calls", `
spawn 1
pipe 1 = 0 1
read 1 0 1 = BLOCKED
fork 1 2
wait 1 2 = BLOCKED
wait 1 -1 = BLOCKED
mkfifo 1 /q
open 1 /q O_RDONLY = BLOCKED
open 1 /q O_RDONLY|O_NONBLOCK = 2
exit 2 7
wait 1 -1 = 7
wait 1 -1 = ECHILD
`, 0},
		{"pids are the script's", `
spawn 100
fork 100 7
fork 100 7 = EEXIST
fork 100 -1 = EINVAL
open 7 /f O_RDWR|O_CREAT = 0
fcntl 7 0 F_SETOWN 100
fcntl 7 0 F_GETOWN = 100
fcntl 7 0 F_SETOWN 55 = ESRCH
exit 7 3
close 7 0 = ESRCH
wait 100 7 = 3
wait 100 7 = ECHILD
exit 100 0
spawn 100
`, 0},
		{"signals are not modelled: SIGIO and SIGPIPE kill no task", `
spawn 1
pipe 1 = 0 1
fork 1 2
fcntl 1 0 F_SETOWN 2
fcntl 1 0 F_SETFL O_ASYNC
write 1 1 "x" = 1
read 2 0 1 = "x"
close 1 0
close 2 0
write 2 1 "y" = EPIPE
write 1 1 "y" = EPIPE
`, 0},
		{"skipped lines", `
spawn 1
regs 1 rax=1
checkpoint 1
brk 1 0x1001000
memwrite 1 0x1000000 "heap"
fork 1 0
memwrite 1 0x10000000 "x" = EFAULT
`, 5},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rep, err := Run(parse(t, c.name, c.script), Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range rep.Lines {
				if l.Result.Skipped == "" && !l.OK {
					t.Errorf("line %d: %s: Linux gives %s", l.Line.Num, l.Line.Text, l.Result.Outcome)
				}
			}
			if rep.Skipped != c.skipped || rep.Checked+rep.Skipped != len(rep.Lines) {
				t.Errorf("%d lines checked and %d skipped, want %d skipped of %d", rep.Checked, rep.Skipped, c.skipped, len(rep.Lines))
			}
		})
	}
}

// TestAgentMemoryIsSkipped: a call on the agent's own memory (here: its
// stacks, whatever the address) is skipped rather than made.
func TestAgentMemoryIsSkipped(t *testing.T) {
	needHost(t)
	w, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	if len(w.c.reserved) == 0 {
		t.Fatal("the agent reported no memory of its own")
	}
	r0 := w.c.reserved[len(w.c.reserved)/2]
	s := parse(t, "agent", "spawn 1\nmunmap 1 "+hexAddr(r0[0])+" 4096\nmemread 1 "+hexAddr(r0[0])+" 1\n")
	for i, l := range s.Lines {
		r := w.Exec(l)
		if i > 0 && !strings.Contains(r.Skipped, "agent's own memory") {
			t.Errorf("%s: not skipped: %s %q", l.Text, r.Outcome, r.Skipped)
		}
	}
}

func hexAddr(n uint64) string { return fmt.Sprintf("%#x", n) }

// TestNoCompiler: without a C compiler the agent cannot be built, and the
// error says so as ErrUnavailable.
func TestNoCompiler(t *testing.T) {
	_, err := build([]string{"", "no-such-compiler-ckptsim"}, t.TempDir())
	if !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "C compiler") {
		t.Errorf("build without a compiler: %v, want ErrUnavailable naming the compiler", err)
	}
}

// TestCompilerFails: a compiler that fails is ErrUnavailable too, with its
// output.
func TestCompilerFails(t *testing.T) {
	_, err := build([]string{"false"}, t.TempDir())
	if !errors.Is(err, ErrUnavailable) {
		t.Errorf("build with a failing compiler: %v, want ErrUnavailable", err)
	}
}
