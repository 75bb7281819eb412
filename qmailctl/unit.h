/* unit.h: a service at run time: its elements, their pidfiles and what is
 * known about the processes they name.
 *
 * A unit is observed (pidfiles read, identities checked) under the
 * service's lock before any transition, and every signal goes through the
 * handle that observation verified (see proc.h for why). */
#ifndef QMAILCTL_UNIT_H
#define QMAILCTL_UNIT_H

#include <limits.h>
#include <stdarg.h>
#include <sys/types.h>

#include "conf.h"
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
	char program[64];               /* basename of argv[0] */
	char pidfile[PATH_MAX];
	struct proc_ident id;
	enum el_state state;
	int handle;                     /* pidfd while known alive, else -1 */
	pid_t child;                    /* > 0 when we forked it */
	int err;                        /* errno for EL_BROKEN */
};

/* What the command line asked for, shared by every transition. */
struct opts {
	int dry_run, quiet, verbose, json;
	int kill_after;                 /* stop -k: zap after the timeout */
	long timeout_ms;                /* -t; 0: each service's own */
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
	int lock;                       /* -1 when not held */
	char cgroup[PATH_MAX];          /* the server's cgroup, "" if none */
};

void unit_init(struct unit *u, const struct site *site,
    const struct service *svc, const struct opts *opts);
void unit_free(struct unit *u);

/* Reads the pidfiles and checks each recorded process. */
void unit_observe(struct unit *u);

/* Takes the service lock (bounded); on failure reports and returns -1. */
int unit_lock(struct unit *u, long timeout_ms);

/* Removes e's pidfile if it still records e->id, and closes its handle. */
void unit_forget(struct unit *u, struct element *e);

/* The pidfile's name in the rundir ("smtp.pid"). */
const char *el_pidname(const struct element *e);

/* The timeout for a transition: -t if given, else the service's own. */
long unit_timeout(const struct unit *u, long own_ms);

const char *el_state_name(enum el_state s);

/* The environment of the service's elements: PATH (the site's path) and
 * the service's env lines, nothing else.  Free with unit_env_free(). */
char **unit_env(const struct unit *u);
void unit_env_free(char **env);

/* Waits until every handle in fds has become readable (its process has
 * exited) or timeout_ms passes; returns how many are still alive.
 * Handles of -1 are skipped. */
int wait_handles(const int *fds, int n, long timeout_ms);

/* Sends sig to element e through its pidfd.  Returns 0 when it was sent,
 * 1 when e had already exited (the caller's wait sees that), and -1 when
 * the kernel refused it (an LSM policy, an emulator without
 * pidfd_send_signal), after reporting why with sayerr(). */
int unit_signal(struct unit *u, const struct element *e, int sig);

/* Describes an exit status from waitpid: "exited 111", "killed by SIGKILL". */
char *fmt_wstatus(char *buf, size_t size, int wstatus);

/* Output, one line per call, written with one write(2) so that lines of
 * concurrent workers never mix:
 *   say:    "NAME: text" on stdout, unless -q
 *   sayv:   the same, only with -v
 *   sayerr: "NAME: failed: text" on stderr, always */
void say(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sayv(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sayerr(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "4 ms", "2.5 s", "3m02s": a duration for people. */
char *fmt_duration(char *buf, size_t size, double seconds);

#endif
