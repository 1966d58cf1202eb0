// Package scratch makes throwaway copies of the ckptsim source tree, edits
// them and runs the go tool in them. The mutant runner (props/mutants)
// uses it to prove that the tests catch deliberate engine bugs, and the
// format-change demonstration (golden/formatchange) to show what the golden
// images say when the format moves.
package scratch

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Tree is a scratch copy of the source tree.
type Tree struct {
	Dir string
}

// Copy copies the repository around the current directory into a new
// temporary directory: the work tree (the files git knows, committed or
// not), or with rev set (e.g. "HEAD") that revision's files. Remove the
// copy when done.
func Copy(rev string) (*Tree, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "ckptsim-scratch-")
	if err != nil {
		return nil, err
	}
	t := &Tree{Dir: dir}
	if rev != "" {
		err = exportRev(root, rev, dir)
	} else {
		err = copyWorkTree(root, dir)
	}
	if err != nil {
		t.Remove()
		return nil, err
	}
	return t, nil
}

// Remove deletes the copy.
func (t *Tree) Remove() { os.RemoveAll(t.Dir) }

// Replace makes one textual replacement in file (a path relative to the
// tree's root). The text to replace must occur exactly once, so that an
// edit which no longer matches the code is reported rather than silently
// skipped.
func (t *Tree) Replace(file, old, new string) error {
	path := filepath.Join(t.Dir, file)
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if n := bytes.Count(src, []byte(old)); n != 1 {
		return fmt.Errorf("%s: the text to replace occurs %d times, not once: the edit no longer applies", file, n)
	}
	return os.WriteFile(path, bytes.Replace(src, []byte(old), []byte(new), 1), 0o644)
}

// Go runs the go tool with args in the tree and returns its combined
// output; the error is non-nil when it exits with a failure.
func (t *Tree) Go(args ...string) (string, error) {
	out, _, err := t.GoUntil(func(string) bool { return false }, args...)
	return out, err
}

// GoUntil runs the go tool with args in the tree as Go does, but stops it,
// with every process it started, at the first line of output for which
// stop is true; stopped says whether it did. A mutant is caught by the
// first package that fails: the others need not finish.
func (t *Tree) GoUntil(stop func(line string) bool, args ...string) (out string, stopped bool, err error) {
	cmd := exec.Command("go", args...)
	cmd.Dir = t.Dir
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		return "", false, err
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return "", false, err
	}
	var b strings.Builder
	sc := bufio.NewScanner(pipe)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		b.WriteString(sc.Text())
		b.WriteByte('\n')
		if stop(sc.Text()) {
			stopped = true
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			break
		}
	}
	io.Copy(io.Discard, pipe)
	err = cmd.Wait()
	if stopped {
		err = nil
	}
	return b.String(), stopped, err
}

// module is the module path, which go test puts before every package.
const module = "github.com/ckptsim/ckptsim"

// FailedPackages returns the packages that `go test` output reports as
// failed, as paths relative to the module ("./props").
func FailedPackages(out string) []string {
	var failed []string
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "FAIL" && strings.HasPrefix(f[1], module) {
			failed = append(failed, "./"+strings.TrimPrefix(strings.TrimPrefix(f[1], module), "/"))
		}
	}
	return failed
}

// BuildFailed reports whether `go test` output says that a package, or its
// tests, did not compile: a failure that says nothing about what the tests
// check.
func BuildFailed(out string) bool {
	return strings.Contains(out, "[build failed]") || strings.Contains(out, "[setup failed]")
}

// RepoRoot returns the top of the git work tree around the current
// directory.
func RepoRoot() (string, error) {
	out, err := exec.Command("git", "rev-parse", "--show-toplevel").Output()
	if err != nil {
		return "", fmt.Errorf("not in a git work tree: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// exportRev writes the files of git revision rev into dir.
func exportRev(root, rev, dir string) error {
	cmd := exec.Command("sh", "-c", `git archive --format=tar "$1" | tar -x -C "$2"`, "sh", rev, dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("git archive %s: %v\n%s", rev, err, out)
	}
	return nil
}

// copyWorkTree copies the files git knows (committed or not, but not the
// ignored ones) into dir.
func copyWorkTree(root, dir string) error {
	// -z: names as they are, not quoted as git quotes unusual ones.
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("git ls-files: %w", err)
	}
	for _, f := range strings.Split(strings.TrimRight(string(out), "\x00"), "\x00") {
		src := filepath.Join(root, f)
		info, err := os.Lstat(src)
		if os.IsNotExist(err) {
			continue // deleted in the work tree
		}
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if info.Mode()&os.ModeSymlink != 0 {
			target, err := os.Readlink(src)
			if err == nil {
				err = os.Symlink(target, dst)
			}
			if err != nil {
				return err
			}
			continue
		}
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		// The file's own mode: .ci/run stays executable.
		if err := os.WriteFile(dst, data, info.Mode().Perm()); err != nil {
			return err
		}
	}
	return nil
}
