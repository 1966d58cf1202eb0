// agent.c: the host side of package hostlinux. The Go side starts it with
// a socket on descriptor 3 and drives it with fixed-size binary requests
// (struct req, then req.len bytes of data), each answered by a struct resp
// and resp.len bytes. The agent (the coordinator) makes every task of a
// script a real process with raw clone(), with the script's sharing flags,
// and has the task make each call itself.
//
// Tasks never touch libc state: they run on stacks of their own, in a
// region mapped before any task exists, and make only raw system calls
// (no errno, no stdio, no malloc), because a CLONE_VM task shares its
// parent's whole address space, libc's thread state included. A task holds
// no descriptor of the agent's: its file table is the script's alone. The
// coordinator and the tasks talk through a shared memory mailbox, one slot
// per task, with futexes. Data for a call (a path, bytes to write, bytes
// read) goes through one shared buffer whose address the Go side knows,
// so it builds every pointer argument itself.
//
// x86-64 only: the raw system call and clone trampolines are assembly.
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <poll.h>
#include <unistd.h>

#if !defined(__x86_64__)
#error "the hostlinux agent supports x86-64 only"
#endif

enum {
	OP_INIT = 1,   // data: the root directory; a[0]: RLIMIT_NOFILE. ret 0; out: struct initinfo
	OP_SPAWN = 2,  // slot: the new task's. ret: its pid
	OP_CLONE = 3,  // slot: the parent; a[0]: flags; a[1]: the child's slot. ret: its pid
	OP_CALL = 4,   // slot: the caller; nr, a[0..5]; data copied to the buffer first; out: a[6] bytes of the buffer, or ret bytes when a[6] < 0
	OP_EXIT = 5,   // slot: the task; a[0]: code; a[1]: its pid. ret 0 once it has exited
	OP_PROC = 6,   // a[0]: pid; a[1]: offset; a[2]: count; data: the file under /proc/PID. out: the bytes
};

#define NSLOTS 1024
#define STACK_SIZE (64 * 1024)
#define BUF_SIZE (64L << 20)

struct req {
	uint32_t op, slot;
	int64_t nr;
	int64_t a[7];
	uint32_t len, pad;
};

struct resp {
	int64_t ret;
	uint32_t len, blocked; // blocked: 1 the call was interrupted, 2 the task died or hung
};

struct initinfo {
	uint64_t buf, bufsize;
	uint64_t nofile;    // RLIMIT_NOFILE of every task
	uint64_t nres;
	uint64_t res[64][2]; // the agent's own mappings, which a script must not touch
};

enum { IDLE = 0, REQ = 1, DONE = 2 };

struct slot {
	int state;
	int pad;
	int64_t op, nr, a[7];
	int64_t ret;
	int64_t blocked;
};

static struct slot *slots;  // shared: NSLOTS of them
static char *buf;           // shared: the data buffer
static char *stacks;        // private: NSLOTS stacks
static char rootdir[4096];
static int ctl = 3;

// ---------------------------------------------------------- raw system calls

static inline long sys6(long nr, long a, long b, long c, long d, long e, long f)
{
	long ret;
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}

#define sys0(n) sys6(n, 0, 0, 0, 0, 0, 0)
#define sys1(n, a) sys6(n, (long)(a), 0, 0, 0, 0, 0)
#define sys2(n, a, b) sys6(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define sys3(n, a, b, c) sys6(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define sys4(n, a, b, c, d) sys6(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

// raw_clone runs fn(arg) in a new process on the stack ending at top, and
// returns the child's pid (or -errno) in the parent. The child never
// returns from here: it exits with fn's result.
static long raw_clone(unsigned long flags, char *top, int (*fn)(void *), void *arg)
{
	void **sp = (void **)top;
	*--sp = arg;
	*--sp = (void *)fn;
	long ret;
	register long r10 __asm__("r10") = 0;
	register long r8 __asm__("r8") = 0;
	__asm__ volatile("syscall\n\t"
			 "test %%rax, %%rax\n\t"
			 "jnz 1f\n\t"
			 "xor %%ebp, %%ebp\n\t"
			 "pop %%rax\n\t"
			 "pop %%rdi\n\t"
			 "call *%%rax\n\t"
			 "mov %%eax, %%edi\n\t"
			 "mov $60, %%eax\n\t"
			 "syscall\n\t"
			 "hlt\n\t"
			 "1:\n\t"
			 : "=a"(ret)
			 : "a"((long)SYS_clone), "D"(flags), "S"(sp), "d"(0L), "r"(r10), "r"(r8)
			 : "rcx", "r11", "memory");
	return ret;
}

static void futex_wait(int *addr, int val, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	sys6(SYS_futex, (long)addr, FUTEX_WAIT, val, ms >= 0 ? (long)&ts : 0, 0, 0);
}

static void futex_wake(int *addr) { sys6(SYS_futex, (long)addr, FUTEX_WAKE, 1 << 30, 0, 0, 0); }

// ---------------------------------------------------------------- the tasks

static void on_alarm(int sig) { (void)sig; }

// timer arms (or, with ms 0, disarms) the interval timer that interrupts a
// call that would block: the first expiry after ms, then every ms, so that
// an expiry that comes before the call has started cannot leave it blocked.
static void timer(long ms)
{
	struct itimerval it = {{0, ms * 1000}, {0, ms * 1000}};
	sys3(SYS_setitimer, ITIMER_REAL, &it, 0);
}

static long block_ms = 50;
static long coordinator; // the agent's pid: a task outliving it exits


static int task_main(void *arg)
{
	long idx = (long)arg;
	struct slot *s = &slots[idx];
	if (s->op == OP_SPAWN) {
		// A top-level task: no descriptor of the agent's, inside the root.
		sys3(SYS_close_range, 0, ~0U, 0);
		sys1(SYS_chroot, rootdir);
		sys1(SYS_chdir, "/");
		__atomic_store_n(&s->state, DONE, __ATOMIC_SEQ_CST);
		futex_wake(&s->state);
	}
	for (;;) {
		int st;
		while ((st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST)) != REQ) {
			futex_wait(&s->state, st, 1000);
			if (sys2(SYS_kill, coordinator, 0) == -ESRCH)
				for (;;)
					sys1(SYS_exit, 1);
		}
		long ret = 0, blocked = 0;
		switch (s->op) {
		case OP_CALL:
			timer(block_ms);
			ret = sys6(s->nr, s->a[0], s->a[1], s->a[2], s->a[3], s->a[4], s->a[5]);
			timer(0);
			if (ret == -EINTR)
				blocked = 1;
			break;
		case OP_CLONE: {
			long child = s->a[1];
			slots[child].op = OP_CLONE;
			ret = raw_clone((unsigned long)s->a[0] | SIGCHLD, stacks + (child + 1) * STACK_SIZE, task_main, (void *)child);
			break;
		}
		case OP_EXIT:
			s->ret = 0;
			__atomic_store_n(&s->state, DONE, __ATOMIC_SEQ_CST);
			futex_wake(&s->state);
			for (;;)
				sys1(SYS_exit, s->a[0]);
		default:
			ret = -ENOSYS;
		}
		s->ret = ret;
		s->blocked = blocked;
		__atomic_store_n(&s->state, DONE, __ATOMIC_SEQ_CST);
		futex_wake(&s->state);
	}
	return 0;
}

// ---------------------------------------------------------- the coordinator

static int readfull(int fd, void *p, size_t n)
{
	char *c = p;
	while (n > 0) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= r;
	}
	return 0;
}

static int writefull(int fd, const void *p, size_t n)
{
	const char *c = p;
	while (n > 0) {
		ssize_t r = write(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		c += r;
		n -= r;
	}
	return 0;
}

static void reply(int64_t ret, const void *data, uint32_t len, uint32_t blocked)
{
	struct resp r = {ret, len, blocked};
	if (writefull(ctl, &r, sizeof r) < 0 || (len && writefull(ctl, data, len) < 0))
		_exit(1);
}

// reap collects every zombie child of the agent: top-level tasks that
// exited and the orphans it adopted as their subreaper, which the script
// sees reaped at once.
static void reap(void)
{
	while (waitpid(-1, NULL, WNOHANG | __WALL) > 0)
		;
}

// await waits for slot's task to answer; it gives -ESRCH when the task
// died before it did (pidfd readable), -ETIMEDOUT after 20 s.
static long await(long idx, int pidfd)
{
	struct slot *s = &slots[idx];
	for (int i = 0; i < 2000; i++) {
		int st = __atomic_load_n(&s->state, __ATOMIC_SEQ_CST);
		if (st == DONE)
			return 0;
		futex_wait(&s->state, st, 10);
		if (__atomic_load_n(&s->state, __ATOMIC_SEQ_CST) == DONE)
			return 0;
		if (pidfd >= 0) {
			struct pollfd p = {pidfd, POLLIN, 0};
			if (poll(&p, 1, 0) > 0)
				return -ESRCH;
		}
	}
	return -ETIMEDOUT;
}

static int pidfds[NSLOTS];

static long send_task(long idx)
{
	struct slot *s = &slots[idx];
	__atomic_store_n(&s->state, REQ, __ATOMIC_SEQ_CST);
	futex_wake(&s->state);
	return await(idx, pidfds[idx]);
}

static void open_pidfd(long idx, long pid)
{
	if (pidfds[idx] >= 0)
		close(pidfds[idx]);
	pidfds[idx] = (int)syscall(SYS_pidfd_open, pid, 0);
}

static long do_init(struct req *q)
{
	memcpy(rootdir, buf, q->len < sizeof rootdir - 1 ? q->len : sizeof rootdir - 1);
	// RLIMIT_NOFILE as asked; without CAP_SYS_RESOURCE the hard limit
	// cannot rise, and the limit is the hard one (initinfo says which).
	struct rlimit rl = {(rlim_t)q->a[0], (rlim_t)q->a[0]};
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		getrlimit(RLIMIT_NOFILE, &rl);
		if ((rlim_t)q->a[0] < rl.rlim_max)
			rl.rlim_max = (rlim_t)q->a[0];
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			return -errno;
	}
	// A private mount namespace: the root is a bind mount of the temporary
	// directory seen only here, and nothing mounted here reaches the host.
	if (unshare(CLONE_NEWNS) < 0)
		return -errno;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return -errno;
	if (mount(rootdir, rootdir, NULL, MS_BIND, NULL) < 0)
		return -errno;
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		return -errno;
	umask(0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; // no SA_RESTART: a blocked call returns EINTR
	sigaction(SIGALRM, &sa, NULL);
	// Signals are not modelled: a write without a reader is EPIPE and
	// the task goes on, and a file with O_ASYNC and an owner (F_SETOWN)
	// must not kill its owner with SIGIO.
	signal(SIGPIPE, SIG_IGN);
	signal(SIGIO, SIG_IGN);
	return 0;
}

static int proc_maps_self(struct initinfo *ii)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return -1;
	char text[65536];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof text - 1 && (r = read(fd, text + n, sizeof text - 1 - n)) > 0)
		n += r;
	close(fd);
	text[n] = 0;
	ii->nres = 0;
	for (char *l = text; *l && ii->nres < 64;) {
		ii->res[ii->nres][0] = strtoull(l, &l, 16);
		ii->res[ii->nres][1] = strtoull(l + 1, &l, 16);
		ii->nres++;
		while (*l && *l != '\n')
			l++;
		if (*l)
			l++;
	}
	return 0;
}

int main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (int i = 0; i < NSLOTS; i++)
		pidfds[i] = -1;
	coordinator = getpid();
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	slots = mmap(NULL, sizeof(struct slot) * NSLOTS, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	buf = mmap(NULL, BUF_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	stacks = mmap(NULL, (size_t)STACK_SIZE * NSLOTS, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (slots == MAP_FAILED || buf == MAP_FAILED || stacks == MAP_FAILED)
		return 1;
	struct req q;
	for (;;) {
		if (readfull(ctl, &q, sizeof q) < 0) {
			// The Go side is done: kill every task (the orphans of
			// killed tasks come back here, their subreaper) and go.
			for (int i = 0; i < NSLOTS; i++)
				if (pidfds[i] >= 0)
					syscall(SYS_pidfd_send_signal, pidfds[i], SIGKILL, NULL, 0);
			while (waitpid(-1, NULL, __WALL) > 0)
				;
			return 0;
		}
		if (q.len > BUF_SIZE || (q.op != OP_INIT && q.op != OP_PROC && q.slot >= NSLOTS))
			return 1;
		if (q.len && readfull(ctl, buf, q.len) < 0)
			return 1;
		struct slot *s = &slots[q.slot % NSLOTS];
		long ret;
		switch (q.op) {
		case OP_INIT: {
			block_ms = q.a[1] > 0 ? q.a[1] : 50;
			ret = do_init(&q);
			struct initinfo ii;
			memset(&ii, 0, sizeof ii);
			ii.buf = (uint64_t)buf;
			ii.bufsize = BUF_SIZE;
			struct rlimit rl;
			getrlimit(RLIMIT_NOFILE, &rl);
			ii.nofile = rl.rlim_cur;
			proc_maps_self(&ii);
			reply(ret, &ii, sizeof ii, 0);
			break;
		}
		case OP_SPAWN:
			s->op = OP_SPAWN;
			s->state = IDLE;
			ret = raw_clone(SIGCHLD, stacks + (q.slot + 1) * (long)STACK_SIZE, task_main, (void *)(long)q.slot);
			if (ret > 0) {
				open_pidfd(q.slot, ret);
				// Wait until it is inside the root and has shed the
				// agent's descriptors.
				long w = await(q.slot, pidfds[q.slot]);
				if (w < 0)
					ret = w;
			} else if (ret == 0) {
				ret = -EAGAIN;
			}
			reply(ret, NULL, 0, 0);
			break;
		case OP_CLONE: {
			long child = q.a[1];
			if (child < 0 || child >= NSLOTS) {
				reply(-EINVAL, NULL, 0, 0);
				break;
			}
			slots[child].state = IDLE;
			s->op = OP_CLONE;
			s->a[0] = q.a[0];
			s->a[1] = child;
			long w = send_task(q.slot);
			ret = w < 0 ? w : s->ret;
			if (ret > 0)
				open_pidfd(child, ret);
			reply(ret, NULL, 0, 0);
			break;
		}
		case OP_CALL: {
			s->op = OP_CALL;
			s->nr = q.nr;
			memcpy(s->a, q.a, sizeof s->a);
			long w = send_task(q.slot);
			ret = w < 0 ? w : s->ret;
			int64_t out = q.a[6];
			if (out < 0)
				out = ret > 0 ? ret : 0;
			if (w < 0 || out > BUF_SIZE)
				out = 0;
			// blocked 2: the task died (a signal) or hung, no result.
			reply(ret, buf, (uint32_t)out, w < 0 ? 2 : (uint32_t)s->blocked);
			break;
		}
		case OP_EXIT: {
			s->op = OP_EXIT;
			s->a[0] = q.a[0];
			long w = send_task(q.slot);
			// Wait until it is gone for good (a zombie, or reaped), so
			// that a wait by its parent finds it.
			if (w == 0 && pidfds[q.slot] >= 0) {
				struct pollfd p = {pidfds[q.slot], POLLIN, 0};
				w = poll(&p, 1, 20000) == 1 ? 0 : -ETIMEDOUT;
			}
			reap();
			reply(w, NULL, 0, 0);
			break;
		}
		case OP_PROC: {
			char path[128];
			char name[32];
			size_t n = q.len < sizeof name - 1 ? q.len : sizeof name - 1;
			memcpy(name, buf, n);
			name[n] = 0;
			snprintf(path, sizeof path, "/proc/%ld/%s", (long)q.a[0], name);
			int fd = open(path, O_RDONLY);
			if (fd < 0) {
				reply(-errno, NULL, 0, 0);
				break;
			}
			long total = 0, count = q.a[2] < BUF_SIZE ? q.a[2] : BUF_SIZE;
			while (total < count) {
				ssize_t r = pread(fd, buf + total, count - total, q.a[1] + total);
				if (r <= 0)
					break;
				total += r;
			}
			close(fd);
			reply(total, buf, (uint32_t)total, 0);
			break;
		}
		default:
			reply(-ENOSYS, NULL, 0, 0);
		}
		reap();
	}
}
