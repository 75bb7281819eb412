/* pido: write my own pid to PIDFILE, then become PROGRAM.
 *
 *     pido [-s | -g] PIDFILE PROGRAM [ARG ...]
 *
 * Because the pidfile is written by the process that then execs, the pid
 * it records is PROGRAM's own pid, whatever pipeline PROGRAM stands in.
 * Exit codes: 100 usage, 111 system error (no pidfile left), 126 PROGRAM
 * not executable, 127 PROGRAM not found (the pidfile is removed). */
#include "atomic.h"
#include "msg.h"
#include "pidfile.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
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

/* PIDFILE's directory, open; a PIDFILE that cannot name a file ("",
 * "dir/", ".", an existing directory) is a usage error, found before
 * anything is written. */
static int open_pidfile_dir(const char *path, char *dir, size_t dsize,
    char *base, size_t bsize)
{
	struct stat st;
	struct err e;
	char what[128];
	int fd;

	if (!*path)
		usage("PIDFILE is empty");
	fd = atomic_open_dir(path, dir, dsize, base, bsize, &e);
	if (fd < 0 && errno == EISDIR)
		usage(fmt_buf(what, sizeof what, "PIDFILE '%.64s' names a "
		    "directory, not a file", path));
	if (fd < 0)
		die(EXIT_SYSTEM, "%s", e.text);
	if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    S_ISDIR(st.st_mode))
		usage(fmt_buf(what, sizeof what, "PIDFILE '%.64s' is a "
		    "directory, not a file", path));
	return fd;
}

int main(int argc, char **argv)
{
	char what[64], dir[PATH_MAX], base[NAME_MAX + 1];
	struct err e;
	int opt, c, new_session = 0, new_group = 0, err, dirfd;

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
	/* The directory is opened once, and the pidfile written, and on a
	 * failed exec removed, relative to it. */
	dirfd = open_pidfile_dir(argv[optind], dir, sizeof dir, base,
	    sizeof base);
	/* e is the whole reason, the system's error included. */
	if (pidfile_write_self_at(dirfd, dir, base, &e) < 0)
		die(EXIT_SYSTEM, "%s", e.text);

	execvp(argv[optind + 1], argv + optind + 1);
	err = errno;
	/* The pidfile names a process that is about to exit: take it back. */
	unlinkat(dirfd, base, 0);
	errno = err;
	if (err == ENOENT || err == ENOTDIR)
		die_sys(EXIT_NOTFOUND, "unable to run %s", argv[optind + 1]);
	die_sys(EXIT_NOEXEC, "unable to run %s", argv[optind + 1]);
}
