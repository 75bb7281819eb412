/* chain.h: seeing through daemontools' chain-loaders to the program that
 * ends up running, and reading options as djb's getopt does.
 *
 * A configured argv like
 *     setuidgid qmaill softlimit -m 2000000 multilog t ./main
 * runs multilog: each chain-loader does one thing and execs the rest.  The
 * loaders known here are daemontools' own, with their argv:
 *     setuidgid ACCOUNT CHILD...    envuidgid ACCOUNT CHILD...
 *     envdir DIR CHILD...           softlimit [-acdflmoprst N] CHILD...
 *     setlock [-nNxX] FILE CHILD... pgrphack CHILD...   fghack CHILD...
 *     argv0 REALNAME PROGNAME ARGS...  (runs REALNAME with argv[0] PROGNAME)
 * Any other program ends the walk: it is the one that runs. */
#ifndef QMAILCTL_CHAIN_H
#define QMAILCTL_CHAIN_H

#include "err.h"

struct chain {
	const char *prog;       /* the program that ends up running, as
	                         * written (a name or a path) */
	char *const *args;      /* its arguments, after its argv[0] */
	const char *setuid;     /* ACCOUNT of the last setuidgid, or NULL */
	const char *envuid;     /* ACCOUNT of the last envuidgid, or NULL */
};

/* Walks argv through the chain-loaders.  -1 with e filled ("setuidgid:
 * no program to run") when a loader lacks what it needs, as the loader
 * itself would refuse to run. */
int chain_read(char *const *argv, struct chain *c, struct err *e);

/* The basename of what ends up running, for messages and status: argv[0]'s
 * basename when argv is not a well-formed chain. */
const char *chain_program(char *const *argv);

/* The basename of a path. */
const char *chain_base(const char *path);

/* Called for each option letter, with its argument (NULL for a flag). */
typedef void chain_opt_fn(void *ctx, int letter, const char *arg);

/* Reads the options at the head of args as djb's sgetopt (and POSIX
 * getopt) does, with an optstring such as "dDvx:u:": letters clustered or
 * not, an argument glued on or the next word, up to "--", "-" or the first
 * word that is not an option.  Returns the index in args of the first
 * operand, or -1 with e filled ("prog: unknown option -Z", "prog: option
 * -x needs an argument"). */
int chain_options(char *const *args, const char *optstring, const char *prog,
    chain_opt_fn *fn, void *ctx, struct err *e);

/* Puts "FILE:LINE: key" in front of e, FILE:LINE being where key's (last)
 * line in the service file is ("FILE: key" if it cannot be found), for a
 * message about what an argv given there says.  Returns -1. */
int chain_err_at(const char *file, const char *key, struct err *e);

#endif
