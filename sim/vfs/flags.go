package vfs

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Open flags, with Linux's x86-64 values (include/uapi/asm-generic/fcntl.h).
const (
	O_RDONLY    = 0
	O_WRONLY    = 01
	O_RDWR      = 02
	O_ACCMODE   = 03
	O_CREAT     = 0100
	O_EXCL      = 0200
	O_NOCTTY    = 0400
	O_TRUNC     = 01000
	O_APPEND    = 02000
	O_NONBLOCK  = 04000
	O_DSYNC     = 010000
	O_ASYNC     = 020000 // FASYNC
	O_DIRECT    = 040000
	O_LARGEFILE = 0100000
	O_DIRECTORY = 0200000
	O_NOFOLLOW  = 0400000
	O_NOATIME   = 01000000
	O_CLOEXEC   = 02000000
	O_SYNC      = 04010000 // __O_SYNC | O_DSYNC
	O_PATH      = 010000000
	O_TMPFILE   = 020200000 // __O_TMPFILE | O_DIRECTORY
)

// openFlagsKept are the open flags that stay in a file's status flags after
// open; Linux drops O_CREAT, O_EXCL, O_NOCTTY, O_TRUNC and O_CLOEXEC, which
// only matter while opening.
const openFlagsKept = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DSYNC | O_ASYNC | O_DIRECT |
	O_LARGEFILE | O_DIRECTORY | O_NOFOLLOW | O_NOATIME | O_SYNC

// SetflMask are the status flags fcntl(F_SETFL) may change, as Linux's
// SETFL_MASK. Whether O_ASYNC sticks depends on the file type.
const SetflMask = O_APPEND | O_NONBLOCK | O_ASYNC | O_DIRECT | O_NOATIME

// FMode is a file's mode bits: what the open file may be used for (Linux's
// f_mode, fmode_t), with Linux's values.
type FMode uint32

// The mode bits.
const (
	FMODE_READ   FMode = 0x1
	FMODE_WRITE  FMode = 0x2
	FMODE_LSEEK  FMode = 0x4
	FMODE_PREAD  FMode = 0x8
	FMODE_PWRITE FMode = 0x10
)

// Seek origins for Lseek.
const (
	SEEK_SET = 0
	SEEK_CUR = 1
	SEEK_END = 2
)

// flock operations.
const (
	LOCK_SH = 1
	LOCK_EX = 2
	LOCK_NB = 4
	LOCK_UN = 8
	// LOCK_MAND asked for a mandatory lock. Linux ignores such requests and
	// returns 0, even on a bad descriptor.
	LOCK_MAND = 32
)

// Inode type and permission bits (st_mode).
const (
	S_IFMT   = 0170000
	S_IFIFO  = 0010000
	S_IFDIR  = 0040000
	S_IFREG  = 0100000
	PermMask = 07777
)

// Limits on names, as Linux's NAME_MAX and PATH_MAX (PATH_MAX counts the
// terminating NUL, so the longest path has PATH_MAX-1 bytes).
const (
	NAME_MAX = 255
	PATH_MAX = 4096
)

// flagNames maps the names of open flags to values, for formatting and for
// scenario scripts.
var flagNames = map[string]int{
	"O_RDONLY": O_RDONLY, "O_WRONLY": O_WRONLY, "O_RDWR": O_RDWR, "O_CREAT": O_CREAT,
	"O_EXCL": O_EXCL, "O_NOCTTY": O_NOCTTY, "O_TRUNC": O_TRUNC, "O_APPEND": O_APPEND,
	"O_NONBLOCK": O_NONBLOCK, "O_DSYNC": O_DSYNC, "O_ASYNC": O_ASYNC, "O_DIRECT": O_DIRECT,
	"O_LARGEFILE": O_LARGEFILE, "O_DIRECTORY": O_DIRECTORY, "O_NOFOLLOW": O_NOFOLLOW,
	"O_NOATIME": O_NOATIME, "O_CLOEXEC": O_CLOEXEC, "O_SYNC": O_SYNC, "O_PATH": O_PATH,
	"O_TMPFILE": O_TMPFILE,
}

// OpenFlagNames returns the names of the open flags and their values.
func OpenFlagNames() map[string]int {
	out := make(map[string]int, len(flagNames))
	for k, v := range flagNames {
		out[k] = v
	}
	return out
}

// FormatOpenFlags renders status flags symbolically: "O_RDWR|O_APPEND".
func FormatOpenFlags(flags int) string {
	parts := []string{[]string{"O_RDONLY", "O_WRONLY", "O_RDWR", "O_ACCMODE"}[flags&O_ACCMODE]}
	rest := flags &^ O_ACCMODE
	if rest&O_SYNC == O_SYNC {
		parts = append(parts, "O_SYNC")
		rest &^= O_SYNC
	}
	var names []string
	for name, v := range flagNames {
		if v != 0 && v&O_ACCMODE == 0 && v != O_SYNC && v != O_TMPFILE && rest&v == v {
			names = append(names, name)
			rest &^= v
		}
	}
	sort.Slice(names, func(i, j int) bool { return flagNames[names[i]] < flagNames[names[j]] })
	parts = append(parts, names...)
	if rest != 0 {
		parts = append(parts, "0"+strconv.FormatInt(int64(rest), 8))
	}
	return strings.Join(parts, "|")
}

// String renders mode bits symbolically: "READ|WRITE|LSEEK".
func (m FMode) String() string {
	var parts []string
	for _, b := range []struct {
		bit  FMode
		name string
	}{{FMODE_READ, "READ"}, {FMODE_WRITE, "WRITE"}, {FMODE_LSEEK, "LSEEK"}, {FMODE_PREAD, "PREAD"}, {FMODE_PWRITE, "PWRITE"}} {
		if m&b.bit != 0 {
			parts = append(parts, b.name)
			m &^= b.bit
		}
	}
	if m != 0 {
		parts = append(parts, "0x"+strconv.FormatUint(uint64(m), 16))
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "|")
}

// FormatMode renders an inode's st_mode for people: its type and its
// permission bits, as "regular 0644", "fifo 0600", "directory 0755".
func FormatMode(m uint32) string {
	perm := fmt.Sprintf("%04o", m&PermMask)
	switch m & S_IFMT {
	case S_IFREG:
		return "regular " + perm
	case S_IFIFO:
		return "fifo " + perm
	case S_IFDIR:
		return "directory " + perm
	}
	return fmt.Sprintf("type %#o %s", m&S_IFMT, perm)
}
