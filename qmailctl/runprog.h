/* runprog.h: run a helper program to its end, bounded in time, and read
 * what it says.
 *
 * For the short-lived tools qmailctl runs itself, not services: tcprules
 * (cdb), qmail-qstat, qmail-qread and qmail-tcpok (queue, flush).  The
 * program gets an argv and an environment of ours, never a shell; its
 * stdout goes line by line to a callback (or to /dev/null), its stderr
 * into a bounded buffer; past the deadline it is killed (it is our own
 * unreaped child, so its pid cannot name another process). */
#ifndef QMAILCTL_RUNPROG_H
#define QMAILCTL_RUNPROG_H

#include <stddef.h>

#include "err.h"

/* Lines longer than this reach the callback clipped to it. */
#define RUNPROG_LINE_MAX 1024

struct runprog {
	/* What to run. */
	const char *prog;       /* absolute path */
	char *const *argv;
	char *const *envp;
	int fd_in;              /* its stdin; -1: /dev/null */
	long timeout_ms;
	/* Each line of its stdout, without the newline, NUL-terminated
	 * (a NUL inside shows as a shorter line); NULL: stdout goes to
	 * /dev/null.  Called in the parent, as the lines come. */
	void (*line)(void *ctx, const char *line, size_t len);
	void *ctx;
	/* What happened. */
	char err[1024];         /* the first bytes of its stderr */
	int status;             /* its wait status */
	int timed_out;          /* killed after timeout_ms */
};

/* Forks, runs r->prog, feeds r->line, waits.  0 once the program ran and
 * was reaped (its status and stderr in r), -1 with e filled when it could
 * not be started at all (a pipe, a fork). */
int runprog(struct runprog *r, struct err *e);

/* r's outcome in words: "exited 111", "killed after 5000 ms", or NULL
 * when it exited 0 within its time. */
const char *runprog_failure(const struct runprog *r, char *buf, size_t size);

#endif
