/* queue.h: qmail's queue, as qmail's own tools see it.
 *
 * qmailctl reads no queue file itself: qmail-qstat counts the messages
 * and those not yet preprocessed (in todo/), qmail-qread lists the
 * preprocessed ones, each dated by its info file, which gives the oldest
 * message's age.  Both have qmail's home compiled in; qmailctl finds them
 * in the site's "qmail" home (QMAIL/bin), else in the site's path, so the
 * home named in the site config must be the one they were built for.
 *
 * queue_read() fills a struct queue_stat or returns an exit code of
 * qmailctl(8) with a one-line reason; the commands print through the one
 * writer. */
#ifndef QMAILCTL_QUEUE_H
#define QMAILCTL_QUEUE_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "opts.h"
#include "unit.h"

struct queue_stat {
	long messages;          /* qmail-qstat: messages in the queue */
	long todo;              /* ... of them not yet preprocessed */
	long listed;            /* qmail-qread: preprocessed messages */
	long troubled;          /* its "warning: trouble with #ID" lines (a
	                         * message that went while it looked) */
	long long oldest;       /* Unix time of the oldest listed message,
	                         * 0 when none is listed */
	unsigned long oldest_id;
	long long age;          /* seconds since oldest (0: none) */
};

/* Runs qmail-qstat and qmail-qread within timeout_ms each (0: 60 s, as
 * a queue of 100000 messages may need).  0, or an exit
 * code with e filled: 1 (a tool failed or said something unexpected),
 * 4 (the queue is not readable by us), 5 (a tool is not installed). */
int queue_read(const struct site *site, long timeout_ms,
    struct queue_stat *q, struct err *e);

/* `qmailctl queue` (alias stat): a line, or --json.  Returns its exit
 * code. */
int queue_command(const struct site *site, const struct opts *opts);

/* True when one of the units is a queue service (it has a flush signal:
 * send): check and metrics look at the queue only then. */
int queue_service(const struct unit *units, size_t n);

/* check's queue line, when the site sets a queue threshold and one of the
 * units is a queue service (it has a flush signal): prints
 *     QMAILCTL WARNING - queue 1200 messages (above 1000), ...
 * and returns a CHECK_* code; -1 (nothing printed) when there is nothing
 * to check. */
int queue_check(const struct unit *units, size_t n);

/* flush's first step: qmail-tcpok, which clears the table of hosts that
 * qmail-remote skips after connect timeouts (queue/lock/tcpto).  Says
 * what it did; returns an exit code (a qmail-tcpok that is not installed
 * is a warning, 0). */
int queue_tcpok(const struct unit *u);

#endif
