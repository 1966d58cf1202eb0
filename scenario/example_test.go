package scenario_test

import (
	"fmt"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// A script is one system call a line, each with the result Linux gives;
// Exec runs a line on a kernel, and its Outcome says whether the result is
// the one the line expects.
func Example() {
	s, err := scenario.ParseString("hello.scn", `
spawn 1 init
pipe 1 = 0 1
write 1 1 "hello" = 5
fork 1 2
read 2 0 16 = "hello"
read 2 0 16 = BLOCKED     # pid 1 still holds the write end
close 9 0 = ESRCH         # no task 9
write 1 1 "more" = 3      # a wrong expectation
`)
	if err != nil {
		fmt.Println(err)
		return
	}
	k := kernel.New(kernel.Config{})
	for _, l := range s.Lines {
		o := scenario.Exec(k, l)
		fmt.Printf("%d  %-22s -> %-8s matches: %v\n", l.Num, l.Text, o, o.Matches(l.Expect))
	}
	// Output:
	// 2  spawn 1 init           -> 0        matches: true
	// 3  pipe 1 = 0 1           -> 0 1      matches: true
	// 4  write 1 1 "hello" = 5  -> 5        matches: true
	// 5  fork 1 2               -> 0        matches: true
	// 6  read 2 0 16 = "hello"  -> "hello"  matches: true
	// 7  read 2 0 16 = BLOCKED  -> BLOCKED  matches: true
	// 8  close 9 0 = ESRCH      -> ESRCH    matches: true
	// 9  write 1 1 "more" = 3   -> 4        matches: false
}

// Replay runs a whole script, skipping its checkpoint lines, and stops at
// the first line that does not give its result.
func ExampleReplay() {
	s, _ := scenario.ParseString("wrong.scn", "spawn 1\nopen 1 /missing O_RDONLY = 0\n")
	err := scenario.Replay(kernel.New(kernel.Config{}), s)
	fmt.Println(err)
	// Output:
	// wrong.scn:2: open 1 /missing O_RDONLY = 0: got ENOENT, expected 0
}

// A script that does not parse is refused with its file, line and the
// command's usage.
func ExampleParseString() {
	_, err := scenario.ParseString("typo.scn", "spawn 1\nopen 1 /f O_RDWRR\n")
	fmt.Println(err)
	// Output:
	// typo.scn:2: open: FLAGS: unknown flag "O_RDWRR" (usage: open PID PATH FLAGS [MODE])
}
