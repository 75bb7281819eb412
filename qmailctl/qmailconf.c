/* qmailconf.c: qmail's own configuration checks, for check-config and
 * for start (see qmailconf.h).
 *
 * What each check expects, from notqmail's source: qmail-smtpd dies with
 * 421 "unable to read controls" without control/me (its greeting
 * defaults to it) and, without control/rcpthosts, takes mail for any
 * domain (rcpthosts.c: no file, every host allowed); qmail-send takes
 * control/me as the only local domain without control/locals;
 * qmail-lspawn reads users/cdb and never users/assign; hier.c installs
 * queue/ as qmailq 0750, bin/qmail-queue as qmailq 04711 and alias/ as
 * alias 02755. */
#include "qmailconf.h"
#include "cdb.h"
#include "chain.h"
#include "exitcode.h"
#include "json.h"
#include "msg.h"
#include "multilog.h"
#include "pathwalk.h"
#include "stunnel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The modes notqmail's hier.c installs. */
#define QUEUE_DIR_MODE 0750
#define QUEUE_BIN_MODE 04711
#define ALIAS_DIR_MODE 02755

struct checker {
	qc_report_fn *fn;
	void *ctx;
	int errors;
	int start;              /* for start: what preflight says itself is
	                         * left to it */
};

static void finding(struct checker *c, enum qc_level level, const char *path,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void finding(struct checker *c, enum qc_level level, const char *path,
    const char *fix, const char *fmt, ...)
{
	struct qc_finding f;
	char what[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof what, fmt, ap);
	va_end(ap);
	f.level = level;
	f.path = path;
	f.what = what;
	f.fix = fix;
	if (level == QC_ERROR)
		c->errors++;
	c->fn(c->ctx, &f);
}

/* ---- looking without following what others may have planted ---- */

/* What was found at a path. */
struct look {
	char path[PATH_MAX];
	struct stat st;
	int err;                /* 0: st is the file's; else the errno */
	int blank;              /* asked for: a regular file of blanks only */
};

/* True when the file holds nothing but blanks in its first bytes. */
static int blank_file(int dfd, const char *base, int nofollow)
{
	char buf[256];
	ssize_t got, i;
	int fd;

	fd = openat(dfd, base, O_RDONLY | O_NONBLOCK | O_CLOEXEC | nofollow);
	if (fd < 0)
		return 0;       /* not ours to judge: qmail's user reads it */
	got = read(fd, buf, sizeof buf);
	close(fd);
	for (i = 0; i < got; i++)
		if (!buf[i] || !strchr(" \t\r\n", buf[i]))
			return 0;
	return got >= 0;
}

static int look_at(struct look *l, int text, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Formats the path into l and looks at it (with text, also whether a
 * regular file is blank): 0, or -1 with l->err. */
static int look_at(struct look *l, int text, const char *fmt, ...)
{
	char copy[PATH_MAX];
	const char *base;
	va_list ap;
	int dfd, n, nofollow = 0;

	va_start(ap, fmt);
	n = vsnprintf(l->path, sizeof l->path, fmt, ap);
	va_end(ap);
	l->blank = 0;
	l->err = n < 0 || (size_t)n >= sizeof l->path ? ENAMETOOLONG : 0;
	if (l->err)
		return -1;
	if ((dfd = pathwalk_parent(l->path, copy, sizeof copy, &base)) >= 0)
		nofollow = pathwalk_root_only(dfd) ? 0 : O_NOFOLLOW;
	if (dfd < 0 || fstatat(dfd, base, &l->st, nofollow ?
	    AT_SYMLINK_NOFOLLOW : 0) < 0)
		l->err = errno;
	else if (S_ISLNK(l->st.st_mode))
		l->err = ELOOP;
	else if (text && S_ISREG(l->st.st_mode))
		l->blank = blank_file(dfd, base, nofollow);
	if (dfd >= 0)
		close(dfd);
	return l->err ? -1 : 0;
}

/* Why a look failed, for a finding. */
static const char *look_why(const struct look *l)
{
	if (l->err == ENOENT)
		return "missing";
	if (l->err == ELOOP || l->err == ENOTDIR)
		return "a symlink in a directory others may change (not "
		    "followed), or below something that is not a directory";
	return strerror(l->err);
}

static int newer(const struct stat *a, const struct stat *b)
{
	return a->st_mtim.tv_sec > b->st_mtim.tv_sec ||
	    (a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec > b->st_mtim.tv_nsec);
}

/* The uid of one of qmail's accounts, or -1 (a finding made) when it
 * does not exist. */
static long account(struct checker *c, const char *path, const char *name)
{
	struct passwd *pw = getpwnam(name);

	if (pw)
		return (long)pw->pw_uid;
	finding(c, QC_ERROR, path, "add qmail's accounts (notqmail's "
	    "INSTALL.ids.md)", "must belong to %s, but there is no account "
	    "%s", name, name);
	return -1;
}

/* ---- the control files ---- */

static void check_me(struct checker *c, const char *home)
{
	static const char fix[] = "write this host's fully qualified name into "
	    "it (qmail's config-fast HOSTNAME does)";
	struct look l;

	if (look_at(&l, 1, "%s/control/me", home) < 0)
		finding(c, QC_ERROR, l.path, fix, "%s: qmail-smtpd answers "
		    "every connection 421 (unable to read controls)",
		    look_why(&l));
	else if (!S_ISREG(l.st.st_mode))
		finding(c, QC_ERROR, l.path, fix, "not a regular file");
	else if (l.blank)
		finding(c, QC_ERROR, l.path, fix, "empty: qmail names this "
		    "host by it");
}

static void check_rcpthosts(struct checker *c, const char *home)
{
	struct look l;

	if (look_at(&l, 0, "%s/control/rcpthosts", home) == 0)
		return;
	/* Without the file qmail-smtpd relays; one it cannot open makes it
	 * answer 421 (rcpthosts_init fails): refused either way. */
	finding(c, QC_ERROR, l.path, "list the domains this host accepts mail "
	    "for in it, one a line", "%s: %s", look_why(&l), l.err == ENOENT ?
	    "qmail-smtpd then accepts mail for any domain from anyone (an "
	    "open relay)" : "qmail-smtpd cannot read it");
}

static void check_locals(struct checker *c, const char *home)
{
	struct look l;

	if (look_at(&l, 0, "%s/control/locals", home) == 0 || l.err != ENOENT)
		return;
	finding(c, QC_WARNING, l.path, "list the domains delivered on this "
	    "host in it, one a line", "missing: qmail-send then delivers "
	    "locally only the name in control/me");
}

static void check_users(struct checker *c, const char *home)
{
	struct look assign, cdb;
	char fix[PATH_MAX + 16];

	if (look_at(&assign, 0, "%s/users/assign", home) < 0)
		return;
	snprintf(fix, sizeof fix, "run %s/bin/qmail-newu", home);
	if (look_at(&cdb, 0, "%s/users/cdb", home) < 0)
		finding(c, QC_ERROR, cdb.path, fix, "%s while users/assign "
		    "exists: qmail-lspawn reads only users/cdb, so none of "
		    "the assignments is in effect", look_why(&cdb));
	else if (newer(&assign.st, &cdb.st))
		finding(c, QC_WARNING, cdb.path, fix, "older than "
		    "users/assign: qmail-lspawn reads the assignments as they "
		    "were before the last edit");
}

/* ---- owners and modes ---- */

/* The fix for a file of qmail's with the wrong owner or mode. */
#define OWN_FIX_MAX (2 * PATH_MAX + 64)
static char *own_fix(char *buf, const char *owner, unsigned mode,
    const char *path)
{
	snprintf(buf, OWN_FIX_MAX, "chown %s %s && chmod %o %s", owner, path,
	    mode, path);
	return buf;
}

#define INSTALL_FIX "install qmail (make setup check)"

/* Looks at HOME/NAME, which qmail's install makes for owner: owner's uid,
 * or -1 (a finding made) when it is missing or owner does not exist. */
static long installed(struct checker *c, struct look *l, const char *home,
    const char *name, const char *owner, enum qc_level level,
    const char *harm)
{
	if (look_at(l, 0, "%s/%s", home, name) < 0) {
		finding(c, level, l->path, INSTALL_FIX, "%s: %s", look_why(l),
		    harm);
		return -1;
	}
	return account(c, l->path, owner);
}

static void check_queue_dir(struct checker *c, const char *home)
{
	struct look l;
	char fix[OWN_FIX_MAX];
	long uid;

	if ((uid = installed(c, &l, home, "queue", "qmailq", QC_ERROR,
	    "nothing can be queued")) < 0)
		return;
	own_fix(fix, "qmailq:qmail", QUEUE_DIR_MODE, l.path);
	if (!S_ISDIR(l.st.st_mode))
		finding(c, QC_ERROR, l.path, INSTALL_FIX, "not a directory");
	else if ((long)l.st.st_uid != uid)
		finding(c, QC_ERROR, l.path, fix, "owned by uid %ld, not "
		    "qmailq: qmail-queue cannot queue", (long)l.st.st_uid);
	else if (l.st.st_mode & (S_IWGRP | S_IWOTH))
		finding(c, QC_ERROR, l.path, fix, "writable by group or others: "
		    "they could plant or remove messages");
	else if ((l.st.st_mode & 07777) != QUEUE_DIR_MODE)
		finding(c, QC_WARNING, l.path, fix, "mode %04o, where qmail "
		    "installs it %04o", (unsigned)(l.st.st_mode & 07777),
		    QUEUE_DIR_MODE);
}

static void check_queue_bin(struct checker *c, const char *home)
{
	struct look l;
	char fix[OWN_FIX_MAX];
	long uid;

	if ((uid = installed(c, &l, home, "bin/qmail-queue", "qmailq",
	    QC_ERROR, "mail cannot be queued")) < 0)
		return;
	own_fix(fix, "qmailq", QUEUE_BIN_MODE, l.path);
	if (!S_ISREG(l.st.st_mode) || (long)l.st.st_uid != uid ||
	    !(l.st.st_mode & S_ISUID))
		finding(c, QC_ERROR, l.path, fix, "not setuid qmailq (uid %ld, "
		    "mode %04o): mail cannot be queued", (long)l.st.st_uid,
		    (unsigned)(l.st.st_mode & 07777));
	else if (l.st.st_mode & (S_IWGRP | S_IWOTH))
		finding(c, QC_ERROR, l.path, fix, "writable by group or others: "
		    "they could replace what runs setuid qmailq");
}

static void check_alias(struct checker *c, const char *home)
{
	struct look l;
	char fix[OWN_FIX_MAX];
	long uid;

	if ((uid = installed(c, &l, home, "alias", "alias", QC_WARNING,
	    "mail for postmaster, root and unknown local users has no "
	    ".qmail file to go to")) < 0)
		return;
	own_fix(fix, "alias", ALIAS_DIR_MODE, l.path);
	if (!S_ISDIR(l.st.st_mode) || (long)l.st.st_uid != uid)
		finding(c, QC_ERROR, l.path, fix, "not a directory owned by "
		    "alias (uid %ld): qmail-getpw refuses a home its user does "
		    "not own, so mail for postmaster and root bounces",
		    (long)l.st.st_uid);
	else if (l.st.st_mode & (S_IWGRP | S_IWOTH))
		finding(c, QC_ERROR, l.path, fix, "writable by group or others: "
		    "they could write the .qmail files alias runs");
}

/* ---- each service's own files ---- */

/* tcpserver reads FILE.cdb, never FILE.rules: an edit of the source is
 * in effect only after `qmailctl cdb`. */
static void check_rules(struct checker *c, const struct service *svc)
{
	char src[PATH_MAX], cdb[PATH_MAX], fix[128];
	struct look s, d;
	struct err e;

	if (cdb_paths(svc, src, sizeof src, cdb, sizeof cdb, &e) <= 0)
		return;         /* none; or tcpserver_check says why */
	snprintf(fix, sizeof fix, "qmailctl cdb %s", svc->name);
	if (look_at(&d, 0, "%s", cdb) < 0)
		finding(c, QC_ERROR, d.path, fix, "%s: tcpserver drops every "
		    "connection", look_why(&d));
	else if (look_at(&s, 0, "%s", src) == 0 && newer(&s.st, &d.st))
		finding(c, QC_WARNING, d.path, fix, "older than %s: tcpserver "
		    "applies the rules as they were before the last edit",
		    src);
}

/* The logger's directory: its account's, and nobody else's to change.
 * A missing one multilog makes; whether the logger may write it is
 * preflight's check (it needs the logger's groups), which also says, at
 * start, that the account or the directory is not there. */
static void check_log_dir(struct checker *c, const struct service *svc)
{
	const char *who = svc->multilog.user ? svc->multilog.user : "root";
	char path[PATH_MAX], fix[PATH_MAX + 80];
	struct passwd *pw;
	struct look l;

	if (!multilog_dir_path(svc, path, sizeof path))
		return;
	if (!(pw = getpwnam(who))) {
		if (!c->start)
			finding(c, QC_ERROR, path, "add the account, or name "
			    "another in the service's log line", "the "
			    "logger's account %s does not exist (setuidgid %s)",
			    who, who);
		return;
	}
	if (look_at(&l, 0, "%s", path) < 0) {
		if (l.err != ENOENT)
			finding(c, QC_ERROR, l.path, "make it a directory of "
			    "the logger's", "log directory: %s", look_why(&l));
		return;
	}
	if (!S_ISDIR(l.st.st_mode)) {
		if (!c->start)
			finding(c, QC_ERROR, l.path, "make it a directory of "
			    "the logger's", "log directory: not a directory");
		return;
	}
	if (l.st.st_mode & S_IWOTH) {
		snprintf(fix, sizeof fix, "chmod o-w %s", l.path);
		finding(c, QC_ERROR, l.path, fix, "log directory writable by "
		    "others: they could rewrite or remove the log");
	} else if (l.st.st_uid != pw->pw_uid) {
		snprintf(fix, sizeof fix, "chown %s %s", who, l.path);
		finding(c, QC_WARNING, l.path, fix, "log directory owned by "
		    "uid %ld, not by the logger's account %s",
		    (long)l.st.st_uid, who);
	}
}

/* ---- which service needs what ---- */

/* True when argv (a program and its arguments, chain-loaders seen
 * through) runs name, or passes it on as a later word (rblsmtpd ...
 * qmail-smtpd). */
static int runs(char *const *argv, const char *name)
{
	struct chain ch;

	if (!argv || chain_read(argv, &ch, NULL) < 0)
		return 0;
	if (!strcmp(chain_base(ch.prog), name))
		return 1;
	for (; *ch.args; ch.args++)
		if (!strcmp(chain_base(*ch.args), name))
			return 1;
	return 0;
}

static int runs_smtpd(const struct service *svc)
{
	struct stunnel_conf sc;
	const char *prog, *conf;
	struct err e;

	if (!svc->tcpserver.found)
		return 0;
	if (runs(svc->tcpserver.prog, "qmail-smtpd"))
		return 1;
	if (stunnel_find(svc, &prog, &conf) < 0 || !conf ||
	    stunnel_read_conf(svc->directory, conf, &sc, &e) < 0)
		return 0;       /* stunnel_preflight says why */
	return !strcmp(chain_base(sc.exec), "qmail-smtpd");
}

unsigned qmailconf_needs(const struct service *svc)
{
	if (runs_smtpd(svc))
		return QC_NEEDS_ME | QC_NEEDS_RCPTHOSTS | QC_NEEDS_QUEUE;
	if (runs(svc->run, "qmail-start"))
		return QC_NEEDS_ME;
	return 0;
}

static void check_needs(struct checker *c, const char *home, unsigned needs)
{
	if (needs & QC_NEEDS_ME)
		check_me(c, home);
	if (needs & QC_NEEDS_RCPTHOSTS)
		check_rcpthosts(c, home);
	if (needs & QC_NEEDS_QUEUE)
		check_queue_bin(c, home);
}

int qmailconf_start(const struct site *site, const struct service *svc,
    qc_report_fn *fn, void *ctx)
{
	struct checker c = { fn, ctx, 0, 1 };

	check_needs(&c, site->qmail, qmailconf_needs(svc));
	check_log_dir(&c, svc);
	return c.errors;
}

/* ---- check-config ---- */

struct printer {
	const struct opts *opts;
	int n;                  /* findings printed (--json) */
};

static void print_line(void *ctx, const struct qc_finding *f)
{
	struct printer *p = ctx;

	if (p->opts->json) {
		printf("%s{\"level\":\"%s\",\"path\":", p->n++ ? "," : "",
		    f->level == QC_ERROR ? "error" : "warning");
		json_string(stdout, f->path);
		printf(",\"problem\":");
		json_string(stdout, f->what);
		printf(",\"fix\":");
		json_string(stdout, f->fix);
		printf("}");
	} else if (f->level == QC_ERROR || !p->opts->quiet)
		msg_line(2, NULL, NULL, "%s: %s: %s: fix: %s", f->path,
		    f->level == QC_ERROR ? "error" : "warning", f->what,
		    f->fix);
}

int qmailconf_command(const struct site *site, const struct opts *opts,
    const struct unit *units, size_t n)
{
	struct printer p = { opts, 0 };
	struct checker c = { print_line, &p, 0, 0 };
	unsigned needs = QC_NEEDS_ME | QC_NEEDS_QUEUE;
	size_t i;

	if (opts->json)
		printf("{\"findings\":[");
	for (i = 0; i < n; i++)
		needs |= qmailconf_needs(units[i].svc);
	check_needs(&c, site->qmail, needs);
	check_locals(&c, site->qmail);
	check_users(&c, site->qmail);
	check_queue_dir(&c, site->qmail);
	check_alias(&c, site->qmail);
	for (i = 0; i < n; i++) {
		check_rules(&c, units[i].svc);
		check_log_dir(&c, units[i].svc);
	}
	if (opts->json)
		printf("],\"errors\":%d}\n", c.errors);
	fflush(stdout);
	return c.errors ? EXIT_CONFIG : EXIT_OK;
}
