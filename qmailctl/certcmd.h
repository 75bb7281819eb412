/* certcmd.h: `qmailctl cert [FILE]`, a self-signed certificate for testing. */
#ifndef QMAILCTL_CERTCMD_H
#define QMAILCTL_CERTCMD_H

#include "conf.h"
#include "unit.h"

/* How long a certificate made by `qmailctl cert` is valid. */
#define CERTCMD_DAYS 365

/* Makes the certificate named by args (at most one FILE; none: see
 * certcmd.c for the default) and prints what it did.  force: replace an
 * existing file.  Returns an exit code of qmailctl(8). */
int cert_command(const struct site *site, char **args, int nargs,
    const struct opts *opts, int force);

#endif
