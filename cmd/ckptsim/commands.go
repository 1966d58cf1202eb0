package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/ckptsim/ckptsim/graph"
	"github.com/ckptsim/ckptsim/inspect"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/errno"
)

func init() {
	commands = []*command{runCmd, verifyCmd, linuxCmd, restartCmd, showCmd, psCmd, fdsCmd, encodeCmd, diffCmd, graphCmd, demoCmd}
}

var runCmd = &command{
	name:    "run",
	args:    "[--out DIR] [--clock UNIXSECONDS] SCRIPT",
	summary: "execute a scenario script, keeping the images of its checkpoint lines",
	about: `
Runs SCRIPT ("-" for standard input) in one simulated kernel and prints each
line with its result. At "checkpoint PID [FLAGS] => NAME" it freezes the
container rooted at PID, checkpoints it, thaws it, writes the image to NAME in
DIR, and goes on with the same world. A checkpoint line's result is 0, or the
errno that refused it; a refused checkpoint's image, which ends with an error
record, is written too.

A line that does not give its "= RESULT" (or fails, where it states none)
stops the run with exit status 1, naming the file and line.

Image headers record the time given by --clock, fixed by default so that a
script always gives the same image bytes.`,
	flags: func(fs *flag.FlagSet) runFunc {
		out := fs.String("out", ".", "write images to `DIR` (created if missing)")
		clock := fs.Int64("clock", runner.DefaultTime.Unix(), "the time in image headers, in `UNIXSECONDS`")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			if len(args) != 1 {
				return c.usageError(stderr, "expected one script, got %d arguments", len(args))
			}
			// Headers hold nanoseconds in an int64: years 1678 to 2262.
			if lo, hi := int64(math.MinInt64)/1e9, int64(math.MaxInt64)/1e9; *clock < lo || *clock > hi {
				return c.usageError(stderr, "--clock %d is out of range: an image header holds Unix seconds from %d to %d", *clock, lo, hi)
			}
			s, err := runner.ParseFile(args[0])
			if err != nil {
				return fail(stderr, "run", err)
			}
			if err := os.MkdirAll(*out, 0o755); err != nil {
				return fail(stderr, "run", err)
			}
			opts := runner.RunOptions{Dir: *out, Clock: runner.FixedClock(time.Unix(*clock, 0).UTC())}
			if _, err := runner.Run(s, stdout, opts); err != nil {
				return fail(stderr, "run", err)
			}
			return exitOK
		}
	},
}

var verifyCmd = &command{
	name:    "verify",
	args:    "[--every] [-j N] [--json] [--junit FILE] SCRIPT...",
	summary: "prove that checkpointing at a script's checkpoint lines is invisible",
	about: `
Runs each SCRIPT twice in lockstep: on a reference world, which never
checkpoints, and on a migrating world, which at every successful checkpoint
line is replaced by restart(checkpoint(world)) in a fresh kernel on a copy of
its disk. A script passes when every line gives its "= RESULT" (or succeeds)
and the same result on both worlds, a refused checkpoint changes nothing, and
at every checkpoint the restored world is equivalent to the world it was taken
from: the same tasks and tree, fd numbers, sharing, flags, positions, pipe
bytes, registers and reference counts.

With --every, the migrating world is also checkpointed after every system
call line where it is one tree, and migrates wherever that checkpoint
succeeds; where it is refused (a lock, an owner, ...), it must have changed
nothing. Every line then runs on a world that has just been restored.

Prints per script "ok NAME (L lines, C checkpoints, B image bytes)", or
"FAIL NAME:LINE: what differed" and the differences, in the order given, also
with -j N, which verifies up to N scripts at once. --json prints instead one
JSON object: "scripts" (each with path, ok, lines, checkpoints,
every_checkpoints, image_bytes, seconds, and a failure {line, what, diff} or
an error), "passed" and "failed". --junit FILE also writes a JUnit XML report
for CI systems ("-" for standard output, instead of the text): one test case
per script, a <failure> for a failed verification, an <error> for a script
that cannot be read or parsed. Exit status 0 only when every script passes.`,
	flags: func(fs *flag.FlagSet) runFunc {
		every := fs.Bool("every", false, "also checkpoint and restart after every line where a checkpoint succeeds")
		jobs := fs.Int("j", 1, "verify up to `N` scripts at once")
		asJSON := fs.Bool("json", false, "print a JSON report instead of text")
		junit := fs.String("junit", "", "write a JUnit XML report to `FILE` (\"-\": standard output, instead of the text)")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			switch {
			case len(args) == 0:
				return c.usageError(stderr, "expected at least one script")
			case *jobs < 1:
				return c.usageError(stderr, "-j %d: at least one script at a time", *jobs)
			case *asJSON && *junit == "-":
				return c.usageError(stderr, "--json and --junit - would both print to standard output: give --junit a file")
			case countStdin(args...) > 1:
				return c.usageError(stderr, "standard input (\"-\") can be only one of the scripts")
			}
			text := !*asJSON && *junit != "-"
			reports := runner.VerifyFiles(args, runner.VerifyOptions{Every: *every}, *jobs, func(r runner.ScriptReport) {
				if text {
					fmt.Fprintln(stdout, r.Message())
				}
			})
			var err error
			switch {
			case *asJSON:
				err = runner.WriteVerifyJSON(stdout, reports)
			case *junit == "-":
				err = runner.WriteVerifyJUnit(stdout, reports)
			}
			if err == nil && *junit != "" && *junit != "-" {
				var b bytes.Buffer
				if err = runner.WriteVerifyJUnit(&b, reports); err == nil {
					err = os.WriteFile(*junit, b.Bytes(), 0o644)
				}
			}
			if err != nil {
				return fail(stderr, "verify", err)
			}
			for _, r := range reports {
				if !r.OK {
					return exitFail
				}
			}
			return exitOK
		}
	},
}

var restartCmd = &command{
	name:    "restart",
	args:    "[--disk DIR | --script SCRIPT [--at LINE]] [--then SCRIPT [--out DIR]] IMAGE",
	summary: "restart an image in a fresh kernel and show the world it restores",
	about: `
Restarts IMAGE ("-" for standard input) in a fresh simulated kernel, runs the
kernel's consistency check, and prints the image's summary and the restored
world fact by fact (tasks and tree, fd numbers, shared tables and files, pipe
bytes, unlinked files, address spaces and the memory they share, registers,
reference counts), as the demo does.

The restart needs the disk the image's regular files, directories and FIFOs
are on; it gets a copy of one of these:
  (neither)        an empty disk: enough for pipes and unlinked files.
  --disk DIR       the host directory tree DIR as the disk's root: its
                   directories, regular files (with contents) and FIFOs, with
                   their permission bits. Symbolic links, devices and sockets
                   are refused. Each file is written once, so its change
                   counter is 1 (0 when empty): an image of a file written
                   more often refuses it with ESTALE (edit the FILE record's
                   Changes, or use --script).
  --script SCRIPT  the disk SCRIPT has built at its checkpoint line, the
                   earlier lines run and its checkpoint lines skipped. The
                   line is --at LINE; else the last checkpoint line whose
                   "=> NAME" is IMAGE's file name; else the script's only
                   checkpoint line. The restored world is then compared with
                   the script's world at that line: "ok" or "DIFF" for each
                   fact (a difference is shown, not an error: the image may
                   have been edited).

With --then SCRIPT, the lines of SCRIPT run on the restored world, as run runs
them (a line that does not give its "= RESULT" stops it with exit status 1);
its checkpoint lines' images go to --out DIR.

A refused restart is printed as restart gives it (the errno and, for a bad
image, the record and its offset), with exit status 1; so is a restored
kernel that fails its consistency check.`,
	flags: func(fs *flag.FlagSet) runFunc {
		diskDir := fs.String("disk", "", "restart on a copy of the host directory tree `DIR`")
		script := fs.String("script", "", "restart on the disk `SCRIPT` builds up to its checkpoint line, and compare with its world")
		at := fs.Int("at", 0, "with --script: the checkpoint `LINE` of the script")
		then := fs.String("then", "", "run `SCRIPT` on the restored world")
		out := fs.String("out", "", "with --then: write its images to `DIR` (default the current directory)")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			switch {
			case len(args) != 1:
				return c.usageError(stderr, "expected one image, got %d arguments", len(args))
			case *diskDir != "" && *script != "":
				return c.usageError(stderr, "--disk and --script are two ways to give the disk: give one")
			case *at != 0 && *script == "":
				return c.usageError(stderr, "--at names a line of the --script script")
			case *at < 0:
				return c.usageError(stderr, "--at %d: a line number is positive", *at)
			case *out != "" && *then == "":
				return c.usageError(stderr, "--out is where the --then script's images go")
			}
			if n := countStdin(args[0], *script, *then); n > 1 {
				return c.usageError(stderr, "standard input (\"-\") can be only one of the image and the scripts")
			}
			img, err := runner.ReadInput(args[0])
			if err != nil {
				return fail(stderr, "restart", err)
			}
			name := runner.InputName(args[0])
			disk := runner.EmptyDisk()
			switch {
			case *diskDir != "":
				disk, err = runner.LoadDisk(*diskDir)
			case *script != "":
				var s *scenario.Script
				if s, err = runner.ParseFile(*script); err == nil {
					disk, err = runner.ScriptDisk(s, name, *at)
				}
			}
			if err != nil {
				return fail(stderr, "restart", err)
			}
			opts := runner.RestartOptions{Run: runner.RunOptions{Dir: *out}}
			if *then != "" {
				if opts.Then, err = runner.ParseFile(*then); err != nil {
					return fail(stderr, "restart", err)
				}
				if *out != "" {
					if err := os.MkdirAll(*out, 0o755); err != nil {
						return fail(stderr, "restart", err)
					}
				}
			}
			if _, err := runner.Restart(stdout, name, img, disk, opts); err != nil {
				if errors.As(err, new(*scenario.Error)) {
					return fail(stderr, "restart", err)
				}
				return fail(stderr, "restart", fmt.Errorf("%s: %s", name, withErrnoName(err)))
			}
			return exitOK
		}
	},
}

// withErrnoName returns err's message, ending with its errno when it has
// one the message does not already say: a malformed image's error gives the
// record and offset, and its EINVAL only through errors.Is.
func withErrnoName(err error) string {
	msg := err.Error()
	if e, ok := errno.Of(err); ok && !strings.Contains(msg, e.Name()) {
		msg += ": " + e.Error()
	}
	return msg
}

// countStdin counts the paths that are "-", standard input.
func countStdin(paths ...string) int {
	n := 0
	for _, p := range paths {
		if p == "-" {
			n++
		}
	}
	return n
}

var showCmd = &command{
	name:    "show",
	args:    "[--json | --all] IMAGE",
	summary: "print what a checkpoint image holds, record by record",
	about: `
Prints IMAGE ("-" for standard input) one record a line: its offset, type and
length, what it belongs to (the object whose state it is, "file table #1",
or the task whose own record it is, "pid 2"), and its fields, each with its
meaning in parentheses (open flags, modes, states) and objref fields marked
first, ref or dangling. Then a summary: what the image holds (tasks, file
tables, descriptors, files by type, pipe bytes, socket pairs, address
spaces, VMAs, page bytes, segments...), its size by record type, and whether
its checksum matches. A page's bytes are quoted up to the zeros that end it.

A task's registers (REGS) are named fields: Regs.Rip, Regs.Rbx, FPU.Mxcsr,
Debug[7]... Numbers are in hexadecimal. A record of more than 32 fields shows
those that are not zero, and says how many it left out; --all prints every
field, zero ones and Pad fields too.

With --json, prints the same as JSON, every field by name, which "ckptsim
encode" turns back into the identical image. A cut or malformed image is shown
up to the fault, then the error with its offset; it, and an image whose
checksum does not match, give exit status 1. The image of a refused
checkpoint, closed by an error record, is whole.`,
	flags: func(fs *flag.FlagSet) runFunc {
		asJSON := fs.Bool("json", false, "print JSON instead of text")
		all := fs.Bool("all", false, "print every field, zero ones too")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			if *asJSON && *all {
				return c.usageError(stderr, "--json prints every field already: give --json or --all")
			}
			return imageView(c, args, stdout, stderr, func(rep *inspect.Report, w io.Writer) error {
				if *asJSON {
					return rep.WriteJSON(w)
				}
				return rep.WriteTextWith(w, inspect.TextOptions{All: *all})
			})
		}
	},
}

var psCmd = &command{
	name:    "ps",
	args:    "IMAGE",
	summary: "print the task tree a checkpoint image holds",
	about: `
Prints the tasks of IMAGE ("-" for standard input), one a line in the
tree's order, each command name indented under its parent's: pid, parent
pid, state (live or zombie), a zombie's exit code, and the objects each
task's own records name (its file table and fs state, by objref; "-" for a
zombie's none). "ckptsim fds" prints the descriptors of each file table.
A cut or malformed image is shown as far as it goes, and gives exit status 1.`,
	flags: func(fs *flag.FlagSet) runFunc {
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			return imageView(c, args, stdout, stderr, func(rep *inspect.Report, w io.Writer) error { return rep.WritePS(w) })
		}
	},
}

var fdsCmd = &command{
	name:    "fds",
	args:    "[--pid PID] IMAGE",
	summary: "print the descriptors of each task of a checkpoint image",
	about: `
Prints, for each file table of IMAGE ("-" for standard input), the tasks that
share it, then one line per descriptor: its number (and "cloexec" when it
has close-on-exec), its open file's objref, type, status flags and position,
what the file is open on (its path; an unlinked file's last path and ghost;
a pipe's objref; a socket pair's objref and end), and, when more than one
descriptor holds the file, every pid:fd that does. With --pid, only the
table of that task. A zombie has no table. A cut or malformed image is shown
as far as it goes, and gives exit status 1; a pid the image does not hold,
too.`,
	flags: func(fs *flag.FlagSet) runFunc {
		pid := fs.Int("pid", 0, "only the descriptors of task `PID`")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			if *pid < 0 {
				return c.usageError(stderr, "--pid %d: a pid is positive", *pid)
			}
			return imageView(c, args, stdout, stderr, func(rep *inspect.Report, w io.Writer) error { return rep.WriteFds(w, *pid) })
		}
	},
}

// imageView runs a command that prints a view of one image: it reads the
// image, prints what can be shown even of a bad one, then judges it (exit
// status 1 for a cut, malformed or mismatching image).
func imageView(c *command, args []string, stdout, stderr io.Writer, view func(*inspect.Report, io.Writer) error) int {
	if len(args) != 1 {
		return c.usageError(stderr, "expected one image, got %d arguments", len(args))
	}
	data, err := runner.ReadInput(args[0])
	if err != nil {
		return fail(stderr, c.name, err)
	}
	rep, _ := inspect.Inspect(bytes.NewReader(data))
	if err := view(rep, stdout); err != nil {
		return fail(stderr, c.name, fmt.Errorf("%s: %w", runner.InputName(args[0]), err))
	}
	if err := runner.CheckImage(rep); err != nil {
		return fail(stderr, c.name, fmt.Errorf("%s: %w", runner.InputName(args[0]), err))
	}
	return exitOK
}

var encodeCmd = &command{
	name:    "encode",
	args:    "[--fix-crc] [-o FILE] [JSON]",
	summary: "turn the JSON of show --json back into the image",
	about: `
Reads the JSON form of an image, as "ckptsim show --json" prints it and
perhaps edited by hand, from JSON (standard input when absent or "-"), and
writes the image to standard output or FILE: the identical bytes for unedited
JSON. With --fix-crc it recomputes the tail's checksum, so that an edited
image gets past the checksum to the checks behind it. Nothing is written when
the JSON is refused.`,
	flags: func(fs *flag.FlagSet) runFunc {
		fixCRC := fs.Bool("fix-crc", false, "recompute the checksum of every tail record")
		out := fs.String("o", "", "write the image to `FILE` instead of standard output")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			in := "-"
			switch len(args) {
			case 0:
			case 1:
				in = args[0]
			default:
				return c.usageError(stderr, "expected at most one JSON file, got %d", len(args))
			}
			data, err := runner.ReadInput(in)
			if err != nil {
				return fail(stderr, "encode", err)
			}
			var img bytes.Buffer
			if err := inspect.EncodeWith(&img, bytes.NewReader(data), inspect.EncodeOptions{FixCRC: *fixCRC}); err != nil {
				return fail(stderr, "encode", fmt.Errorf("%s: %w", runner.InputName(in), err))
			}
			return writeOutput(stdout, stderr, "encode", *out, img.Bytes())
		}
	},
}

var diffCmd = &command{
	name:    "diff",
	args:    "OLD NEW",
	summary: "say which objects, records and fields differ between two images",
	about: `
Compares two images ("-" for standard input, as one of them) by what their
records describe, as the equivalence checker compares two worlds: tasks pair
by pid, and objects by their place in the tree (a task's file table, its
descriptor 3's file, that file's pipe), whatever their objrefs. Objects
paired under other objrefs are listed first, on one line ("= objects
renumbered"); then each difference, with what the record belongs to: "~" for
a record in both with fields that differ, each field as "old -> new" (a
register by its name: "Regs.Rbx: 0x0 -> 0x2a"); "-" and "+" for a record only
in OLD or only in NEW, with all its fields. Within an object, records are
matched as a text diff matches lines, so that one descriptor closed shows as
one FD record removed, not as every record after it changed. An image that
cannot be read to its end is compared up to its fault, which is reported.
Exit status 0 when the images are the same bytes, 1 when they differ.`,
	flags: func(fs *flag.FlagSet) runFunc {
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			if len(args) != 2 {
				return c.usageError(stderr, "expected two images, got %d arguments", len(args))
			}
			if args[0] == "-" && args[1] == "-" {
				return c.usageError(stderr, "standard input can be only one of the two images")
			}
			var data [2][]byte
			var reps [2]*inspect.Report
			for i, path := range args {
				var err error
				if data[i], err = runner.ReadInput(path); err != nil {
					return fail(stderr, "diff", err)
				}
				reps[i], _ = inspect.Inspect(bytes.NewReader(data[i]))
			}
			if err := inspect.WriteDiff(stdout, reps[0], reps[1], runner.InputName(args[0]), runner.InputName(args[1])); err != nil {
				return fail(stderr, "diff", err)
			}
			if bytes.Equal(data[0], data[1]) {
				return exitOK
			}
			return exitFail
		}
	},
}

var graphCmd = &command{
	name:    "graph",
	args:    "[-o FILE] [--svg | --png] [--at LINE | --frames DIR | --restored [--at LINE]] [--ungrouped] [--legend=false] SCRIPT|IMAGE",
	summary: "draw the object graph of a script's world or of an image (DOT, SVG or PNG)",
	about: `
Draws the object graph (tasks, the objects they hold: file tables, fs states,
files, pipes, unlinked files, socket pairs, address spaces, segments of shared
memory, and every reference between them)
of the world a scenario script builds, or of the container a checkpoint image
holds, in Graphviz's DOT language. The
input ("-" for standard input) is an image when it starts with the image
magic, whatever its name, and a script otherwise.

The task tree is drawn top-down (a zombie below its parent), and below it the
objects in rows by how far they are from a task: file tables, fs states and
address spaces, then open files and segments, then what files hold (pipes,
unlinked files, socket pairs). An image's objects are drawn from its records'
definitions, whatever their type: each object's box shows what its records
mean, and each reference is labelled (a descriptor's number, a socket's end,
a mapping's range: a VMA is a record of its address space, not a box).
Shared objects (more than one reference) have a red border; a pipe shows the
bytes in flight, a socket pair what waits at each end, an address space its
VMAs and written pages; a legend explains the colours. Three or more alike
childless tasks of one parent (threads sharing everything, or children forked
alike) are drawn as one node, their private copies as one stacked node each;
--ungrouped draws every task.

A script is drawn at its end, or after line LINE with --at LINE. With
--frames DIR, it writes one picture per line of the script into DIR
(frame-001.dot, ... or .svg/.png), each titled with its line, the objects the
line changed highlighted, and every object in the same place in every frame,
so that a class can step through them; it prints the list of frames.

With --restored, it runs the script to a checkpoint (--at LINE: the
checkpoint line LINE, or the world's one tree after line LINE; else the
script's first checkpoint line), restarts the image in a fresh kernel on a
copy of the disk, and draws the world and its restored copy side by side,
dotted lines joining each object to the copy the equivalence checker paired
it with.

With --svg or --png it renders the picture through Graphviz's dot program,
which must be installed (on Debian or Ubuntu: apt-get install graphviz).`,
	flags: func(fs *flag.FlagSet) runFunc {
		out := fs.String("o", "", "write to `FILE` instead of standard output")
		svg := fs.Bool("svg", false, "render SVG with Graphviz's dot instead of printing DOT")
		png := fs.Bool("png", false, "render PNG with Graphviz's dot instead of printing DOT")
		at := fs.Int("at", 0, "draw a script's world after line `LINE` (with --restored: checkpoint there)")
		frames := fs.String("frames", "", "write one picture per line of the script into `DIR`")
		restored := fs.Bool("restored", false, "draw the world at a checkpoint beside its restored copy")
		ungrouped := fs.Bool("ungrouped", false, "draw every task on its own, not alike ones as one node")
		legend := fs.Bool("legend", true, "draw the legend")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			switch {
			case len(args) != 1:
				return c.usageError(stderr, "expected one script or image, got %d arguments", len(args))
			case *svg && *png:
				return c.usageError(stderr, "--svg and --png: give one")
			case *frames != "" && (*at != 0 || *restored):
				return c.usageError(stderr, "--frames draws every line: it takes neither --at nor --restored")
			case *frames != "" && *out != "":
				return c.usageError(stderr, "--frames writes its pictures into its directory: -o does not apply")
			case *at < 0:
				return c.usageError(stderr, "--at %d: a line number is positive", *at)
			}
			format := ""
			switch {
			case *svg:
				format = graph.SVG
			case *png:
				format = graph.PNG
			}
			opts := graphOptions{at: *at, restored: *restored, ungrouped: *ungrouped, noLegend: !*legend}
			if *frames != "" {
				return writeFrames(c, stdout, stderr, args[0], *frames, format, opts)
			}
			g, err := graphOf(args[0], opts)
			if err != nil {
				return fail(stderr, "graph", err)
			}
			var b bytes.Buffer
			if format != "" {
				err = graph.Render(&b, g, format)
			} else {
				err = g.WriteDOT(&b)
			}
			if err != nil {
				return renderFail(stderr, err)
			}
			return writeOutput(stdout, stderr, "graph", *out, b.Bytes())
		}
	},
}

// renderFail reports a failed rendering, saying how to get dot when it is
// missing.
func renderFail(stderr io.Writer, err error) int {
	if errors.Is(err, graph.ErrNoDot) {
		fmt.Fprintln(stderr, "ckptsim graph: --svg and --png need Graphviz's dot program, which is not installed.\n"+
			"On Debian or Ubuntu: apt-get install graphviz (elsewhere see https://graphviz.org/download/).\n"+
			"Without them, ckptsim graph prints DOT, which needs nothing installed.")
		return exitFail
	}
	return fail(stderr, "graph", err)
}

// graphOptions are graph's choices of what to draw.
type graphOptions struct {
	at                  int
	restored, ungrouped bool
	noLegend            bool
}

// graphOf reads a script or an image, told apart by content, and returns
// the graph the options ask for.
func graphOf(path string, opts graphOptions) (*graph.Graph, error) {
	data, err := runner.ReadInput(path)
	if err != nil {
		return nil, err
	}
	name := runner.InputName(path)
	var g *graph.Graph
	if runner.IsImage(data) {
		if opts.at != 0 || opts.restored {
			return nil, fmt.Errorf("%s is an image: --at and --restored draw a script's world", name)
		}
		if g, err = graph.FromImage(bytes.NewReader(data)); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	} else {
		s, err := scenario.Parse(name, bytes.NewReader(data))
		if err != nil {
			return nil, err
		}
		switch {
		case opts.restored:
			m, err := runner.MigrateAt(s, opts.at)
			if err != nil {
				return nil, err
			}
			g = graph.Restored(m.Before.View(), m.Kernel.View(), m.Pid)
			g.Title = fmt.Sprintf("%s line %d: %s, restarted (%d-byte image); %s", s.Name, m.Line.Num, m.What, len(m.Image), g.Title)
		case opts.at != 0:
			g, err = graph.FromScriptAt(s, opts.at)
		default:
			g, err = graph.FromScript(s)
		}
		if err != nil {
			return nil, err
		}
	}
	if !opts.ungrouped {
		g.Group()
	}
	g.NoLegend = opts.noLegend
	return g, nil
}

// writeFrames writes the frames of a script into dir, and lists them.
func writeFrames(c *command, stdout, stderr io.Writer, path, dir, format string, opts graphOptions) int {
	data, err := runner.ReadInput(path)
	if err != nil {
		return fail(stderr, "graph", err)
	}
	name := runner.InputName(path)
	if runner.IsImage(data) {
		return c.usageError(stderr, "%s is an image: --frames steps through a script", name)
	}
	s, err := scenario.Parse(name, bytes.NewReader(data))
	if err != nil {
		return fail(stderr, "graph", err)
	}
	frames, err := graph.Frames(s)
	if err != nil {
		return fail(stderr, "graph", err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fail(stderr, "graph", err)
	}
	ext := format
	if ext == "" {
		ext = "dot"
	}
	for i, f := range frames {
		f.Graph.NoLegend = opts.noLegend
		var b bytes.Buffer
		if format != "" {
			err = graph.Render(&b, f.Graph, format)
		} else {
			err = f.Graph.WriteDOT(&b)
		}
		if err != nil {
			return renderFail(stderr, err)
		}
		file := filepath.Join(dir, fmt.Sprintf("frame-%03d.%s", i+1, ext))
		if err := os.WriteFile(file, b.Bytes(), 0o644); err != nil {
			return fail(stderr, "graph", err)
		}
		fmt.Fprintf(stdout, "%s  line %d: %s\n", file, f.Line.Num, f.Line.Text)
	}
	return exitOK
}

var demoCmd = &command{
	name:    "demo",
	args:    "[--script]",
	summary: "checkpoint and restart a small built-in world, and prove it the same",
	about: `
Builds a small built-in world (a file table shared through CLONE_FILES, a
dup'd file, a pipe with bytes in flight between parent and child, an unlinked
file still open, a zombie, a private page shared copy on write after fork, a
segment of shared memory, a mapped file), checkpoints it, summarises the
image, restarts it in a fresh kernel, checks with equiv.Equal that the copy is
the same world, prints what matched, and runs the rest of the script on the
copy. It needs no files. Exit status 0 when the worlds are equal.

With --script it prints the world's scenario script instead, to run, verify
or edit.`,
	flags: func(fs *flag.FlagSet) runFunc {
		script := fs.Bool("script", false, "print the demo's scenario script and exit")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			if len(args) != 0 {
				return c.usageError(stderr, "takes no arguments, got %d", len(args))
			}
			if *script {
				io.WriteString(stdout, runner.DemoScript())
				return exitOK
			}
			if err := runner.Demo(stdout); err != nil {
				return fail(stderr, "demo", err)
			}
			return exitOK
		}
	},
}

// fail reports a command's error and returns the failure status.
func fail(stderr io.Writer, name string, err error) int {
	fmt.Fprintf(stderr, "ckptsim %s: %v\n", name, err)
	return exitFail
}

// writeOutput writes a command's whole output to path, or to stdout when
// path is "" or "-".
func writeOutput(stdout, stderr io.Writer, name, path string, data []byte) int {
	var err error
	if path == "" || path == "-" {
		_, err = stdout.Write(data)
	} else {
		err = os.WriteFile(path, data, 0o644)
	}
	if err != nil {
		return fail(stderr, name, err)
	}
	return exitOK
}
