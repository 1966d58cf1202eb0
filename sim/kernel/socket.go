package kernel

import (
	"github.com/ckptsim/ckptsim/sim/socket"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Socketpair creates a pair of connected AF_UNIX sockets, as
// socketpair(AF_UNIX, typ, 0, sv): typ is SOCK_STREAM, SOCK_DGRAM or
// SOCK_SEQPACKET, with SOCK_NONBLOCK and SOCK_CLOEXEC. It returns the two
// descriptors, the lowest free ones. Unknown flags are EINVAL, a type
// AF_UNIX lacks ESOCKTNOSUPPORT, no free descriptor EMFILE.
func (k *Kernel) Socketpair(pid, typ int) ([2]int, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	fds, err := k.socketpair(pid, typ)
	return fds, fail(pid, "socketpair", err, typ)
}

func (k *Kernel) socketpair(pid, typ int) ([2]int, error) {
	t, err := k.caller(pid)
	if err != nil {
		return [2]int{}, err
	}
	a, b, err := socket.NewPair(k.reg, typ)
	if err != nil {
		return [2]int{}, err
	}
	cloexec := typ&socket.SOCK_CLOEXEC != 0
	files := t.Files()
	var fds [2]int
	for i, f := range []*vfs.File{a, b} {
		if fds[i], err = files.Alloc(0, k.noFile); err != nil {
			if i == 1 {
				files.Remove(fds[0])
			}
			a.Put()
			b.Put()
			return [2]int{}, err
		}
		files.Install(fds[i], f, cloexec)
	}
	return fds, nil
}

// Shutdown shuts down part of a socket's connection, as shutdown(2): how is
// SHUT_RD, SHUT_WR or SHUT_RDWR (EINVAL otherwise). EBADF for a descriptor
// not open, ENOTSOCK for one that is no socket.
func (k *Kernel) Shutdown(pid, fd, how int) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	_, f, err := k.fileOf(pid, fd)
	if err == nil {
		err = socket.Shutdown(f, how)
	}
	return fail(pid, "shutdown", err, fd, how)
}
