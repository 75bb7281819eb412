/* transition.c: what the transitions (start, stop, zap, the control
 * signals) share: the service lock taken under the workers' rule, and a
 * signal to an element through the handle its observation verified. */
#include "transition.h"
#include "proc.h"
#include "report.h"
#include "workers.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int transition_lock(struct unit *u, long own_ms)
{
	struct err e;

	if (unit_lock(u, unit_timeout(u, own_ms), &e) < 0) {
		sayerr(u, "%s", e.text);
		return -1;
	}
	/* Killed while we waited for the lock: nothing is begun yet and
	 * nobody waits for us; beginning now could overtake a command run
	 * after the kill.  Once the lock is held, we finish regardless. */
	if (worker_orphaned()) {
		close(u->lock);
		u->lock = -1;
		sayerr(u, "qmailctl was killed before the transition began: "
		    "nothing done");
		return -1;
	}
	return 0;
}

int with_unit_lock(struct unit *u, long own_ms, int (*fn)(struct unit *))
{
	if (transition_lock(u, own_ms) < 0)
		return EXIT_FAILED;
	return fn(u);
}

int unit_signal(struct unit *u, const struct element *e, int sig)
{
	if (proc_signal(e->handle, sig) == 0)
		return 0;
	if (errno == ESRCH)
		return 1;
	sayerr(u, "unable to send SIG%s to %s %d: %s", sig_name(sig),
	    e->program, (int)e->id.pid, strerror(errno));
	return -1;
}
