/* cert_make.c: a self-signed certificate+key PEM for a TLS service, as
 * qmail-tls' `make cert` makes one, for testing and for a first start
 * before a CA-signed certificate is installed.  With libcrypto: no
 * openssl binary, no shell.  Its name and days, and the check of what
 * was made, are cert_new.c's. */
#include "cert.h"
#include "atomic.h"

#include <stdio.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The file holds the private key: the owner (the service's user, after a
 * chown) reads it, nobody else. */
#define CERT_MODE 0600

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

/* Sets a certificate time to now + seconds, splitting days off so that
 * a long of 32 bits does not overflow. */
static int set_cert_time(ASN1_TIME *t, long long seconds)
{
	return X509_time_adj_ex(t, (int)(seconds / CERT_DAY_SECONDS),
	    (long)(seconds % CERT_DAY_SECONDS), NULL) != NULL;
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
	    !set_cert_time(X509_getm_notBefore(x), nb) ||
	    !set_cert_time(X509_getm_notAfter(x), na) ||
	    !X509_set_pubkey(x, key))
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

/* Writes the PEM atomically and reads it back: what is on disk is what
 * counts. */
static int write_pem(const char *file, BIO *pem, struct err *e)
{
	char *data;
	long len = BIO_get_mem_data(pem, &data);

	if (len <= 0)
		return err_set(e, "certificate %s: unable to make", file);
	if (atomic_write(file, data, (size_t)len, CERT_MODE,
	    ATOMIC_CHECK_DIR | ATOMIC_DURABLE, e) < 0)
		return err_prefix(e, "certificate %s", file);
	if (cert_verify_pair(file, e) < 0)
		return err_prefix(e, "certificate %s", file);
	return 0;
}

int cert_make_validity(const char *file, const char *hostname,
    long long not_before, long long not_after, struct err *e)
{
	const char *reason;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;
	BIO *pem = NULL;
	int rc = -1;

	if (e)
		e->text[0] = 0;
	if (!valid_hostname(hostname))
		return err_set(e, "certificate %s: invalid host name '%.80s'",
		    file, hostname);
	if (not_after <= not_before)
		return err_set(e, "certificate %s: notAfter is not after "
		    "notBefore", file);
	if (!(key = EVP_EC_gen("P-256")) ||
	    !(x = build_cert(key, hostname, not_before, not_after)) ||
	    !(pem = pem_pair(x, key))) {
		reason = ERR_reason_error_string(ERR_peek_last_error());
		err_set(e, "certificate %s: unable to make: %s", file,
		    reason ? reason : "unknown error");
	} else
		rc = write_pem(file, pem, e);
	BIO_free(pem);
	X509_free(x);
	EVP_PKEY_free(key);
	ERR_clear_error();
	return rc;
}
