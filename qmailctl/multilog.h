/* multilog.h: the one reader of the logger's argv, and the reader of what
 * the logger wrote.
 *
 * A service's log line is read once, when the service is loaded, into a
 * struct multilog kept in the service (conf.h):
 *
 *     log = setuidgid qmaill multilog t s1000000 n20 /var/log/qmail/smtp
 *
 * runs multilog (through the chain-loaders, chain.h) as qmaill, logging
 * into /var/log/qmail/smtp: multilog's script takes the first argument
 * that starts with '.' or '/' as its (first) log directory.
 *
 * When a start fails, the last line the server wrote during that start is
 * the best explanation there is.  It is read from LOGDIR/current, which
 * belongs to the logger's user, not to root: it is opened without
 * following a symlink, must be a regular file owned by that user or root,
 * and only its last few KiB are read (a FIFO or a symlink gives nothing,
 * and never blocks).  The same rules open every file the log command
 * reads (logcmd.c: current and the rotated @TAI64N.s files), and status -v
 * shows the last line through multilog_tail(). */
#ifndef QMAILCTL_MULTILOG_H
#define QMAILCTL_MULTILOG_H

#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "err.h"
#include "peers.h"


/* Reads a log line.  Returns 0 with m->found 0 when it does not run
 * multilog; -1 with e filled when a chain-loader in it lacks an argument. */
int multilog_read(char *const *argv, struct multilog *m, struct err *e);

struct service;

/* Fills svc->multilog (nothing to do without a log line); on failure e
 * names the line ("FILE:LINE: log: setuidgid: no program to run"). */
int multilog_load(struct service *svc, struct err *e);

/* The log directory's path, for messages and checks: the first log
 * directory, relative to the service's directory when written so.  1, or
 * 0 (and "") when the logger is not multilog or names no directory. */
int multilog_dir_path(const struct service *svc, char *buf, size_t size);

/* The log directory, open (its last component not followed); -1 with e
 * saying why: no log line, a logger that is not multilog, no directory,
 * or the open's error.  e may be NULL. */
int multilog_dir_open(const struct service *svc, struct err *e);

/* NAME in the log directory dir, open for reading under the rules above
 * (no symlink, a regular file with one link, the logger's user's or
 * root's), its stat in st; -1 with e naming the path and why, and errno
 * the open's (ELOOP: a symlink) or EINVAL for a file the rules refuse. */
int multilog_file_open(const struct service *svc, int dir, const char *name,
    struct stat *st, struct err *e);

/* The names of multilog's rotated files in dir (@TAI64N.s, @TAI64N.u),
 * oldest first, NULL-terminated; free each and the array. */
char **multilog_rotated(int dir);

/* A TAI64N label: seconds since 1970 plus 2^62 + 10 (multilog's t stamps
 * them so, and tai64nlocal reads them back so), and nanoseconds. */
#define TAI64_UNIX_EPOCH 4611686018427387914ULL
struct tai64n {
	unsigned long long secs;
	unsigned long nano;
};

/* The length of multilog's t stamp at the start of line[0..n) ("@" and
 * 24 lower-case hex digits: 25), with t filled unless NULL; 0 when the
 * line does not start with one. */
size_t multilog_stamp(const char *line, size_t n, struct tai64n *t);

/* Where the current file stood before a start, so that only what was
 * written during the start is shown. */
struct log_mark {
	int known;              /* a current file was there */
	dev_t dev;
	ino_t ino;
	off_t size;
};

/* Notes the size of LOGDIR/current now (known 0 if there is none). */
void multilog_mark(const struct service *svc, struct log_mark *mark);

/* The last line written to LOGDIR/current since mark (all of a new file
 * if multilog rotated it), without multilog's t time stamp, into buf; ""
 * if there is none or the file is not one to trust. */
void multilog_tail(const struct service *svc, const struct log_mark *mark,
    char *buf, size_t size);

/* The logger's own stderr during a start.  Its error (multilog's "unable
 * to open directory", setuidgid's "unknown account") is the reason a start
 * fails when the logger exits, so it is kept while the start is being
 * confirmed: in a memory file, not a pipe, because the logger lives on
 * after qmailctl has gone, and a pipe without a reader would kill it by
 * SIGPIPE at its next warning.  The file is sealed against growing from
 * the start (64 KiB at most are kept); afterwards it is emptied: what the
 * logger writes later is refused (as it was lost in /dev/null before),
 * and nothing accumulates.
 *
 * logger_stderr_open: the fd to give the logger as its stderr, -1 for
 * /dev/null when the system has no memfd.  logger_stderr_line: its last
 * line, escaped, into buf ("" if none).  logger_stderr_close: the sealing
 * and closing; fd may be -1. */
int logger_stderr_open(void);
void logger_stderr_line(int fd, char *buf, size_t size);
void logger_stderr_close(int fd);

#endif
