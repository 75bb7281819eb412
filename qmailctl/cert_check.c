/* cert_check.c: is the certificate+key PEM of a TLS service usable by the
 * user the service runs as?  Readable (the kernel's answer, access_as.h),
 * a certificate and its own key, within its dates; and is its key kept
 * from others?  With libcrypto: no openssl binary, no shell. */
#include "cert.h"
#include "access_as.h"
#include "msg.h"
#include "readfile.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* A certificate, its key and a chain fit in a few KiB; a file larger than
 * this is not one, and we will not read it into memory. */
#define CERT_MAX_BYTES (1024 * 1024)
/* A monstrous path is cut here in messages, so that the reason shows. */
#define CERT_PATH_QUOTE 500
#define DAY_SECONDS 86400LL
/* The subject CN comes from whoever made the certificate: quoted up to
 * this many bytes. */
#define CN_QUOTE 80

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

/* ---- reading and parsing ---- */

static void free_secret(char *text, size_t len)
{
	if (!text)
		return;
	OPENSSL_cleanse(text, len);
	free(text);
}

/* Never prompt on a terminal for a passphrase: an encrypted key is an
 * error for a daemon that starts unattended. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* Finds the first certificate and the private key in text, and checks
 * that they belong together. */
static int parse_pair(const char *text, size_t len, X509 **x, EVP_PKEY **key,
    struct err *e)
{
	BIO *b;

	*x = NULL;
	*key = NULL;
	b = BIO_new_mem_buf(text, (int)len);
	*x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*x)
		return err_set(e, "no certificate in file");
	b = BIO_new_mem_buf(text, (int)len);
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*key)
		return err_set(e, "%s", memmem(text, len, "ENCRYPTED", 9) ?
		    "private key is encrypted (a daemon cannot type the "
		    "passphrase)" : "no private key in file");
	if (X509_check_private_key(*x, *key) != 1)
		return err_set(e, "key does not match certificate");
	return 0;
}

/* A PEM file in memory that is wiped when freed, and what it holds. */
struct pair {
	char *text;
	size_t len;
	X509 *x;
	EVP_PKEY *key;
};

/* Reads file and finds the matching certificate and key in it.  What was
 * found stays in *p on failure too (the subject of a certificate whose
 * key is wrong is still worth naming): always pair_free() it. */
static int pair_load(const char *file, struct pair *p, struct err *e)
{
	memset(p, 0, sizeof *p);
	if (read_small_file(file, CERT_MAX_BYTES, &p->text, &p->len, e) < 0)
		return -1;
	return parse_pair(p->text, p->len, &p->x, &p->key, e);
}

static void pair_free(struct pair *p)
{
	X509_free(p->x);
	EVP_PKEY_free(p->key);
	free_secret(p->text, p->len);
	ERR_clear_error();
}

int cert_verify_pair(const char *file, struct err *e)
{
	struct pair p;
	int rc = pair_load(file, &p, e);

	pair_free(&p);
	return rc;
}

static void time_text(const ASN1_TIME *t, char *buf, size_t size)
{
	BIO *b = BIO_new(BIO_s_mem());
	int n = 0;

	if (b && ASN1_TIME_print(b, t))
		n = BIO_read(b, buf, (int)size - 1);
	buf[n > 0 ? n : 0] = 0;
	BIO_free(b);
}

/* The subject's CN, which may hold any byte (a NUL too): escaped here,
 * where its length is known. */
static void subject_cn(X509 *x, char *out, size_t size)
{
	X509_NAME *name = X509_get_subject_name(x);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	const ASN1_STRING *s;

	out[0] = 0;
	if (i < 0 || !(s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name,
	    i))))
		return;
	msg_escape(out, size < CN_QUOTE + 1 ? size : CN_QUOTE + 1,
	    ASN1_STRING_get0_data(s),
	    (size_t)ASN1_STRING_length(s));
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
	if (r->seconds_left < warn_days * DAY_SECONDS) {
		r->expiring = 1;
		add_warning(r, file, "expires in %ld day%s (notAfter %s)",
		    r->days_left, r->days_left == 1 ? "" : "s", r->not_after);
	}
	return 0;
}

static int check_dates(const char *file, X509 *x, long warn_days,
    struct cert_report *r)
{
	char nb[64];
	int days, secs;

	time_text(X509_get0_notAfter(x), r->not_after, sizeof r->not_after);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		time_text(X509_get0_notBefore(x), nb, sizeof nb);
		return refuse_cert(r, file, "not yet valid (notBefore %s)", nb);
	}
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		return refuse_cert(r, file, "unreadable notAfter");
	r->seconds_left = days * DAY_SECONDS + secs;
	return judge_left(file, warn_days, r);
}

/* A certificate's time as seconds since 1970; -1 if unreadable. */
static int epoch_of(const ASN1_TIME *t, long long *out)
{
	struct tm tm;

	if (!ASN1_TIME_to_tm(t, &tm))
		return -1;
	*out = (long long)timegm(&tm);
	return 0;
}

static int learn(X509 *x, const struct cert_report *r, struct cert_known *k)
{
	memset(k, 0, sizeof *k);
	if (epoch_of(X509_get0_notBefore(x), &k->not_before) < 0 ||
	    epoch_of(X509_get0_notAfter(x), &k->not_after) < 0)
		return -1;
	snprintf(k->not_after_text, sizeof k->not_after_text, "%s",
	    r->not_after);
	snprintf(k->subject_cn, sizeof k->subject_cn, "%s", r->subject_cn);
	return 0;
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
	snprintf(r->not_after, sizeof r->not_after, "%s", k->not_after_text);
	snprintf(r->subject_cn, sizeof r->subject_cn, "%s", k->subject_cn);
	r->seconds_left = k->not_after - now;
	if (judge_left(file, warn_days, r) < 0)
		return -1;
	check_exposure(file, &st, gid, r);
	return 0;
}

int cert_check_learn(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r, struct cert_known *k)
{
	struct stat st;
	struct pair p;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (stat(file, &st) < 0)
		return refuse_cert(r, file, "%s", strerror(errno));
	if (check_readable(file, uid, gid, r) < 0)
		return -1;
	if (pair_load(file, &p, &r->err) < 0)
		err_prefix(&r->err, "certificate %.*s", CERT_PATH_QUOTE, file);
	else if (check_dates(file, p.x, warn_days, r) == 0)
		rc = 0;
	if (p.x)
		subject_cn(p.x, r->subject_cn, sizeof r->subject_cn);
	if (rc == 0)
		check_exposure(file, &st, gid, r);
	if (rc == 0 && k && learn(p.x, r, k) < 0)
		k->not_after = k->not_before = 0;
	pair_free(&p);
	return rc;
}

int cert_check(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r)
{
	return cert_check_learn(file, uid, gid, warn_days, r, NULL);
}
