/* cgroup.h: an optional cgroup v2 per service.
 *
 * A process group holds only those who stay in it: a qmail-remote (or
 * anything) that calls setsid() leaves it, and zap by process group cannot
 * reach it.  A cgroup is inherited by every descendant and cannot be left
 * without privilege, so where cgroup v2 is mounted and writable the server
 * element is started in CGROOT/qmailctl/NAME and zap kills the cgroup.
 * Elsewhere, the process group is all there is, and qmailctl says so.
 *
 * The cgroup's path depends only on the mount, the site's rundir and the
 * service name, so stop, zap and status find it whatever the service
 * file says today, and two sites never share one. */
#ifndef QMAILCTL_CGROUP_H
#define QMAILCTL_CGROUP_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* The service's cgroup into buf, if cgroup v2 is mounted: CGROOT/qmailctl/
 * NAME for the default rundir, CGROOT/qmailctl/SITE/NAME for any other
 * site, SITE being the canonical rundir (realpath, no trailing slash)
 * escaped one-to-one: '/' as '_', and '_', '%', '~' and bytes that are not
 * printable ASCII as %XX; a SITE longer than NAME_MAX is cut and ends in
 * '~' and a hash of the path.  Returns 0, or -1 when there is no cgroup
 * v2 mount (or no digest for a hashed name). */
int cgroup_path(const char *rundir, const char *name, char *buf, size_t size);
/* The hex digits that end a hashed site name: 32 of the SHA-256 of the
 * canonical rundir.  cgroup_site_digest() computes them (cgroup_digest.c,
 * with OpenSSL); qmailctl-supervise, linked without OpenSSL, has its own
 * that gives what its qmailctl computed with cgroup_site_digest_of() for
 * the one site it serves (supervise/nossl.c).  Each returns 0, or
 * -1 (for _of: the site's name is not hashed). */
#define CGROUP_DIGEST_HEX 32
int cgroup_site_digest(const char *canonical_path,
    char digest[CGROUP_DIGEST_HEX + 1]);
int cgroup_site_digest_of(const char *rundir,
    char digest[CGROUP_DIGEST_HEX + 1]);

/* True if the service's cgroup directory exists. */
int cgroup_exists(const char *path);

/* Creates the cgroup (and CGROOT/qmailctl).  -1 with errno. */
int cgroup_create(const char *path);

/* Moves the calling process into the cgroup (for a child before exec,
 * where it could not be born there). */
int cgroup_enter(const char *path);

/* The cgroup's directory, open for proc_fork_into(); -1 with errno. */
int cgroup_open(const char *path);

/* Live processes in the cgroup, or -1 with errno. */
int cgroup_count(const char *path);

/* The same, and the first max of their pids into pids. */
int cgroup_members(const char *path, pid_t *pids, int max);

/* Sends sig (then sig2, unless 0) to each process still in the cgroup,
 * each through a pidfd opened and then checked to be in this cgroup.
 * Returns how many got sig; *err as for group_signal (group.h). */
int cgroup_signal(const char *path, int sig, int sig2, int *err);

/* Kills everything in the cgroup at once (cgroup.kill, Linux 5.14), or
 * each process with SIGKILL where cgroup.kill does not exist.  Returns
 * how many processes were in it; *err as for cgroup_signal. */
int cgroup_kill(const char *path, int *err);

/* Waits up to timeout_ms until the cgroup has no live process (woken by
 * the kernel's cgroup.events notification).  Returns those left. */
int cgroup_wait_empty(const char *path, long timeout_ms);

/* Removes an empty cgroup (and an empty per-site subtree of ours). */
int cgroup_remove(const char *path);

/* Under systemd the cgroup tree is the manager's: a program may create
 * cgroups only below a unit delegated to it (Delegate=yes).  True if
 * systemd is the init (sd_booted(3)'s test). */
int cgroup_manager_owns_tree(void);

/* Our own cgroup's directory into buf if it was delegated to us (systemd
 * marks it with the xattr trusted.delegate=1), else -1.  Not the root
 * cgroup, never: that is nobody's to give. */
int cgroup_delegated_base(char *buf, size_t size);

/* The server's cgroup where it is not at cgroup_path()'s place (below a
 * delegated subtree) is recorded in the rundir as NAME.cgroup, so that
 * stop, zap and status find it from any shell.  cgroup_record() writes it
 * atomically (dirfd is the held rundir, dir its name for messages);
 * cgroup_recorded() reads it without following a symlink and accepts only
 * an existing directory below the cgroup v2 mount named by a plain path
 * (what it names is what zap kills); cgroup_unrecord() removes it. */
int cgroup_record(int dirfd, const char *dir, const char *name,
    const char *path, struct err *e);
int cgroup_recorded(int dirfd, const char *name, char *buf, size_t size);
void cgroup_unrecord(int dirfd, const char *name);

#endif
