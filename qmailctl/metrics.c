/* metrics.c: the Prometheus text exposition of the services and the
 * queue (see metrics.h).
 *
 * The workers (one per service, as check's) write what they saw into a
 * shared anonymous mapping, one slot each; the parent prints every metric
 * family whole, its HELP and TYPE once, as the format wants. */
#include "metrics.h"
#include "atomic.h"
#include "clock.h"
#include "enable.h"
#include "exitcode.h"
#include "msg.h"
#include "preflight.h"
#include "probe.h"
#include "queue.h"
#include "supstate.h"
#include "workers.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* As check: one probe attempt, at most this long unless -t. */
#define METRICS_PROBE_MAX_MS 5000

struct sample {
	int up;                 /* running, and the probe answered */
	int running;
	int probed;             /* probe_s is a latency */
	double probe_s;
	double uptime_s;
	int has_expiry;
	long long cert_s;
	long restarts;          /* the supervisor's count (supstate.h) */
};

static struct sample *samples;
static struct unit *base;

static void probe(struct unit *u, struct sample *s)
{
	long timeout = unit_timeout(u, u->svc->start_timeout_ms <
	    METRICS_PROBE_MAX_MS ? u->svc->start_timeout_ms :
	    METRICS_PROBE_MAX_MS);
	struct probe_result r;
	long long t0 = clock_us();

	if (u->svc->probe.kind == PROBE_NONE) {
		s->up = 1;
		return;
	}
	if (probe_once(&u->svc->probe, timeout, NULL, &r) == 0) {
		s->up = 1;
		s->probed = 1;
		s->probe_s = (double)(clock_us() - t0) / 1e6;
	}
}

static int look(struct unit *u)
{
	struct sample *s = &samples[u - base];
	struct cert_report r;

	struct sup_state ss;

	unit_observe(u);
	/* No state file: never supervised since the rundir was made, so
	 * nothing restarted it. */
	if (supstate_read(u->rundir, u->svc->name, &ss) == 0)
		s->restarts = ss.restarts;
	if (u->el[EL_RUN].state == EL_ALIVE) {
		s->running = 1;
		s->uptime_s = proc_uptime(u->el[EL_RUN].id.start);
		probe(u, s);
	}
	if (u->svc->cert) {
		memset(&r, 0, sizeof r);
		/* An expired certificate still has its date: a negative
		 * number of seconds is the metric's point. */
		if (preflight_cert(u, &r) == 0 || r.not_after[0]) {
			s->has_expiry = 1;
			s->cert_s = r.seconds_left;
		}
	}
	return EXIT_OK;
}

static void family_typed(FILE *f, const char *name, const char *help,
    const char *type)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void family(FILE *f, const char *name, const char *help)
{
	family_typed(f, name, help, "gauge");
}

/* Each kind of per-service sample, and whether a service has one. */
enum { M_UP, M_PROBE, M_UPTIME, M_CERT, M_DISABLED, M_RESTARTS, M_COUNT };

static const struct {
	const char *name, *help;
	const char *type;       /* NULL: gauge */
} service_metrics[M_COUNT] = {
	[M_UP] = { "qmailctl_service_up", "1 when the recorded server "
	    "process lives and its probe answered, else 0." },
	[M_PROBE] = { "qmailctl_service_probe_seconds", "How long the "
	    "service's probe took to get the greeting, now." },
	[M_UPTIME] = { "qmailctl_service_uptime_seconds", "Seconds since "
	    "the server process started." },
	[M_CERT] = { "qmailctl_service_cert_expiry_seconds", "Seconds "
	    "until the service's certificate expires (negative: expired)." },
	[M_DISABLED] = { "qmailctl_service_disabled", "1 when the service "
	    "is disabled (start without names skips it), else 0." },
	[M_RESTARTS] = { "qmailctl_service_restarts_total", "Restarts of "
	    "an element that exited unasked, by the service's supervisor "
	    "(from 0 at each start).", "counter" },
};

static void service_family(FILE *f, struct unit *units, size_t n, int m)
{
	const struct sample *s;
	size_t i;

	family_typed(f, service_metrics[m].name, service_metrics[m].help,
	    service_metrics[m].type ? service_metrics[m].type : "gauge");
	for (i = 0; i < n; i++) {
		s = &samples[i];
		if ((m == M_PROBE && !s->probed) ||
		    (m == M_UPTIME && !s->running) ||
		    (m == M_CERT && !s->has_expiry))
			continue;
		fprintf(f, "%s{service=\"%s\"} ", service_metrics[m].name,
		    units[i].svc->name);
		switch (m) {
		case M_UP: fprintf(f, "%d\n", s->up); break;
		case M_PROBE: fprintf(f, "%.6f\n", s->probe_s); break;
		case M_UPTIME: fprintf(f, "%.2f\n", s->uptime_s); break;
		case M_CERT: fprintf(f, "%lld\n", s->cert_s); break;
		case M_RESTARTS: fprintf(f, "%ld\n", s->restarts); break;
		default:
			fprintf(f, "%d\n", enable_is_disabled(units[i].site,
			    units[i].svc->name));
		}
	}
}

static void queue_families(FILE *f, const struct unit *u)
{
	struct queue_stat q;
	struct err e;
	int rc = queue_read(u->site, u->opts->timeout_ms, &q, &e);

	if (rc != EXIT_OK)
		warn("queue: %s", e.text);
	family(f, "qmailctl_queue_read_ok", "1 when qmail-qstat and "
	    "qmail-qread answered, else 0 (the queue metrics are left out).");
	fprintf(f, "qmailctl_queue_read_ok %d\n", rc == EXIT_OK);
	if (rc != EXIT_OK)
		return;
	family(f, "qmailctl_queue_messages", "Messages in qmail's queue "
	    "(qmail-qstat).");
	fprintf(f, "qmailctl_queue_messages %ld\n", q.messages);
	family(f, "qmailctl_queue_unpreprocessed_messages", "Messages in the "
	    "queue not yet preprocessed by qmail-send (in todo/).");
	fprintf(f, "qmailctl_queue_unpreprocessed_messages %ld\n", q.todo);
	family(f, "qmailctl_queue_oldest_message_age_seconds", "Age of the "
	    "oldest preprocessed message (qmail-qread), 0 when none.");
	fprintf(f, "qmailctl_queue_oldest_message_age_seconds %lld\n", q.age);
}

/* Writes text to DIR/qmailctl.prom, atomically. */
static int write_textfile(const char *dir, const char *text, size_t len)
{
	char path[PATH_MAX];
	struct err e;

	if (snprintf(path, sizeof path, "%s/qmailctl.prom", dir) >=
	    (int)sizeof path) {
		msg_line(2, "metrics", "failed", "--textfile %.100s...: too "
		    "long", dir);
		return EXIT_FAILED;
	}
	if (atomic_write(path, text, len, 0644, ATOMIC_CHECK_DIR |
	    ATOMIC_DURABLE, &e) < 0) {
		msg_line(2, "metrics", "failed", "%s", e.text);
		return errno == EACCES || errno == EPERM ? EXIT_PRIVILEGE :
		    EXIT_FAILED;
	}
	return EXIT_OK;
}

int metrics_run(struct unit *units, size_t n, const struct opts *opts)
{
	size_t len = 0, i;
	char *text = NULL;
	FILE *f;
	int m, rc = EXIT_OK;

	samples = mmap(NULL, (n ? n : 1) * sizeof *samples, PROT_READ |
	    PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (samples == MAP_FAILED)
		die_sys(EXIT_FAILED, "metrics: unable to map memory");
	base = units;
	workers_run(units, n, look, NULL);
	if (!(f = open_memstream(&text, &len)))
		die_sys(EXIT_FAILED, "metrics: unable to open a memory stream");
	for (m = 0; m < M_COUNT && n > 0; m++)
		service_family(f, units, n, m);
	if (queue_service(units, n))
		queue_families(f, &units[0]);
	if (fclose(f) != 0 || !text)
		die_sys(EXIT_FAILED, "metrics: unable to format");
	if (opts->textfile)
		rc = write_textfile(opts->textfile, text, len);
	else if (len > 0 && fwrite(text, 1, len, stdout) != len)
		rc = EXIT_FAILED;
	free(text);
	for (i = 0; i < n; i++)
		unit_free(&units[i]);
	munmap(samples, (n ? n : 1) * sizeof *samples);
	return rc;
}
