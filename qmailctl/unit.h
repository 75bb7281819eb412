/* unit.h: a service at run time: its elements, their pidfiles and what is
 * known about the processes they name.
 *
 * A unit is observed (pidfiles read, identities checked) under the
 * service's lock before any transition, and every signal goes through the
 * handle that observation verified (see proc.h for why). */
#ifndef QMAILCTL_UNIT_H
#define QMAILCTL_UNIT_H

#include <limits.h>
#include <sys/types.h>

#include "conf.h"
#include "opts.h"
#include "proc.h"

enum { EL_RUN, EL_LOG, EL_MAX };

enum el_state {
	EL_ABSENT,      /* no pidfile */
	EL_ALIVE,       /* the recorded process lives */
	EL_DEAD,        /* the recorded process has exited */
	EL_STALE,       /* its pid now belongs to another process */
	EL_BROKEN,      /* the pidfile is not a pidfile (symlink, garbage...) */
};

struct element {
	const char *role;               /* "run" or "log" */
	char *const *argv;              /* as configured */
	char program[64];               /* what runs: the process's own name
	                                 * once it is seen alive (qmail-start
	                                 * is qmail-send), before that what
	                                 * argv runs through chain-loaders
	                                 * (setuidgid ... multilog is
	                                 * multilog; chain.h) */
	char pidfile[PATH_MAX];
	struct proc_ident id;
	enum el_state state;
	int handle;                     /* pidfd while known alive, else -1 */
	pid_t child;                    /* > 0 when we forked it */
	int err;                        /* errno for EL_BROKEN */
};

struct rundir;

struct unit {
	const struct site *site;
	const struct rundir *rundir;    /* checked and open (rundir.h); set
	                                 * before the unit is observed */
	const struct service *svc;
	const struct opts *opts;
	struct element el[EL_MAX];
	int nel;                        /* 1 without a logger, else 2 */
	struct element sup;             /* the supervisor (NAME.sup.pid);
	                                 * argv NULL */
	int lock;                       /* -1 when not held */
	char cgroup[PATH_MAX];          /* the server's cgroup, "" if none */
};

void unit_init(struct unit *u, const struct site *site,
    const struct service *svc, const struct opts *opts);
void unit_free(struct unit *u);

/* Names e by the program its recorded process runs now (chain-loaders
 * seen through), if it is alive. */
void el_name_running(struct element *e);

/* The supervisor's program name, as `ps` shows it: "qmailctl-supervise". */
#define SUPERVISE_PROG "qmailctl-supervise"

/* Reads the pidfiles (the supervisor's too) and checks each recorded
 * process. */
void unit_observe(struct unit *u);

/* Takes the service lock (bounded); on failure says why in e and
 * returns -1. */
int unit_lock(struct unit *u, long timeout_ms, struct err *e);

/* Removes e's pidfile if it still records e->id, and closes its handle. */
void unit_forget(struct unit *u, struct element *e);

/* Removes the server's cgroup, if any and once empty, and its record. */
void unit_forget_cgroup(struct unit *u);

/* The pidfile's name in the rundir ("smtp.pid"). */
const char *el_pidname(const struct element *e);

/* The timeout for a transition: -t if given, else the service's own. */
long unit_timeout(const struct unit *u, long own_ms);

const char *el_state_name(enum el_state s);

/* The environment of the service's elements: PATH (the site's path) and
 * the service's env lines, nothing else.  Free with unit_env_free(). */
char **unit_env(const struct unit *u);
void unit_env_free(char **env);

#endif
