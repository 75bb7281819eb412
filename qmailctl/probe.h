/* probe.h: is a service really serving?  One attempt at a time.
 *
 * A probe connects to the service the way a client would and checks what
 * it says: the greeting for tcp and tls, the full STLS / STARTTLS dance for
 * pop3-stls and smtp-starttls.  Every step has a deadline; a probe never
 * hangs.  Peers are not verified (a self-signed certificate must pass); the
 * negotiated protocol and cipher are reported.
 *
 * Writes never raise SIGPIPE, so the caller need not ignore it.  One TLS
 * client context is made on first use and kept for later attempts; the
 * module keeps that state, so probes are run from one thread at a time. */
#ifndef QMAILCTL_PROBE_H
#define QMAILCTL_PROBE_H

#include "conf.h"

struct probe_result {
	int refused;            /* nothing listens yet (ECONNREFUSED): retry soon */
	char tls[128];          /* "TLSv1.3 TLS_AES_256_GCM_SHA384" once a
	                         * handshake succeeded (kept if a later step
	                         * failed: stunnel without its program), or "" */
	char error[512];        /* why it failed, e.g. "probe 127.0.0.1:20465:
	                         * connection closed before greeting" */
};

/* Runs the probe once within timeout_ms, every step (name lookup, connect,
 * each read and write, the TLS handshake) under one deadline.  Returns 0
 * when the service answered as expected, -1 otherwise (r->error says why).
 * PROBE_NONE succeeds at once. */
int probe_once(const struct probe *p, long timeout_ms, struct probe_result *r);

/* Text for -n and list: "tcp 127.0.0.1:25 expects '220'",
 * "tls 127.0.0.1:465 expects '220'", "pop3-stls 127.0.0.1:110",
 * "smtp-starttls [::1]:25", "none". */
void probe_describe(const struct probe *p, char *buf, size_t size);

/* Frees the kept TLS context (for leak checkers; optional at exit). */
void probe_cleanup(void);

#endif
