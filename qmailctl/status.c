/* status.c: what is running, as a line per service or as JSON.
 *
 * The server element decides the state; the logger's state is reported
 * beside it and never masks it (a live logger with a dead server is not
 * "running").  Its lines go through the one writer (msg.h): program
 * names and paths come from the configuration. */
#include "status.h"
#include "json.h"
#include "msg.h"
#include "plan.h"
#include "transition.h"
#include "enable.h"
#include "clock.h"
#include "supstate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int state_code(const struct unit *u, const char **word)
{
	const struct element *run = &u->el[EL_RUN];

	switch (run->state) {
	case EL_ALIVE:
		*word = u->nel == 2 && u->el[EL_LOG].state != EL_ALIVE ?
		    "degraded" : "running";
		return STATUS_RUNNING;
	case EL_DEAD:
	case EL_STALE:
		*word = "dead";
		return STATUS_DEAD;
	case EL_BROKEN:
		*word = "unknown";
		return STATUS_UNKNOWN;
	case EL_ABSENT:
		break;
	}
	*word = "stopped";
	return STATUS_STOPPED;
}

static void describe_element(const struct element *e, char *buf, size_t size)
{
	char up[32];

	switch (e->state) {
	case EL_ALIVE:
		fmt_duration(up, sizeof up, proc_uptime(e->id.start));
		snprintf(buf, size, "%s %d up %s", e->program, (int)e->id.pid,
		    up);
		break;
	case EL_DEAD:
		snprintf(buf, size, "%s %d exited, pidfile remains",
		    e->program, (int)e->id.pid);
		break;
	case EL_STALE:
		snprintf(buf, size, "%s: stale pidfile, pid %d is another "
		    "process now", e->program, (int)e->id.pid);
		break;
	case EL_BROKEN:
		snprintf(buf, size, "%s: pidfile %.300s is not a pidfile (%s)",
		    e->program, e->pidfile, strerror(e->err));
		break;
	case EL_ABSENT:
		snprintf(buf, size, "%s not running", e->program);
		break;
	}
}

/* With -v: what zap would reach, the cgroup or only the process group. */
static void describe_reach(const struct unit *u)
{
	const struct element *run = &u->el[EL_RUN];

	if (u->cgroup[0])
		msg_line(1, u->svc->name, NULL, "in cgroup %s", u->cgroup);
	else if (run->state == EL_ALIVE)
		msg_line(1, u->svc->name, NULL, "in process group %d (no "
		    "cgroup: zap reaches what stays in the group)",
		    (int)(run->id.pgid ? run->id.pgid : run->id.pid));
}

/* With -v: the configured argv behind each element's name (the name is
 * what runs: multilog behind setuidgid, qmail-send that qmail-start
 * became). */
static void describe_argv(const struct unit *u)
{
	char argv[4096];
	int i;

	for (i = 0; i < u->nel; i++)
		msg_line(1, u->svc->name, NULL, "%s: %s", u->el[i].role,
		    plan_argv(argv, sizeof argv, u->el[i].argv));
}

/* A supervised service: the supervisor's word ("restarting in 400 ms")
 * replaces "running", and its history follows the elements. */
static int supervised(const struct unit *u, struct sup_state *ss,
    enum sup_view *view, char *word, size_t size, char *hist, size_t hsize)
{
	*view = supstate_view(u, ss);
	supstate_history(ss, hist, hsize);
	if (*view == SV_RESTARTING)
		snprintf(word, size, "restarting in %d ms",
		    clock_left(ss->wait_until));
	else
		snprintf(word, size, "%s", supstate_word(*view));
	return *view == SV_FAILED ? STATUS_DEAD : STATUS_RUNNING;
}

int status_text(struct unit *u)
{
	char a[512], b[512], sword[64], hist[600];
	struct sup_state ss;
	enum sup_view view;
	const char *word, *off;
	int code, scode;

	unit_observe(u);
	code = state_code(u, &word);
	off = enable_is_disabled(u->site, u->svc->name) ? ", disabled" : "";
	scode = supervised(u, &ss, &view, sword, sizeof sword, hist,
	    sizeof hist);
	if (view == SV_FAILED) {
		msg_line(1, u->svc->name, NULL, "failed (%s)%s", ss.reason, off);
		return scode;
	}
	if (view != SV_NONE) {
		code = scode;
		word = sword;
	}
	if (code == STATUS_STOPPED && (u->nel < 2 ||
	    u->el[EL_LOG].state == EL_ABSENT)) {
		msg_line(1, u->svc->name, NULL, "stopped%s", off);
		return code;
	}
	describe_element(&u->el[EL_RUN], a, sizeof a);
	if (u->nel == 2) {
		describe_element(&u->el[EL_LOG], b, sizeof b);
		msg_line(1, u->svc->name, NULL, "%s (%s, %s)%s%s%s", word, a, b,
		    off, hist[0] ? "; " : "", hist);
	} else
		msg_line(1, u->svc->name, NULL, "%s (%s)%s%s%s", word, a, off,
		    hist[0] ? "; " : "", hist);
	if (view == SV_UNSUPERVISED || (view == SV_STARTING && ss.reason[0]))
		msg_line(1, u->svc->name, NULL, "%s", view == SV_UNSUPERVISED ?
		    "no supervisor watches it: nothing restarts it if it "
		    "exits ('qmailctl start' puts it under one, restarting "
		    "nothing)" : ss.reason);
	if (u->opts->verbose) {
		describe_argv(u);
		describe_reach(u);
	}
	return code;
}

static void json_element(FILE *f, const struct element *e)
{
	fprintf(f, "{\"role\":\"%s\",\"program\":", e->role);
	json_string(f, e->program);
	fprintf(f, ",\"state\":\"%s\",\"pidfile\":", el_state_name(e->state));
	json_string(f, e->pidfile);
	if (e->state == EL_ALIVE)
		fprintf(f, ",\"pid\":%d,\"uptime\":%.0f", (int)e->id.pid,
		    proc_uptime(e->id.start));
	else if (e->state == EL_DEAD || e->state == EL_STALE)
		fprintf(f, ",\"pid\":%d", (int)e->id.pid);
	fputc('}', f);
}

static void json_supervisor(const struct unit *u, const struct sup_state *ss,
    enum sup_view view)
{
	printf(",\"supervisor\":");
	if (u->sup.state == EL_ALIVE)
		printf("{\"pid\":%d}", (int)u->sup.id.pid);
	else
		printf("null");
	printf(",\"restarts\":%ld,\"last_exit\":", ss->restarts);
	if (ss->last_exit[0]) {
		json_string(stdout, ss->last_exit);
		printf(",\"last_exit_at\":%lld", ss->last_exit_at);
	} else
		printf("null");
	if (view == SV_RESTARTING)
		printf(",\"restart_in_ms\":%d", clock_left(ss->wait_until));
	if (ss->reason[0]) {
		printf(",\"reason\":");
		json_string(stdout, ss->reason);
	}
}

int status_json(struct unit *u, int first)
{
	char sword[64], hist[600];
	struct sup_state ss;
	enum sup_view view;
	const char *word;
	int code, i, scode;

	unit_observe(u);
	code = state_code(u, &word);
	scode = supervised(u, &ss, &view, sword, sizeof sword, hist,
	    sizeof hist);
	if (view != SV_NONE) {
		code = scode;
		word = supstate_word(view);
	}
	printf("%s{\"name\":", first ? "" : ",");
	json_string(stdout, u->svc->name);
	printf(",\"description\":");
	json_string(stdout, u->svc->description);
	printf(",\"state\":\"%s\",\"status\":%d,\"disabled\":%s,\"cgroup\":",
	    word, code, enable_is_disabled(u->site, u->svc->name) ? "true" :
	    "false");
	if (u->cgroup[0])
		json_string(stdout, u->cgroup);
	else
		printf("null");
	if (view != SV_NONE)
		json_supervisor(u, &ss, view);
	printf(",\"elements\":[");
	for (i = 0; i < u->nel; i++) {
		if (i)
			putchar(',');
		json_element(stdout, &u->el[i]);
	}
	printf("]}");
	return code;
}

int status_worst(int a, int b)
{
	/* unknown > dead > stopped > running */
	static const int rank[] = { 0, 2, 0, 1, 3 };

	if (a < 0)
		return b;
	return rank[b] > rank[a] ? b : a;
}
