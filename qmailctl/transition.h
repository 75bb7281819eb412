/* transition.h: what qmailctl does to one service.  Each returns an exit
 * code of qmailctl(8) for that service and prints its own report lines. */
#ifndef QMAILCTL_TRANSITION_H
#define QMAILCTL_TRANSITION_H

#include "exitcode.h"
#include "report.h"
#include "unit.h"

/* Each takes the service lock itself. */
int do_start(struct unit *u);
/* qmailctl supervise NAME: start's checks, then the foreground
 * supervisor (returns only on failure). */
int do_supervise(struct unit *u);
int do_stop(struct unit *u);
int do_restart(struct unit *u);
/* The rank of a start among others (workers_run's ahead): the starts
 * whose confirmation takes longest are begun first. */
int start_ahead(const struct unit *u);

int do_zap(struct unit *u);
int do_reload(struct unit *u);
int do_flush(struct unit *u);
int do_pause(struct unit *u);
int do_cont(struct unit *u);

/* Takes the service's lock, waiting at most the transition's timeout
 * (own_ms, or -t); refuses to begin in a worker whose qmailctl was killed
 * meanwhile.  Returns 0, or -1 having reported why. */
int transition_lock(struct unit *u, long own_ms);

/* transition_lock(), then fn under the lock. */
int with_unit_lock(struct unit *u, long own_ms, int (*fn)(struct unit *));

/* Sends sig to element e through its pidfd.  Returns 0 when it was sent,
 * 1 when e had already exited (the caller's wait sees that), and -1 when
 * the kernel refused it (an LSM policy, an emulator without
 * pidfd_send_signal), after reporting why with sayerr(). */
int unit_signal(struct unit *u, const struct element *e, int sig);

/* The parts, for callers that already hold the lock. */
int start_locked(struct unit *u);
int stop_locked(struct unit *u);
int zap_locked(struct unit *u);

#endif
