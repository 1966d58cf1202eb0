package ckpt_test

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/sim/kernel"
)

// TestDebugLog: asked for, the log says, by area, what each system call
// did, every record read or written, and for each shared object whether it
// was met for the first time or referred to again, with its objref.
func TestDebugLog(t *testing.T) {
	k := world(t, "spawn 1\npipe 1 = 0 1\nwrite 1 1 \"x\" = 1\ndup 1 0 = 2\nfork 1 2")
	require.NoError(t, k.Freeze(1))
	var ckptLog, restartLog bytes.Buffer
	e := engine(k)
	e.Log = slog.New(slog.NewTextHandler(&ckptLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	var img bytes.Buffer
	_, err := e.Checkpoint(1, &img, 0)
	require.NoError(t, err)
	out := ckptLog.String()
	for _, want := range []string{
		"msg=checkpoint area=syscall pid=1",
		`area=objects type="file table" objref=1`,
		"msg=\"first encounter\" area=objects type=file objref=2",
		"msg=\"first encounter\" area=objects type=pipe objref=3",
		"msg=reference area=objects type=pipe objref=3",
		"msg=reference area=objects type=file objref=2", // fd 2, the dup
		"msg=write area=image offset=0 record=HEADER length=360",
		"record=TAIL length=16",
	} {
		assert.Contains(t, out, want)
	}
	assert.Equal(t, 2, strings.Count(out, `msg=reference area=objects type="file table"`)+
		strings.Count(out, `msg="first encounter" area=objects type="file table"`), "one table per task")

	k2 := kernel.New(kernel.Config{DiskFrom: k})
	e2 := engine(k2)
	e2.Log = slog.New(slog.NewTextHandler(&restartLog, &slog.HandlerOptions{Level: slog.LevelDebug}))
	_, err = e2.Restart(&img, 0)
	require.NoError(t, err)
	out = restartLog.String()
	for _, want := range []string{
		"msg=restart area=syscall",
		"msg=\"first encounter\" area=objects type=file objref=2",
		"msg=\"first encounter\" area=objects type=pipe objref=3",
		"msg=reference area=objects type=file objref=2",
		"msg=read area=image offset=0 record=HEADER length=360",
	} {
		assert.Contains(t, out, want)
	}
}

// TestSilentByDefault: without a logger nothing is logged, not even to
// slog's default logger.
func TestSilentByDefault(t *testing.T) {
	var def bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&def, &slog.HandlerOptions{Level: slog.LevelDebug})))
	defer slog.SetDefault(old)
	k := world(t, "spawn 1\npipe 1 = 0 1")
	img, err := checkpoint(t, k, 1, 0)
	require.NoError(t, err)
	restart(t, k, img)
	assert.Empty(t, def.String())
}
