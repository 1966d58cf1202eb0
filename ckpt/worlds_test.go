package ckpt_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

// testClock makes images reproducible.
func testClock() time.Time { return time.Unix(1700000000, 0) }

func engine(k *kernel.Kernel) *ckpt.Engine {
	return &ckpt.Engine{Kernel: k, Clock: testClock}
}

// run executes a script's lines on k; every line must give what it says.
func run(t testing.TB, k *kernel.Kernel, script string) {
	t.Helper()
	s, err := scenario.ParseString("world", script)
	require.NoError(t, err)
	require.NoError(t, scenario.Replay(k, s))
}

// world builds a kernel from a script.
func world(t testing.TB, script string) *kernel.Kernel {
	t.Helper()
	k := kernel.New(kernel.Config{})
	run(t, k, script)
	return k
}

// checkpoint freezes the container rooted at pid, checkpoints it, thaws it,
// and checks that the world and its reference counts did not change.
func checkpoint(t testing.TB, k *kernel.Kernel, pid, flags int) ([]byte, error) {
	t.Helper()
	require.NoError(t, k.Freeze(pid))
	before := k.Registry().Snapshot()
	view := k.View()
	var img bytes.Buffer
	_, err := engine(k).Checkpoint(pid, &img, flags)
	require.Equal(t, "", before.Diff(k.Registry().Snapshot()), "checkpoint changed reference counts")
	require.NoError(t, equiv.Equal(view, k.View()), "checkpoint changed the world")
	require.NoError(t, k.Thaw(pid))
	return img.Bytes(), err
}

// restart restarts an image in a fresh kernel on a copy of k's disk.
func restart(t testing.TB, k *kernel.Kernel, img []byte) *kernel.Kernel {
	t.Helper()
	k2 := kernel.New(kernel.Config{DiskFrom: k})
	_, err := engine(k2).Restart(bytes.NewReader(img), 0)
	require.NoError(t, err)
	require.NoError(t, k2.Check())
	return k2
}

// lockstep runs the same lines on two kernels: each line must give the same
// outcome on both.
func lockstep(t testing.TB, a, b *kernel.Kernel, script string) {
	t.Helper()
	s, err := scenario.ParseString("after", script)
	require.NoError(t, err)
	for _, l := range s.Lines {
		oa, ob := scenario.Exec(a, l), scenario.Exec(b, l)
		require.True(t, oa.Equal(ob), "line %d: %s: %s in the original world, %s in the restored one", l.Num, l.Text, oa, ob)
		require.True(t, oa.Matches(l.Expect), "line %d: %s: got %s", l.Num, l.Text, oa)
	}
}
