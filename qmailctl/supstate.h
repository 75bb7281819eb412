/* supstate.h: what a supervisor tells status and check, in NAME.state.
 *
 * The supervisor (supervise.c) replaces the file atomically (atomic.h) at
 * every change of state; readers take it as a hint beside what they see
 * of the processes themselves.  One "key value" line each:
 *
 *     state restarting
 *     since 81234567            monotonic ms (clock.h) of the change
 *     wait_until 81234967       restarting: when the next restart is due
 *     restarts 3
 *     last_restart 81234500     monotonic ms; 0: never
 *     last_exit tcpserver 4121 killed by signal 9
 *     last_exit_at 1764700000   wall clock, seconds since the epoch
 *     reason ...                failed: why it gave up; starting: probe
 *
 * Monotonic times are comparable between processes within a boot, which
 * is as long as a rundir (a tmpfs) lives. */
#ifndef QMAILCTL_SUPSTATE_H
#define QMAILCTL_SUPSTATE_H

#include <stddef.h>

#include "err.h"

struct sup_state {
	char state[16];         /* starting up restarting failed stopping held */
	long long since;
	long long wait_until;
	long restarts;
	long long last_restart;
	char last_exit[200];
	long long last_exit_at;
	char reason[600];
};

struct rundir;

/* RUNDIR/NAME.state, always through the held rundir's descriptor
 * (rundir.h), never by its path. */
int supstate_write(const struct rundir *rd, const char *name,
    const struct sup_state *s, struct err *e);

/* 0, or -1 with errno (ENOENT: no state file, EINVAL: not one). */
int supstate_read(const struct rundir *rd, const char *name,
    struct sup_state *s);

void supstate_remove(const struct rundir *rd, const char *name);

/* What status and check say of a supervised service, from the state file
 * and what unit_observe() saw of the supervisor and the server. */
enum sup_view {
	SV_NONE,                /* not supervised: status as without one */
	SV_UP, SV_STARTING, SV_RESTARTING, SV_STOPPING,
	SV_FAILED,              /* given up; left down until start */
	SV_UNSUPERVISED,        /* the server runs, its supervisor is gone */
};

struct unit;
enum sup_view supstate_view(const struct unit *u, struct sup_state *s);
const char *supstate_word(enum sup_view v);

/* "3 restarts, the last 2 s ago; last unexpected exit: tcpserver 4121
 * killed by signal 9 at 2026-12-02 18:00:01"; "" when nothing restarted. */
void supstate_history(const struct sup_state *s, char *buf, size_t size);

#endif
