/* nossl.c: qmailctl-supervise links no OpenSSL (libcrypto alone would
 * cost a plain service's supervisor megabytes of memory, more than runsv
 * takes in all), so it has its own of the two functions of libqmailctl
 * that need it:
 *
 * probe_once_tls(): a probe through TLS runs in qmailctl, the program
 * beside this one, as qmailctl-probe (probe_relay.h), under the same
 * deadline.  It is the same code as start's in-process probe, so a
 * restart is confirmed exactly as a start is.
 *
 * cgroup_site_digest(): the SHA-256 that ends a site name too long for a
 * cgroup directory.  A supervisor serves one site, its qmailctl's, and
 * that qmailctl computed the digest before it exec'd us (supclient.c):
 * it is taken from the environment, not computed again.  Without it a
 * hashed site has no cgroup here, and cgroup_path() says so (-1). */
#include "nossl.h"
#include "cgroup.h"
#include "probe_relay.h"
#include "proc.h"
#include "supervise.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char qmailctl[PATH_MAX];
static char digest[CGROUP_DIGEST_HEX + 1];

void nossl_init(void)
{
	const char *d = getenv(SUPERVISE_SITE_DIGEST_ENV);

	/* it becomes part of a cgroup path: hex digits, nothing else */
	if (d && strlen(d) == CGROUP_DIGEST_HEX &&
	    strspn(d, "0123456789abcdef") == CGROUP_DIGEST_HEX)
		snprintf(digest, sizeof digest, "%s", d);
	unsetenv(SUPERVISE_SITE_DIGEST_ENV);
	if (proc_self_sibling("qmailctl", qmailctl, sizeof qmailctl) < 0)
		qmailctl[0] = 0;
}

int probe_once_tls(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r)
{
	char where[300];

	if (qmailctl[0])
		return probe_relay(qmailctl, p, timeout_ms, certname, r);
	memset(r, 0, sizeof *r);
	net_where(where, sizeof where, p->host, p->port);
	return err_set(&r->err, "probe %s: unable to find qmailctl beside "
	    SUPERVISE_PROG " (/proc/self/exe) to run the TLS probe", where);
}

/* The child had the TLS context; there is nothing of it here to free. */
void probe_cleanup(void)
{
}

int cgroup_site_digest(const char *canonical_path,
    char out[CGROUP_DIGEST_HEX + 1])
{
	(void)canonical_path;
	if (!digest[0])
		return -1;
	memcpy(out, digest, sizeof digest);
	return 0;
}
