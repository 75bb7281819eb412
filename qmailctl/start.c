/* start.c: start a service and confirm it by looking.
 *
 * The order: lock, observe, clear what a previous run left, preflight
 * (programs installed, certificates), spawn the logger then the server,
 * confirm every exec, then confirm readiness: the probe must answer (or,
 * with no probe, every element must stay alive for `settle` ms).  An element
 * that exits while we wait is noticed at once through its pidfd.  Any
 * failure takes down everything this start created. */
#include "transition.h"
#include "cgroup.h"
#include "clock.h"
#include "group.h"
#include "msg.h"
#include "multilog.h"
#include "preflight.h"
#include "probe.h"
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
/* A failed start gives what it created this long to exit on TERM, then
 * kills it; the logger this long to drain after the server is gone. */
#define ABORT_GRACE_MS 1000
#define LOG_DRAIN_MS 1000

struct started {
	char why[1024];         /* why the start failed */
	char tls[128];          /* what the probe negotiated */
	long long t0;
	int log_err;            /* the logger's stderr (multilog.h), or -1 */
	struct log_mark mark;   /* where its current file stood before */
};

/* Resolves argv[0] of every element in the service's PATH. */
static int resolve_programs(struct unit *u, char paths[EL_MAX][PATH_MAX])
{
	int i;

	for (i = 0; i < u->nel; i++) {
		if (spawn_resolve(u->el[i].argv[0], u->site->path, paths[i],
		    PATH_MAX) == 0)
			continue;
		if (errno == EACCES)
			sayerr(u, "%s is not executable", paths[i]);
		else
			sayerr(u, "%s is not installed (not found in %s)",
			    u->el[i].argv[0], u->site->path);
		return EXIT_NOT_INSTALLED;
	}
	return EXIT_OK;
}

/* A previous run may have left pidfiles of dead processes, or a logger
 * still draining sessions of a dead server: clear them so the new start
 * owns every pidfile it writes. */
static int clear_leftovers(struct unit *u)
{
	struct element *run = &u->el[EL_RUN];
	struct group_id g;
	int i, n;

	/* A server that died while its group lives on (qmail-send crashed,
	 * its deliveries hang): its pidfile is the only record of that group.
	 * Clearing it and starting beside the group would orphan it. */
	if (run->state == EL_DEAD || run->state == EL_STALE) {
		group_of(&run->id, u->cgroup, &g);
		if ((n = group_count(&g)) > 0) {
			sayerr(u, "%d process%s of %s %d's group (an earlier run) "
			    "still running; 'qmailctl zap %s' ends them", n,
			    n == 1 ? "" : "es", run->program, (int)run->id.pid,
			    u->svc->name);
			return EXIT_FAILED;
		}
	}

	rundir_sweep(u->rundir, u->svc->name);
	for (i = 0; i < u->nel; i++) {
		struct element *e = &u->el[i];

		if (e->state == EL_ALIVE) {
			if (unit_signal(u, e, SIGTERM) < 0)
				return EXIT_FAILED;
			proc_signal(e->handle, SIGCONT);
			if (wait_handles(&e->handle, 1, ABORT_GRACE_MS) > 0) {
				sayerr(u, "%s %d (left from an earlier run) did "
				    "not exit on TERM", e->program, (int)e->id.pid);
				return EXIT_FAILED;
			}
		}
		if (e->state != EL_ABSENT) {
			sayv(u, "removing %s pidfile %s (%s)", e->role,
			    e->pidfile, el_state_name(e->state));
			unit_forget(u, e);
		}
	}
	return EXIT_OK;
}

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

static int spawn_element(struct unit *u, int which, const char *path,
    char **env, int in, int out, int err, struct started *st)
{
	struct element *e = &u->el[which];
	struct spawn_req rq;
	struct proc_info pi;
	char why[900], **argv;
	pid_t pid;

	memset(&rq, 0, sizeof rq);
	rq.argv = (char *const *)e->argv;
	rq.envp = env;
	rq.dir = u->svc->directory;
	rq.pidfile = e->pidfile;
	rq.pidfile_dir = u->rundir->fd;
	rq.fd_in = in;
	rq.fd_out = out;
	rq.fd_err = err;
	rq.new_group = 1;
	rq.memory = which == EL_RUN ? u->svc->memory : 0;
	rq.cgroup = which == EL_RUN ? u->cgroup : NULL;
	/* exec the resolved path, but keep the configured argv[0] */
	rq.argv = argv = argv_copy(e->argv);
	argv[0] = (char *)path;
	pid = spawn(&rq, why, sizeof why);
	free(argv);
	if (pid < 0) {
		snprintf(st->why, sizeof st->why, "%s: %s", e->program, why);
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
static int spawn_all(struct unit *u, char paths[EL_MAX][PATH_MAX],
    struct started *st)
{
	char **env = unit_env(u);
	int pipefd[2] = { -1, -1 }, rc = -1;

	if (u->nel == 2 && pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(st->why, sizeof st->why, "unable to create a pipe: %s",
		    strerror(errno));
		goto out;
	}
	if (u->nel == 2 && spawn_element(u, EL_LOG, paths[EL_LOG], env,
	    pipefd[0], -1, st->log_err, st) < 0)
		goto out;
	rc = spawn_element(u, EL_RUN, paths[EL_RUN], env, -1, pipefd[1],
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

static int settle(struct unit *u, long long deadline, struct started *st)
{
	long long until = clock_ms() + u->svc->settle_ms;
	struct pollfd pf[EL_MAX];
	int i;

	if (until > deadline)
		until = deadline;
	for (i = 0; i < u->nel; i++) {
		pf[i].fd = u->el[i].handle;
		pf[i].events = POLLIN;
	}
	while (clock_left(until) > 0)
		if (poll(pf, (nfds_t)u->nel, clock_left(until)) > 0)
			break;
	return element_exited(u, st) ? -1 : 0;
}

static int wait_ready(struct unit *u, long long deadline, struct started *st)
{
	struct probe_result r;
	struct pollfd pf[EL_MAX];
	char reason[sizeof r.err.text] = "probe never ran";
	int i, delay = PROBE_RETRY_MIN_MS, attempt;

	if (u->svc->probe.kind == PROBE_NONE)
		return settle(u, deadline, st);
	for (i = 0; i < u->nel; i++) {
		pf[i].fd = u->el[i].handle;
		pf[i].events = POLLIN;
	}
	for (;;) {
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
		poll(pf, (nfds_t)u->nel, clock_backoff(&delay, deadline,
		    r.refused ? PROBE_REFUSED_MAX_MS : PROBE_RETRY_MAX_MS));
	}
}

static void reap(struct element *e)
{
	if (e->child > 0) {
		while (waitpid(e->child, NULL, 0) < 0 && errno == EINTR)
			;
		e->child = 0;
	}
}

/* Takes down everything this start created: the server's whole group
 * (TERM, then KILL), then the logger once it has drained. */
static void start_abort(struct unit *u)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	struct group_id g;

	if (run->state == EL_ALIVE) {
		group_of(&run->id, u->cgroup, &g);
		group_signal(&g, SIGTERM, SIGCONT, NULL);
		if (group_wait_empty(&g, clock_ms() + ABORT_GRACE_MS) > 0) {
			group_kill(&g, NULL);
			group_wait_empty(&g, clock_ms() + ABORT_GRACE_MS);
		}
		reap(run);
	}
	if (u->nel == 2 && log->state == EL_ALIVE) {
		if (wait_handles(&log->handle, 1, LOG_DRAIN_MS) > 0) {
			proc_signal(log->handle, SIGTERM);
			if (wait_handles(&log->handle, 1, ABORT_GRACE_MS) > 0)
				proc_signal(log->handle, SIGKILL);
		}
		reap(log);
	}
	unit_forget(u, run);
	if (u->nel == 2)
		unit_forget(u, log);
	if (u->cgroup[0])
		cgroup_remove(u->cgroup);
}

/* Where cgroup v2 can be used (site key cgroup = auto, the default), the
 * server is started in a cgroup of its own, so that zap reaches even what
 * leaves its process group.  A cgroup that still holds processes of an
 * earlier run means orphans: starting beside them is refused. */
static int prepare_cgroup(struct unit *u)
{
	char path[PATH_MAX];
	int n;

	if (u->cgroup[0] && (n = cgroup_count(u->cgroup)) > 0) {
		sayerr(u, "%d process%s of an earlier run still in cgroup %s; "
		    "'qmailctl zap %s' ends them", n, n == 1 ? "" : "es",
		    u->cgroup, u->svc->name);
		return EXIT_FAILED;
	}
	u->cgroup[0] = 0;
	if (u->site->cgroup == SITE_CGROUP_NO)
		return EXIT_OK;
	if (cgroup_path(u->rundir->path, u->svc->name, path, sizeof path) < 0) {
		sayv(u, "no cgroup v2 mounted: zap will use the process group");
		return EXIT_OK;
	}
	if (cgroup_create(path) < 0) {
		sayv(u, "unable to create cgroup %s (%s): zap will use the "
		    "process group", path, strerror(errno));
		return EXIT_OK;
	}
	snprintf(u->cgroup, sizeof u->cgroup, "%s", path);
	sayv(u, "server in cgroup %s", path);
	return EXIT_OK;
}

int start_locked(struct unit *u)
{
	char paths[EL_MAX][PATH_MAX], tail[512], took[32];
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	struct started st;
	long long deadline;
	int rc;

	unit_observe(u);
	if (run->state == EL_ALIVE) {
		if (u->nel == 2 && log->state != EL_ALIVE)
			say(u, "already running (%s %d), but its logger is "
			    "gone: restart to repair", run->program,
			    (int)run->id.pid);
		else
			say(u, "already running (%s %d)", run->program,
			    (int)run->id.pid);
		return EXIT_OK;
	}
	if ((rc = clear_leftovers(u)) != EXIT_OK ||
	    (rc = resolve_programs(u, paths)) != EXIT_OK ||
	    (rc = preflight(u)) != EXIT_OK ||
	    (rc = prepare_cgroup(u)) != EXIT_OK)
		return rc;

	memset(&st, 0, sizeof st);
	st.log_err = u->nel == 2 ? logger_stderr_open() : -1;
	multilog_mark(u->svc, &st.mark);
	st.t0 = clock_ms();
	deadline = st.t0 + unit_timeout(u, u->svc->start_timeout_ms);
	if (spawn_all(u, paths, &st) < 0 || wait_ready(u, deadline, &st) < 0) {
		start_abort(u);
		logger_stderr_close(st.log_err);
		/* What the server said during this start, never before it. */
		multilog_tail(u->svc, &st.mark, tail, sizeof tail);
		if (tail[0])
			sayerr(u, "%s (log: %s)", st.why, tail);
		else
			sayerr(u, "%s", st.why);
		return EXIT_FAILED;
	}
	logger_stderr_close(st.log_err);
	fmt_duration(took, sizeof took, (double)(clock_ms() - st.t0) / 1000);
	el_name_running(run);
	el_name_running(log);
	if (u->nel == 2)
		say(u, "started (%s %d, %s %d), ready in %s", run->program,
		    (int)run->id.pid, log->program, (int)log->id.pid, took);
	else
		say(u, "started (%s %d), ready in %s", run->program,
		    (int)run->id.pid, took);
	if (st.tls[0])
		sayv(u, "probe negotiated %s", st.tls);
	return EXIT_OK;
}

int do_start(struct unit *u)
{
	return with_unit_lock(u, u->svc->start_timeout_ms, start_locked);
}
