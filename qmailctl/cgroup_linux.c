/* cgroup_linux.c: the cgroup v2 side of zap (see cgroup.h). */
#include "cgroup.h"
#include "clock.h"
#include "conf.h"
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
#include <unistd.h>

#define CGROUP_DIR "qmailctl"

static const char *mount_point(void)
{
	static char mnt[PATH_MAX];
	static int looked;

	if (!looked && proc_cgroup2_mount(mnt, sizeof mnt) < 0)
		mnt[0] = 0;
	looked = 1;
	return mnt[0] ? mnt : NULL;
}

int cgroup_path(const char *rundir, const char *name, char *buf, size_t size)
{
	const char *mnt = mount_point();
	char site[NAME_MAX + 1];
	size_t i;

	if (!mnt)
		return -1;
	if (!strcmp(rundir, CONF_DEFAULT_RUNDIR)) {
		snprintf(buf, size, "%s/%s/%s", mnt, CGROUP_DIR, name);
		return 0;
	}
	/* Another site (a test, a second qmail): its own subtree, named
	 * after its rundir, so that sites never see each other's cgroups. */
	for (i = 0; rundir[i] && i < sizeof site - 1; i++)
		site[i] = rundir[i] == '/' ? '_' : rundir[i];
	site[i] = 0;
	snprintf(buf, size, "%s/%s/%s/%s", mnt, CGROUP_DIR, site, name);
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

int cgroup_enter(const char *path)
{
	return write_file(path, "cgroup.procs", "0\n");
}

/* Calls fn on each pid listed in cgroup.procs. */
static int each_pid(const char *path, void (*fn)(pid_t, const char *, int,
    int *), int sig, int *count)
{
	char file[PATH_MAX + 32];
	FILE *f;
	long pid;

	snprintf(file, sizeof file, "%s/cgroup.procs", path);
	f = fopen(file, "re");
	if (!f)
		return -1;
	while (fscanf(f, "%ld", &pid) == 1)
		fn((pid_t)pid, path, sig, count);
	fclose(f);
	return 0;
}

/* Is pid (now) in the cgroup at path?  The kernel names it relative to
 * the mount: "/qmailctl/NAME". */
static int in_cgroup(pid_t pid, const char *path)
{
	const char *mnt = mount_point();
	char now[PATH_MAX];

	return mnt && proc_cgroup_of(pid, now, sizeof now) == 0 &&
	    !strcmp(now, path + strlen(mnt));
}

static void count_one(pid_t pid, const char *path, int sig, int *count)
{
	struct proc_info pi;

	(void)path;
	(void)sig;
	if (proc_info(pid, &pi) == 0 && !proc_state_exited(pi.state))
		(*count)++;
}

static void signal_one(pid_t pid, const char *path, int sig, int *count)
{
	struct proc_info pi;
	struct proc_ident id;
	int fd;

	if (proc_info(pid, &pi) < 0 || proc_state_exited(pi.state))
		return;
	memset(&id, 0, sizeof id);
	id.pid = pid;
	id.start = pi.start;
	fd = proc_open_recorded(&id);
	if (fd < 0)
		return;
	/* The pidfd pins the process: if it is in our cgroup now, it is the
	 * process the list named, not a newcomer with a reused pid. */
	if (in_cgroup(pid, path) && proc_signal(fd, sig) == 0)
		(*count)++;
	close(fd);
}

int cgroup_count(const char *path)
{
	int n = 0;

	return each_pid(path, count_one, 0, &n) < 0 ? -1 : n;
}

int cgroup_signal(const char *path, int sig)
{
	int n = 0;

	each_pid(path, signal_one, sig, &n);
	return n;
}

int cgroup_kill(const char *path)
{
	int n = cgroup_count(path);

	if (n > 0 && write_file(path, "cgroup.kill", "1\n") < 0)
		cgroup_signal(path, SIGKILL);
	return n < 0 ? 0 : n;
}

int cgroup_wait_empty(const char *path, long timeout_ms)
{
	char file[PATH_MAX + 32];
	long long deadline = clock_ms() + timeout_ms;
	struct pollfd pf;
	int n;

	snprintf(file, sizeof file, "%s/cgroup.events", path);
	pf.fd = open(file, O_RDONLY | O_CLOEXEC);
	pf.events = POLLPRI;
	/* cgroup.events changes ("populated 0") when the last process has
	 * exited; zombies are not counted in cgroup.procs' live processes
	 * by count_one, so look at both. */
	while ((n = cgroup_count(path)) > 0 && clock_left(deadline) > 0) {
		int wait = clock_left(deadline) < 10 ? clock_left(deadline) : 10;

		if (pf.fd >= 0)
			poll(&pf, 1, wait);
		else
			poll(NULL, 0, wait);
	}
	if (pf.fd >= 0)
		close(pf.fd);
	return n < 0 ? 0 : n;
}

int cgroup_remove(const char *path)
{
	char parent[PATH_MAX], *slash;

	if (rmdir(path) < 0)
		return -1;
	/* A per-site subtree goes too once empty; the shared one stays. */
	snprintf(parent, sizeof parent, "%s", path);
	if ((slash = strrchr(parent, '/')) != NULL) {
		*slash = 0;
		if (strcmp(slash - strlen(CGROUP_DIR), CGROUP_DIR))
			rmdir(parent);
	}
	return 0;
}
