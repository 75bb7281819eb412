/* cert_cache.h: start's certificate check, remembered across starts.
 *
 * Parsing a certificate and its key and matching them costs a TLS
 * service about a millisecond and a half of CPU at every start (most of
 * it OpenSSL getting ready).  What that finds depends on the file's
 * content alone, so it is kept, with the file's stamp (stamp.h), in
 * RUNDIR/NAME.cert-ok, and not parsed again while the file is the same
 * file; what depends on more than the content (may the service's user
 * read it, is now within its dates, who else may read the key) is
 * checked at every start (cert_check_known).  The probe, through TLS,
 * still confirms every start. */
#ifndef QMAILCTL_CERT_CACHE_H
#define QMAILCTL_CERT_CACHE_H

#include <sys/types.h>

#include "cert.h"
#include "unit.h"

/* cert_check() of file for uid/gid, from what RUNDIR/NAME.cert-ok
 * remembers where it still holds (no rundir, or -n: a full check).
 * Returns what cert_check returns. */
int cert_check_remembered(const struct unit *u, const char *file, uid_t uid,
    gid_t gid, struct cert_report *r);

#endif
