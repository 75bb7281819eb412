/* plan.c: -n and list: show what would run, change nothing. */
#include "plan.h"
#include "enable.h"
#include "probe.h"
#include "spawn.h"

#include <limits.h>
#include <string.h>

static int plain_word(const char *w)
{
	return *w && !strpbrk(w, " \t\n\"\\$'`;&|<>(){}*?[]#~");
}

void plan_argv(FILE *f, char *const *argv)
{
	size_t i;
	const char *c;

	for (i = 0; argv[i]; i++) {
		if (i)
			fputc(' ', f);
		if (plain_word(argv[i])) {
			fputs(argv[i], f);
			continue;
		}
		fputc('"', f);
		for (c = argv[i]; *c; c++) {
			if (*c == '"' || *c == '\\' || *c == '$')
				fputc('\\', f);
			fputc(*c, f);
		}
		fputc('"', f);
	}
}

static void show_element(const struct unit *u, const struct element *e)
{
	char path[PATH_MAX];

	printf("%s: %s: ", u->svc->name, e->role);
	plan_argv(stdout, e->argv);
	if (spawn_resolve(e->argv[0], u->site->path, path, sizeof path) == 0)
		printf("\n%s: %s: program %s\n", u->svc->name, e->role, path);
	else
		printf("\n%s: %s: program %s NOT INSTALLED (PATH %s)\n",
		    u->svc->name, e->role, e->argv[0], u->site->path);
	printf("%s: %s: pidfile %s, %s\n", u->svc->name, e->role, e->pidfile,
	    e == &u->el[EL_RUN] ? "leads its own process group, "
	    "stdout+stderr to the logger" : "own process group, "
	    "stdin from the server");
}

void plan_show(const struct unit *u, const char *command)
{
	char probe[256];
	size_t i;
	int j;

	printf("%s: would %s\n", u->svc->name, command);
	for (j = 0; j < u->nel; j++)
		show_element(u, &u->el[j]);
	printf("%s: directory %s\n", u->svc->name, u->svc->directory);
	printf("%s: env PATH=%s", u->svc->name, u->site->path);
	for (i = 0; u->svc->env[i]; i++)
		printf(" %s", u->svc->env[i]);
	putchar('\n');
	if (u->svc->memory)
		printf("%s: memory limit %llu bytes\n", u->svc->name,
		    u->svc->memory);
	if (u->svc->cert)
		printf("%s: certificate %s\n", u->svc->name, u->svc->cert);
	probe_describe(&u->svc->probe, probe, sizeof probe);
	printf("%s: probe %s", u->svc->name, probe);
	if (u->svc->probe.kind == PROBE_NONE)
		printf(", every element alive for %ld ms", u->svc->settle_ms);
	printf("\n%s: timeouts: start %ld ms, stop %ld ms, zap grace %ld ms\n",
	    u->svc->name, unit_timeout(u, u->svc->start_timeout_ms),
	    unit_timeout(u, u->svc->stop_timeout_ms), u->svc->zap_grace_ms);
}

void plan_list(const struct unit *u)
{
	char probe[256];

	printf("%s\t%s%s\n", u->svc->name, u->svc->description,
	    enable_is_disabled(u->site, u->svc->name) ? " (disabled)" : "");
	printf("\trun: ");
	plan_argv(stdout, u->svc->run);
	if (u->svc->log) {
		printf("\n\tlog: ");
		plan_argv(stdout, u->svc->log);
	}
	probe_describe(&u->svc->probe, probe, sizeof probe);
	printf("\n\tprobe: %s\n", probe);
}
