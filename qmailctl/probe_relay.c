/* probe_relay.c: both ends of the probes run in a qmailctl child
 * (probe_relay.h). */
#include "probe_relay.h"
#include "atomic.h"
#include "cloexec.h"
#include "clock.h"
#include "exitcode.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* On top of an attempt's own deadline: the relay's exec and dynamic
 * linking (libssl, libcrypto) before its first answer. */
#define RELAY_GRACE_MS 500
/* A relay told EOF exits at once; past this it is killed. */
#define RELAY_EXIT_MS 100

/* ---- the parent's end ---- */

static _Noreturn void relay_child(const char *qmailctl, int in, int out)
{
	char *argv[] = { PROBE_PROG, "-s", NULL };
	int null = open("/dev/null", O_WRONLY);
	sigset_t none;

	/* its stderr is not the supervisor's (the service's log) */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	if (null < 0 || dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(null, 2) < 0)
		_exit(111);
	cloexec_all();
	execv(qmailctl, argv);
	/* said as the answer to the first request */
	dprintf(1, "-1 0 0 - -\nunable to run %s: %s\n", qmailctl,
	    strerror(errno));
	_exit(111);
}

int probe_relay_start(struct probe_relay *pr, const char *qmailctl,
    struct err *e)
{
	int in[2], out[2];
	pid_t pid;

	memset(pr, 0, sizeof *pr);
	pr->to = pr->from = -1;
	if (pipe2(in, O_CLOEXEC) < 0)
		return err_sys(e, "unable to create a pipe");
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return err_sys(e, "unable to create a pipe");
	}
	pid = fork();
	if (pid == 0)
		relay_child(qmailctl, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return err_sys(e, "unable to fork");
	}
	pr->pid = pid;
	pr->to = in[1];
	pr->from = out[0];
	return 0;
}

void probe_relay_end(struct probe_relay *pr)
{
	struct pollfd pf;
	long long until = clock_ms() + RELAY_EXIT_MS;
	char sink[256];

	if (pr->pid <= 0)
		return;
	close(pr->to);
	pf.fd = pr->from;
	pf.events = POLLIN;
	while (clock_left(until) > 0 && poll(&pf, 1, clock_left(until)) > 0 &&
	    read(pr->from, sink, sizeof sink) > 0)
		;
	close(pr->from);
	/* our own child, not reaped yet: its pid is still its own */
	if (waitpid(pr->pid, NULL, WNOHANG) == 0) {
		kill(pr->pid, SIGKILL);
		while (waitpid(pr->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	pr->pid = 0;
	pr->to = pr->from = -1;
}

/* The next line from the relay into line, by deadline.  -1 with why. */
static int read_line(struct probe_relay *pr, long long deadline, char *line,
    size_t size, const char **why)
{
	struct pollfd pf = { pr->from, POLLIN, 0 };
	char *nl;
	ssize_t n;

	while (!(nl = memchr(pr->buf, '\n', pr->len))) {
		if (pr->len == sizeof pr->buf) {
			*why = "sent a line too long";
			return -1;
		}
		if (poll(&pf, 1, clock_left(deadline)) == 0) {
			*why = "gave no answer in time";
			return -1;
		}
		n = read(pr->from, pr->buf + pr->len, sizeof pr->buf - pr->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			*why = "exited";
			return -1;
		}
		pr->len += (size_t)n;
	}
	*nl = 0;
	snprintf(line, size, "%s", pr->buf);
	pr->len -= (size_t)(nl + 1 - pr->buf);
	memmove(pr->buf, nl + 1, pr->len);
	return 0;
}

/* The result of one request into r; its RC, or -2 with why. */
static int read_result(struct probe_relay *pr, long long deadline,
    struct probe_result *r, const char **why)
{
	char line[sizeof pr->buf], version[sizeof r->tls.version],
	    cipher[sizeof r->tls.cipher];
	int rc;

	if (read_line(pr, deadline, line, sizeof line, why) < 0)
		return -2;
	if (sscanf(line, "%d %d %d %15s %63s", &rc, &r->refused,
	    &r->tls.name_match, version, cipher) != 5 || (rc != 0 && rc != -1)) {
		*why = "sent what is no result";
		return -2;
	}
	if (strcmp(version, "-"))
		snprintf(r->tls.version, sizeof r->tls.version, "%s", version);
	if (strcmp(cipher, "-"))
		snprintf(r->tls.cipher, sizeof r->tls.cipher, "%s", cipher);
	if (rc == -1 && read_line(pr, deadline, r->err.text,
	    sizeof r->err.text, why) < 0)
		return -2;
	return rc;
}

/* A field of a request may hold neither a tab nor a newline. */
static int plain(const char *s)
{
	return !s || !strpbrk(s, "\t\n");
}

int probe_relay_ask(struct probe_relay *pr, const struct probe *p,
    long timeout_ms, const char *certname, struct probe_result *r)
{
	const char *kind = probe_kind_name(p->kind), *why;
	long long deadline = clock_ms() + timeout_ms + RELAY_GRACE_MS;
	char req[2048], where[300];
	int n, rc;

	memset(r, 0, sizeof *r);
	net_where(where, sizeof where, p->host, p->port);
	if (!kind || !plain(p->host) || !plain(p->port) || !plain(p->expect) ||
	    !plain(certname))
		return err_set(&r->err, "probe %s: a tab or newline in it: "
		    "cannot be sent to " PROBE_PROG, where);
	n = snprintf(req, sizeof req, "%s\t%s\t%s\t%ld\t%s%s\t%s%s\n", kind,
	    p->host, p->port, timeout_ms, p->expect ? "+" : "",
	    p->expect ? p->expect : "", certname ? "+" : "",
	    certname ? certname : "");
	if (n < 0 || (size_t)n >= sizeof req)
		return err_set(&r->err, "probe %s: too long to be sent to "
		    PROBE_PROG, where);
	if (write_all(pr->to, req, (size_t)n) < 0)
		why = "exited";
	else if ((rc = read_result(pr, deadline, r, &why)) != -2)
		return rc;
	probe_relay_end(pr);
	memset(r, 0, sizeof *r);
	return err_set(&r->err, "probe %s: " PROBE_PROG " %s", where, why);
}

/* ---- the child's end ---- */

/* KIND HOST PORT TIMEOUT_MS [+EXPECT] [+CERTNAME], tab-separated, into
 * p; 0, or -1. */
static int parse_request(char *line, struct probe *p, long *timeout_ms,
    const char **certname)
{
	char *f[6], *end;
	int i;

	for (i = 0; i < 6; i++)
		if (!(f[i] = strsep(&line, "\t")))
			return -1;
	if (line || probe_kind_parse(f[0], &p->kind) < 0)
		return -1;
	p->host = f[1];
	p->port = f[2];
	errno = 0;
	*timeout_ms = strtol(f[3], &end, 10);
	if (errno || *end || *timeout_ms <= 0)
		return -1;
	p->expect = f[4][0] == '+' ? f[4] + 1 : NULL;
	*certname = f[5][0] == '+' ? f[5] + 1 : NULL;
	return (f[4][0] && f[4][0] != '+') || (f[5][0] && f[5][0] != '+') ?
	    -1 : 0;
}

int probe_relay_main(int argc, char **argv)
{
	char line[2048];
	struct probe p;
	struct probe_result r;
	const char *certname;
	long timeout_ms;
	int rc;

	if (argc != 2 || strcmp(argv[1], "-s")) {
		warn("usage: " PROBE_PROG " -s (requests on stdin, see "
		    "probe_relay.h)");
		return EXIT_USAGE;
	}
	/* the answer first: the goodbye is said after it, once the
	 * supervisor has moved on (it asks again, or it has recorded the
	 * service up and ends us: EOF), so that the server's QUIT never
	 * comes before its state says up */
	probe_prepare(NULL);
	while (fgets(line, sizeof line, stdin)) {
		probe_goodbye();
		line[strcspn(line, "\n")] = 0;
		if (parse_request(line, &p, &timeout_ms, &certname) < 0) {
			warn("a request it cannot read");
			return EXIT_USAGE;
		}
		rc = probe_once(&p, timeout_ms, certname, &r);
		printf("%d %d %d %s %s\n", rc, r.refused, r.tls.name_match,
		    r.tls.version[0] ? r.tls.version : "-",
		    r.tls.cipher[0] ? r.tls.cipher : "-");
		if (rc < 0)
			printf("%s\n", r.err.text);
		if (fflush(stdout) != 0)
			break;
	}
	probe_finish();
	probe_cleanup();
	return EXIT_OK;
}
