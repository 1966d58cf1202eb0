// Package hostlinux runs scenario scripts on the host's Linux kernel: every
// task of a script a real process, created with the script's clone flags
// (CLONE_FILES, CLONE_FS and CLONE_VM share for real), every line the real
// system call, inside a private root (a mount namespace and a chroot into
// a fresh temporary directory, removed afterwards). A call that would
// block is interrupted after a short bound (50 ms) and reported BLOCKED,
// as the simulator reports it. Lines the host cannot answer (checkpoint,
// regs, brk, and memory calls on the agent's own memory) are skipped.
//
// Go cannot clone a process that shares its file table safely, so the
// tasks are made by a small C agent (agent.c, embedded), which the package
// builds with the system C compiler on first use and caches under the
// user's cache directory, keyed by a hash of its source. It needs Linux on
// x86-64, root, and a C compiler; without them every entry point returns an
// error wrapping ErrUnavailable.
package hostlinux
