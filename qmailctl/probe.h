/* probe.h: is a service really serving?  One attempt at a time.
 *
 * A probe connects to the service the way a client would and checks what
 * it says: the greeting for tcp and tls, the full STLS / STARTTLS dance for
 * pop3-stls and smtp-starttls.  Every step has a deadline; a probe never
 * hangs.  Peers are not verified (a self-signed certificate must pass); the
 * negotiated protocol and cipher are reported. */
#ifndef QMAILCTL_PROBE_H
#define QMAILCTL_PROBE_H

#include "conf.h"

struct probe_result {
	int refused;            /* nothing listens yet (ECONNREFUSED): retry soon */
	char tls[128];          /* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" */
	char error[256];        /* why it failed, e.g. "probe 127.0.0.1:20465:
	                         * connection closed before greeting" */
};

/* Runs the probe once within timeout_ms.  Returns 0 when the service
 * answered as expected, -1 otherwise (r->error says why). */
int probe_once(const struct probe *p, long timeout_ms, struct probe_result *r);

/* "tcp 127.0.0.1:25 220" style text for -n and list. */
void probe_describe(const struct probe *p, char *buf, size_t size);

#endif
