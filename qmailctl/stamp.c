/* stamp.c: a check's verdict remembered in the rundir (stamp.h). */
#include "stamp.h"
#include "atomic.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void stamp_file(char *buf, size_t size, const char *label, const char *path)
{
	struct stat st;
	size_t n = strlen(buf);

	if (n >= size)
		return;
	if (stat(path, &st) < 0)
		snprintf(buf + n, size - n, "%s %s -\n", label, path);
	else
		snprintf(buf + n, size - n, "%s %s %ju:%ju:%jd:%jd.%09ld:"
		    "%jd.%09ld:%o:%u:%u\n", label, path, (uintmax_t)st.st_dev,
		    (uintmax_t)st.st_ino, (intmax_t)st.st_size,
		    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
		    (unsigned)st.st_mode, (unsigned)st.st_uid,
		    (unsigned)st.st_gid);
}

long stamp_read(int dirfd, const char *name, char *buf, size_t size)
{
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return (long)n;
}

int stamp_matches(int dirfd, const char *name, const char *stamp)
{
	char old[8192];

	return stamp_read(dirfd, name, old, sizeof old) > 0 &&
	    !strcmp(old, stamp);
}

int stamp_keep(int dirfd, const char *dirpath, const char *name,
    const char *text, struct err *e)
{
	return atomic_write_at(dirfd, dirpath, name, text, strlen(text), 0644,
	    ATOMIC_CHECK_DIR, e);
}
