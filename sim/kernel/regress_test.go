package kernel

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// A refused Spawn's error names the pid asked for (it once named 0).
func TestSpawnErrorNamesTheRequestedPid(t *testing.T) {
	k := New(Config{PidMax: 100})
	_, err := k.Spawn(1, "init")
	require.NoError(t, err)
	for _, tc := range []struct {
		pid  int
		want string
	}{
		{-1, "spawn(-1): EINVAL (invalid argument)"},
		{100, "spawn(100): EINVAL (invalid argument)"},
		{1, "spawn(1): EEXIST (file exists)"},
	} {
		_, err := k.Spawn(tc.pid, "x")
		assert.EqualError(t, err, tc.want)
		var ke *Error
		require.ErrorAs(t, err, &ke)
		assert.Equal(t, []any{tc.pid}, ke.Args)
	}
}

// With pid_max 1 there is no valid pid (Spawn(0) once handed out 1).
func TestPidMaxOneLeavesNoPid(t *testing.T) {
	k := New(Config{PidMax: 1})
	pid, err := k.Spawn(0, "x")
	assert.ErrorIs(t, err, errno.EAGAIN, "got pid %d, pid_max is 1", pid)
}

// dup3 looks at the caller before its arguments, so a frozen task gets
// BLOCKED and a task that does not exist ESRCH (both once got EINVAL).
func TestDup3ChecksTheCallerFirst(t *testing.T) {
	k := New(Config{})
	_, err := k.Spawn(1, "init")
	require.NoError(t, err)
	_, err = k.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0644)
	require.NoError(t, err)
	require.NoError(t, k.Freeze(1))
	_, err = k.Dup3(1, 0, 0, 0)
	assert.ErrorIs(t, err, errno.BLOCKED, "dup3 by a frozen task, equal fds")
	_, err = k.Dup3(1, 0, 5, vfs.O_APPEND)
	assert.ErrorIs(t, err, errno.BLOCKED, "dup3 by a frozen task, bad flags")
	_, err = k.Dup3(99, 0, 0, 0)
	assert.ErrorIs(t, err, errno.ESRCH, "dup3 by no task")
}

func TestWriteFileOverAFIFO(t *testing.T) {
	k := New(Config{})
	_, err := k.Spawn(1, "init")
	require.NoError(t, err)
	require.NoError(t, k.Mkfifo(1, "/q", 0644))
	err = k.WriteFile("/q", []byte("x"), 0644)
	assert.ErrorIs(t, err, errno.EINVAL)
	assert.Contains(t, err.Error(), "/q is not a regular file")
}
