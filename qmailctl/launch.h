/* launch.h: bring a service's elements up and confirm they serve.
 *
 * Shared by start (restart = no: the worker is the elements' parent) and
 * the supervisor (supervise.c: it is).  Each element is spawned pido-style
 * (spawn.h: it writes its own pidfile, then execs) in a process group of
 * its own; the server in the service's cgroup, under its memory limit.
 * Readiness is confirmed by the probe, or with no probe by every element
 * staying alive for `settle` ms; an element that exits meanwhile is seen
 * at once through its pidfd. */
#ifndef QMAILCTL_LAUNCH_H
#define QMAILCTL_LAUNCH_H

#include <limits.h>

#include "multilog.h"
#include "unit.h"

/* A failed start gives what it created this long to exit on TERM, then
 * kills it; the logger this long to drain after the server is gone. */
#define ABORT_GRACE_MS 1000
#define LOG_DRAIN_MS 1000

struct started {
	char why[1024];         /* why the start failed */
	int code;               /* its exit code, when not EXIT_FAILED (the
	                         * supervisor found the service misconfigured
	                         * or a program missing); 0: EXIT_FAILED */
	char tls[128];          /* what the probe negotiated */
	long long t0;
	int log_err;            /* the logger's stderr (multilog.h), or -1 */
	struct log_mark mark;   /* where its current file stood before */
};

struct spawn_req;

/* The request that launch_element() hands to spawn() for element which:
 * what -n shows.  rq->argv is allocated (free it); its argv[0] is path. */
void launch_request(const struct unit *u, int which, const char *path,
    char **env, int in, int out, int err, struct spawn_req *rq);

/* Spawns element which (EL_RUN, EL_LOG) from the resolved path, with in,
 * out and err as its fds 0, 1 and 2 (-1: /dev/null), its pidfile written
 * below the held rundir, and records it in u->el[which] (child, handle,
 * identity).  -1 with st->why on failure. */
int launch_element(struct unit *u, int which, const char *path, char **env,
    int in, int out, int err, struct started *st);

/* Spawns the logger (if any, its stderr st->log_err) and then the
 * server, joined by a pipe that only they hold afterwards. */
int launch_all(struct unit *u, char paths[EL_MAX][PATH_MAX],
    struct started *st);

/* Waits until the service is ready (probe or settle) or deadline.  0 when
 * ready; -1 with st->why when it is not or an element exited (that one is
 * reaped if it is our child, and its e->child is 0 then); -2 as soon as
 * intr_fd (-1: none) becomes readable.  The caller calls probe_finish()
 * after, once it has said what it found: the probe's goodbye waits. */
int launch_wait_ready(struct unit *u, long long deadline, int intr_fd,
    struct started *st);

/* Reaps e if it is our child. */
void launch_reap(struct element *e);

/* Ends the server's whole group (cgroup, else process group): TERM and
 * CONT, grace, KILL.  Reaps the server if it is our child. */
void launch_end_group(struct unit *u);

/* Ends one element through its handle: drain_ms for it to exit by
 * itself (a logger drains on EOF), then TERM and CONT, ABORT_GRACE_MS,
 * KILL.  Reaps it if it is our child. */
void launch_end_element(struct element *e, long drain_ms);

/* Takes down everything a start created: the server's whole group, then
 * the logger once it has drained; removes the pidfiles and the cgroup. */
void launch_abort(struct unit *u);

#endif
