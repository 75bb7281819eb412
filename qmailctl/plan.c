/* plan.c: -n and list: show what would run, change nothing.
 *
 * Everything shown comes from the configuration: argv words, paths,
 * descriptions, env lines may hold any byte.  -n's lines go through the
 * one writer (msg_line), list's fields through the one escaper
 * (msg_escape): no byte of a config value reaches the terminal raw. */
#include "plan.h"
#include "launch.h"
#include "exitcode.h"
#include "enable.h"
#include "msg.h"
#include "probe.h"
#include "spawn.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* A line of -n or list is clipped here, as the writer clips its lines. */
#define PLAN_LINE 4096

/* A word shown bare: nothing a shell or a reader could take otherwise,
 * and no byte the escaper would rewrite. */
static int plain_word(const char *w)
{
	const unsigned char *c;

	for (c = (const unsigned char *)w; *c; c++)
		if (*c <= 0x20 || *c >= 0x7f)
			return 0;
	return *w && !strpbrk(w, "\"\\$'`;&|<>(){}*?[]#~");
}

/* Appends c to buf (of size) at *n, clipped. */
static void put(char *buf, size_t size, size_t *n, char c)
{
	if (*n + 1 < size)
		buf[(*n)++] = c;
	buf[*n] = 0;
}

char *plan_argv(char *buf, size_t size, char *const *argv)
{
	size_t i, n = 0;
	const char *c;

	buf[0] = 0;
	for (i = 0; argv[i]; i++) {
		if (i)
			put(buf, size, &n, ' ');
		if (plain_word(argv[i])) {
			for (c = argv[i]; *c; c++)
				put(buf, size, &n, *c);
			continue;
		}
		put(buf, size, &n, '"');
		for (c = argv[i]; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '$')
				put(buf, size, &n, '\\');
			put(buf, size, &n, *c);
		}
		put(buf, size, &n, '"');
	}
	return buf;
}

/* The fds launch_all() gives each element, as words. */
static const char *fds_of(const struct unit *u, int which)
{
	if (u->nel == 1)
		return "fds 0, 1, 2 /dev/null";
	return which == EL_RUN ? "fd 0 /dev/null, fds 1 and 2 the pipe to the "
	    "logger" : "fd 0 the pipe from the server, fds 1 and 2 /dev/null";
}

/* The spawn request start would hand to spawn() (launch_request()), field
 * by field.  Returns EXIT_NOT_INSTALLED when its program is missing. */
static int show_element(const struct unit *u, int which, char **env)
{
	const struct element *e = &u->el[which];
	const char *name = u->svc->name;
	char path[PATH_MAX], argv[PLAN_LINE], envs[PLAN_LINE];
	struct spawn_req rq;
	size_t i, n;

	msg_line(1, name, NULL, "%s: %s", e->role,
	    plan_argv(argv, sizeof argv, e->argv));
	if (spawn_resolve(e->argv[0], u->site->path, path, sizeof path) < 0) {
		msg_line(2, name, "failed", "%s: program %s is not installed "
		    "(not found in %s)", e->role, e->argv[0], u->site->path);
		return EXIT_NOT_INSTALLED;
	}
	launch_request(u, which, path, env, -1, -1, -1, &rq);
	msg_line(1, name, NULL, "%s: exec %s, argv %s", e->role, rq.argv[0],
	    plan_argv(argv, sizeof argv, rq.argv));
	for (i = 0, envs[0] = 0; rq.envp[i]; i++) {
		n = strlen(envs);
		snprintf(envs + n, sizeof envs - n, "%s%s", i ? " " : "",
		    rq.envp[i]);
	}
	msg_line(1, name, NULL, "%s: environment %s", e->role, envs);
	msg_line(1, name, NULL, "%s: directory %s, %s", e->role, rq.dir,
	    fds_of(u, which));
	msg_line(1, name, NULL, "%s: pidfile %s, written by the process "
	    "itself before it execs", e->role, rq.pidfile);
	msg_line(1, name, NULL, "%s: %s%s", e->role, rq.new_group ?
	    "leads a process group of its own" : "in qmailctl's process group",
	    which == EL_RUN && u->site->cgroup == SITE_CGROUP_AUTO ?
	    ", in the service's cgroup where cgroup v2 is writable" : "");
	if (rq.memory)
		msg_line(1, name, NULL, "%s: memory limit %llu bytes", e->role,
		    rq.memory);
	free((char **)rq.argv);
	return EXIT_OK;
}

int plan_show(const struct unit *u)
{
	const char *name = u->svc->name;
	char probe[256], **env = unit_env(u);
	int j, rc = EXIT_OK;

	for (j = 0; j < u->nel; j++)
		if (show_element(u, j, env) != EXIT_OK)
			rc = EXIT_NOT_INSTALLED;
	unit_env_free(env);
	if (u->svc->cert)
		msg_line(1, name, NULL, "certificate %s", u->svc->cert);
	probe_describe(&u->svc->probe, probe, sizeof probe);
	if (u->svc->probe.kind == PROBE_NONE)
		msg_line(1, name, NULL, "probe %s, every element alive for %ld "
		    "ms", probe, u->svc->settle_ms);
	else
		msg_line(1, name, NULL, "probe %s", probe);
	msg_line(1, name, NULL, "timeouts: start %ld ms, stop %ld ms, zap "
	    "grace %ld ms", unit_timeout(u, u->svc->start_timeout_ms),
	    unit_timeout(u, u->svc->stop_timeout_ms), u->svc->zap_grace_ms);
	return rc;
}

void plan_verdict(const struct unit *u, const char *command, int rc)
{
	if (rc == EXIT_OK)
		msg_line(1, u->svc->name, NULL, "would %s", command);
	else
		msg_line(1, u->svc->name, NULL, "would not %s: exit %d, as %s "
		    "would exit", command, rc, command);
}

/* list keeps its tab layout, so its fields are escaped one by one. */
static void list_field(const char *before, const char *text,
    const char *after)
{
	char out[PLAN_LINE];

	msg_escape(out, sizeof out, text, strlen(text));
	printf("%s%s%s", before, out, after);
}

void plan_list(const struct unit *u)
{
	char probe[256], argv[PLAN_LINE];

	list_field("", u->svc->name, "\t");
	list_field("", u->svc->description,
	    enable_is_disabled(u->site, u->svc->name) ? " (disabled)\n" : "\n");
	list_field("\trun: ", plan_argv(argv, sizeof argv, u->svc->run), "\n");
	if (u->svc->log)
		list_field("\tlog: ", plan_argv(argv, sizeof argv,
		    u->svc->log), "\n");
	probe_describe(&u->svc->probe, probe, sizeof probe);
	list_field("\tprobe: ", probe, "\n");
}
