/* readfile.c: a small regular file, read whole (see readfile.h). */
#include "readfile.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int read_small_file(const char *file, size_t max, char **text, size_t *len,
    struct err *e)
{
	struct stat st;
	ssize_t n;
	int fd;

	*text = NULL;
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return err_set(e, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		err_set(e, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return err_set(e, "not a regular file");
		return err_set(e, "larger than %zu bytes", max);
	}
	*text = xmalloc((size_t)st.st_size + 1);
	/* One byte more than its size: a file that grows is seen. */
	n = read(fd, *text, (size_t)st.st_size + 1);
	if (n < 0)
		err_set(e, "%s", strerror(errno));
	close(fd);
	if (n < 0 || n > st.st_size) {
		free(*text);
		*text = NULL;
		if (n >= 0)
			err_set(e, "file grew while being read");
		return -1;
	}
	(*text)[n] = 0;
	if (len)
		*len = (size_t)n;
	return 0;
}
