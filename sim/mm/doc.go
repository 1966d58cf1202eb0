// Package mm is a task's address space: the memory a Linux process maps
// with mmap and brk, its page frames, copy-on-write after fork, shared
// memory, and files mapped into memory.
//
// The objects follow Linux's, with its names:
//
//   - MM (mm_struct): the address space of one or more tasks (fork copies
//     it, clone with CLONE_VM shares it): its VMAs, its page table of
//     private pages, and the program break.
//   - VMA (vm_area_struct): a range of pages with one protection and one
//     backing: private anonymous memory, a shared Segment, or an open file
//     (a counted reference: a mapping keeps the open file, and its flock
//     lock, alive after close). VMAs are sorted, disjoint and merged when
//     compatible, as Linux merges them (merge.go).
//   - Frame (a page): 4096 bytes with a map count and a serial number that
//     is never reused. A private page that was never written has no frame
//     and reads 0; after fork parent and child map the same frame until one
//     of them writes it (copy on write).
//   - Segment (the shmem inode behind MAP_SHARED|MAP_ANONYMOUS): pages that
//     every VMA mapping it shares; it lives while any VMA maps it.
//   - File pages are the inode's bytes (package vfs's page cache): a shared
//     mapping reads and stores the file itself; a private one reads the
//     file until its first store copies the page.
//
// Every access to task memory, by a system call (read(2) into a buffer,
// process_vm_readv) or by anything else, goes through one path, Access
// (access.go), which applies the protections as the CPU or
// get_user_pages would and faults as Linux does.
//
// The system calls themselves (mmap, munmap, mprotect, mremap, madvise,
// msync, brk) are methods of MM that return Linux's errno values; package
// kernel resolves descriptors and tasks and calls them. Every answer that
// a program could see was measured on Linux 6.18 (x86-64); the design
// notes are in the project's memory design and the conformance scripts.
//
// Every MM, Segment and Frame is counted (package kref) and entered in its
// kernel's registry. MM references are held by tasks, Segment references by
// VMAs, Frame references by page-table entries and segment slots (so a
// frame's reference count is its map count); a VMA holds a reference to its
// file. Check verifies an MM's own invariants; the kernel's check recounts
// the references.
//
// Not modelled (EINVAL where a call asks for it): huge pages (MAP_HUGETLB
// gives ENOMEM, as on a machine with none reserved), MAP_GROWSDOWN,
// MAP_LOCKED and mlock, MAP_32BIT, MAP_DROPPABLE, MREMAP_DONTUNMAP, advice
// other than MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED and
// MADV_DONTNEED; memory accounting (no overcommit limit: a mapping of any
// size below TASK_SIZE succeeds); the zero page; transparent huge pages and
// the alignment Linux gives large mappings; MAP_POPULATE's prefaulting; the
// stack, vdso and program image (there is no exec).
//
// The package is not safe for concurrent use: the kernel serialises every
// call.
package mm
