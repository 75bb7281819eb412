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
		unit_forget(e);
	}
	if (u->cgroup[0])
		cgroup_remove(u->cgroup);
	supervise_forget(u);
	say(u, "not running");
	return 1;
}

/* Past the timeout: fail and point at zap, or with -k zap now. */
static int timed_out(struct unit *u, const struct element *e, int left,
    long long t0)
{
	char took[32];

	if (u->opts->kill_after) {
		say(u, "%s %d still running after %ld ms: zapping (-k)",
		    e->program, (int)e->id.pid, (long)(clock_ms() - t0));
		return zap_locked(u);
	}

	fmt_duration(took, sizeof took, (double)(clock_ms() - t0) / 1000);
	if (left > 0)
		sayerr(u, "%s %d: %d process%s of its group still running "
		    "after %s; 'qmailctl zap %s' kills the whole group",
		    e->program, (int)e->id.pid, left, left == 1 ? "" : "es",
		    took, u->svc->name);
	else
		sayerr(u, "%s %d still running after %s; 'qmailctl zap %s' "
		    "kills its whole process group", e->program,
		    (int)e->id.pid, took, u->svc->name);
	return EXIT_FAILED;
}

int stop_locked(struct unit *u)
{
	struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	struct group_id g;
	long long t0 = clock_ms(), deadline;
	char took[32];
	int left = 0, n;

	unit_observe(u);
	if (u->sup.state != EL_ALIVE && stopped_already(u))
		return EXIT_OK;
	deadline = t0 + unit_timeout(u, u->svc->stop_timeout_ms);
	/* The supervisor stops the elements itself; what it leaves (it was
	 * killed meanwhile) is stopped below as an unsupervised service. */
	if ((n = supervise_stop(u, deadline)) != 0) {
		if (n < 0)
			return EXIT_FAILED;
		return timed_out(u, run->state == EL_ALIVE ? run : &u->sup, 0,
		    t0);
	}
	unit_observe(u);
	group_of(&run->id, u->cgroup, &g);
	if (run->state == EL_ALIVE) {
		if (unit_signal(u, run, SIGTERM) < 0)
			return EXIT_FAILED;
		proc_signal(run->handle, SIGCONT);
		if (wait_handles(&run->handle, 1, clock_left(deadline)) > 0)
			return timed_out(u, run, 0, t0);
	}
	if (run->state != EL_ABSENT && run->state != EL_BROKEN &&
	    (n = group_signal(&g, SIGTERM, SIGCONT, NULL)) > 0) {
		sayv(u, "sent TERM to %d process%s left in %s's group", n,
		    n == 1 ? "" : "es", run->program);
	}
	if (u->nel == 2 && log->state == EL_ALIVE &&
	    wait_handles(&log->handle, 1, clock_left(deadline)) > 0) {
		left = run->state == EL_ABSENT ? 0 : group_count(&g);
		return timed_out(u, log, left, t0);
	}
	if (run->state != EL_ABSENT && (left = group_wait_empty(&g, deadline)))
		return timed_out(u, run, left, t0);
	unit_forget(run);
	if (u->nel == 2)
		unit_forget(log);
	if (u->cgroup[0])
		cgroup_remove(u->cgroup);
	supervise_forget(u);
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
