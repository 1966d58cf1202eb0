// Package scenario reads scenario scripts (.scn) and runs their system calls
// on a simulated kernel.
//
// A script builds a world one system call per line and says where to
// checkpoint; the format is the contract in SCENARIOS.md (docs/SCENARIOS.md
// in this repository, with this package's additions). In short:
//
//	COMMAND PID ARG... [= RESULT]     # comment
//
// where RESULT is an integer, a flag set, an address, a quoted string (for
// read), two integers (for pipe), an errno name, or BLOCKED. Without
// "= RESULT" the call must succeed.
//
// Parse checks everything it can before anything runs: known commands, the
// number and kind of arguments, flag and errno names, the form of the
// expected result. Its errors name the file and line, and quote at most the
// beginning of a long word or line, with its length. Exec runs one system
// call line on a kernel and returns its Outcome, which Matches compares with
// the line's expectation. Checkpoint lines are not system calls: the caller,
// which has a checkpoint engine, runs them.
//
// # Adding a command
//
// Every command is one entry of the table in commands.go, which holds both
// its syntax and its execution: its name; its parameters, in order, each
// with a name (as the usage writes it), a kind (number, a flag set in its
// own name space with flagsIn, a path, a command name, quoted data) and
// whether it is optional (opt) or repeated (many); and its execution, a
// function that reads the arguments by parameter name and makes the
// kernel's call, wrapped by the kind of result it returns (returnsZero,
// returnsInt, returnsAddr, returnsString, returnsPair). The parser, the
// usage in error messages, the form of the expected result, Exec and
// Commands all read that one entry. For example:
//
//	{name: "lseek", params: []param{pid, fd, number("OFFSET"), flagsIn("WHENCE", whences)},
//		exec: returnsInt(func(k *kernel.Kernel, a args) (int64, error) {
//			return k.Lseek(a.pid(), a.int("FD"), a.int64("OFFSET"), a.flags("WHENCE"))
//		})},
//
// A new flag name space is a map beside the others; expected results accept
// its names at once. A command whose argument shape varies (read with a
// count, or with a memory address and a count) is one entry per shape under
// the same name: a line takes the first entry its arguments fit, and a
// refused line shows every shape's usage. Then list the usage (and any new
// flag names) in docs/SCENARIOS.md, and add cases to commandCases in
// commands_test.go: the tests fail until every entry has run with its
// fewest and its most arguments, and until its usage and flag names appear
// in the reference.
package scenario
