package kernel_test

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/kernel"
	"github.com/ckptsim/ckptsim/sim/mm"
)

// Private memory after fork: one frame for both tasks until one of them
// stores to it.
func ExampleKernel_Mmap() {
	k := kernel.New(kernel.Config{})
	k.Spawn(1, "init")
	prot, flags := int(mm.ProtRead|mm.ProtWrite), mm.MAP_PRIVATE|mm.MAP_ANONYMOUS
	a, _ := k.Mmap(1, 0x10000000, 4096, prot, flags, -1, 0)
	k.ProcessVMWritev(1, a, []byte("parent"))
	k.Fork(1, 2)
	before, _ := k.SameFrame(1, 2, a)
	k.ProcessVMWritev(2, a, []byte("child!"))
	after, _ := k.SameFrame(1, 2, a)
	mine, _ := k.ProcessVMReadv(1, a, 6)
	line, _ := k.MapsLine(1, a)
	fmt.Printf("%#x %v %v %s\n%s\n", a, before, after, mine, line)
	// Output:
	// 0x10000000 true false parent
	// 10000000-10001000 rw-p 00000000
}
