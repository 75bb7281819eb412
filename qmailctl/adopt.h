/* adopt.h: a new supervisor takes over a service whose supervisor died
 * (qmailctl(8), SUPERVISION).
 *
 * The server and the logger outlive a supervisor that is killed: the
 * server still holds the pipe's write end (its stdout), the logger its
 * read end (its stdin).  `start` on such an unsupervised service runs a
 * supervisor in adopt mode (SUPERVISE_ADOPT_ENV): it watches the running
 * elements through pidfds, recovers both ends of their pipe with
 * pidfd_getfd(2), and restarts only what cannot be taken over.  It is not
 * their parent: how an adopted element exits is not known to it. */
#ifndef QMAILCTL_ADOPT_H
#define QMAILCTL_ADOPT_H

#include "err.h"
#include "unit.h"

struct adopt_plan {
	int pipefd[2];          /* both ends of the service's pipe, held by
	                         * the supervisor; -1 without a logger */
	int respawn[EL_MAX];    /* 1: not adoptable: end it, spawn anew */
	char why[EL_MAX][400];  /* why not ("logger restarted: ...") */
};

/* Decides, for the observed unit u (handles identity checked), what can
 * be adopted and recovers the pipe: both ends of the one the elements
 * share, else the server's with a read end opened anew (the logger is
 * restarted), else the logger's with a write end opened anew (the server
 * is), else a new pipe (both are).  Ends nothing yet.  -1 with e when
 * not even a new pipe can be made. */
int adopt_plan(struct unit *u, struct adopt_plan *p, struct err *e);

/* Ends element which (identity checked through its handle) before it is
 * spawned anew: the server's whole group, or the logger (TERM, grace,
 * KILL); its pidfile removed if it still records it. */
void adopt_end(struct unit *u, int which);

/* "tcpserver 4121 exited (status unknown: adopted, not our child)": all
 * a supervisor can say of an adopted element's exit. */
void adopt_exit_text(const struct element *e, char *buf, size_t size);

#endif
