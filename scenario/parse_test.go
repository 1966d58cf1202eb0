package scenario_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// TestParseAccepts checks how well-formed lines are read: arguments,
// expected results, comments and "=> NAME".
func TestParseAccepts(t *testing.T) {
	for _, tc := range []struct {
		line  string
		args  []string
		image string
		want  *scenario.Expect // compared by Kind and value
	}{
		{"spawn 1 init", []string{"1", "init"}, "", nil},
		{"  open 1 /f O_RDWR|O_CREAT 0644 = 3   # a comment", []string{"1", "/f", "O_RDWR|O_CREAT", "0644"}, "",
			&scenario.Expect{Kind: scenario.ExpectInt, Int: 3}},
		{`write 1 1 "a \"quoted\" #not a comment\n" = 23`, []string{"1", "1", "a \"quoted\" #not a comment\n"}, "",
			&scenario.Expect{Kind: scenario.ExpectInt, Int: 23}},
		{`read 1 0 16 = "hi\x00"`, []string{"1", "0", "16"}, "", &scenario.Expect{Kind: scenario.ExpectBytes, Bytes: []byte("hi\x00")}},
		{"pipe 1 O_NONBLOCK|O_CLOEXEC = 3 4", []string{"1", "O_NONBLOCK|O_CLOEXEC"}, "", &scenario.Expect{Kind: scenario.ExpectPair, Pair: [2]int64{3, 4}}},
		{"read 1 0 1 = BLOCKED", []string{"1", "0", "1"}, "", &scenario.Expect{Kind: scenario.ExpectErrno, Errno: errno.BLOCKED}},
		{"close 1 -1 = EBADF", []string{"1", "-1"}, "", &scenario.Expect{Kind: scenario.ExpectErrno, Errno: errno.EBADF}},
		{"fcntl 1 0 F_GETFL = O_RDWR|0x8000", []string{"1", "0", "F_GETFL"}, "", &scenario.Expect{Kind: scenario.ExpectInt, Int: 2 | 0x8000}},
		{"lseek 1 0 0x10 SEEK_SET = 0o20", []string{"1", "0", "0x10", "SEEK_SET"}, "", &scenario.Expect{Kind: scenario.ExpectInt, Int: 16}},
		{"checkpoint 1 => a.ckpt", []string{"1"}, "a.ckpt", nil},
		{"checkpoint 1 CHECKPOINT_SUBTREE => a.ckpt = EBUSY", []string{"1", "CHECKPOINT_SUBTREE"}, "a.ckpt",
			&scenario.Expect{Kind: scenario.ExpectErrno, Errno: errno.EBUSY}},
		{"checkpoint 1 = EBUSY => a.ckpt", []string{"1"}, "a.ckpt", &scenario.Expect{Kind: scenario.ExpectErrno, Errno: errno.EBUSY}},
	} {
		t.Run(tc.line, func(t *testing.T) {
			s, err := scenario.ParseString("t.scn", "# first line\n\n"+tc.line+"\n")
			require.NoError(t, err)
			require.Len(t, s.Lines, 1)
			l := s.Lines[0]
			assert.Equal(t, 3, l.Num)
			var args []string
			for _, a := range l.Args {
				args = append(args, a.Text)
			}
			assert.Equal(t, tc.args, args)
			assert.Equal(t, tc.image, l.Image)
			if tc.want == nil {
				assert.Nil(t, l.Expect)
				return
			}
			require.NotNil(t, l.Expect)
			assert.Equal(t, tc.want.Kind, l.Expect.Kind)
			assert.Equal(t, tc.want.Int, l.Expect.Int)
			assert.Equal(t, tc.want.Bytes, l.Expect.Bytes)
			assert.Equal(t, tc.want.Pair, l.Expect.Pair)
			assert.Equal(t, tc.want.Errno, l.Expect.Errno)
		})
	}
}

// TestParseRefuses checks that a line that cannot be parsed is refused with
// the file, the line number and what was expected.
func TestParseRefuses(t *testing.T) {
	for _, tc := range []struct{ line, msg string }{
		{"frobnicate 1", `t.scn:2: unknown command "frobnicate"`},
		{`"spawn" 1`, "t.scn:2: expected a command, found a string"},
		{"open 1 /f", "t.scn:2: open: expected 3 arguments or more, found 2 (usage: open PID PATH FLAGS [MODE])"},
		{"open 1 /f O_RDWR|O_BOGUS", `t.scn:2: open: FLAGS: unknown flag "O_BOGUS" (usage: open PID PATH FLAGS [MODE])`},
		{"close x 1", `t.scn:2: close: PID: expected an integer, found "x"`},
		{`write 1 1 "unterminated`, "t.scn:2: unterminated string"},
		{"close 1 1 = ENOTANERRNO", `t.scn:2: close: unknown errno "ENOTANERRNO"`},
		{"close 1 1 =", `t.scn:2: close: nothing after "="`},
		{"read 1 0 1 = 7", `t.scn:2: read: expected a quoted string or an errno after "=", found "7"`},
		{"pipe 1 = 3", `t.scn:2: pipe: expected two descriptors or an errno after "=", found "3"`},
		{"close 1 1 => x", `t.scn:2: only a checkpoint line takes "=> NAME"`},
		{"checkpoint 1 =>", `t.scn:2: "=>" without an image NAME after it`},
		{"checkpoint 1 => a b", `t.scn:2: "=> NAME" must end the line or come right before "= RESULT"`},
		{"checkpoint 1 => a => b", `t.scn:2: "=> NAME" must end the line or come right before "= RESULT"`},
		{"checkpoint 1 => a = 0 => b", `t.scn:2: a checkpoint line takes one "=> NAME"`},
		{"checkpoint 1 => ../x.ckpt", `t.scn:2: image name "../x.ckpt": expected a file name, without "/"`},
		{"checkpoint 1 => /tmp/x.ckpt", `t.scn:2: image name "/tmp/x.ckpt": expected a file name, without "/"`},
		{`checkpoint 1 => ""`, `t.scn:2: image name "": expected a file name, without "/"`},
		{"checkpoint 1 => ..", `t.scn:2: image name "..": expected a file name, without "/"`},
	} {
		t.Run(tc.line, func(t *testing.T) {
			_, err := scenario.ParseString("t.scn", "spawn 1\n"+tc.line+"\n")
			require.Error(t, err)
			var se *scenario.Error
			require.True(t, errors.As(err, &se), "%T", err)
			assert.Equal(t, 2, se.Line)
			assert.Contains(t, err.Error(), tc.msg)
		})
	}
}

// TestCheckpointOutcome checks the outcome a caller gives a checkpoint
// line: it matches "= 0" or no expectation when it succeeded, and the
// errno when it was refused.
func TestCheckpointOutcome(t *testing.T) {
	s, err := scenario.ParseString("t.scn", "checkpoint 1\ncheckpoint 1 = 0\ncheckpoint 1 = EBUSY\n")
	require.NoError(t, err)
	ok, refused := scenario.CheckpointOutcome(nil), scenario.CheckpointOutcome(&kernel.Error{Err: errno.EBUSY})
	assert.True(t, ok.Matches(s.Lines[0].Expect))
	assert.True(t, ok.Matches(s.Lines[1].Expect))
	assert.False(t, ok.Matches(s.Lines[2].Expect))
	assert.True(t, refused.Matches(s.Lines[2].Expect))
	assert.False(t, refused.Matches(s.Lines[1].Expect))
	assert.Equal(t, "0", ok.String())
	assert.Equal(t, "EBUSY", refused.String())
}
