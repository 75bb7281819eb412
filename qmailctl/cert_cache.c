/* cert_cache.c: start's certificate check remembered across starts
 * (cert_cache.h). */
#include "cert_cache.h"
#include "report.h"
#include "rundir.h"
#include "stamp.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The stamp (stamp.h) of what the verdict depends on: the file, and the
 * libcrypto that parsed it (a new one may judge a key otherwise). */
static void cert_stamp(const char *file, const char *libcrypto, char *buf,
    size_t size)
{
	snprintf(buf, size, "qmailctl cert check 2\n");
	stamp_file(buf, size, "libcrypto", libcrypto);
	stamp_file(buf, size, "cert", file);
}

/* One "KEY VALUE" line of text into value; NULL if not there. */
static const char *field(const char *text, const char *key, char *value,
    size_t size)
{
	size_t klen = strlen(key);
	const char *p = text, *nl;

	for (; p && *p; p = nl ? nl + 1 : NULL) {
		nl = strchr(p, '\n');
		if (!nl)
			return NULL;
		if (!strncmp(p, key, klen) && p[klen] == ' ') {
			snprintf(value, size, "%.*s", (int)(nl - p - klen - 1),
			    p + klen + 1);
			return value;
		}
	}
	return NULL;
}

/* The libcrypto a kept stamp names ("libcrypto PATH FINGERPRINT"): its
 * stamp now is compared with the kept one, and OpenSSL is not loaded to
 * ask which it is. */
static const char *kept_libcrypto(const char *kept, char *path, size_t size)
{
	char *sp;

	if (!field(kept, "libcrypto", path, size) || !(sp = strrchr(path, ' ')))
		return NULL;
	*sp = 0;
	return path;
}

/* What was learnt, after the stamp: 0 when all of it is there. */
static int known_parse(const char *text, struct cert_known *k)
{
	char num[32];
	char *end;

	memset(k, 0, sizeof *k);
	if (!field(text, "not_before", num, sizeof num))
		return -1;
	k->not_before = strtoll(num, &end, 10);
	if (*end || !field(text, "not_after", num, sizeof num))
		return -1;
	k->not_after = strtoll(num, &end, 10);
	if (*end || k->not_after <= 0 ||
	    !field(text, "not_after_text", k->not_after_text,
	    sizeof k->not_after_text) ||
	    !field(text, "cn", k->subject_cn, sizeof k->subject_cn))
		return -1;
	return 0;
}

static void known_format(const struct cert_known *k, char *buf, size_t size)
{
	size_t n = strlen(buf);

	if (n < size)
		snprintf(buf + n, size - n, "not_before %lld\nnot_after %lld\n"
		    "not_after_text %s\ncn %s\n", k->not_before, k->not_after,
		    k->not_after_text, k->subject_cn);
}

int cert_check_remembered(const struct unit *u, const char *file, uid_t uid,
    gid_t gid, struct cert_report *r)
{
	char stamp[2 * PATH_MAX + 1024], kept[sizeof stamp + 512],
	    name[NAME_MAX + 1], lib[PATH_MAX + 128];
	const char *parser;
	long warn = u->site->cert_warn_days;
	struct cert_known k;
	struct err e;
	int rc;

	if (u->opts->dry_run || !u->rundir || u->rundir->fd < 0)
		return cert_check(file, uid, gid, warn, r);
	snprintf(name, sizeof name, "%s.cert-ok", u->svc->name);
	if (stamp_read(u->rundir->fd, name, kept, sizeof kept) > 0 &&
	    kept_libcrypto(kept, lib, sizeof lib) &&
	    (cert_stamp(file, lib, stamp, sizeof stamp),
	    !strncmp(kept, stamp, strlen(stamp))) &&
	    known_parse(kept + strlen(stamp), &k) == 0 &&
	    (rc = cert_check_known(file, uid, gid, warn, &k, r)) != 1) {
		sayv(u, "certificate %s: unchanged since it was parsed", file);
		return rc;
	}
	unlinkat(u->rundir->fd, name, 0);
	rc = cert_check_learn(file, uid, gid, warn, r, &k);
	/* Not remembered: the next start parses it again; nothing worse. */
	if (rc < 0 || k.not_after <= 0 || !(parser = cert_pem_library()))
		return rc;
	cert_stamp(file, parser, stamp, sizeof stamp);
	known_format(&k, stamp, sizeof stamp);
	if (stamp_keep(u->rundir->fd, u->rundir->path, name, stamp, &e) < 0)
		sayv(u, "unable to remember the certificate check: %s", e.text);
	return rc;
}
