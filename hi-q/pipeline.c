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
#include "run.h"

#include "clock.h"
#include "msg.h"

#include <errno.h>
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

void run_error(struct run *r, const char *what)
{
	struct hiq *h = r->h;

	if (!r->failed) {
		h->cause = CAUSE_ERROR;
		snprintf(h->error, sizeof h->error, "%s: %s", what,
		    strerror(errno));
	}
	r->failed = 1;
}

void run_cause(struct run *r, enum cause c, size_t filter)
{
	if (!r->failed) {
		r->h->cause = c;
		r->h->cause_filter = filter;
	}
	r->failed = 1;
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
		run_cause(r, CAUSE_FILTER, i);
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
		run_cause(r, CAUSE_QUEUE, 0);
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
		run_cause(r, CAUSE_SIGNAL, 0);
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
			run_cause(r, CAUSE_FILTER, i);
		}
	}
	if (now >= r->deadline)
		run_cause(r, CAUSE_TIMEOUT, 0);
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
			return run_error(r, "unable to read the envelope");
		}
		r->env_size = r->env_size ? 2 * r->env_size : 4096;
		r->env = xrealloc(r->env, r->env_size);
	}
	n = read(r->env_in, r->env + r->env_len, r->env_size - r->env_len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n < 0)
		return run_error(r, "unable to read the envelope");
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
			run_error(r, "unable to poll");
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
		return run_error(r, "unable to block signals"), -1;
	r->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (r->sigfd < 0)
		return run_error(r, "unable to make a signalfd"), -1;
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
		run_start_all(&r);
		loop(&r);
	}
	finish(&r);
	read_queue_text(&r);
	free(r.env);
	if (r.sigfd >= 0)
		close(r.sigfd);
}
