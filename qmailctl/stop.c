/* stop.c: stop a service and confirm that nothing of it is left.
 *
 * TERM (then CONT, so a stopped process can act on it) goes to the server
 * element through its verified handle.  When the server has exited, what
 * is left of its process group (tcpserver's per-connection children,
 * qmail-send's helpers) gets TERM too; the logger then sees EOF, drains
 * and exits.  "stopped" is printed only when every element has exited;
 * past the timeout the stop fails and says that zap exists. */
#include "transition.h"
#include "cgroup.h"
#include "clock.h"
#include "group.h"
#include "supervise.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

static int stopped_already(struct unit *u)
{
	struct group_id g;
	int i;

	for (i = 0; i < u->nel; i++) {
		struct element *e = &u->el[i];

		if (e->state == EL_ALIVE)
			return 0;
	}
	/* A server that died while members of its group live on (qmail-send
	 * crashed, its deliveries hang on): the pidfile is the only record
	 * of that group; it is not "not running" yet. */
	if (u->el[EL_RUN].state != EL_ABSENT && u->el[EL_RUN].state != EL_BROKEN) {
		group_of(&u->el[EL_RUN].id, u->cgroup, &g);
		if (group_count(&g) > 0)
			return 0;
	}
	for (i = 0; i < u->nel; i++) {
		struct element *e = &u->el[i];

		if (e->state == EL_STALE)
			say(u, "pid %d in %s is another process now: left alone, "
			    "pidfile removed", (int)e->id.pid, e->pidfile);
		else if (e->state == EL_DEAD || e->state == EL_BROKEN)
			sayv(u, "removing %s pidfile %s (%s)", e->role,
			    e->pidfile, el_state_name(e->state));
		unit_forget(u, e);
	}
	unit_forget_cgroup(u);
	supervise_forget(u);
	say(u, "not running");
	return 1;
}

/* How many processes a failure message names at most. */
#define SHOWN 8

/* Without a cgroup, what the server started and that left its process
 * group (setsid) is out of reach of the group's TERM, and once the
 * server has exited it is no longer even known as the server's: so it is
 * found (zap's finder, group_escaped) while the tree is whole, before
 * any signal, and pinned by a pidfd so that "still running" later can
 * only mean that very process. */
struct escapees {
	int n;
	pid_t pid[SHOWN];
	int fd[SHOWN];
};

static void find_escapees(const struct group_id *g, struct escapees *x)
{
	int i, n = group_escaped(g, x->pid, SHOWN);

	x->n = n < SHOWN ? n : SHOWN;
	for (i = 0; i < x->n; i++)
		x->fd[i] = proc_open_pid(x->pid[i]);
}

/* Keeps those still alive; closes the handles of the others. */
static int escapees_left(struct escapees *x)
{
	int i, n = 0;

	for (i = 0; i < x->n; i++) {
		if (x->fd[i] >= 0 && wait_handles(&x->fd[i], 1, 0) > 0) {
			x->pid[n] = x->pid[i];
			x->fd[n++] = x->fd[i];
		} else if (x->fd[i] >= 0)
			close(x->fd[i]);
	}
	return x->n = n;
}

static void escapees_free(struct escapees *x)
{
	int i;

	for (i = 0; i < x->n; i++)
		if (x->fd[i] >= 0)
			close(x->fd[i]);
	x->n = 0;
}

/* The server has gone but what it started with setsid() lives on: not
 * "stopped".  zap cannot reach them either (they are in no group of
 * ours, and with the server gone no longer its descendants). */
static int escaped_alive(struct unit *u, struct escapees *x)
{
	char list[128];

	group_pid_list(list, sizeof list, x->pid, x->n, x->n);
	sayerr(u, "%s exited, but %d process%s it started left its process "
	    "group with setsid() and still run%s (%s): without a cgroup "
	    "neither stop nor 'qmailctl zap %s' reaches them; end them by "
	    "pid (see qmailctl(8), CGROUPS)", u->el[EL_RUN].program, x->n,
	    x->n == 1 ? "" : "es", x->n == 1 ? "s" : "", list, u->svc->name);
	escapees_free(x);
	return EXIT_FAILED;
}

/* Names what is left of the server's cgroup or process group (not the
 * server, which has exited) and points at zap. */
static void group_left(struct unit *u, const struct group_id *g,
    const char *took)
{
	pid_t pids[SHOWN];
	char list[128];
	int n = group_members(g, pids, SHOWN);

	group_pid_list(list, sizeof list, pids, SHOWN, n);
	if (g->cgroup[0])
		sayerr(u, "%s exited, but %d process%s still in its cgroup %s "
		    "after %s (%s); 'qmailctl zap %s' kills the whole cgroup",
		    u->el[EL_RUN].program, n, n == 1 ? "" : "es", g->cgroup,
		    took, list, u->svc->name);
	else
		sayerr(u, "%s exited, but %d process%s of its process group %d "
		    "still running after %s (%s); 'qmailctl zap %s' kills the "
		    "whole process group", u->el[EL_RUN].program, n,
		    n == 1 ? "" : "es", (int)g->pgid, took, list,
		    u->svc->name);
}

/* Past the timeout: fail and point at zap, or with -k zap now.  e is the
 * element still running, or NULL when only members of its group are. */
static int timed_out(struct unit *u, const struct element *e,
    const struct group_id *g, struct escapees *x, long long t0)
{
	char took[32];

	if (u->opts->kill_after) {
		escapees_free(x);
		say(u, "%s %d still running after %ld ms: zapping (-k)",
		    e ? e->program : u->el[EL_RUN].program,
		    (int)(e ? e->id.pid : u->el[EL_RUN].id.pid),
		    (long)(clock_ms() - t0));
		return zap_locked(u);
	}
	fmt_duration(took, sizeof took, (double)(clock_ms() - t0) / 1000);
	if (!e)
		group_left(u, g, took);
	else if (e == &u->el[EL_RUN])
		sayerr(u, "%s %d still running after %s; 'qmailctl zap %s' "
		    "kills its whole %s", e->program, (int)e->id.pid, took,
		    u->svc->name, g->cgroup[0] ? "cgroup" : "process group");
	else if (escapees_left(x) > 0)
		return escaped_alive(u, x);
	else
		sayerr(u, "%s %d still running after %s (the server is gone; "
		    "what holds its input?)", e->program, (int)e->id.pid, took);
	escapees_free(x);
	return EXIT_FAILED;
}

int stop_locked(struct unit *u)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	struct escapees x = { 0 };
	struct group_id g;
	long long t0 = clock_ms(), deadline;
	char took[32];
	int n;

	unit_observe(u);
	if (u->sup.state != EL_ALIVE && stopped_already(u))
		return EXIT_OK;
	deadline = t0 + unit_timeout(u, u->svc->stop_timeout_ms);
	/* What escaped the server's group is found while the server lives,
	 * whoever stops it. */
	group_of(&run->id, u->cgroup, &g);
	if (run->state == EL_ALIVE)
		find_escapees(&g, &x);
	/* The supervisor stops the elements itself; what it leaves (it was
	 * killed meanwhile) is stopped below as an unsupervised service. */
	if ((n = supervise_stop(u, deadline)) != 0) {
		if (n < 0) {
			escapees_free(&x);
			return EXIT_FAILED;
		}
		/* The server itself, else what is left of its group (named
		 * by group_left), else the supervisor. */
		if (run->state == EL_ALIVE &&
		    wait_handles(&run->handle, 1, 0) > 0)
			return timed_out(u, run, &g, &x, t0);
		return timed_out(u, run->state != EL_ABSENT &&
		    group_count(&g) > 0 ? NULL : &u->sup, &g, &x, t0);
	}
	unit_observe(u);
	if (run->state == EL_ALIVE) {
		group_of(&run->id, u->cgroup, &g);
		escapees_free(&x);
		find_escapees(&g, &x);
	}
	if (run->state == EL_ALIVE) {
		if (unit_signal(u, run, SIGTERM) < 0) {
			escapees_free(&x);
			return EXIT_FAILED;
		}
		proc_signal(run->handle, SIGCONT);
		if (wait_handles(&run->handle, 1, clock_left(deadline)) > 0)
			return timed_out(u, run, &g, &x, t0);
	}
	if (run->state != EL_ABSENT && run->state != EL_BROKEN &&
	    (n = group_signal(&g, SIGTERM, SIGCONT, NULL)) > 0) {
		sayv(u, "sent TERM to %d process%s left in %s's %s", n,
		    n == 1 ? "" : "es", run->program,
		    g.cgroup[0] ? "cgroup" : "process group");
	}
	if (u->nel == 2 && log->state == EL_ALIVE &&
	    wait_handles(&log->handle, 1, clock_left(deadline)) > 0)
		return timed_out(u, run->state != EL_ABSENT &&
		    group_count(&g) > 0 ? NULL : log, &g, &x, t0);
	if (run->state != EL_ABSENT && group_wait_empty(&g, deadline) > 0)
		return timed_out(u, NULL, &g, &x, t0);
	unit_forget(u, run);
	if (u->nel == 2)
		unit_forget(u, log);
	unit_forget_cgroup(u);
	supervise_forget(u);
	if (escapees_left(&x) > 0)
		return escaped_alive(u, &x);
	fmt_duration(took, sizeof took, (double)(clock_ms() - t0) / 1000);
	say(u, "stopped in %s", took);
	return EXIT_OK;
}

int do_stop(struct unit *u)
{
	return with_unit_lock(u, u->svc->stop_timeout_ms, stop_locked);
}

static int restart_locked(struct unit *u)
{
	int rc;

	rc = stop_locked(u);
	if (rc != EXIT_OK)
		return rc;
	return start_locked(u);
}

int do_restart(struct unit *u)
{
	return with_unit_lock(u, u->svc->stop_timeout_ms, restart_locked);
}
