package errno

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// linux lists every errno the package defines with its name and Linux's
// x86-64 number, written out independently of the package's table.
var linux = []struct {
	e    Errno
	name string
	num  int
	text string
}{
	{EPERM, "EPERM", 1, "operation not permitted"},
	{ENOENT, "ENOENT", 2, "no such file or directory"},
	{ESRCH, "ESRCH", 3, "no such process"},
	{EINTR, "EINTR", 4, "interrupted system call"},
	{EIO, "EIO", 5, "input/output error"},
	{ENXIO, "ENXIO", 6, "no such device or address"},
	{E2BIG, "E2BIG", 7, "argument list too long"},
	{ENOEXEC, "ENOEXEC", 8, "exec format error"},
	{EBADF, "EBADF", 9, "bad file descriptor"},
	{ECHILD, "ECHILD", 10, "no child processes"},
	{EAGAIN, "EAGAIN", 11, "resource temporarily unavailable"},
	{ENOMEM, "ENOMEM", 12, "cannot allocate memory"},
	{EACCES, "EACCES", 13, "permission denied"},
	{EFAULT, "EFAULT", 14, "bad address"},
	{EBUSY, "EBUSY", 16, "device or resource busy"},
	{EEXIST, "EEXIST", 17, "file exists"},
	{EXDEV, "EXDEV", 18, "invalid cross-device link"},
	{ENODEV, "ENODEV", 19, "no such device"},
	{ENOTDIR, "ENOTDIR", 20, "not a directory"},
	{EISDIR, "EISDIR", 21, "is a directory"},
	{EINVAL, "EINVAL", 22, "invalid argument"},
	{ENFILE, "ENFILE", 23, "too many open files in system"},
	{EMFILE, "EMFILE", 24, "too many open files"},
	{ENOTTY, "ENOTTY", 25, "inappropriate ioctl for device"},
	{EFBIG, "EFBIG", 27, "file too large"},
	{ENOSPC, "ENOSPC", 28, "no space left on device"},
	{ESPIPE, "ESPIPE", 29, "illegal seek"},
	{EROFS, "EROFS", 30, "read-only file system"},
	{EMLINK, "EMLINK", 31, "too many links"},
	{EPIPE, "EPIPE", 32, "broken pipe"},
	{ERANGE, "ERANGE", 34, "numerical result out of range"},
	{ENAMETOOLONG, "ENAMETOOLONG", 36, "file name too long"},
	{ENOSYS, "ENOSYS", 38, "function not implemented"},
	{ENOTEMPTY, "ENOTEMPTY", 39, "directory not empty"},
	{ELOOP, "ELOOP", 40, "too many levels of symbolic links"},
	{ENOMSG, "ENOMSG", 42, "no message of desired type"},
	{EOVERFLOW, "EOVERFLOW", 75, "value too large for defined data type"},
	{ENOTSOCK, "ENOTSOCK", 88, "socket operation on non-socket"},
	{EMSGSIZE, "EMSGSIZE", 90, "message too long"},
	{ESOCKTNOSUPPORT, "ESOCKTNOSUPPORT", 94, "socket type not supported"},
	{EOPNOTSUPP, "EOPNOTSUPP", 95, "operation not supported"},
	{ECONNRESET, "ECONNRESET", 104, "connection reset by peer"},
	{ENOTCONN, "ENOTCONN", 107, "transport endpoint is not connected"},
	{ECONNREFUSED, "ECONNREFUSED", 111, "connection refused"},
	{ESTALE, "ESTALE", 116, "stale file handle"},
}

func TestNamesNumbersAndText(t *testing.T) {
	for _, c := range linux {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.num, int(c.e), "Linux's number")
			assert.Equal(t, c.name, c.e.Name())
			assert.Equal(t, c.name+" ("+c.text+")", c.e.Error())
			got, ok := ByName(c.name)
			require.True(t, ok, "ByName(%q)", c.name)
			assert.Equal(t, c.e, got, "the name round-trips")
		})
	}
	// The list above is the whole table: no errno is known to Name that the
	// list forgot, so every known name has been round-tripped.
	assert.Len(t, table, len(linux)+1, "the table holds the Linux errnos and BLOCKED")
}

func TestEveryTableEntryRoundTrips(t *testing.T) {
	for e, in := range table {
		got, ok := ByName(in.name)
		require.True(t, ok, in.name)
		assert.Equal(t, e, got, in.name)
		assert.Equal(t, in.name, got.Name())
	}
}

func TestENOTSUPIsEOPNOTSUPP(t *testing.T) {
	got, ok := ByName("ENOTSUP")
	require.True(t, ok)
	assert.Equal(t, EOPNOTSUPP, got)
	assert.Equal(t, "EOPNOTSUPP", ENOTSUP.Name())
}

func TestEWOULDBLOCKIsEAGAIN(t *testing.T) {
	assert.Equal(t, EAGAIN, EWOULDBLOCK)
	got, ok := ByName("EWOULDBLOCK")
	require.True(t, ok)
	assert.Equal(t, EAGAIN, got)
	assert.Equal(t, "EAGAIN", EWOULDBLOCK.Name(), "EAGAIN is the name Name gives")
	assert.True(t, errors.Is(EWOULDBLOCK, EAGAIN))
}

func TestUnknown(t *testing.T) {
	for _, name := range []string{"", "EFOO", "ebadf", "EBADF ", "errno 9", "BLOCKEDX", "9"} {
		e, ok := ByName(name)
		assert.False(t, ok, "ByName(%q)", name)
		assert.Equal(t, Errno(0), e, "ByName(%q)", name)
	}
	for _, c := range []struct {
		e    Errno
		want string
	}{
		{0, "errno 0"},
		{15, "errno 15"}, // ENOTBLK: a Linux errno the simulator does not use
		{200, "errno 200"},
		{-3, "errno -3"},
		{BLOCKED + 1, fmt.Sprintf("errno %d", 1<<16+1)},
	} {
		assert.Equal(t, c.want, c.e.Name())
		assert.Equal(t, c.want, c.e.Error())
	}
}

func TestBlockedIsNoLinuxErrno(t *testing.T) {
	assert.Equal(t, "BLOCKED", BLOCKED.Name())
	assert.Equal(t, "BLOCKED (the call would block)", BLOCKED.Error())
	got, ok := ByName("BLOCKED")
	require.True(t, ok)
	assert.Equal(t, BLOCKED, got)
	// Linux's errno values stop below MAX_ERRNO (4095): BLOCKED is outside
	// the range any real error return can take.
	assert.Greater(t, int(BLOCKED), 4095)
	for _, c := range linux {
		assert.NotEqual(t, c.e, BLOCKED, c.name)
		assert.False(t, errors.Is(BLOCKED, c.e), "BLOCKED is %s", c.name)
		assert.False(t, errors.Is(c.e, BLOCKED), "%s is BLOCKED", c.name)
	}
	assert.False(t, errors.Is(fmt.Errorf("read: %w", BLOCKED), EAGAIN))
}

func TestOf(t *testing.T) {
	plain := errors.New("not an errno")
	for _, c := range []struct {
		name string
		err  error
		want Errno
		ok   bool
	}{
		{"nil", nil, 0, false},
		{"plain error", plain, 0, false},
		{"errno itself", EBADF, EBADF, true},
		{"BLOCKED", BLOCKED, BLOCKED, true},
		{"wrapped", fmt.Errorf("close(3): %w", EBADF), EBADF, true},
		{"wrapped twice", fmt.Errorf("outer: %w", fmt.Errorf("inner: %w", ENOENT)), ENOENT, true},
		{"formatted with %v, not wrapped", fmt.Errorf("close: %v", EBADF), 0, false},
		{"joined after a plain error", errors.Join(plain, EPIPE), EPIPE, true},
		{"joined, the first errno wins", errors.Join(EINVAL, EBADF), EINVAL, true},
		{"join inside a wrap", fmt.Errorf("set regs: %w", errors.Join(plain, fmt.Errorf("cs: %w", EINVAL))), EINVAL, true},
		{"two %w", fmt.Errorf("%w and %w", plain, EMFILE), EMFILE, true},
		{"join of nothing", errors.Join(plain), 0, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := Of(c.err)
			assert.Equal(t, c.ok, ok)
			assert.Equal(t, c.want, got)
			if c.ok {
				assert.True(t, errors.Is(c.err, c.want), "errors.Is agrees with Of")
			}
		})
	}
}
