// Package errno defines the error numbers of the simulated kernel.
//
// The values are Linux's x86-64 errno numbers, defined here rather than taken
// from the host's syscall package, so that the simulator behaves the same on
// every host. An Errno is an error; compare with errors.Is, which also sees an
// Errno through any number of wrapping errors that add context:
//
//	if errors.Is(err, errno.EBADF) { ... }
//
// BLOCKED is the simulator's own result for a call that would block in Linux
// (a read from an empty pipe that still has a writer, say). It is not a Linux
// errno: Linux would put the caller to sleep, and a simulator driven one call
// at a time cannot. It stays distinct from EAGAIN, which is what O_NONBLOCK
// gives.
package errno

import (
	"errors"
	"fmt"
)

// Errno is a Linux error number.
type Errno int

// The Linux errno values the simulator uses, with Linux's numbers.
const (
	EPERM           Errno = 1
	ENOENT          Errno = 2
	ESRCH           Errno = 3
	EINTR           Errno = 4
	EIO             Errno = 5
	ENXIO           Errno = 6
	E2BIG           Errno = 7
	ENOEXEC         Errno = 8
	EBADF           Errno = 9
	ECHILD          Errno = 10
	EAGAIN          Errno = 11
	ENOMEM          Errno = 12
	EACCES          Errno = 13
	EFAULT          Errno = 14
	EBUSY           Errno = 16
	EEXIST          Errno = 17
	EXDEV           Errno = 18
	ENODEV          Errno = 19
	ENOTDIR         Errno = 20
	EISDIR          Errno = 21
	EINVAL          Errno = 22
	ENFILE          Errno = 23
	EMFILE          Errno = 24
	ENOTTY          Errno = 25
	EFBIG           Errno = 27
	ENOSPC          Errno = 28
	ESPIPE          Errno = 29
	EROFS           Errno = 30
	EMLINK          Errno = 31
	EPIPE           Errno = 32
	ERANGE          Errno = 34
	ENAMETOOLONG    Errno = 36
	ENOSYS          Errno = 38
	ENOTEMPTY       Errno = 39
	ELOOP           Errno = 40
	ENOMSG          Errno = 42
	EOVERFLOW       Errno = 75
	ENOTSOCK        Errno = 88
	EMSGSIZE        Errno = 90
	ESOCKTNOSUPPORT Errno = 94
	EOPNOTSUPP      Errno = 95
	ECONNRESET      Errno = 104
	ENOTCONN        Errno = 107
	ECONNREFUSED    Errno = 111
	ESTALE          Errno = 116

	// EWOULDBLOCK is EAGAIN under its other name, as in Linux.
	EWOULDBLOCK = EAGAIN
	// ENOTSUP is EOPNOTSUPP under its other name, as in Linux (Python's
	// errno module, which the Linux replay tool uses, calls 95 ENOTSUP).
	ENOTSUP = EOPNOTSUPP
)

// BLOCKED is the simulator's result for a call that would block. Its value is
// outside Linux's errno range so that it can never be mistaken for one.
const BLOCKED Errno = 1 << 16

type info struct {
	name string
	text string
}

// table holds each errno's name and Linux's strerror text.
var table = map[Errno]info{
	EPERM:           {"EPERM", "operation not permitted"},
	ENOENT:          {"ENOENT", "no such file or directory"},
	ESRCH:           {"ESRCH", "no such process"},
	EINTR:           {"EINTR", "interrupted system call"},
	EIO:             {"EIO", "input/output error"},
	ENXIO:           {"ENXIO", "no such device or address"},
	E2BIG:           {"E2BIG", "argument list too long"},
	ENOEXEC:         {"ENOEXEC", "exec format error"},
	EBADF:           {"EBADF", "bad file descriptor"},
	ECHILD:          {"ECHILD", "no child processes"},
	EAGAIN:          {"EAGAIN", "resource temporarily unavailable"},
	ENOMEM:          {"ENOMEM", "cannot allocate memory"},
	EACCES:          {"EACCES", "permission denied"},
	EFAULT:          {"EFAULT", "bad address"},
	EBUSY:           {"EBUSY", "device or resource busy"},
	EEXIST:          {"EEXIST", "file exists"},
	EXDEV:           {"EXDEV", "invalid cross-device link"},
	ENODEV:          {"ENODEV", "no such device"},
	ENOTDIR:         {"ENOTDIR", "not a directory"},
	EISDIR:          {"EISDIR", "is a directory"},
	EINVAL:          {"EINVAL", "invalid argument"},
	ENFILE:          {"ENFILE", "too many open files in system"},
	EMFILE:          {"EMFILE", "too many open files"},
	ENOTTY:          {"ENOTTY", "inappropriate ioctl for device"},
	EFBIG:           {"EFBIG", "file too large"},
	ENOSPC:          {"ENOSPC", "no space left on device"},
	ESPIPE:          {"ESPIPE", "illegal seek"},
	EROFS:           {"EROFS", "read-only file system"},
	EMLINK:          {"EMLINK", "too many links"},
	EPIPE:           {"EPIPE", "broken pipe"},
	ERANGE:          {"ERANGE", "numerical result out of range"},
	ENAMETOOLONG:    {"ENAMETOOLONG", "file name too long"},
	ENOSYS:          {"ENOSYS", "function not implemented"},
	ENOTEMPTY:       {"ENOTEMPTY", "directory not empty"},
	ELOOP:           {"ELOOP", "too many levels of symbolic links"},
	ENOMSG:          {"ENOMSG", "no message of desired type"},
	EOVERFLOW:       {"EOVERFLOW", "value too large for defined data type"},
	ENOTSOCK:        {"ENOTSOCK", "socket operation on non-socket"},
	EMSGSIZE:        {"EMSGSIZE", "message too long"},
	ESOCKTNOSUPPORT: {"ESOCKTNOSUPPORT", "socket type not supported"},
	EOPNOTSUPP:      {"EOPNOTSUPP", "operation not supported"},
	ECONNRESET:      {"ECONNRESET", "connection reset by peer"},
	ENOTCONN:        {"ENOTCONN", "transport endpoint is not connected"},
	ECONNREFUSED:    {"ECONNREFUSED", "connection refused"},
	ESTALE:          {"ESTALE", "stale file handle"},
	BLOCKED:         {"BLOCKED", "the call would block"},
}

// Name returns the symbolic name, such as "EBADF", or "errno N" for a number
// the simulator does not know.
func (e Errno) Name() string {
	if in, ok := table[e]; ok {
		return in.name
	}
	return fmt.Sprintf("errno %d", int(e))
}

// Error returns the name and Linux's description: "EBADF (bad file descriptor)".
func (e Errno) Error() string {
	if in, ok := table[e]; ok {
		return in.name + " (" + in.text + ")"
	}
	return fmt.Sprintf("errno %d", int(e))
}

// ByName returns the errno with the given symbolic name; EWOULDBLOCK is
// accepted for EAGAIN and ENOTSUP for EOPNOTSUPP. The second result is
// false for an unknown name.
func ByName(name string) (Errno, bool) {
	switch name {
	case "EWOULDBLOCK":
		return EAGAIN, true
	case "ENOTSUP":
		return EOPNOTSUPP, true
	}
	for e, in := range table {
		if in.name == name {
			return e, true
		}
	}
	return 0, false
}

// Of returns the Errno inside err, looking through wrapping errors, and
// false when err carries none.
func Of(err error) (Errno, bool) {
	var e Errno
	if errors.As(err, &e) {
		return e, true
	}
	return 0, false
}
