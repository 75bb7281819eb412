/* race: times one command against the truth, for the benchmark.
 *
 *     race [-T MS] [-K MS] [-o FILE] [-C] [-t KIND,HOST,PORT[,EXPECT]]...
 *          [-p PID]... [-G PGID] -- COMMAND [ARG ...]
 *     race [-T MS] -t KIND,HOST,PORT[,EXPECT]... -k PID
 *
 * t0 is the moment just before COMMAND is forked.  While COMMAND runs,
 * one thread per -t target plays an independent client (its own code, not
 * qmailctl's probe): it connects every millisecond until the service's
 * greeting truly arrives, and notes when.  KIND is
 *
 *     tcp        plain greeting, which must begin with EXPECT
 *     tls        implicit TLS: handshake, then the greeting (EXPECT)
 *     pop3-stls  plaintext +OK greeting, STLS, handshake, NOOP -> +OK
 *
 * -C: the moment COMMAND exits, one fresh connection per target, a single
 *     attempt: did the service serve when the tool said it did?
 * -p PID, -G PGID: once COMMAND exits, how many of these processes (of
 *     this process group) are still alive (zombies count as gone), and
 *     when none is: the -p processes are watched from t0, while COMMAND
 *     runs, so that "gone" may come before the claim (a tool that said
 *     "stopped" late); a -G group is polled only once COMMAND exits, as a
 *     scan of /proc every millisecond would slow the zap it times.
 * -o FILE: COMMAND's stdout and stderr (default /dev/null).
 * -k PID: no COMMAND: t0 is the moment just before PID gets SIGKILL; the
 *     clients start once PID is gone (so that none is served by it), and
 *     "gone" and "ready" say when it was gone and when the service, brought
 *     back by its supervisor, served again.
 * -T MS: bound on every wait for the service (default 5000).
 * -K MS: COMMAND itself is killed (KILL) if it runs longer (default
 *     120000); it is then reported with rc=137.
 *
 * Prints one line of key=value pairs, times in ms from t0 ("NA": never):
 *     rc=0 claim=12.3 ready=10.1 accept=0.9 r0=9.8 r1=10.1 claim_ok=1 live=0 gone=12.4
 * ready: every target has served (the latest first greeting); accept: every
 * target had accepted the connection that was then served (the latest of
 * those connects); rN: target N's first greeting.
 * Exit status 0 when it could measure (whatever COMMAND did), 100 usage,
 * 111 system error. */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tests/fixtures/procstat.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

#define MAX_TARGETS 8
#define MAX_PIDS 256
/* Between two connection attempts of the polling client. */
#define RETRY_US 1000
/* Between two looks at /proc while waiting for processes to go. */
#define GONE_POLL_US 1000
/* One read or write of a client session may wait this long. */
#define IO_TIMEOUT_MS 2000

enum kind { K_TCP, K_TLS, K_POP3_STLS };

struct target {
	enum kind kind;
	struct sockaddr_in sa;
	char expect[64];
	double ready_ms;        /* < 0: not yet */
	double accept_ms;       /* the connect of that first served session */
	int claim_ok;           /* -C: the one attempt after the claim */
	pthread_t th;
};

static struct target targets[MAX_TARGETS];
static int ntargets;
static SSL_CTX *ctx;
static struct timespec t0;
static long long deadline_ns;   /* relative to t0 */
static volatile int stop_polling;

static void die(int code, const char *fmt, ...)
{
	va_list ap;

	fputs("race: fatal: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(code);
}

static long long since_t0_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)(ts.tv_sec - t0.tv_sec) * 1000000000LL +
	    (ts.tv_nsec - t0.tv_nsec);
}

static double ms(long long ns)
{
	return (double)ns / 1e6;
}

/* ---- the independent client ---- */

struct session {
	int fd;
	SSL *ssl;
	char buf[1024];
	size_t len;
};

static int read_line(struct session *s, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - s->buf) + 1;
			size_t c = n < size ? n : size - 1;

			memcpy(line, s->buf, c);
			line[c] = 0;
			memmove(s->buf, s->buf + n, s->len - n);
			s->len -= n;
			return 0;
		}
		if (s->len == sizeof s->buf)
			return -1;
		if (s->ssl)
			r = SSL_read(s->ssl, s->buf + s->len, (int)(sizeof s->buf - s->len));
		else
			r = recv(s->fd, s->buf + s->len, sizeof s->buf - s->len, 0);
		if (r <= 0)
			return -1;
		s->len += (size_t)r;
	}
}

static int say(struct session *s, const char *text)
{
	int n = (int)strlen(text);

	if (s->ssl)
		return SSL_write(s->ssl, text, n) == n ? 0 : -1;
	return send(s->fd, text, (size_t)n, MSG_NOSIGNAL) == n ? 0 : -1;
}

static int handshake(struct session *s)
{
	s->ssl = SSL_new(ctx);
	if (!s->ssl || !SSL_set_fd(s->ssl, s->fd))
		return -1;
	return SSL_connect(s->ssl) == 1 ? 0 : -1;
}

/* One session: 0 when the service served its greeting; then *accepted is
 * when the connection was accepted and *when the moment the greeting (or
 * the answer through TLS) arrived, before our QUIT. */
static int attempt(const struct target *t, long long *accepted, long long *when)
{
	struct timeval tv = { IO_TIMEOUT_MS / 1000, (IO_TIMEOUT_MS % 1000) * 1000 };
	struct session s = { .fd = -1 };
	char line[1024];
	int rc = -1;

	s.fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s.fd < 0)
		return -1;
	setsockopt(s.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(s.fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	if (connect(s.fd, (const struct sockaddr *)&t->sa, sizeof t->sa) < 0)
		goto out;
	*accepted = since_t0_ns();
	switch (t->kind) {
	case K_TCP:
		if (read_line(&s, line, sizeof line) < 0 ||
		    strncmp(line, t->expect, strlen(t->expect)))
			goto out;
		break;
	case K_TLS:
		if (handshake(&s) < 0 || read_line(&s, line, sizeof line) < 0 ||
		    strncmp(line, t->expect, strlen(t->expect)))
			goto out;
		break;
	case K_POP3_STLS:
		if (read_line(&s, line, sizeof line) < 0 || strncmp(line, "+OK", 3) ||
		    say(&s, "STLS\r\n") < 0 ||
		    read_line(&s, line, sizeof line) < 0 || strncmp(line, "+OK", 3) ||
		    handshake(&s) < 0 || say(&s, "NOOP\r\n") < 0 ||
		    read_line(&s, line, sizeof line) < 0 || strncmp(line, "+OK", 3))
			goto out;
		break;
	}
	rc = 0;
	*when = since_t0_ns();
	/* Politely: the program behind exits on QUIT, not on a reset. */
	if (say(&s, "QUIT\r\n") == 0)
		(void)read_line(&s, line, sizeof line);
out:
	if (s.ssl) {
		if (rc == 0)
			SSL_shutdown(s.ssl);
		SSL_free(s.ssl);
	}
	close(s.fd);
	return rc;
}

static void *poller(void *arg)
{
	struct target *t = arg;

	long long accepted, when;

	while (!stop_polling && since_t0_ns() < deadline_ns) {
		if (attempt(t, &accepted, &when) == 0) {
			t->accept_ms = ms(accepted);
			t->ready_ms = ms(when);
			break;
		}
		usleep(RETRY_US);
	}
	return NULL;
}

static void *claim_check(void *arg)
{
	struct target *t = arg;

	long long accepted, when;

	t->claim_ok = attempt(t, &accepted, &when) == 0;
	return NULL;
}

/* ---- processes ---- */

static int live(long pid)
{
	struct procstat ps;

	return procstat_read(pid, &ps) == 0 && !procstat_exited(&ps);
}

static long pids[MAX_PIDS];
static int npids;
static long pgid;

static int count_live(void)
{
	int i, n = 0;

	for (i = 0; i < npids; i++)
		n += live(pids[i]);
	if (pgid > 0) {
		DIR *d = opendir("/proc");
		struct dirent *e;

		if (!d)
			die(111, "unable to open /proc: %s", strerror(errno));
		while ((e = readdir(d))) {
			struct procstat ps;

			if (!isdigit((unsigned char)e->d_name[0]))
				continue;
			if (procstat_read(atol(e->d_name), &ps) == 0 &&
			    ps.pgrp == pgid && !procstat_exited(&ps))
				n++;
		}
		closedir(d);
	}
	return n;
}

/* -p: polls the processes from t0 until none lives; gone_ns: when. */
static long long watch_gone_ns = -1;

static void *gone_watcher(void *arg)
{
	(void)arg;
	while (since_t0_ns() < deadline_ns) {
		if (count_live() == 0) {
			watch_gone_ns = since_t0_ns();
			break;
		}
		usleep(GONE_POLL_US);
	}
	return NULL;
}

/* Waits for the child at most until limit_ns after t0 (event-driven with a
 * pidfd, so the moment of its exit is not blurred), then kills it. */
static void wait_child(pid_t child, int *status, long long limit_ns)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, child, 0);

	if (fd >= 0) {
		for (;;) {
			long long left = limit_ns - since_t0_ns();
			struct pollfd pf = { fd, POLLIN, 0 };
			int r;

			if (left <= 0) {
				kill(child, SIGKILL);
				break;
			}
			r = poll(&pf, 1, (int)(left / 1000000 + 1));
			if (r > 0 || (r < 0 && errno != EINTR))
				break;
		}
		close(fd);
	}
#else
	(void)limit_ns;
#endif
	while (waitpid(child, status, 0) < 0)
		if (errno != EINTR)
			die(111, "waitpid: %s", strerror(errno));
}

/* ---- main ---- */

static void add_target(char *spec)
{
	struct target *t;
	char *kind = strtok(spec, ","), *host = strtok(NULL, ","),
	    *port = strtok(NULL, ","), *expect = strtok(NULL, ",");

	if (ntargets == MAX_TARGETS)
		die(100, "at most %d targets", MAX_TARGETS);
	if (!kind || !host || !port)
		die(100, "target: KIND,HOST,PORT[,EXPECT]");
	t = &targets[ntargets++];
	if (!strcmp(kind, "tcp"))
		t->kind = K_TCP;
	else if (!strcmp(kind, "tls"))
		t->kind = K_TLS;
	else if (!strcmp(kind, "pop3-stls"))
		t->kind = K_POP3_STLS;
	else
		die(100, "unknown target kind %s", kind);
	t->sa.sin_family = AF_INET;
	t->sa.sin_port = htons((unsigned short)atoi(port));
	if (inet_pton(AF_INET, host, &t->sa.sin_addr) != 1)
		die(100, "not an IPv4 address: %s", host);
	snprintf(t->expect, sizeof t->expect, "%s", expect ? expect : "");
	t->ready_ms = -1;
}

static void print_ms(const char *key, double v)
{
	if (v < 0)
		printf(" %s=NA", key);
	else
		printf(" %s=%.1f", key, v);
}

/* -k: SIGKILL of a server, then how long until the service serves again. */
static int kill_and_time(long victim)
{
	double gone_ms = -1, ready_ms = 0;
	int i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (kill((pid_t)victim, SIGKILL) < 0)
		die(111, "unable to kill %ld: %s", victim, strerror(errno));
	while (since_t0_ns() < deadline_ns && live(victim))
		usleep(GONE_POLL_US);
	if (!live(victim))
		gone_ms = ms(since_t0_ns());
	for (i = 0; i < ntargets; i++)
		if (pthread_create(&targets[i].th, NULL, poller, &targets[i]))
			die(111, "unable to start a thread");
	for (i = 0; i < ntargets; i++) {
		pthread_join(targets[i].th, NULL);
		if (targets[i].ready_ms < 0)
			ready_ms = -1;
		else if (ready_ms >= 0 && targets[i].ready_ms > ready_ms)
			ready_ms = targets[i].ready_ms;
	}
	printf("rc=0");
	print_ms("gone", gone_ms);
	print_ms("ready", ready_ms);
	putchar('\n');
	return 0;
}

int main(int argc, char **argv)
{
	const char *out = "/dev/null";
	long timeout_ms = 5000, kill_ms = 120000;
	int opt, i, status, claim = 0, nlive = 0;
	double claim_ms, ready_ms = 0, accept_ms = 0, gone_ms = -1;
	long victim = 0;
	pid_t child;
	pthread_t watcher;

	while ((opt = getopt(argc, argv, "+T:K:o:Ct:p:G:k:")) != -1) {
		switch (opt) {
		case 'T': timeout_ms = atol(optarg); break;
		case 'K': kill_ms = atol(optarg); break;
		case 'o': out = optarg; break;
		case 'C': claim = 1; break;
		case 't': add_target(optarg); break;
		case 'p':
			if (npids == MAX_PIDS)
				die(100, "at most %d pids", MAX_PIDS);
			pids[npids++] = atol(optarg);
			break;
		case 'G': pgid = atol(optarg); break;
		case 'k': victim = atol(optarg); break;
		default: die(100, "usage: race [-T MS] [-K MS] [-o FILE] [-C] "
			    "[-t KIND,HOST,PORT[,EXPECT]]... [-p PID]... [-G PGID] "
			    "(-- COMMAND... | -k PID)");
		}
	}
	if (optind >= argc && victim <= 0)
		die(100, "no command");
	signal(SIGPIPE, SIG_IGN);
	if (ntargets) {
		ctx = SSL_CTX_new(TLS_client_method());
		if (!ctx)
			die(111, "unable to make a TLS context");
		SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	}
	deadline_ns = (long long)timeout_ms * 1000000LL;
	if (victim > 0)
		return kill_and_time(victim);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < ntargets; i++)
		if (pthread_create(&targets[i].th, NULL, poller, &targets[i]))
			die(111, "unable to start a thread");
	if (npids && pgid <= 0 && pthread_create(&watcher, NULL, gone_watcher, NULL))
		die(111, "unable to start a thread");
	child = fork();
	if (child < 0)
		die(111, "unable to fork: %s", strerror(errno));
	if (child == 0) {
		int fd = open(out, O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(111);
		signal(SIGPIPE, SIG_DFL);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	wait_child(child, &status, (long long)kill_ms * 1000000LL);
	claim_ms = ms(since_t0_ns());

	if (claim) {
		pthread_t th[MAX_TARGETS];

		for (i = 0; i < ntargets; i++)
			pthread_create(&th[i], NULL, claim_check, &targets[i]);
		for (i = 0; i < ntargets; i++)
			pthread_join(th[i], NULL);
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* A failed start will never serve: do not wait for it. */
		int any = 0;

		for (i = 0; i < ntargets; i++)
			any |= targets[i].ready_ms >= 0;
		if (!any)
			stop_polling = 1;
	}
	if (npids && pgid <= 0) {
		nlive = count_live();
		pthread_join(watcher, NULL);
		if (watch_gone_ns >= 0)
			gone_ms = ms(watch_gone_ns);
	} else if (pgid > 0) {
		nlive = count_live();
		if (nlive == 0)
			gone_ms = claim_ms;
		else
			while (since_t0_ns() < deadline_ns) {
				usleep(GONE_POLL_US);
				if (count_live() == 0) {
					gone_ms = ms(since_t0_ns());
					break;
				}
			}
	}
	for (i = 0; i < ntargets; i++) {
		pthread_join(targets[i].th, NULL);
		if (targets[i].ready_ms < 0)
			ready_ms = accept_ms = -1;
		else if (ready_ms >= 0) {
			if (targets[i].ready_ms > ready_ms)
				ready_ms = targets[i].ready_ms;
			if (targets[i].accept_ms > accept_ms)
				accept_ms = targets[i].accept_ms;
		}
	}

	printf("rc=%d", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	print_ms("claim", claim_ms);
	if (ntargets) {
		print_ms("ready", ready_ms);
		print_ms("accept", accept_ms);
		for (i = 0; i < ntargets; i++) {
			char key[8];

			snprintf(key, sizeof key, "r%d", i);
			print_ms(key, targets[i].ready_ms);
		}
	}
	if (claim) {
		int ok = 1;

		for (i = 0; i < ntargets; i++)
			ok &= targets[i].claim_ok;
		printf(" claim_ok=%d", ok);
	}
	if (npids || pgid > 0) {
		printf(" live=%d", nlive);
		print_ms("gone", gone_ms);
	}
	putchar('\n');
	return 0;
}
