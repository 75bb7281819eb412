/* unit.c: a service at run time: its elements, their pidfiles, what is
 * known about the processes they name (see unit.h). */
#include "unit.h"
#include "chain.h"
#include "msg.h"
#include "pidfile.h"
#include "rundir.h"
#include "cgroup.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Named as what runs: "setuidgid qmaill multilog" is multilog.  The
 * supervisor has no configured argv: it keeps its own name. */
static void el_name(struct element *e)
{
	if (e->argv)
		snprintf(e->program, sizeof e->program, "%s",
		    chain_program(e->argv));
}

static void el_init(struct element *e, const struct unit *u, int which)
{
	memset(e, 0, sizeof *e);
	e->role = which == EL_RUN ? "run" : "log";
	e->argv = which == EL_RUN ? u->svc->run : u->svc->log;
	el_name(e);
	rundir_path(e->pidfile, sizeof e->pidfile, u->site->rundir,
	    u->svc->name, which == EL_RUN ? ".pid" : ".log.pid");
	e->handle = -1;
}

void unit_init(struct unit *u, const struct site *site,
    const struct service *svc, const struct opts *opts)
{
	memset(u, 0, sizeof *u);
	u->site = site;
	u->svc = svc;
	u->opts = opts;
	u->lock = -1;
	u->nel = svc->log ? 2 : 1;
	el_init(&u->el[EL_RUN], u, EL_RUN);
	if (svc->log)
		el_init(&u->el[EL_LOG], u, EL_LOG);
	memset(&u->sup, 0, sizeof u->sup);
	u->sup.role = "supervisor";
	snprintf(u->sup.program, sizeof u->sup.program, "%s", SUPERVISE_PROG);
	rundir_path(u->sup.pidfile, sizeof u->sup.pidfile, site->rundir,
	    svc->name, ".sup.pid");
	u->sup.handle = -1;
}

void unit_free(struct unit *u)
{
	int i;

	for (i = 0; i < u->nel; i++)
		if (u->el[i].handle >= 0) {
			close(u->el[i].handle);
			u->el[i].handle = -1;
		}
	if (u->sup.handle >= 0) {
		close(u->sup.handle);
		u->sup.handle = -1;
	}
	if (u->lock >= 0) {
		close(u->lock);
		u->lock = -1;
	}
}

/* qmail-start has exec'd qmail-send.  The kernel keeps 15 bytes of a
 * name, so a name that the configured one begins with is the configured
 * one, whole. */
void el_name_running(struct element *e)
{
	struct proc_info pi;

	/* The start time tells that the pid still names the recorded
	 * process, not one that took its number since. */
	if (e->id.pid > 0 && proc_info(e->id.pid, &pi) == 0 &&
	    pi.start == e->id.start && pi.comm[0] &&
	    strncmp(e->program, pi.comm, strlen(pi.comm)))
		snprintf(e->program, sizeof e->program, "%s", pi.comm);
}

const char *el_pidname(const struct element *e)
{
	return strrchr(e->pidfile, '/') + 1;
}

/* Only ever through the checked rundir's descriptor (rundir.h). */
static void el_observe(const struct unit *u, struct element *e)
{
	el_name(e);
	if (e->handle >= 0) {
		close(e->handle);
		e->handle = -1;
	}
	if (!u->rundir || u->rundir->fd < 0) {
		e->state = EL_ABSENT;   /* no rundir: nothing was started */
		return;
	}
	if (pidfile_read_at(u->rundir->fd, el_pidname(e), &e->id) < 0) {
		e->err = errno;
		e->state = errno == ENOENT ? EL_ABSENT : EL_BROKEN;
		return;
	}
	e->handle = proc_open_recorded(&e->id);
	if (e->handle >= 0) {
		e->state = EL_ALIVE;
		el_name_running(e);
	} else if (errno == ESTALE || errno == EPERM) {
		/* The pid is someone else's now (or never ours to touch), and
		 * so are a process group and a session of that number: the
		 * kernel frees a pid only when no process uses it as its pid,
		 * group or session.  Forget them, so that stop and zap only
		 * reach what the service's cgroup still holds. */
		e->state = EL_STALE;
		e->id.pgid = e->id.sid = 0;
	} else
		e->state = EL_DEAD;
}

void unit_observe(struct unit *u)
{
	char path[PATH_MAX];
	int i;

	u->cgroup[0] = 0;
	if (u->rundir &&
	    cgroup_path(u->rundir->path, u->svc->name, path, sizeof path) == 0 &&
	    cgroup_exists(path))
		snprintf(u->cgroup, sizeof u->cgroup, "%s", path);
	else if (u->rundir && u->rundir->fd >= 0 &&
	    cgroup_recorded(u->rundir->fd, u->svc->name, path, sizeof path) == 0)
		snprintf(u->cgroup, sizeof u->cgroup, "%s", path);

	for (i = 0; i < u->nel; i++)
		el_observe(u, &u->el[i]);
	el_observe(u, &u->sup);
	/* its comm is a truncation of what ps shows in full */
	snprintf(u->sup.program, sizeof u->sup.program, "%s", SUPERVISE_PROG);
}

/* Says who holds the lock we waited for: a qmailctl, or something else. */
static int lock_held(const struct unit *u, const struct lock_holder *h,
    struct err *e)
{
	const char *rd = u->rundir->path, *name = u->svc->name;

	if (h->pid > 0 && !strcmp(h->program, "qmailctl"))
		return err_set(e, "another qmailctl is acting on %s (pid %d holds "
		    "%s/%s.lock; waited %ld ms)", name, (int)h->pid, rd, name,
		    h->waited_ms);
	if (h->pid > 0)
		return err_set(e, "%s/%s.lock is held by %s (pid %d), not by a "
		    "qmailctl (waited %ld ms)", rd, name,
		    h->program[0] ? h->program : "?", (int)h->pid,
		    h->waited_ms);
	return err_set(e, "%s/%s.lock is held by a process that /proc/locks "
	    "does not name (waited %ld ms)", rd, name, h->waited_ms);
}

int unit_lock(struct unit *u, long timeout_ms, struct err *e)
{
	struct lock_holder h;

	u->lock = rundir_lock(u->rundir, u->svc->name, timeout_ms, &h);
	if (u->lock >= 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return lock_held(u, &h, e);
	return err_sys(e, "unable to lock %s/%s.lock", u->rundir->path,
	    u->svc->name);
}

void unit_forget_cgroup(struct unit *u)
{
	if (u->cgroup[0] && cgroup_remove(u->cgroup) == 0 && u->rundir &&
	    u->rundir->fd >= 0)
		cgroup_unrecord(u->rundir->fd, u->svc->name);
}

void unit_forget(struct unit *u, struct element *e)
{
	int dirfd = u->rundir ? u->rundir->fd : -1;

	if (e->handle >= 0) {
		close(e->handle);
		e->handle = -1;
	}
	/* (dirfd -1: no rundir, so nothing was read and nothing is there) */
	if (dirfd >= 0 && e->state == EL_BROKEN)
		unlinkat(dirfd, el_pidname(e), 0);  /* removes a link, never
		                                     * follows it */
	else if (dirfd >= 0 && e->state != EL_ABSENT)
		pidfile_remove_if_at(dirfd, el_pidname(e), &e->id);
	e->state = EL_ABSENT;
	e->child = 0;
}

long unit_timeout(const struct unit *u, long own_ms)
{
	return u->opts->timeout_ms > 0 ? u->opts->timeout_ms : own_ms;
}

const char *el_state_name(enum el_state s)
{
	switch (s) {
	case EL_ABSENT: return "absent";
	case EL_ALIVE: return "running";
	case EL_DEAD: return "dead";
	case EL_STALE: return "stale";
	case EL_BROKEN: return "broken";
	}
	return "unknown";
}

char **unit_env(const struct unit *u)
{
	size_t n = 0, i;
	char **env;

	while (u->svc->env[n])
		n++;
	env = xcalloc(n + 2, sizeof *env);
	env[0] = xmalloc(strlen(u->site->path) + 6);
	sprintf(env[0], "PATH=%s", u->site->path);
	for (i = 0; i < n; i++)
		env[i + 1] = u->svc->env[i];
	return env;
}

void unit_env_free(char **env)
{
	if (env) {
		free(env[0]);
		free(env);
	}
}
