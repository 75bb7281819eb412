/* probe_relay.h: a probe run in a qmailctl child, its result read back.
 *
 * The supervisor links without OpenSSL (a plain service's supervisor
 * should cost what runsv costs, and libcrypto alone is megabytes), so the
 * probes through TLS that confirm a restart run in qmailctl, exec'd with
 * argv[0] PROBE_PROG: it makes the one attempt and writes its result to
 * stdout, the supervisor reads it.  Both ends are here, so the format
 * lives once:
 *     RC REFUSED NAME_MATCH VERSION CIPHER\n      (VERSION, CIPHER: - if none)
 *     the reason, when RC is -1\n
 * The child is qmailctl itself, from the directory of the supervisor's
 * own program, bounded by the attempt's deadline and killed past it. */
#ifndef QMAILCTL_PROBE_RELAY_H
#define QMAILCTL_PROBE_RELAY_H
#include "probe.h"

#define PROBE_PROG "qmailctl-probe"

/* probe_once(p, timeout_ms, certname, r), run by the qmailctl program at
 * path qmailctl.  The same return and r; r->err says what failed when
 * the child could not run or said nothing. */
int probe_relay(const char *qmailctl, const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r);

/* qmailctl-probe KIND HOST PORT TIMEOUT_MS [-e EXPECT] [-c CERTNAME]: the
 * child's side.  Exits 0 when it wrote a result (whatever the probe
 * found), 2 on a usage error. */
int probe_relay_main(int argc, char **argv);
#endif
