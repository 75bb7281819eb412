/* cgroup_linux.c: the cgroup v2 side of zap (see cgroup.h). */
#include "cgroup.h"
#include "atomic.h"
#include "clock.h"
#include "conf.h"
#include "msg.h"
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define CGROUP_DIR "qmailctl"
/* sd_booted(3): systemd is the init, and owns the cgroup tree. */
#define SYSTEMD_BOOTED_DIR "/run/systemd/system"

/* Where cgroup v2 is mounted, from /proc/self/mountinfo: field 5 is the
 * mount point; the filesystem type follows the " - " separator.  -1 if
 * nowhere. */
static int cgroup2_mount(char *buf, size_t size)
{
	char line[4096], *mnt, *end;
	FILE *f = fopen("/proc/self/mountinfo", "re");
	int i, found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof line, f)) {
		if (!strstr(line, " - cgroup2 "))
			continue;
		mnt = line;
		for (i = 0; i < 4 && mnt; i++)
			if ((mnt = strchr(mnt, ' ')) != NULL)
				mnt++;
		if (!mnt || !(end = strchr(mnt, ' ')))
			continue;
		snprintf(buf, size, "%.*s", (int)(end - mnt), mnt);
		found = 0;
	}
	fclose(f);
	return found;
}

/* The cgroup v2 path of pid relative to the mount ("/qmailctl/send"),
 * from its "0::/path" line in /proc/PID/cgroup.  -1 with errno. */
static int cgroup_of_pid(pid_t pid, char *buf, size_t size)
{
	char path[64], line[PATH_MAX + 8];
	FILE *f;
	int found = -1;

	snprintf(path, sizeof path, "/proc/%d/cgroup", (int)pid);
	if (!(f = fopen(path, "re")))
		return -1;
	while (found < 0 && fgets(line, sizeof line, f))
		if (!strncmp(line, "0::", 3)) {
			snprintf(buf, size, "%.*s", (int)strcspn(line + 3, "\n"),
			    line + 3);
			found = 0;
		}
	fclose(f);
	if (found < 0)
		errno = ENOENT;
	return found;
}

static const char *mount_point(void)
{
	static char mnt[PATH_MAX];
	static int looked;

	if (!looked && cgroup2_mount(mnt, sizeof mnt) < 0)
		mnt[0] = 0;
	looked = 1;
	return mnt[0] ? mnt : NULL;
}

/* The rundir's canonical form, so that every spelling of one directory
 * ("/run/q/", "/run//q", a symlink to it) names one cgroup: realpath
 * where it exists, else the text without its trailing slashes. */
static void canonical(const char *rundir, char *buf, size_t size)
{
	char real[PATH_MAX];
	size_t len;

	if (realpath(rundir, real)) {
		snprintf(buf, size, "%s", real);
		return;
	}
	snprintf(buf, size, "%s", rundir);
	for (len = strlen(buf); len > 1 && buf[len - 1] == '/'; len--)
		buf[len - 1] = 0;
}

/* A site's cgroup name is its canonical rundir, escaped so that two
 * different paths can never give one name (the old mapping of both '/'
 * and '_' to '_' gave "X/a_b" and "X/a/b" one cgroup, and one site's zap
 * killed the other's service): '/' becomes '_'; '_', '%', '~' and every
 * byte that is not printable ASCII become %XX, so the mapping can be
 * undone and is one-to-one.  A name longer than NAME_MAX keeps its
 * first SITE_PREFIX bytes and ends in '~' and 32 hex digits of the
 * SHA-256 of the canonical path (cgroup_site_digest): '~' appears in no
 * unhashed name.  -1 when the digest cannot be had. */
#define SITE_PREFIX 160

static int escape_site(const char *path, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	char digest[CGROUP_DIGEST_HEX + 1];
	size_t o = 0;
	const unsigned char *p;

	for (p = (const unsigned char *)path; *p && o + 4 < size; p++) {
		if (*p == '/')
			out[o++] = '_';
		else if (*p > 0x20 && *p < 0x7f && !strchr("_%~", *p))
			out[o++] = (char)*p;
		else {
			out[o++] = '%';
			out[o++] = hex[*p >> 4];
			out[o++] = hex[*p & 15];
		}
	}
	out[o] = 0;
	if (o <= NAME_MAX && !*p)
		return 0;
	if (cgroup_site_digest(path, digest) < 0)
		return -1;
	snprintf(out + SITE_PREFIX, size - SITE_PREFIX, "~%s", digest);
	return 0;
}

int cgroup_path(const char *rundir, const char *name, char *buf, size_t size)
{
	const char *mnt = mount_point();
	char canon[PATH_MAX], site[4 * PATH_MAX];

	if (!mnt)
		return -1;
	canonical(rundir, canon, sizeof canon);
	if (!strcmp(canon, CONF_DEFAULT_RUNDIR)) {
		snprintf(buf, size, "%s/%s/%s", mnt, CGROUP_DIR, name);
		return 0;
	}
	/* Another site (a test, a second qmail): its own subtree, named
	 * after its rundir, so that sites never see each other's cgroups. */
	if (escape_site(canon, site, sizeof site) < 0)
		return -1;
	snprintf(buf, size, "%s/%s/%s/%s", mnt, CGROUP_DIR, site, name);
	return 0;
}

int cgroup_site_digest_of(const char *rundir, char digest[CGROUP_DIGEST_HEX + 1])
{
	char canon[PATH_MAX], site[4 * PATH_MAX];
	char *tilde;

	canonical(rundir, canon, sizeof canon);
	if (escape_site(canon, site, sizeof site) < 0 ||
	    !(tilde = strchr(site, '~')))
		return -1;
	snprintf(digest, CGROUP_DIGEST_HEX + 1, "%s", tilde + 1);
	return 0;
}

int cgroup_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int cgroup_create(const char *path)
{
	const char *mnt = mount_point();
	char dir[PATH_MAX], *slash;

	if (!mnt || strncmp(path, mnt, strlen(mnt))) {
		errno = EINVAL;
		return -1;
	}
	/* mkdir -p below the mount */
	snprintf(dir, sizeof dir, "%s", path);
	for (slash = dir + strlen(mnt) + 1; (slash = strchr(slash, '/'));
	    slash++) {
		*slash = 0;
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return -1;
		*slash = '/';
	}
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	return 0;
}

static int write_file(const char *dir, const char *file, const char *text)
{
	char path[PATH_MAX + 32];
	int fd, rc;

	snprintf(path, sizeof path, "%s/%s", dir, file);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	rc = write(fd, text, strlen(text)) == (ssize_t)strlen(text) ? 0 : -1;
	close(fd);
	return rc;
}

int cgroup_open(const char *path)
{
	return open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int cgroup_enter(const char *path)
{
	return write_file(path, "cgroup.procs", "0\n");
}

/* Calls fn on each pid listed in cgroup.procs. */
/* Reads the pids listed in cgroup.procs (live processes only: a process
 * leaves the list when it exits, before it is reaped) into a new array. */
static pid_t *list_pids(const char *path, int *n)
{
	char file[PATH_MAX + 32];
	pid_t *pids = NULL;
	int cap = 0;
	long pid;
	FILE *f;

	*n = 0;
	snprintf(file, sizeof file, "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return NULL;
	while (fscanf(f, "%ld", &pid) == 1) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 256;
			pids = xrealloc(pids, (size_t)cap * sizeof *pids);
		}
		pids[(*n)++] = (pid_t)pid;
	}
	fclose(f);
	return pids;
}

/* Is pid (now) in the cgroup at path?  The kernel names it relative to
 * the mount: "/qmailctl/NAME". */
static int in_cgroup(pid_t pid, const char *path)
{
	const char *mnt = mount_point();
	char now[PATH_MAX];

	return mnt && cgroup_of_pid(pid, now, sizeof now) == 0 &&
	    !strcmp(now, path + strlen(mnt));
}

/* Membership of our cgroup is the identity: only our server's
 * descendants are ever in it, and nothing leaves it without privilege.
 * The pidfd pins the process first, so a pid that was reused after the
 * list was read names a process outside the cgroup and is skipped. */
static int signal_one(pid_t pid, const char *path, int sig, int sig2,
    int *err)
{
	int fd = proc_open_pid(pid), sent = 0;

	if (fd < 0)
		return 0;
	if (in_cgroup(pid, path)) {
		sent = proc_signal_counted(fd, sig, err);
		if (sent && sig2)
			proc_signal(fd, sig2);
	}
	close(fd);
	return sent;
}

int cgroup_count(const char *path)
{
	pid_t *pids;
	int n;

	pids = list_pids(path, &n);
	free(pids);
	return pids || n == 0 ? n : -1;
}

int cgroup_members(const char *path, pid_t *out, int max)
{
	pid_t *pids;
	int n, i;

	pids = list_pids(path, &n);
	for (i = 0; i < n && i < max; i++)
		out[i] = pids[i];
	free(pids);
	return pids || n == 0 ? n : -1;
}

int cgroup_signal(const char *path, int sig, int sig2, int *err)
{
	pid_t *pids;
	int n, i, sent = 0;

	if (err)
		*err = 0;
	pids = list_pids(path, &n);
	for (i = 0; i < n; i++)
		sent += signal_one(pids[i], path, sig, sig2, err);
	free(pids);
	return sent;
}

int cgroup_kill(const char *path, int *err)
{
	int n = cgroup_count(path);

	if (err)
		*err = 0;
	if (n > 0 && write_file(path, "cgroup.kill", "1\n") < 0)
		cgroup_signal(path, SIGKILL, 0, err);
	return n < 0 ? 0 : n;
}

static int left_in(const char *path)
{
	int n = cgroup_count(path);

	return n > 0 ? n : 0;
}

/* "populated 0" in cgroup.events: no live process in the cgroup. */
static int populated(int fd)
{
	char text[256];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);

	if (n <= 0)
		return -1;
	text[n] = 0;
	return strstr(text, "populated 0") ? 0 : 1;
}

int cgroup_wait_empty(const char *path, long timeout_ms)
{
	char file[PATH_MAX + 32];
	long long deadline = clock_ms() + timeout_ms;
	struct pollfd pf;

	snprintf(file, sizeof file, "%s/cgroup.events", path);
	pf.fd = open(file, O_RDONLY | O_CLOEXEC);
	if (pf.fd < 0)
		return left_in(path);
	pf.events = POLLPRI;
	/* The kernel flags cgroup.events when "populated" changes: sleep
	 * until then, no polling of the process list. */
	while (populated(pf.fd) > 0 && clock_left(deadline) > 0)
		poll(&pf, 1, clock_left(deadline));
	close(pf.fd);
	return left_in(path);
}

/* Is path below CGROOT/qmailctl, the tree of the cgroups we name? */
static int in_our_tree(const char *path)
{
	const char *mnt = mount_point();
	size_t len = mnt ? strlen(mnt) : 0;

	return mnt && !strncmp(path, mnt, len) && path[len] == '/' &&
	    !strncmp(path + len + 1, CGROUP_DIR "/", strlen(CGROUP_DIR) + 1);
}

int cgroup_remove(const char *path)
{
	char parent[PATH_MAX], *slash;

	if (rmdir(path) < 0)
		return -1;
	/* A per-site subtree goes too once empty; the shared one stays,
	 * and a delegated subtree is its manager's. */
	snprintf(parent, sizeof parent, "%s", path);
	if (in_our_tree(path) && (slash = strrchr(parent, '/')) != NULL) {
		*slash = 0;
		if (strcmp(slash - strlen(CGROUP_DIR), CGROUP_DIR))
			rmdir(parent);
	}
	return 0;
}

int cgroup_manager_owns_tree(void)
{
	struct stat st;

	return stat(SYSTEMD_BOOTED_DIR, &st) == 0 && S_ISDIR(st.st_mode);
}

/* systemd marks the cgroup of a unit with Delegate=yes (v251 and later):
 * trusted.delegate for the system manager's units, user.delegate for a
 * user manager's. */
static int marked_delegated(const char *path)
{
	static const char *const names[] = { "trusted.delegate",
	    "user.delegate" };
	char v[8];
	ssize_t n;
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		n = getxattr(path, names[i], v, sizeof v - 1);
		if (n == 1 && v[0] == '1')
			return 1;
	}
	return 0;
}

int cgroup_delegated_base(char *buf, size_t size)
{
	const char *mnt = mount_point();
	char own[PATH_MAX];

	if (!mnt || cgroup_of_pid(getpid(), own, sizeof own) < 0)
		return -1;
	/* the root cgroup is nobody's delegation */
	if (!strcmp(own, "/") || strstr(own, "/..") ||
	    (size_t)snprintf(buf, size, "%s%s", mnt, own) >= size)
		return -1;
	return marked_delegated(buf) ? 0 : -1;
}

/* The record's file in the rundir. */
static void record_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s.cgroup", name);
}

int cgroup_record(int dirfd, const char *dir, const char *name,
    const char *path, struct err *e)
{
	char base[NAME_MAX + 1], line[PATH_MAX + 1];
	int n;

	record_name(base, sizeof base, name);
	n = snprintf(line, sizeof line, "%s\n", path);
	if (n < 0 || (size_t)n >= sizeof line) {
		errno = ENAMETOOLONG;
		return err_set(e, "cgroup path too long: %s", path);
	}
	return atomic_write_at(dirfd, dir, base, line, (size_t)n, 0644,
	    ATOMIC_CHECK_DIR, e);
}

/* A recorded path is trusted only if it names a directory below the
 * mount by a plain path: it is the set zap kills. */
static int plausible(const char *path)
{
	const char *mnt = mount_point();
	size_t len = mnt ? strlen(mnt) : 0;

	return mnt && !strncmp(path, mnt, len) && path[len] == '/' &&
	    !strstr(path, "/../") && !strstr(path, "/./") &&
	    strcmp(path + strlen(path) - 3, "/..") &&
	    cgroup_exists(path);
}

int cgroup_recorded(int dirfd, const char *name, char *buf, size_t size)
{
	char base[NAME_MAX + 1], text[PATH_MAX + 2];
	struct stat st;
	ssize_t n;
	int fd;

	record_name(base, sizeof base, name);
	fd = openat(dirfd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ?
	    read(fd, text, sizeof text - 1) : -1;
	close(fd);
	if (n <= 1 || text[n - 1] != '\n' || memchr(text, 0, (size_t)n)) {
		errno = EINVAL;
		return -1;
	}
	text[n - 1] = 0;
	if (strchr(text, '\n') || !plausible(text) ||
	    (size_t)snprintf(buf, size, "%s", text) >= size) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

void cgroup_unrecord(int dirfd, const char *name)
{
	char base[NAME_MAX + 1];

	record_name(base, sizeof base, name);
	unlinkat(dirfd, base, 0);
}
