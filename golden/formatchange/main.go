// Command formatchange shows that the golden-image harness catches a format
// change, and what it says about one. It makes a small deliberate change to
// the image format in a scratch copy of the tree, runs the golden test
// there, and prints what the test printed. It succeeds when that test
// failed, as it must; a golden test that passes a format change would let
// one through unseen.
//
//	go run ./golden/formatchange              # every change
//	go run ./golden/formatchange -change widen
//	go run ./golden/formatchange -rev HEAD    # the committed tree
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/ckptsim/ckptsim/internal/scratch"
)

// change is one deliberate format change: textual edits that keep the code
// compiling.
type change struct {
	name, what string
	edits      []edit
}

type edit struct{ file, old, new string }

var changes = []change{
	{"widen", "the PIPE record's Bytes field widened from 32 to 64 bits (after a pad, to keep it aligned)", []edit{
		{"sim/vfs/pipe_checkpoint.go", "	Bytes   uint32 `doc:\"bytes in the pipe, the sum of the buffers'\"`", "	Pad     uint32 `doc:\"zero\"`\n	Bytes   uint64 `doc:\"bytes in the pipe, the sum of the buffers'\"`"},
		{"sim/vfs/pipe_checkpoint.go", "Bytes: uint32(p.Len())", "Bytes: uint64(p.Len())"},
	}},
	{"reorder", "a task's REGS record written before its TASK_MM", []edit{
		{"ckpt/checkpoint.go", `	if err := TaskMMKind.Write(c, &space); err != nil {
		return err
	}
	regs := t.Regs()
	return RegsKind.Write(c, &regs)`, `	regs := t.Regs()
	if err := RegsKind.Write(c, &regs); err != nil {
		return err
	}
	return TaskMMKind.Write(c, &space)`},
	}},
}

// maxLines bounds what is printed of each change's test output: the first
// failures say it all.
const maxLines = 60

func main() {
	only := flag.String("change", "", "make only this change ("+names()+")")
	rev := flag.String("rev", "", "copy this git revision (e.g. HEAD) instead of the work tree")
	flag.Parse()
	caught, ran := 0, 0
	for _, c := range changes {
		if *only != "" && c.name != *only {
			continue
		}
		ran++
		out, failed, err := try(c, *rev)
		if err != nil {
			fmt.Fprintf(os.Stderr, "formatchange: %s: %v\n", c.name, err)
			os.Exit(2)
		}
		fmt.Printf("== %s: %s\n", c.name, c.what)
		if failed {
			caught++
			fmt.Println("the golden test fails, saying:")
		} else {
			fmt.Println("THE GOLDEN TEST PASSES: the change went unseen")
		}
		fmt.Println(out)
	}
	if ran == 0 {
		fmt.Fprintf(os.Stderr, "formatchange: no change named %q (%s)\n", *only, names())
		os.Exit(2)
	}
	fmt.Printf("the golden test caught %d of %d format changes\n", caught, ran)
	if caught != ran {
		os.Exit(1)
	}
}

func names() string {
	var n []string
	for _, c := range changes {
		n = append(n, c.name)
	}
	return strings.Join(n, ", ")
}

// try makes change c in a scratch copy and runs the golden test there. It
// returns the test's output, cut to its start, and whether the test failed.
func try(c change, rev string) (string, bool, error) {
	tree, err := scratch.Copy(rev)
	if err != nil {
		return "", false, err
	}
	defer tree.Remove()
	for _, e := range c.edits {
		if err := tree.Replace(e.file, e.old, e.new); err != nil {
			return "", false, err
		}
	}
	if out, err := tree.Go("build", "./..."); err != nil {
		return "", false, fmt.Errorf("the changed tree does not compile:\n%s", out)
	}
	out, err := tree.Go("test", "-count=1", "-run", "^TestGolden$", "./golden/")
	if err != nil && (scratch.BuildFailed(out) || !strings.Contains(out, "--- FAIL: TestGolden")) {
		// Failing to build, or failing some other way, is not the golden
		// test catching the change.
		return "", false, fmt.Errorf("the golden test did not run to a verdict:\n%s", out)
	}
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) > maxLines {
		lines = append(lines[:maxLines], fmt.Sprintf("... (%d more lines)", len(lines)-maxLines))
	}
	return strings.Join(lines, "\n"), err != nil, nil
}
