/* rundir.c: the run directory, checked once and held open, and the
 * per-service lock (see rundir.h for why). */
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
/* A lock file unlinked by rundir_prune_locks() between our open and our
 * flock is opened afresh; more than this many times in a row is not a
 * race but a fault. */
#define LOCK_REOPENS 8

/* Owned by root or by us: nobody else can chmod it or rename what is in
 * it (unless the mode lets them, which the caller checks). */
static int trusted_owner(const struct stat *st)
{
	return st->st_uid == 0 || st->st_uid == geteuid();
}

/* A directory above the rundir: nobody but its owner may rename entries
 * in it, which a sticky directory of root's (/tmp) also guarantees for
 * the entries root made. */
static int check_parent(int fd, const char *dir, const char *rundir,
    struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_sys(e, "unable to stat %s", dir);
	if (!trusted_owner(&st)) {
		errno = EPERM;
		return err_set(e, "refusing %s: %s above it is owned by uid %d, "
		    "not by root or uid %d", rundir, dir, (int)st.st_uid,
		    (int)geteuid());
	}
	if ((st.st_mode & (S_IWGRP | S_IWOTH)) &&
	    !((st.st_mode & S_ISVTX) && st.st_uid == 0)) {
		errno = EPERM;
		return err_set(e, "refusing %s: %s above it is writable by "
		    "group or others (mode %04o) and not a sticky directory of "
		    "root's", rundir, dir, (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* The rundir itself: ours, writable by nobody else, sticky or not. */
static int check_rundir(int fd, const char *rundir, struct err *e)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return err_sys(e, "unable to stat %s", rundir);
	if (!trusted_owner(&st) || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		errno = EPERM;
		return err_set(e, "refusing %s: writable by a user other than "
		    "uid %d (owner %d, mode %04o)", rundir, (int)geteuid(),
		    (int)st.st_uid, (unsigned)(st.st_mode & 07777));
	}
	return 0;
}

/* Opens the canonical directory path one component at a time, never
 * following a symlink (realpath resolved them; one that appears since
 * is refused), checking each directory on its descriptor.  Returns an
 * O_PATH descriptor of the last one. */
static int walk(const char *canon, const char *rundir, struct err *e)
{
	char dir[PATH_MAX], *p, *slash;
	int fd, next;

	fd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "unable to open /");
	if (check_parent(fd, "/", rundir, e) < 0)
		goto fail;
	snprintf(dir, sizeof dir, "%s", canon);
	for (p = dir + 1; *p; p = slash + 1) {
		slash = strchr(p, '/');
		if (slash)
			*slash = 0;
		next = openat(fd, p, O_PATH | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		if (next < 0) {
			err_sys(e, "refusing %s: unable to open %s", rundir,
			    dir);
			goto fail;
		}
		close(fd);
		fd = next;
		if (check_parent(fd, dir, rundir, e) < 0)
			goto fail;
		if (!slash)
			break;
		*slash = '/';
	}
	return fd;
fail:
	next = errno;
	close(fd);
	errno = next;
	return -1;
}

/* Splits rundir (trailing slashes ignored) into its parent and its last
 * component. */
static int split(const char *rundir, char *parent, size_t psize,
    char *last, size_t lsize, struct err *e)
{
	size_t len = strlen(rundir);
	const char *slash;

	while (len > 1 && rundir[len - 1] == '/')
		len--;
	if (len >= psize || len == 0 || (len == 1 && rundir[0] == '/')) {
		errno = EINVAL;
		return err_set(e, "refusing rundir '%s': not a directory below /",
		    rundir);
	}
	snprintf(parent, psize, "%.*s", (int)len, rundir);
	slash = strrchr(parent, '/');
	if (strlen(slash ? slash + 1 : parent) >= lsize) {
		errno = ENAMETOOLONG;
		return err_set(e, "refusing rundir '%s': name too long", rundir);
	}
	memcpy(last, slash ? slash + 1 : parent,
	    strlen(slash ? slash + 1 : parent) + 1);
	if (!strcmp(last, ".") || !strcmp(last, "..")) {
		errno = EINVAL;
		return err_set(e, "refusing rundir '%s': name it without . or ..",
		    rundir);
	}
	if (!slash)
		snprintf(parent, psize, ".");
	else if (slash == parent)
		parent[1] = 0;
	else
		parent[slash - parent] = 0;
	return 0;
}

static int open_last(int parent, const char *last, int create,
    const char *rundir, struct err *e)
{
	int fd = openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);

	if (fd < 0 && errno == ENOENT && create) {
		if (mkdirat(parent, last, 0755) < 0 && errno != EEXIST)
			return err_sys(e, "unable to create %s", rundir);
		fd = openat(parent, last, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR)) {
		errno = ENOTDIR;
		return err_set(e, "refusing %s: not a directory (a symlink?)",
		    rundir);
	}
	if (fd < 0 && errno != ENOENT)
		return err_sys(e, "unable to open %s", rundir);
	return fd;
}

int rundir_open(struct rundir *rd, const char *rundir, int create,
    struct err *e)
{
	char parent[PATH_MAX], last[NAME_MAX + 1], canon[PATH_MAX];
	int pfd, err;

	rd->fd = -1;
	snprintf(rd->path, sizeof rd->path, "%s", rundir);
	if (split(rundir, parent, sizeof parent, last, sizeof last, e) < 0)
		return -1;
	if (!realpath(parent, canon)) {
		if (errno == ENOENT && !create)
			return 0;       /* no parent, no rundir: nothing runs */
		return err_sys(e, "refusing %s: unable to resolve %s", rundir,
		    parent);
	}
	if ((size_t)snprintf(rd->path, sizeof rd->path, "%s/%s",
	    strcmp(canon, "/") ? canon : "", last) >= sizeof rd->path) {
		errno = ENAMETOOLONG;
		return err_set(e, "refusing %s: path too long", rundir);
	}
	if ((pfd = walk(canon, rd->path, e)) < 0)
		return -1;
	rd->fd = open_last(pfd, last, create, rd->path, e);
	err = errno;
	close(pfd);
	if (rd->fd < 0) {
		errno = err;
		return err == ENOENT ? 0 : -1;
	}
	if (check_rundir(rd->fd, rd->path, e) < 0) {
		err = errno;
		rundir_close(rd);
		errno = err;
		return -1;
	}
	return 0;
}

void rundir_close(struct rundir *rd)
{
	if (rd->fd >= 0)
		close(rd->fd);
	rd->fd = -1;
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

/* The rundir as a stream of its own (closedir closes the duplicate). */
static DIR *open_listing(const struct rundir *rd)
{
	int fd = rd->fd >= 0 ? openat(rd->fd, ".", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC) : -1;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;

	if (!d && fd >= 0)
		close(fd);
	return d;
}

void rundir_sweep(const struct rundir *rd, const char *name)
{
	struct proc_info pi;
	struct dirent *de;
	pid_t writer;
	DIR *d = open_listing(rd);

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		writer = tmp_writer(de->d_name, name);
		if (writer > 0 && proc_info(writer, &pi) < 0 && errno == ESRCH)
			unlinkat(rd->fd, de->d_name, 0);
	}
	closedir(d);
}

/* Is fd still the file that name is in the rundir? */
static int still_named(const struct rundir *rd, const char *name, int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 &&
	    fstatat(rd->fd, name, &b, AT_SYMLINK_NOFOLLOW) == 0 &&
	    a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void name_holder(int fd, long long t0, struct lock_holder *h)
{
	struct proc_info pi;
	struct stat st;

	memset(h, 0, sizeof *h);
	h->waited_ms = (long)(clock_ms() - t0);
	if (fstat(fd, &st) < 0)
		return;
	h->pid = proc_lock_holder(st.st_dev, st.st_ino);
	if (h->pid > 0 && proc_info(h->pid, &pi) == 0)
		snprintf(h->program, sizeof h->program, "%s", pi.comm);
}

/* Waits for the lock on fd.  0, or -1 with errno. */
static int wait_lock(int fd, long long deadline)
{
	int delay = LOCK_POLL_MIN_MS;

	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno != EWOULDBLOCK || clock_left(deadline) == 0)
			return -1;
		poll(NULL, 0, clock_backoff(&delay, deadline,
		    LOCK_POLL_MAX_MS));
	}
	return 0;
}

int rundir_lock(const struct rundir *rd, const char *name, long timeout_ms,
    struct lock_holder *h)
{
	char file[NAME_MAX + 1];
	long long t0 = clock_ms(), deadline = t0 + timeout_ms;
	int fd, err, tries;

	snprintf(file, sizeof file, "%s.lock", name);
	for (tries = 0; tries < LOCK_REOPENS; tries++) {
		fd = openat(rd->fd, file, O_RDWR | O_CREAT | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
		if (fd < 0)
			return -1;
		if (wait_lock(fd, deadline) < 0) {
			err = errno;
			if (err == EWOULDBLOCK && h)
				name_holder(fd, t0, h);
			close(fd);
			errno = err;
			return -1;
		}
		if (still_named(rd, file, fd))
			return fd;
		close(fd);      /* pruned while we waited: take the new one */
	}
	errno = EAGAIN;
	return -1;
}

static int known_name(char *const *known, const char *name, size_t len)
{
	for (; *known; known++)
		if (strlen(*known) == len && !strncmp(*known, name, len))
			return 1;
	return 0;
}

void rundir_prune_locks(const struct rundir *rd, char *const *known)
{
	struct dirent *de;
	size_t len;
	DIR *d = open_listing(rd);
	int fd;

	if (!d)
		return;
	while ((de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len <= 5 || de->d_name[0] == '.' ||
		    strcmp(de->d_name + len - 5, ".lock") ||
		    known_name(known, de->d_name, len - 5))
			continue;
		fd = openat(rd->fd, de->d_name, O_RDWR | O_NOFOLLOW |
		    O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 &&
		    still_named(rd, de->d_name, fd))
			unlinkat(rd->fd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}
