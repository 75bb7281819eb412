/* net.c: the client connection under one deadline (see net.h).
 *
 * The socket is non-blocking from the start and every wait is a poll()
 * against one monotonic deadline, so no single step can outlast it.
 *
 * Writes never raise SIGPIPE: ours use send(MSG_NOSIGNAL), and OpenSSL
 * writes through a small BIO of ours that does the same (the stock socket
 * BIO uses write(), and the caller may not ignore SIGPIPE). */
#include "net.h"
#include "clock.h"
#include "msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* One client context for every connection: start retries a probe many
 * times, and building a context loads the default configuration. */
static SSL_CTX *tls_ctx;
static BIO_METHOD *nosig_method;

int net_fail(struct net_conn *c, const char *fmt, ...)
{
	va_list ap;

	if (c->quiet || !c->err || c->err->text[0])
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err->text, sizeof c->err->text, fmt, ap);
	va_end(ap);
	return -1;
}

void net_where(char *buf, size_t size, const char *host, const char *port)
{
	host = host ? host : "?";
	port = port ? port : "?";
	if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

static int is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* Waits until the socket is ready for events, or the deadline. */
static int wait_io(struct net_conn *c, short events, const char *what)
{
	struct pollfd pfd;
	long long left;
	int n;

	/* Bounded: every pass returns or comes nearer the deadline. */
	for (;;) {
		left = c->deadline - clock_ms();
		if (left <= 0)
			return net_fail(c, "timed out after %ld ms waiting for "
			    "%s", c->timeout_ms, what);
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)      /* an error or hangup shows in the next call */
			return 0;
		if (n < 0 && errno != EINTR)
			return net_fail(c, "poll: %s", strerror(errno));
	}
}

/* ---- name resolution, bounded by the deadline ---- */

#ifdef __GLIBC__
/* getaddrinfo() would block for the resolver's own timeouts (seconds per
 * server).  glibc's getaddrinfo_a() lets us wait only until the deadline.
 * A lookup that cannot be cancelled is still being written by glibc, so it
 * is kept (reachable) on this list and freed once it completes. */
struct lookup {
	struct gaicb cb;
	struct addrinfo hints;
	struct lookup *next;
	char host[NI_MAXHOST];
	char port[NI_MAXSERV];
};
static struct lookup *abandoned;

static void lookup_free(struct lookup *l)
{
	if (l->cb.ar_result)
		freeaddrinfo(l->cb.ar_result);
	free(l);
}

static void reap_abandoned(void)
{
	struct lookup **pp = &abandoned, *l;

	while ((l = *pp) != NULL) {
		if (gai_error(&l->cb) == EAI_INPROGRESS) {
			pp = &l->next;
			continue;
		}
		*pp = l->next;
		lookup_free(l);
	}
}

static int lookup_wait(struct net_conn *c, struct gaicb *cb)
{
	struct gaicb *list[1] = { cb };
	struct timespec ts;
	long long left;
	int err;

	for (;;) {      /* bounded by the deadline */
		left = c->deadline - clock_ms();
		if (left <= 0)
			return EAI_AGAIN;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		err = gai_suspend((const struct gaicb *const *)list, 1, &ts);
		if (err != EAI_INTR && err != EAI_AGAIN)
			return gai_error(cb);
	}
}

static int lookup_by_dns(struct net_conn *c, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	struct gaicb *list[1];
	struct lookup *l;
	int err;

	reap_abandoned();
	if (strlen(c->host) >= sizeof l->host || strlen(port) >= sizeof l->port)
		return net_fail(c, "host or port name too long");
	l = calloc(1, sizeof *l);
	if (!l)
		return net_fail(c, "unable to resolve: out of memory");
	strcpy(l->host, c->host);
	strcpy(l->port, port);
	l->hints = *hints;
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	list[0] = &l->cb;
	err = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (err) {
		free(l);
		return net_fail(c, "unable to resolve: %s", gai_strerror(err));
	}
	err = lookup_wait(c, &l->cb);
	if (err == EAI_INPROGRESS || err == EAI_AGAIN) {
		if (gai_cancel(&l->cb) == EAI_NOTCANCELED) {
			l->next = abandoned;
			abandoned = l;
		} else
			lookup_free(l);
		return net_fail(c, "timed out after %ld ms resolving %s",
		    c->timeout_ms, c->host);
	}
	if (err) {
		lookup_free(l);
		return net_fail(c, "unable to resolve: %s", gai_strerror(err));
	}
	*res = l->cb.ar_result;
	free(l);
	return 0;
}
#else
/* Without getaddrinfo_a the lookup is bounded by the resolver's own
 * timeouts; numeric hosts never get here. */
static int lookup_by_dns(struct net_conn *c, const char *port,
    const struct addrinfo *hints, struct addrinfo **res)
{
	int err = getaddrinfo(c->host, port, hints, res);

	if (err)
		return net_fail(c, "unable to resolve: %s", gai_strerror(err));
	if (clock_ms() >= c->deadline) {
		freeaddrinfo(*res);
		return net_fail(c, "timed out after %ld ms resolving %s",
		    c->timeout_ms, c->host);
	}
	return 0;
}
#endif

/* The addresses of host and port: a numeric host at once, a name by a
 * lookup that the deadline bounds. */
static int lookup_addresses(struct net_conn *c, const char *port,
    struct addrinfo **res)
{
	struct addrinfo hints;
	const char *s;
	int err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (s = port; *s >= '0' && *s <= '9'; s++)
		;
	if (!*s && s != port)
		hints.ai_flags |= AI_NUMERICSERV;
	/* A numeric host must never wait for DNS. */
	hints.ai_flags |= AI_NUMERICHOST;
	err = getaddrinfo(c->host, port, &hints, res);
	if (!err)
		return 0;
	if (err != EAI_NONAME)
		return net_fail(c, "unable to resolve: %s", gai_strerror(err));
	hints.ai_flags &= ~AI_NUMERICHOST;
	return lookup_by_dns(c, port, &hints, res);
}

/* ---- connecting ---- */

/* Returns 0 connected, an errno value for this address, or -1 when the
 * deadline passed (message recorded). */
static int connect_one(struct net_conn *c, const struct addrinfo *ai)
{
	socklen_t len = sizeof(int);
	int err = 0;

	c->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return errno;
	if (connect(c->fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return 0;
	if (errno != EINPROGRESS && errno != EINTR)
		err = errno;
	else if (wait_io(c, POLLOUT, "connection") < 0)
		return -1;
	else if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
		err = errno;
	/* A reset comes only on an established connection (a refusal is
	 * ECONNREFUSED): a peer that greeted and reset at once.  What it
	 * sent is still to be read, and the reading tells the rest. */
	if (!err || err == ECONNRESET)
		return 0;
	close(c->fd);
	c->fd = -1;
	return err;
}

int net_open(struct net_conn *c, const char *host, const char *port,
    long timeout_ms, struct err *err)
{
	struct addrinfo *res, *ai;
	int e = 0, tried = 0, refused = 0;

	memset(c, 0, sizeof *c);
	c->fd = -1;
	c->host = host;
	c->err = err;
	c->timeout_ms = timeout_ms;
	c->deadline = clock_ms() + timeout_ms;
	net_where(c->where, sizeof c->where, host, port);
	ERR_clear_error();
	if (!host || !port)
		return net_fail(c, "no host or port");
	if (lookup_addresses(c, port, &res) < 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		e = connect_one(c, ai);
		if (e <= 0)
			break;
		tried++;
		refused += e == ECONNREFUSED;
	}
	freeaddrinfo(res);
	if (e <= 0)
		return e;
	if (tried == refused) {
		c->refused = 1;
		return net_fail(c, "connection refused");
	}
	return net_fail(c, "unable to connect: %s", strerror(e));
}

/* ---- a socket BIO that cannot raise SIGPIPE ---- */

static int nosig_write(BIO *b, const char *buf, int len)
{
	const int *fd = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = send(*fd, buf, (size_t)len, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		BIO_set_retry_write(b);
	return (int)n;
}

static int nosig_read(BIO *b, char *buf, int len)
{
	const int *fd = BIO_get_data(b);
	ssize_t n;

	BIO_clear_retry_flags(b);
	n = recv(*fd, buf, (size_t)len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		BIO_set_retry_read(b);
	return (int)n;
}

static long nosig_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b;
	(void)num;
	(void)ptr;
	return cmd == BIO_CTRL_FLUSH;   /* nothing is buffered here */
}

/* ---- the TLS client ---- */

static int tls_init(struct net_conn *c)
{
	if (tls_ctx)
		return 0;
	nosig_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "qmailctl socket");
	if (!nosig_method || !BIO_meth_set_write(nosig_method, nosig_write) ||
	    !BIO_meth_set_read(nosig_method, nosig_read) ||
	    !BIO_meth_set_ctrl(nosig_method, nosig_ctrl)) {
		net_cleanup();
		return net_fail(c, "unable to set up TLS: out of memory");
	}
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (!tls_ctx) {
		net_cleanup();
		return net_fail(c, "unable to set up TLS: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
	}
	/* A self-signed certificate must pass: we test the service, not
	 * the PKI (check tests the certificate file separately). */
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	/* A peer closing without close_notify reads as end of stream, so
	 * "closed before greeting" is reported as such. */
	SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	/* No floor, whatever openssl.cnf says: a server that still speaks
	 * TLS 1.0 with RSA key exchange must be reached to be reported.
	 * The default list comes first, so that a server that follows the
	 * client's order picks what a modern client would get; the rest
	 * (ALL) only adds what a weaker server may choose.  Level 0 lets
	 * the SHA-1 signatures of TLS 1.0 and 1.1 through. */
	SSL_CTX_set_min_proto_version(tls_ctx, 0);
	SSL_CTX_set_security_level(tls_ctx, 0);
	SSL_CTX_set_cipher_list(tls_ctx, "DEFAULT:ALL:@SECLEVEL=0");
	return 0;
}

void net_cleanup(void)
{
	SSL_CTX_free(tls_ctx);
	tls_ctx = NULL;
	BIO_meth_free(nosig_method);
	nosig_method = NULL;
}

/* The reason OpenSSL gives for the last failure, or the system's. */
static const char *tls_reason(int sslerr)
{
	unsigned long e = ERR_peek_last_error();
	const char *s;

	if (e && (s = ERR_reason_error_string(e)) != NULL)
		return s;
	if (sslerr == SSL_ERROR_SYSCALL && errno)
		return strerror(errno);
	return "connection closed by peer";
}

/* Maps an SSL result to the event to wait for: POLLIN, POLLOUT, or 0
 * (fatal, *sslerr says what). */
static short tls_want(struct net_conn *c, int rc, int *sslerr)
{
	*sslerr = SSL_get_error(c->ssl, rc);
	if (*sslerr == SSL_ERROR_WANT_READ)
		return POLLIN;
	if (*sslerr == SSL_ERROR_WANT_WRITE)
		return POLLOUT;
	/* SSL_shutdown() must not follow these (SSL_shutdown(3)). */
	if (*sslerr == SSL_ERROR_SYSCALL || *sslerr == SSL_ERROR_SSL)
		c->tls_dead = 1;
	return 0;
}

/* ---- what the handshake showed ---- */

/* Appends the len bytes at s to buf (size bytes, terminated), escaped,
 * after sep when buf is not empty. */
static void append_escaped(char *buf, size_t size, const char *sep,
    const void *s, size_t len)
{
	size_t n = strlen(buf);

	if (n > 0 && n + strlen(sep) < size) {
		strcpy(buf + n, sep);
		n += strlen(sep);
	}
	msg_escape(buf + n, size - n, s, len);
}

/* The leaf's DNS names: its subjectAltName DNS entries, else its CNs, as
 * X509_check_host reads them (RFC 6125 6.4.4). */
static void leaf_names(X509 *leaf, char *buf, size_t size)
{
	GENERAL_NAMES *san = X509_get_ext_d2i(leaf, NID_subject_alt_name,
	    NULL, NULL);
	const X509_NAME *subject = X509_get_subject_name(leaf);
	const ASN1_STRING *s;
	int i;

	buf[0] = 0;
	for (i = 0; i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);

		if (g->type != GEN_DNS)
			continue;
		s = g->d.dNSName;
		append_escaped(buf, size, ", ", ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	}
	GENERAL_NAMES_free(san);
	for (i = -1; !buf[0] && (i = X509_NAME_get_index_by_NID(subject,
	    NID_commonName, i)) >= 0;) {
		s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i));
		append_escaped(buf, size, ", ", ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	}
}

/* A name as "CN=Example CA, O=Example", its values as they are (UTF-8),
 * escaped. */
static void name_text(const X509_NAME *name, char *buf, size_t size)
{
	BIO *mem = BIO_new(BIO_s_mem());
	char *data;
	long len;

	buf[0] = 0;
	if (!mem)
		return;
	if (X509_NAME_print_ex(mem, name, 0, XN_FLAG_SEP_CPLUS_SPC |
	    XN_FLAG_FN_SN | ASN1_STRFLGS_UTF8_CONVERT) >= 0 &&
	    (len = BIO_get_mem_data(mem, &data)) > 0)
		msg_escape(buf, size, data, (size_t)len);
	BIO_free(mem);
}

/* Did the server send the certificate that issued the leaf? */
static int issuer_sent(X509 *leaf, STACK_OF(X509) *sent)
{
	int i;

	for (i = 0; i < sk_X509_num(sent); i++) {
		X509 *x = sk_X509_value(sent, i);

		if (X509_cmp(x, leaf) && X509_check_issued(x, leaf) ==
		    X509_V_OK)
			return 1;
	}
	return 0;
}

/* Key exchanges whose secret dies with the connection.  TLS 1.3 says
 * "any": every suite of it is (EC)DHE, PSK-only resumption aside, which
 * a fresh client connection never does. */
static int kx_forward_secret(int nid)
{
	return nid == NID_kx_ecdhe || nid == NID_kx_dhe ||
	    nid == NID_kx_ecdhe_psk || nid == NID_kx_dhe_psk ||
	    nid == NID_kx_any;
}

static void tls_record(struct net_conn *c, const char *certname,
    struct net_tls *t)
{
	const SSL_CIPHER *cipher = SSL_get_current_cipher(c->ssl);
	X509 *leaf = SSL_get0_peer_certificate(c->ssl);

	memset(t, 0, sizeof *t);
	snprintf(t->version, sizeof t->version, "%s",
	    SSL_get_version(c->ssl));
	t->version_id = SSL_version(c->ssl);
	snprintf(t->cipher, sizeof t->cipher, "%s",
	    SSL_CIPHER_get_name(cipher));
	t->forward_secret = kx_forward_secret(SSL_CIPHER_get_kx_nid(cipher));
	t->name_match = -1;
	if (!leaf)
		return;
	t->has_cert = 1;
	leaf_names(leaf, t->names, sizeof t->names);
	if (certname)
		t->name_match = X509_check_host(leaf, certname, 0, 0,
		    NULL) == 1;
	t->self_issued = !X509_NAME_cmp(X509_get_subject_name(leaf),
	    X509_get_issuer_name(leaf));
	t->issuer_sent = issuer_sent(leaf, SSL_get_peer_cert_chain(c->ssl));
	name_text(X509_get_issuer_name(leaf), t->issuer, sizeof t->issuer);
}

int net_tls_start(struct net_conn *c, const char *certname,
    struct net_tls *t)
{
	BIO *bio;
	short ev;
	int rc, sslerr;

	if (tls_init(c) < 0)
		return -1;
	c->ssl = SSL_new(tls_ctx);
	bio = BIO_new(nosig_method);
	if (!c->ssl || !bio) {
		BIO_free(bio);
		return net_fail(c, "unable to set up TLS: out of memory");
	}
	BIO_set_data(bio, &c->fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	/* RFC 6066: SNI carries names only, never address literals. */
	if (!is_ip_literal(c->host))
		SSL_set_tlsext_host_name(c->ssl, c->host);
	SSL_set_connect_state(c->ssl);
	for (;;) {      /* bounded by the deadline in wait_io */
		errno = 0;
		rc = SSL_do_handshake(c->ssl);
		if (rc == 1)
			break;
		ev = tls_want(c, rc, &sslerr);
		if (!ev)
			return net_fail(c, "TLS handshake failed: %s",
			    tls_reason(sslerr));
		if (wait_io(c, ev, "TLS handshake") < 0)
			return -1;
	}
	tls_record(c, certname, t);
	return 0;
}

void net_tls_shutdown(struct net_conn *c)
{
	if (c->ssl && !c->tls_dead)
		SSL_shutdown(c->ssl);   /* one try at close_notify */
}

/* ---- reading and writing, plain or TLS ---- */

/* Reads at most size bytes: the count, 0 at end of stream, or -1. */
static ssize_t conn_read(struct net_conn *c, char *buf, size_t size,
    const char *what)
{
	size_t got;
	ssize_t n;
	short ev;
	int rc, sslerr;

	for (;;) {      /* bounded by the deadline in wait_io */
		errno = 0;
		if (c->ssl) {
			rc = SSL_read_ex(c->ssl, buf, size, &got);
			if (rc == 1)
				return (ssize_t)got;
			ev = tls_want(c, rc, &sslerr);
			if (sslerr == SSL_ERROR_ZERO_RETURN)
				return 0;
			if (sslerr == SSL_ERROR_SYSCALL && errno == ECONNRESET)
				return net_fail(c, "connection reset before %s",
				    what);
			if (!ev)
				return net_fail(c, "TLS error before %s: %s",
				    what, tls_reason(sslerr));
		} else {
			n = recv(c->fd, buf, size, 0);
			if (n >= 0)
				return n;
			if (errno == ECONNRESET)
				return net_fail(c, "connection reset before %s",
				    what);
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return net_fail(c, "unable to read %s: %s",
				    what, strerror(errno));
			ev = POLLIN;
		}
		if (wait_io(c, ev, what) < 0)
			return -1;
	}
}

int net_write(struct net_conn *c, const char *s, const char *what)
{
	size_t len = strlen(s), put;
	ssize_t n;
	short ev = POLLOUT;
	int rc, sslerr;

	while (len > 0) {       /* bounded: progress or the deadline */
		errno = 0;
		if (c->ssl) {
			rc = SSL_write_ex(c->ssl, s, len, &put);
			n = rc == 1 ? (ssize_t)put : -1;
			if (rc != 1 && !(ev = tls_want(c, rc, &sslerr)))
				return net_fail(c, "unable to send %s: %s",
				    what, tls_reason(sslerr));
		} else {
			n = send(c->fd, s, len, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return net_fail(c, "unable to send %s: %s",
				    what, strerror(errno));
			ev = POLLOUT;
		}
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		} else if (wait_io(c, ev, what) < 0)
			return -1;
	}
	return 0;
}

char *net_quote(char *out, size_t size, const char *s, size_t len)
{
	size_t n;

	msg_escape(out, size, s, len < NET_QUOTE_MAX ? len : NET_QUOTE_MAX);
	n = strlen(out);
	if (len > NET_QUOTE_MAX && n + 3 < size)
		strcpy(out + n, "...");
	return out;
}

int net_get_line(struct net_conn *c, char *line, size_t *len,
    const char *what)
{
	char q[NET_QUOTE_SIZE], *nl;
	size_t n;
	ssize_t got;

	for (;;) {      /* bounded: the buffer fills, or the deadline */
		nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			n = (size_t)(nl - c->buf);
			memcpy(line, c->buf, n);
			if (n > 0 && line[n - 1] == '\r')
				n--;
			line[n] = 0;
			*len = n;
			c->len -= (size_t)(nl - c->buf) + 1;
			memmove(c->buf, nl + 1, c->len);
			return 0;
		}
		if (c->len == sizeof c->buf)
			return net_fail(c, "%s longer than %d bytes: '%s'",
			    what, NET_LINE_MAX, net_quote(q, sizeof q, c->buf,
			    c->len));
		got = conn_read(c, c->buf + c->len, sizeof c->buf - c->len,
		    what);
		if (got < 0)
			return -1;
		if (got == 0)
			return net_fail(c, "connection closed before %s", what);
		c->len += (size_t)got;
	}
}

void net_wind_down(struct net_conn *c, long ms)
{
	long long soon = clock_ms() + ms;

	c->quiet = 1;
	if (soon < c->deadline)
		c->deadline = soon;
}

void net_close(struct net_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	ERR_clear_error();
}
