/* supclient.c: start, stop and zap's side of the supervisor (supervise.h).
 * Every signal to it goes through the handle that unit_observe() opened
 * after checking its recorded identity. */
#include "supervise.h"
#include "cgroup.h"
#include "clock.h"
#include "cloexec.h"
#include "msg.h"
#include "proc.h"
#include "report.h"
#include "rundir.h"
#include "supstate.h"
#include "transition.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* The supervisor reports a failed start before it takes the service
 * down; past the worker's deadline it gets this long to say why. */
#define REPORT_GRACE_MS 1000
/* Taking a failed start down: the server's TERM grace, KILL, and the
 * logger's drain (launch.h) with room to spare. */
#define TAKEDOWN_MS (4 * ABORT_GRACE_MS + 2 * LOG_DRAIN_MS)
/* zap waits this long for the supervisor to say it holds: it may be
 * ending a dead server's group first (launch_end_group: two grace
 * periods) before it reads the signal. */
#define HOLD_WAIT_MS (2 * ABORT_GRACE_MS + 500)

int supervise_program(char *buf, size_t size)
{
	if (proc_self_sibling(SUPERVISE_PROG, buf, size) < 0)
		return -1;
	return access(buf, X_OK);
}

/* Readies the environment to run qmailctl-supervise NAME (the program
 * beside this one, into prog; argv into argv): the site config by an
 * absolute path, as the supervisor runs in "/" (so that no directory
 * of the caller's is kept busy).  -1 with errno. */
static int supervisor_argv(struct unit *u, char *prog, size_t size,
    char *argv[3])
{
	char tmo[32], conf[PATH_MAX], digest[CGROUP_DIGEST_HEX + 1];

	if (supervise_program(prog, size) < 0)
		return -1;
	if (realpath(u->site->file, conf))
		setenv("QMAILCTL_CONF", conf, 1);
	snprintf(tmo, sizeof tmo, "%ld", u->opts->timeout_ms);
	setenv(SUPERVISE_TIMEOUT_ENV, tmo, 1);
	if (cgroup_site_digest_of(u->rundir->path, digest) == 0)
		setenv(SUPERVISE_SITE_DIGEST_ENV, digest, 1);
	argv[0] = SUPERVISE_PROG;
	argv[1] = (char *)u->svc->name;
	argv[2] = NULL;
	return 0;
}

/* Spawns prog in "/" and a session of its own, with /dev/null for fds
 * 0-2 and the rest of our descriptors as they are.  Spawned, not forked:
 * the child shares our memory until its exec (posix_spawn's vfork), so
 * no copy of our page tables is made and torn down.  0, or an errno. */
static int spawn_session(const char *prog, char *const argv[])
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	pid_t pid;
	int rc;

	if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
		return rc;
	if ((rc = posix_spawnattr_init(&at)) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		return rc;
	}
	if (!(rc = posix_spawn_file_actions_addchdir_np(&fa, "/")) &&
	    !(rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null",
	    O_RDWR, 0)) && !(rc = posix_spawn_file_actions_adddup2(&fa, 0, 1)) &&
	    !(rc = posix_spawn_file_actions_adddup2(&fa, 0, 2)) &&
	    !(rc = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID)))
		rc = posix_spawn(&pid, prog, &fa, &at, argv, environ);
	posix_spawnattr_destroy(&at);
	posix_spawn_file_actions_destroy(&fa);
	return rc;
}

/* The daemon, spawned by the worker in a session of its own, with the
 * report socket to the worker that waits for it; in adopt mode it takes
 * over what runs (adopt.h).  It keeps nothing of its caller's but that
 * socket: an inherited pipe (a make jobserver's, an ssh session's) would
 * be held open as long as the service runs.  Once the worker exits, its
 * parent is init (or the nearest subreaper), as a daemon's is.  0, or
 * -1 with the reason in why. */
static int spawn_supervisor(struct unit *u, int sock, int adopt,
    char *why, size_t size)
{
	char fd[16], prog[PATH_MAX], *argv[3];
	int rc;

	cloexec_all();          /* ours too: we exec nothing after this */
	snprintf(fd, sizeof fd, "%d", sock);
	setenv(SUPERVISE_FD_ENV, fd, 1);
	if (adopt)
		setenv(SUPERVISE_ADOPT_ENV, "1", 1);
	if (supervisor_argv(u, prog, sizeof prog, argv) < 0)
		rc = errno;
	else {
		fcntl(sock, F_SETFD, 0);
		rc = spawn_session(prog, argv);
		fcntl(sock, F_SETFD, FD_CLOEXEC);
	}
	unsetenv(SUPERVISE_FD_ENV);
	unsetenv(SUPERVISE_ADOPT_ENV);
	if (rc == 0)
		return 0;
	snprintf(why, size, "unable to run %s: %s", SUPERVISE_PROG,
	    strerror(rc));
	return -1;
}

void supervise_exec_foreground(struct unit *u)
{
	char fd[16], prog[PATH_MAX], *argv[3];

	/* The service's lock stays held across the exec until the first
	 * start is confirmed, as a start's worker holds it; nothing else of
	 * ours or of the service manager's beyond fds 0-2. */
	cloexec_all();
	if (u->lock >= 0)
		fcntl(u->lock, F_SETFD, 0);
	snprintf(fd, sizeof fd, "%d", u->lock);
	setenv(SUPERVISE_FOREGROUND_ENV, fd, 1);
	fflush(stdout);
	fflush(stderr);
	if (supervisor_argv(u, prog, sizeof prog, argv) == 0 && chdir("/") == 0)
		execv(prog, argv);
	if (u->lock >= 0)
		fcntl(u->lock, F_SETFD, FD_CLOEXEC);
	unsetenv(SUPERVISE_FOREGROUND_ENV);
}

/* One line of the report, or "" at EOF or the deadline. */
static void read_line(int sock, long long deadline, char *buf, size_t size)
{
	struct pollfd pf = { sock, POLLIN, 0 };
	size_t n = 0;
	char c;

	while (n + 1 < size && poll(&pf, 1, clock_left(deadline)) > 0 &&
	    read(sock, &c, 1) == 1 && c != '\n')
		buf[n++] = c;
	buf[n] = 0;
}

/* The supervisor of a failed start takes the service down itself; if it
 * does not (killed, hung), what it left is ended here. */
static void end_failed(struct unit *u)
{
	struct element *sup = &u->sup;

	if (sup->state == EL_ALIVE &&
	    wait_handles(&sup->handle, 1, TAKEDOWN_MS) > 0) {
		proc_signal(sup->handle, SIGTERM);
		if (wait_handles(&sup->handle, 1, TAKEDOWN_MS) > 0)
			proc_signal(sup->handle, SIGKILL);
	}
	unit_observe(u);
	if (u->sup.state == EL_ALIVE)
		proc_signal(u->sup.handle, SIGKILL);
	launch_abort(u);
	supervise_forget(u);
}

/* Its first line says it has recorded itself and spawned the elements:
 * from then on it is known by its pidfile, identity checked. */
static int read_report(struct unit *u, int sock, long long deadline,
    struct started *st)
{
	char line[1200];

	deadline += REPORT_GRACE_MS;
	read_line(sock, deadline, line, sizeof line);
	/* An adopting supervisor says what it could not take over; one that
	 * refuses the service says with which exit code, then why. */
	while (!strncmp(line, "note ", 5) || !strncmp(line, "code ", 5)) {
		if (line[0] == 'n')
			say(u, "%s", line + 5);
		else
			st->code = atoi(line + 5);
		read_line(sock, deadline, line, sizeof line);
	}
	if (!strncmp(line, "spawned ", 8)) {
		unit_observe(u);
		read_line(sock, deadline, line, sizeof line);
	}
	if (!strncmp(line, "ready", 5)) {
		snprintf(st->tls, sizeof st->tls, "%.*s", (int)sizeof st->tls - 1,
		    line[5] ? line + 6 : "");
		return 0;
	}
	if (!strncmp(line, "unready ", 8)) {
		snprintf(st->why, sizeof st->why, "%.*s",
		    (int)sizeof st->why - 1, line + 8);
		return -2;
	}
	if (!strncmp(line, "failed ", 7))
		snprintf(st->why, sizeof st->why, "%.*s",
		    (int)sizeof st->why - 1, line + 7);
	else if (clock_left(deadline) == 0)
		snprintf(st->why, sizeof st->why, "not ready after %lld ms: "
		    "no word from %s", clock_ms() - st->t0, SUPERVISE_PROG);
	else
		snprintf(st->why, sizeof st->why, "%s exited before the service "
		    "was ready", SUPERVISE_PROG);
	return -1;
}

/* What an adopting supervisor leaves when it fails: itself.  It is
 * killed, not TERMed (TERM would stop the service).  What runs then is
 * left running, unsupervised: the elements it found, or those it had
 * restarted already; if it gave the service up, nothing runs.  Its state
 * file stays, so that status says which (unsupervised, or failed). */
static void end_adopter(struct unit *u)
{
	struct element *sup = &u->sup;

	unit_observe(u);
	if (sup->state == EL_ALIVE &&
	    wait_handles(&sup->handle, 1, TAKEDOWN_MS) > 0)
		proc_signal(sup->handle, SIGKILL);
	unit_forget(u, sup);
	unit_observe(u);
}

/* start and adopt: fork the supervisor, read its report. */
static int launch(struct unit *u, int adopt, long long deadline,
    struct started *st)
{
	int sv[2], rc;

	/* an adopter's predecessor's state says "unsupervised" until the
	 * adopter writes its own */
	if (adopt)
		unit_forget(u, &u->sup);
	else
		supervise_forget(u);
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		snprintf(st->why, sizeof st->why, "unable to create a socket "
		    "pair: %s", strerror(errno));
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	rc = spawn_supervisor(u, sv[1], adopt, st->why, sizeof st->why);
	close(sv[1]);
	if (rc == 0)
		rc = read_report(u, sv[0], deadline, st);
	close(sv[0]);
	if (rc == -1 && adopt)
		end_adopter(u);
	else if (rc == -1)
		end_failed(u);
	else
		unit_observe(u);
	return rc;
}

int supervise_launch(struct unit *u, long long deadline, struct started *st)
{
	return launch(u, 0, deadline, st);
}

int supervise_adopt(struct unit *u, long long deadline, struct started *st)
{
	return launch(u, 1, deadline, st);
}

int supervise_stop(struct unit *u, long long deadline)
{
	int fds[EL_MAX + 1], i;

	if (u->sup.state != EL_ALIVE)
		return 0;
	if (unit_signal(u, &u->sup, SIGTERM) < 0)
		return -1;
	proc_signal(u->sup.handle, SIGCONT);
	fds[0] = u->sup.handle;
	for (i = 0; i < u->nel; i++)
		fds[i + 1] = u->el[i].state == EL_ALIVE ? u->el[i].handle : -1;
	return wait_handles(fds, u->nel + 1, clock_left(deadline));
}

int supervise_stopping(const struct unit *u)
{
	struct sup_state st;

	return supstate_read(u->rundir, u->svc->name, &st) == 0 && (!strcmp(st.state, "held") ||
	    !strcmp(st.state, "stopping"));
}

void supervise_hold(struct unit *u)
{
	long long deadline = clock_ms() + HOLD_WAIT_MS;
	int delay = 1;

	if (u->sup.state != EL_ALIVE || unit_signal(u, &u->sup, SIGUSR1) != 0)
		return;
	while (!supervise_stopping(u) && clock_left(deadline) > 0 &&
	    wait_handles(&u->sup.handle, 1, 0) > 0)
		poll(NULL, 0, clock_backoff(&delay, deadline, 20));
}

int supervise_end(struct unit *u)
{
	if (u->sup.state != EL_ALIVE)
		return 0;
	proc_signal(u->sup.handle, SIGTERM);
	if (wait_handles(&u->sup.handle, 1, TAKEDOWN_MS) == 0)
		return 0;
	proc_signal(u->sup.handle, SIGKILL);
	return wait_handles(&u->sup.handle, 1, TAKEDOWN_MS);
}

void supervise_forget(struct unit *u)
{
	unit_forget(u, &u->sup);
	supstate_remove(u->rundir, u->svc->name);
}
