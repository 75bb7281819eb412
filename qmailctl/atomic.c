/* atomic.c: whole-file replacement by a temporary file and rename(). */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A temporary name that exists already (left by a crash, the same pid in
 * an earlier boot) is never removed, since it may be someone's: the next
 * number is tried, this many times. */
#define TMP_TRIES 16

int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {       /* bounded: each pass writes or fails */
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w == 0)
			errno = EIO;
		if (w <= 0)
			return -1;
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

int atomic_dir_safe(int dirfd)
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

/* Fills why (if any) and returns -1 with errno err. */
__attribute__((format(printf, 4, 5)))
static int fail(char *why, size_t whysize, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && whysize > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whysize, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

/* Creates the temporary file in dirfd, its name into tmp. */
static int create_tmp(int dirfd, const char *base, mode_t mode, char *tmp,
    size_t size)
{
	int fd = -1, n;

	for (n = 0; n < TMP_TRIES; n++) {
		snprintf(tmp, size, ".%s.%d.%d.tmp", base, (int)getpid(), n);
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL |
		    O_NOFOLLOW | O_CLOEXEC, mode & 07777);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	return fd;
}

/* Writes, fixes the mode, syncs and closes fd; on failure fd is closed
 * too and errno tells why. */
static int fill(int fd, const void *data, size_t len, mode_t mode)
{
	int err;

	if (fchmod(fd, mode & 07777) < 0 || write_all(fd, data, len) < 0 ||
	    fsync(fd) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode,
    int flags, char *why, size_t whysize)
{
	char a[PATH_MAX], b[PATH_MAX], tmp[NAME_MAX + 32];
	const char *dir, *base;
	int dirfd, fd, err, rc;

	if (strlen(path) >= sizeof a)
		return fail(why, whysize, ENAMETOOLONG, "path too long: "
		    "%.80s...", path);
	strcpy(a, path);
	strcpy(b, path);
	dir = dirname(a);
	base = basename(b);
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return fail(why, whysize, errno, "unable to open directory "
		    "%s: %s", dir, strerror(errno));
	if ((flags & ATOMIC_CHECK_DIR) && atomic_dir_safe(dirfd) < 0) {
		err = errno;
		close(dirfd);
		if (err != EPERM)
			return fail(why, whysize, err, "unable to stat %s: %s",
			    dir, strerror(err));
		return fail(why, whysize, err, "refusing directory %s "
		    "(writable by group or others and not a sticky "
		    "directory of ours)", dir);
	}
	rc = 0;
	fd = create_tmp(dirfd, base, mode, tmp, sizeof tmp);
	if (fd < 0)
		rc = fail(why, whysize, errno, "unable to create %s/%s: %s",
		    dir, tmp, strerror(errno));
	else if (fill(fd, data, len, mode) < 0)
		rc = fail(why, whysize, errno, "unable to write %s/%s: %s",
		    dir, tmp, strerror(errno));
	else if (renameat(dirfd, tmp, dirfd, base) < 0)
		rc = fail(why, whysize, errno, "unable to rename %s/%s to %s: "
		    "%s", dir, tmp, path, strerror(errno));
	else if (flags & ATOMIC_SYNC_DIR)
		(void)fsync(dirfd);     /* best effort: the file is in place,
		                         * and some file systems refuse it */
	err = errno;
	if (rc < 0 && fd >= 0)
		unlinkat(dirfd, tmp, 0);
	close(dirfd);
	errno = err;
	return rc;
}
