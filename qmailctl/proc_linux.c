/* proc_linux.c: process inspection through /proc and pidfds (Linux 5.3+).
 * The cgroup v2 lookups in /proc (mountinfo, PID/cgroup) are
 * cgroup_linux.c's. */
#include "proc.h"
#include "clock.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>


#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

static ssize_t read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* /proc/PID/stat: "pid (comm) state ppid pgrp session ... starttime(22) ...".
 * comm may hold spaces and parentheses, so fields are counted from the last
 * ')'. */
static int parse_stat(const char *buf, struct proc_info *pi)
{
	const char *open = strchr(buf, '(');
	const char *close = strrchr(buf, ')');
	const char *p;
	size_t len;
	int field;

	if (!open || !close || close < open || close[1] != ' ')
		return -1;
	len = (size_t)(close - open - 1);
	if (len >= sizeof pi->comm)
		len = sizeof pi->comm - 1;
	memcpy(pi->comm, open + 1, len);
	pi->comm[len] = 0;
	p = close + 2;
	pi->state = *p;
	for (field = 3; *p && field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
		switch (field + 1) {
		case 4: pi->ppid = (pid_t)strtol(p, NULL, 10); break;
		case 5: pi->pgid = (pid_t)strtol(p, NULL, 10); break;
		case 6: pi->sid = (pid_t)strtol(p, NULL, 10); break;
		case 22: pi->start = strtoull(p, NULL, 10); break;
		default: break;
		}
	}
	return field == 22 ? 0 : -1;
}

int proc_info(pid_t pid, struct proc_info *pi)
{
	char path[64], buf[1024];

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	if (read_small_file(path, buf, sizeof buf) < 0) {
		if (errno == ENOENT)
			errno = ESRCH;
		return -1;
	}
	memset(pi, 0, sizeof *pi);
	pi->pid = pid;
	if (parse_stat(buf, pi) < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

int proc_state_exited(char state)
{
	return state == 'Z' || state == 'X' || state == 'x';
}

int proc_boot_id(char out[PROC_BOOT_ID_MAX])
{
	static char cached[PROC_BOOT_ID_MAX];
	char buf[128];
	size_t i, n = 0;

	if (!cached[0]) {
		if (read_small_file("/proc/sys/kernel/random/boot_id", buf,
		    sizeof buf) < 0)
			return -1;
		for (i = 0; buf[i] && n < sizeof cached - 1; i++)
			if (isxdigit((unsigned char)buf[i]) || buf[i] == '-')
				cached[n++] = buf[i];
		cached[n] = 0;
	}
	memcpy(out, cached, PROC_BOOT_ID_MAX);
	return 0;
}

/* Before pidfs every pidfd shared one anonymous inode; with pidfs each
 * process has its own.  Two different processes tell which. */
static int pidfs_unique(void)
{
	static int known = -1;
	struct stat a, b;
	int fa, fb;

	if (known >= 0)
		return known;
	fa = (int)syscall(SYS_pidfd_open, getpid(), 0);
	fb = (int)syscall(SYS_pidfd_open, 1, 0);
	known = fa >= 0 && fb >= 0 && fstat(fa, &a) == 0 &&
	    fstat(fb, &b) == 0 && a.st_ino != b.st_ino;
	if (fa >= 0)
		close(fa);
	if (fb >= 0)
		close(fb);
	return known;
}

unsigned long long proc_handle_ino(int handle)
{
	struct stat st;

	if (handle < 0 || !pidfs_unique() || fstat(handle, &st) < 0)
		return 0;
	return (unsigned long long)st.st_ino;
}

static unsigned long long self_ino(void)
{
	int fd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	unsigned long long ino = proc_handle_ino(fd);

	if (fd >= 0)
		close(fd);
	return ino;
}

int proc_self_ident(struct proc_ident *id)
{
	struct proc_info pi;

	memset(id, 0, sizeof *id);
	if (proc_info(getpid(), &pi) < 0 || proc_boot_id(id->boot) < 0)
		return -1;
	id->pid = pi.pid;
	id->start = pi.start;
	id->pgid = pi.pgid;
	id->sid = pi.sid;
	id->ino = self_ino();
	return 0;
}

static int pidfd_open_raw(pid_t pid)
{
	return (int)syscall(SYS_pidfd_open, pid, 0);
}

int proc_handles_supported(void)
{
	int fd = pidfd_open_raw(getpid());

	if (fd < 0)
		return errno != ENOSYS;
	close(fd);
	return 1;
}

int proc_signals_supported(void)
{
	int fd = pidfd_open_raw(getpid()), ok, err;

	if (fd < 0)
		return 0;
	ok = proc_signal(fd, 0) == 0;   /* signal 0: checks, sends nothing */
	err = errno;
	close(fd);
	errno = err;
	return ok;
}

int proc_open_pid(pid_t pid)
{
	int fd = pidfd_open_raw(pid);

	if (fd >= 0)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
	return fd;
}

/* The caller and its ancestors, nearest first: a worker, the qmailctl
 * that forked it, the shell that ran qmailctl, its sudo or sshd.  None of
 * them is a service qmailctl started (a service is always a descendant of
 * a worker), and signalling one would kill qmailctl or its caller.  Read
 * once: what is an ancestor now was one when we started. */
#define ANCESTORS_MAX 64

static pid_t chain[ANCESTORS_MAX];
static int chain_len;

void proc_note_ancestors(void)
{
	struct proc_info pi;
	pid_t p, self = getpid();

	if (chain_len > 0 && chain[0] == self)
		return;
	/* Forked after the parent read its own: ours is one step longer,
	 * without a read of /proc per ancestor in every worker. */
	if (chain_len > 0 && chain_len < ANCESTORS_MAX &&
	    chain[0] == getppid()) {
		memmove(chain + 1, chain, (size_t)chain_len * sizeof *chain);
		chain[0] = self;
		chain_len++;
		return;
	}
	chain_len = 0;
	for (p = self; p > 1 && chain_len < ANCESTORS_MAX; p = pi.ppid) {
		chain[chain_len++] = p;
		if (proc_info(p, &pi) < 0)
			break;
	}
}

static int is_self_or_ancestor(pid_t pid)
{
	int i;

	proc_note_ancestors();
	for (i = 0; i < chain_len; i++)
		if (chain[i] == pid)
			return 1;
	return 0;
}

int proc_open_recorded(const struct proc_ident *id)
{
	char boot[PROC_BOOT_ID_MAX];
	unsigned long long ino;
	struct proc_info pi;
	int fd, err;

	if (id->pid <= 1 || is_self_or_ancestor(id->pid)) {
		errno = EPERM;
		return -1;
	}
	if (id->boot[0] && proc_boot_id(boot) == 0 && strcmp(boot, id->boot)) {
		errno = ESTALE;
		return -1;
	}
	/* Open first, then compare: once the pidfd exists it pins the process,
	 * so a match read afterwards proves the pidfd is the recorded one. */
	fd = proc_open_pid(id->pid);
	if (fd < 0)
		return -1;
	if (proc_info(id->pid, &pi) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	ino = id->ino ? proc_handle_ino(fd) : 0;
	if (pi.start != id->start || (ino && ino != id->ino)) {
		close(fd);
		errno = ESTALE;
		return -1;
	}
	if (proc_state_exited(pi.state)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

int proc_born_after(pid_t pid, const struct proc_ident *ref)
{
	unsigned long long ino = 0;
	struct proc_info pi;
	int fd, later;

	if (pid <= 0)
		return 0;
	fd = proc_open_pid(pid);
	if (fd < 0)
		return 0;
	if (proc_info(pid, &pi) < 0 || proc_state_exited(pi.state)) {
		close(fd);
		return 0;
	}
	if (ref->ino)
		ino = proc_handle_ino(fd);
	close(fd);
	/* pidfs numbers processes in the order they are created */
	if (ino && ref->ino)
		later = ino > ref->ino;
	else
		later = pi.start > ref->start;
	return later;
}

/* AddressSanitizer keeps its own books across fork() through its fork
 * interceptor; a raw clone3 bypasses it, and the sanitized child can hang
 * on a lock it thinks held.  Sanitized builds take the fork() path. */
#if defined(__SANITIZE_ADDRESS__)
#define FORK_INTO_CGROUP 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define FORK_INTO_CGROUP 0
#endif
#endif
#ifndef FORK_INTO_CGROUP
#define FORK_INTO_CGROUP 1
#endif

pid_t proc_fork_into(int cgroup_fd)
{
	struct clone_args args;

	if (!FORK_INTO_CGROUP) {
		errno = ENOSYS;
		return -1;
	}
	memset(&args, 0, sizeof args);
	args.flags = CLONE_INTO_CGROUP;
	args.exit_signal = SIGCHLD;
	args.cgroup = (unsigned long long)cgroup_fd;
	return (pid_t)syscall(SYS_clone3, &args, sizeof args);
}

int proc_signal(int handle, int sig)
{
	return (int)syscall(SYS_pidfd_send_signal, handle, sig, NULL, 0);
}

int proc_signal_counted(int handle, int sig, int *err)
{
	if (proc_signal(handle, sig) == 0)
		return 1;
	if (err && !*err && errno != ESRCH)
		*err = errno;
	return 0;
}

int proc_take_fd(int handle, int fd)
{
	/* the copy comes close-on-exec (pidfd_getfd(2)) */
	return (int)syscall(SYS_pidfd_getfd, handle, fd, 0);
}

/* Opening a pipe's /proc/self/fd link opens the pipe itself, as a FIFO
 * is opened: for reading or for writing, whichever end fd is. */
int proc_reopen_fd(int fd, int flags)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return open(path, flags | O_CLOEXEC);
}

int proc_self_sibling(const char *prog, char *buf, size_t size)
{
	char self[PATH_MAX], *slash;
	ssize_t n;

	/* The path the link names, not /proc/self/exe itself: under valgrind
	 * that is valgrind's tool, not qmailctl. */
	n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n < 0)
		return -1;
	self[n] = 0;
	if (!(slash = strrchr(self, '/'))) {
		errno = ENOENT;
		return -1;
	}
	*slash = 0;
	if ((size_t)snprintf(buf, size, "%s/%s", self, prog) >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

double proc_uptime(unsigned long long start)
{
	char buf[128];
	long ticks = sysconf(_SC_CLK_TCK);
	double up;

	if (read_small_file("/proc/uptime", buf, sizeof buf) < 0 || ticks <= 0)
		return 0;
	up = strtod(buf, NULL) - (double)start / (double)ticks;
	return up < 0 ? 0 : up;
}

int proc_each(int (*fn)(const struct proc_info *, void *), void *arg)
{
	struct proc_info pi;
	struct dirent *de;
	DIR *d;
	int rc = 0;

	d = opendir("/proc");
	if (!d)
		return -1;
	while (rc == 0 && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (proc_info((pid_t)atoi(de->d_name), &pi) < 0)
			continue;       /* exited while we looked */
		if (proc_state_exited(pi.state))
			continue;
		rc = fn(&pi, arg);
	}
	closedir(d);
	return rc;
}

/* A line of /proc/locks: "1: FLOCK  ADVISORY  WRITE 1749 fe:00:10952705 0
 * EOF" (major and minor in hex, the inode in decimal); a waiter's line
 * has "->" after the number and holds nothing. */
static pid_t lock_line(const char *line, dev_t dev, ino_t ino)
{
	unsigned int maj, min;
	unsigned long long i;
	char type[16];
	long pid;

	if (strstr(line, "->"))
		return 0;
	if (sscanf(line, "%*d: %15s %*s %*s %ld %x:%x:%llu", type, &pid, &maj,
	    &min, &i) != 5)
		return 0;
	if (strcmp(type, "FLOCK") || maj != major(dev) || min != minor(dev) ||
	    i != (unsigned long long)ino || pid <= 0)
		return 0;
	return (pid_t)pid;
}

/* Does pid hold the lock through one of its descriptors?  Each fd's
 * /proc/PID/fdinfo lists the locks taken through its open file
 * description ("lock:\t1: FLOCK ..."), whoever took them. */
static int holds_lock(pid_t pid, dev_t dev, ino_t ino)
{
	char dir[64], file[320], text[4096], *line, *next;
	struct dirent *de;
	DIR *d;
	int found = 0;

	snprintf(dir, sizeof dir, "/proc/%d/fdinfo", (int)pid);
	if (!(d = opendir(dir)))
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		snprintf(file, sizeof file, "%s/%s", dir, de->d_name);
		if (read_small_file(file, text, sizeof text) < 0)
			continue;
		for (line = text; line && !found; line = next) {
			if ((next = strchr(line, '\n')) != NULL)
				*next++ = 0;
			found = !strncmp(line, "lock:\t", 6) &&
			    lock_line(line + 6, dev, ino) > 0;
		}
	}
	closedir(d);
	return found;
}

/* /proc/locks lists the pid that took the lock, which may have exited
 * since and left the locked descriptor to others: `flock 9` in a shell
 * script is a child that locks the shell's fd 9 and exits.  So the
 * listed pid is taken only if it still holds the lock; else the holder
 * is looked for among every process's descriptors. */
pid_t proc_lock_holder(dev_t dev, ino_t ino)
{
	char line[256];
	struct dirent *de;
	FILE *f = fopen("/proc/locks", "re");
	pid_t listed = 0, pid = 0;
	DIR *d;

	if (!f)
		return 0;
	while (listed == 0 && fgets(line, sizeof line, f))
		listed = lock_line(line, dev, ino);
	fclose(f);
	if (listed <= 0 || holds_lock(listed, dev, ino))
		return listed;
	if (!(d = opendir("/proc")))
		return 0;
	while (pid == 0 && (de = readdir(d)) != NULL)
		if (isdigit((unsigned char)de->d_name[0]) &&
		    holds_lock((pid_t)atoi(de->d_name), dev, ino))
			pid = (pid_t)atoi(de->d_name);
	closedir(d);
	return pid;
}

int wait_handles(const int *fds, int n, long timeout_ms)
{
	struct pollfd pf[PROC_WAIT_MAX];
	long long deadline = clock_ms() + timeout_ms;
	int i, alive;

	if (n > (int)(sizeof pf / sizeof pf[0]))
		n = (int)(sizeof pf / sizeof pf[0]);
	for (;;) {
		alive = 0;
		for (i = 0; i < n; i++) {
			pf[i].fd = fds[i];
			pf[i].events = POLLIN;
			pf[i].revents = 0;
		}
		if (poll(pf, (nfds_t)n, 0) < 0 && errno != EINTR)
			return n;
		for (i = 0; i < n; i++)
			if (fds[i] >= 0 && !(pf[i].revents & (POLLIN | POLLHUP)))
				alive++;
		if (alive == 0 || clock_left(deadline) == 0)
			return alive;
		/* Sleep until one of them exits (poll wakes) or time is up. */
		for (i = 0; i < n; i++)
			if (pf[i].revents & (POLLIN | POLLHUP))
				pf[i].fd = -1;
		poll(pf, (nfds_t)n, clock_left(deadline));
	}
}
