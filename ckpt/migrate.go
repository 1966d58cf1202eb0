package ckpt

import (
	"bytes"

	"github.com/ckptsim/ckptsim/sim/kernel"
)

// Snapshot is what a checkpoint line of a script does: it freezes the
// container rooted at pid, checkpoints it into memory and thaws it again,
// even when the checkpoint is refused, so that the world goes on either
// way. The image of a refused checkpoint ends with its error record (it is
// empty when nothing was written). A failed freeze is returned as it is,
// with no image.
func (e *Engine) Snapshot(pid, flags int) ([]byte, error) {
	if err := e.Kernel.Freeze(pid); err != nil {
		return nil, err
	}
	var img bytes.Buffer
	_, err := e.Checkpoint(pid, &img, flags)
	if terr := e.Kernel.Thaw(pid); err == nil {
		err = terr
	}
	return img.Bytes(), err
}

// RestartCopy restarts img in a fresh kernel whose disk is a copy of
// disk's, the disk the checkpointed world saw, as a second machine with
// the same files would. The new kernel's engine has e's clock and log. It
// returns the new kernel (also on failure, to inspect what was left) and
// the restored container's root pid.
func (e *Engine) RestartCopy(disk *kernel.Kernel, img []byte, flags int) (*kernel.Kernel, int, error) {
	k := kernel.New(kernel.Config{DiskFrom: disk})
	root, err := e.on(k).Restart(bytes.NewReader(img), flags)
	return k, root, err
}

// Migration is a container moved by Migrate: the image it went through,
// the kernel it lives in now and its root pid there.
type Migration struct {
	Image  []byte
	Kernel *kernel.Kernel
	Root   int
}

// Migrate moves the container rooted at pid from e's kernel into a fresh
// kernel on a copy of the disk: Snapshot, then RestartCopy. The original
// world is left as it was, thawed. On failure the error is the refused
// checkpoint's or the failed restart's (an *Error naming the call), and
// the Migration holds what was made before it.
func (e *Engine) Migrate(pid, checkpointFlags, restartFlags int) (*Migration, error) {
	img, err := e.Snapshot(pid, checkpointFlags)
	m := &Migration{Image: img}
	if err != nil {
		return m, err
	}
	m.Kernel, m.Root, err = e.RestartCopy(e.Kernel, img, restartFlags)
	return m, err
}

// on returns an engine like e on another kernel.
func (e *Engine) on(k *kernel.Kernel) *Engine {
	return &Engine{Kernel: k, Clock: e.Clock, Log: e.Log, Compress: e.Compress}
}
