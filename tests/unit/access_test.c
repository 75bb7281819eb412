/* access_test: access_as(), the kernel's answer to "may this user read
 * (or run) that file?", asked by a child that takes the ids as tcpserver
 * -u -g does.  Prints TAP.  Files live in a mkdtemp directory that is
 * removed at exit.  As another user than root only the own-ids cases run:
 * only root may take other ids. */
#include "access_as.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NOBODY 65534

static char tmpdir[64];

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

static const char *at(const char *name)
{
	static char bufs[4][256];
	static int next;
	char *b = bufs[next++ % 4];

	snprintf(b, sizeof bufs[0], "%s/%s", tmpdir, name);
	return b;
}

static void make_file(const char *name, mode_t mode, uid_t uid, gid_t gid)
{
	int fd = open(at(name), O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, "x\n", 2) != 2 || fchown(fd, uid, gid) < 0 ||
	    fchmod(fd, mode) < 0)
		bail_out("unable to make %s: %s", at(name), strerror(errno));
	close(fd);
}

/* The errno of the answer, or -1000 when the question failed. */
static int answer(const char *name, uid_t uid, gid_t gid, int mode,
    struct access_answer *a)
{
	struct err e;

	if (access_as(at(name), uid, gid, mode, a, &e) < 0) {
		diag("access_as", e.text);
		return -1000;
	}
	return a->error;
}

static void test_as_nobody(void)
{
	struct access_answer a;

	make_file("root-only", 0600, 0, 0);
	ok(answer("root-only", NOBODY, NOBODY, R_OK, &a) == EACCES &&
	    !a.dir[0], "a file readable only by root is refused for uid "
	    "65534, and it is the file, not a directory");
	ok(answer("root-only", 0, 0, R_OK, &a) == 0,
	    "... and root may read it");
	make_file("public", 0644, 0, 0);
	ok(answer("public", NOBODY, NOBODY, R_OK, &a) == 0,
	    "a file of mode 0644 passes for uid 65534");
	ok(answer("public", NOBODY, NOBODY, X_OK, &a) == EACCES,
	    "... but it may not run it (no x bit)");
	ok(answer("public", 0, 0, X_OK, &a) == EACCES,
	    "... nor may root: no x bit at all");
	make_file("tool", 0755, 0, 0);
	ok(answer("tool", NOBODY, NOBODY, X_OK, &a) == 0,
	    "a file of mode 0755 runs for uid 65534");

	/* tcpserver -g GID: GID becomes the only group. */
	make_file("group", 0640, 0, NOBODY);
	ok(answer("group", NOBODY, NOBODY, R_OK, &a) == 0,
	    "mode 0640 in the service's group: readable");
	ok(answer("group", NOBODY, 1, R_OK, &a) == EACCES,
	    "mode 0640 in another group than -g: refused");
	make_file("owner", 0044, NOBODY, 0);
	ok(answer("owner", NOBODY, NOBODY, R_OK, &a) == EACCES,
	    "an owner without the owner bit may not read (others may)");

	mkdir(at("closed"), 0700);
	make_file("closed/inside", 0644, 0, 0);
	ok(answer("closed/inside", NOBODY, NOBODY, R_OK, &a) == EACCES &&
	    !strcmp(a.dir, at("closed")),
	    "a directory without x on the path is refused, and named");
	diag("dir", a.dir);
	if (symlink(at("closed/inside"), at("link")) == 0)
		ok(answer("link", NOBODY, NOBODY, R_OK, &a) == EACCES &&
		    !strcmp(a.dir, at("closed")),
		    "... also behind a symlink: the real path's directory");
	else
		skip("... also behind a symlink", "symlink failed");
	ok(answer("missing", NOBODY, NOBODY, R_OK, &a) == ENOENT,
	    "a missing file: ENOENT");
}

/* The children access_as forked: each one's exit is a SIGCHLD. */
static volatile sig_atomic_t children;

static void count_child(int sig)
{
	(void)sig;
	children++;
}

/* Root asking for ids 0 and 0 takes no ids: the child would ask with
 * root's own, so none is forked; other ids still get their child. */
static void test_root_no_child(void)
{
	struct access_answer a;
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = count_child;
	sigaction(SIGCHLD, &sa, NULL);
	make_file("root-file", 0600, 0, 0);
	children = 0;
	ok(answer("root-file", 0, 0, R_OK, &a) == 0 && children == 0,
	    "root asking as uid 0 gid 0: answered without a child");
	ok(answer("closed/inside", 0, 0, R_OK, &a) == 0 && children == 0,
	    "... through a directory only root may search");
	ok(answer("root-file", 0, 0, X_OK, &a) == EACCES && children == 0,
	    "... and no x bit is still no x bit");
	ok(answer("root-file", NOBODY, NOBODY, R_OK, &a) == EACCES &&
	    children == 1, "uid 65534: asked by a child");
	signal(SIGCHLD, SIG_DFL);
}

static void test_own_ids(void)
{
	struct access_answer a;
	struct err e;

	make_file("mine", 0600, geteuid(), getegid());
	ok(answer("mine", geteuid(), getegid(), R_OK, &a) == 0,
	    "own ids: own file of mode 0600 readable");
	if (geteuid() != 0)
		ok(access_as(at("mine"), geteuid() + 1, getegid(), R_OK, &a,
		    &e) < 0 && strstr(e.text, "only root may"),
		    "not root: another uid cannot be asked for");
}

int main(void)
{
	make_tmpdir(tmpdir, sizeof tmpdir, "access");
	atexit(cleanup);
	/* mkdtemp made it 0700: open it, so that the cases say what they
	 * say about the files in it. */
	chmod(tmpdir, 0711);
	if (geteuid() == 0) {
		test_as_nobody();
		test_root_no_child();
	} else
		skip("access as uid 65534", "not root");
	test_own_ids();
	return done_testing();
}
