/* preflight.c: what must hold before a service is started, and in which
 * order it is checked: the cheap facts first, stunnel's own verdict on
 * its config (a process) after what we can read ourselves.
 *
 * 1. Its working directory exists.
 * 2. For a service with "cert": the certificate is usable by the user its
 *    TLS program runs as (cert.h).
 * 3. For a service that runs stunnel: its config is one for inetd mode,
 *    the program it execs and the certificate it loads are there, and
 *    stunnel accepts the config (stunnel.h).
 * 4. For a POP3 service: the checkpassword program qmail-popup runs is
 *    there and may be run by the POP3 user (checkpassword.h). */
#include "preflight.h"
#include "checkpassword.h"
#include "msg.h"
#include "stunnel.h"
#include "transition.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

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

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* As tcpserver's scan_ulong: the leading digits, 0 if there are none. */
static unsigned long leading_number(const char *s)
{
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

static const char *env_value(const struct service *svc, const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; svc->env[i]; i++)
		if (!strncmp(svc->env[i], name, n) && svc->env[i][n] == '=')
			return svc->env[i] + n + 1;
	return NULL;
}

/* tcpserver's options (ucspi-tcp 0.88: "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO"),
 * in order, clustered or not, up to the first word that is not one. */
static void tcpserver_ids(const struct service *svc, char *const *argv,
    uid_t *uid, gid_t *gid)
{
	const char *with_arg = "xtuglbBc", *w, *arg;
	size_t i;

	for (i = 1; (w = argv[i]) != NULL && w[0] == '-' && w[1]; i++) {
		if (!strcmp(w, "--"))
			return;
		for (w++; *w; w++) {
			if (*w == 'U') {
				if ((arg = env_value(svc, "UID")) != NULL)
					*uid = (uid_t)leading_number(arg);
				if ((arg = env_value(svc, "GID")) != NULL)
					*gid = (gid_t)leading_number(arg);
				continue;
			}
			if (!strchr(with_arg, *w))
				continue;
			arg = w[1] ? w + 1 : argv[++i];
			if (!arg)
				return;
			if (*w == 'u')
				*uid = (uid_t)leading_number(arg);
			else if (*w == 'g')
				*gid = (gid_t)leading_number(arg);
			break;
		}
	}
}

void preflight_ids(const struct service *svc, uid_t *uid, gid_t *gid)
{
	size_t i;

	*uid = 0;
	*gid = 0;
	for (i = 0; svc->run[i]; i++)
		if (!strcmp(base_name(svc->run[i]), "tcpserver")) {
			tcpserver_ids(svc, svc->run + i, uid, gid);
			return;
		}
}

int preflight_cert(const struct unit *u, struct cert_report *r)
{
	uid_t uid;
	gid_t gid;

	preflight_ids(u->svc, &uid, &gid);
	return cert_check(u->svc->cert, uid, gid, u->site->cert_warn_days, r);
}

static int check_cert(struct unit *u)
{
	struct cert_report r;

	if (!u->svc->cert)
		return EXIT_OK;
	if (preflight_cert(u, &r) < 0) {
		sayerr(u, "%s", r.err.text);
		return EXIT_FAILED;
	}
	if (r.warning[0])
		preflight_warn(u, "%s", r.warning);
	return EXIT_OK;
}

/* ---- the checks, in order ---- */

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

int preflight(struct unit *u)
{
	int rc;

	if ((rc = check_directory(u)) != EXIT_OK ||
	    (rc = check_cert(u)) != EXIT_OK ||
	    (rc = check_stunnel(u)) != EXIT_OK)
		return rc;
	return check_checkpassword(u);
}
