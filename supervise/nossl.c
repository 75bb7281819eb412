/* nossl.c: qmailctl-supervise links no OpenSSL (libcrypto alone would
 * cost a plain service's supervisor megabytes of memory, more than runsv
 * takes in all), so it has its own of the two functions of libqmailctl
 * that need it:
 *
 * probe_once_tls(): a probe through TLS runs in qmailctl, the program
 * beside this one, as qmailctl-probe (probe_relay.h), one child for all
 * the attempts of a confirmation (probe_prepare to probe_finish), each
 * under its deadline.  It is the same code as start's in-process probe,
 * so a restart is confirmed exactly as a start is.
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
static struct probe_relay relay;         /* while a confirmation lasts */
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

static int needs_tls(const struct probe *p)
{
	return p->kind != PROBE_NONE && p->kind != PROBE_TCP;
}

/* The relay starts while the service does: its exec and dynamic linking
 * overlap the server's own. */
void probe_tls_prepare(const struct probe *p)
{
	struct err e;

	if (p && needs_tls(p) && !relay.pid && qmailctl[0])
		(void)probe_relay_start(&relay, qmailctl, &e);
}

/* The relay says its own goodbye on the EOF that ending it sends (we
 * end it once the service is recorded up), then exits. */
void probe_tls_finish(void)
{
	probe_relay_end(&relay);
}

int probe_once_tls(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r)
{
	char where[300];
	struct err e;

	memset(r, 0, sizeof *r);
	net_where(where, sizeof where, p->host, p->port);
	if (!qmailctl[0])
		return err_set(&r->err, "probe %s: unable to find qmailctl "
		    "beside " SUPERVISE_PROG " (/proc/self/exe) to run the TLS "
		    "probe", where);
	if (!relay.pid && probe_relay_start(&relay, qmailctl, &e) < 0)
		return err_set(&r->err, "probe %s: %s", where, e.text);
	return probe_relay_ask(&relay, p, timeout_ms, certname, r);
}

/* A relay still running is ended (the TLS context was its). */
void probe_cleanup(void)
{
	probe_relay_end(&relay);
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
