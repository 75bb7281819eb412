/* preflight.c: what must hold before a service is started.
 *
 * For every service: its working directory exists.  For a service with
 * "cert": the certificate is usable by the user its TLS program runs as
 * (cert.h).  For a service that runs stunnel: the stunnel config is one
 * for inetd mode, the program it execs and the certificate it loads
 * exist, and stunnel itself accepts the config.
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
 * But one stunnel start costs 6-10 ms of CPU (13 ms with protocol = pop3,
 * where stunnel runs the program once for its greeting), three TLS
 * services 25-35 ms on a loaded two-CPU host: most of the 50 ms that
 * starting all five may take.  So it runs when it can tell something
 * new: when stunnel, the config, its certificate, the directory or the
 * user differ from the last check that passed (RUNDIR/NAME.stunnel-ok
 * records them; the rundir is a tmpfs, so the first start after a boot
 * checks).  Whatever else changes (an included file, OpenSSL's own
 * config) is still caught by the probe, which goes through the whole
 * chain and is what confirms a start; only the message is plainer. */
#include "preflight.h"
#include "atomic.h"
#include "clock.h"
#include "msg.h"
#include "proc.h"
#include "rundir.h"
#include "spawn.h"
#include "transition.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
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
/* A stunnel config is a page of text; more than this is not one. */
#define STUNNEL_CONF_MAX (256 * 1024)

static int check_directory(struct unit *u)
{
	struct stat st;

	if (stat(u->svc->directory, &st) < 0) {
		sayerr(u, "directory %s: %s", u->svc->directory,
		    strerror(errno));
		return EXIT_FAILED;
	}
	if (!S_ISDIR(st.st_mode)) {
		sayerr(u, "directory %s: not a directory", u->svc->directory);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

void preflight_warn(const struct unit *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vline(2, u->svc->name, "warning", fmt, ap);
	va_end(ap);
}

/* ---- who the TLS program runs as ---- */

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* As tcpserver's scan_ulong: the leading digits, 0 if there are none. */
static unsigned long leading_number(const char *s)
{
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

static const char *env_value(const struct service *svc, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; svc->env[i]; i++)
		if (!strncmp(svc->env[i], name, n) && svc->env[i][n] == '=')
			return svc->env[i] + n + 1;
	return NULL;
}

/* tcpserver's options (ucspi-tcp 0.88: "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO"),
 * in order, clustered or not, up to the first word that is not one. */
static void tcpserver_ids(const struct service *svc, char *const *argv,
    uid_t *uid, gid_t *gid)
{
	const char *with_arg = "xtuglbBc", *w, *arg;
	size_t i;

	for (i = 1; (w = argv[i]) != NULL && w[0] == '-' && w[1]; i++) {
		if (!strcmp(w, "--"))
			return;
		for (w++; *w; w++) {
			if (*w == 'U') {
				if ((arg = env_value(svc, "UID")) != NULL)
					*uid = (uid_t)leading_number(arg);
				if ((arg = env_value(svc, "GID")) != NULL)
					*gid = (gid_t)leading_number(arg);
				continue;
			}
			if (!strchr(with_arg, *w))
				continue;
			arg = w[1] ? w + 1 : argv[++i];
			if (!arg)
				return;
			if (*w == 'u')
				*uid = (uid_t)leading_number(arg);
			else if (*w == 'g')
				*gid = (gid_t)leading_number(arg);
			break;
		}
	}
}

void preflight_ids(const struct service *svc, uid_t *uid, gid_t *gid)
{
	size_t i;

	*uid = 0;
	*gid = 0;
	for (i = 0; svc->run[i]; i++)
		if (!strcmp(base_name(svc->run[i]), "tcpserver")) {
			tcpserver_ids(svc, svc->run + i, uid, gid);
			return;
		}
}

long preflight_warn_days(const struct site *site, const char **bad)
{
	const char *v = conf_site_var(site, "cert_warn_days");
	char *end;
	long days;

	*bad = NULL;
	if (!v || !*v)
		return CERT_WARN_DAYS;
	errno = 0;
	days = strtol(v, &end, 10);
	if (errno || end == v || *end || days < 0 || days > 3650) {
		*bad = v;
		return CERT_WARN_DAYS;
	}
	return days;
}

int preflight_cert(const struct unit *u, struct cert_report *r)
{
	const char *bad;
	uid_t uid;
	gid_t gid;

	preflight_ids(u->svc, &uid, &gid);
	return cert_check(u->svc->cert, uid, gid,
	    preflight_warn_days(u->site, &bad), r);
}

static int check_cert(struct unit *u)
{
	struct cert_report r;
	const char *bad;

	if (!u->svc->cert)
		return EXIT_OK;
	preflight_warn_days(u->site, &bad);
	if (bad)
		preflight_warn(u, "%s: cert_warn_days '%.40s' is not a number "
		    "of days from 0 to 3650: using %d", u->site->file, bad,
		    CERT_WARN_DAYS);
	if (preflight_cert(u, &r) < 0) {
		sayerr(u, "%s", r.error);
		return EXIT_FAILED;
	}
	if (r.warning[0])
		preflight_warn(u, "%s", r.warning);
	return EXIT_OK;
}

/* ---- the stunnel config ---- */

struct stunnel_conf {
	char path[PATH_MAX];    /* the config, as we open it */
	char exec[PATH_MAX];    /* "exec", "" if none */
	char cert[PATH_MAX];    /* "cert", "" if none */
	char chroot[PATH_MAX];  /* "chroot", "" if none */
	int drops;              /* "setuid" or "setgid" given */
	int daemon_line;        /* first [section] or accept, 0 if none */
	char daemon_what[80];
	int foreground;         /* "foreground = yes" */
};

/* dir/path, or path if it is absolute. */
static void relative_to(char *buf, size_t size, const char *dir,
    const char *path)
{
	if (path[0] == '/' || !dir[0])
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "",
		    path);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = 0;
	return s;
}

static void conf_line(struct stunnel_conf *c, char *line, int lineno)
{
	char *eq, *key, *value;

	line = trim(line);
	if (!*line || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		if (!c->daemon_line) {
			c->daemon_line = lineno;
			snprintf(c->daemon_what, sizeof c->daemon_what,
			    "%.60s", line);
		}
		return;
	}
	if (!(eq = strchr(line, '=')))
		return;         /* stunnel itself says what is wrong */
	*eq = 0;
	key = trim(line);
	value = trim(eq + 1);
	if (!strcasecmp(key, "exec"))
		snprintf(c->exec, sizeof c->exec, "%s", value);
	else if (!strcasecmp(key, "cert"))
		snprintf(c->cert, sizeof c->cert, "%s", value);
	else if (!strcasecmp(key, "chroot"))
		snprintf(c->chroot, sizeof c->chroot, "%s", value);
	else if (!strcasecmp(key, "setuid") || !strcasecmp(key, "setgid"))
		c->drops = 1;
	else if (!strcasecmp(key, "foreground"))
		c->foreground = !strcasecmp(value, "yes");
	else if (!strcasecmp(key, "accept") && !c->daemon_line) {
		c->daemon_line = lineno;
		snprintf(c->daemon_what, sizeof c->daemon_what, "accept");
	}
}

/* Reads the options qmailctl looks at; stunnel checks all the others. */
static int read_stunnel_conf(const char *file, struct stunnel_conf *c,
    char *why, size_t size)
{
	char *text, *line, *next;
	struct stat st;
	ssize_t n;
	int fd, lineno = 0;

	fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, size, "%s", strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STUNNEL_CONF_MAX) {
		snprintf(why, size, "%s", errno ? strerror(errno) :
		    "not a regular file of at most 256 KiB");
		close(fd);
		return -1;
	}
	text = xmalloc((size_t)st.st_size + 1);
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n < 0) {
		snprintf(why, size, "%s", strerror(errno));
		free(text);
		return -1;
	}
	text[n] = 0;
	for (line = text; line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		conf_line(c, line, ++lineno);
	}
	free(text);
	return 0;
}

/* Finds "stunnel CONFIG" in the service's argv: the word whose basename
 * is stunnel or stunnel4, and the word after it. */
static int find_stunnel(const struct service *svc, const char **prog,
    const char **conf)
{
	size_t i;

	for (i = 0; svc->run[i]; i++) {
		const char *b = base_name(svc->run[i]);

		if (strcmp(b, "stunnel") && strcmp(b, "stunnel4"))
			continue;
		*prog = svc->run[i];
		*conf = svc->run[i + 1];
		return 0;
	}
	return -1;
}

/* Executable by uid/gid by its permission bits (a root-run stunnel: any
 * x bit), and a regular file. */
static int executable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	unsigned bits;

	if (!S_ISREG(st->st_mode))
		return 0;
	if (uid == 0)
		return (st->st_mode & 0111) != 0;
	if (st->st_uid == uid)
		bits = (unsigned)(st->st_mode >> 6) & 7;
	else if (st->st_gid == gid)
		bits = (unsigned)(st->st_mode >> 3) & 7;
	else
		bits = (unsigned)st->st_mode & 7;
	return (bits & 1) != 0;
}

/* stunnel execs "exec" with execv() (no PATH search), after chroot if
 * one is set; it never checks that the program is there. */
static int check_exec(struct unit *u, const struct stunnel_conf *c,
    uid_t uid, gid_t gid)
{
	char root[PATH_MAX], path[PATH_MAX * 2 + 2];
	struct stat st;

	if (!c->exec[0])
		return EXIT_OK;         /* stunnel then connects somewhere */
	if (c->chroot[0]) {
		relative_to(root, sizeof root, u->svc->directory, c->chroot);
		snprintf(path, sizeof path, "%s%s%s", root,
		    c->exec[0] == '/' ? "" : "/", c->exec);
	} else
		relative_to(path, sizeof path, u->svc->directory, c->exec);
	if (stat(path, &st) < 0) {
		if (errno == ENOENT)
			sayerr(u, "stunnel config %s: exec %s is not installed",
			    c->path, path);
		else
			sayerr(u, "stunnel config %s: exec %s: %s", c->path,
			    path, strerror(errno));
		return EXIT_NOT_INSTALLED;
	}
	/* stunnel's own setuid/setgid change who execs: bits only then. */
	if (!executable_by(&st, c->drops ? 0 : uid, c->drops ? 0 : gid)) {
		sayerr(u, "stunnel config %s: exec %s is not executable%s",
		    c->path, path, c->drops ? "" : " by the service's user");
		return EXIT_NOT_INSTALLED;
	}
	return EXIT_OK;
}

/* stunnel loads "cert" before any chroot; relative to its directory. */
static int check_stunnel_cert(struct unit *u, const struct stunnel_conf *c)
{
	char path[PATH_MAX], a[PATH_MAX], b[PATH_MAX];
	struct stat st;

	if (!c->cert[0])
		return EXIT_OK;
	relative_to(path, sizeof path, u->svc->directory, c->cert);
	if (stat(path, &st) < 0) {
		sayerr(u, "stunnel config %s: cert %s: %s", c->path, path,
		    strerror(errno));
		return EXIT_FAILED;
	}
	/* The service's "cert" is what qmailctl checks; if stunnel loads
	 * another file, that check says nothing about it. */
	if (u->svc->cert && (!realpath(path, a) ||
	    !realpath(u->svc->cert, b) || strcmp(a, b)))
		preflight_warn(u, "stunnel config %s loads cert %s, but the "
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
	if (geteuid() == 0 && (uid || gid) && (setgroups(1, &gid) < 0 ||
	    setgid(gid) < 0 || setuid(uid) < 0)) {
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
		if (!*trim(line))
			continue;
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
static int collect(int fd, pid_t pid, long long deadline, char *out,
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
	exited = collect(fds[0], pid, deadline, out, sizeof out);
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

static void stamp_file(char *buf, size_t size, const char *label,
    const char *path)
{
	struct stat st;
	size_t n = strlen(buf);

	if (n >= size)
		return;
	if (stat(path, &st) < 0)
		snprintf(buf + n, size - n, "%s %s -\n", label, path);
	else
		snprintf(buf + n, size - n, "%s %s %ju:%ju:%jd:%jd.%09ld:"
		    "%jd.%09ld:%o:%u:%u\n", label, path, (uintmax_t)st.st_dev,
		    (uintmax_t)st.st_ino, (intmax_t)st.st_size,
		    (intmax_t)st.st_mtim.tv_sec, st.st_mtim.tv_nsec,
		    (intmax_t)st.st_ctim.tv_sec, st.st_ctim.tv_nsec,
		    (unsigned)st.st_mode, (unsigned)st.st_uid,
		    (unsigned)st.st_gid);
}

/* What the verdict of `stunnel CONFIG` depends on, as far as we see. */
static void stunnel_stamp(const struct unit *u, const char *prog,
    const struct stunnel_conf *c, uid_t uid, gid_t gid, char *buf,
    size_t size)
{
	char cert[PATH_MAX];

	snprintf(buf, size, "qmailctl stunnel check 1\nuid %u gid %u dir %s\n",
	    (unsigned)uid, (unsigned)gid, u->svc->directory);
	stamp_file(buf, size, "stunnel", prog);
	stamp_file(buf, size, "config", c->path);
	if (c->cert[0]) {
		relative_to(cert, sizeof cert, u->svc->directory, c->cert);
		stamp_file(buf, size, "cert", cert);
	}
}

/* The stamp is in the checked rundir, opened through its descriptor. */
static int stamp_matches(int dirfd, const char *name, const char *stamp)
{
	char old[8192];
	ssize_t n;
	int fd;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, old, sizeof old - 1);
	close(fd);
	if (n <= 0)
		return 0;
	old[n] = 0;
	return !strcmp(old, stamp);
}

static int check_stunnel(struct unit *u)
{
	struct stunnel_conf c;
	const char *prog, *conf;
	char path[PATH_MAX], why[512], stamp[4 * PATH_MAX + 512],
	    stampfile[NAME_MAX + 1];
	struct err err;
	long long t0;
	uid_t uid;
	gid_t gid;
	int rc;

	if (find_stunnel(u->svc, &prog, &conf) < 0)
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
	memset(&c, 0, sizeof c);
	relative_to(c.path, sizeof c.path, u->svc->directory, conf);
	if (read_stunnel_conf(c.path, &c, why, sizeof why) < 0) {
		sayerr(u, "stunnel config %s: %s", c.path, why);
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
		preflight_warn(u, "stunnel config %s: no 'foreground = yes': "
		    "stunnel's messages may go into the TLS stream", c.path);
	preflight_ids(u->svc, &uid, &gid);
	if ((rc = check_exec(u, &c, uid, gid)) != EXIT_OK ||
	    (rc = check_stunnel_cert(u, &c)) != EXIT_OK)
		return rc;
	stunnel_stamp(u, path, &c, uid, gid, stamp, sizeof stamp);
	snprintf(stampfile, sizeof stampfile, "%s.stunnel-ok", u->svc->name);
	if (stamp_matches(u->rundir->fd, stampfile, stamp)) {
		sayv(u, "stunnel config %s: unchanged since it was checked",
		    c.path);
		return EXIT_OK;
	}
	unlinkat(u->rundir->fd, stampfile, 0);
	t0 = clock_us();
	if ((rc = run_stunnel(u, path, conf, uid, gid)) != EXIT_OK)
		return rc;
	sayv(u, "stunnel config %s: checked by %s in %.1f ms", c.path, path,
	    (double)(clock_us() - t0) / 1000);
	/* Not remembered: the next start checks again; nothing worse. */
	if (atomic_write_at(u->rundir->fd, u->rundir->path, stampfile, stamp,
	    strlen(stamp), 0644, ATOMIC_CHECK_DIR, &err) < 0)
		sayv(u, "unable to remember the check: %s", err.text);
	return EXIT_OK;
}

int preflight(struct unit *u)
{
	int rc;

	if ((rc = check_directory(u)) != EXIT_OK ||
	    (rc = check_cert(u)) != EXIT_OK)
		return rc;
	return check_stunnel(u);
}
