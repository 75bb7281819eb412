/* queue.c: the queue's size and age through qmail-qstat and qmail-qread,
 * check's queue thresholds, and flush's qmail-tcpok (see queue.h). */
#include "queue.h"
#include "json.h"
#include "exitcode.h"
#include "msg.h"
#include "report.h"
#include "runprog.h"
#include "spawn.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* qmail-qread reads one info file per message: a queue of 100000
 * messages takes seconds, not minutes.  -t overrides. */
#define QUEUE_TOOL_TIMEOUT_MS 60000
#define QSTAT_TOTAL "messages in queue: "
#define QSTAT_TODO "messages in queue but not yet preprocessed: "


static long tool_timeout(long timeout_ms)
{
	return timeout_ms > 0 ? timeout_ms : QUEUE_TOOL_TIMEOUT_MS;
}

/* name in QMAIL/bin, else in the site's path: 0 and prog filled, or an
 * exit code with e filled. */
static int find_tool(const struct site *site, const char *name, char *prog,
    size_t size, struct err *e)
{
	char *path = xmalloc(strlen(site->qmail) + strlen(site->path) +
	    6);
	int rc;

	sprintf(path, "%s/bin:%s", site->qmail, site->path);
	rc = spawn_resolve(name, path, prog, size);
	if (rc < 0)
		err_set(e, "%s is %s (in %s/bin, nor in the path %s)", name,
		    errno == EACCES ? "not executable" : "not installed",
		    site->qmail, site->path);
	free(path);
	return rc < 0 ? EXIT_NOT_INSTALLED : EXIT_OK;
}

/* Privilege, or another failure, from what a tool said. */
static int failure_code(const char *said)
{
	return strstr(said, "ermission denied") || strstr(said,
	    "access denied") ? EXIT_PRIVILEGE : EXIT_FAILED;
}

/* The first line of text, without a trailing newline, into buf. */
static const char *first_line(const char *text, char *buf, size_t size)
{
	snprintf(buf, size, "%.*s", (int)strcspn(text, "\n"), text);
	return buf;
}

/* Runs the tool name with PATH only; each stdout line goes to line.
 * 0, or an exit code with e filled. */
static int run_tool(const struct site *site, const char *name, long timeout,
    void (*line)(void *, const char *, size_t), void *ctx, struct err *e)
{
	char prog[PATH_MAX], how[128], said[512];
	char *argv[] = { (char *)name, NULL }, *envp[] = { NULL, NULL };
	const char *fail;
	struct runprog r;
	int rc;

	if ((rc = find_tool(site, name, prog, sizeof prog, e)) != 0)
		return rc;
	memset(&r, 0, sizeof r);
	envp[0] = xmalloc(strlen(site->path) + 6);
	sprintf(envp[0], "PATH=%s", site->path);
	r.prog = prog;
	r.argv = argv;
	r.envp = envp;
	r.fd_in = -1;
	r.timeout_ms = timeout;
	r.line = line;
	r.ctx = ctx;
	rc = runprog(&r, e);
	free(envp[0]);
	if (rc < 0) {
		err_prefix(e, "%s", prog);
		return EXIT_FAILED;
	}
	fail = runprog_failure(&r, how, sizeof how);
	if (fail || r.err[0]) {
		first_line(r.err, said, sizeof said);
		if (said[0] && fail)
			err_set(e, "%s: %s (%s)", prog, said, fail);
		else
			err_set(e, "%s: %s", prog, said[0] ? said : fail);
		return failure_code(r.err);
	}
	return EXIT_OK;
}

/* What a parser of a tool's output found wrong: the first bad line. */
struct parse {
	struct queue_stat *q;
	int seen;               /* qstat: which lines came (bits) */
	char bad[256];          /* the first line not understood, escaped */
	int privilege;          /* the tool said it may not read the queue */
};

static void bad_line(struct parse *p, const char *line, size_t len)
{
	if (!p->bad[0])
		msg_escape(p->bad, sizeof p->bad, line, len < 200 ? len : 200);
	if (!p->bad[0])
		snprintf(p->bad, sizeof p->bad, "(an empty line)");
	if (failure_code(line) == EXIT_PRIVILEGE)
		p->privilege = 1;
}

static int number(const char *s, long *v)
{
	char *end;

	errno = 0;
	*v = strtol(s, &end, 10);
	return errno || end == s || *end || *v < 0 ? -1 : 0;
}

static void qstat_line(void *ctx, const char *line, size_t len)
{
	struct parse *p = ctx;

	if (!strncmp(line, QSTAT_TOTAL, strlen(QSTAT_TOTAL)) &&
	    number(line + strlen(QSTAT_TOTAL), &p->q->messages) == 0)
		p->seen |= 1;
	else if (!strncmp(line, QSTAT_TODO, strlen(QSTAT_TODO)) &&
	    number(line + strlen(QSTAT_TODO), &p->q->todo) == 0)
		p->seen |= 2;
	else
		bad_line(p, line, len);
}

/* "2 Dec 2026 17:40:01 GMT  #1234567  812  <a@b.example> ": qmail-qread's
 * line for a message (its fmtstats()), the date the info file's mtime. */
static int qread_header(const char *line, long long *when, unsigned long *id)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	char mon[4], gmt[4];
	const char *m;
	struct tm tm;
	unsigned long size;
	int n = 0;

	memset(&tm, 0, sizeof tm);
	if (sscanf(line, "%2d %3s %4d %2d:%2d:%2d %3s #%lu %lu%n", &tm.tm_mday,
	    mon, &tm.tm_year, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, gmt, id,
	    &size, &n) != 9 || strcmp(gmt, "GMT") || strlen(mon) != 3 ||
	    (m = strstr(months, mon)) == NULL || (m - months) % 3 ||
	    strncmp(line + n, "  <", 3) || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 60)
		return -1;
	tm.tm_mon = (int)(m - months) / 3;
	tm.tm_year -= 1900;
	*when = (long long)timegm(&tm);
	return 0;
}

static void qread_line(void *ctx, const char *line, size_t len)
{
	struct parse *p = ctx;
	unsigned long id;
	long long when;

	if (line[0] == '\t' || !strncmp(line, "  done\t", 7))
		return;         /* a recipient of the message above */
	if (!strncmp(line, "warning: trouble with #", 23)) {
		p->q->troubled++;
		return;
	}
	if (qread_header(line, &when, &id) < 0) {
		bad_line(p, line, len);
		return;
	}
	p->q->listed++;
	if (p->q->oldest == 0 || when < p->q->oldest) {
		p->q->oldest = when;
		p->q->oldest_id = id;
	}
}

/* Runs one tool with its parser; 0 or an exit code with e filled. */
static int read_with(const struct site *site, const char *name, long timeout,
    void (*line)(void *, const char *, size_t), struct parse *p,
    struct err *e)
{
	int rc = run_tool(site, name, timeout, line, p, e);

	if (rc == EXIT_OK && p->bad[0]) {
		err_set(e, "%s: unexpected output: %s", name, p->bad);
		rc = p->privilege ? EXIT_PRIVILEGE : EXIT_FAILED;
	} else if (rc != EXIT_OK && rc != EXIT_NOT_INSTALLED && p->bad[0]) {
		err_set(e, "%s: %s", name, p->bad);     /* qread's "fatal:" */
		if (p->privilege)
			rc = EXIT_PRIVILEGE;
	}
	return rc;
}

int queue_read(const struct site *site, long timeout_ms,
    struct queue_stat *q, struct err *e)
{
	struct parse p;
	int rc;

	timeout_ms = tool_timeout(timeout_ms);
	memset(q, 0, sizeof *q);
	memset(&p, 0, sizeof p);
	p.q = q;
	rc = read_with(site, "qmail-qstat", timeout_ms, qstat_line, &p, e);
	if (rc == EXIT_OK && p.seen != 3) {
		err_set(e, "qmail-qstat: unexpected output: no '%s' line",
		    p.seen & 1 ? "messages in queue but not yet preprocessed:" :
		    "messages in queue:");
		return EXIT_FAILED;
	}
	if (rc != EXIT_OK)
		return rc;
	memset(&p, 0, sizeof p);
	p.q = q;
	if ((rc = read_with(site, "qmail-qread", timeout_ms, qread_line, &p,
	    e)) != EXIT_OK)
		return rc;
	if (q->oldest)
		q->age = (long long)time(NULL) - q->oldest;
	if (q->age < 0)
		q->age = 0;     /* a clock set back */
	return EXIT_OK;
}

/* "12 messages, 3 not yet preprocessed, oldest 2h03m (#1234, ...)" */
static void describe(const struct queue_stat *q, char *buf, size_t size)
{
	char age[32], when[64];
	struct tm tm;
	time_t t = (time_t)q->oldest;
	int n;

	n = snprintf(buf, size, "%ld message%s, %ld not yet preprocessed",
	    q->messages, q->messages == 1 ? "" : "s", q->todo);
	if (q->oldest && n >= 0 && (size_t)n < size && gmtime_r(&t, &tm)) {
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC", &tm);
		snprintf(buf + n, size - (size_t)n, ", oldest %s (#%lu, queued "
		    "%s)", fmt_duration(age, sizeof age, (double)q->age),
		    q->oldest_id, when);
	}
}

static void print_json(const struct site *site, const struct queue_stat *q)
{
	printf("{\"qmail\":");
	json_string(stdout, site->qmail);
	printf(",\"messages\":%ld,\"unpreprocessed\":%ld,\"listed\":%ld,",
	    q->messages, q->todo, q->listed);
	if (q->oldest)
		printf("\"oldest\":{\"id\":%lu,\"queued\":%lld,\"age\":%lld}}\n",
		    q->oldest_id, q->oldest, q->age);
	else
		printf("\"oldest\":null}\n");
}

int queue_command(const struct site *site, const struct opts *opts)
{
	struct queue_stat q;
	struct err e;
	char text[512];
	int rc = queue_read(site, opts->timeout_ms, &q, &e);

	if (rc != EXIT_OK) {
		msg_line(2, "queue", "failed", "%s", e.text);
		return rc;
	}
	if (opts->json) {
		print_json(site, &q);
		return EXIT_OK;
	}
	describe(&q, text, sizeof text);
	msg_line(1, "queue", NULL, "%s", text);
	if (opts->verbose && q.troubled)
		msg_line(1, "queue", NULL, "qmail-qread could not read %ld "
		    "message%s (delivered while it looked?)", q.troubled,
		    q.troubled == 1 ? "" : "s");
	return EXIT_OK;
}

/* The thresholds of check, from the site: check_queue_warn and
 * check_queue_crit (messages), check_queue_age_warn and
 * check_queue_age_crit (seconds).  -1 where not set. */
/* The level of one value against its warn and crit thresholds (-1: not
 * set), the monitoring plugins' way: above the threshold. */
static int level(long long val, long long warn, long long crit)
{
	if (crit >= 0 && val > crit)
		return CHECK_CRITICAL;
	if (warn >= 0 && val > warn)
		return CHECK_WARNING;
	return CHECK_OK;
}

/* The worst of size and age; why says which threshold each passed. */
static int judge(const struct queue_stat *q, const long long *l,
    char *why, size_t size)
{
	int sz = level(q->messages, l[0], l[1]);
	int age = level(q->age, l[2], l[3]);
	size_t n;

	if (sz != CHECK_OK)
		snprintf(why, size, "; size above %s = %lld",
		    conf_queue_limit_keys[sz == CHECK_CRITICAL ? 1 : 0],
		    l[sz == CHECK_CRITICAL ? 1 : 0]);
	n = strlen(why);
	if (age != CHECK_OK)
		snprintf(why + n, size - n, "; age above %s = %lld",
		    conf_queue_limit_keys[age == CHECK_CRITICAL ? 3 : 2],
		    l[age == CHECK_CRITICAL ? 3 : 2]);
	return sz > age ? sz : age;
}

/* The plugins' performance data: "messages=12;1000;5000;0 age=30s;;;0". */
static void perfdata(const struct queue_stat *q, const long long *l,
    char *buf, size_t size)
{
	char t[4][24];
	int i;

	for (i = 0; i < 4; i++)
		if (l[i] >= 0)
			snprintf(t[i], sizeof t[i], "%lld", l[i]);
		else
			t[i][0] = 0;
	snprintf(buf, size, " | messages=%ld;%s;%s;0 unpreprocessed=%ld;;;0 "
	    "age=%llds;%s;%s;0", q->messages, t[0], t[1], q->todo, q->age,
	    t[2], t[3]);
}

int queue_service(const struct unit *units, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (units[i].svc->flush_signal)
			return 1;
	return 0;
}

int queue_check(const struct unit *units, size_t n)
{
	static const char *const words[] = { "OK", "WARNING", "CRITICAL",
	    "UNKNOWN" };
	struct queue_stat q;
	const long long *l = units[0].site->queue_limit;
	struct err e;
	char text[1100] = "", why[256] = "", perf[256] = "";
	int code, rc;

	if (n == 0 || !queue_service(units, n))
		return -1;
	for (rc = 0; rc < QUEUE_LIMITS && l[rc] < 0; rc++)
		;
	if (rc == QUEUE_LIMITS)
		return -1;      /* no threshold set: check leaves the queue be */
	code = CHECK_UNKNOWN;
	if ((rc = queue_read(units[0].site,
	    units[0].opts->timeout_ms, &q, &e)) == EXIT_OK) {
		describe(&q, text, sizeof text);
		code = judge(&q, l, why, sizeof why);
		perfdata(&q, l, perf, sizeof perf);
	} else
		snprintf(text, sizeof text, "%s", e.text);
	if (code == CHECK_OK && units[0].opts->quiet)
		return code;
	msg_text(1, "QMAILCTL %s - queue: %s%s%s", words[code], text, why,
	    perf);
	return code;
}

int queue_tcpok(const struct unit *u)
{
	struct err e;
	int rc = run_tool(u->site, "qmail-tcpok",
	    tool_timeout(u->opts->timeout_ms), NULL, NULL, &e);

	if (rc == EXIT_NOT_INSTALLED) {
		msg_line(2, u->svc->name, "warning", "%s: qmail-remote still "
		    "skips the hosts qmail-tcpto marked down", e.text);
		return EXIT_OK;
	}
	if (rc != EXIT_OK) {
		sayerr(u, "%s", e.text);
		return EXIT_FAILED;
	}
	say(u, "cleared qmail-tcpto's table of unreachable hosts "
	    "(qmail-tcpok)");
	return EXIT_OK;
}
