/* transition.h: what qmailctl does to one service.  Each returns an exit
 * code of qmailctl(8) for that service and prints its own report lines. */
#ifndef QMAILCTL_TRANSITION_H
#define QMAILCTL_TRANSITION_H

#include "unit.h"

/* LSB init-script exit codes, as SPEC.md and qmailctl(8) document them. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* a transition failed or was not confirmed */
	EXIT_USAGE = 2,
	EXIT_PRIVILEGE = 4,
	EXIT_NOT_INSTALLED = 5,
	EXIT_CONFIG = 6,
	EXIT_NOT_RUNNING = 7,
};

/* status exit codes (LSB "status" action). */
enum {
	STATUS_RUNNING = 0,
	STATUS_DEAD = 1,        /* dead, but a pidfile remains */
	STATUS_STOPPED = 3,
	STATUS_UNKNOWN = 4,
};

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
