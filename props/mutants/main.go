// Command mutants proves that the test suite can fail: it applies each of a
// list of deliberate engine bugs to a scratch copy of the tree, runs the
// tests there, and counts the bugs the tests catch ("kill"). A mutant that
// survives means a kind of bug the suite would let through.
//
//	go run ./props/mutants             # every mutant: its own package's tests, then the whole suite to the first failure
//	go run ./props/mutants -pkg ./props/  # only the property tests
//	go run ./props/mutants -rev HEAD   # the committed tree, not the work tree
//	go run ./props/mutants -list
//	go run ./props/mutants -check   # every edit still applies (run from the top)
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
	"path"
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
		"\t\t\tsl.e = e\n\t\t\treturn\n\t\t}\n\t\tt.slottedInIndex++\n\t}\n\tt.byObj.put(e)\n", "\t\t\treturn\n\t\t}\n\t\tt.slottedInIndex++\n\t}\n"},
	{"drop a byte of every pipe buffer on restart", "sim/vfs/pipe_checkpoint.go",
		"Data: br.OwnTail(), Packet:", "Data: br.OwnTail()[:len(br.Tail)-min(1, len(br.Tail)-1)], Packet:"},
	{"restore a position off by one", "sim/vfs/checkpoint.go",
		"f.ops.Seek(f, rec.Pos, SEEK_SET)", "f.ops.Seek(f, rec.Pos+1, SEEK_SET)"},
	{"share a file table that should be copied", "ckpt/restart.go",
		"files, err := c.Fetch(objs.FileTable, task.ObjFileTable)", "files, err := c.Fetch(1, task.ObjFileTable)"},
	{"skip a reference count on restart", "sim/task/checkpoint.go",
		"f := obj.(*vfs.File)\n\tf.Get()", "f := obj.(*vfs.File)"},
	{"accept a duplicate objref", "objhash/table.go",
		"if dup := t.byRef.get(objref); dup != nil {\n\t\treturn nil, fail(what(), errno.EINVAL, \"objref is taken", "if dup := t.byRef.get(objref); dup != nil && false {\n\t\treturn nil, fail(what(), errno.EINVAL, \"objref is taken"},
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
		"skb{data: mr.OwnTail(), consumed: int(m.Consumed),", "skb{data: mr.OwnTail(), consumed: 0,"},
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

	// Register state beyond the general registers, reset on restart: the
	// generators vary every field and the checker compares each.
	{"reset the FXSAVE area on restart", "ckpt/restart.go",
		"t.SetRegs(regs)", "regs.FPU = x86cpu.Default().FPU; t.SetRegs(regs)"},
	{"reset the debug registers on restart", "ckpt/restart.go",
		"t.SetRegs(regs)", "regs.Debug = x86cpu.DebugRegs{}; t.SetRegs(regs)"},
	{"restore every task in 64-bit mode (cs)", "ckpt/restart.go",
		"t.SetRegs(regs)", "regs.Regs.Cs = x86cpu.UserCS; t.SetRegs(regs)"},
	{"lose the x87 control word", "ckpt/restart.go",
		"t.SetRegs(regs)", "regs.FPU.Cwd = 0x37f; t.SetRegs(regs)"},

	// The rules of docs/RULES.md, each weakened by one or removed. Their
	// names start "rule:", so that go run ./props/mutants -only rule:
	// runs them all.
	{"rule: header flags, one unknown bit accepted", "ckpt/restart.go",
		"case h.Flags&^(CHECKPOINT_SUBTREE|image.FlagZstd) != 0:", "case h.Flags&^(CHECKPOINT_SUBTREE|image.FlagZstd) > 2:"},
	{"rule: a tree of pid_max tasks accepted", "ckpt/restart.go",
		"int64(tree.Tasks) >= int64(c.core.PidMax())", "int64(tree.Tasks) > int64(c.core.PidMax())"},
	{"rule: a zombie's exit code 256 accepted", "ckpt/restart.go",
		"tr.ExitCode > 255), tr.State", "tr.ExitCode > 256), tr.State"},
	{"rule: a live task's exit code unchecked", "ckpt/restart.go",
		"tr.State == taskLive && tr.ExitCode != 0:", "false && tr.ExitCode != 0:"},
	{"rule: a parent that is no ancestor accepted", "ckpt/restart.go",
		"if len(tasks) > 0 && len(stack) == 0 {", "if false && len(stack) == 0 {"},
	{"rule: the last pid pid_max accepted", "ckpt/restart.go",
		"int64(ns.LastPid) >= int64(c.core.PidMax())", "int64(ns.LastPid) > int64(c.core.PidMax())"},
	{"rule: a pid of pid_max accepted", "sim/kernel/core.go",
		"case pid <= 0 || pid >= c.k.pidMax:", "case pid <= 0 || pid > c.k.pidMax:"},
	{"rule: a zombie's registers not validated", "ckpt/restart.go",
		"if err := regs.Validate(); err != nil {", "if err := regs.Validate(); err != nil && t.State() != task.Zombie {"},
	{"rule: RESTART_FROZEN freezes the root only", "ckpt/restart.go",
		"if t.State() != task.Zombie && flags&RESTART_FROZEN != 0 {", "if t == tasks[0] && flags&RESTART_FROZEN != 0 {"},
	{"rule: an object introduced and not used accepted", "ckpt/restart.go",
		"if !found {", "if !found && false {"},
	{"rule: padding not checked", "ckpt/image/stream.go",
		"if b != 0 {\n\t\t\treturn nil, rec.Errorf(\"padding is not zero\")", "if b != 0 && false {\n\t\t\treturn nil, rec.Errorf(\"padding is not zero\")"},
	{"rule: nr_open+1 descriptors accepted", "sim/task/checkpoint.go",
		"int64(ft.Fds) > int64(lim.NrOpen)", "int64(ft.Fds) > int64(lim.NrOpen)+1"},
	{"rule: a descriptor at RLIMIT_NOFILE accepted", "sim/task/checkpoint.go",
		"int64(fd.Fd) >= int64(lim.NoFile)", "int64(fd.Fd) > int64(lim.NoFile)"},
	{"rule: close-on-exec 2 accepted", "sim/task/checkpoint.go",
		"case fd.CloseOnExec > 1:", "case fd.CloseOnExec > 2:"},
	{"rule: a saved path of 4096 bytes accepted", "sim/vfs/checkpoint.go",
		"if len(p) > image.MaxPath || !strings.HasPrefix(p, \"/\")", "if len(p) > image.MaxPath+1 || !strings.HasPrefix(p, \"/\")"},
	{"rule: unknown mode bits accepted", "sim/vfs/checkpoint.go",
		"FMODE_PREAD|FMODE_PWRITE) != 0:", "FMODE_PREAD|FMODE_PWRITE) != 0 && false:"},
	{"rule: O_ASYNC from open accepted on any file", "sim/vfs/checkpoint.go",
		"case rec.Async > 1 || rec.Async == 1 && (rec.FileType != TypeFIFO || rec.Flags&O_ASYNC == 0):", "case rec.Async > 1:"},
	{"restore every O_ASYNC as set by F_SETFL", "sim/vfs/checkpoint.go",
		"f.fasync = f.flags&O_ASYNC != 0 && rec.Async == 0 && f.ops.SetflMask()&O_ASYNC != 0", "f.fasync = f.flags&O_ASYNC != 0 && f.ops.SetflMask()&O_ASYNC != 0"},
	{"open a directory with O_DIRECT", "sim/vfs/regular.go",
		"case in.IsDir() && flags&O_DIRECT != 0:", "case in.IsDir() && flags&O_DIRECT != 0 && false:"},
	{"rule: a ghost on a directory accepted", "sim/vfs/checkpoint.go",
		"case rec.Ghost < 0 || rec.Ghost != 0 && !ops.Unlinkable:", "case rec.Ghost < 0:"},
	{"rule: a size on a file that is not regular accepted", "sim/vfs/checkpoint.go",
		"case !ops.Sized && (rec.Size != 0 || rec.Changes != 0 || rec.PageTail != 0):", "case !ops.Sized && rec.Size < 0:"},
	{"rule: a restored file's mode not compared with the saved one", "sim/vfs/checkpoint.go",
		"if f.mode != FMode(rec.Mode) {", "if false {"},
	{"rule: status flags the file cannot take accepted", "sim/vfs/checkpoint.go",
		"err != nil || f.flags != int(rec.Flags)", "err != nil"},
	{"rule: a position on a file that cannot seek accepted", "sim/vfs/checkpoint.go",
		"case rec.Pos != 0:", "case rec.Pos < 0:"},
	{"rule: an unlinked file's record not compared with its ghost", "sim/vfs/checkpoint.go",
		"case in.Size() == rec.Size && in.changes == rec.Changes:", "case in.Size() == rec.Size && in.changes == rec.Changes, rec.Ghost != 0:"},
	{"rule: a directory no longer one accepted", "sim/vfs/checkpoint.go",
		"if !d.inode.IsDir() {", "if false {"},
	{"rule: a pipe of 17 buffers accepted", "sim/vfs/pipe_checkpoint.go",
		"pr.Buffers > PipeBuffers ||", "pr.Buffers > PipeBuffers+1 ||"},
	{"rule: a pipe buffer one byte past its page accepted", "sim/vfs/pipe_checkpoint.go",
		"int64(len(br.Tail)) > PageSize", "int64(len(br.Tail)) > PageSize+1"},
	{"rule: unknown pipe buffer flags accepted", "sim/vfs/pipe_checkpoint.go",
		"if b.Flags&^pipeBufPacket != 0 ||", "if false ||"},
	{"rule: a pipe end of mode 0 accepted", "sim/vfs/pipe_checkpoint.go",
		"if mode != FMODE_READ && mode != FMODE_WRITE {", "if mode != FMODE_READ && mode != FMODE_WRITE && mode != 0 {"},
	{"rule: two read ends of one pipe accepted", "sim/vfs/pipe_checkpoint.go",
		"if ends[rec.Pipe]&mode != 0 {", "if false {"},
	{"rule: a FIFO's second pipe accepted", "sim/vfs/pipe_checkpoint.go",
		"case ref != rec.Pipe:", "case false:"},
	{"rule: a FIFO on another FIFO's pipe accepted", "sim/vfs/pipe_checkpoint.go",
		"case p.fifo != nil && p.fifo != d.inode:", "case false:"},
	{"rule: a ghost path of 4096 bytes accepted", "sim/vfs/ghost.go",
		"g.PathLen > image.MaxPath", "g.PathLen > image.MaxPath+1"},
	{"rule: a ghost name of 256 bytes accepted", "sim/vfs/ghost.go",
		"len(name) > NAME_MAX", "len(name) > NAME_MAX+1"},
	{"rule: a ghost with bits beyond its type and permissions accepted", "sim/vfs/ghost.go",
		"|| mode&^(S_IFMT|PermMask) != 0 {", "|| false {"},
	{"rule: a FIFO ghost with a change counter accepted", "sim/vfs/ghost.go",
		"(len(contents) > 0 || changes != 0)", "len(contents) > 0"},
	{"rule: checkpoint takes an unknown flag", "ckpt/ckpt.go",
		"if flags&^CHECKPOINT_SUBTREE != 0 {", "if flags&^CHECKPOINT_SUBTREE > 2 {"},
	{"rule: checkpoint of a zombie root", "ckpt/checkpoint.go",
		"if root == nil || root.State() == task.Zombie {", "if root == nil {"},
	{"rule: checkpoint finds only the root's freeze", "ckpt/checkpoint.go",
		"if t.State() == task.Running {", "if t == root && t.State() == task.Running {"},
	{"rule: checkpoint of a file holding a lock", "sim/vfs/checkpoint.go",
		"if f.lock != 0 {", "if false {"},
	{"rule: checkpoint of a file owned by a process group", "sim/vfs/checkpoint.go",
		"owner != 0 {", "owner > 0 {"},
	{"rule: checkpoint of a path of 4096 bytes", "sim/vfs/checkpoint.go",
		"\tif len(p) > image.MaxPath {", "\tif len(p) > image.MaxPath+1 {"},
	{"rule: leak detection skips unlinked files", "sim/vfs/checkpoint.go",
		"if d := f.dentry; d != nil && d.unlinked {\n\t\tif err := ctx.Collect(d, ObjGhost", "if d := f.dentry; d != nil && false {\n\t\tif err := ctx.Collect(d, ObjGhost"},
	{"rule: leak detection skips pipes", "sim/vfs/pipe_checkpoint.go",
		"return ctx.Collect(f.pipe, ObjPipe, object.Named(\"the pipe\"))", "return nil"},
}

func main() {
	pkgs := flag.String("pkg", "./...", "the packages whose tests must kill each mutant")
	list := flag.Bool("list", false, "list the mutants and exit")
	check := flag.Bool("check", false, "only check that every mutant's edit applies to the work tree, and exit")
	only := flag.String("only", "", "run only the mutants whose name contains this")
	rev := flag.String("rev", "", "copy this git revision (e.g. HEAD) instead of the work tree")
	flag.Parse()
	if *list {
		for i, m := range mutants {
			fmt.Printf("%2d  %s  (%s)\n", i+1, m.name, m.file)
		}
		return
	}
	if *check {
		// Each edit must still apply, exactly once, to the work tree: a
		// second's check after moving code, before the hour of a run.
		bad := 0
		for i, m := range mutants {
			src, err := os.ReadFile(m.file)
			if n := strings.Count(string(src), m.old); err != nil || n != 1 {
				fmt.Printf("%2d  %s: %s: the text to replace occurs %d times, not once (%v)\n", i+1, m.name, m.file, n, err)
				bad++
			}
		}
		if bad > 0 {
			os.Exit(1)
		}
		fmt.Printf("all %d mutants apply\n", len(mutants))
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
	// The package of the mutated file first: its own tests catch most
	// mutants, in seconds, where the whole suite takes minutes. Only a
	// mutant they let through goes on to the packages asked for.
	if m != nil && pkgs == "./..." {
		own := "./" + path.Dir(m.file) + "/"
		if verdict, detail, err := testIn(tree, own); err != nil || verdict == "killed" {
			return verdict, detail, err
		}
	}
	return testIn(tree, pkgs)
}

// testIn runs the tests of pkgs in tree, until the first package fails.
// -trimpath keeps the build cache's keys free of the scratch directory, so
// every package the mutant leaves alone is compiled once for the whole
// run, not once per mutant.
func testIn(tree *scratch.Tree, pkgs string) (verdict, detail string, err error) {
	failed := func(line string) bool {
		return len(scratch.FailedPackages(line)) > 0 && !scratch.BuildFailed(line)
	}
	out, stopped, err := tree.GoUntil(failed, "test", "-trimpath", "-count=1", "-timeout", "600s", pkgs)
	switch {
	case stopped:
		return "killed", "by " + strings.Join(scratch.FailedPackages(out), ", "), nil
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
