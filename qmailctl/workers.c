/* workers.c: one forked worker per service, the worst result wins. */
#include "workers.h"
#include "msg.h"
#include "proc.h"
#include "exitcode.h"
#include "report.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The qmailctl that forks the workers: a worker whose parent is another
 * process now was orphaned (its qmailctl was killed). */
static pid_t caller;

int worker_orphaned(void)
{
	return caller > 0 && getppid() != caller;
}

static _Noreturn void worker(struct unit *u, int (*fn)(struct unit *))
{
	int rc;

	setsid();
	rc = fn(u);
	unit_free(u);
	fflush(stdout);
	_exit(rc);
}

/* A handful of units: an insertion sort, stable. */
void workers_order(const struct unit *units, size_t n,
    int (*ahead)(const struct unit *), size_t *order)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		for (j = i; j > 0 && ahead && ahead(&units[order[j - 1]]) <
		    ahead(&units[i]); j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
}

int workers_run(struct unit *units, size_t n, int (*fn)(struct unit *),
    int (*ahead)(const struct unit *))
{
	pid_t *pids = xcalloc(n, sizeof *pids);
	size_t *order = xcalloc(n, sizeof *order);
	int worst = EXIT_OK, status, rc;
	size_t i, k, running = 0;
	pid_t pid;

	fflush(stdout);
	fflush(stderr);
	caller = getpid();
	proc_note_ancestors();
	workers_order(units, n, ahead, order);
	for (k = 0; k < n; k++) {
		i = order[k];
		pids[i] = fork();
		if (pids[i] == 0) {
			free(pids);     /* the worker's copy: it never returns */
			free(order);
			worker(&units[i], fn);
		}
		if (pids[i] < 0) {
			sayerr(&units[i], "unable to fork: %s", strerror(errno));
			worst = EXIT_FAILED;
			continue;
		}
		running++;
	}
	free(order);
	while (running > 0) {
		pid = wait(&status);
		if (pid < 0 && errno == EINTR)
			continue;
		if (pid < 0)
			break;
		for (i = 0; i < n && pids[i] != pid; i++)
			;
		if (i == n)
			continue;       /* not one of ours */
		running--;
		if (WIFEXITED(status))
			rc = WEXITSTATUS(status);
		else {
			char how[64];

			sayerr(&units[i], "worker %s", fmt_wstatus(how,
			    sizeof how, status));
			rc = EXIT_FAILED;
		}
		if (rc > worst)
			worst = rc;
	}
	free(pids);
	return worst;
}
