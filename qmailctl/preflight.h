/* preflight.h: checks made before a service is started, so that a start
 * that cannot work is refused with a reason instead of half-started. */
#ifndef QMAILCTL_PREFLIGHT_H
#define QMAILCTL_PREFLIGHT_H

#include "unit.h"

/* Returns an exit code (0 when the service may be started), having
 * reported the reason with sayerr() otherwise. */
int preflight(struct unit *u);

#endif
