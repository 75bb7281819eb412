/* cdb.c: rebuild a service's tcprules database from its source.
 *
 * tcprules itself writes a temporary file and renames it over FILE.cdb, so a
 * tcpserver never reads half a database and a source with a syntax error
 * leaves the old database in place.  What we add:
 *
 * - which files: the -x argument of the service's tcpserver (as
 *   tcpserver_load() read it) and the source beside it (or the service's
 *   "rules" key);
 * - a rules directory that only root can change: tcprules runs as root
 *   and opens its temporary file by name, following symlinks, so it
 *   gets a name that qmailctl created itself (O_EXCL, unique) in a
 *   directory that nobody else may write (or sticky and root's), never
 *   FILE.tmp, which whoever can write the directory could have planted;
 * - one build of a database at a time: two services may share a database
 *   and their workers run concurrently; the source is flock()ed while
 *   tcprules runs;
 * - a database readable by all (umask 022): tcpserver opens it for every
 *   connection, after it has dropped to its -u user;
 * - confirmation: "rebuilt" only when a new file (rename gives it a new
 *   inode) at least a cdb header long is in place;
 * - tcprules' own complaint, with the line number it does not give. */
#include "cdb.h"
#include "atomic.h"
#include "clock.h"
#include "msg.h"
#include "runprog.h"
#include "spawn.h"
#include "transition.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* tcprules compiles thousands of lines in milliseconds: one that runs
 * longer than this (or than -t) is stuck, not busy. */
#define TCPRULES_TIMEOUT_MS 60000
/* How often a build waits for another build of the same database. */
#define LOCK_POLL_MS 10
/* Every cdb begins with a table of 256 (position, length) pairs. */
#define CDB_HEADER_SIZE 2048
/* A temporary name that exists already is someone's: the next number is
 * tried, this many times. */
#define TMP_TRIES 16
/* How tcprules reports a line it cannot parse; the line follows. */
#define PARSE_ERROR "unable to parse this line: "

struct db {
	char src[PATH_MAX];     /* FILE.rules: what the administrator edits */
	char cdb[PATH_MAX];     /* FILE.cdb: what tcpserver -x reads */
	char tmp[PATH_MAX];     /* ours: tcprules writes it, then renames */
	int dirfd;              /* the checked directory of cdb and tmp */
	const char *tmpname;    /* tmp's name in it */
};

struct run {
	char err[1024];         /* what tcprules wrote on stderr */
	int status;             /* its wait status */
	int timed_out;          /* it was killed after the timeout */
};

/* path with the suffix from replaced by to (or to appended), absolute:
 * a relative path is taken against dir, as tcpserver, running in dir,
 * takes it.  -1 if it does not fit. */
static int derive(char *buf, size_t size, const char *dir, const char *path,
    const char *from, const char *to)
{
	size_t n = strlen(path), f = strlen(from);
	int len;

	if (n > f && !strcmp(path + n - f, from))
		n -= f;
	if (path[0] == '/')
		len = snprintf(buf, size, "%.*s%s", (int)n, path, to);
	else
		len = snprintf(buf, size, "%s%s%.*s%s", dir,
		    dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/", (int)n,
		    path, to);
	return len < 0 || (size_t)len >= size ? -1 : 0;
}

int cdb_paths(const struct service *svc, char *src, size_t ssize, char *cdb,
    size_t csize, struct err *e)
{
	const char *x = svc->tcpserver.rules, *rules = svc->rules;
	const char *dir = svc->directory;
	int bad;

	if (!x && !rules)
		return 0;
	if (x) {
		bad = derive(cdb, csize, dir, x, "", "");
		bad |= rules ? derive(src, ssize, dir, rules, "", "")
		    : derive(src, ssize, dir, x, ".cdb", ".rules");
	} else {
		bad = derive(src, ssize, dir, rules, "", "");
		bad |= derive(cdb, csize, dir, rules, ".rules", ".cdb");
	}
	if (bad)
		return err_set(e, "tcprules file names too long (database "
		    "%.200s)", x ? x : rules);
	if (!strcmp(src, cdb))
		return err_set(e, "the tcprules source %s would be overwritten "
		    "by its own database", src);
	return 1;
}

/* The service's database: 1 and db filled, 0 if it has none, -1 (said
 * why) if the names are unusable. */
static int find_db(const struct unit *u, struct db *db)
{
	struct err e;
	int rc = cdb_paths(u->svc, db->src, sizeof db->src, db->cdb,
	    sizeof db->cdb, &e);

	if (rc < 0)
		sayerr(u, "%s", e.text);
	return rc;
}

/* The database's directory, checked as the pidfile writer checks its own
 * (atomic_dir_safe), and in it a new empty file of ours for tcprules to
 * fill, mode 0644 whatever the umask.  -1 (said why) if either fails. */
static int make_tmp(const struct unit *u, struct db *db)
{
	char dir[PATH_MAX];
	const char *base = strrchr(db->cdb, '/') + 1;   /* cdb is absolute */
	struct stat st;
	int fd = -1, n, len;

	snprintf(dir, sizeof dir, "%.*s", (int)(base - 1 - db->cdb), db->cdb);
	if ((db->dirfd = open(dir[0] ? dir : "/", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) < 0 || atomic_dir_safe(db->dirfd) < 0) {
		if (errno == EPERM)
			sayerr(u, "refusing rules directory %s: writable by "
			    "group or others and not a sticky directory of "
			    "root's", dir);
		else
			sayerr(u, "unable to open directory %s: %s", dir,
			    strerror(errno));
		return -1;
	}
	/* Its owner may rename anything in it: the temporary file of ours
	 * could become a symlink between our open and tcprules' (who runs
	 * as root).  Only a directory of ours is safe to build in. */
	if (fstat(db->dirfd, &st) < 0 || st.st_uid != geteuid()) {
		sayerr(u, "refusing rules directory %s: owned by uid %u, who "
		    "could swap the files tcprules writes as root; make it "
		    "root's", dir, (unsigned)st.st_uid);
		return -1;
	}
	for (n = 0; n < TMP_TRIES && fd < 0; n++) {
		len = snprintf(db->tmp, sizeof db->tmp, "%s/.%s.%d.%d.tmp", dir,
		    base, (int)getpid(), n);
		if (len < 0 || (size_t)len >= sizeof db->tmp) {
			errno = ENAMETOOLONG;
			break;
		}
		db->tmpname = db->tmp + strlen(dir) + 1;
		fd = openat(db->dirfd, db->tmpname, O_WRONLY | O_CREAT |
		    O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0 || fchmod(fd, 0644) < 0) {
		sayerr(u, "unable to create %s: %s", db->tmp, strerror(errno));
		if (fd >= 0) {
			close(fd);
			unlinkat(db->dirfd, db->tmpname, 0);
		}
		db->tmpname = NULL;     /* a name that exists is not ours */
		return -1;
	}
	close(fd);
	return 0;
}

/* Opens the source, which becomes tcprules' stdin, and locks it for the
 * build.  O_NONBLOCK: a FIFO planted there must not hang us at open. */
static int open_source(const struct unit *u, const struct db *db,
    long timeout_ms)
{
	long long deadline = clock_ms() + timeout_ms;
	struct stat st;
	int fd, err;

	/* O_NOFOLLOW: tcprules repeats a line it cannot parse, so a
	 * symlink to a root-only file would be read back to the caller. */
	fd = open(db->src, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_NOFOLLOW |
	    O_CLOEXEC);
	if (fd < 0) {
		sayerr(u, "unable to open %s: %s", db->src, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0) {
		sayerr(u, "unable to stat %s: %s", db->src, strerror(errno));
		close(fd);
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		sayerr(u, "%s is not a regular file", db->src);
		close(fd);
		return -1;
	}
	while (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		err = errno;
		if (err != EWOULDBLOCK || clock_left(deadline) == 0) {
			sayerr(u, "unable to lock %s: %s", db->src,
			    err == EWOULDBLOCK ? "another qmailctl is "
			    "rebuilding its database" : strerror(err));
			close(fd);
			return -1;
		}
		poll(NULL, 0, LOCK_POLL_MS);
	}
	return fd;
}

/* Runs tcprules CDB TMP <SRC with the service's PATH and nothing else in
 * its environment.  -1 if it could not be run (r->err says why). */
static int run_tcprules(const struct unit *u, const char *prog,
    struct db *db, int in, long timeout_ms, struct run *r)
{
	char *argv[] = { "tcprules", db->cdb, db->tmp, NULL };
	char *envp[2] = { NULL, NULL };
	struct runprog rp;
	struct err e;
	int rc;

	memset(r, 0, sizeof *r);
	memset(&rp, 0, sizeof rp);
	envp[0] = xmalloc(strlen(u->site->path) + 6);
	sprintf(envp[0], "PATH=%s", u->site->path);
	sayv(u, "running %s %s %s <%s", prog, db->cdb, db->tmp, db->src);
	rp.prog = prog;
	rp.argv = argv;
	rp.envp = envp;
	rp.fd_in = in;
	rp.timeout_ms = timeout_ms;
	rc = runprog(&rp, &e);
	free(envp[0]);
	if (rc < 0) {
		snprintf(r->err, sizeof r->err, "%s", e.text);
		return -1;
	}
	memcpy(r->err, rp.err, sizeof r->err);
	r->status = rp.status;
	r->timed_out = rp.timed_out;
	return 0;
}

/* The number of the first line of file that reads text, or 0. */
static long line_of(const char *file, const char *text)
{
	FILE *f = fopen(file, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long no = 0, found = 0;

	if (!f)
		return 0;
	while (!found && (n = getline(&line, &cap, f)) >= 0) {
		no++;
		if (n > 0 && line[n - 1] == '\n')
			line[n - 1] = 0;
		if (!strcmp(line, text))
			found = no;
	}
	free(line);
	fclose(f);
	return found;
}

/* Says why tcprules failed, in its own words (the first line, without
 * its "tcprules: fatal: " prefix), with FILE:LINE when it names a line. */
static int report_failure(const struct unit *u, const struct db *db,
    struct run *r, long timeout_ms)
{
	char how[64], *msg = r->err, *nl;
	long line = 0;

	if (r->timed_out) {
		sayerr(u, "tcprules %s: no result after %ld ms, killed",
		    db->src, timeout_ms);
		return EXIT_FAILED;
	}
	if (!strncmp(msg, "tcprules: ", 10))
		msg += 10;
	if (!strncmp(msg, "fatal: ", 7))
		msg += 7;
	if ((nl = strchr(msg, '\n')) != NULL)
		*nl = 0;
	if (!*msg)
		msg = fmt_wstatus(how, sizeof how, r->status);
	if (!strncmp(msg, PARSE_ERROR, strlen(PARSE_ERROR)))
		line = line_of(db->src, msg + strlen(PARSE_ERROR));
	if (line > 0)
		sayerr(u, "tcprules %s:%ld: %s", db->src, line, msg);
	else
		sayerr(u, "tcprules %s: %s", db->src, msg);
	return EXIT_FAILED;
}

/* tcprules said it succeeded; look: a new file, at least a cdb header
 * long, must be in place. */
static int confirm(const struct unit *u, const struct db *db,
    const struct stat *before, int existed)
{
	struct stat st;

	if (lstat(db->cdb, &st) < 0) {
		sayerr(u, "tcprules succeeded, but %s: %s", db->cdb,
		    strerror(errno));
		return EXIT_FAILED;
	}
	if (!S_ISREG(st.st_mode) || st.st_size < CDB_HEADER_SIZE) {
		sayerr(u, "tcprules succeeded, but %s is not a cdb", db->cdb);
		return EXIT_FAILED;
	}
	if (existed && st.st_ino == before->st_ino &&
	    st.st_dev == before->st_dev) {
		sayerr(u, "tcprules succeeded, but %s was not replaced",
		    db->cdb);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int do_cdb(struct unit *u)
{
	long timeout = unit_timeout(u, TCPRULES_TIMEOUT_MS);
	char prog[PATH_MAX];
	struct stat before;
	struct db db;
	struct run r;
	int fd, rc, existed = 0;

	memset(&r, 0, sizeof r);
	if ((rc = find_db(u, &db)) <= 0) {
		if (rc == 0)
			say(u, "no tcprules database");
		return rc == 0 ? EXIT_OK : EXIT_FAILED;
	}
	if (spawn_resolve("tcprules", u->site->path, prog, sizeof prog) < 0) {
		if (errno == EACCES)
			sayerr(u, "tcprules is not executable (in %s)",
			    u->site->path);
		else
			sayerr(u, "tcprules is not installed (not found in %s)",
			    u->site->path);
		return EXIT_NOT_INSTALLED;
	}
	if (transition_lock(u, u->svc->start_timeout_ms) < 0)
		return EXIT_FAILED;
	if ((fd = open_source(u, &db, timeout)) < 0)
		return EXIT_FAILED;
	db.dirfd = -1;
	db.tmpname = NULL;
	rc = make_tmp(u, &db);
	if (rc == 0) {
		existed = lstat(db.cdb, &before) == 0;
		rc = run_tcprules(u, prog, &db, fd, timeout, &r);
	}
	if (rc < 0 && r.err[0])
		sayerr(u, "tcprules %s: %s", db.src, r.err);
	else if (rc == 0 && (r.timed_out || !WIFEXITED(r.status) ||
	    WEXITSTATUS(r.status) != 0))
		rc = report_failure(u, &db, &r, timeout);
	else if (rc == 0 && (rc = confirm(u, &db, &before, existed)) == EXIT_OK)
		say(u, "rebuilt %s from %s", db.cdb, db.src);
	/* A failed tcprules leaves our file partial; after a rename the name
	 * is gone, and nobody else can create it in this directory. */
	if (rc != EXIT_OK && db.tmpname)
		unlinkat(db.dirfd, db.tmpname, 0);
	close(fd);
	if (db.dirfd >= 0)
		close(db.dirfd);
	return rc < 0 ? EXIT_FAILED : rc;
}
