/* logcmd.h: the log command (qmailctl log [-f] [-n N] [SERVICE ...]). */
#ifndef QMAILCTL_LOGCMD_H
#define QMAILCTL_LOGCMD_H

#include <stddef.h>

#include "opts.h"
#include "unit.h"

/* What log shows of each service without -n. */
#define LOG_LINES_DEFAULT 10
/* -n's bound: a million lines of each service. */
#define LOG_LINES_MAX 1000000L

/* Prints the last lines of each unit's multilog log, interleaved by time,
 * then with o->follow what is appended, until SIGINT or SIGTERM.
 * Returns the worst of the services' codes (qmailctl(8)). */
int log_run(struct unit *units, size_t n, const struct opts *o);

#endif
