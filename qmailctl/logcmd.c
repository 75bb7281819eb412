/* logcmd.c: qmailctl log [-f] [-n N] [SERVICE ...].
 *
 * The last N lines of each service's multilog log: of current, and of the
 * rotated files before it (@TAI64N.s, .u) when current holds fewer.
 * multilog's t stamps are shown in local time as tai64nlocal(8) shows
 * them; with several services, every line is prefixed with its service's
 * name and the services' lines are interleaved by their stamps.  -f then
 * prints what multilog appends as it comes, across its rotations (current
 * renamed to @TAI64N.s, a new current made), until SIGINT or SIGTERM.
 *
 * The log directory is the logger's user's: every file in it is opened
 * through multilog.c's rules, and every line is printed through the one
 * writer, which escapes what is not printable ASCII. */
#include "logcmd.h"
#include "multilog.h"
#include "conf.h"
#include "exitcode.h"
#include "msg.h"
#include "report.h"
#include "watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* What is kept of one line; the rest of a longer one is dropped, with a
 * warning (multilog itself writes lines of any length). */
#define LOG_LINE_MAX 4000
/* A line as printed: its bytes escaped (4 for 1 at worst), the stamp in
 * local time. */
#define SHOWN_MAX (4 * LOG_LINE_MAX + 64)
/* How long -f sleeps without a wakeup: with inotify, a look now and then
 * in case an event was lost; without it, the only way to see a change. */
#define WATCHED_MS 5000
#define UNWATCHED_MS 1000

struct line {
	struct tai64n at;       /* its stamp, or its log's last one before it */
	char *text;             /* as shown */
};

/* A line being gathered from the bytes of a file. */
struct splitter {
	char buf[LOG_LINE_MAX];
	size_t n;
	int cut;                /* the line went on past LOG_LINE_MAX */
};

/* One service's log. */
struct log {
	const struct unit *u;
	int dir;                /* the log directory, held open; -1: none */
	char path[PATH_MAX];    /* its path, for messages */
	struct line *lines;     /* the last lines, oldest first */
	size_t nlines, next;    /* next: where the merge stands */
	struct tai64n last;     /* the last stamp seen */
	struct splitter sp;
	const char *file;       /* the name of the file being read in it */
	int warned_cut;         /* the warning for a cut line was given */
	/* -f: the current file being followed */
	int fd;                 /* -1: none yet */
	dev_t dev;
	ino_t ino;
	off_t off;              /* read up to here */
	int refused;            /* its last open failed, and that was said */
	int prefix;             /* lines are shown with the service's name */
};

/* A line as shown: a leading TAI64N stamp as tai64nlocal prints it
 * ("2026-12-03 09:30:00.123456789"), the rest escaped. */
static void show_line(struct log *lg, const char *raw, size_t n, char *out,
    size_t size)
{
	struct tai64n t;
	struct tm tm;
	size_t o = 0, stamp = multilog_stamp(raw, n, &t);
	time_t secs;

	if (stamp) {
		secs = (time_t)(t.secs - TAI64_UNIX_EPOCH);
		if (localtime_r(&secs, &tm)) {
			o = strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
			o += (size_t)snprintf(out + o, size - o, ".%09lu",
			    t.nano);
			lg->last = t;
		} else
			stamp = 0;
	}
	msg_escape(out + o, size - o, raw + stamp, n - stamp);
}

static void print_shown(const struct log *lg, const char *text)
{
	if (lg->prefix)
		msg_line(1, lg->u->svc->name, NULL, "%s", text);
	else
		msg_text(1, "%s", text);
}

/* Feeds n bytes of a file to lg's splitter; each line that ends is
 * handed to done (without its newline). */
static void split(struct log *lg, const char *p, size_t n,
    void (*done)(struct log *, const char *, size_t))
{
	struct splitter *sp = &lg->sp;
	const char *nl;
	size_t take;

	while (n > 0) {
		nl = memchr(p, '\n', n);
		take = nl ? (size_t)(nl - p) : n;
		if (take > sizeof sp->buf - sp->n) {
			memcpy(sp->buf + sp->n, p, sizeof sp->buf - sp->n);
			sp->n = sizeof sp->buf;
			sp->cut = 1;
		} else {
			memcpy(sp->buf + sp->n, p, take);
			sp->n += take;
		}
		if (!nl)
			return;
		done(lg, sp->buf, sp->n);
		sp->n = 0;
		sp->cut = 0;
		p = nl + 1;
		n -= take + 1;
	}
}

/* A line without its newline: the last of a file that ends without one. */
static void split_end(struct log *lg,
    void (*done)(struct log *, const char *, size_t))
{
	if (lg->sp.n > 0 || lg->sp.cut)
		done(lg, lg->sp.buf, lg->sp.n);
	lg->sp.n = 0;
	lg->sp.cut = 0;
}

static void warn_cut(struct log *lg)
{
	if (!lg->sp.cut || lg->warned_cut)
		return;
	lg->warned_cut = 1;
	msg_line(2, lg->u->svc->name, "warning", "%s/%s: a line of more than "
	    "%d bytes, shown cut there", lg->path, lg->file, LOG_LINE_MAX);
}

static void keep_line(struct log *lg, const char *raw, size_t n)
{
	char shown[SHOWN_MAX];

	warn_cut(lg);
	show_line(lg, raw, n, shown, sizeof shown);
	lg->lines = xrealloc(lg->lines, (lg->nlines + 1) * sizeof *lg->lines);
	lg->lines[lg->nlines].at = lg->last;
	lg->lines[lg->nlines++].text = xstrdup(shown);
}

static void print_line(struct log *lg, const char *raw, size_t n)
{
	char shown[SHOWN_MAX];

	warn_cut(lg);
	show_line(lg, raw, n, shown, sizeof shown);
	print_shown(lg, shown);
}

/* Reads [from, end) of fd through the splitter; -1 on a read error. */
static int read_range(struct log *lg, int fd, off_t from, off_t end,
    void (*done)(struct log *, const char *, size_t))
{
	char buf[65536];
	ssize_t r;
	size_t want;

	while (from < end) {
		want = end - from < (off_t)sizeof buf ? (size_t)(end - from) :
		    sizeof buf;
		if ((r = pread(fd, buf, want, from)) <= 0)
			return r < 0 ? -1 : 0;
		split(lg, buf, (size_t)r, done);
		from += r;
	}
	return 0;
}

/* Where the last *want lines of [0, end) begin, going back from end in
 * blocks; *want is lowered by the lines found (a file that holds fewer
 * gives them all, from 0). */
static off_t lines_back(int fd, off_t end, size_t *want)
{
	char buf[8192];
	off_t pos = end, at;
	ssize_t r, i;
	int first = 1;

	if (*want == 0)
		return end;
	while (pos > 0) {
		at = pos > (off_t)sizeof buf ? pos - (off_t)sizeof buf : 0;
		if ((r = pread(fd, buf, (size_t)(pos - at), at)) <= 0)
			break;
		for (i = r - 1; i >= 0; i--) {
			/* The newline that ends the last line begins no
			 * line. */
			if (first) {
				first = 0;
				if (buf[i] == '\n')
					continue;
			}
			if (buf[i] == '\n' && --*want == 0)
				return at + i + 1;
		}
		pos = at;
	}
	if (!first)
		--*want;        /* the first line of the file */
	return 0;
}

/* With -f, current is shown up to its last newline: the line multilog is
 * still writing is printed when it ends. */
static off_t complete_end(int fd, off_t size)
{
	char buf[8192];
	off_t pos = size, at;
	ssize_t r, i;

	while (pos > 0) {
		at = pos > (off_t)sizeof buf ? pos - (off_t)sizeof buf : 0;
		if ((r = pread(fd, buf, (size_t)(pos - at), at)) <= 0)
			return 0;
		for (i = r - 1; i >= 0; i--)
			if (buf[i] == '\n')
				return at + i + 1;
		pos = at;
	}
	return 0;
}

/* A failure for the service: its line, and the exit code it gives. */
static int failed(struct log *lg, const struct err *e, int code)
{
	sayerr(lg->u, "%s", e->text);
	return code;
}

static int open_code(void)
{
	return errno == EACCES || errno == EPERM ? EXIT_PRIVILEGE :
	    EXIT_FAILED;
}

/* A file the last lines come from, open, and the part of it they are. */
struct pick {
	int fd;
	off_t from, end;
};

/* The last lines of lg, into lg->lines: of current, then of the rotated
 * files before it while fewer than want were found.  Keeps current open
 * for -f. */
static int read_tail(struct log *lg, size_t want, int follow)
{
	const struct service *svc = lg->u->svc;
	struct pick *picks;
	struct stat st;
	struct err e;
	char **rot;
	size_t nrot, np = 0, i;
	int fd, rc = EXIT_OK;

	if ((fd = multilog_file_open(svc, lg->dir, "current", &st, &e)) < 0) {
		lg->refused = 1;        /* -f says it again only if it changes */
		return failed(lg, &e, open_code());
	}
	rot = multilog_rotated(lg->dir);
	for (nrot = 0; rot[nrot]; nrot++)
		;
	picks = xcalloc(nrot + 1, sizeof *picks);
	picks[0].fd = fd;
	picks[0].end = follow ? complete_end(fd, st.st_size) : st.st_size;
	picks[0].from = lines_back(fd, picks[0].end, &want);
	lg->fd = fd;
	lg->dev = st.st_dev;
	lg->ino = st.st_ino;
	lg->off = picks[0].end;
	for (np = 1; want > 0 && np <= nrot; np++) {
		/* A rotated file that is not to be trusted ends the tail
		 * there: what is before it is older still. */
		fd = multilog_file_open(svc, lg->dir, rot[nrot - np], &st, &e);
		if (fd < 0) {
			rc = failed(lg, &e, open_code());
			break;
		}
		picks[np].fd = fd;
		picks[np].end = st.st_size;
		picks[np].from = lines_back(fd, st.st_size, &want);
	}
	/* Oldest first; each file's last line is complete at its end. */
	for (i = np; i-- > 0; ) {
		lg->file = i ? rot[nrot - i] : "current";
		if (read_range(lg, picks[i].fd, picks[i].from, picks[i].end,
		    keep_line) < 0) {
			err_sys(&e, "unable to read %s/%s", lg->path,
			    lg->file);
			rc = failed(lg, &e, EXIT_FAILED);
		}
		split_end(lg, keep_line);
		if (i > 0)
			close(picks[i].fd);
	}
	free(picks);
	lg->file = "current";
	for (i = 0; i < nrot; i++)
		free(rot[i]);
	free(rot);
	return rc;
}

/* Opens lg's directory; the code of its failure, else EXIT_OK. */
static int open_log(struct log *lg)
{
	const struct service *svc = lg->u->svc;
	struct err e;

	multilog_dir_path(svc, lg->path, sizeof lg->path);
	if ((lg->dir = multilog_dir_open(svc, &e)) >= 0)
		return EXIT_OK;
	if (!svc->log || !svc->multilog.found || !svc->multilog.dir)
		return failed(lg, &e, EXIT_CONFIG);
	return failed(lg, &e, open_code());
}

/* The services' last lines, oldest first, by their stamps; a log's own
 * lines keep their order (a stamp that goes back stays where it is). */
static void print_merged(struct log *logs, size_t n)
{
	struct log *best;
	const struct line *a, *b;
	size_t i;

	for (;;) {
		best = NULL;
		for (i = 0; i < n; i++) {
			if (logs[i].next >= logs[i].nlines)
				continue;
			a = &logs[i].lines[logs[i].next];
			b = best ? &best->lines[best->next] : NULL;
			if (!b || a->at.secs < b->at.secs ||
			    (a->at.secs == b->at.secs && a->at.nano <
			    b->at.nano))
				best = &logs[i];
		}
		if (!best)
			return;
		print_shown(best, best->lines[best->next].text);
		free(best->lines[best->next++].text);
	}
}

/* -f: what was appended to the current file lg holds. */
static void drain(struct log *lg)
{
	struct stat st;
	struct err e;

	if (fstat(lg->fd, &st) == 0 && st.st_size < lg->off) {
		lg->off = 0;    /* cut back: read again from its start */
		lg->sp.n = 0;
		lg->sp.cut = 0;
	}
	if (fstat(lg->fd, &st) < 0 || st.st_size <= lg->off)
		return;
	if (read_range(lg, lg->fd, lg->off, st.st_size, print_line) < 0) {
		err_sys(&e, "unable to read %s/current", lg->path);
		sayerr(lg->u, "%s", e.text);
		return;
	}
	lg->off = st.st_size;
}

/* -f: prints what is new in lg, and moves to the new current when
 * multilog has rotated: the old one (now @TAI64N.s) is read to its end
 * first, for it is complete once renamed. */
static void catch_up(struct log *lg)
{
	struct stat st;
	struct err e;
	int fd;

	if (lg->fd >= 0)
		drain(lg);
	/* The name still the file held: nothing more to do (the look is
	 * only a hint; what is read comes through the fd the rules let
	 * through, and the rules' getpwnam() stays out of every wakeup). */
	if (lg->fd >= 0 && fstatat(lg->dir, "current", &st,
	    AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == lg->dev &&
	    st.st_ino == lg->ino)
		return;
	fd = multilog_file_open(lg->u->svc, lg->dir, "current", &st, &e);
	if (fd < 0) {
		/* Between multilog's rename and its new current there is
		 * none for a moment; anything else is said once. */
		if (fstatat(lg->dir, "current", &st, AT_SYMLINK_NOFOLLOW) < 0 &&
		    errno == ENOENT)
			return;
		if (!lg->refused)
			sayerr(lg->u, "%s", e.text);
		lg->refused = 1;
		return;
	}
	lg->refused = 0;
	if (lg->fd >= 0 && st.st_dev == lg->dev && st.st_ino == lg->ino) {
		close(fd);
		return;
	}
	if (lg->fd >= 0) {
		drain(lg);
		split_end(lg, print_line);
		close(lg->fd);
	}
	lg->fd = fd;
	lg->dev = st.st_dev;
	lg->ino = st.st_ino;
	lg->off = 0;
	drain(lg);
}

static volatile sig_atomic_t stop_signal;

static void on_stop(int sig)
{
	stop_signal = sig;
}

/* -f until SIGINT or SIGTERM.  The signals are blocked but while ppoll
 * waits, so one that comes between a look and the wait still ends it.
 * Also until the reader of a piped stdout has gone (POLLERR on it, asked
 * with no events: a file or a terminal never gives it), since SIGPIPE is
 * ignored and `qmailctl log -f | head` would otherwise never end. */
static void follow(struct log *logs, size_t n)
{
	struct sigaction sa;
	sigset_t block, waiting;
	struct pollfd pfd[2];
	struct timespec ts;
	size_t i;
	int wfd = watch_open();

	for (i = 0; i < n && wfd >= 0; i++)
		if (logs[i].dir >= 0 && watch_dir(wfd, logs[i].path) < 0) {
			close(wfd);
			wfd = -1;
		}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waiting);
	sigdelset(&waiting, SIGINT);
	sigdelset(&waiting, SIGTERM);
	pfd[0].fd = 1;
	pfd[0].events = 0;
	pfd[1].fd = wfd;
	pfd[1].events = POLLIN;
	while (!stop_signal) {
		for (i = 0; i < n; i++)
			if (logs[i].dir >= 0)
				catch_up(&logs[i]);
		ts.tv_sec = (wfd >= 0 ? WATCHED_MS : UNWATCHED_MS) / 1000;
		ts.tv_nsec = 0;
		pfd[0].revents = pfd[1].revents = 0;
		if (ppoll(pfd, wfd >= 0 ? 2 : 1, &ts, &waiting) <= 0)
			continue;
		if (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			break;
		if (pfd[1].revents)
			watch_drain(wfd);
	}
	if (wfd >= 0)
		close(wfd);
}

int log_run(struct unit *units, size_t n, const struct opts *o)
{
	struct log *logs = xcalloc(n, sizeof *logs);
	size_t want = o->lines < 0 ? LOG_LINES_DEFAULT : (size_t)o->lines, i;
	int worst = EXIT_OK, rc, live = 0;

	for (i = 0; i < n; i++) {
		logs[i].u = &units[i];
		logs[i].fd = -1;
		logs[i].file = "current";
		logs[i].prefix = n > 1;
		if ((rc = open_log(&logs[i])) == EXIT_OK)
			rc = read_tail(&logs[i], want, o->follow);
		if (logs[i].dir >= 0)
			live = 1;
		if (rc > worst)
			worst = rc;
	}
	print_merged(logs, n);
	if (o->follow && live)
		follow(logs, n);
	for (i = 0; i < n; i++) {
		if (logs[i].fd >= 0)
			close(logs[i].fd);
		if (logs[i].dir >= 0)
			close(logs[i].dir);
		free(logs[i].lines);
	}
	free(logs);
	return worst;
}
