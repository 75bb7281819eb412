/* unit.c: a service at run time: its elements, their pidfiles, what is
 * known about the processes they name (see unit.h). */
#include "unit.h"
#include "msg.h"
#include "pidfile.h"
#include "rundir.h"
#include "cgroup.h"
#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void el_init(struct element *e, const struct unit *u, int which)
{
	const char *slash;

	memset(e, 0, sizeof *e);
	e->role = which == EL_RUN ? "run" : "log";
	e->argv = which == EL_RUN ? u->svc->run : u->svc->log;
	slash = strrchr(e->argv[0], '/');
	snprintf(e->program, sizeof e->program, "%s",
	    slash ? slash + 1 : e->argv[0]);
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

void el_name_running(struct element *e)
{
	struct proc_info pi;

	/* The start time tells that the pid still names the recorded
	 * process, not one that took its number since. */
	if (e->id.pid > 0 && proc_info(e->id.pid, &pi) == 0 &&
	    pi.start == e->id.start && pi.comm[0])
		snprintf(e->program, sizeof e->program, "%s", pi.comm);
}

static void el_observe(struct element *e)
{
	if (e->handle >= 0) {
		close(e->handle);
		e->handle = -1;
	}
	if (pidfile_read(e->pidfile, &e->id) < 0) {
		e->err = errno;
		e->state = errno == ENOENT ? EL_ABSENT : EL_BROKEN;
		return;
	}
	e->handle = proc_open_recorded(&e->id);
	if (e->handle >= 0) {
		e->state = EL_ALIVE;
		el_name_running(e);
	}
	else if (errno == ESTALE || errno == EPERM) {
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
	if (cgroup_path(u->site->rundir, u->svc->name, path, sizeof path) == 0 &&
	    cgroup_exists(path))
		snprintf(u->cgroup, sizeof u->cgroup, "%s", path);

	for (i = 0; i < u->nel; i++)
		el_observe(&u->el[i]);
	el_observe(&u->sup);
	/* its comm is a truncation of what ps shows in full */
	snprintf(u->sup.program, sizeof u->sup.program, "%s", SUPERVISE_PROG);
}

int unit_lock(struct unit *u, long timeout_ms, struct err *e)
{
	u->lock = rundir_lock(u->site->rundir, u->svc->name, timeout_ms);
	if (u->lock >= 0)
		return 0;
	if (errno == EWOULDBLOCK)
		return err_set(e, "another qmailctl is acting on %s (lock "
		    "%s/%s.lock held for %ld ms)", u->svc->name,
		    u->site->rundir, u->svc->name, timeout_ms);
	return err_sys(e, "unable to lock %s/%s.lock", u->site->rundir,
	    u->svc->name);
}

void unit_forget(struct element *e)
{
	if (e->handle >= 0) {
		close(e->handle);
		e->handle = -1;
	}
	if (e->state == EL_BROKEN) {
		unlink(e->pidfile);     /* never followed: unlink removes a link */
	} else if (e->state != EL_ABSENT)
		pidfile_remove_if(e->pidfile, &e->id);
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
