/* spawn.c: fork, set the element up, write its pidfile, exec; report. */
#include "spawn.h"
#include "cgroup.h"
#include "cloexec.h"
#include "pidfile.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child sends up the close-on-exec pipe when a step fails. */
struct spawn_error {
	int err;                /* 0: what is the whole reason */
	char what[512];
};

/* The pidfile's last component: the name it has in rq->pidfile_dir. */
static const char *pidfile_name(const struct spawn_req *rq)
{
	const char *slash = strrchr(rq->pidfile, '/');

	return slash ? slash + 1 : rq->pidfile;
}

/* rq: the pidfile to take back, or NULL when it was not written. */
static _Noreturn void child_fail(int report, const char *what, int err,
    const struct spawn_req *rq)
{
	struct spawn_error se;

	if (rq)
		unlinkat(rq->pidfile_dir, pidfile_name(rq), 0);
	memset(&se, 0, sizeof se);
	se.err = err;
	snprintf(se.what, sizeof se.what, "%s", what);
	(void)!write(report, &se, sizeof se);
	_exit(111);
}

static int open_null(int flags)
{
	return open("/dev/null", flags | O_CLOEXEC);
}

/* Puts fd on target; fd -1 means /dev/null. */
static int place_fd(int fd, int target, int flags)
{
	int null = -1, rc;

	if (fd < 0) {
		null = open_null(flags);
		if (null < 0)
			return -1;
		fd = null;
	}
	rc = fd == target ? fcntl(fd, F_SETFD, 0) : dup2(fd, target);
	if (null >= 0 && null != target)
		close(null);
	return rc < 0 ? -1 : 0;
}

/* softlimit -m: data, stack, locked memory and address space together. */
static int limit_memory(unsigned long long bytes)
{
	static const int which[] = { RLIMIT_DATA, RLIMIT_STACK,
	    RLIMIT_MEMLOCK, RLIMIT_AS };
	struct rlimit rl;
	size_t i;

	for (i = 0; i < sizeof which / sizeof which[0]; i++) {
		if (getrlimit(which[i], &rl) < 0)
			return -1;
		rl.rlim_cur = bytes;
		if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
			rl.rlim_cur = rl.rlim_max;
		if (setrlimit(which[i], &rl) < 0)
			return -1;
	}
	return 0;
}

static void reset_signals(void)
{
	struct sigaction sa;
	sigset_t none;
	int sig;

	/* An ignored signal stays ignored across exec: undo ours. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static _Noreturn void child(const struct spawn_req *rq, int report,
    int in_cgroup)
{
	char why[8400];
	struct err e;

	reset_signals();
	if (rq->new_group && setpgid(0, 0) < 0)
		child_fail(report, "unable to create a process group", errno, 0);
	if (place_fd(rq->fd_in, 0, O_RDONLY) < 0 ||
	    place_fd(rq->fd_out, 1, O_WRONLY) < 0 ||
	    place_fd(rq->fd_err, 2, O_WRONLY) < 0)
		child_fail(report, "unable to set up stdin/stdout/stderr",
		    errno, 0);
	/* Whatever else we hold (a caller's pipe, a lock) must not live on
	 * in a daemon: it would keep pipes open and locks held forever. */
	cloexec_all();
	if (!in_cgroup && rq->cgroup && rq->cgroup[0] &&
	    cgroup_enter(rq->cgroup) < 0) {
		snprintf(why, sizeof why, "unable to enter cgroup %s",
		    rq->cgroup);
		child_fail(report, why, errno, 0);
	}
	if (chdir(rq->dir) < 0) {
		snprintf(why, sizeof why, "unable to chdir to %s", rq->dir);
		child_fail(report, why, errno, 0);
	}
	/* e is the whole reason, the system's error included. */
	snprintf(why, sizeof why, "%.*s", (int)(pidfile_name(rq) -
	    rq->pidfile - 1), rq->pidfile);
	if (pidfile_write_self_at(rq->pidfile_dir, why, pidfile_name(rq),
	    &e) < 0)
		child_fail(report, e.text, 0, 0);
	/* Last, as softlimit does: no step of ours runs under a limit meant
	 * for the program (a low address-space limit stops the stack of
	 * this very process from growing). */
	if (rq->memory && limit_memory(rq->memory) < 0)
		child_fail(report, "unable to set the memory limit", errno,
		    rq);
	execve(rq->argv[0], rq->argv, rq->envp);
	snprintf(why, sizeof why, "unable to run %s", rq->argv[0]);
	child_fail(report, why, errno, rq);
}

/* Forks, into the request's cgroup where the kernel can do it at birth;
 * *born_in says whether it did (else the child enters it itself). */
static pid_t fork_in(const struct spawn_req *rq, int *born_in)
{
	pid_t pid;
	int fd;

	*born_in = 0;
	if (rq->cgroup && rq->cgroup[0] && (fd = cgroup_open(rq->cgroup)) >= 0) {
		pid = proc_fork_into(fd);
		close(fd);
		if (pid >= 0) {
			*born_in = 1;
			return pid;
		}
	}
	return fork();
}

pid_t spawn(const struct spawn_req *rq, struct err *e)
{
	struct spawn_error se;
	int report[2], born_in;
	ssize_t n;
	pid_t pid;

	if (pipe2(report, O_CLOEXEC) < 0)
		return err_sys(e, "unable to create a pipe");
	pid = fork_in(rq, &born_in);
	if (pid < 0) {
		err_sys(e, "unable to fork");
		close(report[0]);
		close(report[1]);
		return -1;
	}
	if (pid == 0) {
		close(report[0]);
		child(rq, report[1], born_in);
	}
	close(report[1]);
	do
		n = read(report[0], &se, sizeof se);
	while (n < 0 && errno == EINTR);
	close(report[0]);
	if (n == 0)
		return pid;     /* EOF: the exec closed the pipe */
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != (ssize_t)sizeof se)
		return err_set(e, "unable to start %s: lost its report",
		    rq->argv[0]);
	se.what[sizeof se.what - 1] = 0;
	if (se.err)
		return err_set(e, "%s: %s", se.what, strerror(se.err));
	return err_set(e, "%s", se.what);
}

/* Executable by us and a regular file (access() alone accepts
 * directories, and for root any file with one x bit). */
static int runnable(const char *file)
{
	struct stat st;

	if (stat(file, &st) < 0)
		return -1;
	if (!S_ISREG(st.st_mode)) {
		errno = EACCES;
		return -1;
	}
	return access(file, X_OK);
}

int spawn_resolve(const char *prog, const char *path, char *buf, size_t size)
{
	const char *p = path, *colon;
	int saw_eacces = 0;

	if (strchr(prog, '/')) {
		snprintf(buf, size, "%s", prog);
		return runnable(buf);
	}
	for (; p; p = colon ? colon + 1 : NULL) {
		size_t len;

		colon = strchr(p, ':');
		len = colon ? (size_t)(colon - p) : strlen(p);
		/* An empty PATH entry means the current directory to execvp;
		 * for a root daemon that is a trap, so it is skipped. */
		if (len == 0)
			continue;
		snprintf(buf, size, "%.*s/%s", (int)len, p, prog);
		if (runnable(buf) == 0)
			return 0;
		if (errno == EACCES)
			saw_eacces = 1;
	}
	errno = saw_eacces ? EACCES : ENOENT;
	return -1;
}
