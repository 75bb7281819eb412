/* supervise.c: qmailctl-supervise NAME, the parent of a service's server
 * and logger, which restarts whichever exits without being asked.
 *
 * start (supclient.c) forks it in a session of its own and execs it, a
 * program beside qmailctl (supervise/main.c), so `ps` shows which service
 * it keeps.
 * It holds both ends of the pipe between server and logger for its whole
 * life: either element can be restarted while the other keeps the pipe,
 * and no line is lost or read twice (daemontools' and runit's design).
 * Its own lines (the server's exit, its restart, giving up) go into that
 * pipe too, while no server runs, so the service's log tells what
 * happened.
 *
 * It sleeps in poll() on the elements' pidfds and a signalfd, never on a
 * timer while nothing happens; a backoff wait is the poll's timeout.
 *   SIGTERM  stop: no restart from now on (a pending one is dropped), TERM
 *            and CONT the server, wait for its group, close the pipe so the
 *            logger drains and exits, remove the pidfiles, exit 0.
 *   SIGUSR1  hold: restart nothing (zap sends it before it kills the
 *            group; its TERM comes after).  A hold that no TERM follows
 *            (its zap died, or the signal was stray) ends by itself after
 *            the zap grace and HOLD_SLACK_MS: what exited is restarted.
 * Restart policy: backoff.h.  When it gives the service up, the whole
 * service is taken down, NAME.state says "failed" and why, and the
 * supervisor exits.
 *
 * The report socket (fd in $QMAILCTL_SUPERVISE_FD) tells the starting
 * worker "spawned run PID log PID", then "ready TLS" or "failed WHY"; a
 * service refused before anything is spawned (its file broken since
 * start read it, a program gone) is "code N" (6, 5), then "failed WHY".
 *
 * In the foreground ("qmailctl supervise NAME", the main process of
 * systemd's qmail@.service) there is no worker: a failure is said on
 * stderr (the journal), and systemd is told through sd_notify: READY=1
 * once the probe answers, STATUS= at each change of state, STOPPING=1. */
#include "supervisor.h"
#include "clock.h"
#include "group.h"
#include "launch.h"
#include "msg.h"
#include "pidfile.h"
#include "probe.h"
#include "proc.h"
#include "report.h"
#include "multilog.h"
#include "rundir.h"
#include "sdnotify.h"
#include "service.h"
#include "supstate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* A stop waits for the server as long as it takes (stop's own timeout
 * is the worker's, and past it zap ends the group): a day is forever. */
#define STOP_WAIT_MS 86400000L
/* A server that has not ended this soon after TERM is "stopping" to
 * status (and to a zap's hold); one that has never was.  The state file
 * is a rename, which costs about half a millisecond on ext4: time the
 * stop's confirmation would wait for nothing. */
#define STOPPING_SAY_MS 20
/* zap's hold lasts the zap grace and this: zap, once the hold is said,
 * TERMs the group, waits the grace, KILLs and confirms (ZAP_CONFIRM_MS,
 * 5 s at most), then TERMs us. */
#define HOLD_SLACK_MS 10000

/* A line into the service's log (fd 2 is the pipe's write end), but only
 * while no server runs: a server may write a line in pieces (stdio's
 * blocks end mid-line), and a line of ours between two pieces would cut
 * its line in two.  What happens while the server runs (its logger's
 * restart) is in NAME.state, for status. */
void sup_note(struct sup *s, const char *fmt, ...)
{
	va_list ap;

	if (s->u.el[EL_RUN].state == EL_ALIVE)
		return;
	va_start(ap, fmt);
	msg_vline(2, s->who, NULL, fmt, ap);
	va_end(ap);
}

/* systemd's view of the state (STATUS= in "systemctl status"). */
static void notify_state(struct sup *s)
{
	char msg[1200];
	const char *why = s->st.reason[0] ? s->st.reason :
	    !strcmp(s->st.state, "restarting") ? s->st.last_exit : "";

	if (!s->foreground)
		return;
	snprintf(msg, sizeof msg, "STATUS=%s%s%.*s", s->st.state,
	    why[0] ? ": " : "", (int)strcspn(why, "\n"), why);
	if (sd_notify_send(msg) < 0)
		sup_note(s, "warning: unable to notify systemd ($NOTIFY_SOCKET): "
		    "%s", strerror(errno));
}

void sup_save_state(struct sup *s, const char *word)
{
	struct err e;

	if (strcmp(s->st.state, word)) {
		snprintf(s->st.state, sizeof s->st.state, "%s", word);
		s->st.since = clock_ms();
	}
	if (supstate_write(&s->rundir, s->svc.name, &s->st, &e) < 0)
		sup_note(s, "warning: %s", e.text);
	notify_state(s);
}

void sup_report(struct sup *s, const char *fmt, ...)
{
	char line[1200];
	va_list ap;
	int n;

	if (s->report < 0 && !s->foreground)
		return;
	va_start(ap, fmt);
	n = vsnprintf(line, sizeof line - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	if (s->report >= 0)
		(void)!write(s->report, line, (size_t)n);
	else if (!strncmp(line, "failed ", 7))  /* the journal's line */
		msg_line(s->console, s->svc.name,
		    "failed", "%.*s", n - 8, line + 7);
}

/* The fds 0, 1, 2 of an element: the logger reads the pipe, the server
 * writes it; without a logger both get /dev/null. */
int sup_respawn(struct sup *s, int which, struct started *st)
{
	int in = -1, out = -1;

	if (s->u.nel == 2) {
		if (which == EL_LOG)
			in = s->pipefd[0];
		else
			out = s->pipefd[1];
	}
	backoff_started(&s->backoff, which, clock_ms());
	return launch_element(&s->u, which, s->paths[which], s->env, in, out,
	    which == EL_LOG ? st->log_err : out, st);
}

/* Our two ends that write to the logger (pipefd[1], and stderr for our
 * own lines) closed: from now on the logger reads end of file as soon
 * as the server's group, the last writer, is gone, without waiting for
 * us to notice.  Nothing of ours goes to the log after this. */
static void stop_writing(struct sup *s)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	if (s->pipefd[1] >= 0) {
		close(s->pipefd[1]);
		s->pipefd[1] = -1;
	}
}

/* Everything down: the server's group, then the logger once the pipe has
 * no writer left; pidfiles and cgroup removed. */
void sup_take_down(struct sup *s)
{
	if (s->u.el[EL_RUN].state == EL_ALIVE) {
		launch_end_group(&s->u);
		s->u.el[EL_RUN].state = EL_DEAD;
	}
	stop_writing(s);
	if (s->pipefd[0] >= 0) {
		close(s->pipefd[0]);
		s->pipefd[0] = -1;
	}
	launch_abort(&s->u);
}

_Noreturn void sup_finish(struct sup *s, int code)
{
	unit_forget(&s->u, &s->u.sup);
	if (code == 0)
		supstate_remove(&s->rundir, s->svc.name);
	_exit(code);
}

/* Gives up: the service is failed until the next start. */
static _Noreturn void fail(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static _Noreturn void fail(struct sup *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->st.reason, sizeof s->st.reason, fmt, ap);
	va_end(ap);
	sup_note(s, "giving up: %s", s->st.reason);
	sup_report(s, "failed giving up: %s", s->st.reason);
	s->hold = 1;
	sup_take_down(s);
	s->st.wait_until = 0;
	sup_save_state(s, "failed");
	sup_finish(s, 1);
}

/* SIGTERM: stop.  Waits for as long as it takes: past stop's timeout,
 * zap ends the group, and the wait below sees that. */
static _Noreturn void stop(struct sup *s)
{
	struct element *run = &s->u.el[EL_RUN];
	struct group_id g;

	s->hold = 1;
	/* The server is told first, the world after, if at all: a state
	 * file written (a file system's rename) is time the server would
	 * not be stopping.  Held, nothing is restarted meanwhile. */
	if (run->state == EL_ALIVE) {
		proc_signal(run->handle, SIGTERM);
		proc_signal(run->handle, SIGCONT);
	}
	if (s->foreground)
		sd_notify_send("STOPPING=1");
	/* The logger drains while the server ends, not after. */
	stop_writing(s);
	if (run->state != EL_ALIVE ||
	    wait_handles(&run->handle, 1, STOPPING_SAY_MS) > 0) {
		sup_save_state(s, "stopping");
		if (run->state == EL_ALIVE)
			wait_handles(&run->handle, 1, STOP_WAIT_MS);
	}
	if (run->state == EL_ALIVE) {
		launch_reap(run);
		run->state = EL_DEAD;
	}
	/* What is left of its group, once: sup_take_down ends only what
	 * is alive. */
	if (run->state != EL_ABSENT) {
		group_of(&run->id, s->u.cgroup, &g);
		group_signal(&g, SIGTERM, SIGCONT, NULL);
		group_wait_empty(&g, clock_ms() + STOP_WAIT_MS);
	}
	sup_take_down(s);
	sup_finish(s, 0);
}

/* An unexpected exit, counted: more than restart_limit within its window
 * is a failed service. */
static void count_exit(struct sup *s)
{
	const struct supervision *c = &s->backoff.conf;

	if (backoff_exit(&s->backoff, clock_ms()))
		fail(s, "%ld unexpected exits within %ld s; the last: %s",
		    c->limit_count, (c->limit_ms + 999) / 1000,
		    s->st.last_exit);
}

static void schedule(struct sup *s, int which)
{
	long long now = clock_ms();

	s->st.wait_until = backoff_schedule(&s->backoff, which, now);
	sup_note(s, "%s: restarting in %lld ms", s->st.last_exit,
	    s->st.wait_until - now);
	sup_save_state(s, "restarting");
}

void sup_retry(struct sup *s, int which, const char *why)
{
	snprintf(s->st.last_exit, sizeof s->st.last_exit, "%.*s",
	    (int)sizeof s->st.last_exit - 1, why);
	count_exit(s);
	schedule(s, which);
}

/* An element that exited unasked: its restart scheduled (or the service
 * given up). */
static void element_gone(struct sup *s, int which)
{
	struct element *e = &s->u.el[which];

	s->st.last_exit_at = (long long)time(NULL);
	/* restart = no (only in the foreground: start supervises only
	 * services that restart): the service ends, its manager decides. */
	if (!s->svc.sup.restart)
		fail(s, "%s (restart = no)", s->st.last_exit);
	/* Nothing of the old server may run beside the new one. */
	if (which == EL_RUN)
		launch_end_group(&s->u);
	pidfile_remove_if_at(s->rundir.fd, el_pidname(e), &e->id);
	e->state = EL_ABSENT;
	count_exit(s);
	schedule(s, which);
}

/* An element's pidfd became readable. */
static void element_down(struct sup *s, int which)
{
	struct element *e = &s->u.el[which];
	char how[64];
	int status;

	if (e->child > 0) {
		while (waitpid(e->child, &status, 0) < 0 && errno == EINTR)
			;
		e->child = 0;
		snprintf(s->st.last_exit, sizeof s->st.last_exit, "%s %d %s",
		    e->program, (int)e->id.pid, fmt_wstatus(how, sizeof how,
		    status));
	} else
		snprintf(s->st.last_exit, sizeof s->st.last_exit, "%s",
		    s->reaped[which]);
	close(e->handle);
	e->handle = -1;
	e->state = EL_DEAD;
	if (s->hold)
		return;
	element_gone(s, which);
}

/* A hold that ended with no TERM: what exited meanwhile is restarted,
 * and so is what was waiting for its restart when the hold came. */
static void release_hold(struct sup *s)
{
	int i;

	s->hold = 0;
	s->hold_until = 0;
	sup_save_state(s, "up");
	for (i = 0; i < s->u.nel; i++)
		if (s->u.el[i].state == EL_DEAD)
			element_gone(s, i);
		else if (s->u.el[i].state == EL_ABSENT)
			schedule(s, i);
}

/* How element i exited, when the readiness wait reaped it (element_down
 * then finds no child to wait for): the wait's reason if it names this
 * element, else that it exited. */
static void note_reaped(struct sup *s, int i, const char *why)
{
	const struct element *e = &s->u.el[i];
	char who[sizeof s->reaped[i]];

	snprintf(who, sizeof who, "%s%s %d ", i == EL_LOG ? "logger " : "",
	    e->program, (int)e->id.pid);
	if (!strncmp(why, who, strlen(who)))
		snprintf(s->reaped[i], sizeof s->reaped[i], "%.*s",
		    (int)sizeof s->reaped[i] - 1, why);
	else
		snprintf(s->reaped[i], sizeof s->reaped[i], "%s %d exited",
		    e->program, (int)e->id.pid);
}

/* Confirms the service by its probe, as start does, within timeout_ms.
 * A probe that does not answer while the processes live is reported
 * (state "starting" with its reason), not acted upon. */
void sup_confirm(struct sup *s, long timeout_ms)
{
	struct started st;
	pid_t child[EL_MAX];
	int i, rc;

	memset(&st, 0, sizeof st);
	st.log_err = -1;
	st.t0 = clock_ms();
	s->st.reason[0] = 0;
	sup_save_state(s, "starting");
	for (i = 0; i < s->u.nel; i++)
		child[i] = s->u.el[i].child;
	rc = launch_wait_ready(&s->u, st.t0 + timeout_ms, s->sigfd, &st);
	if (rc == 0)
		sup_save_state(s, "up");
	probe_finish();         /* the goodbye after "up" */
	if (rc == 0)
		return;
	if (rc == -2)
		return;         /* a signal: the loop acts on it */
	for (i = 0; i < s->u.nel; i++)
		if (child[i] > 0 && s->u.el[i].child == 0)
			note_reaped(s, i, st.why);
	snprintf(s->st.reason, sizeof s->st.reason, "%.*s",
	    (int)sizeof s->st.reason - 1, st.why);
	sup_save_state(s, "starting");
}

static void restart_due(struct sup *s)
{
	struct started st;
	long long now = clock_ms();
	int i, done = 0;

	for (i = 0; i < s->u.nel && !s->hold; i++) {
		if (!backoff_take_due(&s->backoff, i, now))
			continue;
		s->st.restarts++;
		s->st.last_restart = now;
		memset(&st, 0, sizeof st);
		st.log_err = -1;        /* a restarted logger: /dev/null */
		if (sup_respawn(s, i, &st) < 0) {
			sup_note(s, "unable to restart %s", st.why);
			sup_retry(s, i, st.why);
			continue;
		}
		sup_note(s, "restarted %s %d", s->u.el[i].program,
		    (int)s->u.el[i].id.pid);
		done = 1;
	}
	/* a restart is bounded by the service's own start_timeout; the -t
	 * of the start that made us bounded only that start */
	/* (the probes' relay starts in the wait, after the spawn: the
	 * server's own start comes first) */
	if (done && !backoff_pending(&s->backoff, s->u.nel))
		sup_confirm(s, s->svc.start_timeout_ms);
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;

	while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stop(s);
		if (si.ssi_signo == SIGUSR1 && !s->hold) {
			s->hold = 1;
			s->hold_until = clock_ms() + s->svc.zap_grace_ms +
			    HOLD_SLACK_MS;
			backoff_clear(&s->backoff);
			s->st.wait_until = 0;
			sup_save_state(s, "held");
		}
	}
}

static int next_timeout(const struct sup *s)
{
	long long next = s->hold ? s->hold_until :
	    backoff_next(&s->backoff, s->u.nel);

	return next ? clock_left(next) : -1;
}

_Noreturn void sup_loop(struct sup *s)
{
	struct pollfd pf[EL_MAX + 1];
	int i;

	for (;;) {
		pf[0].fd = s->sigfd;
		pf[0].events = POLLIN;
		pf[0].revents = 0;
		for (i = 0; i < s->u.nel; i++) {
			pf[i + 1].fd = s->u.el[i].handle;
			pf[i + 1].events = POLLIN;
			pf[i + 1].revents = 0;
		}
		if (poll(pf, (nfds_t)s->u.nel + 1, next_timeout(s)) < 0 &&
		    errno != EINTR)
			fail(s, "poll: %s", strerror(errno));
		if (pf[0].revents)
			on_signal(s);
		for (i = 0; i < s->u.nel; i++)
			if (pf[i + 1].revents && s->u.el[i].handle >= 0)
				element_down(s, i);
		/* A server's exit may have kept us seconds in its group's
		 * end: a hold or a stop that came meanwhile goes first. */
		on_signal(s);
		if (s->hold && s->hold_until && clock_left(s->hold_until) == 0)
			release_hold(s);
		if (!s->hold)
			restart_due(s);
	}
}

