/* pidfile.c: atomic pidfile writes, careful reads. */
#include "pidfile.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pidfile_dir_safe(int dirfd)
{
	struct stat st;

	if (fstat(dirfd, &st) < 0)
		return -1;
	if (!(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 0;
	if ((st.st_mode & S_ISVTX) && st.st_uid == geteuid())
		return 0;
	errno = EPERM;
	return -1;
}

static void split_path(const char *path, char *dir, char *base, size_t size)
{
	char a[4096], b[4096];

	snprintf(a, sizeof a, "%s", path);
	snprintf(b, sizeof b, "%s", path);
	snprintf(dir, size, "%s", dirname(a));
	snprintf(base, size, "%s", basename(b));
}

static int format_ident(char *buf, size_t size, const struct proc_ident *id)
{
	int n = snprintf(buf, size, "%d\nstart %llu\nboot %s\n", (int)id->pid,
	    id->start, id->boot);

	if (id->pgid > 0 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "pgid %d\n",
		    (int)id->pgid);
	if (id->sid > 0 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "sid %d\n",
		    (int)id->sid);
	return n;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fail(char *why, size_t whysize, int err, const char *fmt,
    const char *arg)
{
	if (why)
		snprintf(why, whysize, fmt, arg);
	errno = err;
	return -1;
}

int pidfile_write(const char *path, const struct proc_ident *id,
    char *why, size_t whysize)
{
	char dir[4096], base[4096], tmp[4200], full[8400], text[PIDFILE_MAX];
	int dirfd, fd, len, err;

	split_path(path, dir, base, sizeof dir);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fail(why, whysize, errno, "unable to open directory %s",
		    dir);
	if (pidfile_dir_safe(dirfd) < 0) {
		err = errno;
		close(dirfd);
		return fail(why, whysize, err, "refusing directory %s "
		    "(writable by group or others and not a sticky directory "
		    "of ours)", dir);
	}
	snprintf(tmp, sizeof tmp, ".%s.%d.tmp", base, (int)getpid());
	snprintf(full, sizeof full, "%s/%s", dir, tmp);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0644);
	if (fd < 0) {
		err = errno;
		close(dirfd);
		return fail(why, whysize, err, "unable to create %s", full);
	}
	len = format_ident(text, sizeof text, id);
	if (write_all(fd, text, (size_t)len) < 0 || fsync(fd) < 0) {
		err = errno;
		close(fd);
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return fail(why, whysize, err, "unable to write %s", full);
	}
	if (close(fd) < 0 || renameat(dirfd, tmp, dirfd, base) < 0) {
		err = errno;
		unlinkat(dirfd, tmp, 0);
		close(dirfd);
		return fail(why, whysize, err, "unable to rename into %s", path);
	}
	close(dirfd);
	return 0;
}

static int parse_ident(char *text, struct proc_ident *id)
{
	char *line, *save = NULL, *end;
	long v;

	memset(id, 0, sizeof *id);
	line = strtok_r(text, "\n", &save);
	if (!line)
		return -1;
	errno = 0;
	v = strtol(line, &end, 10);
	if (errno || *end || end == line || v <= 0 || v > 4194304)
		return -1;
	id->pid = (pid_t)v;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (!strncmp(line, "start ", 6)) {
			errno = 0;
			id->start = strtoull(line + 6, &end, 10);
			if (errno || *end)
				return -1;
		} else if (!strncmp(line, "boot ", 5)) {
			if (strlen(line + 5) >= sizeof id->boot)
				return -1;
			strcpy(id->boot, line + 5);
		} else if (!strncmp(line, "pgid ", 5)) {
			v = strtol(line + 5, &end, 10);
			if (*end || v <= 0)
				return -1;
			id->pgid = (pid_t)v;
		} else if (!strncmp(line, "sid ", 4)) {
			v = strtol(line + 4, &end, 10);
			if (*end || v <= 0)
				return -1;
			id->sid = (pid_t)v;
		}
		/* Unknown lines are allowed: later versions may add some. */
	}
	return 0;
}

int pidfile_read(const char *path, struct proc_ident *id)
{
	char text[PIDFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP)
			errno = EINVAL;     /* a symlink is not a pidfile */
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > PIDFILE_MAX) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	n = read(fd, text, PIDFILE_MAX);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	text[n] = 0;
	if ((size_t)n != strlen(text) || parse_ident(text, id) < 0) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int pidfile_write_self(const char *path, char *why, size_t whysize)
{
	struct proc_ident id;

	if (proc_self_ident(&id) < 0)
		return fail(why, whysize, errno, "unable to read %s",
		    "/proc/self/stat");
	return pidfile_write(path, &id, why, whysize);
}

int pidfile_remove_if(const char *path, const struct proc_ident *id)
{
	struct proc_ident now;

	if (pidfile_read(path, &now) < 0)
		return errno == ENOENT ? 0 : -1;
	if (now.pid != id->pid || now.start != id->start)
		return 0;
	return unlink(path);
}
