package scenario

import (
	"testing"

	"github.com/ckptsim/ckptsim/sim/errno"
)

func TestArgsOf(t *testing.T) {
	cases := []struct {
		line, usage string
		check       func(t *testing.T, a Args)
	}{
		{`read 1 3 0x10000000 12`, "read PID FD ADDR COUNT", func(t *testing.T, a Args) {
			if a.Int("ADDR", 0) != 0x10000000 || a.Int("COUNT", 0) != 12 || a.Has("STRING") {
				t.Errorf("ADDR %#x COUNT %d", a.Int("ADDR", 0), a.Int("COUNT", 0))
			}
		}},
		{`mmap 1 0 4096 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS`, "mmap PID ADDR LEN PROT FLAGS [FD [OFFSET]]", func(t *testing.T, a Args) {
			if a.Int("FD", -1) != -1 || a.Flags("FLAGS", 0) != 0x22 || a.Has("OFFSET") {
				t.Errorf("FD %d FLAGS %#x", a.Int("FD", -1), a.Flags("FLAGS", 0))
			}
		}},
		{`clone 1 2 "name"`, "clone PID CHILD COMM", func(t *testing.T, a Args) {
			if a.Text("COMM") != "name" || a.Flags("FLAGS", 7) != 7 {
				t.Errorf("COMM %q FLAGS %d", a.Text("COMM"), a.Flags("FLAGS", 7))
			}
		}},
		{`open 1 "/a b" O_RDWR|O_CREAT 0644`, "open PID PATH FLAGS [MODE]", func(t *testing.T, a Args) {
			if a.Text("PATH") != "/a b" || a.Flags("FLAGS", 0) != 0o102 || a.Int("MODE", 0) != 0o644 {
				t.Errorf("PATH %q FLAGS %o MODE %o", a.Text("PATH"), a.Flags("FLAGS", 0), a.Int("MODE", 0))
			}
		}},
	}
	for _, c := range cases {
		s, err := ParseString("t", c.line)
		if err != nil {
			t.Fatal(err)
		}
		a, err := ArgsOf(s.Lines[0])
		if err != nil {
			t.Fatal(err)
		}
		if a.Usage() != c.usage {
			t.Errorf("%s: usage %q, want %q", c.line, a.Usage(), c.usage)
		}
		c.check(t, a)
	}
	if _, err := ArgsOf(&Line{Num: 3, Cmd: "close", Args: []Arg{{Text: "1"}}}); err == nil {
		t.Error("a line that fits no form gave no error")
	}
}

func TestArgsOutcomeKind(t *testing.T) {
	for _, c := range []struct{ line, want string }{
		{`mmap 1 0 4096 PROT_READ MAP_PRIVATE|MAP_ANONYMOUS`, "0x10000000"},
		{`read 1 3 5`, `"abc"`},
		{`pipe 1`, "3 4"},
		{`close 1 3`, "EBADF"},
	} {
		s, _ := ParseString("t", c.line)
		a, _ := ArgsOf(s.Lines[0])
		var o Outcome
		switch c.want[0] {
		case '0':
			o.Int = 0x10000000
		case '"':
			o.Bytes = []byte("abc")
		case '3':
			o.Pair = [2]int{3, 4}
		default:
			o.Err = errno.EBADF
		}
		if got := a.Outcome(o).String(); got != c.want {
			t.Errorf("%s: %s, want %s", c.line, got, c.want)
		}
	}
}
