/* net.c: the client connection under one deadline (see net.h).
 *
 * The socket is non-blocking from the start and every wait is a poll()
 * against one monotonic deadline, so no single step can outlast it.
 *
 * Writes never raise SIGPIPE: they use send(MSG_NOSIGNAL).  Nothing here
 * calls OpenSSL: a TLS connection reads, writes and closes through the
 * layer net_tls.c put on it. */
#include "net.h"
#include "clock.h"
#include "msg.h"

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

int net_wait(struct net_conn *c, short events, const char *what)
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
	else if (net_wait(c, POLLOUT, "connection") < 0)
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

/* ---- reading and writing, plain or TLS ---- */

/* recv() in the shape of a TLS layer's read (net.h). */
static ssize_t plain_read(struct net_conn *c, char *buf, size_t size,
    short *ev, const char *what)
{
	ssize_t n = recv(c->fd, buf, size, 0);

	if (n >= 0)
		return n;
	if (errno == ECONNRESET)
		return net_fail(c, "connection reset before %s", what);
	if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return net_fail(c, "unable to read %s: %s", what,
		    strerror(errno));
	*ev = POLLIN;
	return -2;
}

/* send() in the shape of a TLS layer's write (net.h). */
static ssize_t plain_write(struct net_conn *c, const char *s, size_t len,
    short *ev, const char *what)
{
	ssize_t n = send(c->fd, s, len, MSG_NOSIGNAL);

	if (n > 0)
		return n;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return net_fail(c, "unable to send %s: %s", what,
		    strerror(errno));
	*ev = POLLOUT;
	return -2;
}

/* Reads at most size bytes: the count, 0 at end of stream, or -1. */
static ssize_t conn_read(struct net_conn *c, char *buf, size_t size,
    const char *what)
{
	ssize_t n;
	short ev = POLLIN;

	for (;;) {      /* bounded by the deadline in net_wait */
		errno = 0;
		n = c->tls ? c->tls->read(c, buf, size, &ev, what) :
		    plain_read(c, buf, size, &ev, what);
		if (n != -2)
			return n;
		if (net_wait(c, ev, what) < 0)
			return -1;
	}
}

int net_write(struct net_conn *c, const char *s, const char *what)
{
	size_t len = strlen(s);
	ssize_t n;
	short ev = POLLOUT;

	while (len > 0) {       /* bounded: progress or the deadline */
		errno = 0;
		n = c->tls ? c->tls->write(c, s, len, &ev, what) :
		    plain_write(c, s, len, &ev, what);
		if (n == -1)
			return -1;
		if (n > 0) {
			s += n;
			len -= (size_t)n;
		} else if (net_wait(c, ev, what) < 0)
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

void net_tls_shutdown(struct net_conn *c)
{
	if (c->tls)
		c->tls->shutdown(c);
}

void net_close(struct net_conn *c)
{
	if (c->tls)
		c->tls->close(c);
	c->tls = NULL;
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}
