/* multilog.c: the logger's argv read once, and the tail of what it wrote
 * during a start (see multilog.h). */
#include "multilog.h"
#include "chain.h"
#include "conf.h"
#include "msg.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* What is read of current at most: its last lines, not the whole file
 * (multilog's files grow to a megabyte and more). */
#define TAIL_MAX 4096
/* What the logger may write on its stderr during a start, at most: its
 * error is a line, a logger that writes more is not saying why. */
#define LOGGER_STDERR_MAX 65536

int multilog_read(char *const *argv, struct multilog *m, struct err *e)
{
	struct chain c;
	size_t i;

	memset(m, 0, sizeof *m);
	if (chain_read(argv, &c, e) < 0)
		return -1;
	if (strcmp(chain_base(c.prog), "multilog"))
		return 0;
	m->found = 1;
	m->user = c.setuid;
	m->args = c.args;
	/* multilog's script: an action starting with '.' or '/' is a log
	 * directory; the first is where the lines go first. */
	for (i = 0; c.args[i] && !m->dir; i++)
		if (c.args[i][0] == '.' || c.args[i][0] == '/')
			m->dir = c.args[i];
	return 0;
}

int multilog_load(struct service *svc, struct err *e)
{
	if (!svc->log) {
		memset(&svc->multilog, 0, sizeof svc->multilog);
		return 0;
	}
	if (multilog_read(svc->log, &svc->multilog, e) < 0)
		return chain_err_at(svc->file, "log", e);
	return 0;
}

/* The directory is the logger's user's: nothing in it is followed, and
 * current must be a regular file of that user's (or root's) with one
 * link, else a planted symlink, FIFO or hard link would have root read
 * what it names. */
static int open_current(const struct service *svc, struct stat *st)
{
	const struct multilog *m = &svc->multilog;
	struct passwd *pw;
	int base = AT_FDCWD, dir, fd;

	if (!m->found || !m->dir)
		return -1;
	if (m->dir[0] != '/' && (base = open(svc->directory, O_RDONLY |
	    O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	dir = openat(base, m->dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (base >= 0)
		close(base);
	if (dir < 0)
		return -1;
	fd = openat(dir, "current", O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_NOCTTY | O_CLOEXEC);
	close(dir);
	if (fd < 0)
		return -1;
	pw = m->user ? getpwnam(m->user) : NULL;
	if (fstat(fd, st) == 0 && S_ISREG(st->st_mode) && st->st_nlink == 1 &&
	    (st->st_uid == 0 || (pw && st->st_uid == pw->pw_uid)))
		return fd;
	close(fd);
	return -1;
}

void multilog_mark(const struct service *svc, struct log_mark *mark)
{
	struct stat st;
	int fd = open_current(svc, &st);

	memset(mark, 0, sizeof *mark);
	if (fd < 0)
		return;
	mark->known = 1;
	mark->dev = st.st_dev;
	mark->ino = st.st_ino;
	mark->size = st.st_size;
	close(fd);
}

/* Where this start's lines begin: after the mark in the same file, at 0
 * of a file that replaced it; never more than TAIL_MAX before its end. */
static off_t tail_from(const struct log_mark *mark, const struct stat *st)
{
	off_t from = 0;

	if (mark->known && mark->dev == st->st_dev && mark->ino == st->st_ino &&
	    st->st_size >= mark->size)
		from = mark->size;
	if (st->st_size - from > TAIL_MAX)
		from = st->st_size - TAIL_MAX;
	return from;
}

/* The last line of text[0..n), without its time stamp, escaped (it may
 * hold a NUL) into buf. */
static void last_line(const char *text, size_t n, char *buf, size_t size)
{
	const char *line, *end;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	line = memrchr(text, '\n', n);
	line = line ? line + 1 : text;
	/* multilog's t prefix: "@4000000065a1b2c3...  " */
	if (line[0] == '@' && (end = memchr(line, ' ', n - (size_t)(line -
	    text))) != NULL)
		line = end + 1;
	msg_escape(buf, size, line, n - (size_t)(line - text));
}

void multilog_tail(const struct service *svc, const struct log_mark *mark,
    char *buf, size_t size)
{
	char text[TAIL_MAX];
	struct stat st;
	ssize_t n;
	off_t from;
	int fd;

	buf[0] = 0;
	if ((fd = open_current(svc, &st)) < 0)
		return;
	from = tail_from(mark, &st);
	n = pread(fd, text, (size_t)(st.st_size - from), from);
	close(fd);
	if (n > 0)
		last_line(text, (size_t)n, buf, size);
}

int logger_stderr_open(void)
{
	int fd = memfd_create("qmailctl-logger-stderr", MFD_CLOEXEC |
	    MFD_ALLOW_SEALING);

	/* Its full size at once (sparse: no memory until written), sealed
	 * against growing: a logger that writes without end during the start
	 * fills LOGGER_STDERR_MAX bytes at most. */
	if (fd >= 0 && (ftruncate(fd, LOGGER_STDERR_MAX) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_GROW) < 0)) {
		close(fd);
		fd = -1;
	}
	return fd;
}

void logger_stderr_line(int fd, char *buf, size_t size)
{
	char *text;
	ssize_t n;

	buf[0] = 0;
	if (fd < 0)
		return;
	text = xmalloc(LOGGER_STDERR_MAX);
	n = pread(fd, text, LOGGER_STDERR_MAX, 0);
	/* What was written ends at the last byte that is not the file's
	 * own zero fill. */
	while (n > 0 && text[n - 1] == 0)
		n--;
	if (n > TAIL_MAX)
		last_line(text + n - TAIL_MAX, TAIL_MAX, buf, size);
	else if (n > 0)
		last_line(text, (size_t)n, buf, size);
	free(text);
}

void logger_stderr_close(int fd)
{
	if (fd < 0)
		return;
	/* Empty, and it cannot grow: every later write is refused. */
	(void)!ftruncate(fd, 0);
	close(fd);
}
