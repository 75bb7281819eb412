/* cert_check.c: is the certificate+key PEM of a TLS service usable by the
 * user the service runs as?  Readable (the kernel's answer, access_as.h),
 * a certificate and its own key (cert_pem.c reads them, with libcrypto:
 * no openssl binary, no shell), within its dates; and is its key kept
 * from others?  Nothing here needs OpenSSL: a remembered certificate
 * (cert_cache.c) is judged without loading it. */
#include "cert.h"
#include "access_as.h"
#include "msg.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A monstrous path is cut here in messages, so that the reason shows. */
#define CERT_PATH_QUOTE 500

/* Sets the report's error, "certificate FILE: text"; returns -1. */
__attribute__((format(printf, 3, 4)))
static int refuse_cert(struct cert_report *r, const char *file,
    const char *fmt, ...)
{
	char text[sizeof r->err.text];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	return err_set(&r->err, "certificate %.*s: %s", CERT_PATH_QUOTE, file,
	    text);
}

/* Appends one warning to the report's warning line, "certificate FILE:
 * first; second". */
__attribute__((format(printf, 3, 4)))
static void add_warning(struct cert_report *r, const char *file,
    const char *fmt, ...)
{
	size_t n = strlen(r->warning);
	va_list ap;

	if (n == 0)
		n = (size_t)snprintf(r->warning, sizeof r->warning,
		    "certificate %.*s: ", CERT_PATH_QUOTE, file);
	else if (n + 2 < sizeof r->warning) {
		memcpy(r->warning + n, "; ", 3);
		n += 2;
	}
	if (n >= sizeof r->warning)
		return;
	va_start(ap, fmt);
	vsnprintf(r->warning + n, sizeof r->warning - n, fmt, ap);
	va_end(ap);
}

/* ---- who may read the file ---- */

/* May uid/gid, as tcpserver -u -g leaves them, open file for reading?
 * The kernel says, for every directory on the way too. */
static int check_readable(const char *file, uid_t uid, gid_t gid,
    struct cert_report *r)
{
	struct access_answer a;
	char why[PATH_MAX + 64];

	if (access_as(file, uid, gid, R_OK, &a, &r->err) < 0)
		return err_prefix(&r->err, "certificate %.*s", CERT_PATH_QUOTE,
		    file);
	if (!a.error)
		return 0;
	return refuse_cert(r, file, "not readable by uid %u (%s)",
	    (unsigned)uid, access_as_why(&a, file, why, sizeof why));
}

/* The key is read by the service's user and group only: others, or a
 * group that is not the service's, reading it is a warning. */
static void check_exposure(const char *file, const struct stat *st, gid_t gid,
    struct cert_report *r)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	r->key_exposed = 1;
	if (st->st_mode & S_IROTH)
		add_warning(r, file, "private key readable by others (mode "
		    "%04o)", mode);
	else if ((st->st_mode & S_IRGRP) && st->st_gid != gid)
		add_warning(r, file, "private key readable by group %u (mode "
		    "%04o)", (unsigned)st->st_gid, mode);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		add_warning(r, file, "private key writable by group or others "
		    "(mode %04o)", mode);
	else
		r->key_exposed = 0;
}

/* ---- validity ---- */

/* Refuses an expired certificate, warns of one that expires within
 * warn_days: from r->seconds_left and r->not_after. */
static int judge_left(const char *file, long warn_days, struct cert_report *r)
{
	r->days_left = cert_days_left(r->seconds_left);
	if (r->seconds_left <= 0) {
		long ago = -r->days_left;

		if (ago == 0)
			return refuse_cert(r, file, "expired less than a day "
			    "ago (notAfter %s)", r->not_after);
		return refuse_cert(r, file, "expired %ld day%s ago (notAfter "
		    "%s)", ago, ago == 1 ? "" : "s", r->not_after);
	}
	if (r->seconds_left < warn_days * CERT_DAY_SECONDS) {
		r->expiring = 1;
		add_warning(r, file, "expires in %ld day%s (notAfter %s)",
		    r->days_left, r->days_left == 1 ? "" : "s", r->not_after);
	}
	return 0;
}

/* Refuses a certificate not yet valid, then judges the time it has left
 * (judge_left). */
static int judge_dates(const char *file, long long not_before,
    const char *not_before_text, long long not_after,
    const char *not_after_text, long warn_days, struct cert_report *r)
{
	long long now = (long long)time(NULL);

	snprintf(r->not_after, sizeof r->not_after, "%s", not_after_text);
	if (not_before > now)
		return refuse_cert(r, file, "not yet valid (notBefore %s)",
		    not_before_text);
	r->seconds_left = not_after - now;
	return judge_left(file, warn_days, r);
}

static void learn(const struct cert_pem *pem, struct cert_known *k)
{
	memset(k, 0, sizeof *k);
	k->not_before = pem->not_before;
	k->not_after = pem->not_after;
	snprintf(k->not_after_text, sizeof k->not_after_text, "%s",
	    pem->not_after_text);
	snprintf(k->subject_cn, sizeof k->subject_cn, "%s", pem->subject_cn);
}

int cert_check_known(const char *file, uid_t uid, gid_t gid, long warn_days,
    const struct cert_known *k, struct cert_report *r)
{
	long long now = (long long)time(NULL);
	struct stat st;

	memset(r, 0, sizeof *r);
	if (stat(file, &st) < 0)
		return refuse_cert(r, file, "%s", strerror(errno));
	if (check_readable(file, uid, gid, r) < 0)
		return -1;
	if (now < k->not_before)
		return 1;
	snprintf(r->subject_cn, sizeof r->subject_cn, "%s", k->subject_cn);
	if (judge_dates(file, k->not_before, "", k->not_after,
	    k->not_after_text, warn_days, r) < 0)
		return -1;
	check_exposure(file, &st, gid, r);
	return 0;
}

int cert_check_learn(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r, struct cert_known *k)
{
	struct cert_pem pem;
	struct stat st;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (stat(file, &st) < 0)
		return refuse_cert(r, file, "%s", strerror(errno));
	if (check_readable(file, uid, gid, r) < 0)
		return -1;
	if (cert_pem_read(file, &pem, &r->err) < 0)
		err_prefix(&r->err, "certificate %.*s", CERT_PATH_QUOTE, file);
	else if (judge_dates(file, pem.not_before, pem.not_before_text,
	    pem.not_after, pem.not_after_text, warn_days, r) == 0)
		rc = 0;
	if (pem.has_cert)
		snprintf(r->subject_cn, sizeof r->subject_cn, "%s",
		    pem.subject_cn);
	if (rc == 0)
		check_exposure(file, &st, gid, r);
	if (rc == 0 && k)
		learn(&pem, k);
	return rc;
}

int cert_check(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r)
{
	return cert_check_learn(file, uid, gid, warn_days, r, NULL);
}
