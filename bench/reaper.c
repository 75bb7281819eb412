/* reaper: runs the benchmark as a child subreaper.
 *
 *     reaper [-d DIR] COMMAND [ARG ...]
 *
 * Every process the benchmark starts, daemons that detach included, stays
 * a descendant of this one (PR_SET_CHILD_SUBREAPER), and every one that
 * exits is reaped at once, as init or systemd would do on a real host (pid
 * 1 in some sandboxes reaps orphans only after seconds, and a tool that
 * counts zombies as alive would look slow for no fault of its own).
 *
 * When COMMAND exits, whatever it left behind among our descendants is
 * named on stderr and killed by pid, then reaped; then DIR (COMMAND's
 * work directory, named qmailctl-bench.*) is removed if COMMAND could not
 * remove it itself.  INT is ignored here (COMMAND's trap handles it, then
 * exits), and PIPE (a closed stderr must not stop the sweep); TERM and HUP
 * are passed on to COMMAND.  Exits with COMMAND's status. */
#include <ctype.h>
#include <dirent.h>
#include <sys/stat.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/fixtures/procstat.h"

#define MAX_PROCS 65536
/* Rounds of kill-and-reap before we give up on stragglers. */
#define SWEEP_ROUNDS 50
#define SWEEP_PAUSE_US 20000

static volatile pid_t child;

static void pass_on(int sig)
{
	if (child > 0)
		kill(child, sig);
}

/* The parent of a live pid, and its command name in comm; -1 when it has
 * exited (a zombie only needs reaping). */
static long ppid_of(long pid, char *comm, size_t size)
{
	struct procstat ps;

	if (procstat_read(pid, &ps) < 0 || procstat_exited(&ps))
		return -1;
	snprintf(comm, size, "%s", ps.comm);
	return ps.ppid;
}

/* Kills every live descendant by pid; returns how many there were.  With
 * verbose, says what they were on one line: "qmail-remote 1000, ...". */
static int sweep(int verbose)
{
	static long pid[MAX_PROCS], ppid[MAX_PROCS];
	static char mine[MAX_PROCS];
	static char comm[MAX_PROCS][16];
	static char kinds[8][16];
	int nkind[8] = { 0 }, ndistinct = 0, other = 0;
	long me = getpid();
	int n = 0, i, changed, count = 0;
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (!d)
		return 0;
	while ((e = readdir(d)) && n < MAX_PROCS) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		pid[n] = atol(e->d_name);
		ppid[n] = ppid_of(pid[n], comm[n], sizeof comm[n]);
		if (ppid[n] >= 0)
			mine[n] = ppid[n] == me, n++;
	}
	closedir(d);
	do {    /* the descendants of our children */
		changed = 0;
		for (i = 0; i < n; i++) {
			int j;

			if (mine[i])
				continue;
			for (j = 0; j < n; j++)
				if (mine[j] && pid[j] == ppid[i]) {
					mine[i] = changed = 1;
					break;
				}
		}
	} while (changed);
	for (i = 0; i < n; i++) {
		int k;

		if (!mine[i])
			continue;
		kill((pid_t)pid[i], SIGKILL);
		count++;
		for (k = 0; k < ndistinct; k++)
			if (!strcmp(kinds[k], comm[i]))
				break;
		if (k == ndistinct && ndistinct < 8)
			memcpy(kinds[ndistinct++], comm[i], sizeof kinds[0]);
		if (k < ndistinct)
			nkind[k]++;
		else
			other++;
	}
	if (verbose && count) {
		fprintf(stderr, "bench: ended %d leftover process%s by pid:", count,
		    count == 1 ? "" : "es");
		for (i = 0; i < ndistinct; i++)
			fprintf(stderr, "%s %s %d", i ? "," : "", kinds[i], nkind[i]);
		if (other)
			fprintf(stderr, ", others %d", other);
		fputc('\n', stderr);
	}
	return count;
}

/* rm -rf DIR, for a directory of ours only. */
static void remove_dir(const char *dir)
{
	const char *base = strrchr(dir, '/');
	struct stat st;
	pid_t p;

	if (!base || strncmp(base + 1, "qmailctl-bench.", 15) ||
	    lstat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	p = fork();
	if (p == 0) {
		execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (p > 0)
		while (waitpid(p, NULL, 0) < 0 && errno == EINTR)
			;
}

int main(int argc, char **argv)
{
	int status = 0, code = 111, round;
	const char *dir = NULL;
	pid_t p;

	if (argc > 2 && !strcmp(argv[1], "-d")) {
		dir = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc < 2) {
		fprintf(stderr, "reaper: fatal: usage: reaper [-d DIR] COMMAND [ARG ...]\n");
		return 100;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) {
		perror("reaper: fatal: PR_SET_CHILD_SUBREAPER");
		return 111;
	}
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, pass_on);
	signal(SIGHUP, pass_on);
	child = fork();
	if (child < 0) {
		perror("reaper: fatal: fork");
		return 111;
	}
	if (child == 0) {
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		execvp(argv[1], argv + 1);
		perror("reaper: fatal: exec");
		_exit(127);
	}
	for (;;) {
		p = wait(&status);
		if (p == child) {
			code = WIFEXITED(status) ? WEXITSTATUS(status) :
			    128 + WTERMSIG(status);
			break;
		}
		if (p < 0 && errno == ECHILD)
			break;
	}
	child = 0;
	for (round = 0; round < SWEEP_ROUNDS; round++) {
		int left = sweep(round == 0);

		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (left == 0)
			break;
		usleep(SWEEP_PAUSE_US);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (dir)
		remove_dir(dir);
	return code;
}
