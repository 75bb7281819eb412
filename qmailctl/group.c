/* group.c: signal, count and wait for the members of a service's server. */
#include "group.h"
#include "cgroup.h"
#include "clock.h"

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* There is no event for "a process group is empty": look again with a
 * backoff from 1 ms up to this. */
#define GROUP_POLL_MAX_MS 20

struct walk {
	const struct group_id *g;
	int sig;                /* 0: only count */
	int sig2;               /* sent after sig, unless 0 */
	int n;
	int *err;               /* the first refusal's errno, or NULL */
	pid_t *pids;            /* when counting: the first max members */
	int max;
};

static int member(const struct group_id *g, const struct proc_info *pi)
{
	if (pi->pgid != g->pgid)
		return 0;
	if (pi->sid != g->sid)
		return 0;
	return pi->start >= g->min_start;
}

static int visit(const struct proc_info *pi, void *arg)
{
	struct walk *w = arg;
	struct proc_ident id;
	int fd;

	if (!member(w->g, pi))
		return 0;
	if (!w->sig) {
		if (w->n < w->max)
			w->pids[w->n] = pi->pid;
		w->n++;
		return 0;
	}
	memset(&id, 0, sizeof id);
	id.pid = pi->pid;
	id.start = pi->start;
	fd = proc_open_recorded(&id);
	if (fd < 0)
		return 0;       /* exited, or not the process we saw */
	if (proc_signal_counted(fd, w->sig, w->err)) {
		w->n++;
		if (w->sig2)
			proc_signal(fd, w->sig2);
	}
	close(fd);
	return 0;
}

/* Linux never hands out a pid again while a process, a process group or a
 * session still uses that number.  So if the leader's pid (the pgid) is
 * held by another process now, or the recorded session's pid by a process
 * that started after our leader (the worker that led our session started
 * before it), every member of our group has exited, and a group with
 * those numbers now is someone else's. */
static int numbers_reused(const struct proc_ident *leader)
{
	if (proc_born_after(leader->pid, leader))
		return 1;
	return leader->sid > 1 && proc_born_after(leader->sid, leader);
}

void group_of(const struct proc_ident *leader, const char *cgroup,
    struct group_id *g)
{
	memset(g, 0, sizeof *g);
	g->leader = leader->pid;
	/* Without a recorded session there is no safe way to tell our
	 * members from a stranger who reused the pgid's number: then only
	 * the cgroup (if any) counts as the group. */
	g->pgid = leader->sid > 0 ? (leader->pgid > 0 ? leader->pgid :
	    leader->pid) : 0;
	if (g->pgid && numbers_reused(leader))
		g->pgid = 0;
	g->sid = leader->sid;
	g->min_start = leader->start;
	if (cgroup)
		snprintf(g->cgroup, sizeof g->cgroup, "%s", cgroup);
}

static int pgroup_walk(const struct group_id *g, int sig, int sig2,
    int *err, pid_t *pids, int max)
{
	struct walk w = { g, sig, sig2, 0, err, pids, max };

	if (err)
		*err = 0;
	if (g->pgid <= 1)
		return 0;
	proc_each(visit, &w);
	return w.n;
}

int group_signal(const struct group_id *g, int sig, int sig2, int *err)
{
	if (g->cgroup[0])
		return cgroup_signal(g->cgroup, sig, sig2, err);
	return pgroup_walk(g, sig, sig2, err, NULL, 0);
}

int group_kill(const struct group_id *g, int *err)
{
	if (g->cgroup[0])
		return cgroup_kill(g->cgroup, err);
	return pgroup_walk(g, SIGKILL, 0, err, NULL, 0);
}

int group_count(const struct group_id *g)
{
	if (g->cgroup[0]) {
		int n = cgroup_count(g->cgroup);

		return n < 0 ? 0 : n;
	}
	return pgroup_walk(g, 0, 0, NULL, NULL, 0);
}

int group_members(const struct group_id *g, pid_t *pids, int max)
{
	if (g->cgroup[0]) {
		int n = cgroup_members(g->cgroup, pids, max);

		return n < 0 ? 0 : n;
	}
	return pgroup_walk(g, 0, 0, NULL, pids, max);
}

char *group_pid_list(char *buf, size_t size, const pid_t *pids, int n,
    int total)
{
	size_t len;
	int i;

	snprintf(buf, size, "pid");
	for (i = 0; i < n && i < total; i++) {
		len = strlen(buf);
		snprintf(buf + len, size - len, " %d", (int)pids[i]);
	}
	if (total > n) {
		len = strlen(buf);
		snprintf(buf + len, size - len, " ...");
	}
	return buf;
}

int group_wait_empty(const struct group_id *g, long long deadline)
{
	int delay = 1, n;

	if (g->cgroup[0])
		return cgroup_wait_empty(g->cgroup, clock_left(deadline));
	while ((n = group_count(g)) > 0 && clock_left(deadline) > 0) {
		poll(NULL, 0, clock_backoff(&delay, deadline,
		    GROUP_POLL_MAX_MS));
	}
	return n;
}

/* The process table as parent links, to find the leader's descendants. */
struct table {
	struct proc_info *p;
	size_t n, cap;
};

static int collect_member(const struct proc_info *pi, void *arg)
{
	struct table *t = arg;

	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 1024;
		t->p = realloc(t->p, t->cap * sizeof *t->p);
		if (!t->p)
			return -1;
	}
	t->p[t->n++] = *pi;
	return 0;
}

static int descends(const struct table *t, size_t i, pid_t leader)
{
	size_t hops, j;
	pid_t up = t->p[i].ppid;

	/* Bounded: a parent chain is never longer than the table. */
	for (hops = 0; hops < t->n && up > 1; hops++) {
		if (up == leader)
			return 1;
		for (j = 0; j < t->n && t->p[j].pid != up; j++)
			;
		if (j == t->n)
			return 0;
		up = t->p[j].ppid;
	}
	return 0;
}

int group_escaped(const struct group_id *g, pid_t *pids, int max)
{
	struct table t = { NULL, 0, 0 };
	size_t i;
	int n = 0;

	if (g->cgroup[0] || g->pgid <= 1 || proc_each(collect_member, &t) < 0) {
		free(t.p);
		return 0;
	}
	for (i = 0; i < t.n; i++) {
		if (t.p[i].pgid == g->pgid || t.p[i].start < g->min_start ||
		    !descends(&t, i, g->leader))
			continue;
		if (n < max)
			pids[n] = t.p[i].pid;
		n++;
	}
	free(t.p);
	return n;
}
