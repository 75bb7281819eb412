/* probe.h: is a service really serving?  One attempt at a time.
 *
 * A probe connects to the service the way a client would and checks what
 * it says: the greeting for tcp and tls, the full STLS / STARTTLS dance for
 * pop3-stls and smtp-starttls.  Every step has a deadline; a probe never
 * hangs.  The connection and the TLS client are net.h's; the peer is not
 * verified (a self-signed certificate must pass), and what the handshake
 * negotiated and showed is reported for the caller to judge.
 *
 * Writes never raise SIGPIPE, so the caller need not ignore it.  The
 * module keeps one TLS client context (net.h), so probes are run from one
 * thread at a time. */
#ifndef QMAILCTL_PROBE_H
#define QMAILCTL_PROBE_H

#include <stddef.h>

#include "conf.h"
#include "err.h"
#include "net.h"

struct probe_result {
	int refused;            /* nothing listens yet (ECONNREFUSED): retry soon */
	struct net_tls tls;     /* what the handshake negotiated, once one
	                         * succeeded (kept if a later step failed:
	                         * stunnel without its program); tls.version is
	                         * "" when there was none */
	struct err err;         /* why it failed, e.g. "probe 127.0.0.1:20465:
	                         * connection closed before greeting"; bytes the
	                         * peer sent are escaped in it already */
};

/* Runs the probe once within timeout_ms, every step (name lookup, connect,
 * each read and write, the TLS handshake) under one deadline.  Returns 0
 * when the service answered as expected, -1 otherwise (r->err says why).
 * certname, when not NULL, is the name the server's certificate should
 * carry (r->tls.name_match); it never fails the probe.  PROBE_NONE
 * succeeds at once. */
int probe_once(const struct probe *p, long timeout_ms, const char *certname,
    struct probe_result *r);
/* probe_once for the kinds that go through TLS (tls, pop3-stls,
 * smtp-starttls): probe_tls.c's, in-process with OpenSSL; the supervisor,
 * linked without OpenSSL, runs that one in a qmailctl child instead
 * (supervise/nossl.c), for the same result. */
int probe_once_tls(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r);
/* Around the attempts that confirm one start or restart of a service
 * whose probe is p (NULL: of any): what the attempts need can be made
 * ready while the service starts, and let go of after
 * (probe_tls_prepare, probe_tls_finish).  In between, the goodbye of a
 * probe (QUIT, its reply awaited briefly, TLS's close_notify), a
 * courtesy to the server and no part of the answer, waits: the attempt
 * that succeeds keeps its connection open until probe_goodbye() or
 * probe_finish(), which the caller calls once it has said "ready".  One
 * is kept at a time. */
void probe_prepare(const struct probe *p);
void probe_goodbye(void);
void probe_finish(void);
/* The TLS side of those: in qmailctl nothing is made ready (the TLS
 * context is made once and kept, probe_tls.c); the supervisor starts
 * the qmailctl that runs its TLS probes (supervise/nossl.c). */
void probe_tls_prepare(const struct probe *p);
void probe_tls_finish(void);
/* A probe kind's name in the service file ("tls"), or NULL; and back:
 * 0, or -1 for a name that is none. */
const char *probe_kind_name(enum probe_kind kind);
int probe_kind_parse(const char *name, enum probe_kind *kind);

/* "TLSv1.3 TLS_AES_256_GCM_SHA384", or "" when no handshake was made. */
void probe_tls_text(const struct probe_result *r, char *buf, size_t size);

/* Text for -n and list: "tcp 127.0.0.1:25 expects '220'",
 * "tls 127.0.0.1:465 expects '220'", "pop3-stls 127.0.0.1:110",
 * "smtp-starttls [::1]:25", "none". */
void probe_describe(const struct probe *p, char *buf, size_t size);

/* Frees the kept TLS context (for leak checkers; optional at exit). */
void probe_cleanup(void);

#endif
