/* control.c: reload, flush, pause, cont: one signal, to the right process.
 *
 * Each checks, under the service lock, that the recorded server is the
 * live process before signalling it; a service that is not running is
 * exit 7, as LSB wants for reload. */
#include "transition.h"
#include "group.h"
#include "queue.h"

#include <signal.h>
#include <string.h>

static int running(struct unit *u)
{
	unit_observe(u);
	if (u->el[EL_RUN].state == EL_ALIVE)
		return 1;
	sayerr(u, "not running");
	return 0;
}

static int signal_server(struct unit *u, int sig)
{
	struct element *run = &u->el[EL_RUN];
	int rc = unit_signal(u, run, sig);

	if (rc < 0)
		return EXIT_FAILED;
	if (rc > 0) {
		sayerr(u, "%s %d exited before SIG%s reached it", run->program,
		    (int)run->id.pid, sig_name(sig));
		return EXIT_NOT_RUNNING;
	}
	say(u, "sent SIG%s to %s %d", sig_name(sig), run->program,
	    (int)run->id.pid);
	return EXIT_OK;
}

/* STOP and CONT go to every process of the server: pausing qmail-send
 * alone would let its deliveries run on. */
static int signal_group(struct unit *u, int sig)
{
	struct group_id g;
	int n, err;

	group_of(&u->el[EL_RUN].id, u->cgroup, &g);
	n = group_signal(&g, sig, 0, &err);
	if (err) {
		sayerr(u, "unable to send SIG%s to every process of the group "
		    "(sent to %d): %s", sig_name(sig), n, strerror(err));
		return EXIT_FAILED;
	}
	say(u, "sent SIG%s to %d process%s", sig_name(sig), n,
	    n == 1 ? "" : "es");
	return EXIT_OK;
}

static int with_lock(struct unit *u, int (*fn)(struct unit *, int), int sig)
{
	if (transition_lock(u, u->svc->start_timeout_ms) < 0)
		return EXIT_FAILED;
	if (!running(u))
		return EXIT_NOT_RUNNING;
	if (sig == 0) {
		say(u, "nothing to do (no signal configured for this command)");
		return EXIT_OK;
	}
	return fn(u, sig);
}

int do_reload(struct unit *u)
{
	return with_lock(u, signal_server, u->svc->reload_signal);
}

/* As Life with qmail flushes: qmail-remote skips a host that qmail-tcpto
 * marked down after connect timeouts, and an ALRM does not change that;
 * qmail-tcpok clears the table first. */
static int flush_queue(struct unit *u, int sig)
{
	int rc = queue_tcpok(u), sent = signal_server(u, sig);

	return sent != EXIT_OK ? sent : rc;
}

int do_flush(struct unit *u)
{
	return with_lock(u, flush_queue, u->svc->flush_signal);
}

int do_pause(struct unit *u)
{
	return with_lock(u, signal_group, SIGSTOP);
}

int do_cont(struct unit *u)
{
	return with_lock(u, signal_group, SIGCONT);
}
