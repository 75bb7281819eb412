/* check.c: is each service serving now, and are its certificates good?
 *
 * For each service, in a worker of its own (all at once, as start does):
 * the recorded server must be the live process its pidfile names; its
 * probe must answer now, one attempt (a monitoring system has retries of
 * its own, and a service that needs a second try is worth a line); the
 * certificate must pass the same check as at start, for the same user.
 * What a TLS handshake negotiated and the server sent is judged too: an
 * old protocol, no forward secrecy, a certificate for another name, a
 * chain without the leaf's issuer are each a WARNING (check_tls).
 *
 * check takes no lock: it changes nothing, and a lock held by a long
 * `stop send` must not turn a monitor's answer into a timeout.  A check
 * that runs during a start may see the service before it is ready, and
 * says so (CRITICAL), as any outside client would.
 *
 * The worst result wins, in the order of monitoring-plugins' max_state_alt
 * (lib/utils_base.c): OK < UNKNOWN < WARNING < CRITICAL.  Numerically
 * UNKNOWN (3) is the largest, and workers_run keeps the largest exit code,
 * so a worker exits with a rank and check_run turns the worst rank back
 * into the plugin code.  UNKNOWN is what we could not find out (a pidfile
 * that is not one, a certificate we may not read, a worker that died): a
 * monitor should hear about it, but not louder than a service that is
 * down. */
#include "check.h"
#include "clock.h"
#include "msg.h"
#include "report.h"
#include "preflight.h"
#include "probe.h"
#include "queue.h"
#include "supstate.h"
#include "workers.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* One probe attempt waits at most this long (unless -t says otherwise):
 * a monitor's own plugin timeout is often 10 s, and a service that takes
 * seconds to greet is in trouble anyway. */
#define CHECK_PROBE_MAX_MS 5000
/* Older protocols are deprecated (RFC 8996): a WARNING below this wire
 * version (RFC 5246). */
#define TLS_VERSION_1_2 0x0303

enum { RANK_OK, RANK_UNKNOWN, RANK_WARNING, RANK_CRITICAL };

static const struct {
	const char *word;
	int code;
} ranks[] = {
	[RANK_OK] = { "OK", CHECK_OK },
	[RANK_UNKNOWN] = { "UNKNOWN", CHECK_UNKNOWN },
	[RANK_WARNING] = { "WARNING", CHECK_WARNING },
	[RANK_CRITICAL] = { "CRITICAL", CHECK_CRITICAL },
};

struct verdict {
	int rank;
	char text[1536];
};

__attribute__((format(printf, 3, 4)))
static void set(struct verdict *v, int rank, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->text, sizeof v->text, fmt, ap);
	va_end(ap);
	v->rank = rank;
}

/* Appends to the text; raises the rank to at least rank. */
__attribute__((format(printf, 3, 4)))
static void add(struct verdict *v, int rank, const char *fmt, ...)
{
	size_t n = strlen(v->text);
	va_list ap;

	va_start(ap, fmt);
	if (n < sizeof v->text)
		vsnprintf(v->text + n, sizeof v->text - n, fmt, ap);
	va_end(ap);
	if (rank > v->rank)
		v->rank = rank;
}

/* The server element: is it the live process it was? */
static int check_running(struct unit *u, struct verdict *v)
{
	const struct element *e = &u->el[EL_RUN];

	switch (e->state) {
	case EL_ALIVE:
		return 0;
	case EL_ABSENT:
		set(v, RANK_CRITICAL, "%s: not running", u->svc->name);
		break;
	case EL_DEAD:
		set(v, RANK_CRITICAL, "%s: not running (%s %d exited, its "
		    "pidfile remains)", u->svc->name, e->program,
		    (int)e->id.pid);
		break;
	case EL_STALE:
		set(v, RANK_CRITICAL, "%s: not running (stale pidfile: pid %d "
		    "is another process now)", u->svc->name, (int)e->id.pid);
		break;
	case EL_BROKEN:
		set(v, RANK_UNKNOWN, "%s: pidfile %.300s is not a pidfile (%s)",
		    u->svc->name, e->pidfile, strerror(e->err));
		break;
	}
	return -1;
}

/* The supervisor's word: CRITICAL when it gave up, WARNING while it
 * restarts (-1: that is the verdict) or, after the probe, when it
 * restarted within the site's check_restart_window (check_restarted). */
static int check_supervision(struct unit *u, struct verdict *v,
    struct sup_state *ss, enum sup_view *view)
{
	*view = supstate_view(u, ss);
	if (*view == SV_FAILED) {
		set(v, RANK_CRITICAL, "%s: failed (%s)", u->svc->name,
		    ss->reason);
		return -1;
	}
	if (*view == SV_RESTARTING) {
		set(v, RANK_WARNING, "%s: restarting in %d ms (%s)",
		    u->svc->name, clock_left(ss->wait_until), ss->last_exit);
		return -1;
	}
	return 0;
}

static void check_restarted(struct unit *u, struct verdict *v,
    const struct sup_state *ss, enum sup_view view)
{
	char ago[32];

	if (view == SV_UNSUPERVISED)
		add(v, RANK_WARNING, ", unsupervised (its supervisor is gone)");
	if (ss->restarts == 0 || clock_ms() - ss->last_restart >=
	    u->site->check_restart_window_ms)
		return;
	fmt_duration(ago, sizeof ago,
	    (double)(clock_ms() - ss->last_restart) / 1000);
	add(v, RANK_WARNING, ", restarted %s ago (%s)", ago, ss->last_exit);
}

/* The name the site's certificates are for, or NULL: then no name is
 * checked. */
static const char *site_hostname(const struct unit *u)
{
	const char *h = u->site->hostname;

	return h && *h ? h : NULL;
}

/* What the handshake showed, judged: the protocol (the cipher too with
 * -v, or when it is the trouble), then each weakness, a WARNING. */
static void check_tls(struct unit *u, const struct net_tls *t,
    struct verdict *v)
{
	const char *host = site_hostname(u);

	add(v, RANK_OK, ", %s", t->version);
	if (u->opts->verbose || !t->forward_secret)
		add(v, RANK_OK, " %s", t->cipher);
	if (t->version_id < TLS_VERSION_1_2)
		add(v, RANK_WARNING, ", protocol below TLS 1.2");
	if (!t->forward_secret)
		add(v, RANK_WARNING, ", no forward secrecy");
	if (!t->has_cert)
		return;
	if (host && t->name_match == 0)
		add(v, RANK_WARNING, ", certificate does not name %s (it "
		    "names %s)", host, t->names[0] ? t->names : "nothing");
	if (!t->self_issued && !t->issuer_sent)
		add(v, RANK_WARNING, ", certificate chain lacks the leaf's "
		    "issuer (%s)", t->issuer);
}

static void check_probe(struct unit *u, struct verdict *v)
{
	const struct element *e = &u->el[EL_RUN];
	long timeout = unit_timeout(u, u->svc->start_timeout_ms <
	    CHECK_PROBE_MAX_MS ? u->svc->start_timeout_ms : CHECK_PROBE_MAX_MS);
	struct probe_result r;
	char took[32];
	long long t0;

	if (u->svc->probe.kind == PROBE_NONE) {
		fmt_duration(took, sizeof took, proc_uptime(e->id.start));
		set(v, RANK_OK, "%s running (%s %d up %s)", u->svc->name,
		    e->program, (int)e->id.pid, took);
		return;
	}
	t0 = clock_us();
	if (probe_once(&u->svc->probe, timeout, site_hostname(u), &r) < 0) {
		set(v, RANK_CRITICAL, "%s: %s", u->svc->name, r.err.text);
		return;
	}
	fmt_duration(took, sizeof took, (double)(clock_us() - t0) / 1e6);
	set(v, RANK_OK, "%s ready in %s", u->svc->name, took);
	if (r.tls.version[0])
		check_tls(u, &r.tls, v);
}

static void check_logger(struct unit *u, struct verdict *v)
{
	const struct element *e = &u->el[EL_LOG];

	if (u->nel == 2 && e->state != EL_ALIVE)
		add(v, RANK_WARNING, ", but its logger %s is not running",
		    e->program);
}

static void judge_cert(struct unit *u, struct verdict *v)
{
	const char *file = u->svc->cert, *exposed;
	struct cert_report r;
	size_t skip;

	if (!file)
		return;
	/* As another user than root, a key of mode 0640 root:nofiles is
	 * not ours to read: that says nothing about the certificate. */
	if (geteuid() != 0 && access(file, R_OK) < 0 && errno == EACCES) {
		add(v, RANK_UNKNOWN, ", certificate %s not readable by uid %d "
		    "(check it as root)", file, (int)geteuid());
		return;
	}
	if (preflight_cert(u, &r) < 0) {
		add(v, RANK_CRITICAL, ", but %s", r.err.text);
		return;
	}
	add(v, r.expiring ? RANK_WARNING : RANK_OK,
	    ", cert expires in %ld day%s", r.days_left,
	    r.days_left == 1 ? "" : "s");
	/* The warning line is "certificate FILE: expires...; private key
	 * readable by ...": the second part, where FILE cannot match. */
	skip = strlen(file) < strlen(r.warning) ? strlen(file) : 0;
	if (r.key_exposed && (exposed = strstr(r.warning + skip,
	    "private key")) != NULL)
		add(v, RANK_WARNING, ", %s", exposed);
}

int do_check(struct unit *u)
{
	struct sup_state ss;
	enum sup_view view;
	struct verdict v;

	memset(&v, 0, sizeof v);
	unit_observe(u);
	if (check_supervision(u, &v, &ss, &view) == 0 && check_running(u, &v) == 0) {
		check_probe(u, &v);
		if (v.rank < RANK_CRITICAL) {
			check_logger(u, &v);
			judge_cert(u, &v);
			check_restarted(u, &v, &ss, view);
		}
	}
	if (v.rank == RANK_OK && u->opts->quiet)
		return v.rank;
	/* Through the one writer: config values and file names are escaped
	 * there (what came from the peer is escaped already, and stays as
	 * it is: the escaper's output is a fixed point). */
	msg_text(1, "QMAILCTL %s - %s", ranks[v.rank].word, v.text);
	return v.rank;
}

int check_run(struct unit *units, size_t n)
{
	int worst = workers_run(units, n, do_check, NULL);

	/* A worker that died is reported by workers_run with exit 1:
	 * RANK_UNKNOWN, which is what it is. */
	int queue = queue_check(units, n), r;

	if (worst < RANK_OK || worst > RANK_CRITICAL)
		worst = RANK_UNKNOWN;
	for (r = RANK_OK; queue >= 0 && r <= RANK_CRITICAL; r++)
		if (ranks[r].code == queue && r > worst)
			worst = r;
	return ranks[worst].code;
}
