/* cert_pem.c: what a certificate+key PEM file holds, read by OpenSSL:
 * its first certificate, the private key that must match it, and the
 * certificate's dates and subject.  The judging of it (who may read it,
 * is now within its dates) is cert_check.c's, which needs no OpenSSL;
 * qmailctl reaches this file through qmailctl-tls.so (tls_plugin.h). */
#include "cert.h"
#include "msg.h"
#include "readfile.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* A certificate, its key and a chain fit in a few KiB; a file larger than
 * this is not one, and we will not read it into memory. */
#define CERT_MAX_BYTES (1024 * 1024)
/* The subject CN comes from whoever made the certificate: quoted up to
 * this many bytes. */
#define CN_QUOTE 80

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

/* A certificate's time as seconds since 1970, and as OpenSSL prints it. */
static int read_time(const ASN1_TIME *t, long long *at, char *text,
    size_t size)
{
	struct tm tm;

	time_text(t, text, size);
	if (!ASN1_TIME_to_tm(t, &tm))
		return -1;
	*at = (long long)timegm(&tm);
	return 0;
}

int cert_pem_read(const char *file, struct cert_pem *pem, struct err *e)
{
	struct pair p;
	int rc = -1;

	memset(pem, 0, sizeof *pem);
	if (pair_load(file, &p, e) < 0)
		;
	else if (read_time(X509_get0_notBefore(p.x), &pem->not_before,
	    pem->not_before_text, sizeof pem->not_before_text) < 0)
		err_set(e, "unreadable notBefore");
	else if (read_time(X509_get0_notAfter(p.x), &pem->not_after,
	    pem->not_after_text, sizeof pem->not_after_text) < 0)
		err_set(e, "unreadable notAfter");
	else
		rc = 0;
	if (p.x) {
		pem->has_cert = 1;
		subject_cn(p.x, pem->subject_cn, sizeof pem->subject_cn);
	}
	pair_free(&p);
	return rc;
}

const char *cert_pem_library(void)
{
	Dl_info info;

	if (!dladdr((void *)OpenSSL_version_num, &info) || !info.dli_fname ||
	    info.dli_fname[0] != '/')
		return NULL;
	return info.dli_fname;
}
