/* rundir.c: the run directory and the per-service lock. */
#include "rundir.h"
#include "clock.h"
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first retry of a held lock comes after this many ms, doubling up to
 * LOCK_POLL_MAX_MS: a held lock is usually released within milliseconds
 * (a status or a start), sometimes minutes (a stop of qmail-send). */
#define LOCK_POLL_MIN_MS 1
#define LOCK_POLL_MAX_MS 50

static int check_dir(const char *rundir, char *why, size_t size)
{
	struct stat st;

	if (lstat(rundir, &st) < 0) {
		snprintf(why, size, "unable to stat %s", rundir);
		return -1;
	}
	if (S_ISLNK(st.st_mode) || !S_ISDIR(st.st_mode)) {
		snprintf(why, size, "refusing %s: not a directory (a symlink?)",
		    rundir);
		errno = ENOTDIR;
		return -1;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		snprintf(why, size, "refusing %s: writable by a user other "
		    "than uid %d", rundir, (int)geteuid());
		errno = EPERM;
		return -1;
	}
	return 0;
}

int rundir_prepare(const char *rundir, int create, char *why, size_t size)
{
	if (create && mkdir(rundir, 0755) < 0 && errno != EEXIST) {
		snprintf(why, size, "unable to create %s", rundir);
		return -1;
	}
	return check_dir(rundir, why, size);
}

void rundir_path(char *buf, size_t size, const char *rundir, const char *name,
    const char *suffix)
{
	snprintf(buf, size, "%s/%s%s", rundir, name, suffix);
}

/* ".NAME.pid.PID.N.tmp" or ".NAME.log.pid.PID.N.tmp": the writer's pid. */
static pid_t tmp_writer(const char *file, const char *name)
{
	static const char *const bases[] = { ".pid.", ".log.pid." };
	size_t len = strlen(name), i, b;
	char *end;
	long pid;

	if (file[0] != '.' || strncmp(file + 1, name, len))
		return 0;
	for (b = 0; b < 2; b++) {
		i = strlen(bases[b]);
		if (strncmp(file + 1 + len, bases[b], i))
			continue;
		pid = strtol(file + 1 + len + i, &end, 10);
		if (pid > 0 && *end == '.' && strstr(end, ".tmp"))
			return (pid_t)pid;
	}
	return 0;
}

void rundir_sweep(const char *rundir, const char *name)
{
	struct proc_info pi;
	struct dirent *de;
	pid_t writer;
	DIR *d = opendir(rundir);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		writer = tmp_writer(de->d_name, name);
		if (writer > 0 && proc_info(writer, &pi) < 0 && errno == ESRCH)
			unlinkat(dirfd(d), de->d_name, 0);
	}
	closedir(d);
}

int rundir_lock(const char *rundir, const char *name, long timeout_ms)
{
	char path[4096];
	long long deadline = clock_ms() + timeout_ms;
	int fd, delay = LOCK_POLL_MIN_MS;

	rundir_path(path, sizeof path, rundir, name, ".lock");
	fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || clock_left(deadline) == 0) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		poll(NULL, 0, clock_backoff(&delay, deadline,
		    LOCK_POLL_MAX_MS));
	}
	return fd;
}
