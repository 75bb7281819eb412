/* qmailconf.h: qmail's own configuration, checked as qmail will need it
 * (`qmailctl check-config`, postfix check's equivalent, and the part of
 * it a start needs).
 *
 * Every process of a qmail host may run while it refuses or loses mail:
 * qmail-smtpd answers 421 without control/me and relays for anyone
 * without control/rcpthosts; nothing is queued when qmail-queue is not
 * setuid qmailq; a users/cdb older than users/assign, or a tcprules cdb
 * older than its .rules, is not what the administrator last wrote.  Each
 * check looks at one file of the site's qmail home ("qmail", conf.h) or
 * of a service, and each finding is one line with the path and the fix:
 *
 *     qmailctl: /var/qmail/control/rcpthosts: error: missing: ...: fix: ...
 *
 * The owners and modes expected are those notqmail's install (hier.c)
 * gives.  Files are looked at with lstat/openat one component at a time;
 * a symlink is followed only in a directory that only root may change
 * (qmail's home belongs to root; its queue and alias/ do not). */
#ifndef QMAILCTL_QMAILCONF_H
#define QMAILCTL_QMAILCONF_H

#include <stddef.h>

#include "conf.h"
#include "opts.h"
#include "unit.h"

enum qc_level { QC_WARNING, QC_ERROR };

struct qc_finding {
	enum qc_level level;    /* QC_ERROR: qmail cannot work as configured */
	const char *path;
	const char *what;       /* "missing: qmail-smtpd then ..." */
	const char *fix;        /* "run qmail-newu" */
};

typedef void qc_report_fn(void *ctx, const struct qc_finding *f);

/* What a service needs of qmail's configuration, from the program it
 * runs (through tcpserver, stunnel's exec and the chain-loaders). */
enum {
	QC_NEEDS_ME = 1,        /* qmail-smtpd and qmail-start */
	QC_NEEDS_RCPTHOSTS = 2, /* qmail-smtpd */
	QC_NEEDS_QUEUE = 4,     /* qmail-smtpd: bin/qmail-queue */
};
unsigned qmailconf_needs(const struct service *svc);

/* The checks a start makes (preflight.h): control/me, control/rcpthosts
 * and bin/qmail-queue as qmailconf_needs() says, and the service's log
 * directory.  Each finding goes to fn; returns the number of errors. */
int qmailconf_start(const struct site *site, const struct service *svc,
    qc_report_fn *fn, void *ctx);

/* The service's log directory (multilog's, made absolute against the
 * service's directory) into buf: 1, or 0 when it has none. */
int qmailconf_log_dir(const struct service *svc, char *buf, size_t size);

/* `qmailctl check-config [SERVICE...]`: every check, for the qmail home
 * once (rcpthosts only when one of the units runs qmail-smtpd) and for
 * each selected service; each finding a line on stderr (warnings not
 * with -q), or with --json one object on stdout.  Returns 6 when there
 * was an error, else 0. */
int qmailconf_command(const struct site *site, const struct opts *opts,
    const struct unit *units, size_t n);

#endif
