/* run.h: one message's run through the pipeline, as pipeline.c (the
 * loop that watches it) and stages.c (starting each stage) share it.
 * Private to the two. */
#ifndef HIQ_RUN_H
#define HIQ_RUN_H
#include "hiq.h"

#include <stddef.h>

struct run {
	struct hiq *h;
	int sigfd;
	int env_in;             /* our fd 1; -1 once read to its end */
	int env_out;            /* the queue's fd 1; -1 once closed */
	int text_fd;            /* the queue's fd 6, read end */
	char *env;              /* the envelope, as read from fd 1 */
	size_t env_len, env_size, env_off;  /* env_off: bytes written */
	long long deadline;
	int failed;
};

/* The first failure is the one said: each sets it only if none is set,
 * and marks the run failed.  run_error appends strerror(errno). */
void run_error(struct run *r, const char *what);
void run_cause(struct run *r, enum cause c, size_t filter);

/* Starts every filter, each reading what the one before it wrote, then
 * the queue; fd 0 is let go of once the first stage has it.  A stage
 * that cannot start fails the run (r->failed) unless it may be skipped. */
void run_start_all(struct run *r);
#endif
