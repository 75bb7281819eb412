/* stunnel_conf.c: a service's stunnel config as qmailctl reads it (the
 * few options it checks; stunnel checks the others), the program and
 * config in its run line, and the ids and root stunnel execs with
 * (stunnel.h).  The checks on them are stunnel.c's. */
#include "stunnel.h"
#include "chain.h"
#include "readfile.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A stunnel config is a page of text; more than this is not one. */
#define STUNNEL_CONF_MAX (256 * 1024)

void stunnel_path(char *buf, size_t size, const char *dir,
    const char *path)
{
	if (path[0] == '/' || !dir[0])
		snprintf(buf, size, "%s", path);
	else
		snprintf(buf, size, "%s/%s", strcmp(dir, "/") ? dir : "",
		    path);
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
	    end[-1] == '\r'))
		*--end = 0;
	return s;
}

/* The value of each key we keep, by its name (stunnel's are
 * case-insensitive). */
static void conf_value(struct stunnel_conf *c, const char *key,
    const char *value)
{
	static const struct {
		const char *key;
		size_t offset, size;
	} keep[] = {
#define KEEP(name, field) { name, offsetof(struct stunnel_conf, field), \
	sizeof ((struct stunnel_conf *)0)->field }
		KEEP("exec", exec), KEEP("execArgs", exec_args),
		KEEP("cert", cert), KEEP("CAfile", cafile),
		KEEP("chroot", chroot), KEEP("setuid", setuid),
		KEEP("setgid", setgid),
#undef KEEP
	};
	size_t i;

	for (i = 0; i < sizeof keep / sizeof keep[0]; i++)
		if (!strcasecmp(key, keep[i].key)) {
			snprintf((char *)c + keep[i].offset, keep[i].size, "%s",
			    value);
			return;
		}
	if (!strcasecmp(key, "foreground"))
		c->foreground = !strcasecmp(value, "yes");
}

static void conf_line(struct stunnel_conf *c, char *line, int lineno)
{
	char *eq, *key;

	line = trim(line);
	if (!*line || *line == ';' || *line == '#')
		return;
	if (*line == '[') {
		if (!c->daemon_line) {
			c->daemon_line = lineno;
			snprintf(c->daemon_what, sizeof c->daemon_what,
			    "%.60s", line);
		}
		return;
	}
	if (!(eq = strchr(line, '=')))
		return;         /* stunnel itself says what is wrong */
	*eq = 0;
	key = trim(line);
	if (!strcasecmp(key, "accept") && !c->daemon_line) {
		c->daemon_line = lineno;
		snprintf(c->daemon_what, sizeof c->daemon_what, "accept");
	} else
		conf_value(c, key, trim(eq + 1));
}

int stunnel_read_conf(const char *dir, const char *file,
    struct stunnel_conf *c, struct err *e)
{
	char *text = NULL, *line, *next;
	int lineno = 0;

	memset(c, 0, sizeof *c);
	stunnel_path(c->path, sizeof c->path, dir, file);
	if (read_small_file(c->path, STUNNEL_CONF_MAX, &text, NULL, e) < 0)
		return -1;
	for (line = text; line; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = 0;
		conf_line(c, line, ++lineno);
	}
	free(text);
	return 0;
}

/* What tcpserver runs, read once at load (tcpserver.h), through its
 * chain-loaders (chain.h). */
int stunnel_find(const struct service *svc, const char **prog,
    const char **conf)
{
	struct chain c;
	const char *b;

	if (!svc->tcpserver.found || chain_read(svc->tcpserver.prog, &c,
	    NULL) < 0)
		return -1;
	b = chain_base(c.prog);
	if (strcmp(b, "stunnel") && strcmp(b, "stunnel4"))
		return -1;
	*prog = c.prog;
	*conf = c.args[0];
	return 0;
}

/* A user or group as stunnel takes it: a name, else a number. */
static int id_value(const char *v, int group, unsigned long *id)
{
	struct passwd *pw;
	struct group *gr;
	char *end;

	if (group && (gr = getgrnam(v)) != NULL)
		*id = gr->gr_gid;
	else if (!group && (pw = getpwnam(v)) != NULL)
		*id = pw->pw_uid;
	else {
		errno = 0;
		*id = strtoul(v, &end, 10);
		if (errno || end == v || *end)
			return -1;
	}
	return 0;
}

int stunnel_exec_ids(const struct stunnel_conf *c, uid_t *uid, gid_t *gid,
    struct err *e)
{
	unsigned long id;

	if (c->setgid[0]) {
		if (id_value(c->setgid, 1, &id) < 0)
			return err_set(e, "stunnel config %s: setgid %s: no such "
			    "group", c->path, c->setgid);
		*gid = (gid_t)id;
	}
	if (c->setuid[0]) {
		if (id_value(c->setuid, 0, &id) < 0)
			return err_set(e, "stunnel config %s: setuid %s: no such "
			    "user", c->path, c->setuid);
		*uid = (uid_t)id;
	}
	return 0;
}

char *stunnel_root(const struct stunnel_conf *c, const char *dir, char *buf,
    size_t size)
{
	buf[0] = 0;
	if (c->chroot[0])
		stunnel_path(buf, size, dir, c->chroot);
	return buf;
}
