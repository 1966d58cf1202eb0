package runner

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Disk is what an image restarts on: a kernel whose filesystem the restart
// gets a copy of, as a second machine with the same files would.
type Disk struct {
	// Kernel holds the disk. For a script's disk it also holds the
	// script's world at the checkpoint line.
	Kernel *kernel.Kernel
	// Name says where the disk came from, for messages: "an empty disk",
	// "the disk loaded from DIR", "the disk of S at line N".
	Name string
	// Checkpoint is the script's checkpoint line whose world the disk is,
	// nil when the disk did not come from a script: a restored world is
	// compared with the world that line checkpointed.
	Checkpoint *scenario.Line
}

// EmptyDisk returns a disk with nothing but its root directory: enough for
// an image whose files are all pipes and unlinked files.
func EmptyDisk() *Disk {
	return &Disk{Kernel: kernel.New(kernel.Config{}), Name: "an empty disk"}
}

// ErrNotLoadable is LoadDisk's error for a host file the simulated disk
// cannot hold: a symbolic link, a device, a socket, or a regular file over
// the simulator's size limit.
var ErrNotLoadable = errors.New("cannot be loaded into the simulated disk")

// loaderComm is the name of the task that builds a loaded disk.
const loaderComm = "disk-loader"

// LoadDisk returns a disk holding the host directory tree at dir, which
// becomes the simulated disk's root: its directories, regular files (with
// their contents) and FIFOs, each with its permission bits (setuid, setgid
// and sticky included). Symbolic links, devices and sockets are refused
// (the simulator has none) with ErrNotLoadable naming the path, and so is a
// regular file over vfs.MaxFileSize; hard links become separate files. The
// root directory's own mode is the simulated root's.
//
// The disk is built through system calls, by a task that makes each
// directory and FIFO and creates each regular file and writes its contents
// in one write, then exits: so every regular file has the change counter of
// a file written once (0 when empty). Restart compares a file's size and
// change counter with the image's (ESTALE when they differ), so an image
// whose script wrote a file more than once refuses this disk; use the
// script's own disk (ScriptDisk) for it, or edit the FILE record's Changes.
func LoadDisk(dir string) (*Disk, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return nil, err
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("%s: not a directory", dir)
	}
	// The tree is walked without following links, but the directory named
	// may be one.
	root, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return nil, err
	}
	k := kernel.New(kernel.Config{})
	pid, err := k.Spawn(0, loaderComm)
	if err != nil {
		return nil, err
	}
	l := &loader{k: k, pid: pid, host: root}
	err = filepath.WalkDir(root, l.visit)
	if eerr := k.Exit(pid, 0); err == nil {
		err = eerr
	}
	if err != nil {
		return nil, err
	}
	return &Disk{Kernel: k, Name: fmt.Sprintf("the disk loaded from %s (%s)", dir, l.counts())}, nil
}

// loader builds a disk from a host tree, as task pid of kernel k.
type loader struct {
	k                  *kernel.Kernel
	pid                int
	host               string
	files, dirs, fifos int
	bytes              int64
}

func (l *loader) counts() string {
	return fmt.Sprintf("%s, %s, %s, %s", plural(l.dirs, "directory"), plural(l.files, "regular file"),
		plural(l.fifos, "FIFO"), plural(int(l.bytes), "byte"))
}

// visit loads one host file: WalkDir calls it for the root first, then
// for each file in lexical order, a directory before what it holds.
func (l *loader) visit(hostPath string, d fs.DirEntry, err error) error {
	if err != nil {
		return err
	}
	rel, err := filepath.Rel(l.host, hostPath)
	if err != nil {
		return err
	}
	if rel == "." {
		return nil // the root exists
	}
	info, err := d.Info()
	if err != nil {
		return err
	}
	simPath := path.Join("/", filepath.ToSlash(rel))
	perm := permBits(info.Mode())
	switch t := info.Mode().Type(); {
	case t == fs.ModeDir:
		l.dirs++
		return l.call(hostPath, l.k.Mkdir(l.pid, simPath, perm))
	case t == fs.ModeNamedPipe:
		l.fifos++
		return l.call(hostPath, l.k.Mkfifo(l.pid, simPath, perm))
	case t == 0:
		l.files++
		return l.regular(hostPath, simPath, info.Size(), perm)
	}
	return fmt.Errorf("%s: a %s %w (it holds directories, regular files and FIFOs)", hostPath, fileKind(info.Mode()), ErrNotLoadable)
}

// regular creates a regular file and writes its contents in one write.
func (l *loader) regular(hostPath, simPath string, size int64, perm uint32) error {
	if size > vfs.MaxFileSize {
		return fmt.Errorf("%s: %d bytes %w: a simulated regular file holds at most %d", hostPath, size, ErrNotLoadable, vfs.MaxFileSize)
	}
	data, err := os.ReadFile(hostPath)
	if err != nil {
		return err
	}
	if int64(len(data)) > vfs.MaxFileSize { // it grew since it was listed
		return fmt.Errorf("%s: %d bytes %w: a simulated regular file holds at most %d", hostPath, len(data), ErrNotLoadable, vfs.MaxFileSize)
	}
	fd, err := l.k.Open(l.pid, simPath, vfs.O_WRONLY|vfs.O_CREAT|vfs.O_EXCL, perm)
	if err != nil {
		return l.call(hostPath, err)
	}
	if len(data) > 0 {
		if _, err := l.k.Write(l.pid, fd, data); err != nil {
			return l.call(hostPath, err)
		}
	}
	l.bytes += int64(len(data))
	return l.call(hostPath, l.k.Close(l.pid, fd))
}

// call names the host file a failed system call was loading.
func (l *loader) call(hostPath string, err error) error {
	if err != nil {
		return fmt.Errorf("loading %s: %w", hostPath, err)
	}
	return nil
}

// permBits returns the st_mode permission bits of a host file mode.
func permBits(m fs.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&fs.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&fs.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&fs.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}

// fileKind names a host file's type for an error.
func fileKind(m fs.FileMode) string {
	switch {
	case m&fs.ModeSymlink != 0:
		return "symbolic link"
	case m&fs.ModeSocket != 0:
		return "socket"
	case m&fs.ModeCharDevice != 0:
		return "character device"
	case m&fs.ModeDevice != 0:
		return "block device"
	}
	return "file of type " + m.Type().String()
}

// ScriptDisk runs a script up to one of its checkpoint lines and returns
// its world there as a disk: an image that line took restarts on it. The
// line is chosen so: line, when it is not 0, must be a checkpoint line;
// otherwise the last checkpoint line that writes an image of imageName's
// base name ("=> NAME", as run keeps it: a later line of the same name
// overwrites the file); otherwise the script's only checkpoint line. A
// script with several checkpoint lines and none of the image's name needs
// line. Lines before the chosen one run as in run, the earlier checkpoint
// lines skipped (a checkpoint changes nothing in the world).
func ScriptDisk(s *scenario.Script, imageName string, line int) (*Disk, error) {
	cp, err := checkpointLine(s, imageName, line)
	if err != nil {
		return nil, err
	}
	k := kernel.New(kernel.Config{})
	before := s.Lines[:slices.Index(s.Lines, cp)]
	if err := execLines(k, s.Name, systemCalls(before), nil); err != nil {
		return nil, err
	}
	return &Disk{Kernel: k, Name: fmt.Sprintf("the disk of %s at line %d", s.Name, cp.Num), Checkpoint: cp}, nil
}

// checkpointLine chooses the checkpoint line of ScriptDisk.
func checkpointLine(s *scenario.Script, imageName string, line int) (*scenario.Line, error) {
	var cps []*scenario.Line
	var nums []string
	for _, l := range s.Lines {
		if l.Cmd == "checkpoint" {
			cps = append(cps, l)
			nums = append(nums, fmt.Sprint(l.Num))
		}
	}
	list := "its checkpoint lines are " + strings.Join(nums, ", ")
	switch {
	case len(cps) == 0:
		return nil, fmt.Errorf("%s has no checkpoint line", s.Name)
	case line != 0:
		if i := slices.IndexFunc(cps, func(l *scenario.Line) bool { return l.Num == line }); i >= 0 {
			return cps[i], nil
		}
		return nil, fmt.Errorf("%s: line %d is not a checkpoint line; %s", s.Name, line, list)
	}
	base := filepath.Base(imageName)
	for _, l := range slices.Backward(cps) {
		if l.Image == base {
			return l, nil
		}
	}
	if len(cps) == 1 {
		return cps[0], nil
	}
	return nil, fmt.Errorf("%s: no checkpoint line writes %s and there are %d, so say which: %s", s.Name, base, len(cps), list)
}
