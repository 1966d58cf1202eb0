package mm

import (
	"fmt"

	"github.com/ckptsim/ckptsim/sim/vfs"
)

// Line returns v's line of /proc/PID/maps without the device and inode
// columns: "START-END PERMS OFFSET", then a space and the name when there
// is one. Addresses are in at least 8 hex digits; PERMS is the protection
// and "s" for shared or "p" for private; OFFSET, in 8 hex digits, is the
// byte offset in the file or segment (0 for private anonymous memory). The
// name is the file's path as a task whose root is root sees it, with
// " (deleted)" once unlinked; "/dev/zero (deleted)" for shared anonymous
// memory, as Linux names its shmem file; "[heap]" for the heap.
func (m *MM) Line(v *VMA, root *vfs.Dentry) string {
	var off uint64
	if v.file != nil || v.seg != nil {
		off = v.pgoff * PageSize
	}
	perm := "p"
	if v.Shared() {
		perm = "s"
	}
	line := fmt.Sprintf("%08x-%08x %s%s %08x", v.start, v.end, v.prot, perm, off)
	switch {
	case v.file != nil:
		d := v.file.Dentry()
		p, ok := d.PathFrom(root)
		if !ok {
			p = d.Path()
		} else if d.Unlinked() {
			p += " (deleted)"
		}
		line += " " + p
	case v.seg != nil:
		line += " /dev/zero (deleted)"
	case m.IsHeap(v):
		line += " [heap]"
	}
	return line
}
