/* check.h: `qmailctl check`, a monitoring plugin for every service.
 *
 * One line per service in the monitoring-plugins form:
 *     QMAILCTL OK - smtps ready in 18 ms, TLSv1.3, cert expires in 365 days
 * and the plugins' exit codes (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN),
 * which are not the LSB codes of the other commands. */
#ifndef QMAILCTL_CHECK_H
#define QMAILCTL_CHECK_H

#include <stddef.h>

#include "exitcode.h"
#include "unit.h"

/* The worker of one service: prints its line, returns a rank (not a
 * plugin code: see check.c) for check_run to combine.  It is in the
 * commands[] table so that `check` is a command like the others. */
int do_check(struct unit *u);

/* Checks every unit concurrently, one worker each, without the service
 * locks (check only looks); returns the plugin code of the worst. */
int check_run(struct unit *units, size_t n);

#endif
