/* access_as.c: the kernel's answer to "may this user read that file?"
 * (see access_as.h), asked by a child that has become the user. */
#include "access_as.h"
#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What the child writes on its pipe. */
struct reply {
	int took_ids;           /* 0: access_as_become() failed, with err */
	int err;
	struct access_answer a;
};

int access_as_become(uid_t uid, gid_t gid)
{
	if (gid && (setgroups(1, &gid) < 0 || setgid(gid) < 0))
		return -1;
	if (uid && setuid(uid) < 0)
		return -1;
	return 0;
}

/* The first directory leading to path ("/a/b/c": "/", "/a", "/a/b";
 * "a/b": ".", "a") that we may not search, into dir; "" if none. */
static void blocking_dir(const char *path, char *dir, size_t size)
{
	char buf[PATH_MAX];
	char *slash;

	dir[0] = 0;
	if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
		return;
	if (buf[0] != '/' && faccessat(AT_FDCWD, ".", X_OK, AT_EACCESS) < 0) {
		snprintf(dir, size, ".");
		return;
	}
	for (slash = buf; (slash = strchr(slash + 1, '/')) != NULL; ) {
		*slash = 0;
		if (faccessat(AT_FDCWD, buf[0] ? buf : "/", X_OK,
		    AT_EACCESS) < 0 && errno == EACCES) {
			snprintf(dir, size, "%s", buf[0] ? buf : "/");
			return;
		}
		*slash = '/';
	}
	if (buf[0] == '/' && faccessat(AT_FDCWD, "/", X_OK, AT_EACCESS) < 0)
		snprintf(dir, size, "/");
}

/* Asks with our own effective ids.  real: path with its symlinks
 * resolved (by whoever could), or NULL. */
static void ask(const char *path, const char *real, int mode,
    struct access_answer *a)
{
	memset(a, 0, sizeof *a);
	if (faccessat(AT_FDCWD, path, mode, AT_EACCESS) == 0)
		return;
	a->error = errno;
	if (a->error != EACCES)
		return;
	blocking_dir(path, a->dir, sizeof a->dir);
	if (!a->dir[0] && real)
		blocking_dir(real, a->dir, sizeof a->dir);
}

/* What the child is asked. */
struct question {
	const char *root, *path;
	uid_t uid;
	gid_t gid;
	int mode;
};

static _Noreturn void child(const struct question *q, int fd)
{
	struct reply r;
	char *real;

	memset(&r, 0, sizeof r);
	signal(SIGPIPE, SIG_DFL);
	if (q->root && (chroot(q->root) < 0 || chdir("/") < 0)) {
		r.err = errno;
		_exit(write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : 111);
	}
	/* Resolved while we still may: a symlink into a directory the
	 * user cannot enter is then named by its real path. */
	real = realpath(q->path, NULL);
	if (access_as_become(q->uid, q->gid) < 0)
		r.err = errno;
	else {
		r.took_ids = 1;
		ask(q->path, real, q->mode, &r.a);
	}
	_exit(write(fd, &r, sizeof r) == (ssize_t)sizeof r ? 0 : 111);
}

/* Reads the child's reply until EOF or deadline.  Returns 0 when it is
 * all there. */
static int read_reply(int fd, struct reply *r, long long deadline)
{
	struct pollfd pf = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	while (got < sizeof *r) {
		if (poll(&pf, 1, clock_left(deadline)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (!pf.revents)
			return -1;      /* the deadline */
		n = read(fd, (char *)r + got, sizeof *r - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static int ask_child(const struct question *q, struct access_answer *a,
    struct err *e)
{
	long long deadline = clock_ms() + ACCESS_AS_MAX_MS;
	struct reply r;
	int fds[2], status, got;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return err_sys(e, "unable to create a pipe");
	if ((pid = fork()) == 0) {
		close(fds[0]);
		child(q, fds[1]);
	}
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		return err_sys(e, "unable to fork");
	}
	got = read_reply(fds[0], &r, deadline);
	close(fds[0]);
	if (got < 0)
		kill(pid, SIGKILL);     /* our own unreaped child */
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (got < 0)
		return err_set(e, "%s: no answer from the child that asks as "
		    "uid %u in %d ms", q->path, (unsigned)q->uid,
		    ACCESS_AS_MAX_MS);
	if (!r.took_ids) {
		errno = r.err;
		if (q->root)
			return err_sys(e, "unable to chroot to %s or become uid "
			    "%u gid %u", q->root, (unsigned)q->uid,
			    (unsigned)q->gid);
		return err_sys(e, "unable to become uid %u gid %u",
		    (unsigned)q->uid, (unsigned)q->gid);
	}
	*a = r.a;
	return 0;
}

int access_as_in(const char *root, const char *path, uid_t uid, gid_t gid,
    int mode, struct access_answer *a, struct err *e)
{
	struct question q = { root, path, uid, gid, mode };
	char *real;

	/* Root asked for ids 0 and 0, no chroot: the child would take no
	 * ids (access_as_become leaves 0 as it is) and ask with ours, so
	 * we ask, without the fork. */
	if (geteuid() == 0 && (root || uid != 0 || gid != 0))
		return ask_child(&q, a, e);
	if (root) {
		errno = EPERM;
		return err_sys(e, "unable to ask inside %s (only root may "
		    "chroot)", root);
	}
	if (uid != geteuid()) {
		errno = EPERM;
		return err_sys(e, "unable to ask as uid %u (only root may)",
		    (unsigned)uid);
	}
	real = realpath(path, NULL);
	ask(path, real, mode, a);
	free(real);
	return 0;
}

int access_as(const char *path, uid_t uid, gid_t gid, int mode,
    struct access_answer *a, struct err *e)
{
	return access_as_in(NULL, path, uid, gid, mode, a, e);
}

char *access_as_why(const struct access_answer *a, const char *path,
    char *buf, size_t size)
{
	struct stat st;

	if (a->error == EACCES && a->dir[0])
		snprintf(buf, size, "directory %s is not searchable", a->dir);
	else if (a->error == EACCES && stat(path, &st) == 0)
		snprintf(buf, size, "owner %u, group %u, mode %04o",
		    (unsigned)st.st_uid, (unsigned)st.st_gid,
		    (unsigned)(st.st_mode & 07777));
	else
		snprintf(buf, size, "%s", strerror(a->error));
	return buf;
}
