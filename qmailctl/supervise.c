/* supervise.c: qmailctl-supervise NAME, the parent of a service's server
 * and logger, which restarts whichever exits without being asked.
 *
 * start (supclient.c) forks it in a session of its own and execs qmailctl
 * with argv[0] "qmailctl-supervise", so `ps` shows which service it keeps.
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
 *   SIGUSR1  hold: restart nothing any more (zap sends it before it kills
 *            the group; its TERM comes after).
 * Restart policy (qmailctl.conf(5)): the first unexpected exit is restarted
 * at once, then after BACKOFF_MIN_MS, doubling up to backoff_max; an
 * element that stayed up BACKOFF_RESET_MS starts again at once.  After
 * restart_limit COUNT exits within SECONDS the whole service is taken
 * down, NAME.state says "failed" and why, and the supervisor exits.
 *
 * The report socket (fd in $QMAILCTL_SUPERVISE_FD) tells the starting
 * worker "spawned run PID log PID", then "ready TLS" or "failed WHY".
 *
 * In the foreground ("qmailctl supervise NAME", the main process of
 * systemd's qmail@.service) there is no worker: a failure is said on
 * stderr (the journal), and systemd is told through sd_notify: READY=1
 * once the probe answers, STATUS= at each change of state, STOPPING=1. */
#include "supervise.h"
#include "adopt.h"
#include "cgroup.h"
#include "clock.h"
#include "group.h"
#include "launch.h"
#include "msg.h"
#include "pidfile.h"
#include "proc.h"
#include "report.h"
#include "multilog.h"
#include "rundir.h"
#include "sdnotify.h"
#include "service.h"
#include "spawn.h"
#include "supstate.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* The second restart waits this long, each further one twice as long. */
#define BACKOFF_MIN_MS 100
/* An element up this long has recovered: its next exit is restarted at
 * once again. */
#define BACKOFF_RESET_MS 10000
#define RESTART_LIMIT_MAX 1000
/* A stop waits for the server as long as it takes (stop's own timeout
 * is the worker's, and past it zap ends the group): a day is forever. */
#define STOP_WAIT_MS 86400000L

struct sup {
	struct site site;
	struct service svc;
	struct opts opts;
	struct unit u;
	char paths[EL_MAX][PATH_MAX];
	char **env;
	struct rundir rundir;           /* checked and held, as every command's */
	int pipefd[2];
	int sigfd;
	int report;                     /* to the starting worker; -1 after */
	int foreground;                 /* qmailctl supervise: no worker */
	int lock;                       /* its service lock, until up */
	int console;                    /* its stderr, the journal */
	int hold;                       /* restart nothing any more */
	int adopt;                      /* take over what runs (adopt.h) */
	long long due[EL_MAX];          /* restart due (ms); 0: none */
	long delay[EL_MAX];             /* the wait before the next one */
	long long up_at[EL_MAX];
	long long exits[RESTART_LIMIT_MAX];     /* ring of exit times */
	long nexits;
	char reaped[EL_MAX][256];       /* how an element reaped by the
	                                 * readiness wait exited */
	struct sup_state st;
	char who[96];                   /* "qmailctl-supervise: smtp" */
};

/* A line into the service's log (fd 2 is the pipe's write end), but only
 * while no server runs: a server may write a line in pieces (stdio's
 * blocks end mid-line), and a line of ours between two pieces would cut
 * its line in two.  What happens while the server runs (its logger's
 * restart) is in NAME.state, for status. */
static void note(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void note(struct sup *s, const char *fmt, ...)
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
		note(s, "warning: unable to notify systemd ($NOTIFY_SOCKET): "
		    "%s", strerror(errno));
}

static void save_state(struct sup *s, const char *word)
{
	struct err e;

	if (strcmp(s->st.state, word)) {
		snprintf(s->st.state, sizeof s->st.state, "%s", word);
		s->st.since = clock_ms();
	}
	if (supstate_write(&s->rundir, s->svc.name, &s->st, &e) < 0)
		note(s, "warning: %s", e.text);
	notify_state(s);
}

static void report(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void report(struct sup *s, const char *fmt, ...)
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
static int respawn(struct sup *s, int which, struct started *st)
{
	int in = -1, out = -1;

	if (s->u.nel == 2) {
		if (which == EL_LOG)
			in = s->pipefd[0];
		else
			out = s->pipefd[1];
	}
	s->up_at[which] = clock_ms();
	return launch_element(&s->u, which, s->paths[which], s->env, in, out,
	    which == EL_LOG ? st->log_err : out, st);
}

/* Everything down: the server's group, then the logger once the pipe has
 * no writer left; pidfiles and cgroup removed. */
static void take_down(struct sup *s)
{
	int fd = open("/dev/null", O_WRONLY | O_CLOEXEC);

	if (s->u.el[EL_RUN].state == EL_ALIVE) {
		launch_end_group(&s->u);
		s->u.el[EL_RUN].state = EL_DEAD;
	}
	if (fd >= 0) {
		dup2(fd, 2);
		close(fd);
	}
	if (s->pipefd[0] >= 0) {
		close(s->pipefd[0]);
		close(s->pipefd[1]);
		s->pipefd[0] = s->pipefd[1] = -1;
	}
	launch_abort(&s->u);
}

static _Noreturn void finish(struct sup *s, int code)
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
	note(s, "giving up: %s", s->st.reason);
	report(s, "failed giving up: %s", s->st.reason);
	s->hold = 1;
	take_down(s);
	s->st.wait_until = 0;
	save_state(s, "failed");
	finish(s, 1);
}

/* SIGTERM: stop.  Waits for as long as it takes: past stop's timeout,
 * zap ends the group, and the wait below sees that. */
static _Noreturn void stop(struct sup *s)
{
	struct element *run = &s->u.el[EL_RUN];
	struct group_id g;

	s->hold = 1;
	if (s->foreground)
		sd_notify_send("STOPPING=1");
	save_state(s, "stopping");
	if (run->state == EL_ALIVE) {
		proc_signal(run->handle, SIGTERM);
		proc_signal(run->handle, SIGCONT);
		wait_handles(&run->handle, 1, STOP_WAIT_MS);
		launch_reap(run);
	}
	if (run->state != EL_ABSENT) {
		group_of(&run->id, s->u.cgroup, &g);
		group_signal(&g, SIGTERM, SIGCONT, NULL);
		group_wait_empty(&g, clock_ms() + STOP_WAIT_MS);
	}
	take_down(s);
	finish(s, 0);
}

/* An unexpected exit, counted: more than restart_limit within its window
 * is a failed service. */
static void count_exit(struct sup *s)
{
	long long now = clock_ms(), oldest;
	long n = s->svc.sup.limit_count;

	s->exits[s->nexits % n] = now;
	s->nexits++;
	if (s->nexits < n)
		return;
	oldest = s->exits[s->nexits % n];
	if (now - oldest < s->svc.sup.limit_ms)
		fail(s, "%ld unexpected exits within %ld s; the last: %s", n,
		    (s->svc.sup.limit_ms + 999) / 1000, s->st.last_exit);
}

static void schedule(struct sup *s, int which)
{
	long long now = clock_ms();
	long max = s->svc.sup.backoff_max_ms;

	if (now - s->up_at[which] >= BACKOFF_RESET_MS)
		s->delay[which] = 0;
	s->due[which] = now + s->delay[which];
	s->delay[which] = s->delay[which] == 0 ? BACKOFF_MIN_MS :
	    s->delay[which] * 2;
	if (s->delay[which] > max)
		s->delay[which] = max;
	s->st.wait_until = s->due[which];
	note(s, "%s: restarting in %lld ms", s->st.last_exit,
	    s->due[which] - now);
	save_state(s, "restarting");
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

static int pending(const struct sup *s)
{
	int i;

	for (i = 0; i < s->u.nel; i++)
		if (s->due[i])
			return 1;
	return 0;
}

/* Confirms the service by its probe, as start does.  A probe that does
 * not answer while the processes live is reported (state "starting" with
 * its reason), not acted upon. */
static void confirm(struct sup *s)
{
	struct started st;
	int i, rc;

	memset(&st, 0, sizeof st);
	st.log_err = -1;
	st.t0 = clock_ms();
	s->st.reason[0] = 0;
	save_state(s, "starting");
	rc = launch_wait_ready(&s->u, st.t0 + s->svc.start_timeout_ms,
	    s->sigfd, &st);
	if (rc == 0) {
		save_state(s, "up");
		return;
	}
	if (rc == -2)
		return;         /* a signal: the loop acts on it */
	for (i = 0; i < s->u.nel; i++)
		snprintf(s->reaped[i], sizeof s->reaped[i], "%.*s",
		    (int)sizeof s->reaped[i] - 1, st.why);
	snprintf(s->st.reason, sizeof s->st.reason, "%.*s",
	    (int)sizeof s->st.reason - 1, st.why);
	save_state(s, "starting");
}

static void restart_due(struct sup *s)
{
	struct started st;
	long long now = clock_ms();
	int i, done = 0;

	for (i = 0; i < s->u.nel; i++) {
		if (!s->due[i] || s->due[i] > now)
			continue;
		s->due[i] = 0;
		s->st.restarts++;
		s->st.last_restart = now;
		memset(&st, 0, sizeof st);
		st.log_err = -1;        /* a restarted logger: /dev/null */
		if (respawn(s, i, &st) < 0) {
			snprintf(s->st.last_exit, sizeof s->st.last_exit, "%.*s",
			    (int)sizeof s->st.last_exit - 1, st.why);
			note(s, "unable to restart %s", st.why);
			count_exit(s);
			schedule(s, i);
			continue;
		}
		note(s, "restarted %s %d", s->u.el[i].program,
		    (int)s->u.el[i].id.pid);
		done = 1;
	}
	if (done && !pending(s))
		confirm(s);
}

static void on_signal(struct sup *s)
{
	struct signalfd_siginfo si;
	int i;

	while (read(s->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT)
			stop(s);
		if (si.ssi_signo == SIGUSR1 && !s->hold) {
			s->hold = 1;
			for (i = 0; i < EL_MAX; i++)
				s->due[i] = 0;
			s->st.wait_until = 0;
			save_state(s, "held");
		}
	}
}

static int next_timeout(const struct sup *s)
{
	long long next = 0;
	int i;

	for (i = 0; i < s->u.nel; i++)
		if (s->due[i] && (!next || s->due[i] < next))
			next = s->due[i];
	return next ? clock_left(next) : -1;
}

static _Noreturn void loop(struct sup *s)
{
	struct pollfd pf[EL_MAX + 1];
	int i;

	for (;;) {
		pf[0].fd = s->sigfd;
		pf[0].events = POLLIN;
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
		if (!s->hold)
			restart_due(s);
	}
}

/* Confirmed: systemd hears READY=1, and the service lock that start's
 * checks took is let go, as a start's worker lets it go. */
static void ready_in_foreground(struct sup *s)
{
	char msg[256];

	el_name_running(&s->u.el[EL_RUN]);      /* its name after the exec */
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=up: %s %d",
	    s->u.el[EL_RUN].program, (int)s->u.el[EL_RUN].id.pid);
	if (sd_notify_send(msg) < 0)
		note(s, "warning: unable to notify systemd ($NOTIFY_SOCKET): "
		    "%s", strerror(errno));
	if (s->lock >= 0)
		close(s->lock);
	s->lock = -1;
}

/* The worker's cue to read the pidfiles: the elements are recorded. */
static void report_spawned(struct sup *s)
{
	if (s->u.nel == 2)
		report(s, "spawned run %d log %d", (int)s->u.el[EL_RUN].id.pid,
		    (int)s->u.el[EL_LOG].id.pid);
	else
		report(s, "spawned run %d", (int)s->u.el[EL_RUN].id.pid);
}

/* The first start: spawned, then ready, reported to the worker; if not
 * ready, everything is taken down and the worker told why. */
static void first_start(struct sup *s)
{
	struct element *run = &s->u.el[EL_RUN];
	struct started st;
	int rc = 0;

	memset(&st, 0, sizeof st);
	/* The first start's logger says why it failed in its own words. */
	st.log_err = s->u.nel == 2 ? logger_stderr_open() : -1;
	st.t0 = clock_ms();
	save_state(s, "starting");
	if (s->u.nel == 2 && respawn(s, EL_LOG, &st) < 0)
		rc = -1;
	if (rc == 0)
		rc = respawn(s, EL_RUN, &st);
	if (rc == 0) {
		report_spawned(s);
		rc = launch_wait_ready(&s->u, st.t0 + unit_timeout(&s->u,
		    s->svc.start_timeout_ms), s->sigfd, &st);
		if (rc == -2)
			snprintf(st.why, sizeof st.why, "stopped while starting");
	}
	logger_stderr_close(st.log_err);
	if (rc < 0) {
		report(s, "failed %s", st.why);
		s->hold = 1;
		take_down(s);
		finish(s, 1);
	}
	report(s, "ready %s", st.tls);
	if (s->report >= 0)
		close(s->report);
	s->report = -1;
	note(s, "up: %s %d", run->program, (int)run->id.pid);
	save_state(s, "up");
	if (s->foreground)
		ready_in_foreground(s);
}

/* Our own lines go to the log, as the server's do, but through an open
 * file description of our own that does not block: with the logger down
 * and the pipe full, a line of ours is dropped rather than wait for the
 * logger that only we can restart.  (O_NONBLOCK on the server's
 * description would make its writes fail.) */
static void log_own_lines(struct sup *s)
{
	int fd = proc_reopen_fd(s->pipefd[1], O_WRONLY | O_NONBLOCK);

	if (fd < 0)
		return;
	dup2(fd, 2);
	close(fd);
}

/* What adopt_plan() found not adoptable ends first, the server before
 * the logger, so that no old server runs beside a new one; then it is
 * spawned anew on the recovered pipe, the logger first. */
static void take_over(struct sup *s, const struct adopt_plan *p)
{
	struct started st;
	int i;

	for (i = 0; i < s->u.nel; i++) {
		s->up_at[i] = clock_ms();
		if (p->respawn[i]) {
			report(s, "note %s", p->why[i]);
			note(s, "%s", p->why[i]);
			adopt_end(&s->u, i);
		}
	}
	for (i = s->u.nel - 1; i >= 0; i--) {
		memset(&st, 0, sizeof st);
		st.log_err = -1;
		if (p->respawn[i] && respawn(s, i, &st) < 0) {
			report(s, "note unable to restart %s", st.why);
			snprintf(s->st.last_exit, sizeof s->st.last_exit, "%.*s",
			    (int)sizeof s->st.last_exit - 1, st.why);
			count_exit(s);
			schedule(s, i);
		}
	}
}

/* Adopt mode (adopt.h): what runs is taken over, the rest spawned anew
 * on the recovered pipe; the worker is told each part restarted and why,
 * then "ready" or "unready WHY" (what runs is never taken down for a
 * probe that does not answer). */
static void adopted_start(struct sup *s)
{
	struct adopt_plan p;
	struct err e;
	int i;

	if (adopt_plan(&s->u, &p, &e) < 0) {
		report(s, "failed %s", e.text);
		finish(s, EXIT_FAILED);
	}
	s->pipefd[0] = p.pipefd[0];
	s->pipefd[1] = p.pipefd[1];
	if (s->u.nel == 2)
		log_own_lines(s);
	save_state(s, "starting");
	take_over(s, &p);
	report_spawned(s);
	confirm(s);
	/* (a probe's reason is no exit status of an adopted element) */
	for (i = 0; i < s->u.nel; i++)
		if (!p.respawn[i])
			adopt_exit_text(&s->u.el[i], s->reaped[i],
			    sizeof s->reaped[i]);
	if (!strcmp(s->st.state, "up"))
		report(s, "ready");
	else
		report(s, "unready %s", s->st.reason[0] ? s->st.reason :
		    "not confirmed yet");
	close(s->report);
	s->report = -1;
	note(s, "adopted: %s %d", s->u.el[EL_RUN].program,
	    (int)s->u.el[EL_RUN].id.pid);
}

static int block_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

/* Reads what the worker left in the environment, and removes it. */
static void take_env(struct sup *s)
{
	const char *fd = getenv(SUPERVISE_FD_ENV), *t = getenv(SUPERVISE_TIMEOUT_ENV);
	const char *fg = getenv(SUPERVISE_FOREGROUND_ENV);

	s->report = fd ? atoi(fd) : -1;
	if (s->report >= 0)
		fcntl(s->report, F_SETFD, FD_CLOEXEC);
	s->opts.timeout_ms = t ? atol(t) : 0;
	s->foreground = fg != NULL && s->report < 0;
	s->lock = s->foreground ? atoi(fg) : -1;
	if (s->lock >= 0)
		fcntl(s->lock, F_SETFD, FD_CLOEXEC);
	/* stderr stays the journal's for our failures; fd 2 becomes the
	 * log pipe */
	s->console = s->foreground ? fcntl(2, F_DUPFD_CLOEXEC, 3) : -1;
	s->adopt = getenv(SUPERVISE_ADOPT_ENV) != NULL;
	unsetenv(SUPERVISE_ADOPT_ENV);
	unsetenv(SUPERVISE_FD_ENV);
	unsetenv(SUPERVISE_TIMEOUT_ENV);
	unsetenv(SUPERVISE_FOREGROUND_ENV);
}

static void setup(struct sup *s, const char *name)
{
	const char *conf = getenv("QMAILCTL_CONF");
	struct err e = { "" };
	int i;

	if (!conf || !*conf)
		conf = CONF_DEFAULT_FILE;
	if (conf_load_site(conf, &s->site, &e) < 0 ||
	    service_load(&s->site, name, &s->svc, &e) < 0) {
		report(s, "failed %s", e.text);
		_exit(EXIT_CONFIG);
	}
	/* The rundir is checked again, as by every command: the supervisor
	 * opens pidfiles and its state only below that descriptor. */
	if (rundir_open(&s->rundir, s->site.rundir, 0, &e) < 0 ||
	    s->rundir.fd < 0) {
		report(s, "failed %s", s->rundir.fd < 0 && !e.text[0] ?
		    "the run directory is gone" : e.text);
		_exit(EXIT_FAILED);
	}
	if (s->svc.sup.limit_count > RESTART_LIMIT_MAX)
		s->svc.sup.limit_count = RESTART_LIMIT_MAX;
	unit_init(&s->u, &s->site, &s->svc, &s->opts);
	s->u.rundir = &s->rundir;
	snprintf(s->who, sizeof s->who, "%s: %s", SUPERVISE_PROG, name);
	unit_observe(&s->u);            /* for the cgroup start prepared */
	for (i = 0; i < s->u.nel; i++)
		if (spawn_resolve(s->u.el[i].argv[0], s->site.path,
		    s->paths[i], PATH_MAX) < 0) {
			report(s, "failed %s is not installed or not "
			    "executable", s->u.el[i].argv[0]);
			_exit(EXIT_NOT_INSTALLED);
		}
	s->env = unit_env(&s->u);
	if (pidfile_write_self_at(s->rundir.fd, s->rundir.path,
	    el_pidname(&s->u.sup), &e) < 0 ||
	    proc_self_ident(&s->u.sup.id) < 0) {
		report(s, "failed %s", e.text);
		_exit(EXIT_FAILED);
	}
	s->u.sup.state = EL_ALIVE;
}

int supervise_main(int argc, char **argv)
{
	static struct sup s;

	memset(&s, 0, sizeof s);
	s.pipefd[0] = s.pipefd[1] = -1;
	take_env(&s);
	if (argc != 2 || !conf_valid_name(argv[1])) {
		report(&s, "failed usage: " SUPERVISE_PROG " NAME");
		return EXIT_USAGE;
	}
	/* comm is 15 bytes: "qmailctl-superv"; ps shows argv in full */
	prctl(PR_SET_NAME, SUPERVISE_PROG, 0, 0, 0);
	if ((s.sigfd = block_signals()) < 0) {
		report(&s, "failed signalfd: %s", strerror(errno));
		return EXIT_FAILED;
	}
	setup(&s, argv[1]);
	if (s.adopt) {
		adopted_start(&s);
		loop(&s);
	}
	if (s.u.nel == 2) {
		if (pipe2(s.pipefd, O_CLOEXEC) < 0) {
			report(&s, "failed unable to create a pipe: %s",
			    strerror(errno));
			finish(&s, EXIT_FAILED);
		}
		log_own_lines(&s);
	}
	first_start(&s);
	loop(&s);
}
