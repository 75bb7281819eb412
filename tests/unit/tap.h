/* tap.h: the TAP helpers every unit test uses.
 *
 * Each unit test is its own program and includes this once, so the
 * counters and helpers are static; they are static inline so that a test
 * that does not use one of them builds without a warning.
 *
 *     ok(cond, "a %s", "description")   "ok N - ..." or "not ok N - ..."
 *     skip(desc, why)                    "ok N - desc # SKIP why"
 *     diag(what, text)                   "# what: text" (nothing if empty)
 *     is_str(got, want, desc)            ok(), with got and want on failure
 *     diag_got(desc, got, want)          the same lines, after an ok(0, ...)
 *     is_long(got, want, desc)
 *     bail_out("cannot %s", "go on")     "Bail out! ...", exit 1
 *     make_tmpdir(buf, size, "cert")     a fresh /tmp/qmailctl-cert-XXXXXX
 *     rm_tree(dir)                       removes a fixture directory
 *     return done_testing();             "1..N"; exit status 1 on a failure
 *
 * Every line is flushed at once: tests fork, and a child must not print
 * its parent's buffered lines a second time. */
#ifndef QMAILCTL_TAP_H
#define QMAILCTL_TAP_H

#include <errno.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int tap_n, tap_failed;

/* The rest of a line, after its prefix. */
static inline void tap_vline(const char *fmt, va_list ap)
{
	vprintf(fmt, ap);
	printf("\n");
	fflush(stdout);
}

__attribute__((format(printf, 2, 3)))
static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	tap_vline(fmt, ap);
	va_end(ap);
	if (!cond)
		tap_failed++;
	return cond;
}

static inline void skip(const char *desc, const char *why)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, desc, why);
	fflush(stdout);
}

static inline void diag(const char *what, const char *text)
{
	if (text && *text)
		printf("# %s: %s\n", what, text);
	fflush(stdout);
}

/* What a failed comparison got and wanted, NULL shown as "(null)". */
static inline void diag_got(const char *desc, const char *got,
    const char *want)
{
	printf("#   %s\n#     got: %s\n#    want: %s\n", desc,
	    got ? got : "(null)", want ? want : "(null)");
	fflush(stdout);
}

static inline int is_str(const char *got, const char *want, const char *desc)
{
	int same = (!got && !want) || (got && want && strcmp(got, want) == 0);

	if (!ok(same, "%s", desc))
		diag_got(desc, got, want);
	return same;
}

static inline int is_long(long long got, long long want, const char *desc)
{
	if (!ok(got == want, "%s", desc))
		printf("#   got %lld, want %lld\n", got, want);
	fflush(stdout);
	return got == want;
}

/* Ends the test run: the harness counts it as a failure.  Exits through
 * exit(), so the test's atexit() cleanup runs. */
__attribute__((format(printf, 1, 2), noreturn))
static inline void bail_out(const char *fmt, ...)
{
	va_list ap;

	printf("Bail out! ");
	va_start(ap, fmt);
	tap_vline(fmt, ap);
	va_end(ap);
	exit(1);
}

/* A fresh directory /tmp/qmailctl-NAME-XXXXXX, its path into buf; bails
 * out if it cannot be made.  The test removes it (rm_tree) at exit. */
static inline void make_tmpdir(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "/tmp/qmailctl-%s-XXXXXX", name);
	if (!mkdtemp(buf))
		bail_out("mkdtemp %s: %s", buf, strerror(errno));
}

static inline int tap_rm_one(const char *path, const struct stat *st,
    int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	return flag == FTW_DP ? rmdir(path) : unlink(path);
}

/* Removes dir and everything under it, never following a symlink. */
static inline void rm_tree(const char *dir)
{
	if (dir && dir[0])
		nftw(dir, tap_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The plan line; the test's exit status. */
static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	fflush(stdout);
	return tap_failed ? 1 : 0;
}

#endif
