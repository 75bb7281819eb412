/* backoff.h: the supervisor's restart policy, apart from any process:
 * when an element that exited unasked is started again, and when the
 * service is given up (qmailctl.conf(5): restart_limit, backoff_max).
 *
 * The first unexpected exit is restarted at once, the next after
 * BACKOFF_MIN_MS, each further one after twice the wait before, up to
 * backoff_max; an element that stayed up BACKOFF_RESET_MS has recovered
 * and is restarted at once again.  restart_limit COUNT exits (of either
 * element) within SECONDS give the service up.  Times are clock_ms(). */
#ifndef QMAILCTL_BACKOFF_H
#define QMAILCTL_BACKOFF_H

#include "conf.h"
#include "unit.h"

#define BACKOFF_MIN_MS 100
#define BACKOFF_RESET_MS 10000
/* restart_limit's COUNT is cut to this: the ring of exit times below. */
#define RESTART_LIMIT_MAX 1000

struct backoff {
	struct supervision conf;        /* the service's keys */
	long long due[EL_MAX];          /* restart due; 0: none */
	long delay[EL_MAX];             /* the wait before the next one */
	long long up_at[EL_MAX];        /* when it was last started */
	long long exits[RESTART_LIMIT_MAX];     /* ring of exit times */
	long nexits;
};

void backoff_init(struct backoff *b, const struct supervision *conf);

/* Element which was started (spawned or taken over) at now. */
void backoff_started(struct backoff *b, int which, long long now);

/* An unexpected exit at now, counted: 1 if it is the one that reaches
 * restart_limit (the service is to be given up), else 0. */
int backoff_exit(struct backoff *b, long long now);

/* Schedules element which's restart; returns when it is due. */
long long backoff_schedule(struct backoff *b, int which, long long now);

/* True (and the restart no longer pending) if which's restart is due at
 * now. */
int backoff_take_due(struct backoff *b, int which, long long now);

/* True while a restart of any of the n elements is pending. */
int backoff_pending(const struct backoff *b, int n);

/* The earliest restart due of the n elements, 0 if none. */
long long backoff_next(const struct backoff *b, int n);

/* Drops every pending restart (hold, stop). */
void backoff_clear(struct backoff *b);

#endif
