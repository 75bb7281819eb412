/* runprog.c: run a helper program bounded in time, its output read as it
 * comes (see runprog.h). */
#include "runprog.h"
#include "cloexec.h"
#include "clock.h"
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* The stdout line being assembled. */
struct linebuf {
	char buf[RUNPROG_LINE_MAX + 1];
	size_t used;
	int clipped;            /* the rest of this line is skipped */
};

static _Noreturn void child(const struct runprog *r, int out, int err)
{
	int null = open("/dev/null", O_RDWR);
	sigset_t none;

	/* qmailctl ignores SIGPIPE; the supervisor blocks what its signalfd
	 * reads: the program gets neither */
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	umask(022);
	if (null < 0 || dup2(r->fd_in >= 0 ? r->fd_in : null, 0) < 0 ||
	    dup2(out >= 0 ? out : null, 1) < 0 || dup2(err, 2) < 0)
		_exit(111);
	cloexec_all();
	execve(r->prog, r->argv, r->envp);
	dprintf(2, "unable to run %s: %s\n", r->prog, strerror(errno));
	_exit(111);
}

static void feed(struct runprog *r, struct linebuf *lb, const char *p,
    size_t n)
{
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (!lb->clipped) {
			size_t room = RUNPROG_LINE_MAX - lb->used;
			size_t k = take < room ? take : room;

			memcpy(lb->buf + lb->used, p, k);
			lb->used += k;
			if (take > room)
				lb->clipped = 1;
		}
		if (!nl)
			return;
		lb->buf[lb->used] = 0;
		r->line(r->ctx, lb->buf, lb->used);
		lb->used = 0;
		lb->clipped = 0;
		p = nl + 1;
		n -= take + 1;
	}
}

/* Reads one chunk of fd: 0 at EOF (or on an error), else 1. */
static int drain(struct runprog *r, int fd, int is_out, struct linebuf *lb,
    size_t *errused)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);
	size_t room;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 1;
	if (n <= 0)
		return 0;
	if (is_out) {
		feed(r, lb, chunk, (size_t)n);
		return 1;
	}
	room = sizeof r->err - 1 - *errused;
	if ((size_t)n < room)
		room = (size_t)n;
	memcpy(r->err + *errused, chunk, room);
	*errused += room;
	return 1;
}

/* Reads both pipes until EOF or the deadline, then reaps the child,
 * killing it first if time ran out. */
static void collect_output(struct runprog *r, pid_t pid, int out, int err)
{
	long long deadline = clock_ms() + r->timeout_ms;
	struct pollfd pf[2] = { { err, POLLIN, 0 }, { out, POLLIN, 0 } };
	struct linebuf lb;
	size_t errused = 0;
	int i;

	lb.used = 0;
	lb.clipped = 0;
	while (pf[0].fd >= 0 || pf[1].fd >= 0) {
		if (clock_left(deadline) == 0) {
			r->timed_out = 1;
			kill(pid, SIGKILL);
			break;
		}
		if (poll(pf, 2, clock_left(deadline)) <= 0)
			continue;       /* EINTR, or time is up */
		for (i = 0; i < 2; i++)
			if (pf[i].fd >= 0 && pf[i].revents &&
			    !drain(r, pf[i].fd, i == 1, &lb, &errused))
				pf[i].fd = -1;
	}
	if (!r->timed_out && lb.used > 0 && r->line) {
		lb.buf[lb.used] = 0;
		r->line(r->ctx, lb.buf, lb.used);
	}
	r->err[errused] = 0;
	while (waitpid(pid, &r->status, 0) < 0 && errno == EINTR)
		;
}

int runprog(struct runprog *r, struct err *e)
{
	int errpipe[2], outpipe[2] = { -1, -1 };
	pid_t pid;

	r->err[0] = 0;
	r->status = 0;
	r->timed_out = 0;
	if (pipe2(errpipe, O_CLOEXEC) < 0)
		return err_sys(e, "unable to create a pipe");
	if (r->line && pipe2(outpipe, O_CLOEXEC) < 0) {
		close(errpipe[0]);
		close(errpipe[1]);
		return err_sys(e, "unable to create a pipe");
	}
	pid = fork();
	if (pid == 0)
		child(r, outpipe[1], errpipe[1]);
	close(errpipe[1]);
	if (outpipe[1] >= 0)
		close(outpipe[1]);
	if (pid < 0)
		err_sys(e, "unable to fork");
	else
		collect_output(r, pid, outpipe[0], errpipe[0]);
	close(errpipe[0]);
	if (outpipe[0] >= 0)
		close(outpipe[0]);
	return pid < 0 ? -1 : 0;
}

const char *runprog_failure(const struct runprog *r, char *buf, size_t size)
{
	if (r->timed_out) {
		snprintf(buf, size, "no result after %ld ms, killed",
		    r->timeout_ms);
		return buf;
	}
	if (WIFEXITED(r->status) && WEXITSTATUS(r->status) == 0)
		return NULL;
	return fmt_wstatus(buf, size, r->status);
}
