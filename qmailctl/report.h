/* report.h: what a command prints about one service, one line per call,
 * through the one writer (msg.h), so lines of concurrent workers never
 * mix and nothing from outside reaches the terminal raw:
 *   say:    "NAME: text" on stdout, unless -q
 *   sayv:   the same, only with -v
 *   sayerr: "NAME: failed: text" on stderr, always
 * and the formats for people those lines use. */
#ifndef QMAILCTL_REPORT_H
#define QMAILCTL_REPORT_H

#include <stddef.h>

#include "unit.h"

void say(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sayv(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sayerr(const struct unit *u, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "4 ms", "2.5 s", "3m02s": a duration for people. */
char *fmt_duration(char *buf, size_t size, double seconds);

/* Describes an exit status from waitpid: "exited 111", "killed by SIGKILL". */
char *fmt_wstatus(char *buf, size_t size, int wstatus);

/* "TERM" for SIGTERM (as sigabbrev_np), "?" when unknown. */
const char *sig_name(int sig);

#endif
