/* certcmd.c: `qmailctl cert [FILE]`: a self-signed certificate and its
 * key in one PEM, as qmail-tls' `make cert` makes, for testing and for a
 * first start before a CA-signed certificate is installed.
 *
 * FILE: the one given; else the site's "cert"; else the "cert" of the
 * default services, when they name one file.  The name in it (CN and
 * subjectAltName): the site's "hostname"; else the first line of
 * QMAIL/control/me (QMAIL: the site's "qmail"); else the host name.
 *
 * An existing FILE is never replaced without --force: it may be the
 * CA-signed certificate of the host, and its key would be gone.
 *
 * The file is written atomically with mode 0600, owned by us (root).
 * When the default services that use it run their TLS program as a user
 * other than root (tcpserver -u, -g), it is then given their group and
 * mode 0640, so that exactly that group may read the key; when they run
 * in different groups it stays 0600 and we say so. */
#include "certcmd.h"
#include "cert.h"
#include "msg.h"
#include "service.h"
#include "preflight.h"
#include "transition.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct users {
	struct service *svcs;   /* the default services that loaded */
	size_t n;
};

/* The default services that have a file: a default without one is
 * reported by every other command, and is no business of cert. */
static void load_defaults(const struct site *site, struct users *us)
{
	struct err err;
	char **known;
	size_t i, n;

	for (n = 0; site->names[n]; n++)
		;
	us->svcs = xcalloc(n, sizeof *us->svcs);
	us->n = 0;
	if (conf_list_services(site, &known, &err) < 0) {
		warn("%s (no service looked at)", err.text);
		return;
	}
	for (i = 0; i < n; i++) {
		char **k;

		for (k = known; *k && strcmp(*k, site->names[i]); k++)
			;
		if (!*k)
			continue;
		if (service_load(site, site->names[i], &us->svcs[us->n],
		    &err) < 0) {
			warn("%s (not looked at)", err.text);
			continue;
		}
		us->n++;
	}
	conf_free_argv(known);
}

static void free_defaults(struct users *us)
{
	size_t i;

	for (i = 0; i < us->n; i++)
		conf_free_service(&us->svcs[i]);
	free(us->svcs);
}

/* The file the default services name, if they name exactly one. */
static const char *services_cert(const struct site *site,
    const struct users *us)
{
	const char *file = NULL;
	size_t i;

	for (i = 0; i < us->n; i++) {
		const char *c = us->svcs[i].cert;

		if (!c)
			continue;
		if (file && strcmp(file, c))
			die(EXIT_USAGE, "cert: the default services use several "
			    "certificates (%s, %s): name the FILE", file, c);
		file = c;
	}
	if (!file)
		die(EXIT_USAGE, "cert: no FILE given, and neither %s nor the "
		    "default services name one", site->file);
	return file;
}

static int same_file(const char *a, const char *b)
{
	char ra[PATH_MAX], rb[PATH_MAX];

	return realpath(a, ra) && realpath(b, rb) && !strcmp(ra, rb);
}

/* Gives file to the one group the services using it run as, mode 0640.
 * Returns that gid, or (gid_t)-1 when it is left as it is. */
static gid_t share_with_group(const char *file, const struct users *us)
{
	gid_t want = (gid_t)-1;
	uid_t uid;
	gid_t gid;
	size_t i;
	int fd;

	for (i = 0; i < us->n; i++) {
		if (!us->svcs[i].cert || !same_file(us->svcs[i].cert, file))
			continue;
		preflight_ids(&us->svcs[i], &uid, &gid);
		if (uid == 0)
			continue;       /* root reads it as it is */
		if (want != (gid_t)-1 && want != gid) {
			warn("cert: the services using %s run in groups %u and "
			    "%u: it stays mode 0600; give it a group both are "
			    "in", file, (unsigned)want, (unsigned)gid);
			return (gid_t)-1;
		}
		want = gid;
	}
	if (want == (gid_t)-1)
		return want;
	fd = open(file, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fchown(fd, (uid_t)-1, want) < 0 ||
	    fchmod(fd, 0640) < 0) {
		warn_sys("cert: unable to give %s to group %u", file,
		    (unsigned)want);
		want = (gid_t)-1;
	}
	if (fd >= 0)
		close(fd);
	return want;
}

/* Says which services could not use the new file, if any. */
static void try_services(const char *file, const struct users *us)
{
	struct cert_report r;
	uid_t uid;
	gid_t gid;
	size_t i;

	for (i = 0; i < us->n; i++) {
		if (!us->svcs[i].cert || !same_file(us->svcs[i].cert, file))
			continue;
		preflight_ids(&us->svcs[i], &uid, &gid);
		if (cert_check(file, uid, gid, 0, &r) < 0)
			warn("cert: %s cannot use it: %s", us->svcs[i].name,
			    r.err.text);
	}
}

/* Refuses to replace a file, saying what it holds. */
static _Noreturn void refuse(const char *file)
{
	struct cert_report r;

	if (cert_check(file, geteuid(), getegid(), 0, &r) == 0)
		die(EXIT_FAILED, "cert: %s exists (a certificate for '%s', "
		    "expires in %ld days): --force replaces it", file,
		    r.subject_cn, r.days_left);
	die(EXIT_FAILED, "cert: %s exists (%s): --force replaces it", file,
	    r.err.text);
}

int cert_command(const struct site *site, char **args, int nargs,
    const struct opts *opts, int force)
{
	const char *file, *host;
	char hostbuf[256];
	struct err err;
	struct users us;
	struct stat st;
	struct group *gr;
	gid_t gid;

	if (nargs > 1)
		die(EXIT_USAGE, "cert takes one FILE, not %d", nargs);
	load_defaults(site, &us);
	if (nargs == 1)
		file = args[0];
	else if (!(file = site->cert))
		file = services_cert(site, &us);
	if (!(host = site->hostname))
		host = cert_default_hostname(site->qmail, hostbuf,
		    sizeof hostbuf);
	if (lstat(file, &st) == 0 && !force)
		refuse(file);
	if (opts->dry_run) {
		msg_line(1, "cert", NULL, "would write %s (CN %s, valid %d days, "
		    "P-256)", file, host, CERTCMD_DAYS);
		free_defaults(&us);
		return EXIT_OK;
	}
	if (cert_make(file, host, CERTCMD_DAYS, &err) < 0)
		die(EXIT_FAILED, "cert: %s", err.text);
	gid = share_with_group(file, &us);
	if (!opts->quiet) {
		msg_line(1, "cert", NULL, "wrote %s (CN %s, expires in %d days)",
		    file, host, CERTCMD_DAYS);
		gr = gid != (gid_t)-1 ? getgrgid(gid) : NULL;
		if (gid != (gid_t)-1)
			msg_line(1, "cert", NULL, "%s: mode 0640, group %s%s%u%s: "
			    "the key is readable by the services' group only", file,
			    gr ? gr->gr_name : "", gr ? " (" : "",
			    (unsigned)gid, gr ? ")" : "");
	}
	try_services(file, &us);
	free_defaults(&us);
	return EXIT_OK;
}
