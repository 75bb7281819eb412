/* common.c: what the fuzz targets share (see fuzz.h). */
#include "fuzz.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static pid_t owner;     /* only the maker removes it, not a forked child */

static int remove_one(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

static void remove_dir(void)
{
	if (dir[0] && owner == getpid())
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

const char *fuzz_dir(void)
{
	struct stat st;

	if (dir[0])
		return dir;
	snprintf(dir, sizeof dir, "%s/qmailctl-fuzz.XXXXXX",
	    stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) &&
	    access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz: fatal: unable to make a temporary directory");
		abort();
	}
	owner = getpid();
	atexit(remove_dir);
	return dir;
}

const char *fuzz_path(const char *name)
{
	static char bufs[4][128];
	static int i;

	i = (i + 1) % 4;
	snprintf(bufs[i], sizeof bufs[i], "%s/%s", fuzz_dir(), name);
	return bufs[i];
}

void fuzz_put(const char *path, const void *data, size_t len)
{
	const char *p = data;
	ssize_t w;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		perror(path);
		abort();
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w <= 0) {
			perror(path);
			abort();
		}
		p += w;
		len -= (size_t)w;
	}
	close(fd);
}

_Noreturn void fuzz_broken(const char *what, const char *detail)
{
	fprintf(stderr, "fuzz: promise broken: %s%s%s\n", what,
	    detail && *detail ? ": " : "", detail ? detail : "");
	fflush(stderr);
	abort();
}
