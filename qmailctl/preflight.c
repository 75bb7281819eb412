/* preflight.c: what must hold before a service is started, and in which
 * order it is checked: the cheap facts first, stunnel's own verdict on
 * its config (a process) after what we can read ourselves.
 *
 * 1. Its working directory exists.
 * 2. For a service run by tcpserver: its -x database is there, and the
 *    program it runs is installed (tcpserver.h).
 * 3. qmail's own files the service needs (qmailconf.h): control/me for
 *    qmail-smtpd and qmail-start, control/rcpthosts (else an open relay)
 *    and a setuid bin/qmail-queue for qmail-smtpd; a log directory that
 *    others may write.  A few stat calls: check-config makes the rest.
 * 4. For a service with "cert": the certificate is usable by the user its
 *    TLS program runs as (cert.h).
 * 5. For a service that runs stunnel: its config is one for inetd mode,
 *    the program it execs and the certificate it loads are there, and
 *    stunnel accepts the config (stunnel.h).
 * 6. For a POP3 service: the checkpassword program qmail-popup runs is
 *    there and may be run by the POP3 user (checkpassword.h).
 * 7. For a service logged by multilog: its log directory exists and the
 *    account the logger runs as may write it (multilog.h); else multilog
 *    exits at once, and the server's next write meets a broken pipe. */
#include "preflight.h"
#include "access_as.h"
#include "cert_cache.h"
#include "checkpassword.h"
#include "multilog.h"
#include "qmailconf.h"
#include "msg.h"
#include "tcpserver.h"
#include "stunnel.h"
#include "transition.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* Read once, when the service was loaded (tcpserver.h). */
void preflight_ids(const struct service *svc, uid_t *uid, gid_t *gid)
{
	*uid = svc->tcpserver.uid;
	*gid = svc->tcpserver.gid;
}

int preflight_cert(const struct unit *u, struct cert_report *r)
{
	uid_t uid;
	gid_t gid;

	preflight_ids(u->svc, &uid, &gid);
	return cert_check(u->svc->cert, uid, gid, u->site->cert_warn_days, r);
}

/* start's check: what the last start learnt from an unchanged file is
 * not parsed again (cert_cache.h). */
static int check_cert(struct unit *u)
{
	struct cert_report r;
	uid_t uid;
	gid_t gid;

	if (!u->svc->cert)
		return EXIT_OK;
	preflight_ids(u->svc, &uid, &gid);
	if (cert_check_remembered(u, u->svc->cert, uid, gid, &r) < 0) {
		sayerr(u, "%s", r.err.text);
		return EXIT_FAILED;
	}
	if (r.warning[0])
		preflight_warn(u, "%s", r.warning);
	return EXIT_OK;
}

/* ---- the checks, in order ---- */

static void qmail_finding(void *ctx, const struct qc_finding *f)
{
	struct unit *u = ctx;

	if (f->level == QC_ERROR)
		sayerr(u, "%s: %s: fix: %s", f->path, f->what, f->fix);
	else
		preflight_warn(u, "%s: %s: fix: %s", f->path, f->what, f->fix);
}

static int check_qmail(struct unit *u)
{
	return qmailconf_start(u->site, u->svc, qmail_finding, u) ?
	    EXIT_CONFIG : EXIT_OK;
}

static int check_stunnel(struct unit *u)
{
	uid_t uid;
	gid_t gid;

	preflight_ids(u->svc, &uid, &gid);
	return stunnel_preflight(u, uid, gid);
}

static int check_checkpassword(struct unit *u)
{
	uid_t uid;
	gid_t gid;

	preflight_ids(u->svc, &uid, &gid);
	return checkpassword_preflight(u, uid, gid);
}

/* The account setuidgid gives the logger, or root's ids without one. */
static int logger_ids(struct unit *u, const char *user, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	*uid = 0;
	*gid = 0;
	if (!user)
		return 0;
	errno = 0;
	if (!(pw = getpwnam(user))) {
		sayerr(u, "logger: account %s does not exist (setuidgid %s)%s%s",
		    user, user, errno ? ": " : "", errno ? strerror(errno) : "");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

/* May uid/gid write (and search) dir?  Reports and returns an exit code. */
static int logger_may_write(struct unit *u, const char *dir, const char *who,
    uid_t uid, gid_t gid, const char *what)
{
	char why[PATH_MAX + 64];
	struct access_answer a;
	struct err e;

	if (access_as(dir, uid, gid, W_OK | X_OK, &a, &e) < 0) {
		sayerr(u, "%s %s: %s", what, dir, e.text);
		return EXIT_FAILED;
	}
	if (a.error) {
		sayerr(u, "%s %s is not writable by the logger's account %s "
		    "(%s)", what, dir, who, access_as_why(&a, dir, why,
		    sizeof why));
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

/* multilog makes its directory (mode 0700) when it is missing, so then
 * its parent must be there and writable by the logger's account. */
static int check_logdir(struct unit *u)
{
	const struct multilog *m = &u->svc->multilog;
	const char *who = m->user ? m->user : "root";
	char path[PATH_MAX], parent[PATH_MAX], *slash;
	struct stat st;
	uid_t uid;
	gid_t gid;

	if (!multilog_dir_path(u->svc, path, sizeof path))
		return EXIT_OK;
	if (logger_ids(u, m->user, &uid, &gid) < 0)
		return EXIT_CONFIG;
	if (stat(path, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			sayerr(u, "log directory %s: not a directory", path);
			return EXIT_CONFIG;
		}
		return logger_may_write(u, path, who, uid, gid,
		    "log directory");
	}
	snprintf(parent, sizeof parent, "%s", path);
	while ((slash = strrchr(parent, '/')) && slash[1] == '\0' &&
	    slash > parent)
		*slash = '\0';         /* "dir/" names dir */
	if ((slash = strrchr(parent, '/')))
		slash == parent ? (void)(slash[1] = '\0') : (void)(*slash = '\0');
	if (stat(parent, &st) < 0 || !S_ISDIR(st.st_mode)) {
		sayerr(u, "log directory %s is missing, and so is its parent "
		    "%s, where multilog would make it", path, parent);
		return EXIT_CONFIG;
	}
	return logger_may_write(u, parent, who, uid, gid,
	    "log directory's parent");
}

int preflight(struct unit *u)
{
	int rc;

	if ((rc = check_directory(u)) != EXIT_OK ||
	    (rc = tcpserver_check(u)) != EXIT_OK ||
	    (rc = check_qmail(u)) != EXIT_OK ||
	    (rc = check_cert(u)) != EXIT_OK ||
	    (rc = check_stunnel(u)) != EXIT_OK ||
	    (rc = check_checkpassword(u)) != EXIT_OK)
		return rc;
	return check_logdir(u);
}
