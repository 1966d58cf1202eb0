package equiv_test

import (
	"fmt"

	"github.com/ckptsim/ckptsim/ckpt"
	"github.com/ckptsim/ckptsim/equiv"
	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/vfs"
)

// A world and its restored copy are the same world: Equal finds no
// difference. Pair says which object became which.
func ExampleEqual() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	k.Pipe2(1, 0)
	k.Clone(1, 2, kernel.CLONE_FILES, "worker")

	m, _ := ckpt.New(k).Migrate(1, 0, 0)
	fmt.Println(equiv.Equal(k.View(), m.Kernel.View()))
	pairs := equiv.Pair(k.View(), m.Kernel.View(), 0)
	fmt.Println(len(pairs[equiv.PairFileTable]), "file table,", len(pairs[equiv.PairFile]), "files,", len(pairs[equiv.PairPipe]), "pipe paired")
	// Output:
	// <nil>
	// 1 file table, 2 files, 1 pipe paired
}

// Two worlds that differ: each difference is a line naming the path to it
// and both values. Here the second world's fork copied the table where the
// first's clone shared it.
func ExampleEqual_differences() {
	a := kernel.New(kernel.Config{})
	a.Spawn(1, "init")
	a.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0o644)
	a.Clone(1, 2, kernel.CLONE_FILES, "init")

	b := kernel.New(kernel.Config{})
	b.Spawn(1, "init")
	b.Open(1, "/f", vfs.O_RDWR|vfs.O_CREAT, 0o644)
	b.Fork(1, 2)

	err := equiv.Equal(a.View(), b.View())
	fmt.Println(err)
	// Output:
	// worlds differ:
	//   pid 1 file table references: 2 != 1
	//   pid 1 fd 0 file references: 1 != 2
	//   pid 2: sharing differs: this file table is shared differently in the two worlds
	//   live file table objects: 1 != 2
}
