/* preflight.c: what must hold before a service is started, and in which
 * order it is checked: the cheap facts first, stunnel's own verdict on
 * its config (a process) after what we can read ourselves.
 *
 * 1. Its working directory exists.
 * 2. For a service run by tcpserver: its -x database is there, and the
 *    program it runs is installed (tcpserver.h).
 * 3. For a service with "cert": the certificate is usable by the user its
 *    TLS program runs as (cert.h).
 * 4. For a service that runs stunnel: its config is one for inetd mode,
 *    the program it execs and the certificate it loads are there, and
 *    stunnel accepts the config (stunnel.h).
 * 5. For a POP3 service: the checkpassword program qmail-popup runs is
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

/* Read once, when the service was loaded (tcpserver.h). */
void preflight_ids(const struct service *svc, uid_t *uid, gid_t *gid)
{
	*uid = svc->tcpserver.uid;
	*gid = svc->tcpserver.gid;
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
	    (rc = tcpserver_check(u)) != EXIT_OK ||
	    (rc = check_cert(u)) != EXIT_OK ||
	    (rc = check_stunnel(u)) != EXIT_OK)
		return rc;
	return check_checkpassword(u);
}
