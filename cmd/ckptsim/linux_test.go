package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ckptsim/ckptsim/hostlinux"
)

// needHost skips a test that runs scripts on the host, saying why.
func needHost(t *testing.T) {
	t.Helper()
	if err := hostlinux.Available(); err != nil {
		t.Skipf("not run against the host kernel: %v", err)
	}
}

func TestLinuxUsage(t *testing.T) {
	code, _, stderr := ckptsim(t, "linux")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "expected at least one script")
	code, _, stderr = ckptsim(t, "linux", "-", "-")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, stderr, "standard input")
	code, stdout, _ := ckptsim(t, "help", "linux")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, stdout, "usage: ckptsim linux [--compare] SCRIPT...")
}

// TestLinuxUnavailable: on a host that cannot run scripts, the command
// says why and exits 2, before reading any script.
func TestLinuxUnavailable(t *testing.T) {
	saved := hostAvailable
	defer func() { hostAvailable = saved }()
	hostAvailable = func() error { return fmt.Errorf("%w: it needs root", hostlinux.ErrUnavailable) }
	code, stdout, stderr := ckptsim(t, "linux", "no-such-script.scn")
	assert.Equal(t, exitUsage, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "it needs root")
}

func TestLinux(t *testing.T) {
	needHost(t)
	dir := files(t, map[string]string{
		"good.scn": pipeScript,
		"wrong.scn": `spawn 1
pipe 1 = 0 1
read 1 0 4 = ""              # Linux blocks: a writer is still open
regs 1 rax=1
`,
		// the simulator and Linux agree with each other but not with
		// the script: Linux's result is the one shown
		"simwrong.scn": `spawn 1
open 1 /f O_RDWR|O_CREAT = 0
fcntl 1 0 F_GETFL = 2
`,
		"bad.scn": "spawn\n",
	})
	cases := []struct {
		name  string
		args  []string
		code  int
		lines []string // regexps, each must match a line of the output
	}{
		{"agrees", []string{"good.scn"}, exitOK, []string{
			`^  8 +read 2 0 16 = "hello" +"hello" +"hello" +ok$`,
			`^  7 +checkpoint 1 => pipe.img +success +- +skipped: a checkpoint`,
			`good.scn: 8 lines checked, 1 skipped$`,
			`^total: 8 lines checked, 1 skipped, 0 disagree, in 1 scripts$`}},
		{"compare", []string{"--compare", "good.scn"}, exitOK, []string{
			`^  LINE +STATEMENT +EXPECTED +LINUX +SIM`,
			`^  8 +read 2 0 16 = "hello" +"hello" +"hello" +"hello" +ok$`}},
		{"disagrees", []string{"good.scn", "wrong.scn"}, exitFail, []string{
			`^  3 +read 1 0 4 = "" +"" +BLOCKED +DIFF: Linux differs$`,
			`wrong.scn: 3 lines checked, 1 skipped, 1 disagree$`,
			`^total: 11 lines checked, 2 skipped, 1 disagree, in 2 scripts$`}},
		{"simulator shown", []string{"--compare", "simwrong.scn"}, exitFail, []string{
			`^  3 +fcntl 1 0 F_GETFL = 2 +2 +32770 +32770 +DIFF: Linux differs$`}},
		{"a script that does not parse", []string{"bad.scn", "good.scn"}, exitFail, []string{
			`^total: 8 lines checked, 1 skipped, 0 disagree, in 2 scripts$`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var args []string
			for _, a := range c.args {
				if strings.HasSuffix(a, ".scn") {
					a = filepath.Join(dir, a)
				}
				args = append(args, a)
			}
			code, stdout, stderr := ckptsim(t, append([]string{"linux"}, args...)...)
			assert.Equal(t, c.code, code, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
			for _, re := range c.lines {
				assert.Regexp(t, regexp.MustCompile("(?m)"+re), stdout)
			}
			if c.name == "a script that does not parse" {
				assert.Contains(t, stderr, "bad.scn:1")
			}
		})
	}
}
