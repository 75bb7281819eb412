/* atomic.c: whole-file replacement by a temporary file and rename(). */
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
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

/* Writes, fixes the mode, syncs if asked and closes fd; on failure fd is
 * closed too and errno tells why. */
static int fill(int fd, const void *data, size_t len, mode_t mode, int sync)
{
	int err;

	if (fchmod(fd, mode & 07777) < 0 || write_all(fd, data, len) < 0 ||
	    (sync && fsync(fd) < 0)) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	return close(fd);
}

int atomic_open_dir(const char *path, char *dir, size_t dsize, char *base,
    size_t bsize, struct err *e)
{
	char a[PATH_MAX], b[PATH_MAX];
	const char *d, *f;
	size_t len = strlen(path);
	int fd;

	if (len >= sizeof a) {
		errno = ENAMETOOLONG;
		return err_set(e, "path too long: %.80s...", path);
	}
	/* "" and "dir/" name no file, and "." or ".." name a directory:
	 * a rename over them can only fail, after the work is done. */
	strcpy(a, path);
	strcpy(b, path);
	d = dirname(a);
	f = basename(b);
	if (len == 0 || path[len - 1] == '/' || !strcmp(f, ".") ||
	    !strcmp(f, "..")) {
		errno = EISDIR;
		return err_set(e, "'%s' names a directory, not a file", path);
	}
	snprintf(dir, dsize, "%s", d);
	snprintf(base, bsize, "%s", f);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "unable to open directory %s", dir);
	return fd;
}

int atomic_write_at(int dirfd, const char *dir, const char *base,
    const void *data, size_t len, mode_t mode, int flags, struct err *e)
{
	char tmp[NAME_MAX + 32];
	int fd, err, rc;

	if ((flags & ATOMIC_CHECK_DIR) && atomic_dir_safe(dirfd) < 0) {
		if (errno != EPERM)
			return err_sys(e, "unable to stat %s", dir);
		return err_set(e, "refusing directory %s (writable by group "
		    "or others and not a sticky directory of ours)", dir);
	}
	rc = 0;
	fd = create_tmp(dirfd, base, mode, tmp, sizeof tmp);
	if (fd < 0)
		rc = err_sys(e, "unable to create %s/%s", dir, tmp);
	else if (fill(fd, data, len, mode, flags & ATOMIC_DURABLE) < 0)
		rc = err_sys(e, "unable to write %s/%s", dir, tmp);
	else if (renameat(dirfd, tmp, dirfd, base) < 0)
		rc = err_sys(e, "unable to rename %s/%s to %s/%s", dir, tmp,
		    dir, base);
	else if (flags & ATOMIC_DURABLE)
		(void)fsync(dirfd);     /* best effort: the file is in place,
		                         * and some file systems refuse it */
	err = errno;
	if (rc < 0 && fd >= 0)
		unlinkat(dirfd, tmp, 0);
	errno = err;
	return rc;
}

int atomic_write(const char *path, const void *data, size_t len, mode_t mode,
    int flags, struct err *e)
{
	char dir[PATH_MAX], base[NAME_MAX + 1];
	int dirfd, rc, err;

	dirfd = atomic_open_dir(path, dir, sizeof dir, base, sizeof base, e);
	if (dirfd < 0)
		return -1;
	rc = atomic_write_at(dirfd, dir, base, data, len, mode, flags, e);
	err = errno;
	close(dirfd);
	errno = err;
	return rc;
}
