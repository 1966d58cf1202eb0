// Command ckptsim runs scenario scripts on the simulated kernel, verifies that
// checkpoint/restart is invisible to them, and shows, encodes and draws
// checkpoint images. Run "ckptsim help" for the commands; the logic lives in
// package ckptsim/runner and the packages it builds on.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"slices"
	"strings"
)

func main() {
	os.Exit(Main(os.Args[1:], os.Stdout, os.Stderr))
}

// Exit statuses.
const (
	exitOK    = 0
	exitFail  = 1 // a failed verification, a refused or bad input
	exitUsage = 2 // an unknown command, a bad flag, missing arguments
)

// command is one subcommand.
type command struct {
	name    string
	args    string // the synopsis after the name
	summary string // one line, for the command list
	about   string // paragraphs for the command's --help, after the synopsis
	// flags declares the command's flags on fs and returns the function
	// that runs it with its positional arguments, once fs has parsed.
	flags func(fs *flag.FlagSet) runFunc
}

// runFunc runs a command with its positional arguments.
type runFunc func(c *command, args []string, stdout, stderr io.Writer) int

// commands is filled in by commands.go; the order is the help's.
var commands []*command

const topUsage = `ckptsim: a simulated Linux-like kernel with a checkpoint/restart engine.

Usage: ckptsim COMMAND [ARGUMENTS]

Commands:
%s
Run "ckptsim COMMAND --help" for a command's options. Scenario scripts (.scn)
are described in docs/SCENARIOS.md.

Exit status: 0 on success; 1 for a failed verification, or a refused or bad
input (a bad image, a parse error, a line that does not give its expected
result); 2 for a usage error.
`

// writeTopUsage prints the top-level help, listing the commands.
func writeTopUsage(w io.Writer) {
	var list strings.Builder
	for _, c := range commands {
		fmt.Fprintf(&list, "  %-8s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(&list, "  %-8s %s\n", "help", "print this, or a command's help (ckptsim help COMMAND)")
	fmt.Fprintf(&list, "  %-8s %s\n", "version", "print the module version, the commit it was built from and the Go version (also --version)")
	fmt.Fprintf(w, topUsage, list.String())
}

// Main runs ckptsim with the given arguments (without the program name) and
// returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		writeTopUsage(stderr)
		return exitUsage
	}
	name, rest := args[0], args[1:]
	switch name {
	case "version", "-version", "--version":
		info, _ := debug.ReadBuildInfo()
		fmt.Fprintln(stdout, versionText(info))
		return exitOK
	case "help", "-h", "-help", "--help":
		if name == "help" && len(rest) > 0 {
			if c := lookup(rest[0]); c != nil {
				c.writeUsage(stdout, c.newFlags())
				return exitOK
			}
			fmt.Fprintf(stderr, "ckptsim help: unknown command %q\n", rest[0])
			return exitUsage
		}
		writeTopUsage(stdout)
		return exitOK
	}
	c := lookup(name)
	if c == nil {
		fmt.Fprintf(stderr, "ckptsim: unknown command %q\n\n", name)
		writeTopUsage(stderr)
		return exitUsage
	}
	return c.main(rest, stdout, stderr)
}

// versionText says which ckptsim this is, from the build information Go
// records in the binary: the module's version ("(devel)" for a build in a
// checkout, a tag such as v0.3.0 for "go install ...@v0.3.0"), the commit
// and whether the tree had uncommitted changes when go build could read them
// from git, and the Go version. info is nil when the binary carries none.
func versionText(info *debug.BuildInfo) string {
	if info == nil {
		return "ckptsim: no build information in this binary"
	}
	version := info.Main.Version
	if version == "" {
		version = "(unknown version)"
	}
	s := "ckptsim " + version
	if info.Main.Path != "" {
		s += " (" + info.Main.Path + ")"
	}
	settings := map[string]string{}
	for _, kv := range info.Settings {
		settings[kv.Key] = kv.Value
	}
	if rev := settings["vcs.revision"]; rev != "" {
		s += ", " + settings["vcs"] + " revision " + rev
		if t := settings["vcs.time"]; t != "" {
			s += " of " + t
		}
		if settings["vcs.modified"] == "true" {
			s += ", with uncommitted changes"
		}
	}
	return s + ", built with " + info.GoVersion
}

func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c *command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return commands[i]
}

// newFlags returns the command's flag set, silent: Main reports errors.
func (c *command) newFlags() *flag.FlagSet {
	fs := flag.NewFlagSet("ckptsim "+c.name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	return fs
}

// main parses the command's flags and runs it.
func (c *command) main(args []string, stdout, stderr io.Writer) int {
	fs := c.newFlags()
	run := c.flags(fs)
	pos, err := parseInterspersed(fs, args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		c.writeUsage(stdout, fs)
		return exitOK
	case err != nil:
		fmt.Fprintf(stderr, "ckptsim %s: %v\n", c.name, err)
		c.writeUsage(stderr, fs)
		return exitUsage
	}
	return run(c, pos, stdout, stderr)
}

// usageError reports a wrong use of a command: the message, then the
// command's synopsis.
func (c *command) usageError(stderr io.Writer, format string, a ...any) int {
	fmt.Fprintf(stderr, "ckptsim %s: %s\nusage: ckptsim %s %s\n", c.name, fmt.Sprintf(format, a...), c.name, c.args)
	return exitUsage
}

// writeUsage prints the command's help: synopsis, description, flags.
func (c *command) writeUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: ckptsim %s %s\n\n%s\n", c.name, c.args, strings.TrimSpace(c.about))
	var has bool
	fs.VisitAll(func(*flag.Flag) { has = true })
	if has {
		fmt.Fprintln(w, "\nFlags:")
		fs.SetOutput(w)
		fs.PrintDefaults()
		fs.SetOutput(io.Discard)
	}
}

// parseInterspersed parses flags wherever they stand among the positional
// arguments ("run x.scn --out d" as well as "run --out d x.scn"); after
// "--" everything is positional. "-" alone is positional: standard input.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var tail []string
	if i := slices.Index(args, "--"); i >= 0 {
		args, tail = args[:i], args[i+1:]
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), nil
		}
		pos, args = append(pos, args[0]), args[1:]
	}
}
