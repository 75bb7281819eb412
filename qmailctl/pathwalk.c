/* pathwalk.c: a path opened one component at a time (pathwalk.h). */
#include "pathwalk.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int pathwalk_root_only(int dfd)
{
	struct stat st;

	return fstat(dfd, &st) == 0 && st.st_uid == 0 &&
	    !(st.st_mode & S_IWOTH) &&
	    !((st.st_mode & S_IWGRP) && st.st_gid != 0);
}

int pathwalk_parent(const char *path, char *copy, size_t size,
    const char **base)
{
	char *p, *slash;
	int dfd, next;
	size_t n;

	if (path[0] != '/' || (n = strlen(path)) >= size) {
		errno = path[0] != '/' ? EINVAL : ENAMETOOLONG;
		return -1;
	}
	memcpy(copy, path, n + 1);
	while (n > 1 && copy[n - 1] == '/')
		copy[--n] = '\0';       /* "dir/" names dir */
	if ((dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (p = copy + 1; (slash = strchr(p, '/')); p = slash + 1) {
		*slash = '\0';
		if (!*p)
			continue;
		next = openat(dfd, p, O_PATH | O_DIRECTORY | O_CLOEXEC |
		    (pathwalk_root_only(dfd) ? 0 : O_NOFOLLOW));
		close(dfd);
		if (next < 0)
			return -1;
		dfd = next;
	}
	*base = *p ? p : ".";
	return dfd;
}
