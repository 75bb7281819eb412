/* probe_test: probe_once() against scripted servers forked from this
 * process, and, when tcpserver and stunnel are installed, against the
 * real chain tcpserver -> stunnel (inetd mode) -> greeter.  Prints TAP.
 *
 * Servers bind 127.0.0.1 port 0; every child is killed and reaped by pid
 * at exit (atexit), and each also dies by alarm() should we vanish.
 * SIGPIPE keeps its default action: a probe that raised it would kill
 * this test, which run.sh reports as a failure.
 *
 * Not tested here: name lookups that time out (needs an unreachable DNS
 * server), IPv6 (the servers bind 127.0.0.1 only). */
#include "cert.h"
#include "probe.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

/* A server child serves at most this many connections, then exits. */
#define SERVER_MAX_CONN 32
/* No child outlives a hung test run by more than this. */
#define CHILD_ALARM_S 60
/* Ordinary probes; the deadline tests use SHORT_MS. */
#define PROBE_MS 3000
#define SHORT_MS 300
/* A probe may overrun its deadline by scheduling noise, not by a step. */
#define SLACK_MS 500
/* How long we wait for tcpserver to print its port. */
#define TCPSERVER_WAIT_MS 5000

static char tmpdir[64];
static char certfile[128];
/* Made by the openssl command (test_tls_judged): an RSA certificate, for
 * RSA key exchange; a leaf signed by a test CA, alone and with the CA. */
static char rsafile[128], leaffile[128], chainfile[128];
static pid_t children[64];
static int nchildren;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- children and the temp dir, cleaned up on every exit ---- */

static void track(pid_t pid)
{
	if (nchildren < (int)(sizeof children / sizeof children[0]))
		children[nchildren++] = pid;
}

static void stop_child(pid_t pid)
{
	int i;

	for (i = 0; i < nchildren; i++)
		if (children[i] == pid) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			children[i] = children[--nchildren];
			return;
		}
}

static void cleanup(void)
{
	while (nchildren > 0)
		stop_child(children[nchildren - 1]);
	if (tmpdir[0])
		rm_tree(tmpdir);
	probe_cleanup();
}

/* ---- the scripted servers ---- */

enum script {
	S_GOOD, S_WRONG, S_CLOSE, S_ENDLESS, S_SILENT, S_TRICKLE, S_RESET,
	S_GOOD_NUL,
	S_TLS_GOOD, S_TLS_PLAIN, S_TLS_SILENT, S_TLS_RESET, S_TLS_QUIT_RESET,
	S_TLS_1_0, S_TLS_RSA_KX, S_TLS_LEAF_ALONE, S_TLS_LEAF_CHAIN,
	S_POP3_STLS, S_POP3_NO_STLS, S_POP3_INJECT,
	S_SMTP_STARTTLS, S_SMTP_NO_STARTTLS, S_SMTP_REFUSED,
};

struct chan {
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;
	char sni[256];
	int reset_on_quit;      /* answer QUIT with a reset, not 221 */
};

static void put(struct chan *ch, const char *s)
{
	if (ch->ssl)
		SSL_write(ch->ssl, s, (int)strlen(s));
	else
		send(ch->fd, s, strlen(s), MSG_NOSIGNAL);
}

/* One line, byte by byte so that nothing is read past a STARTTLS. */
static int getl(struct chan *ch, char *buf, size_t size)
{
	size_t n = 0;
	char c;

	while (n + 1 < size) {
		int r = ch->ssl ? SSL_read(ch->ssl, &c, 1) :
		    (int)recv(ch->fd, &c, 1, 0);

		if (r <= 0)
			return -1;
		if (c == '\n')
			break;
		if (c != '\r')
			buf[n++] = c;
	}
	buf[n] = 0;
	return 0;
}

static int sni_seen(SSL *ssl, int *al, void *arg)
{
	struct chan *ch = arg;
	const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);

	(void)al;
	snprintf(ch->sni, sizeof ch->sni, "%s", name ? name : "none");
	return SSL_TLSEXT_ERR_OK;
}

static int tls_accept(struct chan *ch)
{
	ch->ssl = SSL_new(ch->ctx);
	SSL_set_fd(ch->ssl, ch->fd);
	return SSL_accept(ch->ssl) == 1 ? 0 : -1;
}

/* Closes with a reset (RST), without a TLS close_notify first. */
static void reset_close(struct chan *ch)
{
	struct linger lg = { 1, 0 };

	setsockopt(ch->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	SSL_free(ch->ssl);
	ch->ssl = NULL;
	close(ch->fd);
	ch->fd = -1;
}

/* Answers SMTP commands until QUIT or EOF; STARTTLS gets starttls and,
 * when that is a 220, the handshake. */
static void smtp_loop(struct chan *ch, const char *ehlo, const char *starttls)
{
	char line[1100];
	int i;

	for (i = 0; i < 20 && getl(ch, line, sizeof line) == 0; i++) {
		if (!strncasecmp(line, "EHLO", 4))
			put(ch, ehlo);
		else if (!strcasecmp(line, "STARTTLS") && !ch->ssl) {
			put(ch, starttls);
			if (strncmp(starttls, "220", 3))
				continue;
			if (tls_accept(ch) < 0)
				return;
			ehlo = "250-smtp.test\r\n250 PIPELINING\r\n";
		} else if (!strcasecmp(line, "QUIT") && ch->reset_on_quit) {
			reset_close(ch);
			return;
		} else if (!strcasecmp(line, "QUIT")) {
			put(ch, "221 bye\r\n");
			return;
		} else
			put(ch, "502 unimplemented\r\n");
	}
}

/* An RFC 2595 server that, like Dovecot, refuses NOOP before login. */
static void pop3_loop(struct chan *ch, const char *capa, const char *stls)
{
	char line[1100];
	int i;

	for (i = 0; i < 20 && getl(ch, line, sizeof line) == 0; i++) {
		if (!strcasecmp(line, "CAPA"))
			put(ch, ch->ssl ? "+OK\r\nUSER\r\n.\r\n" : capa);
		else if (!strcasecmp(line, "STLS") && !ch->ssl) {
			put(ch, stls);
			if (tls_accept(ch) < 0)
				return;
		} else if (!strcasecmp(line, "QUIT")) {
			put(ch, "+OK bye\r\n");
			return;
		} else
			put(ch, "-ERR unknown command\r\n");
	}
}

static void run_tls_greeter(struct chan *ch, int reset)
{
	char greeting[400];

	if (tls_accept(ch) < 0)
		return;
	snprintf(greeting, sizeof greeting, "220 sni=%s ESMTP\r\n", ch->sni);
	put(ch, greeting);
	if (reset) {
		reset_close(ch);
		return;
	}
	smtp_loop(ch, "250 tls.test\r\n", "502 already\r\n");
}

static void run_plain(struct chan *ch, enum script s)
{
	char buf[4096];
	int i;

	switch (s) {
	case S_GOOD:
		put(ch, "220 plain.test ESMTP\r\n");
		smtp_loop(ch, "250 plain.test\r\n", "502 no\r\n");
		break;
	case S_WRONG:
		put(ch, "554 go\x01 away\r\n");
		break;
	case S_GOOD_NUL:        /* a good greeting behind a NUL byte */
		send(ch->fd, "\000220 hi\r\n", 9, MSG_NOSIGNAL);
		break;
	case S_CLOSE:
		break;
	case S_ENDLESS:
		memset(buf, 'A', sizeof buf);
		for (i = 0; i < 64; i++)
			if (send(ch->fd, buf, sizeof buf, MSG_NOSIGNAL) < 0)
				break;
		break;
	case S_SILENT:
		sleep(CHILD_ALARM_S);
		break;
	case S_TRICKLE:
		/* Each byte is progress, so only a deadline for the whole
		 * attempt (not one per read) stops the probe in time. */
		for (i = 0; i < 40; i++) {
			send(ch->fd, "2", 1, MSG_NOSIGNAL);
			usleep(100000);
		}
		break;
	case S_RESET:
		put(ch, "220 plain.test ESMTP\r\n");
		reset_close(ch);
		break;
	default:
		break;
	}
}

static void serve(struct chan *ch, enum script s)
{
	switch (s) {
	case S_TLS_GOOD:
	case S_TLS_1_0:
	case S_TLS_RSA_KX:
	case S_TLS_LEAF_ALONE:
	case S_TLS_LEAF_CHAIN:
	case S_TLS_RESET:
		run_tls_greeter(ch, s == S_TLS_RESET);
		break;
	case S_TLS_QUIT_RESET:
		ch->reset_on_quit = 1;
		run_tls_greeter(ch, 0);
		break;
	case S_TLS_PLAIN:
		put(ch, "220 plaintext where TLS was expected\r\n");
		sleep(1);
		break;
	case S_TLS_SILENT:
		sleep(CHILD_ALARM_S);
		break;
	case S_POP3_STLS:
		put(ch, "+OK pop3.test ready\r\n");
		pop3_loop(ch, "+OK\r\nUSER\r\nSTLS\r\nSASL PLAIN\r\n.\r\n",
		    "+OK begin TLS\r\n");
		break;
	case S_POP3_NO_STLS:
		put(ch, "+OK pop3.test ready\r\n");
		pop3_loop(ch, "+OK\r\nUSER\r\n.\r\n", "-ERR no\r\n");
		break;
	case S_POP3_INJECT:
		put(ch, "+OK pop3.test ready\r\n");
		pop3_loop(ch, "+OK\r\nSTLS\r\n.\r\n",
		    "+OK begin TLS\r\n+OK injected\r\n");
		break;
	case S_SMTP_STARTTLS:
		put(ch, "220-smtp.test ESMTP\r\n220 second greeting line\r\n");
		smtp_loop(ch, "250-smtp.test\r\n250-PIPELINING\r\n"
		    "250 starttls\r\n", "220 ready to start TLS\r\n");
		break;
	case S_SMTP_NO_STARTTLS:
		put(ch, "220 smtp.test ESMTP\r\n");
		smtp_loop(ch, "250-smtp.test\r\n250-STARTTLSX\r\n"
		    "250 PIPELINING\r\n", "502 no\r\n");
		break;
	case S_SMTP_REFUSED:
		put(ch, "220 smtp.test ESMTP\r\n");
		smtp_loop(ch, "250-smtp.test\r\n250 STARTTLS\r\n",
		    "454 TLS not available\r\n");
		break;
	default:
		run_plain(ch, s);
	}
}

/* The server's certificate and what it will negotiate: TLS 1.0 with an
 * ephemeral key exchange; TLS 1.2 with RSA key exchange (no forward
 * secrecy); a CA-signed leaf without, then with, the CA in the chain. */
static SSL_CTX *server_ctx(struct chan *ch, enum script s)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	const char *file = s == S_TLS_RSA_KX ? rsafile :
	    s == S_TLS_LEAF_ALONE ? leaffile :
	    s == S_TLS_LEAF_CHAIN ? chainfile : certfile;

	if (!ctx || SSL_CTX_use_certificate_chain_file(ctx, file) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, file, SSL_FILETYPE_PEM) != 1)
		_exit(111);
	if (s == S_TLS_1_0 && (!SSL_CTX_set_max_proto_version(ctx,
	    TLS1_VERSION) || !SSL_CTX_set_cipher_list(ctx,
	    "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")))
		_exit(111);
	if (s == S_TLS_RSA_KX && (!SSL_CTX_set_max_proto_version(ctx,
	    TLS1_2_VERSION) || !SSL_CTX_set_cipher_list(ctx, "AES128-SHA")))
		_exit(111);
	SSL_CTX_set_tlsext_servername_callback(ctx, sni_seen);
	SSL_CTX_set_tlsext_servername_arg(ctx, ch);
	return ctx;
}

static _Noreturn void server_child(int lfd, enum script s)
{
	struct chan ch;
	int i;

	alarm(CHILD_ALARM_S);
	signal(SIGPIPE, SIG_IGN);
	memset(&ch, 0, sizeof ch);
	ch.ctx = server_ctx(&ch, s);
	for (i = 0; i < SERVER_MAX_CONN; i++) {
		ch.fd = accept(lfd, NULL, NULL);
		if (ch.fd < 0)
			_exit(111);
		snprintf(ch.sni, sizeof ch.sni, "none");
		serve(&ch, s);
		if (ch.ssl) {
			SSL_shutdown(ch.ssl);
			SSL_free(ch.ssl);
			ch.ssl = NULL;
		}
		if (ch.fd >= 0)
			close(ch.fd);
	}
	_exit(0);
}

/* Listens on 127.0.0.1, a port the kernel picks. */
static int listen_any(int *port)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(fd, 16) < 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
		perror("probe_test: unable to listen on 127.0.0.1");
		exit(1);
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static pid_t server(enum script s, char *port, size_t size)
{
	int p, lfd = listen_any(&p);
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("probe_test: fork");
		exit(1);
	}
	if (pid == 0)
		server_child(lfd, s);
	close(lfd);
	track(pid);
	snprintf(port, size, "%d", p);
	return pid;
}

/* ---- running probes ---- */

struct run {
	int rc;
	long long ms;
	struct probe_result r;
	int err_queue_empty;
};

/* One probe; certname is the name the certificate is asked for. */
static struct run probe_named(enum probe_kind kind, const char *host,
    const char *port, const char *expect, long timeout,
    const char *certname)
{
	struct probe p = { kind, (char *)host, (char *)port, (char *)expect };
	struct run run;
	long long t0 = now_ms();

	run.rc = probe_once(&p, timeout, certname, &run.r);
	run.ms = now_ms() - t0;
	run.err_queue_empty = ERR_peek_error() == 0;
	if (run.r.err.text[0])
		diag("probe said", run.r.err.text);
	return run;
}

static struct run probe_at(enum probe_kind kind, const char *host,
    const char *port, const char *expect, long timeout)
{
	return probe_named(kind, host, port, expect, timeout, NULL);
}

/* Starts a server for script s, probes it once, stops it. */
static struct run probe_script(enum script s, enum probe_kind kind,
    const char *expect, long timeout)
{
	char port[16];
	pid_t pid = server(s, port, sizeof port);
	struct run run = probe_at(kind, "127.0.0.1", port, expect, timeout);

	stop_child(pid);
	return run;
}

static int has(const struct run *run, const char *text)
{
	return strstr(run->r.err.text, text) != NULL;
}

/* ---- the cases ---- */

static void test_describe(void)
{
	struct probe p[] = {
		{ PROBE_NONE, NULL, NULL, NULL },
		{ PROBE_TCP, "127.0.0.1", "25", "220" },
		{ PROBE_TLS, "127.0.0.1", "465", "220" },
		{ PROBE_POP3_STLS, "127.0.0.1", "110", NULL },
		{ PROBE_SMTP_STARTTLS, "::1", "25", NULL },
	};
	const char *want[] = {
		"none", "tcp 127.0.0.1:25 expects '220'",
		"tls 127.0.0.1:465 expects '220'", "pop3-stls 127.0.0.1:110",
		"smtp-starttls [::1]:25",
	};
	char buf[128];
	size_t i;

	for (i = 0; i < sizeof p / sizeof p[0]; i++) {
		probe_describe(&p[i], buf, sizeof buf);
		ok(!strcmp(buf, want[i]), "describe: %s", want[i]);
	}
}

static void test_plain(void)
{
	char port[16], prefix[64];
	struct run run;
	pid_t pid;
	int i;

	run = probe_at(PROBE_NONE, NULL, NULL, NULL, PROBE_MS);
	ok(run.rc == 0 && !run.r.err.text[0],
	    "none: succeeds without a connection");

	pid = server(S_GOOD, port, sizeof port);
	run = probe_at(PROBE_TCP, "127.0.0.1", port, "220", PROBE_MS);
	ok(run.rc == 0 && !run.r.err.text[0] && !run.r.tls.version[0] &&
	    run.err_queue_empty, "tcp: good greeting");
	run = probe_at(PROBE_TCP, "localhost", port, "220 plain", PROBE_MS);
	ok(run.rc == 0, "tcp: host name resolved (every address tried)");
	stop_child(pid);

	pid = server(S_WRONG, port, sizeof port);
	run = probe_at(PROBE_TCP, "127.0.0.1", port, "220", PROBE_MS);
	snprintf(prefix, sizeof prefix, "probe 127.0.0.1:%s: ", port);
	ok(run.rc < 0 && !strncmp(run.r.err.text, prefix, strlen(prefix)) &&
	    has(&run, "greeting '554 go\\x01 away' does not start with '220'"),
	    "tcp: wrong greeting, quoted and escaped");
	stop_child(pid);

	run = probe_script(S_GOOD_NUL, PROBE_TCP, "220", PROBE_MS);
	ok(run.rc < 0 && has(&run, "greeting '\\x00220 hi' does not start "
	    "with '220'"), "tcp: a greeting after a NUL byte: the bytes "
	    "received, NUL escaped");

	run = probe_script(S_CLOSE, PROBE_TCP, "220", PROBE_MS);
	ok(run.rc < 0 && has(&run, ": connection closed before greeting"),
	    "tcp: closed before greeting");

	run = probe_script(S_ENDLESS, PROBE_TCP, "220", PROBE_MS);
	ok(run.rc < 0 && has(&run, "greeting longer than 1024 bytes") &&
	    run.ms < PROBE_MS, "tcp: endless greeting stops at the line bound");

	pid = server(S_RESET, port, sizeof port);
	for (i = 0; i < 5; i++)
		probe_at(PROBE_TCP, "127.0.0.1", port, "220", PROBE_MS);
	stop_child(pid);
	ok(1, "tcp: peer resets after greeting, 5 times: no SIGPIPE");
}

/* Silence, trickles, refusals and lookups: each within the deadline. */
static void test_deadline(void)
{
	char port[16];
	struct run run;
	int fd, p;

	run = probe_script(S_SILENT, PROBE_TCP, "220", SHORT_MS);
	ok(run.rc < 0 && has(&run, "timed out after 300 ms waiting for "
	    "greeting") && run.ms >= SHORT_MS - 5 &&
	    run.ms < SHORT_MS + SLACK_MS,
	    "tcp: silent peer, deadline kept (%lld ms)", run.ms);

	run = probe_script(S_TRICKLE, PROBE_TCP, "220", 500);
	ok(run.rc < 0 && has(&run, "timed out after 500 ms") &&
	    run.ms < 500 + SLACK_MS,
	    "tcp: trickling peer, one deadline for the attempt (%lld ms)",
	    run.ms);

	fd = listen_any(&p);
	close(fd);
	snprintf(port, sizeof port, "%d", p);
	run = probe_at(PROBE_TCP, "127.0.0.1", port, "220", PROBE_MS);
	ok(run.rc < 0 && run.r.refused && has(&run, ": connection refused"),
	    "tcp: refused port sets refused");

	run = probe_at(PROBE_TCP, "no-such-host.invalid", "25", "220", 1000);
	ok(run.rc < 0 && !run.r.refused && run.ms < 1000 + SLACK_MS &&
	    (has(&run, "unable to resolve") || has(&run, "resolving")),
	    "tcp: unknown host fails within the deadline");
}

static void test_tls(void)
{
	char port[16];
	struct run run;
	pid_t pid;
	int i, good = 0;

	pid = server(S_TLS_GOOD, port, sizeof port);
	run = probe_at(PROBE_TLS, "127.0.0.1", port, "220", PROBE_MS);
	ok(run.rc == 0 && !strncmp(run.r.tls.version, "TLSv1.", 6) &&
	    run.r.tls.cipher[0] && run.err_queue_empty,
	    "tls: self-signed certificate passes (%s %s)", run.r.tls.version,
	    run.r.tls.cipher);
	run = probe_at(PROBE_TLS, "localhost", port, "220 sni=localhost",
	    PROBE_MS);
	ok(run.rc == 0, "tls: SNI is the host name");
	run = probe_at(PROBE_TLS, "127.0.0.1", port, "220 sni=none", PROBE_MS);
	ok(run.rc == 0, "tls: no SNI for an address literal");
	stop_child(pid);

	run = probe_script(S_TLS_PLAIN, PROBE_TLS, "220", PROBE_MS);
	ok(run.rc < 0 && has(&run, ": TLS handshake failed: ") &&
	    run.err_queue_empty, "tls: plaintext server, handshake fails, "
	    "error queue drained");

	pid = server(S_TLS_GOOD, port, sizeof port);
	for (i = 0; i < 3; i++)
		good += probe_at(PROBE_TLS, "127.0.0.1", port, "220",
		    PROBE_MS).rc == 0;
	stop_child(pid);
	ok(good == 3, "tls: later attempts succeed with the kept context");

	run = probe_script(S_TLS_SILENT, PROBE_TLS, "220", SHORT_MS);
	ok(run.rc < 0 && has(&run, "timed out after 300 ms waiting for TLS "
	    "handshake") && run.ms < SHORT_MS + SLACK_MS,
	    "tls: stalled handshake, deadline kept (%lld ms)", run.ms);

	run = probe_script(S_CLOSE, PROBE_TLS, "220", PROBE_MS);
	ok(run.rc < 0 && has(&run, "TLS handshake failed"),
	    "tls: closed before handshake");

	pid = server(S_TLS_RESET, port, sizeof port);
	for (i = 0; i < 5; i++)
		probe_at(PROBE_TLS, "127.0.0.1", port, "220", PROBE_MS);
	stop_child(pid);
	ok(1, "tls: peer resets after greeting, 5 times: no SIGPIPE");

	/* The reset consumed by the read of the QUIT reply makes the next
	 * write (a close_notify) fail with EPIPE: SIGPIPE unless guarded. */
	pid = server(S_TLS_QUIT_RESET, port, sizeof port);
	for (i = 0, good = 0; i < 5; i++)
		good += probe_at(PROBE_TLS, "127.0.0.1", port, "220",
		    PROBE_MS).rc == 0;
	stop_child(pid);
	ok(good == 5, "tls: peer resets on QUIT, 5 times: success, no SIGPIPE");
}

static void test_starttls(void)
{
	struct run run;

	run = probe_script(S_POP3_STLS, PROBE_POP3_STLS, NULL, PROBE_MS);
	ok(run.rc == 0 && run.r.tls.version[0], "pop3-stls: RFC 2595 server "
	    "(NOOP refused before login, CAPA over TLS)");
	run = probe_script(S_POP3_NO_STLS, PROBE_POP3_STLS, NULL, PROBE_MS);
	ok(run.rc < 0 && has(&run, ": CAPA does not list STLS"),
	    "pop3-stls: STLS not offered");
	run = probe_script(S_POP3_INJECT, PROBE_POP3_STLS, NULL, PROBE_MS);
	ok(run.rc < 0 && has(&run, "plaintext after accepting STLS"),
	    "pop3-stls: plaintext injected after STLS is refused");
	run = probe_script(S_GOOD, PROBE_POP3_STLS, NULL, PROBE_MS);
	ok(run.rc < 0 && has(&run, "greeting '220 plain.test ESMTP' does not "
	    "start with '+OK'"), "pop3-stls: an SMTP server is no POP3 server");

	run = probe_script(S_SMTP_STARTTLS, PROBE_SMTP_STARTTLS, NULL,
	    PROBE_MS);
	ok(run.rc == 0 && run.r.tls.version[0], "smtp-starttls: multi-line greeting, "
	    "STARTTLS, EHLO over TLS");
	run = probe_script(S_SMTP_NO_STARTTLS, PROBE_SMTP_STARTTLS, NULL,
	    PROBE_MS);
	ok(run.rc < 0 && has(&run, "EHLO reply does not list STARTTLS"),
	    "smtp-starttls: STARTTLS not advertised (STARTTLSX is not it)");
	run = probe_script(S_SMTP_REFUSED, PROBE_SMTP_STARTTLS, NULL, PROBE_MS);
	ok(run.rc < 0 && has(&run, "reply to STARTTLS '454 TLS not available' "
	    "does not start with '220'"), "smtp-starttls: STARTTLS refused");
}

/* ---- the real chain: tcpserver -> stunnel (inetd mode) -> greeter ---- */

static int find_in_path(const char *name, char *buf, size_t size)
{
	const char *path = getenv("PATH"), *p, *end;

	for (p = path ? path : "/usr/bin:/bin"; *p; p = *end ? end + 1 : end) {
		end = strchr(p, ':');
		if (!end)
			end = p + strlen(p);
		snprintf(buf, size, "%.*s/%s", (int)(end - p), p, name);
		if (end > p && access(buf, X_OK) == 0)
			return 0;
	}
	return -1;
}

/* Runs argv, waits for it (a compiler or openssl: no bound needed but
 * its own); quiet sends its stderr to /dev/null. */
static int run_wait(char *const argv[], int quiet)
{
	pid_t pid;
	int st, fd;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open("/dev/null", O_WRONLY);
		if (quiet && (fd < 0 || dup2(fd, 2) < 0))
			_exit(127);
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int find_greeter(char *buf, size_t size)
{
	const char *dir = getenv("FIXTURES");
	char path[4096];
	char *cc[] = { "cc", "-o", buf, "tests/fixtures/greeter.c", NULL };

	snprintf(path, sizeof path, "%s/greeter",
	    dir && *dir ? dir : "build/tests/fixtures");
	if (access(path, X_OK) == 0 && realpath(path, buf))
		return 0;
	snprintf(buf, size, "%s/greeter", tmpdir);
	return run_wait(cc, 0);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Appends the file from to the file to. */
static int append_file(const char *to, const char *from)
{
	FILE *in = fopen(from, "r"), *out = fopen(to, "a");
	char buf[4096];
	size_t n;
	int rc = in && out ? 0 : -1;

	while (!rc && (n = fread(buf, 1, sizeof buf, in)) > 0)
		if (fwrite(buf, 1, n, out) != n)
			rc = -1;
	if (in)
		fclose(in);
	if (out && fclose(out) != 0)
		rc = -1;
	return rc;
}

/* The openssl command makes what cert_make does not: an RSA certificate
 * (for RSA key exchange), and a leaf signed by a test CA, written alone
 * (leaf and key) and with the CA after the leaf. */
static int make_openssl_certs(void)
{
	char ca_key[128], ca_crt[128], key[128], csr[128], crt[128];
	char *rsa[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048",
	    "-nodes", "-days", "2", "-subj", "/CN=rsa.test", "-keyout",
	    rsafile, "-out", rsafile, NULL };
	char *ca[] = { "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj",
	    "/CN=probe test CA", "-keyout", ca_key, "-out", ca_crt, NULL };
	char *req[] = { "openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
	    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=leaf.test",
	    "-keyout", key, "-out", csr, NULL };
	char *sign[] = { "openssl", "x509", "-req", "-in", csr, "-CA", ca_crt,
	    "-CAkey", ca_key, "-days", "2", "-out", crt, NULL };

	snprintf(rsafile, sizeof rsafile, "%s/rsa.pem", tmpdir);
	snprintf(leaffile, sizeof leaffile, "%s/leaf.pem", tmpdir);
	snprintf(chainfile, sizeof chainfile, "%s/chain.pem", tmpdir);
	snprintf(ca_key, sizeof ca_key, "%s/ca.key", tmpdir);
	snprintf(ca_crt, sizeof ca_crt, "%s/ca.crt", tmpdir);
	snprintf(key, sizeof key, "%s/leaf.key", tmpdir);
	snprintf(csr, sizeof csr, "%s/leaf.csr", tmpdir);
	snprintf(crt, sizeof crt, "%s/leaf.crt", tmpdir);
	if (run_wait(rsa, 1) < 0 || run_wait(ca, 1) < 0 ||
	    run_wait(req, 1) < 0 || run_wait(sign, 1) < 0)
		return -1;
	return append_file(leaffile, crt) || append_file(leaffile, key) ||
	    append_file(chainfile, crt) || append_file(chainfile, ca_crt) ||
	    append_file(chainfile, key) ? -1 : 0;
}

/* What the handshake showed: the facts check judges. */
static void test_tls_facts(void)
{
	const char *need_openssl[] = {
		"tls facts: RSA key exchange has no forward secrecy",
		"tls facts: a CA-signed leaf sent alone lacks its issuer",
		"tls facts: ... and sent with its CA has it",
	};
	const struct net_tls *t;
	char port[16];
	struct run run;
	pid_t pid;
	size_t i;

	pid = server(S_TLS_GOOD, port, sizeof port);
	run = probe_named(PROBE_TLS, "127.0.0.1", port, "220", PROBE_MS,
	    "probe.test");
	t = &run.r.tls;
	ok(run.rc == 0 && t->version_id >= 0x0303 && t->forward_secret &&
	    t->has_cert && !strcmp(t->names, "probe.test") &&
	    t->name_match == 1 && t->self_issued,
	    "tls facts: self-signed, forward secret, names probe.test (%s)",
	    t->names);
	run = probe_named(PROBE_TLS, "127.0.0.1", port, "220", PROBE_MS,
	    "other.test");
	ok(run.rc == 0 && run.r.tls.name_match == 0,
	    "tls facts: a name the certificate lacks (the probe still passes)");
	run = probe_at(PROBE_TLS, "127.0.0.1", port, "220", PROBE_MS);
	ok(run.rc == 0 && run.r.tls.name_match == -1,
	    "tls facts: no name asked, none checked");
	stop_child(pid);

	run = probe_script(S_TLS_1_0, PROBE_TLS, "220", PROBE_MS);
	t = &run.r.tls;
	ok(run.rc == 0 && !strcmp(t->version, "TLSv1") &&
	    t->version_id == 0x0301 && t->forward_secret &&
	    !strcmp(t->cipher, "ECDHE-ECDSA-AES128-SHA"),
	    "tls facts: a TLS 1.0 server is reached and reported (%s %s)",
	    t->version, t->cipher);

	if (make_openssl_certs() < 0) {
		for (i = 0; i < sizeof need_openssl / sizeof need_openssl[0];
		    i++)
			skip(need_openssl[i], "the openssl command failed");
		return;
	}
	run = probe_script(S_TLS_RSA_KX, PROBE_TLS, "220", PROBE_MS);
	ok(run.rc == 0 && !run.r.tls.forward_secret &&
	    !strcmp(run.r.tls.cipher, "AES128-SHA"), "%s (%s %s)",
	    need_openssl[0], run.r.tls.version, run.r.tls.cipher);
	run = probe_script(S_TLS_LEAF_ALONE, PROBE_TLS, "220", PROBE_MS);
	t = &run.r.tls;
	ok(run.rc == 0 && !t->self_issued && !t->issuer_sent &&
	    !strcmp(t->issuer, "CN=probe test CA") &&
	    !strcmp(t->names, "leaf.test"), "%s (%s)", need_openssl[1],
	    t->issuer);
	run = probe_script(S_TLS_LEAF_CHAIN, PROBE_TLS, "220", PROBE_MS);
	ok(run.rc == 0 && !run.r.tls.self_issued && run.r.tls.issuer_sent,
	    "%s", need_openssl[2]);
}

/* Reads the port tcpserver -1 prints, within TCPSERVER_WAIT_MS. */
static int read_port(int fd, char *port, size_t size)
{
	long long deadline = now_ms() + TCPSERVER_WAIT_MS;
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t n = 0;
	ssize_t r;

	while (n + 1 < size && now_ms() < deadline) {
		if (poll(&pfd, 1, (int)(deadline - now_ms())) <= 0)
			continue;
		r = read(fd, port + n, size - 1 - n);
		if (r <= 0)
			break;
		n += (size_t)r;
		port[n] = 0;
		if (strchr(port, '\n')) {
			port[strcspn(port, "\n")] = 0;
			return 0;
		}
	}
	return -1;
}

/* tcpserver does not take its children along when it dies: give the
 * stunnel of the last connection a bounded time to finish, so that no
 * orphan is left to pid 1.  Linux-only; elsewhere we just go on. */
static void wait_children_gone(pid_t pid)
{
	long long deadline = now_ms() + TCPSERVER_WAIT_MS;
	char path[64], buf[64];
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)pid,
	    (int)pid);
	while (now_ms() < deadline) {
		f = fopen(path, "r");
		if (!f)
			return;
		n = fread(buf, 1, sizeof buf, f);
		fclose(f);
		if (n == 0)
			return;
		usleep(10000);
	}
}

static pid_t start_chain(const char *stunnel, const char *conf,
    const char *log, char *port, size_t size)
{
	int pfd[2], fd;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -1;
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (dup2(pfd[1], 1) < 0 || fd < 0 || dup2(fd, 2) < 0)
			_exit(111);
		alarm(CHILD_ALARM_S);   /* survives exec: tcpserver dies */
		execlp("tcpserver", "tcpserver", "-1", "-R", "-H", "-l", "0",
		    "127.0.0.1", "0", stunnel, conf, (char *)NULL);
		_exit(127);
	}
	close(pfd[1]);
	if (pid > 0)
		track(pid);
	if (pid < 0 || read_port(pfd[0], port, size) < 0) {
		close(pfd[0]);
		if (pid > 0)
			stop_child(pid);
		return -1;
	}
	close(pfd[0]);
	return pid;
}

/* Writes an inetd-mode stunnel config: global options only. */
static void chain_conf(const char *path, const char *exec, const char *args,
    const char *protocol)
{
	char text[2048];

	snprintf(text, sizeof text, "foreground = yes\nsyslog = no\npid =\n"
	    "cert = %s\nexec = %s\nexecArgs = %s\n%s%s%s", certfile, exec,
	    args, protocol ? "protocol = " : "", protocol ? protocol : "",
	    protocol ? "\n" : "");
	write_file(path, text);
}

static struct run chain_probe(const char *stunnel, const char *name,
    const char *exec, const char *args, const char *protocol,
    enum probe_kind kind, const char *expect)
{
	char conf[256], log[256], port[16];
	struct run run;
	pid_t pid;

	memset(&run, 0, sizeof run);
	run.rc = -2;
	snprintf(conf, sizeof conf, "%s/%s.conf", tmpdir, name);
	snprintf(log, sizeof log, "%s/%s.log", tmpdir, name);
	chain_conf(conf, exec, args, protocol);
	pid = start_chain(stunnel, conf, log, port, sizeof port);
	if (pid < 0) {
		diag("unable to start tcpserver", name);
		return run;
	}
	run = probe_at(kind, "127.0.0.1", port, expect, PROBE_MS);
	wait_children_gone(pid);
	stop_child(pid);
	return run;
}

static void test_chain(void)
{
	const char *what[] = {
		"chain tls: tcpserver+stunnel+greeter smtp",
		"chain pop3-stls: stunnel protocol = pop3 + greeter pop3",
		"chain smtp-starttls: stunnel protocol = smtp + greeter smtp",
		"chain tls, exec target missing: handshake ok, no greeting",
		"chain pop3-stls, exec target missing: no greeting",
	};
	char stunnel[4096], tcpserver[4096], greeter[4096];
	struct run run;
	size_t i;

	if (find_in_path("tcpserver", tcpserver, sizeof tcpserver) < 0 ||
	    (find_in_path("stunnel4", stunnel, sizeof stunnel) < 0 &&
	    find_in_path("stunnel", stunnel, sizeof stunnel) < 0) ||
	    find_greeter(greeter, sizeof greeter) < 0) {
		for (i = 0; i < sizeof what / sizeof what[0]; i++)
			skip(what[i], "tcpserver, stunnel or greeter missing");
		return;
	}
	run = chain_probe(stunnel, "tls", greeter, "greeter smtp", NULL,
	    PROBE_TLS, "220");
	ok(run.rc == 0 && run.r.tls.version[0], "%s", what[0]);
	run = chain_probe(stunnel, "pop3", greeter, "greeter pop3", "pop3",
	    PROBE_POP3_STLS, NULL);
	ok(run.rc == 0 && run.r.tls.version[0], "%s", what[1]);
	run = chain_probe(stunnel, "smtp", greeter, "greeter smtp", "smtp",
	    PROBE_SMTP_STARTTLS, NULL);
	ok(run.rc == 0 && run.r.tls.version[0], "%s", what[2]);
	run = chain_probe(stunnel, "tls-missing", "/nonexistent/greeter",
	    "greeter smtp", NULL, PROBE_TLS, "220");
	ok(run.rc == -1 && run.r.tls.version[0] && has(&run, "before greeting"),
	    "%s", what[3]);
	run = chain_probe(stunnel, "pop3-missing", "/nonexistent/greeter",
	    "greeter pop3", "pop3", PROBE_POP3_STLS, NULL);
	ok(run.rc == -1 && !run.r.tls.version[0] && has(&run, "before greeting"),
	    "%s", what[4]);
}

int main(void)
{
	struct err err;

	/* A probe must not need SIGPIPE ignored: keep the default, so a
	 * stray one kills this test and run.sh reports it. */
	signal(SIGPIPE, SIG_DFL);
	make_tmpdir(tmpdir, sizeof tmpdir, "probe");
	atexit(cleanup);
	snprintf(certfile, sizeof certfile, "%s/cert.pem", tmpdir);
	if (cert_make(certfile, "probe.test", 2, &err) < 0)
		bail_out("%s", err.text);
	test_describe();
	test_plain();
	test_deadline();
	test_tls();
	test_tls_facts();
	test_starttls();
	test_chain();
	return done_testing();
}
