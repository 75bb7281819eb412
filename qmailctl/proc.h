/* proc.h: what qmailctl needs to know about processes, and nothing else.
 *
 * Everything that reads /proc, opens pidfds or depends on Linux process
 * accounting lives behind this interface in proc_linux.c, so that a port to
 * another kernel is one file (and cgroup_linux.c, whose cgroup v2 needs
 * its own lookups in /proc).
 *
 * Why a pid alone is never trusted: a pid names whatever process holds it
 * now.  After a crash or a reboot, a pidfile's pid may belong to an unrelated
 * process (start-stop-daemon has killed innocent processes this way).  A
 * process is identified by (pid, start time in clock ticks since boot, boot
 * id, and where the kernel has pidfs, the inode of a pidfd on it, which is
 * never reused within a boot: start time alone has 10 ms steps, and a pid
 * reused within one step would pass); a handle is only handed out after
 * the live process matches all of them,
 * and it is a pidfd, so that signals go to that process even if it exits and
 * its pid is reused between our check and our kill. */
#ifndef QMAILCTL_PROC_H
#define QMAILCTL_PROC_H

#include <stddef.h>
#include <sys/types.h>

#define PROC_BOOT_ID_MAX 40

struct proc_info {
	pid_t pid, ppid, pgid, sid;
	char state;                     /* R S D Z T X ... as in /proc */
	unsigned long long start;       /* clock ticks after boot */
	char comm[32];
};

/* The identity a pidfile records. */
struct proc_ident {
	pid_t pid;
	unsigned long long start;
	char boot[PROC_BOOT_ID_MAX];
	pid_t pgid;                     /* 0 when not recorded */
	pid_t sid;                      /* 0 when not recorded */
	unsigned long long ino;         /* pidfs inode: 0 when not known */
};

/* Reads the process's status now.  -1 with errno ESRCH if it does not exist. */
int proc_info(pid_t pid, struct proc_info *pi);

/* True for a state that means "has exited" (zombie or dead). */
int proc_state_exited(char state);

/* This boot's id, so that identities do not survive a reboot. */
int proc_boot_id(char out[PROC_BOOT_ID_MAX]);

/* Fills *id with the identity of the calling process. */
int proc_self_ident(struct proc_ident *id);

/* Opens a handle (a pollable fd that becomes readable when the process
 * exits) on the process recorded in *id.  Returns the fd, or -1 with errno:
 *   ESRCH   it has exited (or is a zombie)
 *   ESTALE  the pid now belongs to another process, or another boot
 *   EPERM   the pid is 1 or the caller itself: never acted upon */
int proc_open_recorded(const struct proc_ident *id);

/* True where the kernel has pidfds (Linux 5.3).  Without them qmailctl
 * cannot hold on to a process it has identified, and says so rather than
 * guess (a pidfd_open that fails with ENOSYS would read as "exited"). */
int proc_handles_supported(void);

/* True where a signal can be sent through a pidfd (pidfd_send_signal,
 * Linux 5.1); else false with errno saying why.  Every kernel with
 * pidfd_open has it, but an emulator may not: valgrind, up to 3.27 at
 * least, answers ENOSYS.  Commands whose work is signalling refuse to run
 * then, rather than fall back to a bare pid. */
int proc_signals_supported(void);

/* proc_signal for one member of a group: returns 1 when sent, 0 when not;
 * a refusal other than "exited" (ESRCH) is kept in *err, unless err is
 * NULL or holds an earlier one. */
int proc_signal_counted(int handle, int sig, int *err);

/* A handle on pid with no identity check: only for a process whose
 * identity the caller proves otherwise: a child it has not reaped yet, or
 * a pid it checks to be in its own cgroup once the handle pins it. */
int proc_open_pid(pid_t pid);

/* The pidfs inode of a handle, where pidfds have unique inodes (Linux
 * 6.9 and later); 0 where they do not. */
unsigned long long proc_handle_ino(int handle);

/* True if a live (not exited) process holds pid now and came into being
 * after the process *ref records: by pidfs inode order where both are
 * known (exact), else by start time (10 ms steps). */
int proc_born_after(pid_t pid, const struct proc_ident *ref);

/* fork(), but the child is born in the cgroup whose directory cgroup_fd
 * is open on (clone3 with CLONE_INTO_CGROUP, Linux 5.7): no migration
 * afterwards, which costs the kernel milliseconds per process.  Returns
 * as fork() does; -1 with errno where the kernel cannot (ENOSYS, ...).
 * The child must do only what a child of fork() in a single-threaded
 * program may: it bypasses glibc's fork handlers. */
pid_t proc_fork_into(int cgroup_fd);

/* Sends sig through the handle.  -1 with errno ESRCH if it has exited. */
int proc_signal(int handle, int sig);

/* A copy of the descriptor fd of the process behind handle: the same
 * open file description (pidfd_getfd, Linux 5.6), close-on-exec.  -1 with
 * errno: EPERM (no ptrace access to it), EBADF (no such fd), ESRCH (it
 * has exited), ENOSYS (a kernel before 5.6). */
int proc_take_fd(int handle, int fd);

/* A new descriptor on the pipe (or FIFO) that fd is, opened for flags
 * (O_RDONLY or O_WRONLY, with O_NONBLOCK if wanted): the way to the other
 * end of a pipe of which only one end is held. */
int proc_reopen_fd(int fd, int flags);

/* Reads the caller's ancestors now (a recorded pid that is one is never
 * opened: proc_open_recorded), so that the children it forks next know
 * theirs without reading /proc again (workers_run). */
void proc_note_ancestors(void);

/* The program named prog in the directory of the running executable
 * (/proc/self/exe's target), into buf: qmailctl and qmailctl-supervise
 * find each other so, wherever they were installed.  -1 with errno. */
int proc_self_sibling(const char *prog, char *buf, size_t size);

/* Seconds the process with the given start time has been running. */
double proc_uptime(unsigned long long start);

/* Calls fn for every live (not exited) process, stopping early if fn
 * returns non-zero (which is then returned). */
int proc_each(int (*fn)(const struct proc_info *, void *), void *arg);

/* The process that holds an flock() on the file (dev, ino): the pid
 * /proc/locks lists if it still holds it, else a process whose open
 * descriptor carries the lock (the one that took it may have exited,
 * leaving the descriptor to others); 0 when none is found. */
pid_t proc_lock_holder(dev_t dev, ino_t ino);

/* Waits until every pidfd in fds has become readable (its process has
 * exited) or timeout_ms passes; returns how many are still alive.
 * Handles of -1 are skipped; at most PROC_WAIT_MAX are looked at. */
#define PROC_WAIT_MAX 16
int wait_handles(const int *fds, int n, long timeout_ms);

#endif
