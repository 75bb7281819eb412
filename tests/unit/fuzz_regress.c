/* fuzz_regress: every input the fuzzers have taught us, replayed, as TAP.
 *
 * tests/fuzz/regress/TARGET/ holds the inputs that once broke something
 * (each fixed since); tests/fuzz/seeds/TARGET/ the hand-written edge cases
 * the corpus starts from.  Each is given to the fuzz target's own entry
 * point (tests/fuzz/fuzz_TARGET.c, built without the fuzzer), which checks
 * the same promises as under the fuzzer.  An input runs in a child of its
 * own, bounded in time, so a crash or a hang is one failed test line that
 * names the file, not the end of the run.
 *
 * Runs from the top of the tree (tests/run.sh does), or from $TOP. */
#include "../fuzz/fuzz.h"
#include "tap.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* One input that takes longer than this is a hang, not a slow test. */
#define INPUT_SECONDS 10
/* Larger than any fuzzer input (their -max_len), smaller than trouble. */
#define INPUT_MAX (1024 * 1024)

struct target {
	const char *name;
	int (*one)(const uint8_t *, size_t);
};

static const struct target targets[] = {
	{ "conf", fuzz_conf_one },
	{ "pidfile", fuzz_pidfile_one },
	{ "hiq", fuzz_hiq_one },
};

static char *slurp(const char *path, size_t *len)
{
	char *data = malloc(INPUT_MAX);
	ssize_t n;
	int fd;

	*len = 0;
	if (!data)
		return NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		free(data);
		return NULL;
	}
	while (*len < INPUT_MAX &&
	    (n = read(fd, data + *len, INPUT_MAX - *len)) > 0)
		*len += (size_t)n;
	close(fd);
	return data;
}

/* Runs one input in a child; "" if it passed, else how it ended. */
static const char *replay(const struct target *t, const char *path)
{
	static char how[128];
	size_t len;
	char *data;
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return "unable to fork";
	if (pid == 0) {
		alarm(INPUT_SECONDS);
		data = slurp(path, &len);
		if (!data)
			_exit(111);
		t->one((const uint8_t *)data, len);
		free(data);
		exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return "lost the child";
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return "";
	if (WIFEXITED(status))
		snprintf(how, sizeof how, "exited %d", WEXITSTATUS(status));
	else
		snprintf(how, sizeof how, "killed by SIG%s",
		    sigabbrev_np(WTERMSIG(status)) ?
		    sigabbrev_np(WTERMSIG(status)) : "?");
	return how;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int replay_dir(const struct target *t, const char *top,
    const char *kind)
{
	struct dirent **list;
	char dir[4096], path[8192];
	const char *how;
	int i, n;

	snprintf(dir, sizeof dir, "%s/tests/fuzz/%s/%s", top, kind, t->name);
	n = scandir(dir, &list, NULL, by_name);
	if (n < 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.') {
			snprintf(path, sizeof path, "%s/%s", dir,
			    list[i]->d_name);
			how = replay(t, path);
			if (!ok(!how[0], "%s/%s/%s", kind, t->name,
			    list[i]->d_name))
				printf("#   %s\n", how);
		}
		free(list[i]);
	}
	free(list);
	return n;
}

int main(void)
{
	const char *top = getenv("TOP");
	size_t i;
	int n = 0;

	if (!top || !*top)
		top = ".";
	/* Made here, shared by every child, removed at our exit. */
	fuzz_dir();
	for (i = 0; i < sizeof targets / sizeof targets[0]; i++) {
		n += replay_dir(&targets[i], top, "regress");
		n += replay_dir(&targets[i], top, "seeds");
	}
	if (n == 0)
		ok(0, "inputs found under %s/tests/fuzz", top);
	return done_testing();
}
