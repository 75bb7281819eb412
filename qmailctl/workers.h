/* workers.h: act on several services at once, one process per service. */
#ifndef QMAILCTL_WORKERS_H
#define QMAILCTL_WORKERS_H

#include <stddef.h>
#include "unit.h"

/* Runs fn on every unit concurrently, each in a forked worker that first
 * leaves our session (setsid), so that what it starts belongs to no
 * terminal and an interrupted qmailctl never abandons a half-done
 * transition.  Each worker prints its own lines as it finishes.  Returns
 * the worst (highest) exit code. */
int workers_run(struct unit *units, size_t n, int (*fn)(struct unit *));

/* True in a worker whose qmailctl has died (been killed). */
int worker_orphaned(void);

#endif
