/* stunnel.c: the checks made on a service's stunnel config before start
 * (see stunnel.h; stunnel_conf.c reads the config).
 *
 * Why run stunnel at all, when the probe will go through it anyway?
 * tcpserver keeps running whatever is wrong behind it, and stunnel only
 * says what is wrong on each connection, to the logger: the probe would
 * refuse the start, but with "connection closed before TLS handshake".
 * `stunnel CONFIG </dev/null` says 'CONFIG:12: "sslVersionMin = TLS1.2":
 * Invalid protocol version' before anything is spawned.  What it cannot see
 * (the exec target, a [section] that would turn the check into a daemon)
 * we read from the config ourselves first, at no cost.
 *
 * But a stunnel start costs a few ms of CPU (more with protocol = pop3,
 * where stunnel runs the program once for its greeting), and the TLS
 * services together are most of what starting all five costs.  So it
 * runs when it can tell something new: when stunnel, the config, its
 * certificates, the directory or the user differ from the last check
 * that passed (RUNDIR/NAME.stunnel-ok records them; the rundir is a
 * tmpfs, so the first start after a boot checks).  Whatever else changes
 * (an included file, OpenSSL's own config) is still caught by the probe,
 * which goes through the whole chain and is what confirms a start; only
 * the message is plainer. */
#include "stunnel.h"
#include "access_as.h"
#include "clock.h"
#include "msg.h"
#include "rundir.h"
#include "spawn.h"
#include "stamp.h"
#include "transition.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* `stunnel CONFIG </dev/null` loads the config and the certificate,
 * fails the handshake on EOF and exits: a few ms.  One that takes longer
 * than this is stuck (a config that makes it wait for something) and is
 * killed; the check then fails. */
#define STUNNEL_CHECK_MAX_MS 3000
/* What we keep of stunnel's output: a failed check prints about 2 KiB. */
#define STUNNEL_OUTPUT_MAX 16384
/* While it runs, we look whether it has exited this often. */
#define COLLECT_SLICE_MS 2

__attribute__((format(printf, 2, 3)))
static void stunnel_warn(const struct unit *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vline(2, u->svc->name, "warning", fmt, ap);
	va_end(ap);
}

/* stunnel execs "exec" with execv() (no PATH search), after chroot if
 * one is set, as its setuid/setgid or tcpserver's user; it never checks
 * that the program is there.  The kernel says whether that user may. */
static int check_exec(struct unit *u, const struct stunnel_conf *c,
    uid_t uid, gid_t gid)
{
	char root[PATH_MAX], path[PATH_MAX * 2 + 2], shown[PATH_MAX * 3 + 2],
	    why[PATH_MAX + 64];
	struct access_answer a;
	struct stat st;
	struct err e;

	if (!c->exec[0])
		return EXIT_OK;         /* stunnel then connects somewhere */
	if (stunnel_exec_ids(c, &uid, &gid, &e) < 0) {
		sayerr(u, "%s", e.text);
		return EXIT_CONFIG;
	}
	stunnel_root(c, u->svc->directory, root, sizeof root);
	stunnel_path(path, sizeof path, root[0] ? "/" : u->svc->directory,
	    c->exec);
	snprintf(shown, sizeof shown, "%s%s", root, path);
	if (access_as_in(root[0] ? root : NULL, path, uid, gid, X_OK, &a,
	    &e) < 0) {
		sayerr(u, "stunnel config %s: exec %s: %s", c->path, shown,
		    e.text);
		return EXIT_FAILED;
	}
	if (a.error == ENOENT) {
		sayerr(u, "stunnel config %s: exec %s is not installed", c->path,
		    shown);
		return EXIT_NOT_INSTALLED;
	}
	if (a.error) {
		sayerr(u, "stunnel config %s: exec %s is not executable by uid "
		    "%u (%s)", c->path, shown, (unsigned)uid,
		    access_as_why(&a, shown, why, sizeof why));
		return EXIT_NOT_INSTALLED;
	}
	if (stat(shown, &st) == 0 && !S_ISREG(st.st_mode)) {
		sayerr(u, "stunnel config %s: exec %s is not a regular file",
		    c->path, shown);
		return EXIT_NOT_INSTALLED;
	}
	return EXIT_OK;
}

/* stunnel takes a CAfile it cannot read without a word at start, and
 * then logs "No trusted certificates found" at error level on every
 * connection (5.68; see the shipped configs): a warning. */
static void check_cafile(struct unit *u, const struct stunnel_conf *c)
{
	char path[PATH_MAX];
	struct stat st;

	if (!c->cafile[0])
		return;
	stunnel_path(path, sizeof path, u->svc->directory, c->cafile);
	if (stat(path, &st) < 0)
		stunnel_warn(u, "stunnel config %s: CAfile %s: %s", c->path,
		    path, strerror(errno));
}

/* stunnel loads "cert" before any chroot; relative to its directory. */
static int check_stunnel_cert(struct unit *u, const struct stunnel_conf *c)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct stat st;

	check_cafile(u, c);
	if (!c->cert[0])
		return EXIT_OK;
	stunnel_path(path, sizeof path, u->svc->directory, c->cert);
	if (stat(path, &st) < 0) {
		sayerr(u, "stunnel config %s: cert %s: %s", c->path, path,
		    strerror(errno));
		return EXIT_FAILED;
	}
	/* The service's "cert" is what qmailctl checks; if stunnel loads
	 * another file, that check says nothing about it. */
	if (u->svc->cert && (!realpath(path, a) ||
	    !realpath(u->svc->cert, b) || strcmp(a, b)))
		stunnel_warn(u, "stunnel config %s loads cert %s, but the "
		    "service checks %s", c->path, path, u->svc->cert);
	return EXIT_OK;
}

/* ---- running stunnel on its config ---- */

/* The child: stdin /dev/null, stdout and stderr to out, the service's
 * directory, user and environment; its own process group, so that a
 * stunnel that does not finish is killed with whatever it started. */
static _Noreturn void stunnel_child(const struct unit *u, const char *prog,
    const char *conf, int out, uid_t uid, gid_t gid)
{
	char *argv[3];
	char **env = unit_env(u);
	int null = open("/dev/null", O_RDONLY);

	setpgid(0, 0);
	signal(SIGPIPE, SIG_DFL);
	if (null < 0 || dup2(null, 0) < 0 || dup2(out, 1) < 0 ||
	    dup2(out, 2) < 0)
		_exit(111);
	close_range(3, ~0U, 0);
	if (chdir(u->svc->directory) < 0) {
		dprintf(2, "[!] unable to chdir to %s: %s\n", u->svc->directory,
		    strerror(errno));
		_exit(111);
	}
	if (geteuid() == 0 && access_as_become(uid, gid) < 0) {
		dprintf(2, "[!] unable to become uid %u gid %u: %s\n",
		    (unsigned)uid, (unsigned)gid, strerror(errno));
		_exit(111);
	}
	argv[0] = (char *)prog;
	argv[1] = (char *)conf;
	argv[2] = NULL;
	execve(prog, argv, env);
	dprintf(2, "[!] unable to run %s: %s\n", prog, strerror(errno));
	_exit(111);
}

/* Lines stunnel prints whether or not they are the reason. */
static int generic_error(const char *t)
{
	static const char *const generic[] = {
		"error queue: ",
		"No trusted certificates found",
		"Configuration failed",
		"Inetd mode: Failed to initialize",
		NULL,
	};
	const char *const *g;

	for (g = generic; *g; g++)
		if (!strncmp(t, *g, strlen(*g)))
			return 1;
	return 0;
}

/* The line that says why stunnel refused the config: its first error
 * ("[!] ...", or "... LOG3[...]: ..." once it logs with time stamps)
 * that is not one it prints anyway or a dump of OpenSSL's error queue;
 * else its first error; else its last line. */
static void stunnel_reason(char *out, char *why, size_t size)
{
	char *line, *next, *last = NULL, *first = NULL, *pick = NULL, *t;

	for (line = out; line && *line && !pick; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		line[strcspn(line, "\r")] = 0;
		if (!line[strspn(line, " \t")])
			continue;       /* blank */
		last = line;
		if (!strncmp(line, "[!] ", 4))
			t = line + 4;
		else if ((t = strstr(line, " LOG3[")) != NULL ||
		    (t = strstr(line, " LOG2[")) != NULL)
			t = (t = strstr(t, "]: ")) ? t + 3 : NULL;
		else
			t = NULL;
		if (t && !first)
			first = t;
		if (t && !generic_error(t))
			pick = t;
	}
	snprintf(why, size, "%.400s", pick ? pick : first ? first : last ?
	    last : "no output");
}

/* Has pid exited?  It is left unreaped (a zombie), so that its pid and
 * process group id stay ours until we reap it. */
static int has_exited(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	    si.si_pid == pid;
}

/* Reads what the child writes on fd (up to size - 1 bytes kept, the rest
 * read and dropped) until it has exited and fd has nothing more to give
 * now (a program it started may hold fd open: we do not wait for that),
 * or until deadline.  Its pidfd wakes us when it exits; without one we
 * look every COLLECT_SLICE_MS.  Returns 1 if it exited, 0 on the
 * deadline. */
static int collect_stunnel_output(int fd, pid_t pid, long long deadline, char *out,
    size_t size)
{
	struct pollfd pf[2];
	size_t len = 0;
	int exited = 0, wait_ms;

	pf[0].fd = fd;
	pf[1].fd = proc_open_pid(pid);
	pf[0].events = pf[1].events = POLLIN;
	out[0] = 0;
	for (;;) {
		char buf[4096];
		ssize_t n;

		if (!exited)
			exited = has_exited(pid);
		wait_ms = exited ? 0 : clock_left(deadline);
		if (!exited && pf[1].fd < 0 && wait_ms > COLLECT_SLICE_MS)
			wait_ms = COLLECT_SLICE_MS;
		if (poll(pf, 2, wait_ms) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (!(pf[0].revents & (POLLIN | POLLHUP))) {
			if (exited || clock_left(deadline) == 0)
				break;
			continue;
		}
		n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			pf[0].fd = -1;  /* EOF: from now on, its exit only */
		else if (len + (size_t)n < size) {
			memcpy(out + len, buf, (size_t)n);
			len += (size_t)n;
			out[len] = 0;
		}
	}
	if (pf[1].fd >= 0)
		close(pf[1].fd);
	return exited || has_exited(pid);
}

static int run_stunnel(struct unit *u, const char *prog, const char *conf,
    uid_t uid, gid_t gid)
{
	char out[STUNNEL_OUTPUT_MAX], why[512], how[64];
	long limit = unit_timeout(u, u->svc->start_timeout_ms);
	long long deadline;
	int fds[2], status = 0, exited;
	pid_t pid;

	if (limit > STUNNEL_CHECK_MAX_MS)
		limit = STUNNEL_CHECK_MAX_MS;
	deadline = clock_ms() + limit;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		sayerr(u, "unable to create a pipe: %s", strerror(errno));
		return EXIT_FAILED;
	}
	pid = fork();
	if (pid == 0)
		stunnel_child(u, prog, conf, fds[1], uid, gid);
	close(fds[1]);
	if (pid < 0) {
		close(fds[0]);
		sayerr(u, "unable to fork: %s", strerror(errno));
		return EXIT_FAILED;
	}
	setpgid(pid, pid);      /* whichever of us comes first */
	exited = collect_stunnel_output(fds[0], pid, deadline, out, sizeof out);
	close(fds[0]);
	/* Whatever it left in its group goes, while its own unreaped pid
	 * still holds the group id: the signal cannot reach a stranger. */
	kill(-pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!exited) {
		sayerr(u, "stunnel config %s: '%s %s </dev/null' did not finish "
		    "in %ld ms", conf, prog, conf, limit);
		return EXIT_FAILED;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return EXIT_OK;
	stunnel_reason(out, why, sizeof why);
	fmt_wstatus(how, sizeof how, status);
	/* "CONFIG:7: ...": stunnel named the file and line itself. */
	if (!strncmp(why, conf, strlen(conf)) && why[strlen(conf)] == ':')
		sayerr(u, "stunnel config %s (stunnel %s)", why, how);
	else
		sayerr(u, "stunnel config %s: %s (stunnel %s)", conf, why, how);
	return EXIT_FAILED;
}

/* ---- remembering a check that passed ---- */

/* What the verdict of `stunnel CONFIG` depends on, as far as we see. */
static void stunnel_stamp(const struct unit *u, const char *prog,
    const struct stunnel_conf *c, uid_t uid, gid_t gid, char *buf,
    size_t size)
{
	char cert[PATH_MAX];

	snprintf(buf, size, "qmailctl stunnel check 2\nuid %u gid %u dir %s\n",
	    (unsigned)uid, (unsigned)gid, u->svc->directory);
	stamp_file(buf, size, "stunnel", prog);
	stamp_file(buf, size, "config", c->path);
	if (c->cert[0]) {
		stunnel_path(cert, sizeof cert, u->svc->directory, c->cert);
		stamp_file(buf, size, "cert", cert);
	}
	if (c->cafile[0]) {
		stunnel_path(cert, sizeof cert, u->svc->directory, c->cafile);
		stamp_file(buf, size, "cafile", cert);
	}
}

int stunnel_preflight(struct unit *u, uid_t uid, gid_t gid)
{
	struct stunnel_conf c;
	const char *prog, *conf;
	char path[PATH_MAX], stamp[5 * PATH_MAX + 512],
	    stampfile[NAME_MAX + 1];
	struct err e;
	long long t0;
	int rc, remember;

	if (stunnel_find(u->svc, &prog, &conf) < 0)
		return EXIT_OK;
	if (spawn_resolve(prog, u->site->path, path, sizeof path) < 0) {
		if (errno == EACCES)
			sayerr(u, "%s is not executable", path);
		else
			sayerr(u, "%s is not installed (not found in %s)",
			    prog, u->site->path);
		return EXIT_NOT_INSTALLED;
	}
	/* "stunnel -fd 0" and friends: nothing of ours to read. */
	if (!conf || conf[0] == '-')
		return EXIT_OK;
	if (stunnel_read_conf(u->svc->directory, conf, &c, &e) < 0) {
		sayerr(u, "stunnel config %s: %s", c.path, e.text);
		return EXIT_FAILED;
	}
	/* Run per connection by tcpserver, stunnel must not listen itself;
	 * and `stunnel CONFIG` would start that daemon instead of checking. */
	if (c.daemon_line) {
		sayerr(u, "stunnel config %s:%d: %s: tcpserver runs stunnel in "
		    "inetd mode, which takes global options only", c.path,
		    c.daemon_line, c.daemon_what);
		return EXIT_FAILED;
	}
	if (!c.foreground)
		stunnel_warn(u, "stunnel config %s: no 'foreground = yes': "
		    "stunnel's messages may go into the TLS stream", c.path);
	if ((rc = check_exec(u, &c, uid, gid)) != EXIT_OK ||
	    (rc = check_stunnel_cert(u, &c)) != EXIT_OK)
		return rc;
	/* -n changes nothing, and may run before any rundir exists: it
	 * asks stunnel every time. */
	remember = !u->opts->dry_run && u->rundir && u->rundir->fd >= 0;
	stunnel_stamp(u, path, &c, uid, gid, stamp, sizeof stamp);
	snprintf(stampfile, sizeof stampfile, "%s.stunnel-ok", u->svc->name);
	if (remember && stamp_matches(u->rundir->fd, stampfile, stamp)) {
		sayv(u, "stunnel config %s: unchanged since it was checked",
		    c.path);
		return EXIT_OK;
	}
	if (remember)
		unlinkat(u->rundir->fd, stampfile, 0);
	t0 = clock_us();
	if ((rc = run_stunnel(u, path, conf, uid, gid)) != EXIT_OK)
		return rc;
	sayv(u, "stunnel config %s: checked by %s in %.1f ms", c.path, path,
	    (double)(clock_us() - t0) / 1000);
	/* Not remembered: the next start checks again; nothing worse. */
	if (remember && stamp_keep(u->rundir->fd, u->rundir->path, stampfile,
	    stamp, &e) < 0)
		sayv(u, "unable to remember the check: %s", e.text);
	return EXIT_OK;
}
