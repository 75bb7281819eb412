/* net_tls.c: the TLS client of net.h, the one part of the probes that
 * needs OpenSSL.  net.c reaches it only through the layer that
 * net_tls_start() puts on the connection, so a program that makes no TLS
 * connection (the supervisor, qmailctl-supervise) links without OpenSSL.
 *
 * OpenSSL writes through a small BIO of ours that uses send(MSG_NOSIGNAL)
 * (the stock socket BIO uses write(), and the caller may not ignore
 * SIGPIPE). */
#include "net.h"
#include "msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

/* One client context for every connection: start retries a probe many
 * times, and building a context loads the default configuration. */
static SSL_CTX *tls_ctx;
static BIO_METHOD *nosig_method;

static int is_ip_literal(const char *host)
{
	unsigned char a[sizeof(struct in6_addr)];

	return inet_pton(AF_INET, host, a) == 1 ||
	    inet_pton(AF_INET6, host, a) == 1;
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

/* ---- the layer net.c reads, writes and closes through ---- */

static ssize_t tls_read(struct net_conn *c, char *buf, size_t size,
    short *ev, const char *what)
{
	size_t got;
	int rc, sslerr;

	rc = SSL_read_ex(c->ssl, buf, size, &got);
	if (rc == 1)
		return (ssize_t)got;
	*ev = tls_want(c, rc, &sslerr);
	if (sslerr == SSL_ERROR_ZERO_RETURN)
		return 0;
	if (sslerr == SSL_ERROR_SYSCALL && errno == ECONNRESET)
		return net_fail(c, "connection reset before %s", what);
	if (!*ev)
		return net_fail(c, "TLS error before %s: %s", what,
		    tls_reason(sslerr));
	return -2;
}

static ssize_t tls_write(struct net_conn *c, const char *s, size_t len,
    short *ev, const char *what)
{
	size_t put;
	int rc, sslerr;

	rc = SSL_write_ex(c->ssl, s, len, &put);
	if (rc == 1)
		return (ssize_t)put;
	*ev = tls_want(c, rc, &sslerr);
	if (!*ev)
		return net_fail(c, "unable to send %s: %s", what,
		    tls_reason(sslerr));
	return -2;
}

static void tls_shutdown(struct net_conn *c)
{
	if (c->ssl && !c->tls_dead)
		SSL_shutdown(c->ssl);   /* one try at close_notify */
}

/* Leaves OpenSSL's error queue empty, so nothing of this connection
 * passes for the cause of the next one's failure. */
static void tls_close(struct net_conn *c)
{
	SSL_free(c->ssl);
	c->ssl = NULL;
	ERR_clear_error();
}

static const struct net_tls_layer layer = {
	tls_read, tls_write, tls_shutdown, tls_close
};

int net_tls_start(struct net_conn *c, const char *certname,
    struct net_tls *t)
{
	BIO *bio;
	short ev;
	int rc, sslerr;

	/* an earlier failure of anyone's is no reason of ours */
	ERR_clear_error();
	if (tls_init(c) < 0)
		return -1;
	c->tls = &layer;
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
	for (;;) {      /* bounded by the deadline in net_wait */
		errno = 0;
		rc = SSL_do_handshake(c->ssl);
		if (rc == 1)
			break;
		ev = tls_want(c, rc, &sslerr);
		if (!ev)
			return net_fail(c, "TLS handshake failed: %s",
			    tls_reason(sslerr));
		if (net_wait(c, ev, "TLS handshake") < 0)
			return -1;
	}
	tls_record(c, certname, t);
	return 0;
}
