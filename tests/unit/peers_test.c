/* peers_test: the readers of the peer programs' argv (tcpserver.h,
 * multilog.h, chain.h) called directly on many shapes of argv, and the
 * log reader on hostile current files, multilog's t stamp and the list of
 * its rotated files.  Prints TAP.
 *
 * Not tested here: a current owned by the logger's own user (the test
 * would need that user's files; the integration tests run multilog as
 * root), the tcpserver_check() preflight (tests/integration/peers.sh). */
#include "chain.h"
#include "conf.h"
#include "multilog.h"
#include "tcpserver.h"
#include "tap.h"

#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAXW 32

/* A NULL-terminated argv from a line split on blanks (test input only). */
static char **words(const char *line)
{
	static char buf[8][1024];
	static char *argv[8][MAXW];
	static int slot;
	char *b = buf[slot % 8], **v = argv[slot % 8], *w;
	int n = 0;

	slot++;
	snprintf(b, sizeof buf[0], "%s", line);
	for (w = strtok(b, " "); w && n < MAXW - 1; w = strtok(NULL, " "))
		v[n++] = w;
	v[n] = NULL;
	return v;
}

static int tcp(const char *line, char **env, struct tcpserver *t,
    struct err *e)
{
	e->text[0] = 0;
	return tcpserver_read(words(line), env, t, e);
}

static void tcpserver_shapes(void)
{
	char *env[] = { "UID=7791", "GID=2108x", NULL };
	struct tcpserver t;
	struct err e;
	struct passwd *nobody = getpwnam("nobody");

	ok(tcp("tcpserver -v -R -H -l 0 -x /etc/tcp/smtp.cdb -c 40 -u 7791 "
	    "-g 2108 0 25 qmail-smtpd", NULL, &t, &e) == 0 && t.found,
	    "the shipped smtp line is tcpserver's");
	is_long(t.uid, 7791, "... -u");
	is_long(t.gid, 2108, "... -g");
	is_str(t.rules, "/etc/tcp/smtp.cdb", "... -x");
	is_str(t.host, "0", "... host");
	is_str(t.port, "25", "... port");
	ok(t.prog && !strcmp(t.prog[0], "qmail-smtpd") && !t.prog[1],
	    "... and the program it runs");

	tcp("tcpserver -vHRl0 -xrules.cdb 127.0.0.1 smtp stunnel x.conf", NULL,
	    &t, &e);
	is_str(t.rules, "rules.cdb", "clustered flags, -x glued on");
	is_str(t.host, "127.0.0.1", "... l0 takes its argument glued on");
	ok(t.prog && !strcmp(t.prog[0], "stunnel") &&
	    !strcmp(t.prog[1], "x.conf"), "... the program with its argv");

	tcp("tcpserver -Hx a.cdb -x b.cdb 0 1 p", NULL, &t, &e);
	is_str(t.rules, "b.cdb", "the last -x wins, as with getopt");
	tcp("tcpserver -u 12abc -g x 0 1 p", NULL, &t, &e);
	ok(t.uid == 12 && t.gid == 0, "-u and -g read as scan_ulong does");
	tcp("tcpserver -U 0 1 p", env, &t, &e);
	ok(t.uid == 7791 && t.gid == 2108, "-U takes UID and GID of the env");
	tcp("tcpserver -U -u 5 0 1 p", env, &t, &e);
	ok(t.uid == 5 && t.gid == 2108, "... and a later -u overrides it");
	tcp("tcpserver -u 5 -vU 0 1 p", env, &t, &e);
	ok(t.uid == 7791, "... a later -U (clustered) overrides -u");
	tcp("tcpserver -- -x 1 p", NULL, &t, &e);
	ok(!t.rules && !strcmp(t.host, "-x"), "-- ends the options");
	tcp("tcpserver - 1 p", NULL, &t, &e);
	is_str(t.host, "-", "a lone - is the host, not an option");
	if (nobody) {
		tcp("envuidgid nobody tcpserver -U 0 1 p", env, &t, &e);
		ok(t.found && t.uid == nobody->pw_uid &&
		    t.gid == nobody->pw_gid,
		    "envuidgid's account gives -U its ids");
	} else
		skip("envuidgid's account gives -U its ids", "no user nobody");
	tcp("argv0 /usr/bin/tcpserver tcpserver -x a.cdb 0 1 p", NULL, &t, &e);
	ok(t.found && !strcmp(t.rules, "a.cdb") && !strcmp(t.host, "0"),
	    "argv0 REALNAME PROGNAME: seen through");
	tcp("softlimit -m 2000000 -o100 envdir ./env /usr/bin/tcpserver -x "
	    "r.cdb 0 1 p", NULL, &t, &e);
	ok(t.found && !strcmp(t.rules, "r.cdb"),
	    "softlimit with options and envdir: seen through");
	ok(tcp("qmail-start ./Maildir/", NULL, &t, &e) == 0 && !t.found,
	    "a line that does not run tcpserver: found 0");
	ok(tcp("sh -c tcpserver", NULL, &t, &e) == 0 && !t.found,
	    "... tcpserver as an argument of another program is not it");

	ok(tcp("tcpserver -v -x", NULL, &t, &e) < 0, "-x without its argument");
	is_str(e.text, "tcpserver: option -x needs an argument", "... says so");
	ok(tcp("tcpserver -vZ 0 1 p", NULL, &t, &e) < 0, "an unknown option");
	is_str(e.text, "tcpserver: unknown option -Z", "... says which");
	ok(tcp("tcpserver -v", NULL, &t, &e) < 0, "no host");
	is_str(e.text, "tcpserver: no host given", "... says so");
	ok(tcp("tcpserver 0", NULL, &t, &e) < 0, "no port");
	is_str(e.text, "tcpserver: no port given", "... says so");
	ok(tcp("tcpserver 0 25", NULL, &t, &e) < 0, "no program");
	is_str(e.text, "tcpserver: no program given", "... says so");
	ok(tcp("setuidgid qmaild", NULL, &t, &e) < 0,
	    "a chain-loader without a program");
	is_str(e.text, "setuidgid: no program to run", "... says so");
	ok(tcp("softlimit -m", NULL, &t, &e) < 0, "softlimit -m without a value");
	is_str(e.text, "softlimit: option -m needs an argument", "... says so");
}

static int ml(const char *line, struct multilog *m, struct err *e)
{
	e->text[0] = 0;
	return multilog_read(words(line), m, e);
}

static void multilog_shapes(void)
{
	struct multilog m;
	struct err e;

	ok(ml("multilog t ./main", &m, &e) == 0 && m.found && !m.user,
	    "multilog alone runs as root");
	is_str(m.dir, "./main", "... its directory");
	ml("setuidgid qmaill multilog t s1000000 n20 /var/log/qmail/smtp", &m,
	    &e);
	is_str(m.user, "qmaill", "the shipped line: setuidgid's account");
	is_str(m.dir, "/var/log/qmail/smtp", "... and the directory");
	ml("setuidgid a softlimit -m 100 /usr/bin/multilog t -* +x* ./a ./b",
	    &m, &e);
	ok(m.found && !strcmp(m.user, "a") && !strcmp(m.dir, "./a"),
	    "through softlimit, by path: the first directory of the script");
	ml("envuidgid qmaill multilog t ./x", &m, &e);
	ok(m.found && !m.user, "envuidgid does not change the user");
	ml("setuidgid a setuidgid b multilog ./x", &m, &e);
	is_str(m.user, "b", "the last setuidgid is who it runs as");
	ml("multilog t s100", &m, &e);
	ok(m.found && !m.dir, "a script without a directory: none");
	ok(ml("cat", &m, &e) == 0 && !m.found, "another logger: not multilog");
	ok(ml("setuidgid", &m, &e) < 0, "setuidgid without an account");
	is_str(e.text, "setuidgid: needs an account", "... says so");
	ok(ml("argv0 multilog", &m, &e) < 0, "argv0 without its argv[0]");

	is_str(chain_program(words("setuidgid qmaill multilog t ./x")),
	    "multilog", "the element is named as the program that runs");
	is_str(chain_program(words("/usr/bin/setuidgid")), "setuidgid",
	    "... a malformed chain as written");
	is_str(chain_program(words("/var/qmail/bin/qmail-start ./Maildir/")),
	    "qmail-start", "... a plain program by its basename");
}

/* A service logging to DIR/log, its directory DIR. */
static void log_service(struct service *svc, char *dir, const char *user)
{
	static char line[1100];
	struct err e;

	memset(svc, 0, sizeof *svc);
	svc->file = "test";
	svc->directory = dir;
	snprintf(line, sizeof line, "%s%s multilog t ./log",
	    user ? "setuidgid " : "", user ? user : "");
	svc->log = words(line);
	if (multilog_load(svc, &e) < 0)
		bail_out("multilog_load: %s", e.text);
}

static void put(const char *path, const char *text, const char *mode)
{
	FILE *f = fopen(path, mode);

	if (!f || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("cannot write %s", path);
}

static void log_tails(void)
{
	char dir[256], logdir[300], cur[320], other[320], rotated[320],
	    tail[512];
	struct service svc;
	struct log_mark mark;
	struct passwd *nobody = getpwnam("nobody");

	make_tmpdir(dir, sizeof dir, "peers");
	snprintf(logdir, sizeof logdir, "%s/log", dir);
	snprintf(cur, sizeof cur, "%s/current", logdir);
	snprintf(other, sizeof other, "%s/other", dir);
	mkdir(logdir, 0755);
	log_service(&svc, dir, NULL);

	multilog_mark(&svc, &mark);
	ok(!mark.known, "no current yet: nothing to mark");
	put(cur, "@400000006571a1b2c3d4e5f6 first start\n", "w");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "first start", "a new current: its last line, no stamp");
	multilog_mark(&svc, &mark);
	ok(mark.known, "marked before the next start");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "", "nothing written since: no hint (not a stale line)");
	put(cur, "@400000006571a1b2c3d4e5f7 this start\r\n\n", "a");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "this start", "a line written since: it");
	put(cur, "bell\a and \033[31mred\n", "a");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "bell\\x07 and \\x1b[31mred", "control bytes escaped");
	{
		int fd = open(cur, O_WRONLY | O_APPEND);

		if (fd < 0 || write(fd, "a\0b\n", 4) != 4)
			bail_out("cannot write %s", cur);
		close(fd);
	}
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "a\\x00b", "... a NUL too, and the line is whole");

	/* multilog rotates: current is renamed, a new one begins. */
	multilog_mark(&svc, &mark);
	snprintf(rotated, sizeof rotated, "%s/@4000000065", logdir);
	rename(cur, rotated);
	put(cur, "after rotation\n", "w");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "after rotation", "a rotated current: read from its start");

	{
		char big[9000];

		memset(big, 'x', sizeof big - 2);
		big[sizeof big - 2] = '\n';
		big[sizeof big - 1] = 0;
		put(cur, big, "w");
		put(cur, "end\n", "a");
		memset(&mark, 0, sizeof mark);
		multilog_tail(&svc, &mark, tail, sizeof tail);
		is_str(tail, "end", "a big current: the last line, read bounded");
	}

	/* Hostile currents: the log user owns the directory. */
	unlink(cur);
	put(other, "root:secret:19000:0:99999:7:::\n", "w");
	if (symlink(other, cur) < 0)
		bail_out("cannot symlink");
	memset(&mark, 0, sizeof mark);
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "", "a symlinked current is not followed");
	unlink(cur);
	if (mkfifo(cur, 0644) < 0)
		bail_out("cannot mkfifo");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "", "a FIFO current gives nothing, and does not hang");
	unlink(cur);
	if (link(other, cur) < 0)
		bail_out("cannot link");
	multilog_tail(&svc, &mark, tail, sizeof tail);
	is_str(tail, "", "a hard link to another file is refused");
	unlink(cur);
	put(cur, "nobody's line\n", "w");
	if (nobody && geteuid() == 0 && chown(cur, nobody->pw_uid, 0) == 0) {
		multilog_tail(&svc, &mark, tail, sizeof tail);
		is_str(tail, "", "a current of another user than the logger's");
		log_service(&svc, dir, "nobody");
		multilog_tail(&svc, &mark, tail, sizeof tail);
		is_str(tail, "nobody's line", "... but the logger's user's is read");
	} else {
		skip("a current of another user", "needs root and nobody");
		skip("... but the logger's user's is read", "needs root");
	}
	unlink(cur);
	unlink(rotated);
	rmdir(logdir);
	if (symlink(other, logdir) == 0) {
		log_service(&svc, dir, NULL);
		multilog_tail(&svc, &mark, tail, sizeof tail);
		is_str(tail, "", "a symlinked log directory is not followed");
	}
	rm_tree(dir);
}

static void logger_stderr(void)
{
	char line[512];
	int fd = logger_stderr_open(), dup_fd;

	if (fd < 0) {
		skip("the logger's stderr", "no memfd_create");
		return;
	}
	dup_fd = dup(fd);
	if (write(dup_fd, "setuidgid: fatal: unknown account x\n", 36) != 36)
		bail_out("cannot write the memfd");
	logger_stderr_line(fd, line, sizeof line);
	is_str(line, "setuidgid: fatal: unknown account x",
	    "the logger's own message comes back");
	{
		char chunk[1000];
		long total = 36;
		int i;
		ssize_t w = 0;

		memset(chunk, 'y', sizeof chunk);
		chunk[sizeof chunk - 1] = '\n';
		for (i = 0; i < 200 && (w = write(dup_fd, chunk,
		    sizeof chunk)) > 0; i++)
			total += w;
		ok(w < 0 && total <= 65536,
		    "a logger that writes without end fills 64 KiB at most");
		logger_stderr_line(fd, line, sizeof line);
		ok(strlen(line) > 0 && line[0] == 'y',
		    "... and its last line comes back");
	}
	logger_stderr_close(fd);
	ok(write(dup_fd, "later\n", 6) < 0,
	    "after the start, what the logger writes is refused (nothing grows)");
	close(dup_fd);
}

/* multilog's t stamp: "@" and 24 lower-case hex digits, as tai64nlocal
 * reads it; anything else is no stamp. */
static void stamps(void)
{
	struct tai64n t;

	ok(multilog_stamp("@4000000065a1b2c3000003e8 x", 27, &t) == 25 &&
	    t.secs == 0x4000000065a1b2c3ULL && t.nano == 1000,
	    "a stamp: 25 bytes, seconds and nanoseconds");
	ok(t.secs - TAI64_UNIX_EPOCH == 0x65a1b2c3ULL - 10,
	    "... its label less 2^62 + 10 is the Unix time");
	ok(multilog_stamp("@4000000065A1B2C3000003e8 x", 27, &t) == 0,
	    "upper-case hex: no stamp (multilog writes lower case)");
	ok(multilog_stamp("@4000000065a1b2c3000003e", 24, &t) == 0,
	    "23 digits: no stamp");
	ok(multilog_stamp("@4000000065a1b2c3000003e8", 20, &t) == 0,
	    "a stamp cut by the line's end: none");
	ok(multilog_stamp("@0000000065a1b2c3000003e8", 25, &t) == 0,
	    "a label before 1970: no stamp");
	ok(multilog_stamp("4000000065a1b2c3000003e8 x", 26, &t) == 0,
	    "no @: no stamp");
}

static void rotated_files(void)
{
	char dir[256], path[320];
	const char *names[] = { "@400000006571a1b2000000bb.u", "current",
	    "@400000006571a1b2000000aa.s", "@40000000.s", "state",
	    "@400000006571a1b2000000cc.x", "@400000006571A1B2000000dd.s" };
	char **rot;
	size_t i;
	int fd;

	make_tmpdir(dir, sizeof dir, "rotated");
	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		put(path, "x\n", "w");
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY)) < 0)
		bail_out("cannot open %s", dir);
	rot = multilog_rotated(fd);
	close(fd);
	ok(rot[0] && !strcmp(rot[0], "@400000006571a1b2000000aa.s") &&
	    rot[1] && !strcmp(rot[1], "@400000006571a1b2000000bb.u") && !rot[2],
	    "rotated files: .s and .u with a whole stamp, oldest first");
	for (i = 0; rot[i]; i++)
		free(rot[i]);
	free(rot);
	rm_tree(dir);
}

int main(void)
{
	tcpserver_shapes();
	multilog_shapes();
	log_tails();
	logger_stderr();
	stamps();
	rotated_files();
	return done_testing();
}
