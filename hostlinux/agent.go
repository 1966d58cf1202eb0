package hostlinux

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"
)

// agentSource is the C agent: the coordinator that makes each task a real
// process and has it make each call (see agent/agent.c).
//
//go:embed agent/agent.c
var agentSource []byte

// ErrUnavailable is the error of every function of the package on a host
// that cannot run scripts: not Linux on x86-64, not root, or no C compiler
// to build the agent. The error wraps it and says which.
var ErrUnavailable = errors.New("the host cannot run scenario scripts")

// The agent's operations (enum in agent.c).
const (
	opInit  = 1
	opSpawn = 2
	opClone = 3
	opCall  = 4
	opExit  = 5
	opProc  = 6
)

// req and resp are agent.c's struct req and struct resp.
type req struct {
	Op, Slot uint32
	Nr       int64
	A        [7]int64
	Len, Pad uint32
}

type resp struct {
	Ret          int64
	Len, Blocked uint32
}

// maxReserved is the size of agent.c's initinfo.res.
const maxReserved = 64

type initInfo struct {
	Buf, BufSize uint64
	NoFile       uint64
	NRes         uint64
	Res          [maxReserved][2]uint64
}

var (
	buildOnce sync.Once
	agentPath string
	buildErr  error
)

// Available says whether this host can run scripts: nil, or an error
// wrapping ErrUnavailable that says why not. It builds the agent on first
// use (cached under the user's cache directory, by a hash of its source).
func Available() error {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		return fmt.Errorf("%w: it needs Linux on x86-64, this is %s/%s", ErrUnavailable, runtime.GOOS, runtime.GOARCH)
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("%w: it needs root (a mount namespace, chroot, and /proc/PID/pagemap's frame numbers)", ErrUnavailable)
	}
	_, err := agent()
	return err
}

// agent returns the path of the built agent, building it on first use.
func agent() (string, error) {
	buildOnce.Do(func() {
		dir, err := os.UserCacheDir()
		if err != nil {
			dir = os.TempDir()
		}
		agentPath, buildErr = build([]string{os.Getenv("CC"), "cc", "gcc", "clang"}, filepath.Join(dir, "ckptsim"))
	})
	return agentPath, buildErr
}

// build builds the agent with the first of the compilers found, into the
// cache directory dir, unless it is there already.
func build(compilers []string, dir string) (string, error) {
	cc := ""
	for _, name := range compilers {
		if name == "" {
			continue
		}
		if p, err := exec.LookPath(name); err == nil {
			cc = p
			break
		}
	}
	if cc == "" {
		return "", fmt.Errorf("%w: no C compiler (cc, gcc or clang, or $CC) to build its agent", ErrUnavailable)
	}
	sum := sha256.Sum256(agentSource)
	path := filepath.Join(dir, "hostlinux-agent-"+hex.EncodeToString(sum[:8]))
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o100 != 0 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hostlinux: agent cache: %w", err)
	}
	src, err := os.CreateTemp(dir, "agent-*.c")
	if err != nil {
		return "", fmt.Errorf("hostlinux: agent cache: %w", err)
	}
	defer os.Remove(src.Name())
	if _, err := src.Write(agentSource); err != nil {
		src.Close()
		return "", fmt.Errorf("hostlinux: agent cache: %w", err)
	}
	src.Close()
	tmp := path + fmt.Sprintf(".%d.tmp", os.Getpid())
	out, err := exec.Command(cc, "-O2", "-o", tmp, src.Name()).CombinedOutput()
	if err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("%w: building its agent with %s: %v\n%s", ErrUnavailable, cc, err, bytes.TrimSpace(out))
	}
	// Rename is atomic: a concurrent build by another test binary makes
	// the same file.
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("hostlinux: agent cache: %w", err)
	}
	return path, nil
}

// conn is a running agent: its process, its control socket, its root
// directory and the address of its data buffer.
type conn struct {
	cmd      *exec.Cmd
	sock     *os.File
	root     string
	buf      uint64
	bufSize  uint64
	noFile   int
	reserved [][2]uint64
}

// start runs a new agent on a fresh root directory.
func start(blockMs int, noFile int) (*conn, error) {
	if err := Available(); err != nil {
		return nil, err
	}
	path, _ := agent()
	root, err := os.MkdirTemp("", "ckptsim-linux-")
	if err != nil {
		return nil, fmt.Errorf("hostlinux: root directory: %w", err)
	}
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		os.Remove(root)
		return nil, fmt.Errorf("hostlinux: agent socket: %w", err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "agent"), os.NewFile(uintptr(fds[1]), "agent-end")
	cmd := exec.Command(path)
	cmd.ExtraFiles = []*os.File{theirs} // descriptor 3
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		mine.Close()
		theirs.Close()
		os.Remove(root)
		return nil, fmt.Errorf("hostlinux: starting the agent: %w", err)
	}
	theirs.Close()
	c := &conn{cmd: cmd, sock: mine, root: root}
	r, out, err := c.do(req{Op: opInit, A: [7]int64{int64(noFile), int64(blockMs)}}, append([]byte(root), 0))
	if err == nil && r.Ret < 0 {
		err = fmt.Errorf("hostlinux: setting up the private root %s: %w", root, syscall.Errno(-r.Ret))
	}
	if err != nil {
		c.close()
		return nil, err
	}
	var ii initInfo
	if err := binary.Read(bytes.NewReader(out), binary.LittleEndian, &ii); err != nil {
		c.close()
		return nil, fmt.Errorf("hostlinux: agent init: %w", err)
	}
	c.buf, c.bufSize, c.noFile = ii.Buf, ii.BufSize, int(ii.NoFile)
	for i := range min(ii.NRes, maxReserved) {
		c.reserved = append(c.reserved, ii.Res[i])
	}
	return c, nil
}

// do sends one request with its data and reads the answer.
func (c *conn) do(q req, data []byte) (resp, []byte, error) {
	q.Len = uint32(len(data))
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, q)
	b.Write(data)
	c.sock.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := c.sock.Write(b.Bytes()); err != nil {
		return resp{}, nil, fmt.Errorf("hostlinux: agent: %w", err)
	}
	var r resp
	if err := binary.Read(c.sock, binary.LittleEndian, &r); err != nil {
		return resp{}, nil, fmt.Errorf("hostlinux: agent gave no answer: %w", err)
	}
	out := make([]byte, r.Len)
	if _, err := io.ReadFull(c.sock, out); err != nil {
		return resp{}, nil, fmt.Errorf("hostlinux: agent answer cut short: %w", err)
	}
	return r, out, nil
}

// close stops the agent, which kills every task (each is the agent's
// descendant in its namespace: killing the agent's process group is not
// enough, so the tasks are killed by the caller first), and removes the
// root directory and what the script left in it.
func (c *conn) close() {
	c.sock.Close()
	done := make(chan struct{})
	go func() { c.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-done
	}
	// The bind mount lived in the agent's namespace only; what remains is
	// the directory with the script's files.
	os.RemoveAll(c.root)
}
