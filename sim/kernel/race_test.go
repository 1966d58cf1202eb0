package kernel

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/errno"
	"github.com/ckptsim/ckptsim/sim/kref"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// TestConcurrentCalls runs system calls from several goroutines at once on
// one kernel, each goroutine its own task, sharing two pipes, while others
// take views, run the consistency check, copy the disk and freeze and thaw a
// subtree. Every call is atomic, so each worker's private results stay
// exact and Check never sees a half-done call. Run it under -race.
func TestConcurrentCalls(t *testing.T) {
	const (
		workers = 4
		rounds  = 60
	)
	k := New(Config{})
	ktMust(k.Spawn(1, "init"))(t)
	require.Equal(t, [2]int{0, 1}, ktMust(k.Pipe2(1, vfs.O_NONBLOCK))(t))
	require.Equal(t, [2]int{2, 3}, ktMust(k.Pipe2(1, 0))(t))
	for i := range workers {
		ktMust(k.Fork(1, 10+i))(t) // each inherits fds 0 to 3
	}
	ktMust(k.Spawn(50, "frozen-at-times"))(t)
	ktMust(k.Fork(50, 51))(t)

	var wg sync.WaitGroup
	for i := range workers {
		pid := 10 + i
		wg.Go(func() {
			path := fmt.Sprintf("/w%d", pid)
			for j := range rounds {
				// A private file: every result is known.
				fd, err := k.Open(pid, path, vfs.O_RDWR|vfs.O_CREAT|vfs.O_APPEND, 0644)
				assert.NoError(t, err)
				assert.Equal(t, 4, fd, "pid %d", pid)
				n, err := k.Write(pid, fd, []byte{byte(j)})
				assert.NoError(t, err)
				assert.Equal(t, 1, n)
				pos, err := k.Lseek(pid, fd, int64(j), vfs.SEEK_SET)
				assert.NoError(t, err)
				assert.Equal(t, int64(j), pos)
				b, err := k.Read(pid, fd, 1)
				assert.NoError(t, err)
				assert.Equal(t, []byte{byte(j)}, b)
				dup, err := k.Dup(pid, fd)
				assert.NoError(t, err)
				assert.Equal(t, 5, dup)
				_, err = k.Fcntl(pid, dup, F_SETFD, FD_CLOEXEC)
				assert.NoError(t, err)
				assert.NoError(t, k.Flock(pid, fd, vfs.LOCK_EX|vfs.LOCK_NB))
				assert.NoError(t, k.Close(pid, dup))
				assert.NoError(t, k.Close(pid, fd))

				// The shared pipes: results depend on the others.
				if _, err := k.Write(pid, 1, []byte{byte(pid), byte(j)}); err != nil {
					assert.ErrorIs(t, err, errno.EAGAIN)
				}
				if _, err := k.Read(pid, 0, 3); err != nil {
					assert.ErrorIs(t, err, errno.EAGAIN)
				}
				_, err = k.Write(pid, 3, []byte("z"))
				assert.NoError(t, err)
				b, err = k.Read(pid, 2, 1)
				if err != nil {
					assert.ErrorIs(t, err, errno.BLOCKED)
				} else {
					assert.Equal(t, []byte("z"), b)
				}

				// A child that exits and is reaped; pids are allocated
				// concurrently.
				c, err := k.Fork(pid, 0)
				assert.NoError(t, err)
				assert.NoError(t, k.Exit(c, j))
				code, err := k.Wait(pid, c)
				assert.NoError(t, err)
				assert.Equal(t, j, code)

				// Directories, one per worker.
				if j == 0 {
					dir := fmt.Sprintf("/d%d", pid)
					assert.NoError(t, k.Mkdir(pid, dir, 0755))
					assert.NoError(t, k.Chdir(pid, dir))
				}
				_, err = k.Open(pid, "x", vfs.O_RDONLY, 0)
				assert.ErrorIs(t, err, errno.ENOENT)
			}
		})
	}

	stop := make(chan struct{})
	var observers sync.WaitGroup
	observers.Go(func() { // views and checks
		for {
			select {
			case <-stop:
				return
			default:
			}
			v := k.View()
			assert.NotNil(t, v.Task(1))
			assert.NoError(t, k.Check())
		}
	})
	observers.Go(func() { // copies of the disk
		for {
			select {
			case <-stop:
				return
			default:
			}
			c := New(Config{DiskFrom: k})
			assert.NoError(t, c.Check())
		}
	})
	observers.Go(func() { // a subtree frozen and thawed
		for {
			select {
			case <-stop:
				return
			default:
			}
			assert.NoError(t, k.Freeze(50))
			assert.NoError(t, k.Thaw(50))
		}
	})
	observers.Go(func() { // calls of the tasks being frozen
		for {
			select {
			case <-stop:
				return
			default:
			}
			for _, pid := range []int{50, 51} {
				if _, err := k.Dup(pid, 0); !errors.Is(err, errno.EBADF) {
					assert.ErrorIs(t, err, errno.BLOCKED)
				}
			}
		}
	})
	wg.Wait()
	close(stop)
	observers.Wait()

	require.NoError(t, k.Check())
	for _, pid := range []int{10, 11, 12, 13, 51, 50, 1} {
		require.NoError(t, k.Exit(pid, 0))
	}
	require.NoError(t, k.Check())
	for _, kind := range []kref.Kind{kref.File, kref.FileTable, kref.FSState, kref.Pipe, kref.Task} {
		assert.Zero(t, k.Registry().Count(kind), "%v left alive", kind)
	}
}
