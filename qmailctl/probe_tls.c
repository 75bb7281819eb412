/* probe_tls.c: the probe dialogs that go through TLS: tls (the handshake,
 * then the greeting), and the STLS and STARTTLS exchanges.  The TLS
 * client under them is net_tls.c's; a program linked without OpenSSL
 * (qmailctl-supervise) has its own probe_once_tls(), which runs this one
 * in qmailctl (supervise/nossl.c).
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
#include "probe_dialog.h"

#include <string.h>
#include <strings.h>

/* A CAPA or EHLO reply of more lines than this is broken. */
#define REPLY_MAX_LINES 100
/* What we say in EHLO: no DNS name of ours is needed. */
#define EHLO_NAME "qmailctl.probe"

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
	if (probe_command(a, "CAPA", &l, what) < 0 ||
	    probe_expect(a, &l, "+OK", what) < 0)
		return -1;
	for (i = 0; i < REPLY_MAX_LINES; i++) {
		if (probe_get_line(a, &l, "end of the CAPA list") < 0)
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

	if (probe_command(a, "NOOP", &l, "reply to NOOP over TLS") < 0)
		return -1;
	if (!strncmp(l.text, "-ERR", 4))
		return pop3_capa(a, &stls, "reply to CAPA over TLS");
	return probe_expect(a, &l, "+OK", "reply to NOOP over TLS");
}

static int run_pop3_stls(struct attempt *a)
{
	struct line l;
	int stls;

	if (probe_greeting(a, a->p->expect ? a->p->expect : "+OK") < 0 ||
	    pop3_capa(a, &stls, "reply to CAPA") < 0)
		return -1;
	if (!stls)
		return net_fail(&a->c, "CAPA does not list STLS");
	if (probe_command(a, "STLS", &l, "reply to STLS") < 0 ||
	    probe_expect(a, &l, "+OK", "reply to STLS") < 0 ||
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
		if (probe_get_line(a, &l, what) < 0 ||
		    probe_expect(a, &l, code, what) < 0)
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

static int tls_dialog(struct attempt *a)
{
	switch (a->p->kind) {
	case PROBE_TLS:
		if (tls_start(a) < 0)
			return -1;
		return probe_greeting(a, a->p->expect);
	case PROBE_POP3_STLS:
		return run_pop3_stls(a);
	case PROBE_SMTP_STARTTLS:
		return run_smtp_starttls(a);
	default:
		return net_fail(&a->c, "unknown probe kind %d",
		    (int)a->p->kind);
	}
}

int probe_once_tls(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r)
{
	return probe_attempt(p, timeout_ms, certname, r, tls_dialog);
}

void probe_tls_prepare(const struct probe *p)
{
	(void)p;
}

void probe_tls_finish(void)
{
}

void probe_cleanup(void)
{
	net_cleanup();
}
