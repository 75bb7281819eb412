/* chain.c: daemontools' chain-loaders seen through (see chain.h). */
#include "chain.h"
#include "conf.h"
#include "msg.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

/* A loader: its name, its getopt string (NULL: it takes no options),
 * and how many operands it takes before the program it execs. */
struct loader {
	const char *name;
	const char *optstring;
	int operands;
};

static const struct loader loaders[] = {
	{ "setuidgid", NULL, 1 },
	{ "envuidgid", NULL, 1 },
	{ "envdir", NULL, 1 },
	{ "softlimit", "a:c:d:f:l:m:o:p:r:s:t:", 0 },
	{ "setlock", "nNxX", 1 },
	{ "pgrphack", NULL, 0 },
	{ "fghack", NULL, 0 },
	{ "argv0", NULL, 0 },           /* handled apart: REALNAME PROGNAME */
};
#define NLOADERS (sizeof loaders / sizeof loaders[0])

const char *chain_base(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

static const struct loader *loader_of(const char *prog)
{
	const char *base = chain_base(prog);
	size_t i;

	for (i = 0; i < NLOADERS; i++)
		if (!strcmp(base, loaders[i].name))
			return &loaders[i];
	return NULL;
}

/* The option letter's argument: glued on, or the next word (*i moves). */
static const char *option_arg(char *const *args, size_t *i, const char *rest)
{
	if (*rest)
		return rest;
	return args[++*i];
}

int chain_options(char *const *args, const char *optstring, const char *prog,
    chain_opt_fn *fn, void *ctx, struct err *e)
{
	const char *w, *spec, *arg;
	char shown[8];
	size_t i;

	for (i = 0; (w = args[i]) != NULL && w[0] == '-' && w[1]; i++) {
		if (!strcmp(w, "--"))
			return (int)i + 1;
		for (w++; *w; w++) {
			spec = *w == ':' ? NULL : strchr(optstring, *w);
			if (!spec)
				return err_set(e, "%s: unknown option -%s",
				    chain_base(prog), msg_escape(shown,
				    sizeof shown, w, 1));
			if (spec[1] != ':') {
				if (fn)
					fn(ctx, *w, NULL);
				continue;
			}
			if (!(arg = option_arg(args, &i, w + 1)))
				return err_set(e, "%s: option -%c needs an "
				    "argument", chain_base(prog), *w);
			if (fn)
				fn(ctx, *w, arg);
			break;
		}
	}
	return (int)i;
}

/* One loader's step: prog and args become what it execs. */
static int step(const struct loader *l, struct chain *c, struct err *e)
{
	const char *name = chain_base(c->prog);
	int first = 0, k;

	if (l->optstring && (first = chain_options(c->args, l->optstring,
	    c->prog, NULL, NULL, e)) < 0)
		return -1;
	if (!strcmp(name, "argv0")) {
		/* argv0 REALNAME PROGNAME ARGS: REALNAME runs, with ARGS. */
		if (!c->args[0] || !c->args[1])
			return err_set(e, "argv0: needs a program and its "
			    "argv[0]");
		c->prog = c->args[0];
		c->args += 2;
		return 0;
	}
	for (k = 0; k < l->operands; k++)
		if (!c->args[first + k])
			return err_set(e, "%s: needs %s", name,
			    !strcmp(name, "envdir") ? "a directory" :
			    !strcmp(name, "setlock") ? "a file" : "an account");
	if (!strcmp(name, "setuidgid"))
		c->setuid = c->args[first];
	else if (!strcmp(name, "envuidgid"))
		c->envuid = c->args[first];
	first += l->operands;
	if (!c->args[first])
		return err_set(e, "%s: no program to run", name);
	c->prog = c->args[first];
	c->args += first + 1;
	return 0;
}

int chain_read(char *const *argv, struct chain *c, struct err *e)
{
	const struct loader *l;

	memset(c, 0, sizeof *c);
	if (!argv || !argv[0])
		return err_set(e, "no program to run");
	c->prog = argv[0];
	c->args = argv + 1;
	/* Every step consumes at least one word: bounded by argv's length. */
	while ((l = loader_of(c->prog)) != NULL)
		if (step(l, c, e) < 0)
			return -1;
	return 0;
}

const char *chain_program(char *const *argv)
{
	struct chain c;

	if (chain_read(argv, &c, NULL) < 0)
		return chain_base(argv[0]);
	return chain_base(c.prog);
}

struct where {
	const char *key;
	char *buf;
	size_t size;
};

static int note_where(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct where *w = ctx;

	(void)e;
	if (!strcmp(kv->key, w->key))
		snprintf(w->buf, w->size, "%s", kv->where);
	return 0;
}

int chain_err_at(const char *file, const char *key, struct err *e)
{
	char where[sizeof e->text];
	struct where w = { key, where, sizeof where };
	struct err ignored;

	snprintf(where, sizeof where, "%s", file);
	(void)conf_read_file(file, note_where, &w, &ignored);
	return err_prefix(e, "%s: %s", where, key);
}
