/* supervise.h: the supervisor of a service (supervise.c) and what the
 * commands do with it (supclient.c).  See qmailctl(8), SUPERVISION. */
#ifndef QMAILCTL_SUPERVISE_H
#define QMAILCTL_SUPERVISE_H

#include "exitcode.h"
#include "launch.h"
#include "unit.h"

/* What start leaves in the supervisor's environment: the report socket's
 * fd and -t in ms.  The supervisor removes both before it spawns. */
#define SUPERVISE_FD_ENV "QMAILCTL_SUPERVISE_FD"
#define SUPERVISE_TIMEOUT_ENV "QMAILCTL_SUPERVISE_TIMEOUT_MS"
/* qmailctl supervise NAME: the supervisor in the foreground (no report
 * socket; sd_notify instead), this the fd of the service lock it holds
 * until the first start is confirmed. */
#define SUPERVISE_FOREGROUND_ENV "QMAILCTL_SUPERVISE_FOREGROUND"
/* Set (to "1"): adopt what runs instead of spawning (adopt.h). */
#define SUPERVISE_ADOPT_ENV "QMAILCTL_SUPERVISE_ADOPT"
/* The digest of a hashed site name, which the supervisor cannot compute
 * (cgroup.h; supervise/nossl.c). */
#define SUPERVISE_SITE_DIGEST_ENV "QMAILCTL_SUPERVISE_SITE_DIGEST"

/* main() of qmailctl-supervise (supervise/main.c), the program beside
 * qmailctl that start execs as a service's supervisor. */
int supervise_main(int argc, char **argv);

/* The supervisor's program, beside this one, into buf: 0 if it is there
 * and executable, else -1 with errno. */
int supervise_program(char *buf, size_t size);

/* start: forks the supervisor in a session of its own, reads its report
 * until the service is ready or deadline.  0 when ready (u observed
 * again, so its elements are those the supervisor spawned); -1 with
 * st->why, everything of it taken down. */
int supervise_launch(struct unit *u, long long deadline, struct started *st);

/* qmailctl supervise: this process becomes the supervisor, in the
 * foreground, keeping u's lock.  Returns only if the exec failed (errno). */
void supervise_exec_foreground(struct unit *u);
/* start on an unsupervised service: forks a supervisor in adopt mode
 * (adopt.h), which takes over what runs and restarts only what it cannot
 * take over, each said in a line of u's.  0 when ready; -1 with st->why
 * when it failed (what ran is left as it was, unsupervised); -2 with
 * st->why when it supervises the service but the probe did not answer. */
int supervise_adopt(struct unit *u, long long deadline, struct started *st);

/* stop: TERMs the supervisor (identity checked) and waits until it and
 * every element have exited or deadline.  Returns how many still live;
 * -1 if the signal was refused (reported). */
int supervise_stop(struct unit *u, long long deadline);

/* zap: USR1 to the supervisor and waits (bounded) until it says it
 * holds, so that it restarts nothing while the group is killed. */
void supervise_hold(struct unit *u);

/* True while the supervisor stops the service (or holds it, for zap). */
int supervise_stopping(const struct unit *u);

/* zap, after the kill: ends the supervisor (TERM, then KILL).  Returns
 * 1 if it is still alive. */
int supervise_end(struct unit *u);

/* Removes the supervisor's pidfile (if it still names it) and the state
 * file: what stop and zap do last, and start before it starts. */
void supervise_forget(struct unit *u);

#endif
