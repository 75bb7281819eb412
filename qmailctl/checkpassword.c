/* checkpassword.c: is the checkpassword that qmail-popup runs there, and
 * may the POP3 user, and only that user, run it?  (See checkpassword.h.) */
#include "checkpassword.h"
#include "chain.h"
#include "access_as.h"
#include "msg.h"
#include "stunnel.h"
#include "transition.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The most words of an execArgs we look at: qmail-popup's chain is five. */
#define POPUP_ARGS_MAX 64
/* Where we look for a uid and a gid that nobody has: down from here. */
#define STRANGER_ID 2147483600U
#define STRANGER_TRIES 100

/* Where qmail-popup was found, and how it runs. */
struct popup {
	char *args[POPUP_ARGS_MAX + 1]; /* its argv (words of a copy) */
	char words[PATH_MAX];           /* what args point into */
	char named_by[PATH_MAX + 32];   /* "stunnel config FILE", "run" */
	char root[PATH_MAX];            /* stunnel's chroot, "" if none */
	const char *cwd;                /* its directory (inside root) */
	uid_t uid;
	gid_t gid;
};

const char *checkpassword_of_popup(char *const *argv)
{
	return argv[0] && argv[1] ? argv[2] : NULL;
}

static int is_popup(const char *word)
{
	return !strcmp(chain_base(word), "qmail-popup");
}

/* What tcpserver runs, read once at load (tcpserver.h), through its
 * chain-loaders (chain.h). */
static int popup_in_run(const struct service *svc, struct popup *p)
{
	struct chain c;
	size_t i, n = 0;

	if (!svc->tcpserver.found || chain_read(svc->tcpserver.prog, &c,
	    NULL) < 0 || !is_popup(c.prog))
		return -1;
	p->args[n++] = (char *)c.prog;      /* a word of svc->run */
	for (i = 0; c.args[i] && n < POPUP_ARGS_MAX; i++)
		p->args[n++] = c.args[i];
	p->args[n] = NULL;
	snprintf(p->named_by, sizeof p->named_by, "the service's run line");
	p->cwd = svc->directory;
	return 0;
}

/* stunnel splits execArgs on blanks; argv[0] comes first. */
static void split_words(struct popup *p, const char *text)
{
	char *w, *save = NULL;
	size_t n = 0;

	snprintf(p->words, sizeof p->words, "%s", text);
	for (w = strtok_r(p->words, " \t", &save); w && n < POPUP_ARGS_MAX;
	    w = strtok_r(NULL, " \t", &save))
		p->args[n++] = w;
	p->args[n] = NULL;
}

/* Returns 0 when the stunnel config execs qmail-popup, else -1. */
static int popup_in_stunnel(const struct unit *u, struct popup *p)
{
	struct stunnel_conf c;
	const char *prog, *conf;
	struct err e;

	if (stunnel_find(u->svc, &prog, &conf) < 0 || !conf || conf[0] == '-')
		return -1;
	if (stunnel_read_conf(u->svc->directory, conf, &c, &e) < 0 ||
	    stunnel_exec_ids(&c, &p->uid, &p->gid, &e) < 0)
		return -1;
	if (!c.exec[0] || !is_popup(c.exec) || !c.exec_args[0])
		return -1;
	split_words(p, c.exec_args);
	snprintf(p->named_by, sizeof p->named_by, "stunnel config %s", c.path);
	stunnel_root(&c, u->svc->directory, p->root, sizeof p->root);
	p->cwd = p->root[0] ? "/" : u->svc->directory;
	return 0;
}

/* The program's path as the kernel will be asked for it (inside the
 * root), as execvp finds it: a name with a '/' from the directory, a
 * bare name in the service's PATH.  Returns 0, or -1 when a bare name is
 * in no directory of PATH. */
static int locate(const struct unit *u, const struct popup *p,
    const char *prog, char *buf, size_t size)
{
	char shown[PATH_MAX * 2];
	const char *dir, *end;
	struct stat st;

	if (strchr(prog, '/')) {
		if (prog[0] == '/')
			snprintf(buf, size, "%s", prog);
		else
			snprintf(buf, size, "%s/%s", strcmp(p->cwd, "/") ?
			    p->cwd : "", prog);
		return 0;
	}
	for (dir = u->site->path; *dir; dir = *end ? end + 1 : end) {
		end = dir + strcspn(dir, ":");
		snprintf(buf, size, "%.*s/%s", (int)(end - dir), dir, prog);
		snprintf(shown, sizeof shown, "%s%s", p->root, buf);
		if (end > dir && stat(shown, &st) == 0)
			return 0;
	}
	return -1;
}

static uid_t stranger_uid(void)
{
	uid_t id = STRANGER_ID;
	int i;

	for (i = 0; i < STRANGER_TRIES && getpwuid(id); i++)
		id--;
	return id;
}

static gid_t stranger_gid(void)
{
	gid_t id = STRANGER_ID;
	int i;

	for (i = 0; i < STRANGER_TRIES && getgrgid(id); i++)
		id--;
	return id;
}

static void add_group(gid_t *g, int *n, int max, const char *path)
{
	struct stat st;
	int i;

	/* Group 0 is root's own (and taking it would keep our groups). */
	if (stat(path, &st) < 0 || st.st_gid == 0)
		return;
	for (i = 0; i < *n && g[i] != st.st_gid; i++)
		;
	if (i == *n && *n < max)
		g[(*n)++] = st.st_gid;
}

/* The groups whose members the kernel may let through: that of the file
 * and of every directory leading to it ("/", "/a", "/a/b" of /a/b/c).
 * Returns how many, in g. */
static int path_groups(const char *shown, gid_t *g, int max)
{
	char buf[PATH_MAX];
	char *slash;
	int n = 0;

	if (snprintf(buf, sizeof buf, "%s", shown) >= (int)sizeof buf)
		return 0;
	add_group(g, &n, max, "/");
	for (slash = buf; (slash = strchr(slash + 1, '/')) != NULL; ) {
		*slash = 0;
		add_group(g, &n, max, buf);
		*slash = '/';
	}
	add_group(g, &n, max, buf);
	return n;
}

/* A setuid checkpassword that someone other than the POP3 user may run
 * lets that someone guess passwords as root's helper: say so.  Asked as
 * a uid nobody has, with no group of its own, then in each group on the
 * path. */
static void check_reach(const struct unit *u, const struct popup *p,
    const char *inner, const char *shown)
{
	struct access_answer a;
	char by[48];
	gid_t g[32];
	uid_t stranger = stranger_uid();
	struct err e;
	int n, i;

	g[0] = stranger_gid();
	n = 1 + path_groups(shown, g + 1, 31);
	for (i = 0; i < n; i++) {
		if (access_as_in(p->root[0] ? p->root : NULL, inner, stranger,
		    g[i], X_OK, &a, &e) < 0 || a.error)
			continue;
		if (i == 0)
			snprintf(by, sizeof by, "any user may");
		else
			snprintf(by, sizeof by, "group %u may", (unsigned)g[i]);
		msg_line(2, u->svc->name, "warning", "checkpassword %s is "
		    "setuid, and users other than uid %u may run it (%s): "
		    "put it in a directory only uid %u may enter, mode 0500",
		    shown, (unsigned)p->uid, by, (unsigned)p->uid);
		return;
	}
}

static int check_program(struct unit *u, const struct popup *p,
    const char *prog)
{
	char inner[PATH_MAX], shown[PATH_MAX * 2], why[PATH_MAX + 64];
	struct access_answer a;
	struct stat st;
	struct err e;

	if (locate(u, p, prog, inner, sizeof inner) < 0) {
		sayerr(u, "checkpassword %s is not installed (not found in %s; "
		    "qmail-popup's argument in %s)", prog, u->site->path,
		    p->named_by);
		return EXIT_NOT_INSTALLED;
	}
	snprintf(shown, sizeof shown, "%s%s", p->root, inner);
	if (access_as_in(p->root[0] ? p->root : NULL, inner, p->uid, p->gid,
	    X_OK, &a, &e) < 0) {
		sayerr(u, "checkpassword %s: %s", shown, e.text);
		return EXIT_FAILED;
	}
	if (a.error == ENOENT) {
		sayerr(u, "checkpassword %s is not installed (qmail-popup's "
		    "argument in %s)", shown, p->named_by);
		return EXIT_NOT_INSTALLED;
	}
	if (a.error || stat(shown, &st) < 0 || !S_ISREG(st.st_mode)) {
		sayerr(u, "checkpassword %s is not executable by uid %u (%s; "
		    "qmail-popup's argument in %s)", shown, (unsigned)p->uid,
		    a.error ? access_as_why(&a, shown, why, sizeof why) :
		    "not a regular file", p->named_by);
		return EXIT_NOT_INSTALLED;
	}
	if (st.st_mode & S_ISUID)
		check_reach(u, p, inner, shown);
	return EXIT_OK;
}

int checkpassword_preflight(struct unit *u, uid_t uid, gid_t gid)
{
	struct popup p;
	const char *prog;

	memset(&p, 0, sizeof p);
	p.uid = uid;
	p.gid = gid;
	/* A stunnel config that cannot be read was reported by its own
	 * check, which comes first. */
	if (popup_in_run(u->svc, &p) < 0 && popup_in_stunnel(u, &p) < 0)
		return EXIT_OK;
	if (!(prog = checkpassword_of_popup(p.args))) {
		sayerr(u, "qmail-popup in %s has no checkpassword argument "
		    "(qmail-popup HOSTNAME CHECKPASSWORD SUBPROGRAM...)",
		    p.named_by);
		return EXIT_CONFIG;
	}
	return check_program(u, &p, prog);
}
