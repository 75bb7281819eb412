/* group.h: the processes of a service's server element, as one thing.
 *
 * That is its cgroup where it has one (see cgroup.h), else the process
 * group it leads.  A process-group member is only ever touched if it is in
 * the recorded process group AND the recorded session AND started no
 * earlier than the recorded leader: a process that merely reused a pid
 * fails at least one of the three.  Each process is signalled through its
 * own pidfd, never by a bare pid or kill(-pgid). */
#ifndef QMAILCTL_GROUP_H
#define QMAILCTL_GROUP_H

#include <limits.h>
#include <sys/types.h>
#include "proc.h"

struct group_id {
	pid_t leader;
	pid_t pgid;                     /* 0: none known */
	pid_t sid;
	unsigned long long min_start;   /* leader's start time */
	char cgroup[PATH_MAX];          /* "" when there is none */
};

/* The group a recorded element leads; cgroup may be NULL or "". */
void group_of(const struct proc_ident *leader, const char *cgroup,
    struct group_id *g);

/* Sends sig, then sig2 unless 0, to every live member (TERM then CONT, so
 * that a stopped process acts on it); returns how many got sig.
 * *err, unless err is NULL, is set to the errno of the first member that
 * refused the signal (a security policy), 0 when none did; a member that
 * exited meanwhile did not refuse. */
int group_signal(const struct group_id *g, int sig, int sig2, int *err);

/* KILL to every member (cgroup.kill where there is a cgroup); returns
 * how many there were.  *err as for group_signal. */
int group_kill(const struct group_id *g, int *err);

/* How many live (not yet exited) members there are now. */
int group_count(const struct group_id *g);

/* The live members now: up to max pids into pids; returns how many there
 * are (a cgroup's members, else the process group's). */
int group_members(const struct group_id *g, pid_t *pids, int max);

/* "pid 12 13 14" (with " ..." when total > n) into buf, for a message
 * that names processes. */
char *group_pid_list(char *buf, size_t size, const pid_t *pids, int n,
    int total);

/* Waits until deadline (clock_ms) for no member to be left; returns how
 * many are left. */
int group_wait_empty(const struct group_id *g, long long deadline);

/* Descendants of the leader that have left its process group (setsid):
 * without a cgroup, nothing can reach them once their parents are gone,
 * so they are found while the tree is still whole.  Fills up to max pids
 * and returns how many there are. */
int group_escaped(const struct group_id *g, pid_t *pids, int max);

#endif
