/* transition.h: what qmailctl does to one service.  Each returns an exit
 * code of qmailctl(8) for that service and prints its own report lines. */
#ifndef QMAILCTL_TRANSITION_H
#define QMAILCTL_TRANSITION_H

#include "exitcode.h"
#include "unit.h"

/* Each takes the service lock itself. */
int do_start(struct unit *u);
int do_stop(struct unit *u);
int do_restart(struct unit *u);

int do_zap(struct unit *u);
int do_reload(struct unit *u);
int do_flush(struct unit *u);
int do_pause(struct unit *u);
int do_cont(struct unit *u);

/* Takes the service's lock, waiting at most the transition's timeout
 * (own_ms, or -t), then runs fn under it. */
static inline int with_unit_lock(struct unit *u, long own_ms,
    int (*fn)(struct unit *))
{
	if (unit_lock(u, unit_timeout(u, own_ms)) < 0)
		return EXIT_FAILED;
	return fn(u);
}

/* The parts, for callers that already hold the lock. */
int start_locked(struct unit *u);
int stop_locked(struct unit *u);
int zap_locked(struct unit *u);

#endif
