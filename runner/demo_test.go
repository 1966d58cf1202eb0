package runner

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ckptsim/ckptsim/scenario"
	"github.com/ckptsim/ckptsim/sim/kernel"
)

func TestDemo(t *testing.T) {
	var out bytes.Buffer
	start := time.Now()
	require.NoError(t, Demo(&out))
	assert.Less(t, time.Since(start), 500*time.Millisecond)
	got := out.String()
	for _, want := range []string{
		"  24  exit 4 7 ",
		"Checkpoint of the container rooted at pid 1: ",
		"checksum matches",
		"  it holds 4 tasks (3 live, 1 zombie), 2 file tables, 8 descriptors, 3 fs states,\n" +
			"    4 files (2 pipe, 2 regular), 1 pipe, 9 pipe bytes, 1 unlinked file, 3 address spaces, 9 VMAs,\n" +
			"    8192 page bytes, 1 segment\n",
		"the kernel's consistency check passes",
		"equiv.Equal: the restored world is the original",
		"ok    tasks and tree     4 tasks: 1 init (2 worker; 3 init; 4 zombie, exit 7)",
		"ok    fd numbers         pids 1,2: 0 1* 2 3 4; pid 3: 0 1* 2",
		"ok    shared file table  2 tables; pids 1,2 share one (2 references)",
		"/data pos 12 by 1:0 1:1 3:0 3:1",
		`ok    pipe bytes         1 pipe: "in flight"`,
		`/scratch (deleted): "ghost contents"`,
		"ok    address spaces     3 address spaces; pid 1, pid 2, pid 3: private rw-, shared rw-, /data r--",
		// The page written before the forks is one frame in three address
		// spaces, saved once (8192 page bytes: it and the segment's).
		`ok    shared memory      "before fork" at 0x10000000 in pids 1,2,3 (copy on write); segment of 1 page "shared memory" in pids 1,2,3`,
		"pid 1 rip=0x401000 rsp=0x7ffd0000 rax=0x2a; pid 2 rip=0x401000 rsp=0x7ffd0000 rax=0x0",
		"ok    reference counts   ",
		"The restored world goes on:",
		`  27  read 3 2 16 `,
		`= "in flight"`,
		"  32  sameframe 1 3 0x10000000                         = 1",
		`  37  memread 2 0x10020000 5                           = "hello"`,
		"  38  wait 1 4                                         = 7",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotContains(t, got, "DIFF")
}

// The demo's script is a script like any other: it passes verify.
func TestDemoScriptVerifies(t *testing.T) {
	s, err := scenario.ParseString(DemoName, DemoScript())
	require.NoError(t, err)
	res, err := Verify(s)
	require.NoError(t, err)
	assert.Equal(t, 1, res.Checkpoints)
}

// The facts the demo prints tell worlds apart: each one changes when the
// world changes in what it renders.
func TestFactsSeeDifferences(t *testing.T) {
	build := func(extra string) []fact {
		k := kernel.New(kernel.Config{})
		s, err := scenario.ParseString("w", demoSource+extra)
		require.NoError(t, err)
		require.NoError(t, scenario.Replay(k, s))
		return facts(k.View())
	}
	base := build("")
	tests := []struct{ extra, changes string }{
		{"fork 1 9\n", "tasks and tree"},
		{"dup2 1 0 7\n", "fd numbers"},
		{"fcntl 1 0 F_SETFD FD_CLOEXEC\n", "fd numbers"},
		{"clone 1 9 CLONE_FILES\n", "shared file table"},
		{"lseek 1 0 1 SEEK_SET\n", "fds sharing a file"},
		{"pipe 1\nwrite 1 6 \"more\"\n", "pipe bytes"},
		{"open 1 /gone O_RDWR|O_CREAT 0600\nunlink 1 /gone\n", "unlinked files"},
		{"munmap 2 0x10020000 4096\n", "address spaces"},
		{"mprotect 3 0x10000000 4096 PROT_READ\n", "address spaces"},
		{"clone 1 9 CLONE_VM\n", "address spaces"},
		{"memwrite 2 0x10000000 \"x\"\n", "shared memory"},
		{"munmap 3 0x10010000 4096\n", "shared memory"},
		{"memwrite 2 0x10010000 \"x\"\n", "shared memory"},
		{"regs 3 rip=0x402000\n", "registers"},
		{"open 1 /data O_RDONLY\n", "reference counts"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimSpace(tt.extra), func(t *testing.T) {
			changed := build(tt.extra)
			found := false
			for i, f := range base {
				if f.name == tt.changes {
					found = true
					assert.NotEqual(t, f.text, changed[i].text)
				}
			}
			assert.True(t, found, "no fact %q", tt.changes)
		})
	}
}

// A socket pair's ends are named as such, not as pipe ends.
func TestFactsNameSocketEnds(t *testing.T) {
	k := kernel.New(kernel.Config{})
	s, err := scenario.ParseString("w", "spawn 1\nsocketpair 1 SOCK_STREAM = 0 1\nfork 1 2\n")
	require.NoError(t, err)
	require.NoError(t, scenario.Replay(k, s))
	assert.Equal(t, "2 files; shared: socket end 0 pos 0 by 1:0 2:0; socket end 1 pos 0 by 1:1 2:1", sharedFiles(k.View(), tableOwners(k.View())))
}

// Tasks that share an address space (CLONE_VM) share its pages by sharing
// it: that is no copy on write, and their address space is said once.
func TestFactsMemoryCloneVM(t *testing.T) {
	k := kernel.New(kernel.Config{})
	s, err := scenario.ParseString("w", `spawn 1
mmap 1 0x10000000 4096 PROT_READ|PROT_WRITE MAP_PRIVATE|MAP_ANONYMOUS = 0x10000000
memwrite 1 0x10000000 "mine" = 4
clone 1 2 CLONE_VM
fork 1 3
`)
	require.NoError(t, err)
	require.NoError(t, scenario.Replay(k, s))
	v := k.View()
	assert.Equal(t, "2 address spaces; pids 1,2, pid 3: private rw-", addressSpaces(v))
	assert.Equal(t, `"mine" at 0x10000000 in pids 1,2,3 (copy on write)`, sharedMemory(v), "one frame in two address spaces")
	require.NoError(t, k.Exit(3, 0))
	assert.Equal(t, "none", sharedMemory(k.View()), "one address space, two tasks: no copy on write")
}
