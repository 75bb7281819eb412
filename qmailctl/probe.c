/* probe.c: the dialogs of one readiness probe attempt: the greeting, and
 * the STLS and STARTTLS exchanges.  The connection under them, with its
 * one deadline and its TLS client, is net.c's.
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

#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A CAPA or EHLO reply of more lines than this is broken. */
#define REPLY_MAX_LINES 100
/* After QUIT we wait this long for the goodbye, so the server exits on a
 * clean EOF instead of a reset: a courtesy, never a reason to fail. */
#define QUIT_WAIT_MS 100
/* What we say in EHLO: no DNS name of ours is needed. */
#define EHLO_NAME "qmailctl.probe"

/* One attempt: the connection, and where its findings go. */
struct attempt {
	const struct probe *p;
	const char *certname;
	struct probe_result *r;
	struct net_conn c;
};

/* A reply line: its bytes may hold a NUL, so its length goes with it. */
struct line {
	char text[NET_LINE_MAX + 1];
	size_t len;
};

static int get_line(struct attempt *a, struct line *l, const char *what)
{
	return net_get_line(&a->c, l->text, &l->len, what);
}

/* Fails unless the line starts with prefix; what names the line.  The
 * line is quoted as received, escaped, NUL bytes and all. */
static int expect_prefix(struct attempt *a, const struct line *l,
    const char *prefix, const char *what)
{
	char q[NET_QUOTE_SIZE];
	size_t n = strlen(prefix);

	if (l->len >= n && !memcmp(l->text, prefix, n))
		return 0;
	return net_fail(&a->c, "%s '%s' does not start with '%s'", what,
	    net_quote(q, sizeof q, l->text, l->len), prefix);
}

/* Sends cmd, reads the first line of the reply. */
static int command(struct attempt *a, const char *cmd, struct line *l,
    const char *what)
{
	char text[64];

	snprintf(text, sizeof text, "%s\r\n", cmd);
	if (net_write(&a->c, text, cmd) < 0)
		return -1;
	return get_line(a, l, what);
}

/* STARTTLS injection (CVE-2011-0411 class): anything the server sent
 * after its go-ahead and before the handshake is not to be trusted. */
static int no_leftover(struct attempt *a, const char *cmd)
{
	if (a->c.len == 0)
		return 0;
	return net_fail(&a->c, "server sent plaintext after accepting %s",
	    cmd);
}

static int tls_start(struct attempt *a)
{
	return net_tls_start(&a->c, a->certname, &a->r->tls);
}

/* ---- the dialogs ---- */

static int greeting(struct attempt *a, const char *expect)
{
	struct line l;

	if (get_line(a, &l, "greeting") < 0)
		return -1;
	return expect_prefix(a, &l, expect ? expect : "", "greeting");
}

/* Is the first word of s equal to word, ignoring case? */
static int first_word_is(const char *s, const char *word)
{
	size_t n = strlen(word);

	return !strncasecmp(s, word, n) && (s[n] == 0 || s[n] == ' ');
}

/* CAPA (RFC 2449): "+OK", capability lines, ".".  *stls: STLS listed. */
static int pop3_capa(struct attempt *a, int *stls, const char *what)
{
	struct line l;
	int i;

	*stls = 0;
	if (command(a, "CAPA", &l, what) < 0 ||
	    expect_prefix(a, &l, "+OK", what) < 0)
		return -1;
	for (i = 0; i < REPLY_MAX_LINES; i++) {
		if (get_line(a, &l, "end of the CAPA list") < 0)
			return -1;
		if (!strcmp(l.text, "."))
			return 0;
		if (first_word_is(l.text, "STLS"))
			*stls = 1;
	}
	return net_fail(&a->c, "CAPA list longer than %d lines",
	    REPLY_MAX_LINES);
}

/* No greeting follows the handshake (RFC 2595, and stunnel sent the
 * program's greeting in plaintext), so a command must prove that the
 * program behind the TLS layer answers: NOOP, which qmail-popup takes
 * before login, or CAPA for servers that refuse NOOP before login. */
static int pop3_alive(struct attempt *a)
{
	struct line l;
	int stls;

	if (command(a, "NOOP", &l, "reply to NOOP over TLS") < 0)
		return -1;
	if (!strncmp(l.text, "-ERR", 4))
		return pop3_capa(a, &stls, "reply to CAPA over TLS");
	return expect_prefix(a, &l, "+OK", "reply to NOOP over TLS");
}

static int run_pop3_stls(struct attempt *a)
{
	struct line l;
	int stls;

	if (greeting(a, a->p->expect ? a->p->expect : "+OK") < 0 ||
	    pop3_capa(a, &stls, "reply to CAPA") < 0)
		return -1;
	if (!stls)
		return net_fail(&a->c, "CAPA does not list STLS");
	if (command(a, "STLS", &l, "reply to STLS") < 0 ||
	    expect_prefix(a, &l, "+OK", "reply to STLS") < 0 ||
	    no_leftover(a, "STLS") < 0 || tls_start(a) < 0)
		return -1;
	return pop3_alive(a);
}

/* One SMTP reply (RFC 5321 4.2.1): "CODE-text" lines, the last one
 * "CODE text", every line with the expected code.  *found: some line's
 * first word after the code is keyword. */
static int smtp_reply(struct attempt *a, const char *code, const char *what,
    const char *keyword, int *found)
{
	struct line l;
	int i;

	for (i = 0; i < REPLY_MAX_LINES; i++) {
		if (get_line(a, &l, what) < 0 ||
		    expect_prefix(a, &l, code, what) < 0)
			return -1;
		if (keyword && l.len > 4 && first_word_is(l.text + 4, keyword))
			*found = 1;
		if (l.len < 4 || l.text[3] != '-')
			return 0;
	}
	return net_fail(&a->c, "%s longer than %d lines", what,
	    REPLY_MAX_LINES);
}

static int run_smtp_starttls(struct attempt *a)
{
	const char *ehlo = "EHLO " EHLO_NAME "\r\n";
	int starttls = 0;

	if (smtp_reply(a, a->p->expect ? a->p->expect : "220", "greeting",
	    NULL, NULL) < 0 ||
	    net_write(&a->c, ehlo, "EHLO") < 0 ||
	    smtp_reply(a, "250", "reply to EHLO", "STARTTLS", &starttls) < 0)
		return -1;
	if (!starttls)
		return net_fail(&a->c, "EHLO reply does not list STARTTLS");
	if (net_write(&a->c, "STARTTLS\r\n", "STARTTLS") < 0 ||
	    smtp_reply(a, "220", "reply to STARTTLS", NULL, NULL) < 0 ||
	    no_leftover(a, "STARTTLS") < 0 || tls_start(a) < 0)
		return -1;
	if (net_write(&a->c, ehlo, "EHLO over TLS") < 0)
		return -1;
	return smtp_reply(a, "250", "reply to EHLO over TLS", NULL, NULL);
}

static int run_dialog(struct attempt *a)
{
	switch (a->p->kind) {
	case PROBE_TCP:
		return greeting(a, a->p->expect);
	case PROBE_TLS:
		if (tls_start(a) < 0)
			return -1;
		return greeting(a, a->p->expect);
	case PROBE_POP3_STLS:
		return run_pop3_stls(a);
	case PROBE_SMTP_STARTTLS:
		return run_smtp_starttls(a);
	default:
		return net_fail(&a->c, "unknown probe kind %d",
		    (int)a->p->kind);
	}
}

/* Says goodbye, briefly, without letting the goodbye fail the probe. */
static void quit(struct attempt *a)
{
	struct line l;

	net_wind_down(&a->c, QUIT_WAIT_MS);
	if (net_write(&a->c, "QUIT\r\n", "QUIT") == 0)
		get_line(a, &l, "reply to QUIT");
	net_tls_shutdown(&a->c);
}

int probe_once(const struct probe *p, long timeout_ms, const char *certname,
    struct probe_result *r)
{
	struct attempt a;
	int rc;

	memset(r, 0, sizeof *r);
	if (p->kind == PROBE_NONE)
		return 0;
	a.p = p;
	a.certname = certname;
	a.r = r;
	rc = net_open(&a.c, p->host, p->port, timeout_ms, &r->err);
	r->refused = a.c.refused;
	if (rc == 0)
		rc = run_dialog(&a);
	if (rc == 0)
		quit(&a);
	net_close(&a.c);
	if (rc < 0)
		err_prefix(&r->err, "probe %s", a.c.where);
	return rc;
}

void probe_tls_text(const struct probe_result *r, char *buf, size_t size)
{
	if (r->tls.version[0])
		snprintf(buf, size, "%s %s", r->tls.version, r->tls.cipher);
	else if (size > 0)
		buf[0] = 0;
}

void probe_cleanup(void)
{
	net_cleanup();
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
	net_where(where, sizeof where, p->host, p->port);
	if (p->expect && (p->kind == PROBE_TCP || p->kind == PROBE_TLS))
		snprintf(buf, size, "%s %s expects '%s'", names[p->kind], where,
		    p->expect);
	else
		snprintf(buf, size, "%s %s", names[p->kind], where);
}
