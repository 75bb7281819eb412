/* supstart.c: becoming qmailctl-supervise NAME, and the first start:
 * the environment start left, the site and service read again, the
 * pidfile written, the signals on a signalfd; then the elements spawned
 * and confirmed (or, in adopt mode, taken over), reported to the worker
 * or to systemd; then supervise.c's loop. */
#include "supervisor.h"
#include "adopt.h"
#include "clock.h"
#include "launch.h"
#include "msg.h"
#include "multilog.h"
#include "pidfile.h"
#include "probe.h"
#include "proc.h"
#include "sdnotify.h"
#include "spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Confirmed: systemd hears READY=1, and the service lock that start's
 * checks took is let go, as a start's worker lets it go. */
static void ready_in_foreground(struct sup *s)
{
	char msg[256];

	el_name_running(&s->u.el[EL_RUN]);      /* its name after the exec */
	snprintf(msg, sizeof msg, "READY=1\nSTATUS=up: %s %d",
	    s->u.el[EL_RUN].program, (int)s->u.el[EL_RUN].id.pid);
	if (sd_notify_send(msg) < 0)
		sup_note(s, "warning: unable to notify systemd ($NOTIFY_SOCKET): "
		    "%s", strerror(errno));
	if (s->lock >= 0)
		close(s->lock);
	s->lock = -1;
}

/* The worker's cue to read the pidfiles: the elements are recorded. */
static void report_spawned(struct sup *s)
{
	if (s->u.nel == 2)
		sup_report(s, "spawned run %d log %d", (int)s->u.el[EL_RUN].id.pid,
		    (int)s->u.el[EL_LOG].id.pid);
	else
		sup_report(s, "spawned run %d", (int)s->u.el[EL_RUN].id.pid);
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
	sup_save_state(s, "starting");
	if (s->u.nel == 2 && sup_respawn(s, EL_LOG, &st) < 0)
		rc = -1;
	if (rc == 0)
		rc = sup_respawn(s, EL_RUN, &st);
	if (rc == 0) {
		/* what the probes need gets ready while the server binds,
		 * not before: its own start comes first */
		probe_prepare(&s->svc.probe);
		report_spawned(s);
		rc = launch_wait_ready(&s->u, st.t0 + unit_timeout(&s->u,
		    s->svc.start_timeout_ms), s->sigfd, &st);
		if (rc == -2)
			snprintf(st.why, sizeof st.why, "stopped while starting");
	}
	logger_stderr_close(st.log_err);
	if (rc < 0) {
		probe_finish();
		sup_report(s, "failed %s", st.why);
		s->hold = 1;
		sup_take_down(s);
		sup_finish(s, 1);
	}
	sup_report(s, "ready %s", st.tls);
	if (s->report >= 0)
		close(s->report);
	s->report = -1;
	sup_note(s, "up: %s %d", run->program, (int)run->id.pid);
	sup_save_state(s, "up");
	probe_finish();         /* the probe's goodbye, after the answer */
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
		backoff_started(&s->backoff, i, clock_ms());
		if (p->respawn[i]) {
			sup_report(s, "note %s", p->why[i]);
			sup_note(s, "%s", p->why[i]);
			adopt_end(&s->u, i);
		}
	}
	for (i = s->u.nel - 1; i >= 0; i--) {
		memset(&st, 0, sizeof st);
		st.log_err = -1;
		if (p->respawn[i] && sup_respawn(s, i, &st) < 0) {
			sup_report(s, "note unable to restart %s", st.why);
			sup_retry(s, i, st.why);
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
		sup_report(s, "failed %s", e.text);
		sup_finish(s, EXIT_FAILED);
	}
	s->pipefd[0] = p.pipefd[0];
	s->pipefd[1] = p.pipefd[1];
	if (s->u.nel == 2)
		log_own_lines(s);
	sup_save_state(s, "starting");
	take_over(s, &p);
	report_spawned(s);
	sup_confirm(s, unit_timeout(&s->u, s->svc.start_timeout_ms));
	/* (a probe's reason is no exit status of an adopted element) */
	for (i = 0; i < s->u.nel; i++)
		if (!p.respawn[i])
			adopt_exit_text(&s->u.el[i], s->reaped[i],
			    sizeof s->reaped[i]);
	if (!strcmp(s->st.state, "up"))
		sup_report(s, "ready");
	else
		sup_report(s, "unready %s", s->st.reason[0] ? s->st.reason :
		    "not confirmed yet");
	close(s->report);
	s->report = -1;
	sup_note(s, "adopted: %s %d", s->u.el[EL_RUN].program,
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

/* The supervisor refuses the service before anything is spawned: the
 * worker is told the exit code (6, 5, 1), then why, as start's own
 * checks would have said it. */
static _Noreturn void refuse(struct sup *s, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static _Noreturn void refuse(struct sup *s, int code, const char *fmt, ...)
{
	char why[1100];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	sup_report(s, "code %d", code);
	sup_report(s, "failed %s", why);
	_exit(code);
}

static void setup(struct sup *s, const char *name)
{
	const char *conf = getenv("QMAILCTL_CONF");
	struct err e = { "" };
	int i;

	if (!conf || !*conf)
		conf = CONF_DEFAULT_FILE;
	if (conf_load_site(conf, &s->site, &e) < 0 ||
	    service_load(&s->site, name, &s->svc, &e) < 0)
		refuse(s, EXIT_CONFIG, "%s", e.text);
	/* The rundir is checked again, as by every command: the supervisor
	 * opens pidfiles and its state only below that descriptor. */
	if (rundir_open(&s->rundir, s->site.rundir, 0, &e) < 0 ||
	    s->rundir.fd < 0)
		refuse(s, EXIT_FAILED, "%s", s->rundir.fd < 0 && !e.text[0] ?
		    "the run directory is gone" : e.text);
	backoff_init(&s->backoff, &s->svc.sup);
	unit_init(&s->u, &s->site, &s->svc, &s->opts);
	s->u.rundir = &s->rundir;
	snprintf(s->who, sizeof s->who, "%s: %s", SUPERVISE_PROG, name);
	unit_observe(&s->u);            /* for the cgroup start prepared */
	for (i = 0; i < s->u.nel; i++)
		if (spawn_resolve(s->u.el[i].argv[0], s->site.path,
		    s->paths[i], PATH_MAX) < 0)
			refuse(s, EXIT_NOT_INSTALLED, "%s is not installed or "
			    "not executable", s->u.el[i].argv[0]);
	s->env = unit_env(&s->u);
	if (pidfile_write_self_at(s->rundir.fd, s->rundir.path,
	    el_pidname(&s->u.sup), &e) < 0 || (proc_self_ident(&s->u.sup.id) < 0 &&
	    err_sys(&e, "unable to read its own identity in /proc") < 0))
		refuse(s, EXIT_FAILED, "%s", e.text);
	s->u.sup.state = EL_ALIVE;
}

int supervise_main(int argc, char **argv)
{
	/* Zero from the start, and left so: a memset would make all its
	 * pages resident, used or not (it is most of our memory). */
	static struct sup s;

	s.pipefd[0] = s.pipefd[1] = -1;
	take_env(&s);
	if (argc != 2 || !conf_valid_name(argv[1])) {
		sup_report(&s, "failed usage: " SUPERVISE_PROG " NAME");
		return EXIT_USAGE;
	}
	/* comm is 15 bytes: "qmailctl-superv"; ps shows argv in full */
	prctl(PR_SET_NAME, SUPERVISE_PROG, 0, 0, 0);
	if ((s.sigfd = block_signals()) < 0) {
		sup_report(&s, "failed signalfd: %s", strerror(errno));
		return EXIT_FAILED;
	}
	setup(&s, argv[1]);
	if (s.adopt) {
		adopted_start(&s);
		sup_loop(&s);
	}
	if (s.u.nel == 2) {
		if (pipe2(s.pipefd, O_CLOEXEC) < 0) {
			sup_report(&s, "failed unable to create a pipe: %s",
			    strerror(errno));
			sup_finish(&s, EXIT_FAILED);
		}
		log_own_lines(&s);
	}
	first_start(&s);
	sup_loop(&s);
}
