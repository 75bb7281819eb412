/* pipeline.c: one message through the filters into the queue program.
 *
 *   fd 0 -> filter 1 -> filter 2 -> ... -> queue (fd 0)
 *   fd 1 (the envelope) --- held back --->  queue (fd 1)
 *
 * hi-q never reads the message: fd 0 becomes the first filter's stdin
 * (the queue's, with no filters), each filter's stdout is the next one's
 * stdin, and hi-q keeps no end of those pipes.  The queue program commits
 * a message only once it has read the whole envelope after the message
 * (qmail-queue(8)), so the envelope is what hi-q holds back: it reads fd 1
 * to its end meanwhile, and writes the envelope to the queue only after
 * every filter has exited with a pass code.  On any other outcome it
 * closes the queue's envelope pipe unwritten, so nothing can be queued,
 * kills what still runs, and reaps every child.
 *
 * Writing the envelope is the point of no return: from then on the queue
 * may have committed the message, so neither a timeout nor a signal ends
 * it, and hi-q's exit is the queue's.
 *
 * Children are watched through a signalfd (SIGCHLD, and TERM, INT, HUP
 * that stop hi-q), in one poll loop that also carries the envelope and
 * keeps the deadlines: each filter's own and the whole message's.  Every
 * pid signalled is a child not yet reaped, so it cannot have been reused. */
#include "hiq.h"

#include "clock.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* After a failure the queue has lost its input and its envelope; a real
 * qmail-queue then exits by itself and removes its files.  It gets this
 * long to do so before it is killed. */
#define QUEUE_GRACE_MS 1000
/* qmail-smtpd's envelope holds every recipient; a caller that sends more
 * than this is not a mail program. */
#define ENVELOPE_MAX (64L * 1024 * 1024)

struct run {
	struct hiq *h;
	int sigfd;
	int env_in;             /* our fd 1; -1 once read to its end */
	int env_out;            /* the queue's fd 1; -1 once closed */
	int text_fd;            /* the queue's fd 6, read end */
	char *env;              /* the envelope, as read from fd 1 */
	size_t env_len, env_size, env_off;  /* env_off: bytes written */
	long long deadline;
	int failed;
};

static void set_error(struct run *r, const char *what)
{
	struct hiq *h = r->h;

	if (!r->failed) {
		h->cause = CAUSE_ERROR;
		snprintf(h->error, sizeof h->error, "%s: %s", what,
		    strerror(errno));
	}
	r->failed = 1;
}

static void set_cause(struct run *r, enum cause c, size_t filter)
{
	if (!r->failed) {
		r->h->cause = c;
		r->h->cause_filter = filter;
	}
	r->failed = 1;
}

/* ---- starting a stage ---- */

/* What close_range(CLOSE_RANGE_CLOEXEC) does, for kernels before 5.11. */
static void cloexec_all(void)
{
	long max = sysconf(_SC_OPEN_MAX);
	int fd;

	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}

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
	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) < 0)
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
		return set_error(r, "unable to make a pipe"), -1;
	pid = fork();
	if (pid < 0) {
		close(rep[0]);
		close(rep[1]);
		return set_error(r, "unable to fork"), -1;
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
			return set_error(r, "unable to make a pipe"), -1;
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
		set_cause(r, CAUSE_FILTER, i);
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
		return set_error(r, "unable to make a pipe"), -1;
	if (pipe2(text, O_CLOEXEC) < 0) {
		close(env[0]);
		close(env[1]);
		return set_error(r, "unable to make a pipe"), -1;
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
		set_cause(r, CAUSE_ERROR, 0);
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

static void start_all(struct run *r)
{
	int in = 0;

	if (start_filters(r, &in) == 0)
		start_queue(r, in);
	if (in != 0)
		close(in);
	let_go_of_input();
}

/* ---- watching ---- */

static int all_passed(const struct hiq *h)
{
	size_t i;

	for (i = 0; i < h->nfilters; i++)
		if (h->filter[i].verdict != V_PASS &&
		    h->filter[i].verdict != V_SKIPPED)
			return 0;
	return 1;
}

static enum verdict classify(const struct stage *f, int status)
{
	int c;

	if (!WIFEXITED(status))
		return V_CRASH;
	c = WEXITSTATUS(status);
	if (codes_has(&f->pass, c))
		return V_PASS;
	if (codes_has(&f->reject, c))
		return V_REJECT;
	if (codes_has(&f->defer, c))
		return V_DEFER;
	return V_OTHER;
}

static void filter_exited(struct run *r, size_t i, int status)
{
	struct stage *f = &r->h->filter[i];

	f->code = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
	if (f->verdict != V_RUNNING)
		return;         /* we ended it, and said why */
	f->verdict = classify(f, status);
	if (f->verdict != V_PASS)
		set_cause(r, CAUSE_FILTER, i);
}

static void queue_exited(struct run *r, int status)
{
	struct stage *q = &r->h->queue;

	q->code = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
	if (q->verdict == V_RUNNING)
		q->verdict = WIFEXITED(status) ? (q->code == 0 ? V_PASS :
		    V_OTHER) : V_CRASH;
	/* An exit before the whole envelope went in is the queue's own
	 * refusal (or a queue that cannot have queued anything). */
	if (!r->h->envelope_given)
		set_cause(r, CAUSE_QUEUE, 0);
}

/* Reaps every child that has exited, and records how. */
static void reap(struct run *r, int options)
{
	struct hiq *h = r->h;
	int status;
	size_t i;
	pid_t pid;

	while ((pid = waitpid(-1, &status, options)) > 0) {
		long long now = clock_ms();

		for (i = 0; i < h->nfilters; i++)
			if (h->filter[i].pid == pid) {
				h->filter[i].pid = 0;
				h->filter[i].end_ms = now;
				filter_exited(r, i, status);
			}
		if (h->queue.pid == pid) {
			h->queue.pid = 0;
			h->queue.end_ms = now;
			queue_exited(r, status);
		}
		if (options == 0)
			break;
	}
}

static int running(const struct hiq *h)
{
	size_t i;

	for (i = 0; i < h->nfilters; i++)
		if (h->filter[i].pid)
			return 1;
	return h->queue.pid != 0;
}

static void read_signals(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGCHLD || r->h->envelope_given)
			continue;       /* the queue decides now */
		if (!r->failed)
			r->h->signal = (int)si.ssi_signo;
		set_cause(r, CAUSE_SIGNAL, 0);
	}
	reap(r, WNOHANG);
}

/* The earliest deadline: the whole message's, or a running filter's. */
static long long next_deadline(const struct run *r)
{
	const struct hiq *h = r->h;
	long long d = r->deadline, t;
	size_t i;

	for (i = 0; i < h->nfilters; i++) {
		const struct stage *f = &h->filter[i];

		t = f->start_ms + f->timeout_ms;
		if (f->verdict == V_RUNNING && f->timeout_ms && t < d)
			d = t;
	}
	return d;
}

static void check_deadlines(struct run *r)
{
	struct hiq *h = r->h;
	long long now = clock_ms();
	size_t i;

	for (i = 0; i < h->nfilters; i++) {
		struct stage *f = &h->filter[i];

		if (f->verdict == V_RUNNING && f->timeout_ms &&
		    now >= f->start_ms + f->timeout_ms) {
			f->verdict = V_TIMEOUT;
			set_cause(r, CAUSE_FILTER, i);
		}
	}
	if (now >= r->deadline)
		set_cause(r, CAUSE_TIMEOUT, 0);
}

/* ---- the envelope ---- */

static void close_env_out(struct run *r)
{
	if (r->env_out >= 0)
		close(r->env_out);
	r->env_out = -1;
}

/* Reads what fd 1 has now; EOF leaves the whole envelope in r->env. */
static void read_envelope(struct run *r)
{
	ssize_t n;

	if (r->env_len == r->env_size) {
		if (r->env_size >= (size_t)ENVELOPE_MAX) {
			errno = EFBIG;
			return set_error(r, "unable to read the envelope");
		}
		r->env_size = r->env_size ? 2 * r->env_size : 4096;
		r->env = xrealloc(r->env, r->env_size);
	}
	n = read(r->env_in, r->env + r->env_len, r->env_size - r->env_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		return set_error(r, "unable to read the envelope");
	if (n == 0)
		r->env_in = -1;
	r->env_len += (size_t)n;
}

/* Writes what the queue takes now; all of it: closes its pipe. */
static void write_envelope(struct run *r)
{
	ssize_t n;

	if (r->env_off == r->env_len) {
		close_env_out(r);       /* an empty envelope: EOF is all */
		return;
	}
	n = write(r->env_out, r->env + r->env_off, r->env_len - r->env_off);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0) {
		/* The queue stopped reading: its exit says why. */
		close_env_out(r);
		return;
	}
	r->env_off += (size_t)n;
	if (r->env_off == r->env_len)
		close_env_out(r);
}

/* ---- the loop ---- */

/* Until the envelope goes in: SIGCHLD and signals, fd 1, the deadlines.
 * Then: SIGCHLD, the queue's envelope pipe, no deadline. */
static void loop(struct run *r)
{
	struct hiq *h = r->h;
	struct pollfd p[2];
	int wait_ms;
	nfds_t n;

	while (!r->failed && h->queue.pid) {
		if (!h->envelope_given && r->env_in < 0 && all_passed(h))
			h->envelope_given = 1;      /* no return from here */
		p[0].fd = r->sigfd;
		p[0].events = POLLIN;
		p[1].fd = h->envelope_given ? r->env_out : r->env_in;
		p[1].events = h->envelope_given ? POLLOUT : POLLIN;
		n = p[1].fd >= 0 ? 2 : 1;
		wait_ms = h->envelope_given ? -1 : clock_left(next_deadline(r));
		if (poll(p, n, wait_ms) < 0 && errno != EINTR) {
			set_error(r, "unable to poll");
			break;
		}
		if (p[0].revents)
			read_signals(r);
		if (n == 2 && p[1].revents && !r->failed)
			(h->envelope_given ? write_envelope : read_envelope)(r);
		if (!h->envelope_given)
			check_deadlines(r);
	}
}

/* ---- the end ---- */

static void kill_stage(struct stage *s)
{
	if (!s->pid)
		return;
	kill(s->pid, SIGKILL);
	if (s->verdict == V_RUNNING)
		s->verdict = V_KILLED;
}

/* Waits, at most ms, for every child to exit by itself. */
static void wait_children(struct run *r, int ms)
{
	long long until = clock_ms() + ms;
	struct pollfd p = { .fd = r->sigfd, .events = POLLIN };

	reap(r, WNOHANG);
	while (running(r->h) && clock_left(until) > 0) {
		if (poll(&p, 1, clock_left(until)) > 0)
			read_signals(r);
	}
}

/* Whatever happened, nothing is left running and every child is reaped.
 * After a failure the queue's envelope pipe is closed before anything
 * else, so from then on it cannot queue the message.  Once the envelope
 * went in, the queue is never killed: it may have committed. */
static void finish(struct run *r)
{
	struct hiq *h = r->h;
	size_t i;

	if (r->failed && !h->envelope_given) {
		close_env_out(r);
		for (i = 0; i < h->nfilters; i++)
			kill_stage(&h->filter[i]);
		wait_children(r, QUEUE_GRACE_MS);
		kill_stage(&h->queue);
	}
	close_env_out(r);
	while (running(h))
		reap(r, 0);
}

/* What the queue wrote on its fd 6, for an exit 82; it has exited, so
 * what is in the pipe is all there is. */
static void read_queue_text(struct run *r)
{
	struct hiq *h = r->h;
	ssize_t n;

	if (r->text_fd < 0)
		return;
	while (h->queue_text_len < sizeof h->queue_text - 1 &&
	    (n = read(r->text_fd, h->queue_text + h->queue_text_len,
	    sizeof h->queue_text - 1 - h->queue_text_len)) > 0)
		h->queue_text_len += (size_t)n;
	h->queue_text[h->queue_text_len] = '\0';
	close(r->text_fd);
	r->text_fd = -1;
}

/* SIGCHLD and the stop signals arrive on a signalfd; the children get an
 * empty mask back before they exec. */
static int open_signals(struct run *r)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return set_error(r, "unable to block signals"), -1;
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0)
		return set_error(r, "unable to make a signalfd"), -1;
	return 0;
}

/* The message's size, when fd 0 is a file; -1 for a pipe (qmail-smtpd's
 * case: hi-q never reads the message to count it). */
static long long input_size(void)
{
	struct stat st;

	if (fstat(0, &st) == 0 && S_ISREG(st.st_mode))
		return (long long)st.st_size;
	return -1;
}

void hiq_run(struct hiq *h)
{
	struct run r = { .h = h, .sigfd = -1, .env_in = 1, .env_out = -1,
	    .text_fd = -1 };

	h->size = input_size();
	r.deadline = clock_ms() + h->timeout_ms;
	/* An inherited "ignore SIGCHLD" would reap our children for us. */
	signal(SIGCHLD, SIG_DFL);
	signal(SIGPIPE, SIG_IGN);
	if (open_signals(&r) == 0) {
		start_all(&r);
		loop(&r);
	}
	finish(&r);
	read_queue_text(&r);
	free(r.env);
	if (r.sigfd >= 0)
		close(r.sigfd);
}
