/* stages.c: starting the stages of hi-q's pipeline (run.h): each filter
 * on the previous one's output, then the queue program with the envelope
 * pipe on its fd 1 and the reply-text pipe on its fd 6 (pipeline.c says
 * why the envelope is held back). */
#include "run.h"

#include "clock.h"
#include "cloexec.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* In the child: the descriptors into place, everything else closed on
 * exec (fd 6 of qmail-smtpd first: it waits for that pipe's end before
 * it reads our exit code), the signal state a program expects; then the
 * program.  On failure, errno goes back on rep. */
static _Noreturn void child(char **argv, const int *from, const int *to,
    int n, int rep)
{
	sigset_t none;
	int tmp[3], i, err;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* qmail-smtpd ignores SIGPIPE, and an ignored signal stays ignored
	 * across exec: a filter gets the default, as in a shell pipeline. */
	signal(SIGPIPE, SIG_DFL);
	cloexec_all();
	/* Copies above every target first, so no dup2 overwrites a source. */
	for (i = 0; i < n; i++)
		if ((tmp[i] = fcntl(from[i], F_DUPFD_CLOEXEC, 10)) < 0)
			goto fail;
	for (i = 0; i < n; i++)
		if (dup2(tmp[i], to[i]) < 0)
			goto fail;
	execv(argv[0], argv);
fail:
	err = errno;
	(void)!write(rep, &err, sizeof err);
	_exit(127);
}

/* Starts st with from[i] on fd to[i].  0: it runs.  1: it could not start
 * (st->why says why; the child is reaped).  -1: a system error here. */
static int start_stage(struct run *r, struct stage *st, const int *from,
    const int *to, int n)
{
	int rep[2], err;
	ssize_t got;
	pid_t pid;

	if (pipe2(rep, O_CLOEXEC) < 0)
		return run_error(r, "unable to make a pipe"), -1;
	pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return run_error(r, "unable to fork"), -1;
	}
	if (pid == 0)
		child(st->argv, from, to, n, rep[1]);
	close(rep[1]);
	st->start_ms = clock_ms();
	do
		got = read(rep[0], &err, sizeof err);
	while (got < 0 && errno == EINTR);
	close(rep[0]);
	if (got != (ssize_t)sizeof err) {
		st->pid = pid;
		st->verdict = V_RUNNING;
		return 0;
	}
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	st->end_ms = clock_ms();
	snprintf(st->why, sizeof st->why, "unable to run %s: %s", st->argv[0],
	    strerror(err));
	return 1;
}

/* Each filter reads what the one before it wrote.  A filter that cannot
 * start is skipped (its input goes to the next one: nothing was read)
 * when its file says so.  *in is left on the queue's input. */
static int start_filters(struct run *r, int *in)
{
	struct hiq *h = r->h;
	size_t i;
	int p[2], from[2], to[2] = { 0, 1 }, rc;

	for (i = 0; i < h->nfilters; i++) {
		struct stage *f = &h->filter[i];

		if (pipe2(p, O_CLOEXEC) < 0)
			return run_error(r, "unable to make a pipe"), -1;
		from[0] = *in;
		from[1] = p[1];
		rc = start_stage(r, f, from, to, 2);
		close(p[1]);
		if (rc == 0) {
			if (*in != 0)
				close(*in);
			*in = p[0];
			continue;
		}
		close(p[0]);
		if (rc < 0)
			return -1;
		if (f->on_failure == FAIL_SKIP) {
			f->verdict = V_SKIPPED;
			continue;
		}
		f->verdict = V_NOSTART;
		run_cause(r, CAUSE_FILTER, i);
		return -1;
	}
	return 0;
}

/* The queue: the last filter's output on fd 0, the envelope pipe on fd 1
 * (hi-q writes it only when every filter has passed), a pipe of its own
 * on fd 6 for the reply text of an exit 82, which hi-q passes on. */
static int start_queue(struct run *r, int in)
{
	struct stage *q = &r->h->queue;
	int env[2], text[2], from[3], to[3] = { 0, 1, 6 }, rc;

	if (pipe2(env, O_CLOEXEC) < 0)
		return run_error(r, "unable to make a pipe"), -1;
	if (pipe2(text, O_CLOEXEC) < 0) {
		close(env[0]);
		close(env[1]);
		return run_error(r, "unable to make a pipe"), -1;
	}
	from[0] = in;
	from[1] = env[0];
	from[2] = text[1];
	rc = start_stage(r, q, from, to, 3);
	close(env[0]);
	close(text[1]);
	r->env_out = env[1];
	r->text_fd = text[0];
	if (rc > 0) {
		/* Its verdict says why; the caller gets 81. */
		q->verdict = V_NOSTART;
		run_cause(r, CAUSE_ERROR, 0);
		return -1;
	}
	if (rc < 0)
		return -1;
	/* Ours alone: non-blocking, so a stuck queue cannot stop the loop
	 * from keeping the deadlines. */
	fcntl(r->env_out, F_SETFL, O_NONBLOCK);
	fcntl(r->text_fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* fd 0 stays the message's: hi-q lets go of it once the first stage has
 * it, so a stage that dies gives the writer EPIPE rather than a pipe
 * that never drains. */
static void let_go_of_input(void)
{
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 && fd != 0) {
		dup2(fd, 0);
		close(fd);
	}
}

void run_start_all(struct run *r)
{
	int in = 0;

	if (start_filters(r, &in) == 0)
		start_queue(r, in);
	if (in != 0)
		close(in);
	let_go_of_input();
}
