/* supervisor.h: the supervisor's own state, shared by its two files:
 * supervise.c keeps the service (exits, restarts, stop, the loop) and
 * supstart.c becomes the supervisor and makes the first start (or takes
 * over what runs).  Nothing else includes this. */
#ifndef QMAILCTL_SUPERVISOR_H
#define QMAILCTL_SUPERVISOR_H

#include "backoff.h"
#include "rundir.h"
#include "service.h"
#include "supervise.h"
#include "supstate.h"

#include <limits.h>

struct sup {
	struct site site;
	struct service svc;
	struct opts opts;
	struct unit u;
	char paths[EL_MAX][PATH_MAX];
	char **env;
	struct rundir rundir;           /* checked and held, as every command's */
	int pipefd[2];
	int sigfd;
	int report;                     /* to the starting worker; -1 after */
	int foreground;                 /* qmailctl supervise: no worker */
	int lock;                       /* its service lock, until up */
	int console;                    /* its stderr, the journal */
	int hold;                       /* restart nothing any more */
	long long hold_until;           /* zap's hold ends by itself then;
	                                 * 0: never (a stop, a failure) */
	int adopt;                      /* take over what runs (adopt.h) */
	struct backoff backoff;         /* when to restart, when to give up */
	char reaped[EL_MAX][256];       /* how an element reaped by the
	                                 * readiness wait exited */
	struct sup_state st;
	char who[96];                   /* "qmailctl-supervise: smtp" */
};

/* A line into the service's log, only while no server runs (supervise.c
 * says why). */
void sup_note(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line to the starting worker (or, in the foreground, a failure to the
 * journal). */
void sup_report(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The state word into NAME.state (and to systemd in the foreground). */
void sup_save_state(struct sup *s, const char *word);

/* Spawns element which on the pipe; st as for launch_element(). */
int sup_respawn(struct sup *s, int which, struct started *st);

/* Everything down: the server's group, then the logger once drained. */
void sup_take_down(struct sup *s);

/* Exits with code, the pidfile removed (and the state, if 0). */
_Noreturn void sup_finish(struct sup *s, int code);

/* A spawn of element which that failed (why): counted as an exit, its
 * restart scheduled. */
void sup_retry(struct sup *s, int which, const char *why);

/* Confirms the service by its probe after a restart or a takeover,
 * waiting at most timeout_ms. */
void sup_confirm(struct sup *s, long timeout_ms);

/* Keeps the service until stopped or given up. */
_Noreturn void sup_loop(struct sup *s);

#endif
