/* cert.c: check and make the certificate+key PEM of a TLS service, with
 * libcrypto (no openssl binary, no shell). */
#include "cert.h"
#include "atomic.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* A certificate, its key and a chain fit in a few KiB; a file larger than
 * this is not one, and we will not read it into memory. */
#define CERT_MAX_BYTES (1024 * 1024)
/* Peer-controlled text (the subject CN) quoted in messages is cut here. */
#define QUOTE_MAX 80
#define DAY_SECONDS 86400LL
/* The file holds the private key: the owner (the service's user, after a
 * chown) reads it, nobody else. */
#define CERT_MODE 0600

/* The user a service runs as, for judging permission bits. */
struct who {
	uid_t uid;
	gid_t gid;
	gid_t *groups;          /* gid and, for a passwd user, its groups */
	int ngroups;
};

__attribute__((format(printf, 3, 4)))
static int failf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return -1;
}

/* "certificate FILE: " and the text, into buf; a monstrous path is cut
 * so that the reason always shows. */
static void say(char *buf, size_t size, const char *file, const char *fmt,
    va_list ap)
{
	size_t n = strlen(file);

	if (n > size / 2)
		n = size / 2;
	memcpy(buf, "certificate ", 12);
	memcpy(buf + 12, file, n);
	memcpy(buf + 12 + n, ": ", 3);
	vsnprintf(buf + 14 + n, size - 14 - n, fmt, ap);
}

/* Sets the report's error; returns -1. */
__attribute__((format(printf, 3, 4)))
static int bad(struct cert_report *r, const char *file, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(r->error, sizeof r->error, file, fmt, ap);
	va_end(ap);
	return -1;
}

/* Appends one warning to the report's warning line. */
__attribute__((format(printf, 3, 4)))
static void warning(struct cert_report *r, const char *file,
    const char *fmt, ...)
{
	size_t n = strlen(r->warning);
	va_list ap;

	va_start(ap, fmt);
	if (n == 0)
		say(r->warning, sizeof r->warning, file, fmt, ap);
	else if (n + 2 < sizeof r->warning) {
		memcpy(r->warning + n, "; ", 3);
		vsnprintf(r->warning + n + 2, sizeof r->warning - n - 2, fmt,
		    ap);
	}
	va_end(ap);
}

static void sanitise(char *s)
{
	size_t i;

	for (i = 0; s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			s[i] = '?';
	if (i > QUOTE_MAX)
		strcpy(s + QUOTE_MAX - 3, "...");
}

/* ---- who may read the file ---- */

static void who_init(struct who *w, uid_t uid, gid_t gid)
{
	struct passwd *pw = uid ? getpwuid(uid) : NULL;
	int n = 32;

	w->uid = uid;
	w->gid = gid;
	w->groups = xcalloc((size_t)n, sizeof *w->groups);
	w->groups[0] = gid;
	w->ngroups = 1;
	if (!pw)
		return;
	/* At most two calls: a failed one tells the size it needs. */
	if (getgrouplist(pw->pw_name, gid, w->groups, &n) < 0) {
		w->groups[0] = gid;
		if (n <= 32)
			return;
		w->groups = xrealloc(w->groups, (size_t)n * sizeof *w->groups);
		if (getgrouplist(pw->pw_name, gid, w->groups, &n) < 0) {
			w->groups[0] = gid;
			return;
		}
	}
	w->ngroups = n;
}

static int in_groups(const struct who *w, gid_t g)
{
	int i;

	for (i = 0; i < w->ngroups; i++)
		if (w->groups[i] == g)
			return 1;
	return 0;
}

/* May w have access want (4 read, 1 search) by st's permission bits?
 * Only the first class that matches counts, as in the kernel: an owner
 * without the owner bit is refused even if others may. */
static int may(const struct who *w, const struct stat *st, unsigned want)
{
	unsigned bits;

	if (w->uid == 0)
		return 1;
	if (st->st_uid == w->uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_groups(w, st->st_gid))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return (bits & want) == want;
}

/* Checks every directory leading to path ("a/b/c": ".", "a", "a/b").
 * Returns 0, or -1 with the directory that stops w in dir. */
static int dirs_searchable(const struct who *w, const char *path, char *dir,
    size_t size)
{
	char buf[4096];
	struct stat st;
	char *slash;

	if (strlen(path) >= sizeof buf)
		return 0;
	strcpy(buf, path);
	if (buf[0] != '/' && stat(".", &st) == 0 && !may(w, &st, 1)) {
		snprintf(dir, size, ".");
		return -1;
	}
	for (slash = buf; (slash = strchr(slash + 1, '/')) != NULL; ) {
		*slash = 0;
		if (stat(buf[0] ? buf : "/", &st) == 0 && !may(w, &st, 1)) {
			snprintf(dir, size, "%s", buf[0] ? buf : "/");
			return -1;
		}
		*slash = '/';
	}
	if (buf[0] == '/' && stat("/", &st) == 0 && !may(w, &st, 1)) {
		snprintf(dir, size, "/");
		return -1;
	}
	return 0;
}

/* Can uid/gid open file for reading?  The path as given and the path
 * with symlinks resolved must both be searchable. */
static int check_readable(const char *file, const struct stat *st,
    uid_t uid, gid_t gid, struct cert_report *r)
{
	char dir[4096], *real;
	struct who w;
	int rc = 0;

	who_init(&w, uid, gid);
	real = realpath(file, NULL);
	if (dirs_searchable(&w, file, dir, sizeof dir) < 0 ||
	    (real && dirs_searchable(&w, real, dir, sizeof dir) < 0))
		rc = bad(r, file, "not readable by uid %u (directory %s is "
		    "not searchable)", (unsigned)uid, dir);
	else if (!may(&w, st, 4))
		rc = bad(r, file, "not readable by uid %u (owner %u, group "
		    "%u, mode %04o)", (unsigned)uid, (unsigned)st->st_uid,
		    (unsigned)st->st_gid, (unsigned)(st->st_mode & 07777));
	free(real);
	free(w.groups);
	return rc;
}

/* The key is read by the service's user and group only: others, or a
 * group that is not the service's, reading it is a warning. */
static void check_exposure(const char *file, const struct stat *st, gid_t gid,
    struct cert_report *r)
{
	unsigned mode = (unsigned)(st->st_mode & 07777);

	r->key_exposed = 1;
	if (st->st_mode & S_IROTH)
		warning(r, file, "private key readable by others (mode %04o)",
		    mode);
	else if ((st->st_mode & S_IRGRP) && st->st_gid != gid)
		warning(r, file, "private key readable by group %u (mode "
		    "%04o)", (unsigned)st->st_gid, mode);
	else if (st->st_mode & (S_IWGRP | S_IWOTH))
		warning(r, file, "private key writable by group or others "
		    "(mode %04o)", mode);
	else
		r->key_exposed = 0;
}

/* ---- reading and parsing ---- */

/* Reads a regular file of at most CERT_MAX_BYTES.  The buffer holds a
 * private key: free it with free_secret(). */
static int read_pem(const char *file, char **text, size_t *len, char *why,
    size_t whysize)
{
	struct stat st;
	ssize_t n;
	int fd;

	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	fd = open(file, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return failf(why, whysize, "%s", strerror(errno));
	if (fstat(fd, &st) < 0) {
		failf(why, whysize, "%s", strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode) || st.st_size > CERT_MAX_BYTES) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return failf(why, whysize, "not a regular file");
		return failf(why, whysize, "larger than %d bytes",
		    CERT_MAX_BYTES);
	}
	*text = xmalloc((size_t)st.st_size + 1);
	n = read(fd, *text, (size_t)st.st_size + 1);
	if (n < 0)
		failf(why, whysize, "%s", strerror(errno));
	close(fd);
	if (n < 0 || n > st.st_size) {
		free(*text);
		*text = NULL;
		if (n >= 0)
			failf(why, whysize, "file grew while being read");
		return -1;
	}
	*len = (size_t)n;
	return 0;
}

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
    char *why, size_t whysize)
{
	BIO *b;

	*x = NULL;
	*key = NULL;
	b = BIO_new_mem_buf(text, (int)len);
	*x = b ? PEM_read_bio_X509(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*x)
		return failf(why, whysize, "no certificate in file");
	b = BIO_new_mem_buf(text, (int)len);
	*key = b ? PEM_read_bio_PrivateKey(b, NULL, no_passphrase, NULL) : NULL;
	BIO_free(b);
	if (!*key)
		return failf(why, whysize, memmem(text, len, "ENCRYPTED", 9) ?
		    "private key is encrypted (a daemon cannot type the "
		    "passphrase)" : "no private key in file");
	if (X509_check_private_key(*x, *key) != 1)
		return failf(why, whysize, "key does not match certificate");
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
static int pair_load(const char *file, struct pair *p, char *why,
    size_t whysize)
{
	memset(p, 0, sizeof *p);
	if (read_pem(file, &p->text, &p->len, why, whysize) < 0)
		return -1;
	return parse_pair(p->text, p->len, &p->x, &p->key, why, whysize);
}

static void pair_free(struct pair *p)
{
	X509_free(p->x);
	EVP_PKEY_free(p->key);
	free_secret(p->text, p->len);
	ERR_clear_error();
}

/* Reads file back and checks that certificate and key parse and match. */
static int verify_file(const char *file, char *why, size_t whysize)
{
	struct pair p;
	int rc = pair_load(file, &p, why, whysize);

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

/* ---- validity ---- */

static int check_dates(const char *file, X509 *x, long warn_days,
    struct cert_report *r)
{
	char nb[64];
	int days, secs;

	time_text(X509_get0_notAfter(x), r->not_after, sizeof r->not_after);
	if (X509_cmp_current_time(X509_get0_notBefore(x)) >= 0) {
		time_text(X509_get0_notBefore(x), nb, sizeof nb);
		return bad(r, file, "not yet valid (notBefore %s)", nb);
	}
	if (!ASN1_TIME_diff(&days, &secs, NULL, X509_get0_notAfter(x)))
		return bad(r, file, "unreadable notAfter");
	r->seconds_left = days * DAY_SECONDS + secs;
	r->days_left = (long)(r->seconds_left / DAY_SECONDS);
	if (r->seconds_left <= 0) {
		long ago = -r->days_left;

		if (ago == 0)
			return bad(r, file, "expired less than a day ago "
			    "(notAfter %s)", r->not_after);
		return bad(r, file, "expired %ld day%s ago (notAfter %s)", ago,
		    ago == 1 ? "" : "s", r->not_after);
	}
	if (r->seconds_left < warn_days * DAY_SECONDS) {
		r->expiring = 1;
		warning(r, file, "expires in %ld day%s (notAfter %s)",
		    r->days_left, r->days_left == 1 ? "" : "s", r->not_after);
	}
	return 0;
}

int cert_check(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r)
{
	char why[256];
	struct stat st;
	struct pair p;
	int rc = -1;

	memset(r, 0, sizeof *r);
	if (stat(file, &st) < 0)
		return bad(r, file, "%s", strerror(errno));
	if (check_readable(file, &st, uid, gid, r) < 0)
		return -1;
	if (pair_load(file, &p, why, sizeof why) < 0)
		bad(r, file, "%s", why);
	else if (check_dates(file, p.x, warn_days, r) == 0)
		rc = 0;
	if (p.x && X509_NAME_get_text_by_NID(X509_get_subject_name(p.x),
	    NID_commonName, r->subject_cn, sizeof r->subject_cn) < 0)
		r->subject_cn[0] = 0;
	sanitise(r->subject_cn);
	if (rc == 0)
		check_exposure(file, &st, gid, r);
	pair_free(&p);
	return rc;
}

/* ---- making a certificate ---- */

/* Letters, digits, '-' and '.': a DNS name, and nothing that could
 * change the meaning of the "DNS:name" extension text. */
static int valid_hostname(const char *h)
{
	size_t i, n = strlen(h);

	if (n == 0 || n > 253 || h[0] == '.' || h[0] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((h[i] >= 'a' && h[i] <= 'z') || (h[i] >= 'A' &&
		    h[i] <= 'Z') || (h[i] >= '0' && h[i] <= '9') ||
		    h[i] == '-' || h[i] == '.'))
			return 0;
	return 1;
}

static int add_ext(X509 *x, X509V3_CTX *ctx, int nid, const char *value)
{
	X509_EXTENSION *ext = X509V3_EXT_nconf_nid(NULL, ctx, nid, value);
	int ok = ext && X509_add_ext(x, ext, -1);

	X509_EXTENSION_free(ext);
	return ok;
}

/* Sets a time to now + seconds, splitting days off so that a long of 32
 * bits does not overflow. */
static int set_time(ASN1_TIME *t, long long seconds)
{
	return X509_time_adj_ex(t, (int)(seconds / DAY_SECONDS),
	    (long)(seconds % DAY_SECONDS), NULL) != NULL;
}

/* RFC 5280 4.1.2.2: positive, at most 20 octets; 159 random bits with
 * the top one set are both, and never repeat in practice. */
static int set_serial(X509 *x)
{
	BIGNUM *bn = BN_new();
	int ok = bn && BN_rand(bn, 159, BN_RAND_TOP_ONE, BN_RAND_BOTTOM_ANY) &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL;

	BN_free(bn);
	return ok;
}

static X509 *build_cert(EVP_PKEY *key, const char *host, long long nb,
    long long na)
{
	char san[300];
	X509V3_CTX ctx;
	X509_NAME *name;
	X509 *x = X509_new();

	snprintf(san, sizeof san, "DNS:%s", host);
	if (!x || !X509_set_version(x, X509_VERSION_3) || !set_serial(x) ||
	    !set_time(X509_getm_notBefore(x), nb) ||
	    !set_time(X509_getm_notAfter(x), na) || !X509_set_pubkey(x, key))
		goto fail;
	name = X509_get_subject_name(x);
	if (!X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
	    (const unsigned char *)host, -1, -1, 0) ||
	    !X509_set_issuer_name(x, name))
		goto fail;
	X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
	if (!add_ext(x, &ctx, NID_basic_constraints, "critical,CA:FALSE") ||
	    !add_ext(x, &ctx, NID_key_usage, "critical,digitalSignature") ||
	    !add_ext(x, &ctx, NID_ext_key_usage, "serverAuth") ||
	    !add_ext(x, &ctx, NID_subject_alt_name, san) ||
	    !X509_sign(x, key, EVP_sha256()))
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* The PEM text of certificate and key, in memory that is wiped when
 * freed (it holds the key). */
static BIO *pem_pair(X509 *x, EVP_PKEY *key)
{
	BIO *b = BIO_new(BIO_s_secmem());

	if (b && PEM_write_bio_X509(b, x) &&
	    PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL))
		return b;
	BIO_free(b);
	return NULL;
}

int cert_make_validity(const char *file, const char *hostname,
    long long not_before, long long not_after, char *err, size_t errsize)
{
	char why[1024], *data;
	struct err aerr;
	const char *reason;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *pem = NULL;
	long len;
	int rc = -1;

	if (errsize > 0)
		err[0] = 0;
	if (!valid_hostname(hostname))
		return failf(err, errsize, "certificate %s: invalid host name "
		    "'%.80s'", file, hostname);
	if (not_after <= not_before)
		return failf(err, errsize, "certificate %s: notAfter is not "
		    "after notBefore", file);
	if (!(key = EVP_EC_gen("P-256")) ||
	    !(x = build_cert(key, hostname, not_before, not_after)) ||
	    !(pem = pem_pair(x, key))) {
		reason = ERR_reason_error_string(ERR_peek_last_error());
		failf(err, errsize, "certificate %s: unable to make: %s", file,
		    reason ? reason : "unknown error");
	}
	else if ((len = BIO_get_mem_data(pem, &data)) <= 0)
		failf(err, errsize, "certificate %s: unable to make", file);
	else if (atomic_write(file, data, (size_t)len, CERT_MODE,
	    ATOMIC_CHECK_DIR | ATOMIC_SYNC_DIR, &aerr) < 0)
		failf(err, errsize, "certificate %s: %s", file, aerr.text);
	else {
		/* What is on disk is what counts: read it back. */
		rc = verify_file(file, why, sizeof why);
		if (rc < 0)
			failf(err, errsize, "certificate %s: %s", file, why);
	}
	BIO_free(pem);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}

int cert_make(const char *file, const char *hostname, int days,
    char *err, size_t errsize)
{
	struct cert_report r;

	if (errsize > 0)
		err[0] = 0;
	if (days <= 0)
		return failf(err, errsize, "certificate %s: days must be "
		    "positive", file);
	if (cert_make_validity(file, hostname, 0, days * DAY_SECONDS, err,
	    errsize) < 0)
		return -1;
	if (cert_check(file, geteuid(), getegid(), 0, &r) < 0)
		return failf(err, errsize, "%s", r.error);
	return 0;
}

const char *cert_default_hostname(const char *qmail_dir, char *buf,
    size_t size)
{
	char path[4096];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof path, "%s/control/me", qmail_dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	for (n = (ssize_t)strlen(buf); n > 0 && (buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'); n--)
		buf[n - 1] = 0;
	if (buf[0])
		return buf;
	if (gethostname(buf, size) < 0 || !buf[0])
		snprintf(buf, size, "localhost");
	buf[size - 1] = 0;
	return buf;
}
