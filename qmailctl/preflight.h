/* preflight.h: checks made before a service is started, so that a start
 * that cannot work is refused with a reason instead of half-started.
 *
 * For a TLS service that means its certificate (cert.h) judged for the
 * user the TLS program will run as, and the stunnel config it names
 * (stunnel.h); for a POP3 service, its checkpassword (checkpassword.h);
 * for one that runs qmail-smtpd or qmail-start, the few of qmail's own
 * files it cannot work without (qmailconf.h: check-config has them all).
 * check.c and certcmd.c use the same certificate rules, so what start
 * refuses, check reports. */
#ifndef QMAILCTL_PREFLIGHT_H
#define QMAILCTL_PREFLIGHT_H

#include <sys/types.h>

#include "cert.h"
#include "unit.h"

/* Returns an exit code (0 when the service may be started), having
 * reported the reason with sayerr() otherwise.  Warnings (a key readable
 * by others, a certificate that expires soon) are printed as
 * "NAME: warning: ..." lines on stderr and do not stop the start. */
int preflight(struct unit *u);

/* The uid and gid the programs tcpserver runs for the service get, as
 * tcpserver_load() read them (tcpserver.h): -u and -g, or with -U the UID
 * and GID of envuidgid or the env lines.  0 where not set, as tcpserver
 * then keeps root's. */
void preflight_ids(const struct service *svc, uid_t *uid, gid_t *gid);

/* cert_check() of the service's "cert" for the uid and gid from
 * preflight_ids().  Returns what cert_check returns. */
int preflight_cert(const struct unit *u, struct cert_report *r);

/* "NAME: warning: text" on stderr in one write, as say() does. */
void preflight_warn(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
