/* probe.c: one readiness probe attempt, every step under one deadline.
 *
 * The socket is non-blocking from the start and every wait is a poll()
 * against one monotonic deadline, so a peer that accepts and says nothing,
 * trickles bytes, or stalls a TLS handshake costs at most timeout_ms.
 *
 * Writes never raise SIGPIPE: ours use send(MSG_NOSIGNAL), and OpenSSL
 * writes through a small BIO of ours that does the same (the stock socket
 * BIO uses write(), and the caller may not ignore SIGPIPE).
 *
 * How stunnel 5.68 answers, as measured here (src/protocol.c,
 * pop3_server()): with "protocol = pop3" in server mode it starts the
 * exec'd program before TLS, reads its greeting and sends it in PLAINTEXT
 * with " + stunnel" appended; it answers CAPA itself ("+OK Stunnel
 * capability list follows", "STLS", "."), answers STLS with "+OK Stunnel
 * starts TLS negotiation", then does the handshake and relays.  No second
 * greeting follows the handshake, exactly as with an RFC 2595 server, so
 * the pop3-stls probe sends NOOP (CAPA if NOOP is refused before login)
 * over TLS to prove the program behind stunnel answers.  When the exec
 * target is missing, stunnel resets the connection before any greeting. */
#include "probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

/* A CAPA or EHLO reply of more lines than this is broken. */
#define REPLY_MAX_LINES 100
/* After QUIT we wait this long for the goodbye, so the server exits on a
 * clean EOF instead of a reset: a courtesy, never a reason to fail. */
#define QUIT_WAIT_MS 100
/* Peer text quoted in a message is cut to this many characters. */
#define QUOTE_MAX 80
/* What we say in EHLO: no DNS name of ours is needed. */
#define EHLO_NAME "qmailctl.probe"

struct conn {
	const struct probe *p;
	struct probe_result *r;
	char where[300];        /* "HOST:PORT", "[::1]:PORT" */
	long timeout_ms;
	long long deadline;     /* CLOCK_MONOTONIC milliseconds */
	int quiet;              /* after success: failures are not recorded */
	int tls_dead;           /* a fatal TLS error: no close_notify */
	int fd;
	SSL *ssl;
	char buf[PROBE_LINE_MAX];
	size_t len;             /* bytes waiting in buf */
};

/* One client context for every attempt: start retries a probe many
 * times, and building a context loads the default configuration. */
static SSL_CTX *tls_ctx;
static BIO_METHOD *nosig_method;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Records the first failure, "probe HOST:PORT: what", and returns -1. */
__attribute__((format(printf, 2, 3)))
static int fail(struct conn *c, const char *fmt, ...)
{
	char *e = c->r->error;
	size_t size = sizeof c->r->error, n;
	va_list ap;

	if (c->quiet || e[0])
		return -1;
	n = strlen(c->where);
	if (n > size - 16)
		n = size - 16;      /* a monstrous host name leaves room */
	memcpy(e, "probe ", 6);
	memcpy(e + 6, c->where, n);
	memcpy(e + 6 + n, ": ", 3);
	va_start(ap, fmt);
	vsnprintf(e + 8 + n, size - 8 - n, fmt, ap);
	va_end(ap);
	return -1;
}

/* Peer text made safe for one line of a terminal or a log. */
static const char *quote(const char *s, char *out, size_t size)
{
	size_t o = 0, i;

	for (i = 0; s[i] && i < QUOTE_MAX && o + 5 < size; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, size - o, "\\x%02x", ch);
	}
	if (s[i] && o + 4 < size)
		o += (size_t)snprintf(out + o, size - o, "...");
	out[o] = 0;
	return out;
}

static int is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
}

/* Waits until the socket is ready for events, or the deadline. */
static int wait_io(struct conn *c, short events, const char *what)
{
	struct pollfd pfd;
	long long left;
	int n;

	/* Bounded: every pass returns or comes nearer the deadline. */
	for (;;) {
		left = c->deadline - now_ms();
		if (left <= 0)
			return fail(c, "timed out after %ld ms waiting for %s",
			    c->timeout_ms, what);
		pfd.fd = c->fd;
		pfd.events = events;
		pfd.revents = 0;
		n = poll(&pfd, 1, left > 60000 ? 60000 : (int)left);
		if (n > 0)      /* an error or hangup shows in the next call */
			return 0;
		if (n < 0 && errno != EINTR)
			return fail(c, "poll: %s", strerror(errno));
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

static int lookup_wait(struct conn *c, struct gaicb *cb)
{
	struct gaicb *list[1] = { cb };
	struct timespec ts;
	long long left;
	int err;

	for (;;) {      /* bounded by the deadline */
		left = c->deadline - now_ms();
		if (left <= 0)
			return EAI_AGAIN;
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000;
		err = gai_suspend((const struct gaicb *const *)list, 1, &ts);
		if (err != EAI_INTR && err != EAI_AGAIN)
			return gai_error(cb);
	}
}

static int resolve_name(struct conn *c, const struct addrinfo *hints,
    struct addrinfo **res)
{
	struct gaicb *list[1];
	struct lookup *l;
	int err;

	reap_abandoned();
	if (strlen(c->p->host) >= sizeof l->host ||
	    strlen(c->p->port) >= sizeof l->port)
		return fail(c, "host or port name too long");
	l = calloc(1, sizeof *l);
	if (!l)
		return fail(c, "unable to resolve: out of memory");
	strcpy(l->host, c->p->host);
	strcpy(l->port, c->p->port);
	l->hints = *hints;
	l->cb.ar_name = l->host;
	l->cb.ar_service = l->port;
	l->cb.ar_request = &l->hints;
	list[0] = &l->cb;
	err = getaddrinfo_a(GAI_NOWAIT, list, 1, NULL);
	if (err) {
		free(l);
		return fail(c, "unable to resolve: %s", gai_strerror(err));
	}
	err = lookup_wait(c, &l->cb);
	if (err == EAI_INPROGRESS || err == EAI_AGAIN) {
		if (gai_cancel(&l->cb) == EAI_NOTCANCELED) {
			l->next = abandoned;
			abandoned = l;
		} else
			lookup_free(l);
		return fail(c, "timed out after %ld ms resolving %s",
		    c->timeout_ms, c->p->host);
	}
	if (err) {
		lookup_free(l);
		return fail(c, "unable to resolve: %s", gai_strerror(err));
	}
	*res = l->cb.ar_result;
	free(l);
	return 0;
}
#else
/* Without getaddrinfo_a the lookup is bounded by the resolver's own
 * timeouts; numeric hosts never get here. */
static int resolve_name(struct conn *c, const struct addrinfo *hints,
    struct addrinfo **res)
{
	int err = getaddrinfo(c->p->host, c->p->port, hints, res);

	if (err)
		return fail(c, "unable to resolve: %s", gai_strerror(err));
	if (now_ms() >= c->deadline) {
		freeaddrinfo(*res);
		return fail(c, "timed out after %ld ms resolving %s",
		    c->timeout_ms, c->p->host);
	}
	return 0;
}
#endif

static int resolve(struct conn *c, struct addrinfo **res)
{
	struct addrinfo hints;
	const char *s;
	int err;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	for (s = c->p->port; *s >= '0' && *s <= '9'; s++)
		;
	if (!*s && s != c->p->port)
		hints.ai_flags |= AI_NUMERICSERV;
	/* A numeric host must never wait for DNS. */
	hints.ai_flags |= AI_NUMERICHOST;
	err = getaddrinfo(c->p->host, c->p->port, &hints, res);
	if (!err)
		return 0;
	if (err != EAI_NONAME)
		return fail(c, "unable to resolve: %s", gai_strerror(err));
	hints.ai_flags &= ~AI_NUMERICHOST;
	return resolve_name(c, &hints, res);
}

/* ---- connecting ---- */

/* Returns 0 connected, an errno value for this address, or -1 when the
 * deadline passed (message recorded). */
static int connect_one(struct conn *c, const struct addrinfo *ai)
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
	if (!err)
		return 0;
	close(c->fd);
	c->fd = -1;
	return err;
}

static int connect_any(struct conn *c)
{
	struct addrinfo *res, *ai;
	int err = 0, tried = 0, refused = 0;

	if (resolve(c, &res) < 0)
		return -1;
	for (ai = res; ai; ai = ai->ai_next) {
		err = connect_one(c, ai);
		if (err <= 0)
			break;
		tried++;
		refused += err == ECONNREFUSED;
	}
	freeaddrinfo(res);
	if (err <= 0)
		return err;
	if (tried == refused) {
		c->r->refused = 1;
		return fail(c, "connection refused");
	}
	return fail(c, "unable to connect: %s", strerror(err));
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

static int tls_init(struct conn *c)
{
	if (tls_ctx)
		return 0;
	nosig_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
	    "qmailctl socket");
	if (!nosig_method || !BIO_meth_set_write(nosig_method, nosig_write) ||
	    !BIO_meth_set_read(nosig_method, nosig_read) ||
	    !BIO_meth_set_ctrl(nosig_method, nosig_ctrl)) {
		probe_cleanup();
		return fail(c, "unable to set up TLS: out of memory");
	}
	tls_ctx = SSL_CTX_new(TLS_client_method());
	if (!tls_ctx) {
		probe_cleanup();
		return fail(c, "unable to set up TLS: %s",
		    ERR_reason_error_string(ERR_peek_last_error()));
	}
	/* A self-signed certificate must pass: we test the service, not
	 * the PKI (check tests the certificate file separately). */
	SSL_CTX_set_verify(tls_ctx, SSL_VERIFY_NONE, NULL);
	/* A peer closing without close_notify reads as end of stream, so
	 * "closed before greeting" is reported as such. */
	SSL_CTX_set_options(tls_ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	return 0;
}

void probe_cleanup(void)
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
static short tls_want(struct conn *c, int rc, int *sslerr)
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

static int tls_start(struct conn *c)
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
		return fail(c, "unable to set up TLS: out of memory");
	}
	BIO_set_data(bio, &c->fd);
	BIO_set_init(bio, 1);
	SSL_set_bio(c->ssl, bio, bio);
	/* RFC 6066: SNI carries names only, never address literals. */
	if (!is_ip_literal(c->p->host))
		SSL_set_tlsext_host_name(c->ssl, c->p->host);
	SSL_set_connect_state(c->ssl);
	for (;;) {      /* bounded by the deadline in wait_io */
		errno = 0;
		rc = SSL_do_handshake(c->ssl);
		if (rc == 1)
			break;
		ev = tls_want(c, rc, &sslerr);
		if (!ev)
			return fail(c, "TLS handshake failed: %s",
			    tls_reason(sslerr));
		if (wait_io(c, ev, "TLS handshake") < 0)
			return -1;
	}
	snprintf(c->r->tls, sizeof c->r->tls, "%s %s",
	    SSL_get_version(c->ssl), SSL_get_cipher_name(c->ssl));
	return 0;
}

/* ---- reading and writing, plain or TLS ---- */

/* Reads at most size bytes: the count, 0 at end of stream, or -1. */
static ssize_t conn_read(struct conn *c, char *buf, size_t size,
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
				return fail(c, "connection reset before %s",
				    what);
			if (!ev)
				return fail(c, "TLS error before %s: %s", what,
				    tls_reason(sslerr));
		} else {
			n = recv(c->fd, buf, size, 0);
			if (n >= 0)
				return n;
			if (errno == ECONNRESET)
				return fail(c, "connection reset before %s",
				    what);
			if (errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return fail(c, "unable to read %s: %s", what,
				    strerror(errno));
			ev = POLLIN;
		}
		if (wait_io(c, ev, what) < 0)
			return -1;
	}
}

static int conn_write(struct conn *c, const char *s, const char *what)
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
				return fail(c, "unable to send %s: %s", what,
				    tls_reason(sslerr));
		} else {
			n = send(c->fd, s, len, MSG_NOSIGNAL);
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK &&
			    errno != EINTR)
				return fail(c, "unable to send %s: %s", what,
				    strerror(errno));
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

/* Reads one line into line (PROBE_LINE_MAX + 1 bytes), CR LF or LF
 * removed.  A peer that never sends a newline fails at the bound. */
static int get_line(struct conn *c, char *line, const char *what)
{
	char q[QUOTE_MAX * 4 + 8], *nl;
	size_t n;
	ssize_t got;

	for (;;) {      /* bounded: the buffer fills, or the deadline */
		nl = memchr(c->buf, '\n', c->len);
		if (nl) {
			n = (size_t)(nl - c->buf);
			memcpy(line, c->buf, n);
			line[n] = 0;
			if (n > 0 && line[n - 1] == '\r')
				line[n - 1] = 0;
			c->len -= n + 1;
			memmove(c->buf, nl + 1, c->len);
			return 0;
		}
		if (c->len == sizeof c->buf) {
			memcpy(line, c->buf, QUOTE_MAX + 1);
			line[QUOTE_MAX + 1] = 0;
			return fail(c, "%s longer than %d bytes: '%s'", what,
			    PROBE_LINE_MAX, quote(line, q, sizeof q));
		}
		got = conn_read(c, c->buf + c->len, sizeof c->buf - c->len,
		    what);
		if (got < 0)
			return -1;
		if (got == 0)
			return fail(c, "connection closed before %s", what);
		c->len += (size_t)got;
	}
}

/* Fails unless line starts with prefix; what names the line. */
static int expect_prefix(struct conn *c, const char *line, const char *prefix,
    const char *what)
{
	char q1[QUOTE_MAX * 4 + 8], q2[QUOTE_MAX * 4 + 8];

	if (!strncmp(line, prefix, strlen(prefix)))
		return 0;
	return fail(c, "%s '%s' does not start with '%s'", what,
	    quote(line, q1, sizeof q1), quote(prefix, q2, sizeof q2));
}

/* Sends cmd, reads the first line of the reply. */
static int command(struct conn *c, const char *cmd, char *line,
    const char *what)
{
	char text[64];

	snprintf(text, sizeof text, "%s\r\n", cmd);
	if (conn_write(c, text, cmd) < 0)
		return -1;
	return get_line(c, line, what);
}

/* STARTTLS injection (CVE-2011-0411 class): anything the server sent
 * after its go-ahead and before the handshake is not to be trusted. */
static int no_leftover(struct conn *c, const char *cmd)
{
	if (c->len == 0)
		return 0;
	return fail(c, "server sent plaintext after accepting %s", cmd);
}

/* ---- the dialogs ---- */

static int greeting(struct conn *c, const char *expect)
{
	char line[PROBE_LINE_MAX + 1];

	if (get_line(c, line, "greeting") < 0)
		return -1;
	return expect_prefix(c, line, expect ? expect : "", "greeting");
}

/* Is the first word of s equal to word, ignoring case? */
static int first_word_is(const char *s, const char *word)
{
	size_t n = strlen(word);

	return !strncasecmp(s, word, n) && (s[n] == 0 || s[n] == ' ');
}

/* CAPA (RFC 2449): "+OK", capability lines, ".".  *stls: STLS listed. */
static int pop3_capa(struct conn *c, int *stls, const char *what)
{
	char line[PROBE_LINE_MAX + 1];
	int i;

	*stls = 0;
	if (command(c, "CAPA", line, what) < 0 ||
	    expect_prefix(c, line, "+OK", what) < 0)
		return -1;
	for (i = 0; i < REPLY_MAX_LINES; i++) {
		if (get_line(c, line, "end of the CAPA list") < 0)
			return -1;
		if (!strcmp(line, "."))
			return 0;
		if (first_word_is(line, "STLS"))
			*stls = 1;
	}
	return fail(c, "CAPA list longer than %d lines", REPLY_MAX_LINES);
}

/* No greeting follows the handshake (RFC 2595, and stunnel sent the
 * program's greeting in plaintext), so a command must prove that the
 * program behind the TLS layer answers: NOOP, which qmail-popup takes
 * before login, or CAPA for servers that refuse NOOP before login. */
static int pop3_alive(struct conn *c)
{
	char line[PROBE_LINE_MAX + 1];
	int stls;

	if (command(c, "NOOP", line, "reply to NOOP over TLS") < 0)
		return -1;
	if (!strncmp(line, "-ERR", 4))
		return pop3_capa(c, &stls, "reply to CAPA over TLS");
	return expect_prefix(c, line, "+OK", "reply to NOOP over TLS");
}

static int run_pop3_stls(struct conn *c)
{
	char line[PROBE_LINE_MAX + 1];
	int stls;

	if (greeting(c, c->p->expect ? c->p->expect : "+OK") < 0 ||
	    pop3_capa(c, &stls, "reply to CAPA") < 0)
		return -1;
	if (!stls)
		return fail(c, "CAPA does not list STLS");
	if (command(c, "STLS", line, "reply to STLS") < 0 ||
	    expect_prefix(c, line, "+OK", "reply to STLS") < 0 ||
	    no_leftover(c, "STLS") < 0 || tls_start(c) < 0)
		return -1;
	return pop3_alive(c);
}

/* One SMTP reply (RFC 5321 4.2.1): "CODE-text" lines, the last one
 * "CODE text", every line with the expected code.  *found: some line's
 * first word after the code is keyword. */
static int smtp_reply(struct conn *c, const char *code, const char *what,
    const char *keyword, int *found)
{
	char line[PROBE_LINE_MAX + 1];
	int i;

	for (i = 0; i < REPLY_MAX_LINES; i++) {
		if (get_line(c, line, what) < 0 ||
		    expect_prefix(c, line, code, what) < 0)
			return -1;
		if (keyword && strlen(line) > 4 && first_word_is(line + 4,
		    keyword))
			*found = 1;
		if (line[3] != '-')
			return 0;
	}
	return fail(c, "%s longer than %d lines", what, REPLY_MAX_LINES);
}

static int run_smtp_starttls(struct conn *c)
{
	const char *ehlo = "EHLO " EHLO_NAME "\r\n";
	int starttls = 0;

	if (smtp_reply(c, c->p->expect ? c->p->expect : "220", "greeting",
	    NULL, NULL) < 0 ||
	    conn_write(c, ehlo, "EHLO") < 0 ||
	    smtp_reply(c, "250", "reply to EHLO", "STARTTLS", &starttls) < 0)
		return -1;
	if (!starttls)
		return fail(c, "EHLO reply does not list STARTTLS");
	if (conn_write(c, "STARTTLS\r\n", "STARTTLS") < 0 ||
	    smtp_reply(c, "220", "reply to STARTTLS", NULL, NULL) < 0 ||
	    no_leftover(c, "STARTTLS") < 0 || tls_start(c) < 0)
		return -1;
	if (conn_write(c, ehlo, "EHLO over TLS") < 0)
		return -1;
	return smtp_reply(c, "250", "reply to EHLO over TLS", NULL, NULL);
}

static int run(struct conn *c)
{
	switch (c->p->kind) {
	case PROBE_TCP:
		return greeting(c, c->p->expect);
	case PROBE_TLS:
		if (tls_start(c) < 0)
			return -1;
		return greeting(c, c->p->expect);
	case PROBE_POP3_STLS:
		return run_pop3_stls(c);
	case PROBE_SMTP_STARTTLS:
		return run_smtp_starttls(c);
	default:
		return fail(c, "unknown probe kind %d", (int)c->p->kind);
	}
}

/* Says goodbye, briefly, without letting the goodbye fail the probe. */
static void quit(struct conn *c)
{
	char line[PROBE_LINE_MAX + 1];
	long long soon = now_ms() + QUIT_WAIT_MS;

	c->quiet = 1;
	if (soon < c->deadline)
		c->deadline = soon;
	if (conn_write(c, "QUIT\r\n", "QUIT") == 0)
		get_line(c, line, "reply to QUIT");
	if (c->ssl && !c->tls_dead)
		SSL_shutdown(c->ssl);   /* one try at close_notify */
}

static void format_where(char *buf, size_t size, const struct probe *p)
{
	const char *host = p->host ? p->host : "?";
	const char *port = p->port ? p->port : "?";

	if (strchr(host, ':'))
		snprintf(buf, size, "[%s]:%s", host, port);
	else
		snprintf(buf, size, "%s:%s", host, port);
}

int probe_once(const struct probe *p, long timeout_ms, struct probe_result *r)
{
	struct conn c;
	int rc;

	memset(r, 0, sizeof *r);
	if (p->kind == PROBE_NONE)
		return 0;
	memset(&c, 0, sizeof c);
	c.p = p;
	c.r = r;
	c.fd = -1;
	c.timeout_ms = timeout_ms;
	c.deadline = now_ms() + timeout_ms;
	format_where(c.where, sizeof c.where, p);
	ERR_clear_error();
	if (!p->host || !p->port)
		rc = fail(&c, "no host or port");
	else
		rc = connect_any(&c);
	if (rc == 0)
		rc = run(&c);
	if (rc == 0)
		quit(&c);
	SSL_free(c.ssl);
	if (c.fd >= 0)
		close(c.fd);
	/* Nothing this attempt left in OpenSSL's error queue may pass for
	 * the cause of the next attempt's failure. */
	ERR_clear_error();
	return rc;
}

void probe_describe(const struct probe *p, char *buf, size_t size)
{
	static const char *const names[] = {
		[PROBE_NONE] = "none",
		[PROBE_TCP] = "tcp",
		[PROBE_TLS] = "tls",
		[PROBE_POP3_STLS] = "pop3-stls",
		[PROBE_SMTP_STARTTLS] = "smtp-starttls",
	};
	char where[300];

	if (p->kind == PROBE_NONE || (unsigned)p->kind >=
	    sizeof names / sizeof names[0]) {
		snprintf(buf, size, "none");
		return;
	}
	format_where(where, sizeof where, p);
	if (p->expect && (p->kind == PROBE_TCP || p->kind == PROBE_TLS))
		snprintf(buf, size, "%s %s expects '%s'", names[p->kind], where,
		    p->expect);
	else
		snprintf(buf, size, "%s %s", names[p->kind], where);
}
