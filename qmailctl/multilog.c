/* multilog.c: the logger's argv read once, and the tail of what it wrote
 * during a start (see multilog.h). */
#include "multilog.h"
#include "chain.h"
#include "conf.h"
#include "msg.h"
#include "pathwalk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
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

int multilog_dir_path(const struct service *svc, char *buf, size_t size)
{
	const char *dir = svc->multilog.dir;

	if (!svc->multilog.found || !dir) {
		snprintf(buf, size, "%s", "");
		return 0;
	}
	if (dir[0] == '/' || !svc->directory[0])
		snprintf(buf, size, "%s", dir);
	else
		snprintf(buf, size, "%s%s%s", svc->directory,
		    strchr(svc->directory, 0)[-1] == '/' ? "" : "/", dir);
	return 1;
}

int multilog_dir_open(const struct service *svc, struct err *e)
{
	const struct multilog *m = &svc->multilog;
	char path[PATH_MAX], copy[PATH_MAX];
	const char *base;
	int fd, parent;

	if (!svc->log)
		return err_set(e, "no log line in %s: nothing is logged",
		    svc->file);
	if (!m->found)
		return err_set(e, "its logger is not multilog (%s): qmailctl "
		    "reads multilog's directories only", svc->log[0]);
	if (!m->dir)
		return err_set(e, "its multilog has no log directory (no "
		    "argument starting with '.' or '/')");
	multilog_dir_path(svc, path, sizeof path);
	/* Each component on the way: a symlink is followed only where only
	 * root could have made it; the last one never is (a symlink planted
	 * in the logger's parent directory would have root read elsewhere). */
	if ((parent = pathwalk_parent(path, copy, sizeof copy, &base)) < 0)
		return err_sys(e, "unable to open log directory %s", path);
	fd = openat(parent, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	close(parent);
	if (fd < 0)
		return err_sys(e, "unable to open log directory %s", path);
	return fd;
}

/* The directory is the logger's user's: nothing in it is followed, and a
 * file must be a regular file of that user's (or root's) with one link,
 * else a planted symlink, FIFO or hard link would have root read what it
 * names.  O_NONBLOCK: a FIFO never blocks the open. */
int multilog_file_open(const struct service *svc, int dir, const char *name,
    struct stat *st, struct err *e)
{
	const struct multilog *m = &svc->multilog;
	char path[PATH_MAX];
	struct passwd *pw;
	int fd;

	multilog_dir_path(svc, path, sizeof path);
	fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY |
	    O_CLOEXEC);
	if (fd < 0 && errno == ELOOP)
		return err_set(e, "%s/%s is a symbolic link: not followed",
		    path, name);
	if (fd < 0)
		return err_sys(e, "unable to open %s/%s", path, name);
	pw = m->user ? getpwnam(m->user) : NULL;
	if (fstat(fd, st) < 0)
		err_sys(e, "unable to stat %s/%s", path, name);
	else if (!S_ISREG(st->st_mode))
		err_set(e, "%s/%s is not a regular file: not read", path, name);
	else if (st->st_nlink != 1)
		err_set(e, "%s/%s has %lu links: not read (a hard link may "
		    "name another file)", path, name,
		    (unsigned long)st->st_nlink);
	else if (st->st_uid != 0 && !(pw && st->st_uid == pw->pw_uid))
		err_set(e, "%s/%s is owned by uid %lu, not by %s%s: not read",
		    path, name, (unsigned long)st->st_uid,
		    m->user ? m->user : "root", m->user ? " or root" : "");
	else
		return fd;
	close(fd);
	errno = EINVAL;
	return -1;
}

static int open_current(const struct service *svc, struct stat *st)
{
	int dir, fd;

	if ((dir = multilog_dir_open(svc, NULL)) < 0)
		return -1;
	fd = multilog_file_open(svc, dir, "current", st, NULL);
	close(dir);
	return fd;
}

/* multilog's rotated files: @ and the TAI64N stamp of the rotation (24
 * hex digits), then .s (processed) or .u (maybe cut short by a crash). */
static int is_rotated(const char *name)
{
	return name[0] == '@' && strlen(name) == 27 &&
	    multilog_stamp(name, 25, NULL) == 25 && name[25] == '.' &&
	    (name[26] == 's' || name[26] == 'u');
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char **multilog_rotated(int dir)
{
	char **names = xcalloc(1, sizeof *names);
	struct dirent *d;
	size_t n = 0;
	DIR *dp;
	int fd = dup(dir);

	if (fd < 0 || !(dp = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return names;
	}
	while ((d = readdir(dp)) != NULL) {
		if (!is_rotated(d->d_name))
			continue;
		names = xrealloc(names, (n + 2) * sizeof *names);
		names[n++] = xstrdup(d->d_name);
		names[n] = NULL;
	}
	closedir(dp);
	/* The stamps are fixed width: their order is their names'. */
	qsort(names, n, sizeof *names, by_name);
	return names;
}

size_t multilog_stamp(const char *line, size_t n, struct tai64n *t)
{
	unsigned long long secs = 0;
	unsigned long nano = 0;
	size_t i;
	int d;

	if (n < 25 || line[0] != '@')
		return 0;
	for (i = 1; i < 25; i++) {
		if (line[i] >= '0' && line[i] <= '9')
			d = line[i] - '0';
		else if (line[i] >= 'a' && line[i] <= 'f')
			d = line[i] - 'a' + 10;
		else
			return 0;
		if (i <= 16)
			secs = secs << 4 | (unsigned)d;
		else
			nano = nano << 4 | (unsigned)d;
	}
	/* A TAI64 label is 2^62 + seconds; one before 1970 is not one
	 * multilog wrote. */
	if (secs < TAI64_UNIX_EPOCH)
		return 0;
	if (t) {
		t->secs = secs;
		t->nano = nano;
	}
	return 25;
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
	const char *line;
	size_t stamp;

	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r'))
		n--;
	line = memrchr(text, '\n', n);
	line = line ? line + 1 : text;
	/* multilog's t prefix: "@4000000065a1b2c3...  " */
	stamp = multilog_stamp(line, n - (size_t)(line - text), NULL);
	if (stamp && line + stamp < text + n && line[stamp] == ' ')
		line += stamp + 1;
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
