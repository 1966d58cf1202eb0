// Package vfs is the simulated kernel's virtual filesystem: an in-memory
// directory tree (the disk), open file descriptions, and pipes.
//
// The objects follow Linux's:
//
//   - Inode: a directory, a regular file with its contents and a change
//     counter, or a FIFO. A regular file's contents are also its page
//     cache, which memory mappings (package mm) read and store directly;
//     the inode keeps the past-EOF tail of the last page and the list of
//     its mappings beside them (pagecache.go).
//   - Dentry: a name in the tree. Unlinking a name detaches its dentry; files
//     open on it keep it, and the inode, alive and usable.
//   - File: an open file description (struct file), with status flags, mode
//     bits, position, version counter, flock lock and F_SETOWN owner, and a
//     FileOperations value (f_op) that holds everything specific to its type:
//     regular file, directory, pipe end, FIFO.
//   - Pipe: a pipe inode (pipe_inode_info), a ring of page buffers shared by
//     the files open on it.
//
// Every object carries an explicit reference count (package kref) and is
// counted in its kernel's registry; the comment on each type says who holds
// its references. Errors are errno values from package errno.
//
// The package is not safe for concurrent use on its own: the kernel
// serialises every call into it.
package vfs
