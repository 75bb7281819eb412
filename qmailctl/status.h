/* status.h: the status command. */
#ifndef QMAILCTL_STATUS_H
#define QMAILCTL_STATUS_H

#include "unit.h"

/* One line for the service; returns its LSB status code. */
int status_text(struct unit *u);

/* The service as one JSON object (preceded by a comma unless first). */
int status_json(struct unit *u, int first);

/* The status code of several services: unknown > dead > stopped >
 * running.  a < 0 means "none yet". */
int status_worst(int a, int b);

#endif
