/* launch.c: spawn a service's elements and confirm readiness (launch.h).
 * Moved out of start.c so that start and the supervisor share it. */
#include "launch.h"
#include "multilog.h"
#include "cgroup.h"
#include "clock.h"
#include "group.h"
#include "msg.h"
#include "probe.h"
#include "report.h"
#include "rundir.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Probe retries start 1 ms apart (a tcpserver binds within a few ms).  A
 * refused connection costs microseconds, so while nothing listens yet the
 * retries stay PROBE_REFUSED_MAX_MS apart at most; other failures (a
 * handshake that failed, a greeting that did not come) back off to
 * PROBE_RETRY_MAX_MS.  One attempt may take at most PROBE_ATTEMPT_MAX_MS
 * of the start timeout. */
#define PROBE_RETRY_MIN_MS 1
#define PROBE_REFUSED_MAX_MS 2
#define PROBE_RETRY_MAX_MS 50
#define PROBE_ATTEMPT_MAX_MS 3000
/* An attempt with less time than this left could only time out and hide
 * the previous attempt's better reason. */
#define PROBE_ATTEMPT_MIN_MS 5
/* A shallow copy of a NULL-terminated argv, so argv[0] can be replaced. */
static char **argv_copy(char *const *argv)
{
	size_t n = 0;
	char **copy;

	while (argv[n])
		n++;
	copy = xcalloc(n + 1, sizeof *copy);
	memcpy(copy, argv, n * sizeof *copy);
	return copy;
}

void launch_request(const struct unit *u, int which, const char *path,
    char **env, int in, int out, int err, struct spawn_req *rq)
{
	const struct element *e = &u->el[which];
	char **argv;

	memset(rq, 0, sizeof *rq);
	/* exec the resolved path; argv[0] as configured otherwise */
	rq->argv = argv = argv_copy(e->argv);
	argv[0] = (char *)path;
	rq->envp = env;
	rq->dir = u->svc->directory;
	rq->pidfile = e->pidfile;
	rq->pidfile_dir = u->rundir ? u->rundir->fd : -1;
	rq->fd_in = in;
	rq->fd_out = out;
	rq->fd_err = err;
	rq->new_group = 1;
	rq->memory = which == EL_RUN ? u->svc->memory : 0;
	rq->cgroup = which == EL_RUN ? u->cgroup : NULL;
}

int launch_element(struct unit *u, int which, const char *path, char **env,
    int in, int out, int err, struct started *st)
{
	struct element *e = &u->el[which];
	struct spawn_req rq;
	struct proc_info pi;
	struct err why;
	pid_t pid;

	launch_request(u, which, path, env, in, out, err, &rq);
	pid = spawn(&rq, &why);
	free((char **)rq.argv);
	if (pid < 0) {
		snprintf(st->why, sizeof st->why, "%s: %.900s", e->program,
		    why.text);
		return -1;
	}
	e->child = pid;
	e->state = EL_ALIVE;
	e->handle = proc_open_pid(pid);
	memset(&e->id, 0, sizeof e->id);
	e->id.pid = pid;
	e->id.pgid = pid;
	e->id.sid = getsid(0);
	proc_boot_id(e->id.boot);
	if (proc_info(pid, &pi) == 0)
		e->id.start = pi.start;
	e->id.ino = proc_handle_ino(e->handle);
	return 0;
}

/* Spawns the logger (if any) and then the server, joined by a pipe. */
int launch_all(struct unit *u, char paths[EL_MAX][PATH_MAX],
    struct started *st)
{
	char **env = unit_env(u);
	int pipefd[2] = { -1, -1 }, rc = -1;

	if (u->nel == 2 && pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(st->why, sizeof st->why, "unable to create a pipe: %s",
		    strerror(errno));
		goto out;
	}
	if (u->nel == 2 && launch_element(u, EL_LOG, paths[EL_LOG], env,
	    pipefd[0], -1, st->log_err, st) < 0)
		goto out;
	rc = launch_element(u, EL_RUN, paths[EL_RUN], env, -1, pipefd[1],
	    pipefd[1], st);
out:
	if (pipefd[0] >= 0) {
		close(pipefd[0]);
		close(pipefd[1]);
	}
	unit_env_free(env);
	return rc;
}

/* Has e exited?  Reaps it (our child) and describes how into how. */
static int has_exited(struct element *e, int *status, char *how,
    size_t size)
{
	struct pollfd pf = { e->handle, POLLIN, 0 };

	if (e->handle < 0 || poll(&pf, 1, 0) <= 0)
		return 0;
	*status = 0;
	if (e->child > 0 && waitpid(e->child, status, 0) == e->child) {
		e->child = 0;
		fmt_wstatus(how, size, *status);
	} else
		snprintf(how, size, "exited");
	return 1;
}

/* If an element has exited, says which and how, and returns 1.  A logger
 * that failed is the cause when both are gone (the server then dies of
 * the broken pipe), and says why in its own words; a logger that exited
 * 0 only saw the server's end. */
static int element_exited(struct unit *u, struct started *st)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	char how[EL_MAX][64], line[512];
	int gone[EL_MAX] = { 0, 0 }, status[EL_MAX] = { 0, 0 }, i;

	for (i = 0; i < u->nel; i++)
		gone[i] = has_exited(&u->el[i], &status[i], how[i],
		    sizeof how[i]);
	if (u->nel == 2 && gone[EL_LOG] && (!gone[EL_RUN] ||
	    !WIFEXITED(status[EL_LOG]) || WEXITSTATUS(status[EL_LOG]))) {
		logger_stderr_line(st->log_err, line, sizeof line);
		snprintf(st->why, sizeof st->why, "logger %s %d %s%s%s",
		    log->program, (int)log->id.pid, how[EL_LOG],
		    line[0] ? ": " : "", line);
		return 1;
	}
	if (!gone[EL_RUN])
		return 0;
	snprintf(st->why, sizeof st->why, "%s %d %s", run->program,
	    (int)run->id.pid, how[EL_RUN]);
	return 1;
}

/* The pollfds of every element, and intr_fd last (poll skips -1). */
static nfds_t watch_fds(const struct unit *u, int intr_fd,
    struct pollfd pf[EL_MAX + 1])
{
	int i;

	for (i = 0; i < u->nel; i++) {
		pf[i].fd = u->el[i].handle;
		pf[i].events = POLLIN;
		pf[i].revents = 0;
	}
	pf[i].fd = intr_fd;
	pf[i].events = POLLIN;
	pf[i].revents = 0;
	return (nfds_t)i + 1;
}

static int settle(struct unit *u, long long deadline, int intr_fd,
    struct started *st)
{
	long long until = clock_ms() + u->svc->settle_ms;
	struct pollfd pf[EL_MAX + 1];
	nfds_t n = watch_fds(u, intr_fd, pf);

	if (until > deadline)
		until = deadline;
	while (clock_left(until) > 0)
		if (poll(pf, n, clock_left(until)) > 0)
			break;
	if (pf[n - 1].revents)
		return -2;
	return element_exited(u, st) ? -1 : 0;
}

/* The attempts of launch_wait_ready, until one answers. */
static int wait_probed(struct unit *u, long long deadline, int intr_fd,
    struct started *st)
{
	struct probe_result r;
	struct pollfd pf[EL_MAX + 1];
	char reason[sizeof r.err.text] = "probe never ran";
	int delay = PROBE_RETRY_MIN_MS, attempt;
	nfds_t n;

	n = watch_fds(u, intr_fd, pf);
	for (;;) {
		if (pf[n - 1].revents)
			return -2;
		if (element_exited(u, st))
			return -1;
		attempt = clock_left(deadline);
		if (attempt > PROBE_ATTEMPT_MAX_MS)
			attempt = PROBE_ATTEMPT_MAX_MS;
		if (attempt >= PROBE_ATTEMPT_MIN_MS &&
		    probe_once(&u->svc->probe, attempt, NULL, &r) == 0) {
			probe_tls_text(&r, st->tls, sizeof st->tls);
			return 0;
		}
		/* An attempt that the deadline cut short says only "timed
		 * out"; an earlier attempt's reason is the better one. */
		if (attempt >= PROBE_ATTEMPT_MIN_MS && (clock_left(deadline) > 0 ||
		    !strcmp(reason, "probe never ran")))
			snprintf(reason, sizeof reason, "%s", r.err.text);
		if (clock_left(deadline) < PROBE_ATTEMPT_MIN_MS) {
			snprintf(st->why, sizeof st->why, "not ready after "
			    "%lld ms: %s", clock_ms() - st->t0, reason);
			return -1;
		}
		/* Sleep until the next try, but wake at once if an element
		 * exits. */
		poll(pf, n, clock_backoff(&delay, deadline,
		    r.refused ? PROBE_REFUSED_MAX_MS : PROBE_RETRY_MAX_MS));
	}
}

int launch_wait_ready(struct unit *u, long long deadline, int intr_fd,
    struct started *st)
{
	if (u->svc->probe.kind == PROBE_NONE)
		return settle(u, deadline, intr_fd, st);
	probe_prepare(&u->svc->probe);
	return wait_probed(u, deadline, intr_fd, st);
}

void launch_reap(struct element *e)
{
	if (e->child > 0) {
		while (waitpid(e->child, NULL, 0) < 0 && errno == EINTR)
			;
		e->child = 0;
	}
}

void launch_end_group(struct unit *u)
{
	struct element *run = &u->el[EL_RUN];
	struct group_id g;

	group_of(&run->id, u->cgroup, &g);
	group_signal(&g, SIGTERM, SIGCONT, NULL);
	if (group_wait_empty(&g, clock_ms() + ABORT_GRACE_MS) > 0) {
		group_kill(&g, NULL);
		group_wait_empty(&g, clock_ms() + ABORT_GRACE_MS);
	}
	launch_reap(run);
}

void launch_end_element(struct element *e, long drain_ms)
{
	if (wait_handles(&e->handle, 1, drain_ms) > 0) {
		proc_signal(e->handle, SIGTERM);
		proc_signal(e->handle, SIGCONT);
		if (wait_handles(&e->handle, 1, ABORT_GRACE_MS) > 0)
			proc_signal(e->handle, SIGKILL);
	}
	launch_reap(e);
}

void launch_abort(struct unit *u)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];

	if (run->state == EL_ALIVE)
		launch_end_group(u);
	/* What the server left is forgotten while the logger drains. */
	unit_forget(u, run);
	unit_forget_cgroup(u);
	if (u->nel == 2 && log->state == EL_ALIVE)
		launch_end_element(log, LOG_DRAIN_MS);
	if (u->nel == 2)
		unit_forget(u, log);
}
