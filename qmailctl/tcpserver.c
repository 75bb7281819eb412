/* tcpserver.c: tcpserver's options read once (see tcpserver.h), and the
 * check of what tcpserver will need for every connection. */
#include "tcpserver.h"
#include "chain.h"
#include "conf.h"
#include "exitcode.h"
#include "report.h"
#include "spawn.h"
#include "unit.h"

#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

struct ids {
	struct tcpserver *t;
	char *const *env;
	const char *envuid;     /* envuidgid's account before tcpserver */
};

/* As tcpserver's scan_ulong: the leading digits, 0 if there are none. */
static unsigned long leading_number(const char *s)
{
	unsigned long v = 0;

	for (; *s >= '0' && *s <= '9'; s++)
		v = v * 10 + (unsigned long)(*s - '0');
	return v;
}

static const char *env_value(char *const *env, const char *name)
{
	const char *found = NULL;
	size_t n = strlen(name), i;

	/* envuidgid and the env lines set it; the last line wins. */
	for (i = 0; env && env[i]; i++)
		if (!strncmp(env[i], name, n) && env[i][n] == '=')
			found = env[i] + n + 1;
	return found;
}

/* -U: tcpserver takes $UID and $GID, which envuidgid (if it ran first)
 * set from its account, else the service's env lines. */
static void ids_from_env(struct ids *x)
{
	struct passwd *pw = x->envuid ? getpwnam(x->envuid) : NULL;
	const char *v;

	if (pw) {
		x->t->uid = pw->pw_uid;
		x->t->gid = pw->pw_gid;
		return;
	}
	if ((v = env_value(x->env, "UID")) != NULL)
		x->t->uid = (uid_t)leading_number(v);
	if ((v = env_value(x->env, "GID")) != NULL)
		x->t->gid = (gid_t)leading_number(v);
}

static void option(void *ctx, int letter, const char *arg)
{
	struct ids *x = ctx;

	switch (letter) {
	case 'U': ids_from_env(x); break;
	case 'u': x->t->uid = (uid_t)leading_number(arg); break;
	case 'g': x->t->gid = (gid_t)leading_number(arg); break;
	case 'x': x->t->rules = arg; break;
	default: break;
	}
}

int tcpserver_read(char *const *argv, char *const *env, struct tcpserver *t,
    struct err *e)
{
	struct chain c;
	struct ids x;
	int first;

	memset(t, 0, sizeof *t);
	if (chain_read(argv, &c, e) < 0)
		return -1;
	if (strcmp(chain_base(c.prog), "tcpserver"))
		return 0;
	t->found = 1;
	x.t = t;
	x.env = env;
	x.envuid = c.envuid;
	if ((first = chain_options(c.args, TCPSERVER_OPTSTRING, c.prog,
	    option, &x, e)) < 0)
		return -1;
	t->host = c.args[first];
	t->port = t->host ? c.args[first + 1] : NULL;
	t->prog = t->port ? c.args + first + 2 : NULL;
	if (!t->prog || !t->prog[0])
		return err_set(e, "tcpserver: no %s given", !t->host ? "host" :
		    !t->port ? "port" : "program");
	return 0;
}

int tcpserver_load(struct service *svc, struct err *e)
{
	if (tcpserver_read(svc->run, svc->env, &svc->tcpserver, e) < 0)
		return chain_err_at(svc->file, "run", e);
	return 0;
}

int tcpserver_path(char *buf, size_t size, const char *dir, const char *file)
{
	int len;

	if (file[0] == '/' || !dir[0])
		len = snprintf(buf, size, "%s", file);
	else
		len = snprintf(buf, size, "%s%s%s", dir,
		    dir[strlen(dir) - 1] == '/' ? "" : "/", file);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

/* tcpserver opens the database for every connection and, when it cannot,
 * drops the connection: every client is refused while it keeps running. */
static int check_rules(const struct unit *u, const struct tcpserver *t)
{
	char path[PATH_MAX];
	struct stat st;

	if (!t->rules)
		return EXIT_OK;
	if (tcpserver_path(path, sizeof path, u->svc->directory, t->rules) < 0) {
		sayerr(u, "tcpserver -x %.200s...: name too long", t->rules);
		return EXIT_CONFIG;
	}
	if (stat(path, &st) < 0) {
		sayerr(u, "tcpserver -x %s: %s%s", path, strerror(errno),
		    errno == ENOENT ? " ('qmailctl cdb' builds it)" : "");
		return EXIT_CONFIG;
	}
	if (!S_ISREG(st.st_mode)) {
		sayerr(u, "tcpserver -x %s: not a regular file", path);
		return EXIT_CONFIG;
	}
	return EXIT_OK;
}

/* tcpserver runs its program with pathexec: a name is looked up in PATH,
 * a name with a slash is taken from the working directory. */
static int check_program(const struct unit *u, const struct tcpserver *t)
{
	const char *prog = t->prog[0];
	char rel[PATH_MAX], path[PATH_MAX];

	if (strchr(prog, '/') && tcpserver_path(rel, sizeof rel,
	    u->svc->directory, prog) == 0)
		prog = rel;
	if (spawn_resolve(prog, u->site->path, path, sizeof path) == 0)
		return EXIT_OK;
	if (errno == EACCES)
		sayerr(u, "tcpserver's program %s is not executable", path);
	else if (strchr(prog, '/'))
		sayerr(u, "tcpserver's program %s is not installed", prog);
	else
		sayerr(u, "tcpserver's program %s is not installed (not found "
		    "in %s)", prog, u->site->path);
	return EXIT_NOT_INSTALLED;
}

int tcpserver_check(const struct unit *u)
{
	const struct tcpserver *t = &u->svc->tcpserver;
	int rc;

	if (!t->found)
		return EXIT_OK;
	if ((rc = check_rules(u, t)) != EXIT_OK)
		return rc;
	return check_program(u, t);
}
