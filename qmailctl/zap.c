/* zap.c: take a wedged service down, whole.
 *
 * qmail-send on TERM waits for its deliveries, and a hung qmail-remote may
 * wait 1200 s per reply.  zap sends TERM (and CONT) to every process of
 * the server (its cgroup, else its process group), gives them zap_grace ms,
 * sends KILL to what is left, and confirms by looking at process states
 * that nothing lives (a zombie has exited; kill(-pgid, 0) would still count
 * it).  The logger is spared until the end so that it drains what the
 * dying processes wrote.  A leader that died before its group is no
 * obstacle: the group is found by the recorded pgid, session and start
 * time, never by name. */
#include "transition.h"
#include "cgroup.h"
#include "clock.h"
#include "group.h"
#include "supervise.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

/* After KILL the kernel needs a moment to turn a thousand processes into
 * zombies; past this something is in uninterruptible sleep. */
#define ZAP_CONFIRM_MS 5000
/* The logger drains and exits on EOF once every writer is gone. */
#define ZAP_LOG_DRAIN_MS 2000
#define ESCAPED_SHOWN 8

struct zapped {
	int found, term, kill, escaped;
	int kill_refused;       /* errno of a refused KILL, else 0 */
	int kept;               /* a supervisor or logger lived: during a
	                         * backoff wait they are all there is */
	pid_t esc[ESCAPED_SHOWN];
};

static int has_group(const struct unit *u)
{
	const struct element *run = &u->el[EL_RUN];

	if (run->state == EL_ALIVE || run->state == EL_DEAD ||
	    run->state == EL_STALE)
		return 1;
	/* No pidfile, but the cgroup still holds processes (orphans that
	 * start refuses to run beside): the cgroup is ours, end them. */
	return u->cgroup[0] && cgroup_count(u->cgroup) > 0;
}

static void report_escaped(struct unit *u, const struct zapped *z)
{
	char list[256];

	group_pid_list(list, sizeof list, z->esc, ESCAPED_SHOWN, z->escaped);
	sayerr(u, "%d process%s left the process group with setsid() and "
	    "%s not killed (%s); only a cgroup reaches them (see "
	    "qmailctl(8), CGROUPS)", z->escaped, z->escaped == 1 ? "" : "es",
	    z->escaped == 1 ? "was" : "were", list);
}

static void report_zapped(struct unit *u, const struct zapped *z,
    long long t0)
{
	char took[32];
	int total = z->found;

	/* Processes forked after we counted are the ones TERM or KILL
	 * reached beyond the count. */
	if (z->term > total)
		total = z->term;
	if (z->kill > total)
		total = z->kill;
	fmt_duration(took, sizeof took, (double)(clock_ms() - t0) / 1000);
	if (total == 0 && z->kept)
		say(u, "no server was running (a restart was pending); "
		    "supervisor and logger ended in %s", took);
	else if (total == 0)
		say(u, "not running");
	else
		say(u, "zapped %d process%s (%d by KILL) in %s", total,
		    total == 1 ? "" : "es", z->kill, took);
}

/* TERM, grace, KILL, confirm.  Returns the members left alive; the
 * counts add up over calls. */
static int kill_group(struct unit *u, const struct group_id *g,
    struct zapped *z)
{
	long grace = u->svc->zap_grace_ms;

	z->found += group_count(g);
	z->term += group_signal(g, SIGTERM, SIGCONT, NULL);
	if (group_wait_empty(g, clock_ms() + grace) == 0)
		return 0;
	z->kill += group_kill(g, &z->kill_refused);
	/* A refused KILL will not be undone by waiting. */
	return group_wait_empty(g, clock_ms() +
	    (z->kill_refused ? 0 : ZAP_CONFIRM_MS));
}

/* The group of the server that runs now, as observed: killed. */
static int kill_server(struct unit *u, struct zapped *z)
{
	struct group_id g;

	if (!has_group(u))
		return 0;
	group_of(&u->el[EL_RUN].id, u->cgroup, &g);
	if (u->cgroup[0])
		sayv(u, "zapping cgroup %s", u->cgroup);
	else
		sayv(u, "zapping process group %d", (int)g.pgid);
	z->escaped = group_escaped(&g, z->esc, ESCAPED_SHOWN);
	return kill_group(u, &g, z);
}

/* A refused or failed KILL: what is left, said. */
static int survivors(struct unit *u, int left, const struct zapped *z)
{
	if (left > 0 && z->kill_refused) {
		sayerr(u, "%d process%s of the group still running: unable to "
		    "send SIGKILL: %s", left, left == 1 ? "" : "es",
		    strerror(z->kill_refused));
		return 1;
	}
	if (left > 0) {
		sayerr(u, "%d process%s of the group survived KILL after %d ms "
		    "(uninterruptible sleep?)", left, left == 1 ? "" : "es",
		    ZAP_CONFIRM_MS);
		return 1;
	}
	return 0;
}

/* The logger exits on EOF once the last writer is gone; if something
 * that escaped still holds the pipe (then there is no point waiting), the
 * logger is ended too. */
static int end_logger(struct unit *u, int escaped)
{
	struct element *log = &u->el[EL_LOG];

	if (u->nel < 2 || log->state != EL_ALIVE)
		return 0;
	if (!escaped && wait_handles(&log->handle, 1, ZAP_LOG_DRAIN_MS) == 0)
		return 0;
	proc_signal(log->handle, SIGTERM);
	proc_signal(log->handle, SIGCONT);
	if (wait_handles(&log->handle, 1, ZAP_LOG_DRAIN_MS) == 0)
		return 0;
	proc_signal(log->handle, SIGKILL);
	return wait_handles(&log->handle, 1, ZAP_CONFIRM_MS);
}

int zap_locked(struct unit *u)
{
	struct element *run = &u->el[EL_RUN];
	struct zapped z;
	long long t0 = clock_ms();
	int i;

	memset(&z, 0, sizeof z);
	unit_observe(u);
	z.kept = u->sup.state == EL_ALIVE ||
	    (u->nel > 1 && u->el[EL_LOG].state == EL_ALIVE);
	supervise_hold(u);      /* it restarts nothing from now on */
	/* what runs now: a restart may have come before the hold did */
	unit_observe(u);
	if (survivors(u, kill_server(u, &z), &z))
		return EXIT_FAILED;
	if (supervise_end(u) > 0) {
		sayerr(u, "%s %d did not exit", SUPERVISE_PROG,
		    (int)u->sup.id.pid);
		return EXIT_FAILED;
	}
	/* A server it spawned before it read the hold, left behind when it
	 * was ended: zap reaches that one too. */
	unit_observe(u);
	if (run->state == EL_ALIVE &&
	    survivors(u, kill_server(u, &z), &z))
		return EXIT_FAILED;
	if (end_logger(u, z.escaped) > 0) {
		sayerr(u, "logger %s %d did not exit", u->el[EL_LOG].program,
		    (int)u->el[EL_LOG].id.pid);
		return EXIT_FAILED;
	}
	for (i = 0; i < u->nel; i++)
		unit_forget(u, &u->el[i]);
	supervise_forget(u);
	unit_forget_cgroup(u);
	report_zapped(u, &z, t0);
	if (z.escaped > 0) {
		report_escaped(u, &z);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int do_zap(struct unit *u)
{
	return with_unit_lock(u, u->svc->stop_timeout_ms, zap_locked);
}
