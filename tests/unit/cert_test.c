/* cert_test: cert_make() and cert_check(), every reason a certificate
 * file is refused, and the warnings.  Prints TAP.  All files live in a
 * mkdtemp directory under /tmp that is removed at exit.
 *
 * The uid cases use 65534 (nobody) against root-owned files, so some need
 * root (chown); they are skipped otherwise.  Not tested: supplementary
 * groups from getgrouplist (would need a user created for the test). */
#include "cert.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* The uid and gid of nobody on Debian, a user that owns nothing. */
#define NOBODY 65534
#define HOST "mail.test"

static char tmpdir[64];

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

/* tmpdir/name, in a static buffer of its own per call site's slot. */
static const char *at(const char *name)
{
	static char bufs[8][256];
	static int next;
	char *b = bufs[next++ % 8];

	snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
	return b;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *text = calloc(1, 65536);
	size_t n;

	if (!f || !text) {
		if (f)
			fclose(f);
		free(text);
		return NULL;
	}
	n = fread(text, 1, 65535, f);
	text[n] = 0;
	fclose(f);
	return text;
}

static void spit(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	chmod(path, mode);
}

/* The PEM block that begins with "-----BEGIN what", with its newline. */
static char *block(const char *text, const char *what)
{
	char begin[64], end[64];
	const char *a, *b;

	snprintf(begin, sizeof begin, "-----BEGIN %s-----", what);
	snprintf(end, sizeof end, "-----END %s-----\n", what);
	a = text ? strstr(text, begin) : NULL;
	b = a ? strstr(a, end) : NULL;
	if (!b)
		return strdup("");
	return strndup(a, (size_t)(b - a) + strlen(end));
}

static int mkcert(const char *name, long long nb, long long na)
{
	struct err err;
	int rc = cert_make_validity(at(name), HOST, nb, na, &err);

	if (rc < 0)
		diag("cert_make_validity", err.text);
	return rc;
}

static struct cert_report check(const char *name, uid_t uid, gid_t gid,
    long warn)
{
	struct cert_report r;

	cert_check(at(name), uid, gid, warn, &r);
	diag("error", r.err.text);
	diag("warning", r.warning);
	return r;
}

static int check_rc(const char *name, uid_t uid, gid_t gid, long warn)
{
	struct cert_report r;

	return cert_check(at(name), uid, gid, warn, &r);
}

/* ---- cert_make ---- */

static int no_temp_left(void)
{
	DIR *d = opendir(tmpdir);
	struct dirent *e;
	int found = 0;

	while (d && (e = readdir(d)) != NULL)
		if (strstr(e->d_name, ".tmp"))
			found = 1;
	if (d)
		closedir(d);
	return !found;
}

/* An independent reading by the openssl binary, if there is one. */
static void openssl_agrees(const char *file)
{
	const char *want[] = {
		"CN = " HOST, "DNS:" HOST, "CA:FALSE", "Digital Signature",
		"TLS Web Server Authentication", "ecdsa-with-SHA256",
		"prime256v1",
	};
	char cmd[1024], *out;
	size_t i, n;
	FILE *p;
	int all = 1;

	if (access("/usr/bin/openssl", X_OK) != 0) {
		skip("openssl x509 reads subject, SAN and extensions",
		    "no openssl binary");
		return;
	}
	snprintf(cmd, sizeof cmd, "/usr/bin/openssl x509 -noout -subject "
	    "-ext subjectAltName -in '%s' 2>&1 && /usr/bin/openssl x509 "
	    "-noout -text -in '%s' 2>&1", file, file);
	out = calloc(1, 65536);
	p = popen(cmd, "r");
	n = p && out ? fread(out, 1, 65535, p) : 0;
	if (p)
		pclose(p);
	if (out)
		out[n] = 0;
	for (i = 0; i < sizeof want / sizeof want[0]; i++)
		if (!out || !strstr(out, want[i])) {
			diag("openssl x509 lacks", want[i]);
			all = 0;
		}
	ok(all, "openssl x509 reads subject, SAN and extensions");
	free(out);
}

static ASN1_INTEGER *serial_of(const char *file)
{
	FILE *f = fopen(file, "r");
	X509 *x = f ? PEM_read_X509(f, NULL, NULL, NULL) : NULL;
	ASN1_INTEGER *s = x ? ASN1_INTEGER_dup(X509_get0_serialNumber(x)) :
	    NULL;

	if (f)
		fclose(f);
	X509_free(x);
	return s;
}

static void test_make(void)
{
	struct cert_report r;
	struct err err;
	char *text;
	ASN1_INTEGER *s1, *s2;
	struct stat st;
	int rc;

	ok(cert_make(at("a.pem"), HOST, 365, &err) == 0 && !err.text[0],
	    "cert_make: made");
	diag("cert_make", err.text);
	ok(stat(at("a.pem"), &st) == 0 && (st.st_mode & 07777) == 0600,
	    "cert_make: mode 0600");
	rc = cert_check(at("a.pem"), 0, 0, 30, &r);
	ok(rc == 0 && !r.err.text[0] && !strcmp(r.subject_cn, HOST) &&
	    (r.days_left == 364 || r.days_left == 365) && r.not_after[0] &&
	    !r.expiring && !r.key_exposed && !r.warning[0],
	    "cert_check: parses, key matches, CN %s, %ld days", r.subject_cn,
	    r.days_left);
	openssl_agrees(at("a.pem"));
	ok(cert_make(at("b.pem"), HOST, 30, &err) == 0,
	    "cert_make: a second one");
	s1 = serial_of(at("a.pem"));
	s2 = serial_of(at("b.pem"));
	ok(s1 && s2 && ASN1_INTEGER_cmp(s1, s2) != 0,
	    "cert_make: serials differ");
	ASN1_INTEGER_free(s1);
	ASN1_INTEGER_free(s2);

	spit(at("victim"), "precious\n", 0644);
	if (symlink(at("victim"), at("link.pem")) < 0)
		diag("symlink", strerror(errno));
	rc = cert_make(at("link.pem"), HOST, 10, &err);
	text = slurp(at("victim"));
	ok(rc == 0 && lstat(at("link.pem"), &st) == 0 && S_ISREG(st.st_mode) &&
	    text && !strcmp(text, "precious\n"),
	    "cert_make: a symlink at the target is replaced, not followed");
	free(text);
	ok(no_temp_left(), "cert_make: no temporary file left");

	ok(cert_make(at("bad.pem"), "evil,DNS:x", 10, &err) < 0 &&
	    strstr(err.text, "invalid host name") && access(at("bad.pem"), F_OK) < 0,
	    "cert_make: a host name that is no DNS name is refused");
	ok(cert_make(at("nodir/x.pem"), HOST, 10, &err) < 0 &&
	    strstr(err.text, "No such file or directory"),
	    "cert_make: missing directory is an error");
	diag("said", err.text);
	ok(cert_make(at("c.pem"), HOST, 0, &err) < 0,
	    "cert_make: zero days refused");
	ok(no_temp_left(), "cert_make: no temporary file left after failures");
}

/* ---- cert_check: each reason ---- */

static void make_variants(void)
{
	char *a = slurp(at("a.pem")), *b = slurp(at("b.pem"));
	char *cert_a = block(a, "CERTIFICATE");
	char *key_a = block(a, "PRIVATE KEY"), *key_b = block(b, "PRIVATE KEY");
	char both[16384];

	spit(at("certonly.pem"), cert_a, 0600);
	spit(at("keyonly.pem"), key_a, 0600);
	snprintf(both, sizeof both, "%s%s", key_b, cert_a);
	spit(at("otherkey.pem"), both, 0600);
	snprintf(both, sizeof both, "%s%s", key_a, cert_a);
	spit(at("keyfirst.pem"), both, 0600);
	free(a);
	free(b);
	free(cert_a);
	free(key_a);
	free(key_b);
}

/* cert a's certificate with its key encrypted under a passphrase. */
static void make_encrypted(void)
{
	FILE *in = fopen(at("a.pem"), "r"), *out;
	EVP_PKEY *key = NULL;
	X509 *x = NULL;

	if (in) {
		x = PEM_read_X509(in, NULL, NULL, NULL);
		rewind(in);
		key = PEM_read_PrivateKey(in, NULL, NULL, NULL);
		fclose(in);
	}
	out = fopen(at("encrypted.pem"), "w");
	if (out && x && key) {
		PEM_write_X509(out, x);
		PEM_write_PrivateKey(out, key, EVP_aes_256_cbc(), NULL, 0, NULL,
		    "secret");
	}
	if (out)
		fclose(out);
	X509_free(x);
	EVP_PKEY_free(key);
}

static void test_reasons(void)
{
	char want[512];
	struct cert_report r;

	make_variants();
	make_encrypted();
	r = check("missing.pem", 0, 0, 30);
	snprintf(want, sizeof want, "certificate %s: No such file or directory",
	    at("missing.pem"));
	ok(!strcmp(r.err.text, want), "check: missing file");
	r = check("certonly.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": no private key in file") != NULL,
	    "check: certificate without key");
	r = check("keyonly.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": no certificate in file") != NULL,
	    "check: key without certificate");
	r = check("otherkey.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": key does not match certificate") != NULL,
	    "check: key of another certificate");
	ok(check_rc("keyfirst.pem", 0, 0, 30) == 0,
	    "check: key before certificate is fine");
	r = check("encrypted.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": private key is encrypted") != NULL,
	    "check: encrypted key, no passphrase prompt");

	mkcert("expired.pem", -10 * 86400LL, -3 * 86400LL - 60);
	r = check("expired.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": expired 3 days ago (notAfter ") != NULL &&
	    r.days_left == -3, "check: expired");
	mkcert("future.pem", 2 * 86400LL, 30 * 86400LL);
	r = check("future.pem", 0, 0, 30);
	ok(strstr(r.err.text, ": not yet valid (notBefore ") != NULL,
	    "check: not yet valid");

	mkcert("soon.pem", -86400LL, 5 * 86400LL);
	r = check("soon.pem", 0, 0, 30);
	ok(check_rc("soon.pem", 0, 0, 30) == 0 && r.expiring &&
	    (r.days_left == 4 || r.days_left == 5) &&
	    strstr(r.warning, ": expires in "),
	    "check: expiring within warn days is OK with a warning");
	ok(cert_check(at("soon.pem"), 0, 0, 3, &r) == 0 && !r.expiring,
	    "check: not expiring within 3 days");

	ok(check_rc(".", 0, 0, 30) < 0 && strstr(check(".", 0, 0, 30).err.text,
	    "not a regular file"), "check: a directory is refused");
	if (mkfifo(at("fifo.pem"), 0600) == 0)
		ok(check_rc("fifo.pem", 0, 0, 30) < 0,
		    "check: a FIFO is refused without hanging");
	else
		skip("check: a FIFO is refused without hanging", "mkfifo");
}

/* ---- who may read it ---- */

static void test_permissions(void)
{
	struct cert_report r;
	struct err err;
	int root = geteuid() == 0;

	/* mkdtemp made tmpdir 0700: open it so only the file bits count. */
	chmod(tmpdir, 0711);
	cert_make(at("perm.pem"), HOST, 365, &err);
	r = check("perm.pem", NOBODY, NOBODY, 30);
	if (geteuid() == NOBODY)
		skip("check: a 0600 file of another user is unreadable by "
		    "nobody", "running as nobody");
	else
		ok(strstr(r.err.text, ": not readable by uid 65534 (owner ") !=
		    NULL, "check: a 0600 file of another user is unreadable "
		    "by nobody");

	chmod(at("perm.pem"), 0644);
	r = check("perm.pem", NOBODY, NOBODY, 30);
	ok(cert_check(at("perm.pem"), NOBODY, NOBODY, 30, &r) == 0 &&
	    r.key_exposed && strstr(r.warning, "readable by others"),
	    "check: other-readable key is usable but exposed");

	chmod(at("perm.pem"), 0640);
	if (root && chown(at("perm.pem"), 0, NOBODY) == 0) {
		ok(cert_check(at("perm.pem"), NOBODY, NOBODY, 30, &r) == 0 &&
		    !r.key_exposed, "check: group-readable by the service's "
		    "group: readable, not exposed");
		ok(cert_check(at("perm.pem"), 0, 0, 30, &r) == 0 &&
		    r.key_exposed &&
		    strstr(r.warning, "readable by group 65534"),
		    "check: group-readable by another group is exposed");
		chown(at("perm.pem"), NOBODY, 0);
		chmod(at("perm.pem"), 0044);
		ok(check_rc("perm.pem", NOBODY, 0, 30) < 0,
		    "check: an owner without the owner bit may not read");
		chmod(at("perm.pem"), 0600);
		ok(check_rc("perm.pem", 0, 0, 30) == 0,
		    "check: root reads a 0600 file it does not own");
	} else {
		skip("check: group-readable by the service's group",
		    "not root");
		skip("check: group-readable by another group", "not root");
		skip("check: an owner without the owner bit", "not root");
		skip("check: root reads a 0600 file", "not root");
	}

	mkdir(at("closed"), 0700);
	cert_make(at("closed/x.pem"), HOST, 365, &err);
	chmod(at("closed/x.pem"), 0644);
	r = check("closed/x.pem", NOBODY, NOBODY, 30);
	if (geteuid() == NOBODY)
		skip("check: a file in a directory nobody may search",
		    "running as nobody");
	else
		ok(strstr(r.err.text, "not readable by uid 65534 (directory ") &&
		    strstr(r.err.text, "closed is not searchable)"),
		    "check: a file in a directory nobody may search is "
		    "unreadable");
}

static void test_hostname(void)
{
	char buf[256], host[256];

	mkdir(at("qmail"), 0755);
	mkdir(at("qmail/control"), 0755);
	spit(at("qmail/control/me"), "mx.example.org \r\nsecond\n", 0644);
	ok(!strcmp(cert_default_hostname(at("qmail"), buf, sizeof buf),
	    "mx.example.org"), "default hostname: control/me, first line");
	spit(at("qmail/control/me"), "\n", 0644);
	gethostname(host, sizeof host);
	host[sizeof host - 1] = 0;
	ok(!strcmp(cert_default_hostname(at("qmail"), buf, sizeof buf), host),
	    "default hostname: empty control/me, gethostname()");
	ok(!strcmp(cert_default_hostname(at("none"), buf, sizeof buf), host),
	    "default hostname: no control/me, gethostname()");
}

int main(void)
{
	make_tmpdir(tmpdir, sizeof tmpdir, "cert");
	atexit(cleanup);
	test_make();
	test_reasons();
	test_permissions();
	test_hostname();
	return done_testing();
}
