/* spawn.h: start one element of a pipeline, pido-style, and know it exec'd.
 *
 * The child writes its own pidfile (so the recorded pid is the program's
 * own), then execs.  A close-on-exec pipe tells the parent what happened:
 * EOF means the exec succeeded; a message means a step failed, and which. */
#ifndef QMAILCTL_SPAWN_H
#define QMAILCTL_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct spawn_req {
	char *const *argv;      /* argv[0] is an absolute path */
	char *const *envp;
	const char *dir;        /* working directory */
	const char *pidfile;    /* its path, for messages only: */
	int pidfile_dir;        /* written relative to this open directory
	                         * (the checked rundir), as its last component */
	int fd_in, fd_out, fd_err;  /* -1: /dev/null */
	int new_group;          /* lead a new process group */
	unsigned long long memory;  /* soft limit in bytes, 0: none */
	const char *cgroup;     /* cgroup to enter before exec; NULL: none */
};

/* Forks and execs.  On success returns the pid (a child of the caller);
 * on failure returns -1 with e saying why ("unable to chdir to
 * /var/qmail: No such file or directory"); the child has then been reaped
 * and its pidfile removed. */
pid_t spawn(const struct spawn_req *rq, struct err *e);

/* Finds prog in path (colon-separated) the way execvp would, but with the
 * service's PATH, not ours.  Returns 0 and fills buf with the absolute
 * path, or -1 with errno ENOENT (not found) or EACCES (not executable). */
int spawn_resolve(const char *prog, const char *path, char *buf, size_t size);

#endif
