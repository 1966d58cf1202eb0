package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/ckptsim/ckptsim/hostlinux"
	"github.com/ckptsim/ckptsim/runner"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// hostAvailable says whether this host can run scripts (a variable, so
// that tests can play a host that cannot).
var hostAvailable = hostlinux.Available

var linuxCmd = &command{
	name:    "linux",
	args:    "[--compare] SCRIPT...",
	summary: "run scenario scripts on this machine's Linux kernel, beside what they expect",
	about: `
Runs each SCRIPT on the host's real Linux kernel: every task a real process,
created with the script's clone flags (CLONE_FILES, CLONE_FS and CLONE_VM
share for real), every line the real system call, inside a private root (a
mount namespace and a chroot into a fresh temporary directory, removed
afterwards). A call still blocked after 50 ms is interrupted and reported
BLOCKED, as the simulator reports it. Prints each line with the result it
expects and Linux's; with --compare, the simulated kernel's too, which must
then also give the expected result (where the line states none, succeed or
fail as Linux did).

Lines the host cannot answer are skipped and counted: checkpoint (the
engine's, no system call), regs (set by a debugger), brk (a task's break is
the agent's own heap; once a script moves it, lines in the simulator's heap
area are skipped too), a pid the kernel picks (pid 0), and memory calls on
the agent's own memory (keep script addresses in [0x10000000,
0x100000000000)).

Prints per script "NAME: N lines checked, S skipped" and a total. Needs
Linux on x86-64, root, and a C compiler (cc, gcc, clang or $CC) to build its
small agent on first use, cached in the user's cache directory. Exit status
0 when every checked line agrees, 1 when one does not (or a script cannot be
read), 2 when the host cannot run scripts.`,
	flags: func(fs *flag.FlagSet) runFunc {
		compare := fs.Bool("compare", false, "also run each line on the simulated kernel and show its result")
		return func(c *command, args []string, stdout, stderr io.Writer) int {
			switch {
			case len(args) == 0:
				return c.usageError(stderr, "expected at least one script")
			case countStdin(args...) > 1:
				return c.usageError(stderr, "standard input (\"-\") can be only one of the scripts")
			}
			if err := hostAvailable(); err != nil {
				fmt.Fprintf(stderr, "ckptsim linux: %v\n", err)
				return exitUsage
			}
			status := exitOK
			var checked, skipped, disagree int
			for _, path := range args {
				s, err := runner.ParseFile(path)
				if err != nil {
					fmt.Fprintf(stderr, "ckptsim linux: %v\n", err)
					status = exitFail
					continue
				}
				st, err := linuxScript(s, *compare, stdout)
				if err != nil {
					fmt.Fprintf(stderr, "ckptsim linux: %s: %v\n", s.Name, err)
					if errors.Is(err, hostlinux.ErrUnavailable) {
						return exitUsage
					}
					status = exitFail
					continue
				}
				checked, skipped, disagree = checked+st.checked, skipped+st.skipped, disagree+st.disagree
				if st.disagree > 0 {
					status = exitFail
				}
			}
			fmt.Fprintf(stdout, "total: %d lines checked, %d skipped, %d disagree, in %d scripts\n", checked, skipped, disagree, len(args))
			return status
		}
	},
}

type linuxStats struct{ checked, skipped, disagree int }

// linuxScript runs s on the host (and, with compare, on a simulated
// kernel with the host's descriptor limit) and prints its lines.
func linuxScript(s *scenario.Script, compare bool, stdout io.Writer) (linuxStats, error) {
	var st linuxStats
	w, err := hostlinux.New(hostlinux.Options{})
	if err != nil {
		return st, err
	}
	defer w.Close()
	var k *kernel.Kernel
	if compare {
		k = kernel.New(kernel.Config{NoFile: w.NoFile()})
	}
	fmt.Fprintf(stdout, "%s\n", s.Name)
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	header := "  LINE\tSTATEMENT\tEXPECTED\tLINUX"
	if compare {
		header += "\tSIM"
	}
	fmt.Fprintln(tw, header+"\t")
	for _, l := range s.Lines {
		r := w.Exec(l)
		var sim scenario.Outcome
		simShown := "-"
		if compare {
			sim = scenario.Exec(k, l)
			if !errors.Is(sim.Err, scenario.ErrNotASystemCall) {
				simShown = scenario.Short(sim.String())
			}
		}
		verdict, linux := "ok", ""
		switch {
		case r.Skipped != "":
			st.skipped++
			verdict, linux = "skipped: "+r.Skipped, "-"
		default:
			st.checked++
			linux = scenario.Short(r.Outcome.String())
			ok := r.Outcome.Matches(l.Expect)
			if compare && ok && !sim.Matches(l.Expect) {
				verdict = "DIFF: the simulator differs"
			} else if compare && ok && l.Expect == nil && !sameResult(l, sim, r.Outcome) {
				verdict = "DIFF: the simulator differs"
			} else if !ok {
				verdict = "DIFF: Linux differs"
			}
			if verdict != "ok" {
				st.disagree++
			}
		}
		row := fmt.Sprintf("  %d\t%s\t%s\t%s", l.Num, scenario.Short(l.Text), scenario.Short(l.Want()), linux)
		if compare {
			row += "\t" + simShown
		}
		fmt.Fprintln(tw, row+"\t"+verdict)
	}
	tw.Flush()
	fmt.Fprintf(stdout, "%s: %d lines checked, %d skipped", s.Name, st.checked, st.skipped)
	if st.disagree > 0 {
		fmt.Fprintf(stdout, ", %d disagree", st.disagree)
	}
	fmt.Fprintln(stdout)
	return st, nil
}

// sameResult reports whether the simulator's and Linux's outcomes of a
// line that states no result agree: the same result, except that an
// address (mmap, mremap) the kernel picked may rightly differ, so there
// only success or the errno is compared.
func sameResult(l *scenario.Line, a, b scenario.Outcome) bool {
	if (l.Cmd == "mmap" || l.Cmd == "mremap") && a.Err == nil && b.Err == nil {
		return true
	}
	return a.Equal(b)
}
