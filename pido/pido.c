/* pido: write my own pid to PIDFILE, then become PROGRAM.
 *
 *     pido [-s | -g] PIDFILE PROGRAM [ARG ...]
 *
 * Because the pidfile is written by the process that then execs, the pid
 * it records is PROGRAM's own pid, whatever pipeline PROGRAM stands in.
 * Exit codes: 100 usage, 111 system error (no pidfile left), 126 PROGRAM
 * not executable, 127 PROGRAM not found (the pidfile is removed). */
#include "msg.h"
#include "pidfile.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define EXIT_USAGE      100
#define EXIT_SYSTEM     111
#define EXIT_NOEXEC     126
#define EXIT_NOTFOUND   127

#define USAGE "usage: pido [-s | -g] PIDFILE PROGRAM [ARG ...]"

/* Every usage error is one line: what is wrong, then how to call us. */
static _Noreturn void usage(const char *what)
{
	die(EXIT_USAGE, "%s; " USAGE, what);
}

int main(int argc, char **argv)
{
	char why[8400], what[64];
	int opt, c, new_session = 0, new_group = 0, err;

	msg_init(argv[0]);
	msg_oom_code = EXIT_SYSTEM;
	/* "+" stops at the first non-option, so PROGRAM's own options are
	 * never taken for ours; opterr = 0: getopt prints nothing, usage()
	 * says it in our one format. */
	opterr = 0;
	while ((opt = getopt(argc, argv, "+sg")) != -1) {
		switch (opt) {
		case 's': new_session = 1; break;
		case 'g': new_group = 1; break;
		default:
			c = (unsigned char)optopt;
			usage(isgraph(c) ? fmt_buf(what, sizeof what,
			    "unknown option -%c", c) : fmt_buf(what,
			    sizeof what, "unknown option (byte %d)", c));
		}
	}
	if (new_session && new_group)
		usage("-s and -g exclude each other");
	if (argc - optind < 1)
		usage("no PIDFILE");
	if (argc - optind < 2)
		usage("no PROGRAM");
	if (new_session && setsid() < 0)
		die_sys(EXIT_SYSTEM, "unable to create a new session");
	if (new_group && setpgid(0, 0) < 0)
		die_sys(EXIT_SYSTEM, "unable to create a new process group");
	/* why is the whole reason, the system's error included. */
	if (pidfile_write_self(argv[optind], why, sizeof why) < 0)
		die(EXIT_SYSTEM, "%s", why);

	execvp(argv[optind + 1], argv + optind + 1);
	err = errno;
	/* The pidfile names a process that is about to exit: take it back. */
	unlink(argv[optind]);
	errno = err;
	if (err == ENOENT || err == ENOTDIR)
		die_sys(EXIT_NOTFOUND, "unable to run %s", argv[optind + 1]);
	die_sys(EXIT_NOEXEC, "unable to run %s", argv[optind + 1]);
}
