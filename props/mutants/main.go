// Command mutants proves that the test suite can fail: it applies each of a
// list of deliberate engine bugs to a scratch copy of the tree, runs the
// tests there, and counts the bugs the tests catch ("kill"). A mutant that
// survives means a kind of bug the suite would let through.
//
//	go run ./props/mutants             # every mutant, the whole suite
//	go run ./props/mutants -pkg ./props/  # only the property tests
//	go run ./props/mutants -rev HEAD   # the committed tree, not the work tree
//	go run ./props/mutants -list
//
// Each mutant is one textual replacement that must apply exactly once, so a
// mutant that no longer matches the code is reported rather than silently
// skipped. Before any mutant, the same tests run on the unchanged copy: a
// suite that already fails would "kill" every mutant and prove nothing, so
// the run stops there. It exits 1 unless every mutant is killed.
package main

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/internal/scratch"
)

type mutant struct {
	name     string
	file     string
	old, new string
}

// mutants are engine bugs of the kinds a checkpoint/restart engine gets
// wrong. Each breaks one thing and leaves the code compiling.
var mutants = []mutant{
	{"forget close-on-exec on restart", "sim/task/checkpoint.go",
		"files.Install(int(fd.Fd), f, fd.CloseOnExec == 1)", "files.Install(int(fd.Fd), f, false)"},
	{"save a shared object twice (the object hash forgets objects)", "objhash/table.go",
		"t.byObj[obj] = i", "_ = i"},
	{"drop a byte of every pipe buffer on restart", "sim/vfs/pipe_checkpoint.go",
		"Data: br.Tail, Packet:", "Data: br.Tail[:len(br.Tail)-min(1, len(br.Tail)-1)], Packet:"},
	{"restore a position off by one", "sim/vfs/checkpoint.go",
		"f.ops.Seek(f, rec.Pos, SEEK_SET)", "f.ops.Seek(f, rec.Pos+1, SEEK_SET)"},
	{"share a file table that should be copied", "ckpt/restart.go",
		"files, err := c.Fetch(objs.FileTable, task.ObjFileTable)", "files, err := c.Fetch(1, task.ObjFileTable)"},
	{"skip a reference count on restart", "sim/task/checkpoint.go",
		"f := obj.(*vfs.File)\n\tf.Get()", "f := obj.(*vfs.File)"},
	{"accept a duplicate objref", "objhash/table.go",
		"if i, dup := t.byRef[objref]; dup {\n\t\treturn nil, fail(what, errno.EINVAL, \"objref is taken", "if i, dup := t.byRef[objref]; dup && false {\n\t\treturn nil, fail(what, errno.EINVAL, \"objref is taken"},
	{"lose the version counter", "sim/vfs/checkpoint.go",
		"f.version = rec.Version", "f.version = 0"},
	{"lose a zombie's exit code", "ckpt/restart.go",
		"t.Exit(int(tr.ExitCode))", "t.Exit(0)"},
	{"skip leak detection", "ckpt/checkpoint.go",
		"if flags&CHECKPOINT_SUBTREE == 0 {\n\t\tif err := c.detectLeaks(tasks)", "if false {\n\t\tif err := c.detectLeaks(tasks)"},
	{"save an unlinked file without its contents", "sim/vfs/ghost.go",
		"[]byte(p), in.data)", "[]byte(p))"},
	{"forget the packet flag of a pipe buffer", "sim/vfs/pipe_checkpoint.go",
		"rec.Flags = pipeBufPacket", "rec.Flags = 0"},
	{"do not restore registers", "ckpt/restart.go",
		"t.SetRegs(regs)", "_ = regs"},
	{"do not check the checksum", "ckpt/restart.go",
		"if tail.CRC != rec.CRC {", "if false {"},
	{"restore children in reverse order", "ckpt/restart.go",
		"stack[len(stack)-1].AddChild(t)", "stack[len(stack)-1].AddChild(t); kids := stack[len(stack)-1].Children(); kids[0], kids[len(kids)-1] = kids[len(kids)-1], kids[0]"},
	{"open the wrong end of a restored pipe", "sim/vfs/pipe_checkpoint.go",
		"flags := O_RDONLY\n\tif mode == FMODE_WRITE {", "flags := O_RDONLY\n\tif mode != FMODE_WRITE {"},
	{"open the other end of a restored socket pair", "sim/socket/checkpoint.go",
		"&endOps{pair: p, i: int(sr.End)}", "&endOps{pair: p, i: 1 - int(sr.End)}"},
	{"lose a socket end's pending reset", "sim/socket/checkpoint.go",
		"r.Shutdown, r.Err, r.Messages = uint32(e.shutdown), uint32(e.err), uint32(len(e.queue))",
		"r.Shutdown, r.Err, r.Messages = uint32(e.shutdown), 0, uint32(len(e.queue))"},
	{"forget how much of a socket message was read", "sim/socket/checkpoint.go",
		"skb{data: mr.Tail, consumed: int(m.Consumed),", "skb{data: mr.Tail, consumed: 0,"},
	{"forget a socket end's shutdown on restart", "sim/socket/checkpoint.go",
		"ends[i] = end{shutdown: int(er.Shutdown),", "ends[i] = end{shutdown: 0,"},
	// Memory (design section 2.6).
	{"restore a shared frame without its map count (no copy on write)", "sim/mm/restore.go",
		"f.Get()\n\t\tm.pages.set(pageOf(addr)+uint64(i), f)", "m.pages.set(pageOf(addr)+uint64(i), f)"},
	{"save a frame shared copy on write twice", "sim/mm/checkpoint.go",
		"f.saved = stamp{fr.gen, fr.count}", "_ = stamp{fr.gen, fr.count}"},
	{"drop the last private page of every VMA", "sim/mm/checkpoint.go",
		"t.blocks(from, to, func", "t.blocks(from, to-1, func"},
	{"restore a page one page off", "sim/mm/checkpoint.go",
		"install(rec.Addr, fr.list", "install(rec.Addr+PageSize, fr.list"},
	{"lose PROT_WRITE on restart", "sim/mm/checkpoint.go",
		"Prot: Prot(v.Prot),", "Prot: Prot(v.Prot) &^ ProtWrite,"},
	{"restore each mapping of a segment as a segment of its own", "sim/mm/checkpoint.go",
		"spec.Segment = obj.(*Segment)", "spec.Segment = NewSegment(ctx.Registry(), obj.(*Segment).Pages())"},
	{"merge VMAs whose file offsets do not follow", "sim/mm/merge.go",
		"anonMergeable(p.anon, p.src, prev) && prev.pgoff+pages(prev.start, prev.end) == p.pgoff", "anonMergeable(p.anon, p.src, prev)"},
	{"give every restored VMA an anon_vma of its own", "sim/mm/checkpoint.go",
		"spec.Anon = (*anons)[v.Anon-1]", "spec.Anon = NewAnonVMA()"},
	{"lose the bytes past the end of a mapped file", "sim/vfs/checkpoint.go",
		"\t\ttail = in.Tail()\n", "\t\t_ = in.Tail()\n"},
	{"restore the break at start_brk", "sim/mm/checkpoint.go",
		"m.SetBrk(rec.StartBrk, rec.Brk)", "m.SetBrk(rec.StartBrk, rec.StartBrk)"},
	{"restore a CLONE_VM address space as a copy per task", "ckpt/restart.go",
		"space.(*mm.MM).Get()\n\tt.SetMM(space.(*mm.MM))", "t.SetMM(space.(*mm.MM).Fork())"},
}

func main() {
	pkgs := flag.String("pkg", "./...", "the packages whose tests must kill each mutant")
	list := flag.Bool("list", false, "list the mutants and exit")
	only := flag.String("only", "", "run only the mutants whose name contains this")
	rev := flag.String("rev", "", "copy this git revision (e.g. HEAD) instead of the work tree")
	flag.Parse()
	if *list {
		for i, m := range mutants {
			fmt.Printf("%2d  %s  (%s)\n", i+1, m.name, m.file)
		}
		return
	}
	start := time.Now()
	verdict, detail, err := try(*rev, nil, *pkgs)
	if err != nil {
		fail(fmt.Errorf("the unchanged tree: %w", err))
	}
	if verdict != "survived" {
		fail(fmt.Errorf("the tests fail on the unchanged tree (%s): fix that first", detail))
	}
	fmt.Printf("%2d  %-8s %-60s %5.1fs\n", 0, "passes", "the unchanged tree", time.Since(start).Seconds())
	killed, ran := 0, 0
	for i, m := range mutants {
		if *only != "" && !strings.Contains(m.name, *only) {
			continue
		}
		ran++
		start := time.Now()
		verdict, detail, err := try(*rev, &m, *pkgs)
		if err != nil {
			fail(fmt.Errorf("mutant %d (%s): %w", i+1, m.name, err))
		}
		if verdict == "killed" {
			killed++
		}
		fmt.Printf("%2d  %-8s %-60s %5.1fs  %s\n", i+1, verdict, m.name, time.Since(start).Seconds(), detail)
	}
	fmt.Printf("killed %d of %d mutants with %s\n", killed, ran, *pkgs)
	if killed != ran {
		os.Exit(1)
	}
}

// try applies one mutant (none when m is nil) to a scratch copy of the
// tree, or of revision rev, and runs the tests there. The detail names the
// packages whose tests failed.
func try(rev string, m *mutant, pkgs string) (verdict, detail string, err error) {
	tree, err := scratch.Copy(rev)
	if err != nil {
		return "", "", err
	}
	defer tree.Remove()
	if m != nil {
		if err := apply(tree, m); err != nil {
			return "", "", err
		}
	}
	out, err := tree.Go("test", "-count=1", "-timeout", "600s", pkgs)
	switch {
	case err == nil:
		return "survived", "", nil
	case scratch.BuildFailed(out):
		// The tests did not run, so they caught nothing.
		return "", "", fmt.Errorf("the tests do not compile:\n%s", out)
	}
	return "killed", "by " + strings.Join(scratch.FailedPackages(out), ", "), nil
}

// apply makes the mutant's one replacement in the copy, and checks that
// the result still compiles: a mutant that does not build proves nothing
// about the tests.
func apply(tree *scratch.Tree, m *mutant) error {
	if err := tree.Replace(m.file, m.old, m.new); err != nil {
		return err
	}
	if out, err := tree.Go("build", "./..."); err != nil {
		return fmt.Errorf("the mutant does not compile:\n%s", out)
	}
	return nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "mutants:", err)
	os.Exit(2)
}
