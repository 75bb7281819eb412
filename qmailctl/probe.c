/* probe.c: one readiness probe attempt, and the plain greeting (tcp).
 * The dialogs through TLS are probe_tls.c's; the connection under both,
 * with its one deadline and its TLS client, is net.c's. */
#include "probe_dialog.h"

#include <stdio.h>
#include <string.h>

/* After QUIT we wait this long for the goodbye, so the server exits on a
 * clean EOF instead of a reset: a courtesy, never a reason to fail. */
#define QUIT_WAIT_MS 100

static const char *const kind_names[] = {
	[PROBE_NONE] = "none",
	[PROBE_TCP] = "tcp",
	[PROBE_TLS] = "tls",
	[PROBE_POP3_STLS] = "pop3-stls",
	[PROBE_SMTP_STARTTLS] = "smtp-starttls",
};
#define KINDS (sizeof kind_names / sizeof kind_names[0])

int probe_get_line(struct attempt *a, struct line *l, const char *what)
{
	return net_get_line(&a->c, l->text, &l->len, what);
}

/* The line is quoted as received, escaped, NUL bytes and all. */
int probe_expect(struct attempt *a, const struct line *l, const char *prefix,
    const char *what)
{
	char q[NET_QUOTE_SIZE];
	size_t n = strlen(prefix);

	if (l->len >= n && !memcmp(l->text, prefix, n))
		return 0;
	return net_fail(&a->c, "%s '%s' does not start with '%s'", what,
	    net_quote(q, sizeof q, l->text, l->len), prefix);
}

int probe_command(struct attempt *a, const char *cmd, struct line *l,
    const char *what)
{
	char text[64];

	snprintf(text, sizeof text, "%s\r\n", cmd);
	if (net_write(&a->c, text, cmd) < 0)
		return -1;
	return probe_get_line(a, l, what);
}

int probe_greeting(struct attempt *a, const char *expect)
{
	struct line l;

	if (probe_get_line(a, &l, "greeting") < 0)
		return -1;
	return probe_expect(a, &l, expect ? expect : "", "greeting");
}

static int plain_greeting(struct attempt *a)
{
	return probe_greeting(a, a->p->expect);
}

/* Says goodbye, briefly, without letting the goodbye fail the probe. */
static void quit(struct attempt *a)
{
	struct line l;

	net_wind_down(&a->c, QUIT_WAIT_MS);
	if (net_write(&a->c, "QUIT\r\n", "QUIT") == 0)
		probe_get_line(a, &l, "reply to QUIT");
	net_tls_shutdown(&a->c);
}

/* The succeeded attempt whose goodbye is said later, if any.  Its
 * result and probe are the caller's, gone by then: what the goodbye
 * finds goes nowhere (kept_err), as a goodbye's failures always do. */
static int goodbye_later;
static struct attempt kept;
static struct err kept_err;
static int have_kept;

void probe_goodbye(void)
{
	if (!have_kept)
		return;
	have_kept = 0;
	quit(&kept);
	net_close(&kept.c);
}

void probe_prepare(const struct probe *p)
{
	goodbye_later = 1;
	probe_tls_prepare(p);
}

void probe_finish(void)
{
	goodbye_later = 0;
	probe_goodbye();
	probe_tls_finish();
}

int probe_attempt(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r,
    int (*dialog)(struct attempt *))
{
	struct attempt local, *a = &local;
	int rc;

	/* A connection to keep lives where it is kept from the start: its
	 * TLS layer holds the address of its descriptor. */
	if (goodbye_later) {
		probe_goodbye();        /* one at a time */
		a = &kept;
	}
	a->p = p;
	a->certname = certname;
	a->r = r;
	rc = net_open(&a->c, p->host, p->port, timeout_ms, &r->err);
	r->refused = a->c.refused;
	if (rc == 0)
		rc = dialog(a);
	if (rc == 0 && a == &kept) {
		a->p = NULL;
		a->r = NULL;
		a->certname = NULL;
		a->c.err = &kept_err;
		have_kept = 1;
		return 0;
	}
	if (rc == 0)
		quit(a);
	net_close(&a->c);
	if (rc < 0)
		err_prefix(&r->err, "probe %s", a->c.where);
	return rc;
}

int probe_once(const struct probe *p, long timeout_ms, const char *certname,
    struct probe_result *r)
{
	memset(r, 0, sizeof *r);
	if (p->kind == PROBE_NONE)
		return 0;
	if (p->kind == PROBE_TCP)
		return probe_attempt(p, timeout_ms, certname, r, plain_greeting);
	return probe_once_tls(p, timeout_ms, certname, r);
}

const char *probe_kind_name(enum probe_kind kind)
{
	return (unsigned)kind < KINDS && kind_names[kind] ? kind_names[kind] :
	    NULL;
}

int probe_kind_parse(const char *name, enum probe_kind *kind)
{
	size_t i;

	for (i = 0; i < KINDS; i++)
		if (kind_names[i] && !strcmp(name, kind_names[i])) {
			*kind = (enum probe_kind)i;
			return 0;
		}
	return -1;
}

void probe_tls_text(const struct probe_result *r, char *buf, size_t size)
{
	if (r->tls.version[0])
		snprintf(buf, size, "%s %s", r->tls.version, r->tls.cipher);
	else if (size > 0)
		buf[0] = 0;
}

void probe_describe(const struct probe *p, char *buf, size_t size)
{
	const char *name = probe_kind_name(p->kind);
	char where[300];

	if (p->kind == PROBE_NONE || !name) {
		snprintf(buf, size, "none");
		return;
	}
	net_where(where, sizeof where, p->host, p->port);
	if (p->expect && (p->kind == PROBE_TCP || p->kind == PROBE_TLS))
		snprintf(buf, size, "%s %s expects '%s'", name, where,
		    p->expect);
	else
		snprintf(buf, size, "%s %s", name, where);
}
