/* pidfile.c: atomic pidfile writes, careful reads. */
#include "pidfile.h"
#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
	if (id->ino > 0 && n > 0 && (size_t)n < size)
		n += snprintf(buf + n, size - (size_t)n, "ino %llu\n",
		    id->ino);
	return n;
}

/* The pidfile's text, or -1 with e filled. */
static int pidfile_text(char *text, size_t size, const char *name,
    const struct proc_ident *id, struct err *e)
{
	int len = format_ident(text, size, id);

	if (len < 0 || (size_t)len >= size) {
		errno = EOVERFLOW;
		return err_set(e, "unable to write %s: identity longer than %d "
		    "bytes", name, PIDFILE_MAX);
	}
	return len;
}

int pidfile_write_at(int dirfd, const char *dir, const char *name,
    const struct proc_ident *id, struct err *e)
{
	char text[PIDFILE_MAX];
	int len = pidfile_text(text, sizeof text, name, id, e);

	if (len < 0)
		return -1;
	return atomic_write_at(dirfd, dir, name, text, (size_t)len,
	    PIDFILE_MODE, ATOMIC_CHECK_DIR, e);
}

int pidfile_write(const char *path, const struct proc_ident *id,
    struct err *e)
{
	char text[PIDFILE_MAX];
	int len = pidfile_text(text, sizeof text, path, id, e);

	if (len < 0)
		return -1;
	return atomic_write(path, text, (size_t)len, PIDFILE_MODE,
	    ATOMIC_CHECK_DIR, e);
}

/* Linux's largest pid_max (PID_MAX_LIMIT on 64-bit). */
#define PID_LIMIT 4194304

/* Decimal digits only (no sign, no blank), without overflow. */
static int parse_ull(const char *s, unsigned long long *v)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

static int parse_pid(const char *s, pid_t *pid)
{
	unsigned long long v;

	if (parse_ull(s, &v) < 0 || v == 0 || v > PID_LIMIT)
		return -1;
	*pid = (pid_t)v;
	return 0;
}

static int parse_ident(char *text, struct proc_ident *id)
{
	char *line, *save = NULL;

	memset(id, 0, sizeof *id);
	line = strtok_r(text, "\n", &save);
	if (!line || parse_pid(line, &id->pid) < 0)
		return -1;
	while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
		if (!strncmp(line, "start ", 6)) {
			if (parse_ull(line + 6, &id->start) < 0)
				return -1;
		} else if (!strncmp(line, "boot ", 5)) {
			if (strlen(line + 5) >= sizeof id->boot)
				return -1;
			strcpy(id->boot, line + 5);
		} else if (!strncmp(line, "pgid ", 5)) {
			if (parse_pid(line + 5, &id->pgid) < 0)
				return -1;
		} else if (!strncmp(line, "ino ", 4)) {
			if (parse_ull(line + 4, &id->ino) < 0)
				return -1;
		} else if (!strncmp(line, "sid ", 4)) {
			if (parse_pid(line + 4, &id->sid) < 0)
				return -1;
		}
		/* Unknown lines are allowed: later versions may add some. */
	}
	return 0;
}

int pidfile_read(const char *path, struct proc_ident *id)
{
	return pidfile_read_at(AT_FDCWD, path, id);
}

int pidfile_read_at(int dirfd, const char *name, struct proc_ident *id)
{
	char text[PIDFILE_MAX + 1];
	struct stat st;
	ssize_t n;
	int fd, err;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
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

int pidfile_write_self_at(int dirfd, const char *dir, const char *name,
    struct err *e)
{
	struct proc_ident id;

	if (proc_self_ident(&id) < 0)
		return err_sys(e, "unable to read /proc/self/stat");
	return pidfile_write_at(dirfd, dir, name, &id, e);
}

int pidfile_remove_if_at(int dirfd, const char *name,
    const struct proc_ident *id)
{
	struct proc_ident now;

	if (pidfile_read_at(dirfd, name, &now) < 0)
		return errno == ENOENT ? 0 : -1;
	if (now.pid != id->pid || now.start != id->start)
		return 0;
	return unlinkat(dirfd, name, 0);
}
