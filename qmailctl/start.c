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
#include "launch.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

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

/* The supervisor is a program of its own, installed beside qmailctl. */
static int supervisor_installed(struct unit *u)
{
	char prog[PATH_MAX] = SUPERVISE_PROG;

	if (supervise_program(prog, sizeof prog) == 0)
		return EXIT_OK;
	sayerr(u, "%s is not installed beside qmailctl (%s: %s)",
	    SUPERVISE_PROG, prog, strerror(errno));
	return EXIT_NOT_INSTALLED;
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
	supervise_forget(u);    /* a dead supervisor's pidfile, a state */
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

/* Where the server's cgroup goes: below our own cgroup where systemd
 * delegated it to us (the foreground supervisor of qmail@.service), as
 * the leaf "server" beside the leaf "supervise" that we move into (cgroup
 * v2 puts processes in leaves only).  -1 if not delegated. */
static int delegated_cgroup(struct unit *u, char *path, size_t size)
{
	char base[PATH_MAX], self[PATH_MAX + 16];
	struct err e;
	int entered;

	if (cgroup_delegated_base(base, sizeof base) < 0)
		return -1;
	/* Said, not only with -v: zap then reaches less than it should. */
	snprintf(self, sizeof self, "%s/supervise", base);
	if ((size_t)snprintf(path, size, "%s/server", base) >= size) {
		errno = ENAMETOOLONG;
		entered = -1;
	} else
		entered = cgroup_create(self) < 0 ? -1 : cgroup_enter(self);
	if (entered < 0) {
		preflight_warn(u, "unable to use the delegated cgroup %s (%s): "
		    "zap will use the process group", base, strerror(errno));
		path[0] = 0;
	} else if (cgroup_create(path) < 0) {
		preflight_warn(u, "unable to create cgroup %s (%s): zap will "
		    "use the process group", path, strerror(errno));
		path[0] = 0;
	} else if (cgroup_record(u->rundir->fd, u->rundir->path,
	    u->svc->name, path, &e) < 0) {
		preflight_warn(u, "%s: zap will use the process group", e.text);
		cgroup_remove(path);
		path[0] = 0;
	}
	return 0;
}

/* Where cgroup v2 can be used (site key cgroup = auto, the default), the
 * server is started in a cgroup of its own, so that zap reaches even what
 * leaves its process group.  A cgroup that still holds processes of an
 * earlier run means orphans: starting beside them is refused. */
static int prepare_cgroup(struct unit *u, int foreground)
{
	char path[PATH_MAX];
	int n;

	if (u->cgroup[0] && (n = cgroup_count(u->cgroup)) > 0) {
		sayerr(u, "%d process%s of an earlier run still in cgroup %s; "
		    "'qmailctl zap %s' ends them", n, n == 1 ? "" : "es",
		    u->cgroup, u->svc->name);
		return EXIT_FAILED;
	}
	unit_forget_cgroup(u);
	u->cgroup[0] = 0;
	if (u->site->cgroup == SITE_CGROUP_NO)
		return EXIT_OK;
	if (foreground && delegated_cgroup(u, path, sizeof path) == 0) {
		if (path[0]) {
			snprintf(u->cgroup, sizeof u->cgroup, "%s", path);
			sayv(u, "server in cgroup %s (delegated)", path);
		}
		return EXIT_OK;
	}
	/* systemd's tree is systemd's, but for what it delegates */
	if (cgroup_manager_owns_tree()) {
		sayv(u, "systemd owns the cgroup tree and delegated none to "
		    "qmailctl: zap will use the process group");
		return EXIT_OK;
	}
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

/* Waits out a stop whose qmailctl was killed (its supervisor finishes
 * it).  EXIT_OK once the supervisor is gone. */
static int wait_stopping(struct unit *u)
{
	if (u->sup.state != EL_ALIVE || !supervise_stopping(u))
		return EXIT_OK;
	wait_handles(&u->sup.handle, 1, unit_timeout(u, u->svc->stop_timeout_ms));
	unit_observe(u);
	if (u->sup.state == EL_ALIVE) {
		sayerr(u, "%s %d is still stopping the service",
		    SUPERVISE_PROG, (int)u->sup.id.pid);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

/* Everything a start does before it spawns: what a previous run left
 * cleared, the programs found, the preflight checks, the cgroup. */
static int prepare(struct unit *u, char paths[EL_MAX][PATH_MAX],
    int foreground)
{
	int rc;

	if ((rc = clear_leftovers(u)) != EXIT_OK ||
	    (rc = resolve_programs(u, paths)) != EXIT_OK ||
	    ((foreground || u->svc->sup.restart) &&
	    (rc = supervisor_installed(u)) != EXIT_OK) ||
	    (rc = preflight(u)) != EXIT_OK ||
	    (rc = prepare_cgroup(u, foreground)) != EXIT_OK)
		return rc;
	return EXIT_OK;
}

/* The supervisor died and what it kept runs on: a new one takes it over
 * (adopt.h).  What it cannot take over it restarts, and says so. */
static int adopt_locked(struct unit *u)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	struct started st;
	char took[32];
	int rc;

	if ((rc = supervisor_installed(u)) != EXIT_OK)
		return rc;
	memset(&st, 0, sizeof st);
	st.log_err = -1;
	st.t0 = clock_ms();
	rc = supervise_adopt(u, st.t0 + unit_timeout(u,
	    u->svc->start_timeout_ms), &st);
	if (rc == -1) {
		sayerr(u, "unable to put it under a new %s: %s (%s)",
		    SUPERVISE_PROG, st.why, run->state == EL_ALIVE ? "what runs "
		    "is left running, unsupervised" : "the service is down");
		return st.code ? st.code : EXIT_FAILED;
	}
	if (rc == -2) {
		sayerr(u, "under a new %s %d, but %s", SUPERVISE_PROG,
		    (int)u->sup.id.pid, st.why);
		return EXIT_FAILED;
	}
	fmt_duration(took, sizeof took, (double)(clock_ms() - st.t0) / 1000);
	el_name_running(run);
	el_name_running(log);
	if (u->nel == 2)
		say(u, "adopted by %s %d (%s %d, %s %d), ready in %s",
		    SUPERVISE_PROG, (int)u->sup.id.pid, run->program,
		    (int)run->id.pid, log->program, (int)log->id.pid, took);
	else
		say(u, "adopted by %s %d (%s %d), ready in %s", SUPERVISE_PROG,
		    (int)u->sup.id.pid, run->program, (int)run->id.pid, took);
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
	/* A stop whose qmailctl was killed: its supervisor finishes it;
	 * start begins once it has. */
	if ((rc = wait_stopping(u)) != EXIT_OK)
		return rc;
	if (u->sup.state == EL_ALIVE && run->state != EL_ALIVE) {
		say(u, "already running (%s %d is restarting it)",
		    SUPERVISE_PROG, (int)u->sup.id.pid);
		return EXIT_OK;
	}
	if (run->state == EL_ALIVE && u->sup.state != EL_ALIVE &&
	    u->svc->sup.restart)
		return adopt_locked(u);
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
	if ((rc = prepare(u, paths, 0)) != EXIT_OK)
		return rc;

	memset(&st, 0, sizeof st);
	/* A supervised logger is the supervisor's child: it keeps the
	 * logger's stderr itself (supervise.c). */
	st.log_err = u->nel == 2 && !u->svc->sup.restart ?
	    logger_stderr_open() : -1;
	multilog_mark(u->svc, &st.mark);
	st.t0 = clock_ms();
	deadline = st.t0 + unit_timeout(u, u->svc->start_timeout_ms);
	if (u->svc->sup.restart)
		rc = supervise_launch(u, deadline, &st);
	else if ((rc = launch_all(u, paths, &st)) < 0 ||
	    (rc = launch_wait_ready(u, deadline, -1, &st)) < 0)
		launch_abort(u);
	logger_stderr_close(st.log_err);
	/* the wait is over: the probe may say its goodbye */
	probe_finish();
	if (rc < 0) {
		/* What the server said during this start, never before it. */
		multilog_tail(u->svc, &st.mark, tail, sizeof tail);
		if (tail[0])
			sayerr(u, "%s (log: %s)", st.why, tail);
		else
			sayerr(u, "%s", st.why);
		return st.code ? st.code : EXIT_FAILED;
	}
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

/* A settle is a wait in time alone, which overlaps best with everyone
 * else's work when it begins first; then a probe through TLS, which
 * waits for stunnel's start and a handshake; then the plain probes. */
int start_ahead(const struct unit *u)
{
	switch (u->svc->probe.kind) {
	case PROBE_NONE:
		return u->svc->settle_ms > 0 ? 2 : 0;
	case PROBE_TLS:
	case PROBE_POP3_STLS:
	case PROBE_SMTP_STARTTLS:
		return 1;
	case PROBE_TCP:
		break;
	}
	return 0;
}

int do_start(struct unit *u)
{
	return with_unit_lock(u, u->svc->start_timeout_ms, start_locked);
}

/* qmailctl supervise NAME: start's checks, then this process becomes the
 * service's supervisor, in the foreground, for a service manager whose
 * main process it is (qmail@.service).  A service that runs already is
 * not taken over: whoever started it keeps it. */
static int supervise_locked(struct unit *u)
{
	char paths[EL_MAX][PATH_MAX];
	struct element *run = &u->el[EL_RUN];
	int rc;

	unit_observe(u);
	if ((rc = wait_stopping(u)) != EXIT_OK)
		return rc;
	if (u->sup.state == EL_ALIVE || run->state == EL_ALIVE) {
		sayerr(u, "already running (%s %d), not started by this "
		    "command: 'qmailctl stop %s' first", u->sup.state ==
		    EL_ALIVE ? SUPERVISE_PROG : run->program, (int)(u->sup.state
		    == EL_ALIVE ? u->sup.id.pid : run->id.pid), u->svc->name);
		return EXIT_FAILED;
	}
	if ((rc = prepare(u, paths, 1)) != EXIT_OK)
		return rc;
	supervise_exec_foreground(u);
	sayerr(u, "unable to become %s: %s", SUPERVISE_PROG, strerror(errno));
	launch_abort(u);
	return EXIT_FAILED;
}

int do_supervise(struct unit *u)
{
	return with_unit_lock(u, u->svc->start_timeout_ms, supervise_locked);
}
