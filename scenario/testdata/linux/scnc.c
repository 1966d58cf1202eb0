// scnc checks the lines of a scenario script that scn-linux cannot replay
// (brk, and clone with CLONE_VM) on the Linux it runs on: it runs the
// memory commands (brk, vma, memwrite, memread, mmap, munmap, mprotect,
// fork, clone, exit) as one process and its children, each child running
// its own lines to the end of the script before its parent goes on, and
// translates addresses below 0x10000000 from the simulator's heap start,
// 0x1000000, to this process's own start_brk. It must not call malloc: the
// heap has to stay where brk(0) found it.
//
//	cc -O1 -o scnc scnc.c && ./scnc m12_brk.scn && ./scnc m13_clone_vm.scn
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#define SIMBRK 0x1000000UL
static unsigned long S;
static void say(const char *s) { size_t n = strlen(s); write(1, s, n); }
static unsigned long T(unsigned long a) { return (a > 0 && a < 0x10000000UL) ? a - SIMBRK + S : a; }
static unsigned long U(unsigned long a) { return (a + 0x1000000 >= S && a < S + 0x1000000) ? a - S + SIMBRK : a; }
struct tk { char s[512]; int quoted; int len; };
static int tokenize(const char *l, struct tk *t, int max) {
	int n = 0;
	while (*l && n < max) {
		while (*l == ' ' || *l == '\t') l++;
		if (!*l || *l == '#' || *l == '\n') break;
		char *w = t[n].s; t[n].quoted = 0;
		if (*l == '"') {
			t[n].quoted = 1; l++;
			while (*l && *l != '"') {
				if (*l == '\\' && l[1] == 'x') { char h[3] = {l[2], l[3], 0}; *w++ = (char)strtol(h, 0, 16); l += 4; continue; }
				*w++ = *l++;
			}
			if (*l) l++;
		} else while (*l && *l != ' ' && *l != '\t' && *l != '\n') *w++ = *l++;
		*w = 0; t[n].len = w - t[n].s; n++;
	}
	return n;
}
static unsigned long num(const char *w) { return strtoull(w, 0, 0); }
static char mapsbuf[1 << 16];
static void maps(unsigned long a, char *res) {
	int fd = open("/proc/self/maps", O_RDONLY); int n = 0, r;
	while ((r = read(fd, mapsbuf + n, sizeof mapsbuf - 1 - n)) > 0) n += r;
	close(fd); mapsbuf[n] = 0; res[0] = 0;
	for (char *l = mapsbuf; *l; ) {
		char *e = strchr(l, '\n'); if (e) *e = 0;
		unsigned long lo, hi, ino; char perm[8], off[16], dev[16]; int k = 0;
		sscanf(l, "%lx-%lx %7s %15s %15s %lu %n", &lo, &hi, perm, off, dev, &ino, &k);
		if (lo <= a && a < hi) { char *name = l + k; sprintf(res, "%08lx-%08lx %s %s%s%s", U(lo), U(hi), perm, off, *name ? " " : "", name); return; }
		if (!e) break;
		l = e + 1;
	}
}
static void quote(const char *d, long n, char *o) {
	*o++ = '"';
	for (long i = 0; i < n; i++) {
		unsigned char c = d[i];
		if (c >= 32 && c < 127 && c != '"' && c != '\\') *o++ = c; else o += sprintf(o, "\\x%02x", c);
	}
	*o++ = '"'; *o = 0;
}
static int prot(const char *p) { int r = 0; if (strstr(p, "READ")) r |= PROT_READ; if (strstr(p, "WRITE")) r |= PROT_WRITE; return r; }
static char script[1 << 16];
static char stack[1 << 18];
static int bad, checked;
static int run(char *l, int ln, int me);
struct start { char *l; int ln, me; };
static int child_main(void *arg) { struct start *st = arg; run(st->l, st->ln, st->me); _exit(bad); }
// run interprets the lines from l on, as task me: a line of another task
// is skipped. A fork or clone runs the child over the rest of the script
// to its end, and the parent waits for it before going on.
static int run(char *l, int ln, int me) {
	char msg[4096], got[1024];
	while (*l) {
		char *e = strchr(l, '\n'); if (e) *e = 0; ln++;
		char line[1024]; strncpy(line, l, sizeof line - 1); line[sizeof line - 1] = 0;
		if (e) *e = '\n';
		l = e ? e + 1 : l + strlen(l);
		struct tk t[16]; int nt = tokenize(line, t, 16);
		if (!nt || !strcmp(t[0].s, "spawn")) continue;
		int eq = -1; for (int i = 0; i < nt; i++) if (!t[i].quoted && !strcmp(t[i].s, "=")) eq = i;
		char want[1024] = ""; int hasWant = eq >= 0 && eq + 1 < nt;
		if (hasWant) { if (t[eq + 1].quoted) quote(t[eq + 1].s, t[eq + 1].len, want); else strcpy(want, t[eq + 1].s); }
		if (atoi(t[1].s) != me) continue;
		errno = 0; const char *c = t[0].s;
		if (!strcmp(c, "brk")) sprintf(got, "%#lx", U(syscall(SYS_brk, T(num(t[2].s)))));
		else if (!strcmp(c, "vma")) { char m[600]; maps(T(num(t[2].s)), m); quote(m, strlen(m), got); }
		else if (!strcmp(c, "memwrite") || !strcmp(c, "memread")) {
			static char d[4096]; long cnt; int w = c[3] == 'w';
			if (w) { cnt = t[3].len; memcpy(d, t[3].s, cnt); } else cnt = num(t[3].s);
			struct iovec lv = {d, cnt}, rv = {(void *)T(num(t[2].s)), cnt};
			long x = w ? process_vm_writev(getpid(), &lv, 1, &rv, 1, 0) : process_vm_readv(getpid(), &lv, 1, &rv, 1, 0);
			if (x < 0) strcpy(got, strerrorname_np(errno)); else if (w) sprintf(got, "%ld", x); else quote(d, x, got);
		} else if (!strcmp(c, "mmap")) {
			long fl = 0; const char *p = t[5].s;
			if (strstr(p, "MAP_PRIVATE")) fl |= MAP_PRIVATE;
			if (strstr(p, "MAP_SHARED")) fl |= MAP_SHARED;
			if (strstr(p, "MAP_ANONYMOUS")) fl |= MAP_ANONYMOUS;
			if (strstr(p, "MAP_FIXED_NOREPLACE")) fl |= MAP_FIXED_NOREPLACE; else if (strstr(p, "MAP_FIXED")) fl |= MAP_FIXED;
			long r = syscall(SYS_mmap, T(num(t[2].s)), num(t[3].s), prot(t[4].s), fl, -1, 0);
			if (r < 0 && r > -4096) strcpy(got, strerrorname_np(errno)); else sprintf(got, "%#lx", U(r));
		} else if (!strcmp(c, "munmap")) { long r = syscall(SYS_munmap, T(num(t[2].s)), num(t[3].s)); strcpy(got, r < 0 ? strerrorname_np(errno) : "0"); }
		else if (!strcmp(c, "mprotect")) { long r = syscall(SYS_mprotect, T(num(t[2].s)), num(t[3].s), prot(t[4].s)); strcpy(got, r < 0 ? strerrorname_np(errno) : "0"); }
		else if (!strcmp(c, "fork") || !strcmp(c, "clone")) {
			int vm = !strcmp(c, "clone") && nt > 3 && strstr(t[3].s, "CLONE_VM");
			static struct start st; st.l = l; st.ln = ln; st.me = atoi(t[2].s);
			pid_t k = clone(child_main, stack + sizeof stack, (vm ? CLONE_VM : 0) | SIGCHLD, &st);
			int status; waitpid(k, &status, __WALL);
			if (WEXITSTATUS(status)) bad = 1;
			strcpy(got, k > 0 ? "0" : strerrorname_np(errno));
		} else if (!strcmp(c, "exit")) { if (me != 1) return 0; strcpy(got, "0"); }
		else { sprintf(msg, "  %d: skipped %s\n", ln, c); say(msg); continue; }
		checked++;
		if (!hasWant) sprintf(msg, "  %d: ok   (no result stated) %s %s = %s\n", ln, c, t[1].s, got);
		else if (strcmp(got, want)) { sprintf(msg, "  %d: DIFF %s %s: got %s, expected %s\n", ln, c, t[1].s, got, want); bad = 1; }
		else sprintf(msg, "  %d: ok   %s %s = %s\n", ln, c, t[1].s, got);
		say(msg);
	}
	return 0;
}
int main(int argc, char **argv) {
	S = syscall(SYS_brk, 0);
	if (argc != 2) { say("usage: scnc SCRIPT\n"); return 2; }
	int fd = open(argv[1], O_RDONLY), n = read(fd, script, sizeof script - 1); close(fd);
	if (n < 0) { say("scnc: cannot read the script\n"); return 2; }
	script[n] = 0;
	char msg[512];
	sprintf(msg, "%s: start_brk %#lx\n", argv[1], S); say(msg);
	run(script, 0, 1);
	sprintf(msg, "%s: %d lines checked: %s\n", argv[1], checked, bad ? "DIFF" : "all agree with Linux"); say(msg);
	return bad;
}
