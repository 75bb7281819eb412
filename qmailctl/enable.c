/* enable.c: the disabled markers in the state directory (see enable.h). */
#include "enable.h"
#include "atomic.h"
#include "exitcode.h"
#include "msg.h"
#include "rundir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void marker(const struct site *site, const char *name, char *buf,
    size_t size)
{
	rundir_path(buf, size, site->statedir, name, ".disabled");
}

/* May the markers in the state directory be believed?  It must be a real
 * directory that only its owner can write. */
static int trusted(const struct site *site)
{
	static int warned;
	const char *dir = site->statedir;
	struct stat st;

	if (lstat(dir, &st) < 0)
		return errno == ENOENT ? 1 : 0;
	if (S_ISDIR(st.st_mode) && !(st.st_mode & (S_IWGRP | S_IWOTH)))
		return 1;
	if (!warned++)
		warn("ignoring the disabled markers in %s: not a directory "
		    "that only its owner can write", dir);
	return 0;
}

int enable_is_disabled(const struct site *site, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	marker(site, name, path, sizeof path);
	return lstat(path, &st) == 0 && trusted(site);
}

/* -q: only failures are printed. */
static int quiet;

__attribute__((format(printf, 2, 3)))
static void tell(const char *name, const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	msg_vline(1, name, NULL, fmt, ap);
	va_end(ap);
}

static int code_of(int err)
{
	return err == EACCES || err == EPERM ? EXIT_PRIVILEGE : EXIT_FAILED;
}

/* The state directory, checked as the rundir is (every component, held
 * open): a marker is written and removed only below that descriptor. */
static int open_statedir(const struct site *site, const char *name,
    struct rundir *rd)
{
	struct err e;

	if (rundir_open(rd, site->statedir, 1, &e) == 0)
		return 0;
	msg_line(2, name, "failed", "%s", e.text);
	return -1;
}

static int disable_one(const struct site *site, const char *name,
    const char *path)
{
	char text[160], when[64], base[NAME_MAX + 1];
	time_t now = time(NULL);
	struct rundir rd;
	struct err e;
	struct tm tm;
	int rc = EXIT_OK;

	if (enable_is_disabled(site, name)) {
		tell(name, "already disabled (%s)", path);
		return EXIT_OK;
	}
	if (open_statedir(site, name, &rd) < 0)
		return code_of(errno);
	strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S UTC",
	    gmtime_r(&now, &tm));
	snprintf(text, sizeof text, "disabled by qmailctl disable %s, %s\n",
	    name, when);
	snprintf(base, sizeof base, "%s.disabled", name);
	if (atomic_write_at(rd.fd, rd.path, base, text, strlen(text), 0644,
	    ATOMIC_CHECK_DIR | ATOMIC_DURABLE, &e) < 0) {
		msg_line(2, name, "failed", "%s", e.text);
		rc = code_of(errno);
	} else
		tell(name, "disabled (%s): start without service names, "
		    "as at boot, skips it", path);
	rundir_close(&rd);
	return rc;
}

static int enable_one(const struct site *site, const char *name,
    const char *path)
{
	char base[NAME_MAX + 1];
	struct rundir rd;
	int rc = EXIT_OK;

	if (open_statedir(site, name, &rd) < 0)
		return code_of(errno);
	snprintf(base, sizeof base, "%s.disabled", name);
	if (unlinkat(rd.fd, base, 0) < 0) {
		if (errno == ENOENT)
			tell(name, "already enabled");
		else {
			msg_line(2, name, "failed", "unable to remove %s: %s",
			    path, strerror(errno));
			rc = code_of(errno);
		}
	} else {
		/* The removal must survive a crash as the marker's
		 * creation does. */
		(void)fsync(rd.fd);
		tell(name, "enabled: start without service names starts "
		    "it again");
	}
	rundir_close(&rd);
	return rc;
}

int enable_command(const struct site *site, const struct opts *opts,
    char **names, int disable)
{
	char path[PATH_MAX];
	int worst = EXIT_OK, rc;

	quiet = opts->quiet;
	for (; *names; names++) {
		marker(site, *names, path, sizeof path);
		if (opts->dry_run) {
			msg_line(1, *names, NULL, "would %s (marker %s)",
			    disable ? "disable" : "enable", path);
			continue;
		}
		rc = disable ? disable_one(site, *names, path) :
		    enable_one(site, *names, path);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

char **enable_skip_disabled(const struct site *site, char **names,
    const struct opts *opts)
{
	size_t n = 0, i;
	char **out;

	while (names[n])
		n++;
	out = xcalloc(n + 1, sizeof *out);
	for (i = 0, n = 0; names[i]; i++) {
		if (!enable_is_disabled(site, names[i]))
			out[n++] = names[i];
		else if (opts->verbose)
			msg_line(1, names[i], NULL, "disabled, skipped "
			    "('qmailctl enable %s' undoes it)", names[i]);
	}
	return out;
}

void enable_note_disabled(const struct site *site, char **names,
    const struct opts *opts)
{
	for (; *names; names++)
		if (!opts->quiet && enable_is_disabled(site, *names))
			msg_line(1, *names, NULL, "disabled, but named on the "
			    "command line: acting on it all the same");
}
