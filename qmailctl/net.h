/* net.h: a client connection under one deadline, plain or TLS.
 *
 * The connection layer under the probes (probe.c holds the dialogs): it
 * resolves a host, connects to the first address that answers, reads
 * lines and writes text, and turns the connection into a TLS client,
 * every step bounded by one monotonic deadline set at net_open().  A peer
 * that accepts and says nothing, trickles bytes or stalls a handshake
 * costs at most the timeout.
 *
 * Writes never raise SIGPIPE, so the caller need not ignore it.  One TLS
 * client context is made on first use and kept for later connections;
 * the module keeps that state, so it is used from one thread at a time.
 *
 * The TLS client sets no minimum protocol version and no security level:
 * it must reach an old server to report what that server negotiates.
 * Peers are not verified (a self-signed certificate must pass); what the
 * handshake showed is recorded in struct net_tls for the caller to judge. */
#ifndef QMAILCTL_NET_H
#define QMAILCTL_NET_H

#include <stddef.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"

/* A line longer than this is no reply: reading fails at the bound rather
 * than grow memory for a peer that never sends a newline.  The config
 * layer's number, so that an EXPECT that could never fit is refused at
 * load. */
#define NET_LINE_MAX PROBE_LINE_MAX

/* What a TLS handshake negotiated and what the server sent.  Text that
 * came from the peer (names) is escaped by msg_escape(), as it may hold
 * a NUL. */
struct net_tls {
	char version[16];       /* "TLSv1.3"; "" until a handshake succeeded */
	int version_id;         /* its wire number: 0x0301 TLS 1.0 ...
	                         * 0x0304 TLS 1.3 */
	char cipher[64];        /* "TLS_AES_256_GCM_SHA384", "AES128-SHA" */
	int forward_secret;     /* an ephemeral key exchange: always with
	                         * TLS 1.3, with (EC)DHE before it */
	int has_cert;           /* the server sent a certificate */
	char names[256];        /* the leaf's DNS names (subjectAltName, else
	                         * the CN), ", " between them, or "" */
	int name_match;         /* net_tls_start's certname is among them
	                         * (X509_check_host); -1 when none was asked */
	int self_issued;        /* the leaf's issuer is its own subject */
	int issuer_sent;        /* a certificate the server sent issued the
	                         * leaf (the intermediate is in the chain) */
	char issuer[256];       /* the leaf's issuer, "CN=Example CA, O=Ex" */
};

struct net_conn;

/* What a TLS connection does instead of recv, send and close: net_tls.c's,
 * put on the connection by net_tls_start(), so that net.c never calls
 * OpenSSL and a program without TLS (the supervisor) links without it.
 * read returns the bytes read, 0 at end of stream; write the bytes sent;
 * either -1 when it failed (recorded by net_fail) or -2 with *ev the
 * poll() event to wait for before the next try. */
struct net_tls_layer {
	ssize_t (*read)(struct net_conn *c, char *buf, size_t size,
	    short *ev, const char *what);
	ssize_t (*write)(struct net_conn *c, const char *s, size_t len,
	    short *ev, const char *what);
	void (*shutdown)(struct net_conn *c);
	void (*close)(struct net_conn *c);
};

struct net_conn {
	char where[300];        /* "HOST:PORT", "[::1]:PORT" */
	const char *host;
	long timeout_ms;
	long long deadline;     /* CLOCK_MONOTONIC milliseconds */
	int refused;            /* every address refused the connection */
	int quiet;              /* winding down: failures are not recorded */
	int tls_dead;           /* a fatal TLS error: no close_notify */
	int fd;
	struct ssl_st *ssl;     /* OpenSSL's SSL, once net_tls_start began */
	const struct net_tls_layer *tls;        /* set with it; NULL: plain */
	struct err *err;        /* the first failure, "what: why" */
	char buf[NET_LINE_MAX];
	size_t len;             /* bytes read and not yet taken as a line */
};

/* "HOST:PORT", or "[HOST]:PORT" for an IPv6 address; "?" for a NULL. */
void net_where(char *buf, size_t size, const char *host, const char *port);

/* Resolves host (name lookups bounded by the deadline as well) and
 * connects to the first of its addresses that accepts, within timeout_ms
 * for this and every later step.  Failures go to err, the first one
 * only, without the "where" (the caller names the peer).  Returns 0 or
 * -1; c->refused when nothing listens.  Call net_close() in either case. */
int net_open(struct net_conn *c, const char *host, const char *port,
    long timeout_ms, struct err *err);

/* Waits until the socket is ready for events (POLLIN, POLLOUT), or the
 * deadline (then -1, recorded: "timed out ... waiting for what"). */
int net_wait(struct net_conn *c, short events, const char *what);

/* Makes the TLS handshake as a client, with SNI for a host name (never
 * for an address literal), and fills t.  When certname is not NULL,
 * t->name_match says whether the server's certificate names it.  The one
 * entry to net_tls.c, and so to OpenSSL. */
int net_tls_start(struct net_conn *c, const char *certname,
    struct net_tls *t);

/* Sends all of s.  what names it in a failure ("EHLO"). */
int net_write(struct net_conn *c, const char *s, const char *what);

/* Reads one line into line (NET_LINE_MAX + 1 bytes), CR LF or LF removed
 * and a NUL after it; *len is its length, which counts any NUL byte the
 * peer sent.  what names the line in a failure ("greeting"). */
int net_get_line(struct net_conn *c, char *line, size_t *len,
    const char *what);

/* Peer text quoted in a message is cut to this many bytes. */
#define NET_QUOTE_MAX 80
/* The room such a quote takes: every byte escaped, and "...". */
#define NET_QUOTE_SIZE (NET_QUOTE_MAX * 4 + 4)

/* The first NET_QUOTE_MAX of the len bytes at s, escaped by msg_escape()
 * (they may hold a NUL), with "..." when there were more.  Returns out. */
char *net_quote(char *out, size_t size, const char *s, size_t len);

/* Records "what" in c->err unless a failure was recorded already or the
 * connection winds down; returns -1. */
int net_fail(struct net_conn *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* From now on nothing fails loudly, and the deadline is at most ms away:
 * for a goodbye that is a courtesy, never a reason to fail. */
void net_wind_down(struct net_conn *c, long ms);

/* Sends close_notify once, if TLS is up and healthy, without waiting. */
void net_tls_shutdown(struct net_conn *c);

/* Frees what net_open and net_tls_start made, and leaves OpenSSL's error
 * queue empty, so nothing of this connection passes for the cause of the
 * next one's failure. */
void net_close(struct net_conn *c);

/* Frees the kept TLS context (for leak checkers; optional at exit);
 * net_tls.c's. */
void net_cleanup(void);

#endif
