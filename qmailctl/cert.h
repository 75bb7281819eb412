/* cert.h: the PEM file (certificate and private key) a TLS service reads:
 * checking one (cert_check.c) and making one (cert_make.c).
 *
 * stunnel (and qmail-smtpd with the TLS patch) only says what is wrong with
 * its certificate when the first client connects, if then.  cert_check
 * says it before start: missing, unreadable by the service's user, no key,
 * a key of another certificate, expired, not yet valid.  cert_make writes
 * a self-signed certificate for testing, as qmail-tls' `make cert` does.
 *
 * Errors and warnings are one line each, naming the file:
 *   certificate /etc/qmailctl/cert.pem: key does not match certificate */
#ifndef QMAILCTL_CERT_H
#define QMAILCTL_CERT_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

struct cert_report {
	long days_left;         /* cert_days_left(seconds_left) */
	long long seconds_left; /* the same in seconds */
	char subject_cn[256];   /* subject CN escaped (msg_escape), at most 80
	                         * bytes of it; or "" */
	char not_after[64];     /* "Jan  1 00:00:00 2025 GMT" */
	int expiring;           /* usable, but expires within warn_days */
	int key_exposed;        /* readable by others, or by a group that is
	                         * not the service's gid */
	char warning[512];      /* the warnings as one line, or "" */
	struct err err;         /* why the file is not usable */
};

#define CERT_DAY_SECONDS 86400LL

/* The days a certificate has left, counted one way for every message
 * (check's, start's, cert's): a day begun counts as a day, so that a
 * certificate "cert" made for 365 days has 365 left a second later, not
 * 364; once expired (seconds_left <= 0), minus the whole days since. */
static inline long cert_days_left(long long seconds_left)
{
	if (seconds_left > 0)
		return (long)((seconds_left + CERT_DAY_SECONDS - 1) /
		    CERT_DAY_SECONDS);
	return (long)(seconds_left / CERT_DAY_SECONDS);
}

/* What a PEM file holds, as OpenSSL reads it (cert_pem.c; qmailctl loads
 * it with qmailctl-tls.so, tls_plugin.h). */
struct cert_pem {
	int has_cert;           /* a certificate was read: subject_cn is set */
	long long not_before;   /* seconds since 1970 */
	long long not_after;
	char not_before_text[64];       /* "Jan  1 00:00:00 2025 GMT" */
	char not_after_text[64];
	char subject_cn[256];   /* as cert_report's subject_cn */
};

/* Reads file (cert_check asked first whether the service may) and finds
 * its first certificate and the private key that matches it.  Returns 0
 * when both are there and the dates readable; -1 with the reason in e
 * (without the file's name) otherwise, with has_cert and subject_cn set
 * when a certificate was read.  Judges nothing of the dates. */
int cert_pem_read(const char *file, struct cert_pem *pem, struct err *e);

/* The file of the libcrypto that cert_pem_read parses with, once it has
 * been called (cert_cache.c keys what it remembers on it); NULL if not
 * known. */
const char *cert_pem_library(void);

/* Checks that file exists, that uid and gid, taken as tcpserver -u -g
 * takes them (access_as.h: gid becomes the only group), may read it
 * through every directory on the way (the kernel's answer), that it
 * holds a PEM certificate and a PEM private key that matches it, and
 * that now is within the certificate's validity.  Returns 0 when usable
 * (warnings allowed: r->expiring, r->key_exposed, r->warning), -1 when
 * not (r->err says why). */
int cert_check(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r);

/* What a certificate says that stays while its file is the same file:
 * learnt by cert_check_learn, used by cert_check_known (cert_cache.c
 * keeps it across starts). */
struct cert_known {
	long long not_before;   /* seconds since 1970 */
	long long not_after;
	char not_after_text[64];        /* as cert_report's not_after */
	char subject_cn[256];           /* as cert_report's subject_cn */
};

/* cert_check, and when the certificate and its key were found to match,
 * what the certificate says into *k (its dates, its subject's CN). */
int cert_check_learn(const char *file, uid_t uid, gid_t gid, long warn_days,
    struct cert_report *r, struct cert_known *k);

/* cert_check of a file that held k's matching certificate and key when
 * it was last parsed, and is unchanged since (cert_cache.c decides):
 * nothing is parsed.  What does not depend on the file's content alone
 * is checked now: it exists, uid/gid may read it (the kernel's answer),
 * now is within k's dates, who else may read the key.  Returns 0 or -1
 * as cert_check does; 1 when now is before k's notBefore (a clock set
 * back): then cert_check must say why. */
int cert_check_known(const char *file, uid_t uid, gid_t gid, long warn_days,
    const struct cert_known *k, struct cert_report *r);

/* Writes a self-signed certificate and its key to file, valid from now
 * for days: EC P-256, CN and subjectAltName DNS:hostname, random serial,
 * SHA-256, CA:FALSE, keyUsage digitalSignature, extendedKeyUsage
 * serverAuth.  Atomically, with atomic_write() (atomic.h): a mode 0600
 * file created O_EXCL|O_NOFOLLOW in the same directory, fsync'd, renamed
 * over file (a symlink at file is replaced, never followed), the directory
 * fsync'd.  A directory writable by group or others is refused unless it
 * is sticky and ours, as for pidfiles: whoever may write it may swap the
 * key.  The result is read back and checked.
 * Returns 0, or -1 with the reason in e. */
int cert_make(const char *file, const char *hostname, int days,
    struct err *e);

/* The same with a chosen validity, notBefore and notAfter given in
 * seconds from now (negative: in the past), for tests and for check's
 * own tests: an expired certificate is -864000, -259200.  The result is
 * read back and must parse and match; its dates are not checked. */
int cert_make_validity(const char *file, const char *hostname,
    long long not_before, long long not_after, struct err *e);

/* Reads file and checks that it holds a certificate and the private key
 * that matches it (dates not looked at).  Returns 0, or -1 with e. */
int cert_verify_pair(const char *file, struct err *e);

/* The name for a new certificate: the first line of QMAIL/control/me if
 * it is readable and not empty, else gethostname(), else "localhost".
 * Returns buf. */
const char *cert_default_hostname(const char *qmail_dir, char *buf,
    size_t size);

#endif
