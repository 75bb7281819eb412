/* adopt.c: what a new supervisor can take over of a running service, and
 * the pipe it recovers (adopt.h).
 *
 * The pipe is recovered from the processes themselves: the server's fd 1
 * (or 2) and the logger's fd 0, copied with pidfd_getfd(2) through the handles
 * unit_observe() verified.  Both copies are trusted only if they are the
 * two ends of one pipe (same st_dev and st_ino, a FIFO, each opened the
 * right way): a server writing into anything else is not feeding this
 * logger.  Whichever element's end is not recovered is restarted on the
 * other's pipe, whose missing end is opened anew through /proc: the
 * element that keeps running keeps its pipe, and nothing it wrote is
 * lost.  The server's end wins when both are recovered but differ: its
 * output is what the log is for. */
#include "adopt.h"
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Why an element cannot be taken over when it does not run. */
static void not_running(const struct element *e, char *why, size_t size)
{
	if (e->state == EL_STALE)
		snprintf(why, size, "pid %d in %.200s is another process now",
		    (int)e->id.pid, e->pidfile);
	else if (e->state == EL_ABSENT || e->state == EL_BROKEN)
		snprintf(why, size, "%s was not running (no pidfile)",
		    e->program);
	else
		snprintf(why, size, "%s %d had exited", e->program,
		    (int)e->id.pid);
}

/* A copy of e's fd, if it is a pipe end opened for mode (O_RDONLY,
 * O_WRONLY); -1 with why otherwise. */
static int pipe_end(const struct element *e, int fd, int mode,
    struct stat *st, char *why, size_t size)
{
	int copy, fl;

	if (e->state != EL_ALIVE) {
		not_running(e, why, size);
		return -1;
	}
	if ((copy = proc_take_fd(e->handle, fd)) < 0) {
		snprintf(why, size, "its pipe could not be recovered: "
		    "pidfd_getfd of fd %d of %s %d: %s", fd, e->program,
		    (int)e->id.pid, errno == ENOSYS ? "the kernel is older "
		    "than Linux 5.6" : strerror(errno));
		return -1;
	}
	fl = fcntl(copy, F_GETFL);
	if (fstat(copy, st) < 0 || !S_ISFIFO(st->st_mode) || fl < 0 ||
	    (fl & O_ACCMODE) != mode) {
		snprintf(why, size, "its pipe could not be recovered: fd %d of "
		    "%s %d is not the %s end of a pipe", fd, e->program,
		    (int)e->id.pid, mode == O_RDONLY ? "read" : "write");
		close(copy);
		return -1;
	}
	return copy;
}

static int same_pipe(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

/* The server writes the pipe on its stdout and its stderr: tcpserver
 * closes its fd 1 (its children's stdout is the connection) and logs on
 * fd 2; qmail-send logs on fd 1.  Of the two, the one that is the
 * logger's pipe (*want, NULL when the logger's end is not known), else
 * the first that is a pipe at all. */
static int server_end(const struct element *e, const struct stat *want,
    struct stat *st, char *why, size_t size)
{
	char why2[350];
	struct stat st2;
	int fd = pipe_end(e, 1, O_WRONLY, st, why, size), fd2;

	if ((fd >= 0 && (!want || same_pipe(st, want))) ||
	    e->state != EL_ALIVE)
		return fd;
	fd2 = pipe_end(e, 2, O_WRONLY, &st2, fd < 0 ? why : why2,
	    fd < 0 ? size : sizeof why2);
	if (fd2 < 0 || (fd >= 0 && !same_pipe(&st2, want))) {
		if (fd2 >= 0)
			close(fd2);
		return fd;
	}
	if (fd >= 0)
		close(fd);
	*st = st2;
	return fd2;
}

/* The end of the pipe that the other copy is not: opened anew.  On
 * failure both are given up (a new pipe then), and have says why. */
static void other_end(int have, int *want, int flags, const struct element *e,
    char *why, size_t size)
{
	if ((*want = proc_reopen_fd(have, flags)) >= 0)
		return;
	snprintf(why, size, "its pipe could not be recovered: unable to "
	    "open the other end of the pipe of %s %d: %s", e->program,
	    (int)e->id.pid, strerror(errno));
	close(have);
}

/* "logger restarted: WHY", the one line start prints for element i. */
static void restart_why(struct adopt_plan *p, int i, const char *why)
{
	p->respawn[i] = 1;
	snprintf(p->why[i], sizeof p->why[i], "%s restarted: %.350s",
	    i == EL_RUN ? "server" : "logger", why);
}

int adopt_plan(struct unit *u, struct adopt_plan *p, struct err *e)
{
	const struct element *run = &u->el[EL_RUN], *log = &u->el[EL_LOG];
	char wwhy[350] = "", rwhy[350] = "";
	struct stat ws, rs;
	int w, r;

	memset(p, 0, sizeof *p);
	p->pipefd[0] = p->pipefd[1] = -1;
	if (u->nel < 2) {
		if (run->state != EL_ALIVE) {
			not_running(run, wwhy, sizeof wwhy);
			restart_why(p, EL_RUN, wwhy);
		}
		return 0;
	}
	r = pipe_end(log, 0, O_RDONLY, &rs, rwhy, sizeof rwhy);
	w = server_end(run, r >= 0 ? &rs : NULL, &ws, wwhy, sizeof wwhy);
	if (w >= 0 && r >= 0 && !same_pipe(&ws, &rs)) {
		snprintf(rwhy, sizeof rwhy, "its pipe could not be recovered: "
		    "%s %d reads another pipe than %s %d writes", log->program,
		    (int)log->id.pid, run->program, (int)run->id.pid);
		close(r);
		r = -1;
	}
	if (w >= 0 && r < 0) {
		restart_why(p, EL_LOG, rwhy);
		other_end(w, &r, O_RDONLY, run, wwhy, sizeof wwhy);
		w = r < 0 ? -1 : w;
	} else if (r >= 0 && w < 0) {
		restart_why(p, EL_RUN, wwhy);
		other_end(r, &w, O_WRONLY, log, rwhy, sizeof rwhy);
		r = w < 0 ? -1 : r;
	}
	if (w < 0) {
		/* Neither end is of use: both start again on a new pipe. */
		if (!p->respawn[EL_RUN])
			restart_why(p, EL_RUN, wwhy);
		if (!p->respawn[EL_LOG])
			restart_why(p, EL_LOG, rwhy);
		if (pipe2(p->pipefd, O_CLOEXEC) < 0)
			return err_sys(e, "unable to create a pipe");
		return 0;
	}
	p->pipefd[0] = r;
	p->pipefd[1] = w;
	return 0;
}

void adopt_end(struct unit *u, int which)
{
	struct element *e = &u->el[which];

	/* A dead server's group may live on: nothing of it may run beside
	 * the new one. */
	if (which == EL_RUN && e->state != EL_ABSENT && e->state != EL_BROKEN)
		launch_end_group(u);
	else if (e->state == EL_ALIVE)
		launch_end_element(e, 0);
	unit_forget(u, e);
}

void adopt_exit_text(const struct element *e, char *buf, size_t size)
{
	snprintf(buf, size, "%s %d exited (status unknown: adopted, not our "
	    "child)", e->program, (int)e->id.pid);
}
