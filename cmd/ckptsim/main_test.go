package main

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
)

// ckptsim runs the command in-process and returns its exit status and
// output.
func ckptsim(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := Main(args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

const pipeScript = `# a pipe with bytes in flight, shared by parent and child
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

// files writes the given files into a new directory and returns it.
func files(t *testing.T, contents map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, text := range contents {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644))
	}
	return dir
}

// pipeImage runs pipeScript and returns the path of its image.
func pipeImage(t *testing.T) string {
	t.Helper()
	dir := files(t, map[string]string{"pipe.scn": pipeScript})
	code, _, stderr := ckptsim(t, "run", "--out", dir, filepath.Join(dir, "pipe.scn"))
	require.Equal(t, 0, code, stderr)
	return filepath.Join(dir, "pipe.img")
}

// pipeBytes is the size of pipeScript's image, which tests quote as the
// commands print it: computed, so that a format that grows images does not
// move what they pin.
func pipeBytes(t *testing.T) string {
	t.Helper()
	st, err := os.Stat(pipeImage(t))
	require.NoError(t, err)
	return strconv.FormatInt(st.Size(), 10)
}

// withStdin makes the file at path the process's standard input for the
// test.
func withStdin(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	old := os.Stdin
	os.Stdin = f
	t.Cleanup(func() { os.Stdin = old; f.Close() })
}

// expect runs the command with args and checks its exit status, that each
// of inStdout and inStderr appears on standard output and error, and that
// none of notStdout appears on standard output. A success says nothing on
// standard error.
func expect(t *testing.T, args []string, code int, inStdout, inStderr, notStdout []string) {
	t.Helper()
	got, stdout, stderr := ckptsim(t, args...)
	assert.Equal(t, code, got, "stdout:\n%s\nstderr:\n%s", stdout, stderr)
	for _, s := range inStdout {
		assert.Contains(t, stdout, s)
	}
	for _, s := range inStderr {
		assert.Contains(t, stderr, s)
	}
	for _, s := range notStdout {
		assert.NotContains(t, stdout, s)
	}
	if code == 0 {
		assert.Empty(t, stderr)
	}
}

func TestUsage(t *testing.T) {
	names := []string{"run", "verify", "restart", "show", "encode", "diff", "graph", "demo", "help", "version"}
	tests := []struct {
		args     []string
		code     int
		inStdout []string // each must appear on stdout
		inStderr []string // each must appear on stderr
	}{
		{nil, 2, nil, append([]string{"Usage: ckptsim COMMAND"}, names...)},
		{[]string{"help"}, 0, names, nil},
		{[]string{"--help"}, 0, names, nil},
		{[]string{"-h"}, 0, names, nil},
		{[]string{"help", "verify"}, 0, []string{"usage: ckptsim verify [--every] [-j N] [--json] [--junit FILE] SCRIPT...", "lockstep",
			"-every", "-j N", "-json", "-junit FILE", "JUnit XML"}, nil},
		{[]string{"help", "frob"}, 2, nil, []string{`unknown command "frob"`}},
		{[]string{"frob"}, 2, nil, []string{`ckptsim: unknown command "frob"`, "Commands:"}},
		{[]string{"run", "--help"}, 0, []string{"usage: ckptsim run [--out DIR] [--clock UNIXSECONDS] SCRIPT", "-clock UNIXSECONDS", "(default 1700000000)", "-out DIR"}, nil},
		{[]string{"verify", "-h"}, 0, []string{"usage: ckptsim verify"}, nil},
		{[]string{"show", "--help"}, 0, []string{"usage: ckptsim show [--json | --all] IMAGE", "-json"}, nil},
		{[]string{"encode", "--help"}, 0, []string{"usage: ckptsim encode", "-fix-crc", "-o FILE"}, nil},
		{[]string{"graph", "--help"}, 0, []string{"usage: ckptsim graph", "-svg", "-png", "-at LINE", "-frames DIR", "-restored", "-ungrouped", "-legend",
			"apt-get install graphviz", "same place in every frame"}, nil},
		{[]string{"restart", "--help"}, 0, []string{"usage: ckptsim restart [--disk DIR | --script SCRIPT [--at LINE]] [--then SCRIPT [--out DIR]] IMAGE",
			"-disk DIR", "-script SCRIPT", "-at LINE", "-then SCRIPT", "-out DIR", "ESTALE", "consistency check"}, nil},
		{[]string{"demo", "--help"}, 0, []string{"usage: ckptsim demo", "-script"}, nil},
		{[]string{"run"}, 2, nil, []string{"ckptsim run: expected one script, got 0 arguments", "usage: ckptsim run"}},
		{[]string{"run", "a.scn", "b.scn"}, 2, nil, []string{"expected one script, got 2"}},
		{[]string{"run", "--bogus", "a.scn"}, 2, nil, []string{"flag provided but not defined: -bogus", "usage: ckptsim run"}},
		{[]string{"run", "--clock", "soon", "a.scn"}, 2, nil, []string{"invalid value \"soon\""}},
		{[]string{"verify"}, 2, nil, []string{"expected at least one script"}},
		{[]string{"verify", "-j", "0", "a.scn"}, 2, nil, []string{"-j 0: at least one script at a time"}},
		{[]string{"verify", "--json", "--junit", "-", "a.scn"}, 2, nil, []string{"--json and --junit - would both print to standard output"}},
		{[]string{"verify", "-", "-"}, 2, nil, []string{`standard input ("-") can be only one of the scripts`}},
		{[]string{"show"}, 2, nil, []string{"expected one image"}},
		{[]string{"encode", "a", "b"}, 2, nil, []string{"expected at most one JSON file"}},
		{[]string{"diff", "--help"}, 0, []string{"usage: ckptsim diff OLD NEW", "old -> new"}, nil},
		{[]string{"diff", "a"}, 2, nil, []string{"expected two images, got 1 arguments"}},
		{[]string{"diff", "-", "-"}, 2, nil, []string{"standard input can be only one of the two images"}},
		{[]string{"run", "--clock", "9223372036854775807", "a.scn"}, 2, nil, []string{"--clock 9223372036854775807 is out of range: an image header holds Unix seconds from -9223372036 to 9223372036"}},
		{[]string{"graph"}, 2, nil, []string{"expected one script or image"}},
		{[]string{"demo", "extra"}, 2, nil, []string{"takes no arguments"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(append([]string{"ckptsim"}, tt.args...), " "), func(t *testing.T) {
			expect(t, tt.args, tt.code, tt.inStdout, tt.inStderr, nil)
		})
	}
}

func TestRun(t *testing.T) {
	dir := files(t, map[string]string{
		"pipe.scn":  pipeScript,
		"bad.scn":   "spawn 1 init\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 4\n",
		"parse.scn": "spawn 1 init\nfrob 1\n",
		"lock.scn":  "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nflock 1 0 LOCK_EX\ncheckpoint 1 = EBADF => lock.img\n",
		"nopid.scn": "spawn 1\ncheckpoint 2 = ESRCH => none.img\n",
		"path.scn":  "spawn 1\ncheckpoint 1 => ../escape.img\n",
		"leak.scn":  "spawn 1\npipe 1 = 0 1\nfork 1 2\ncheckpoint 2\n",
	})
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr []string
		images   []string // files that must exist afterwards, in the output directory
	}{
		{"a script", []string{"run", "--out", in("out"), in("pipe.scn")}, 0,
			[]string{"   3  pipe 1            = 0 1", "   7  checkpoint 1      = 0   # " + pipeBytes(t) + " bytes in " + in("out/pipe.img"), `  10  read 2 0 16       = ""`}, nil,
			[]string{"out/pipe.img"}},
		{"flags after the script", []string{"run", in("pipe.scn"), "--out", in("late")}, 0, nil, nil, []string{"late/pipe.img"}},
		{"a wrong result", []string{"run", "--out", in("bad"), in("bad.scn")}, 1,
			[]string{"= 5   # expected 4"}, []string{in("bad.scn") + `:3: write 1 1 "hello" = 4: got 5, expected 4`}, nil},
		{"a parse error", []string{"run", in("parse.scn")}, 1, nil, []string{in("parse.scn") + `:2: unknown command "frob"`}, nil},
		{"a missing script", []string{"run", in("none.scn")}, 1, nil, []string{"no such file or directory"}, nil},
		{"a refused checkpoint", []string{"run", "--out", in("lock"), in("lock.scn")}, 0,
			[]string{"checkpoint 1                  = EBADF   # ", "ending with an error record"}, nil, []string{"lock/lock.img"}},
		{"a checkpoint refused before writing", []string{"run", "--out", in("nopid"), in("nopid.scn")}, 0,
			[]string{"= ESRCH   # ", "no image for none.img: the checkpoint was refused before it wrote anything"}, nil, nil},
		{"a refusal the script does not expect", []string{"run", "--out", in("leak"), in("leak.scn")}, 1,
			[]string{"= EBUSY   # expected success"},
			[]string{in("leak.scn") + ":4: checkpoint 2: got EBUSY, expected success (checkpoint: ", "EBUSY (device or resource busy))"}, nil},
		{"an image name with a path", []string{"run", "--out", in("path"), in("path.scn")}, 1,
			nil, []string{in("path.scn") + `:2: image name "../escape.img": expected a file name, without "/"`}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.args, tt.code, tt.inStdout, tt.inStderr, nil)
			for _, img := range tt.images {
				assert.FileExists(t, in(img))
			}
		})
	}
}

// The default clock makes images reproducible; --clock changes the header.
func TestRunClock(t *testing.T) {
	dir := files(t, map[string]string{"pipe.scn": pipeScript})
	image := func(out string, flags ...string) []byte {
		code, _, stderr := ckptsim(t, append(append([]string{"run", "--out", filepath.Join(dir, out)}, flags...), filepath.Join(dir, "pipe.scn"))...)
		require.Equal(t, 0, code, stderr)
		img, err := os.ReadFile(filepath.Join(dir, out, "pipe.img"))
		require.NoError(t, err)
		return img
	}
	a, b, c := image("a"), image("b"), image("c", "--clock", "1800000000")
	assert.Equal(t, a, b)
	assert.NotEqual(t, a, c)
	_, shown, _ := ckptsim(t, "show", filepath.Join(dir, "c", "pipe.img"))
	assert.Contains(t, shown, "2027-01-15T08:00:00Z")
}

func TestVerify(t *testing.T) {
	dir := files(t, map[string]string{
		"pipe.scn": pipeScript,
		"bad.scn":  "spawn 1 init\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 4\n",
		"refused.scn": `spawn 1 init
pipe 1 = 0 1
fork 1 2
checkpoint 2 = EBUSY       # the pipe is shared with the parent
open 1 /f O_RDWR|O_CREAT 0644 = 2
flock 1 2 LOCK_EX
checkpoint 1 = EBADF       # a file holding a lock
`,
		"leak.scn":  "spawn 1\npipe 1 = 0 1\nfork 1 2\ncheckpoint 2 CHECKPOINT_SUBTREE\n",
		"parse.scn": "spawn 1 init\nopen 1 /x O_BOGUS\n",
	})
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name  string
		files []string
		code  int
		lines []string // stdout, exactly
	}{
		{"passes", []string{"pipe.scn"}, 0, []string{"ok " + in("pipe.scn") + " (9 lines, 1 checkpoints, " + pipeBytes(t) + " image bytes)"}},
		{"refused checkpoints", []string{"refused.scn"}, 0, []string{"ok " + in("refused.scn") + " (7 lines, 0 checkpoints, 0 image bytes)"}},
		{"a wrong result", []string{"bad.scn"}, 1, []string{"FAIL " + in("bad.scn") + `:3: write 1 1 "hello" = 4: got 5, expected 4`}},
		{"a restored world that differs, with its diff", []string{"leak.scn"}, 1, []string{
			"FAIL " + in("leak.scn") + ":4: checkpoint 2 CHECKPOINT_SUBTREE: the restored world differs from the world it was taken from",
			"    pid 2 fd 0 file references: 2 != 1",
			"    pid 2 fd 1 file references: 2 != 1",
		}},
		{"a parse error", []string{"parse.scn"}, 1, []string{"FAIL " + in("parse.scn") + `:2: open: FLAGS: unknown flag "O_BOGUS" (usage: open PID PATH FLAGS [MODE])`}},
		{"several, one failing", []string{"pipe.scn", "bad.scn", "refused.scn"}, 1, []string{
			"ok " + in("pipe.scn") + " (9 lines, 1 checkpoints, " + pipeBytes(t) + " image bytes)",
			"FAIL " + in("bad.scn") + `:3: write 1 1 "hello" = 4: got 5, expected 4`,
			"ok " + in("refused.scn") + " (7 lines, 0 checkpoints, 0 image bytes)",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := []string{"verify"}
			for _, f := range tt.files {
				args = append(args, in(f))
			}
			code, stdout, stderr := ckptsim(t, args...)
			assert.Equal(t, tt.code, code, stderr)
			assert.Equal(t, strings.Join(tt.lines, "\n")+"\n", stdout)
		})
	}
}

// The Linux conformance scripts pass verify: run on two worlds in lockstep,
// they give the same results.
func TestVerifyConformanceScripts(t *testing.T) {
	scripts, err := filepath.Glob("../../scenario/testdata/linux/*.scn")
	require.NoError(t, err)
	require.NotEmpty(t, scripts)
	code, stdout, _ := ckptsim(t, append([]string{"verify"}, scripts...)...)
	assert.Equal(t, 0, code, stdout)
	var oks int
	for _, l := range strings.Split(stdout, "\n") {
		if strings.HasPrefix(l, "ok ") {
			oks++
		}
	}
	assert.Equal(t, len(scripts), oks, stdout)

	// With a migration after every line, two at a time, as JSON.
	code, stdout, _ = ckptsim(t, append([]string{"verify", "--every", "-j", "2", "--json"}, scripts...)...)
	assert.Equal(t, 0, code, stdout)
	var rep struct {
		Scripts []runner.ScriptReport
		Passed  int
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.Equal(t, len(scripts), rep.Passed)
	every := 0
	for i, r := range rep.Scripts {
		assert.Equal(t, scripts[i], r.Path, "in the order given")
		every += r.Every
	}
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	quoted := regexp.MustCompile(`one\s+succeeds \(([0-9,]+) of them\)`).FindSubmatch(readme)
	require.NotNil(t, quoted, "the README says how many migrations the conformance scripts make")
	assert.Equal(t, strings.ReplaceAll(string(quoted[1]), ",", ""), strconv.Itoa(every), "the README's count of migrations across the conformance scripts")
}

// TestVerifyReports: --every, -j, --json and --junit give the same
// verdicts, in the order the scripts were given.
func TestVerifyReports(t *testing.T) {
	dir := files(t, map[string]string{
		"pipe.scn":  pipeScript,
		"bad.scn":   "spawn 1 init\npipe 1 = 0 1\nwrite 1 1 \"hello\" = 4\n",
		"parse.scn": "frob\n",
		"lock.scn":  "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nflock 1 0 LOCK_EX\nflock 1 0 LOCK_UN\n",
	})
	in := func(name string) string { return filepath.Join(dir, name) }
	all := []string{in("pipe.scn"), in("bad.scn"), in("parse.scn"), in("lock.scn")}

	code, text1, _ := ckptsim(t, append([]string{"verify"}, all...)...)
	assert.Equal(t, 1, code)
	code, text2, _ := ckptsim(t, append([]string{"verify", "-j", "3"}, all...)...)
	assert.Equal(t, 1, code)
	assert.Equal(t, text1, text2, "-j changes nothing of the output")

	code, stdout, _ := ckptsim(t, "verify", "--every", in("pipe.scn"), in("lock.scn"))
	assert.Equal(t, 0, code)
	assert.Regexp(t, "^ok "+regexp.QuoteMeta(in("pipe.scn"))+` \(9 lines, 9 checkpoints, 8 of them added by --every, [0-9]+ image bytes\)\n`+
		"ok "+regexp.QuoteMeta(in("lock.scn"))+` \(4 lines, 3 checkpoints, 3 of them added by --every, [0-9]+ image bytes\)\n$`, stdout)
	code, js, _ := ckptsim(t, "verify", "--every", "--json", in("pipe.scn"), in("lock.scn"))
	assert.Equal(t, 0, code)
	var every struct{ Scripts []runner.ScriptReport }
	require.NoError(t, json.Unmarshal([]byte(js), &every))
	require.Len(t, every.Scripts, 2)
	for _, r := range every.Scripts {
		assert.Contains(t, stdout, " "+strconv.FormatInt(r.ImageBytes, 10)+" image bytes)\n", "the text and the JSON say the same")
	}
	pipe, _ := strconv.ParseInt(pipeBytes(t), 10, 64)
	assert.Greater(t, every.Scripts[0].ImageBytes, 8*pipe/2, "nine images of one or two tasks, one of them the checkpoint line's")

	code, stdout, _ = ckptsim(t, append([]string{"verify", "--json"}, all...)...)
	assert.Equal(t, 1, code)
	var rep struct {
		Scripts []map[string]any `json:"scripts"`
		Passed  int              `json:"passed"`
		Failed  int              `json:"failed"`
	}
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep), stdout)
	assert.Equal(t, 2, rep.Passed)
	assert.Equal(t, 2, rep.Failed)
	require.Len(t, rep.Scripts, 4)
	assert.Equal(t, true, rep.Scripts[0]["ok"])
	assert.Equal(t, pipeBytes(t), strconv.FormatFloat(rep.Scripts[0]["image_bytes"].(float64), 'f', -1, 64))
	assert.Equal(t, map[string]any{"line": float64(3), "what": `write 1 1 "hello" = 4: got 5, expected 4`}, rep.Scripts[1]["failure"])
	assert.Equal(t, false, rep.Scripts[2]["ok"])
	assert.Contains(t, rep.Scripts[2]["error"], in("parse.scn")+`:1: unknown command "frob"`)

	junit := filepath.Join(dir, "report.xml")
	code, stdout, _ = ckptsim(t, append([]string{"verify", "--junit", junit}, all...)...)
	assert.Equal(t, 1, code)
	assert.Equal(t, text1, stdout, "--junit FILE leaves the text as it is")
	data, err := os.ReadFile(junit)
	require.NoError(t, err)
	var doc struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
		Errors   int `xml:"errors,attr"`
		Suites   []struct {
			Name  string `xml:"name,attr"`
			Cases []struct {
				Name    string `xml:"name,attr"`
				Failure *struct {
					Message string `xml:"message,attr"`
					Text    string `xml:",chardata"`
				} `xml:"failure"`
				Error *struct {
					Message string `xml:"message,attr"`
				} `xml:"error"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	require.NoError(t, xml.Unmarshal(data, &doc), string(data))
	assert.Equal(t, 4, doc.Tests)
	assert.Equal(t, 1, doc.Failures)
	assert.Equal(t, 1, doc.Errors)
	require.Len(t, doc.Suites, 1)
	cases := doc.Suites[0].Cases
	require.Len(t, cases, 4)
	assert.Equal(t, in("pipe.scn"), cases[0].Name)
	assert.Nil(t, cases[0].Failure)
	require.NotNil(t, cases[1].Failure)
	assert.Equal(t, "FAIL "+in("bad.scn")+`:3: write 1 1 "hello" = 4: got 5, expected 4`, cases[1].Failure.Message)
	require.NotNil(t, cases[2].Error)
	assert.Contains(t, cases[2].Error.Message, `unknown command "frob"`)

	code, stdout, _ = ckptsim(t, "verify", "--junit", "-", in("pipe.scn"))
	assert.Equal(t, 0, code)
	assert.True(t, strings.HasPrefix(stdout, "<?xml"), "the XML instead of the text")
	assert.NotContains(t, stdout, "\nok ")

	code, _, stderr := ckptsim(t, "verify", "--junit", filepath.Join(dir, "missing", "r.xml"), in("pipe.scn"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ckptsim verify: open ")
}

func TestShow(t *testing.T) {
	img := pipeImage(t)
	data, err := os.ReadFile(img)
	require.NoError(t, err)
	dir := files(t, map[string]string{
		"cut.img":      string(data[:len(data)-10]),
		"boundary.img": string(data[:len(data)-24]), // without its tail record
		"script.img":   pipeScript,
		"lock.scn":     "spawn 1\nopen 1 /f O_RDWR|O_CREAT 0644 = 0\nflock 1 0 LOCK_EX\ncheckpoint 1 = EBADF => lock.img\n",
	})

	code, stdout, stderr := ckptsim(t, "show", img)
	assert.Equal(t, 0, code, stderr)
	assert.Regexp(t, `(?m)^\s+0\s+HEADER\s`, stdout)
	assert.Contains(t, stdout, `data="hello"`)
	assert.Contains(t, stdout, "matches")

	code, stdout, _ = ckptsim(t, "show", "--json", img)
	assert.Equal(t, 0, code)
	var v map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &v), stdout)
	assert.Contains(t, v, "records")

	code, stdout, stderr = ckptsim(t, "show", filepath.Join(dir, "cut.img"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "HEADER", "the records before the fault are shown")
	assert.Contains(t, stderr, "ckptsim show: "+filepath.Join(dir, "cut.img")+": ")

	code, stdout, stderr = ckptsim(t, "show", filepath.Join(dir, "boundary.img"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "PIPE_BUF")
	assert.Contains(t, stderr, "bad image: image offset "+strconv.Itoa(len(data)-24)+": image ends without a tail or error record: cut short")

	code, _, stderr = ckptsim(t, "show", filepath.Join(dir, "script.img"))
	assert.Equal(t, 1, code)
	assert.NotEmpty(t, stderr)

	// A refused checkpoint's image is whole: it says why it was refused.
	code, _, stderr = ckptsim(t, "run", "--out", dir, filepath.Join(dir, "lock.scn"))
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = ckptsim(t, "show", filepath.Join(dir, "lock.img"))
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "flock")

	withStdin(t, img)
	code, stdout, _ = ckptsim(t, "show", "-")
	assert.Equal(t, 0, code)
	assert.Contains(t, stdout, `data="hello"`)
}

// show --json and encode give back the identical image, and an edit comes
// through.
func TestShowEncodeRoundTrip(t *testing.T) {
	img := pipeImage(t)
	orig, err := os.ReadFile(img)
	require.NoError(t, err)
	dir := t.TempDir()
	code, js, _ := ckptsim(t, "show", "--json", img)
	require.Equal(t, 0, code)
	jsonPath := filepath.Join(dir, "pipe.json")
	require.NoError(t, os.WriteFile(jsonPath, []byte(js), 0o644))

	code, stdout, stderr := ckptsim(t, "encode", jsonPath)
	require.Equal(t, 0, code, stderr)
	assert.Equal(t, orig, []byte(stdout), "encode to stdout")

	out := filepath.Join(dir, "again.img")
	code, _, stderr = ckptsim(t, "encode", "-o", out, jsonPath)
	require.Equal(t, 0, code, stderr)
	again, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, orig, again, "encode -o")

	withStdin(t, jsonPath)
	code, stdout, _ = ckptsim(t, "encode")
	require.Equal(t, 0, code)
	assert.Equal(t, orig, []byte(stdout), "encode from stdin")

	// An edited pipe byte: without --fix-crc the checksum no longer
	// matches, with it it does.
	edited := filepath.Join(dir, "edited.json")
	require.NoError(t, os.WriteFile(edited, []byte(strings.Replace(js, "hello", "jello", 1)), 0o644))
	for _, tt := range []struct {
		flags []string
		crc   string
	}{{nil, "mismatch"}, {[]string{"--fix-crc"}, "matches"}} {
		out := filepath.Join(dir, "edited"+strings.Join(tt.flags, "")+".img")
		code, _, stderr = ckptsim(t, append(append([]string{"encode"}, tt.flags...), "-o", out, edited)...)
		require.Equal(t, 0, code, stderr)
		code, shown, _ := ckptsim(t, "show", out)
		assert.Contains(t, shown, `data="jello"`)
		assert.Contains(t, shown, tt.crc)
		if tt.crc == "mismatch" {
			assert.Equal(t, 1, code, "show reports a checksum mismatch as bad input")
		}
	}

	// Refused JSON writes nothing.
	bad := filepath.Join(dir, "bad.json")
	require.NoError(t, os.WriteFile(bad, []byte(strings.Replace(js, `"HEADER"`, `"HEADLESS"`, 1)), 0o644))
	out = filepath.Join(dir, "bad.img")
	code, _, stderr = ckptsim(t, "encode", "-o", out, bad)
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, "ckptsim encode: "+bad+": ")
	assert.NoFileExists(t, out)
}

func TestGraph(t *testing.T) {
	img := pipeImage(t)
	data, err := os.ReadFile(img)
	require.NoError(t, err)
	// The world of the script at its checkpoint line, to compare with the
	// image's graph.
	atCheckpoint := pipeScript[:strings.Index(pipeScript, "checkpoint")]
	dir := files(t, map[string]string{
		"pipe.scn":       pipeScript,
		"at.scn":         atCheckpoint,
		"image.scn":      string(data), // an image, whatever its name says
		"bad.scn":        "spawn 1\nclose 1 3\n",
		"broken.img.scn": string(data[:40]),
	})
	in := func(name string) string { return filepath.Join(dir, name) }

	code, fromScript, stderr := ckptsim(t, "graph", in("at.scn"))
	require.Equal(t, 0, code, stderr)
	assert.True(t, strings.HasPrefix(fromScript, "digraph ckptsim {"), fromScript)
	assert.Contains(t, fromScript, `task_1 -> task_2`)
	assert.Contains(t, fromScript, `5 bytes buffered`)

	code, fromImage, stderr := ckptsim(t, "graph", img)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, fromImage, "#", "an image's objects are labelled with objrefs")
	assert.Equal(t, strings.Count(fromScript, "->"), strings.Count(fromImage, "->"), "a world and its image have the same edges")

	code, named, _ := ckptsim(t, "graph", in("image.scn"))
	assert.Equal(t, 0, code)
	assert.Equal(t, fromImage, named, "told apart by content, not by name")

	out := in("g.dot")
	code, stdout, _ := ckptsim(t, "graph", "-o", out, in("at.scn"))
	require.Equal(t, 0, code)
	assert.Empty(t, stdout)
	written, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.Equal(t, fromScript, string(written))

	code, _, stderr = ckptsim(t, "graph", in("bad.scn"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, in("bad.scn")+":2: close 1 3: got EBADF, expected success")

	code, _, stderr = ckptsim(t, "graph", in("broken.img.scn"))
	assert.Equal(t, 1, code)
	assert.Contains(t, stderr, in("broken.img.scn")+": ")
}

func TestGraphSVG(t *testing.T) {
	dir := files(t, map[string]string{"pipe.scn": pipeScript})
	if _, err := exec.LookPath("dot"); err == nil {
		code, stdout, stderr := ckptsim(t, "graph", "--svg", filepath.Join(dir, "pipe.scn"))
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, "<svg")
	}
	t.Setenv("PATH", "") // no dot to be found
	code, stdout, stderr := ckptsim(t, "graph", "--svg", filepath.Join(dir, "pipe.scn"))
	assert.Equal(t, 1, code)
	assert.Empty(t, stdout)
	assert.Contains(t, stderr, "apt-get install graphviz")
	_, err := exec.LookPath("dot")
	assert.ErrorIs(t, graph.WriteSVG(&bytes.Buffer{}, &graph.Graph{}), graph.ErrNoDot, "%v", err)
}

// TestGraphPictures: --at, --frames, --restored, --png, --ungrouped and
// --legend=false, and their refusals.
func TestGraphPictures(t *testing.T) {
	img := pipeImage(t)
	const alike = "spawn 1 init\nfork 1 2\nfork 1 3\nfork 1 4\n"
	dir := files(t, map[string]string{"pipe.scn": pipeScript, "alike.scn": alike, "bad.scn": "spawn 1\nclose 1 3\n"})
	in := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		notOut   []string
		inStderr []string
	}{
		{"after a line", []string{"graph", "--at", "4", in("pipe.scn")}, 0,
			[]string{`label="` + in("pipe.scn") + ` after line 4"`, `\"hello\"\n5 bytes buffered`}, []string{"task_2"}, nil},
		{"a line that is no statement", []string{"graph", "--at", "99", in("pipe.scn")}, 1, nil, nil,
			[]string{"line 99 is not a statement of the script (its statements are on lines 2 to 10)"}},
		{"restored", []string{"graph", "--restored", in("pipe.scn")}, 0,
			[]string{"line 7: checkpoint 1 => pipe.img, restarted (" + pipeBytes(t) + "-byte image); equiv: the same world", "subgraph cluster_1 {", `label="file table  [1]\nfds 2"`},
			nil, nil},
		{"restored after a line", []string{"graph", "--restored", "--at", "3", in("pipe.scn")}, 0,
			[]string{"line 3: pipe 1 = 0 1, then checkpoint 1, restarted"}, nil, nil},
		{"grouped", []string{"graph", in("alike.scn")}, 0, []string{"pids 2-4 (3 tasks)", "3 file tables, one each", "peripheries=2"}, nil, nil},
		{"ungrouped", []string{"graph", "--ungrouped", in("alike.scn")}, 0, []string{`"pid 4\ninit"`}, []string{"pids 2-4"}, nil},
		{"without the legend", []string{"graph", "--legend=false", in("alike.scn")}, 0, nil, []string{"legend"}, nil},
		{"a failing line in frames", []string{"graph", "--frames", in("bad-frames"), in("bad.scn")}, 1, nil, nil,
			[]string{in("bad.scn") + ":2: close 1 3: got EBADF, expected success"}},
		{"svg and png", []string{"graph", "--svg", "--png", in("pipe.scn")}, 2, nil, nil, []string{"--svg and --png: give one"}},
		{"frames and at", []string{"graph", "--frames", "d", "--at", "3", in("pipe.scn")}, 2, nil, nil, []string{"--frames draws every line"}},
		{"frames and restored", []string{"graph", "--frames", "d", "--restored", in("pipe.scn")}, 2, nil, nil, []string{"--frames draws every line"}},
		{"frames and -o", []string{"graph", "--frames", "d", "-o", "x", in("pipe.scn")}, 2, nil, nil, []string{"-o does not apply"}},
		{"frames of an image", []string{"graph", "--frames", in("f"), img}, 2, nil, nil, []string{"is an image: --frames steps through a script"}},
		{"at on an image", []string{"graph", "--at", "3", img}, 1, nil, nil, []string{"is an image: --at and --restored draw a script's world"}},
		{"restored of an image", []string{"graph", "--restored", img}, 1, nil, nil, []string{"is an image: --at and --restored"}},
		{"a negative line", []string{"graph", "--at", "-2", in("pipe.scn")}, 2, nil, nil, []string{"--at -2: a line number is positive"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.args, tt.code, tt.inStdout, tt.inStderr, tt.notOut)
		})
	}

	// Frames as DOT: one a line, listed.
	frames := in("frames")
	code, stdout, stderr := ckptsim(t, "graph", "--frames", frames, in("pipe.scn"))
	require.Equal(t, 0, code, stderr)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 9)
	assert.Equal(t, filepath.Join(frames, "frame-001.dot")+"  line 2: spawn 1 init", lines[0])
	assert.Equal(t, filepath.Join(frames, "frame-009.dot")+`  line 10: read 2 0 16 = ""`, lines[8])
	first, err := os.ReadFile(filepath.Join(frames, "frame-001.dot"))
	require.NoError(t, err)
	assert.Contains(t, string(first), "style=invis", "the objects of later frames keep their place")
}

// TestGraphPNG: pictures rendered by dot, one and frames.
func TestGraphPNG(t *testing.T) {
	if _, err := exec.LookPath("dot"); err != nil {
		t.Skip("Graphviz's dot is not installed (apt-get install graphviz)")
	}
	dir := files(t, map[string]string{"pipe.scn": pipeScript})
	png := []byte("\x89PNG\r\n\x1a\n")
	out := filepath.Join(dir, "p.png")
	code, _, stderr := ckptsim(t, "graph", "--png", "--restored", "-o", out, filepath.Join(dir, "pipe.scn"))
	require.Equal(t, 0, code, stderr)
	data, err := os.ReadFile(out)
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, png))

	code, stdout, stderr := ckptsim(t, "graph", "--png", "--frames", filepath.Join(dir, "f"), filepath.Join(dir, "pipe.scn"))
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "frame-009.png  line 10: ")
	data, err = os.ReadFile(filepath.Join(dir, "f", "frame-005.png"))
	require.NoError(t, err)
	assert.True(t, bytes.HasPrefix(data, png))
}

func TestDemo(t *testing.T) {
	code, stdout, stderr := ckptsim(t, "demo")
	require.Equal(t, 0, code, stderr)
	for _, want := range []string{
		"checksum matches",
		"equiv.Equal: the restored world is the original",
		"ok    shared file table  2 tables; pids 1,2 share one (2 references)",
		`ok    pipe bytes         1 pipe: "in flight"`,
		"The restored world goes on:",
	} {
		assert.Contains(t, stdout, want)
	}
	assert.NotContains(t, stdout, "DIFF")

	code, script, _ := ckptsim(t, "demo", "--script")
	require.Equal(t, 0, code)
	assert.Equal(t, runner.DemoScript(), script)
	s, err := scenario.ParseString("demo.scn", script)
	require.NoError(t, err)
	_, err = runner.Verify(s)
	assert.NoError(t, err)
}

// TestDiff compares images: the same bytes (exit 0), a record changed and
// the image cut (exit 1, each difference named).
func TestDiff(t *testing.T) {
	img := pipeImage(t)
	dir := filepath.Dir(img)
	code, stdout, stderr := ckptsim(t, "diff", img, img)
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "identical records\n")

	// The same world with other bytes in the pipe.
	other := strings.Replace(pipeScript, `"hello" = 5`, `"help!" = 5`, 1)
	other = strings.Replace(other, `read 2 0 16 = "hello"`, `read 2 0 16 = "help!"`, 1)
	other = strings.Replace(other, "=> pipe.img", "=> other.img", 1)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "other.scn"), []byte(other), 0o644))
	code, _, stderr = ckptsim(t, "run", "--out", dir, filepath.Join(dir, "other.scn"))
	require.Equal(t, 0, code, stderr)
	code, stdout, stderr = ckptsim(t, "diff", img, filepath.Join(dir, "other.img"))
	assert.Equal(t, 1, code, stderr)
	assert.Contains(t, stdout, "~ PIPE_BUF   of pipe #3, record 12 at offset 648 -> record 12 at offset 648\n"+
		"      data: \"hello\" -> \"help!\"\n")
	assert.Contains(t, stdout, "2 records differ\n") // and the tail's checksum

	data, err := os.ReadFile(img)
	require.NoError(t, err)
	cut := filepath.Join(dir, "cut.img")
	require.NoError(t, os.WriteFile(cut, data[:len(data)-24], 0o644))
	code, stdout, _ = ckptsim(t, "diff", img, cut)
	assert.Equal(t, 1, code)
	assert.Contains(t, stdout, "! "+cut+" cannot be read to its end: image offset")
	assert.Contains(t, stdout, "- TAIL")
}

// TestShowAll: show prints a task's registers by name, the zero ones only
// with --all; --json and --all together are a usage error.
func TestShowAll(t *testing.T) {
	dir := files(t, map[string]string{"regs.scn": "spawn 1 init\nregs 1 rbx=0x2a fs_base=0x7f0000001000 mxcsr=0x1fa0\ncheckpoint 1 => regs.img\n"})
	code, _, stderr := ckptsim(t, "run", "--out", dir, filepath.Join(dir, "regs.scn"))
	require.Equal(t, 0, code, stderr)
	img := filepath.Join(dir, "regs.img")
	expect(t, []string{"show", img}, 0,
		[]string{"REGS           792  pid 1          Regs.Rbx=0x2a ", " Regs.FsBase=0x7f0000001000 ", " FPU.Mxcsr=0x1fa0 ", "(128 more fields, all zero)"}, nil,
		[]string{"Regs.R15=", "Pad=0"})
	expect(t, []string{"show", "--all", img}, 0, []string{"Regs.R15=0x0 ", " Debug[7]=0x0", "Tasks=1 Pad=0"}, nil, []string{"more fields"})
	expect(t, []string{"show", "--json", "--all", img}, 2, nil, []string{"ckptsim show: --json prints every field already: give --json or --all"}, nil)
}

// TestPSAndFds: the task tree of an image and each table's descriptors,
// with what they are open on and who else holds them; the error paths.
func TestPSAndFds(t *testing.T) {
	dir := files(t, map[string]string{"tree.scn": `spawn 1 init
socketpair 1 SOCK_STREAM = 0 1
open 1 /data O_RDWR|O_CREAT 0644 = 2
write 1 2 "abc" = 3
pipe 1 O_CLOEXEC = 3 4
clone 1 2 CLONE_FILES|CLONE_FS worker
fork 1 3
close 3 1
open 1 /gone O_RDWR|O_CREAT 0600 = 5
unlink 1 /gone
fork 1 4
exit 4 9
checkpoint 1 => tree.img
`})
	code, _, stderr := ckptsim(t, "run", "--out", dir, filepath.Join(dir, "tree.scn"))
	require.Equal(t, 0, code, stderr)
	img := filepath.Join(dir, "tree.img")
	expect(t, []string{"ps", img}, 0, []string{
		"PID  PPID  STATE   EXIT  COMM       FILE TABLE  FS   MM\n",
		"1    0     live          init       #1          #11  #12\n",
		"2    1     live          \\_ worker  #1          #11  #13\n",
		"3    1     live          \\_ init    #14         #15  #16\n",
		"4    1     zombie  9     \\_ init    -           -    -\n",
	}, nil, nil)
	expect(t, []string{"fds", img}, 0, []string{
		"pid 1 init, pid 2 worker: file table #1\n",
		"  FD         FILE  TYPE     FLAGS               POS  OPEN ON                     HELD BY\n",
		"  0          #2    socket   O_RDWR              0    socket pair #3 end 0        1:0 2:0 3:0\n",
		"  1          #4    socket   O_RDWR              0    socket pair #3 end 1        1:1 2:1\n",
		"  2          #5    regular  O_RDWR|O_LARGEFILE  3    /data                       1:2 2:2 3:2\n",
		"  3 cloexec  #6    pipe     O_RDONLY            0    pipe #7                     1:3 2:3 3:3\n",
		"  5          #9    regular  O_RDWR|O_LARGEFILE  0    /gone (deleted: ghost #10)  1:5 2:5\n",
		"pid 3 init: file table #14\n",
		"pid 4 init: a zombie, no file table\n",
	}, nil, nil)
	expect(t, []string{"fds", "--pid", "3", img}, 0, []string{"pid 3 init: file table #14\n"}, nil, []string{"pid 1 init"})
	expect(t, []string{"fds", "--pid", "7", img}, 1, nil, []string{"ckptsim fds: " + img + ": pid 7: no such pid in the image (it holds pids 1, 2, 3, 4)"}, nil)
	expect(t, []string{"fds", "--pid", "-1", img}, 2, nil, []string{"--pid -1: a pid is positive"}, nil)
	expect(t, []string{"ps"}, 2, nil, []string{"expected one image, got 0 arguments", "usage: ckptsim ps IMAGE"}, nil)
	expect(t, []string{"fds", img, img}, 2, nil, []string{"expected one image, got 2 arguments"}, nil)
	expect(t, []string{"ps", filepath.Join(dir, "none.img")}, 1, nil, []string{"ckptsim ps: open "}, nil)

	// A cut image: as far as it goes, then the fault.
	data, err := os.ReadFile(img)
	require.NoError(t, err)
	cut := filepath.Join(dir, "cut.img")
	require.NoError(t, os.WriteFile(cut, data[:600], 0o644))
	expect(t, []string{"ps", cut}, 1, []string{"1    0     live"}, []string{"ckptsim ps: " + cut + ": bad image: image offset"}, nil)
	withStdin(t, img)
	expect(t, []string{"ps", "-"}, 0, []string{"\\_ worker"}, nil, nil)
}

// TestDiffRenumbering: one close between two checkpoints is one FD record
// removed and a renumbering, not every record that names an objref.
func TestDiffRenumbering(t *testing.T) {
	dir := files(t, map[string]string{"close.scn": `spawn 1 init
open 1 "/a" O_RDWR|O_CREAT 0644 = 0
open 1 "/b" O_RDWR|O_CREAT 0644 = 1
pipe 1 = 2 3
write 1 3 "hi" = 2
fork 1 2
checkpoint 1 => before.img
close 1 0
regs 1 rbx=0x2a
checkpoint 1 => after.img
`})
	code, _, stderr := ckptsim(t, "run", "--out", dir, filepath.Join(dir, "close.scn"))
	require.Equal(t, 0, code, stderr)
	code, stdout, _ := ckptsim(t, "diff", filepath.Join(dir, "before.img"), filepath.Join(dir, "after.img"))
	assert.Equal(t, 1, code)
	// Where each image's records are, as the diff names them.
	size, regs := func(name string) string {
		rep := inspectFile(t, filepath.Join(dir, name))
		return fmt.Sprintf("(%d records, %d bytes)", len(rep.Records), rep.Summary.Total)
	}, func(name string) string {
		for _, r := range inspectFile(t, filepath.Join(dir, name)).Records {
			if r.Type.String() == "REGS" {
				return fmt.Sprintf("record %d at offset %d", r.Index, r.Offset)
			}
		}
		return "no REGS record"
	}
	assert.Equal(t, "--- "+filepath.Join(dir, "before.img")+" "+size("before.img")+"\n"+
		"+++ "+filepath.Join(dir, "after.img")+" "+size("after.img")+"\n"+
		"= objects renumbered, the same in both images: file #2 -> #9, file #3 -> #2, file #4 -> #3, pipe #5 -> #4, file #6 -> #5, fs state #7 -> #6, mm #8 -> #7, file table #9 -> #8\n"+
		"~ FILE_TABLE of file table #1, record 7 at offset 520 -> record 7 at offset 520\n"+
		"      Fds: 4 -> 3\n"+
		"- FD         of file table #1, record 10 at offset 624: Fd=0 File=2(first) CloseOnExec=0\n"+
		"~ REGS       of pid 1, "+regs("before.img")+" -> "+regs("after.img")+"\n"+
		"      Regs.Rbx: 0x0 -> 0x2a\n", stdout[:strings.Index(stdout, "~ TAIL")])
	assert.True(t, strings.HasSuffix(stdout, "4 records differ; 8 objects renumbered\n"), stdout)
}

// inspectFile reads an image file through inspect's walker.
func inspectFile(t *testing.T, path string) *inspect.Report {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rep, err := inspect.Inspect(f)
	require.NoError(t, err)
	return rep
}

// TestVersion: --version prints the build information's module version and
// Go version; versionText says what a released or stamped build carries.
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version", "-version"} {
		code, stdout, stderr := ckptsim(t, arg)
		assert.Equal(t, 0, code)
		assert.Empty(t, stderr)
		assert.Regexp(t, `^ckptsim .*, built with go1\.\d+`, stdout)
	}
	tests := []struct {
		name string
		info *debug.BuildInfo
		want string
	}{
		{"no build information", nil, "ckptsim: no build information in this binary"},
		{"go install of a tag", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/ckptsim/ckptsim", Version: "v0.3.0"}},
			"ckptsim v0.3.0 (github.com/ckptsim/ckptsim), built with go1.26.8"},
		{"go build in a git checkout", &debug.BuildInfo{GoVersion: "go1.26.8",
			Main: debug.Module{Path: "github.com/ckptsim/ckptsim", Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs", Value: "git"}, {Key: "vcs.revision", Value: "7d5f8e4f"},
				{Key: "vcs.time", Value: "2026-12-02T06:14:13Z"}, {Key: "vcs.modified", Value: "true"}}},
			"ckptsim (devel) (github.com/ckptsim/ckptsim), git revision 7d5f8e4f of 2026-12-02T06:14:13Z, with uncommitted changes, built with go1.26.8"},
		{"a test binary", &debug.BuildInfo{GoVersion: "go1.26.8"}, "ckptsim (unknown version), built with go1.26.8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, versionText(tt.info))
		})
	}
}

func TestRestart(t *testing.T) {
	const filesScript = "spawn 1 init\nopen 1 /data O_RDWR|O_CREAT 0600 = 0\nwrite 1 0 \"abc\" = 3\n" +
		"checkpoint 1 => a.img\nwrite 1 0 \"d\" = 1\ncheckpoint 1 => b.img\n"
	dir := files(t, map[string]string{
		"pipe.scn":  pipeScript,
		"files.scn": filesScript,
		"then.scn":  "read 2 0 16 = \"hello\"\nclose 1 1\ncheckpoint 1 => later.img\nread 2 0 16 = \"\"\n",
		"wrong.scn": "read 2 0 16 = \"bye\"\n",
		"parse.scn": "frob 1\n",
	})
	in := func(name string) string { return filepath.Join(dir, name) }
	for _, s := range []string{"pipe.scn", "files.scn"} {
		code, _, stderr := ckptsim(t, "run", "--out", dir, in(s))
		require.Equal(t, 0, code, stderr)
	}
	require.NoError(t, os.Mkdir(in("disk"), 0o755))
	require.NoError(t, os.WriteFile(in("disk/data"), []byte("abc"), 0o600))
	require.NoError(t, os.Mkdir(in("badisk"), 0o755))
	require.NoError(t, os.Symlink("x", in("badisk/link")))

	tests := []struct {
		name     string
		args     []string
		code     int
		inStdout []string
		inStderr []string
	}{
		{"on an empty disk", []string{"restart", in("pipe.img")}, 0,
			[]string{"Image " + in("pipe.img") + ": " + pipeBytes(t) + " bytes, checksum matches", "on a copy of an empty disk: root pid 1; the kernel's consistency check passes.",
				"What it holds", `  pipe bytes         1 pipe: "hello" in 1 buffer (1 reader, 1 writer)`}, nil},
		{"on a host directory", []string{"restart", "--disk", in("disk"), in("a.img")}, 0,
			[]string{"on a copy of the disk loaded from " + in("disk") + " (0 directories, 1 regular file, 0 FIFOs, 3 bytes)", "fds sharing a file 1 file; shared: none"}, nil},
		{"on a script's disk, by the image's name", []string{"restart", "--script", in("files.scn"), in("b.img")}, 0,
			[]string{"the disk of " + in("files.scn") + " at line 6", "equiv.Equal: the restored world is the script's world at line 6", "  ok    tasks and tree     1 tasks: 1 init"}, nil},
		{"on a script's disk at a line", []string{"restart", "--script", in("files.scn"), "--at", "4", in("a.img")}, 0,
			[]string{"at line 4 (checkpoint 1 => a.img)"}, nil},
		{"then more lines", []string{"restart", in("pipe.img"), "--then", in("then.scn"), "--out", in("later")}, 0,
			[]string{"The restored world goes on:", `   1  read 2 0 16  = "hello"`, "   3  checkpoint 1 = 0   # ", " bytes in " + in("later/later.img")}, nil},
		{"then a wrong result", []string{"restart", in("pipe.img"), "--then", in("wrong.scn")}, 1,
			[]string{`   1  read 2 0 16 = "hello"   # expected "bye"`}, []string{"ckptsim restart: " + in("wrong.scn") + `:1: read 2 0 16 = "bye": got "hello", expected "bye"`}},
		{"a file that changed", []string{"restart", "--disk", in("disk"), in("b.img")}, 1,
			[]string{"Image " + in("b.img")}, []string{"ckptsim restart: " + in("b.img") + ": restart: ", "FILE record: /data: changed since the checkpoint (size 3, 1 changes; saved 4, 2): ESTALE (stale file handle)"}},
		{"a file missing", []string{"restart", in("a.img")}, 1, nil, []string{"FILE record: /data: ENOENT (no such file or directory)"}},
		{"a host tree with a link", []string{"restart", "--disk", in("badisk"), in("a.img")}, 1, nil,
			[]string{"ckptsim restart: " + in("badisk/link") + ": a symbolic link cannot be loaded into the simulated disk"}},
		{"no such checkpoint line", []string{"restart", "--script", in("files.scn"), "--at", "3", in("a.img")}, 1, nil,
			[]string{"line 3 is not a checkpoint line; its checkpoint lines are 4, 6"}},
		{"a script that does not parse", []string{"restart", in("pipe.img"), "--then", in("parse.scn")}, 1, nil, []string{`parse.scn:1: unknown command "frob"`}},
		{"a missing image", []string{"restart", in("none.img")}, 1, nil, []string{"no such file or directory"}},
		{"not an image", []string{"restart", in("pipe.scn")}, 1, nil, []string{"ckptsim restart: " + in("pipe.scn") + ": restart: image offset 0: ", "EINVAL"}},
		{"no image", []string{"restart"}, 2, nil, []string{"expected one image, got 0 arguments", "usage: ckptsim restart"}},
		{"two disks", []string{"restart", "--disk", "d", "--script", "s", "x"}, 2, nil, []string{"--disk and --script are two ways to give the disk: give one"}},
		{"--at without a script", []string{"restart", "--at", "3", "x"}, 2, nil, []string{"--at names a line of the --script script"}},
		{"--at not a line", []string{"restart", "--script", "s", "--at", "-1", "x"}, 2, nil, []string{"--at -1: a line number is positive"}},
		{"--out without --then", []string{"restart", "--out", "d", "x"}, 2, nil, []string{"--out is where the --then script's images go"}},
		{"stdin twice", []string{"restart", "--then", "-", "-"}, 2, nil, []string{`standard input ("-") can be only one of the image and the scripts`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			expect(t, tt.args, tt.code, tt.inStdout, tt.inStderr, nil)
		})
	}

	// The image from standard input.
	withStdin(t, in("pipe.img"))
	code, stdout, stderr := ckptsim(t, "restart", "-")
	assert.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "Image stdin: "+pipeBytes(t)+" bytes")
	later, err := os.Stat(in("later/later.img"))
	require.NoError(t, err)
	_, stdout, _ = ckptsim(t, "restart", in("pipe.img"), "--then", in("then.scn"), "--out", in("later"))
	assert.Contains(t, stdout, "   3  checkpoint 1 = 0   # "+strconv.FormatInt(later.Size(), 10)+" bytes in "+in("later/later.img"))
}
