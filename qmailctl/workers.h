/* workers.h: act on several services at once, one process per service. */
#ifndef QMAILCTL_WORKERS_H
#define QMAILCTL_WORKERS_H

#include <stddef.h>
#include "unit.h"

/* Runs fn on every unit concurrently, each in a forked worker that first
 * leaves our session (setsid), so that what it starts belongs to no
 * terminal and an interrupted qmailctl never abandons a half-done
 * transition.  Each worker prints its own lines as it finishes.  The
 * workers are forked in the order of the units, or, given ahead, those
 * it ranks higher first (the order of the units between equals).
 * Returns the worst (highest) exit code. */
int workers_run(struct unit *units, size_t n, int (*fn)(struct unit *),
    int (*ahead)(const struct unit *));

/* The order workers_run forks in: the indexes of units into order. */
void workers_order(const struct unit *units, size_t n,
    int (*ahead)(const struct unit *), size_t *order);

/* True in a worker whose qmailctl has died (been killed). */
int worker_orphaned(void);

#endif
