/* metrics.h: `qmailctl metrics`, the Prometheus text exposition format.
 *
 * Per service: up (the recorded server lives and its probe answered),
 * the probe's latency, the server's uptime, the seconds left on its
 * certificate, whether it is disabled, how often its supervisor
 * restarted it (qmailctl_service_restarts_total, a counter); for the
 * queue (when a queue service, send, is selected): its size, the
 * messages not yet preprocessed and the oldest message's age, through
 * queue.h.  Printed,
 * or with --textfile DIR written atomically to DIR/qmailctl.prom for
 * node_exporter's textfile collector, which never sees half a file (the
 * temporary name does not end in .prom, so it is not read either). */
#ifndef QMAILCTL_METRICS_H
#define QMAILCTL_METRICS_H

#include <stddef.h>

#include "unit.h"

/* Looks at every unit (there may be none) concurrently (no lock: it only looks, as check),
 * then prints or writes the exposition.  Returns an exit code: 0, or 1
 * (4 for a permission) when the textfile could not be written. */
int metrics_run(struct unit *units, size_t n, const struct opts *opts);

#endif
