/* access_as.h: may the user a service runs as read (or execute) a file?
 * The kernel's answer, not ours.
 *
 * Permission bits, supplementary groups, ACLs, capabilities, an LSM,
 * a read-only or noexec mount: reasoning about all of that by hand is
 * inexact.  access_as() forks a child that takes the ids as tcpserver
 * -u/-g takes them, and asks the kernel.  When it says no because a
 * directory on the way cannot be searched, the child also finds which
 * one, so that the message can name it. */
#ifndef QMAILCTL_ACCESS_AS_H
#define QMAILCTL_ACCESS_AS_H

#include <limits.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* A child that has not answered in this long is killed: a hung NFS
 * mount, say.  The question then counts as not answered. */
#define ACCESS_AS_MAX_MS 2000

struct access_answer {
	int error;              /* 0: allowed; else the errno of the refusal */
	char dir[PATH_MAX];     /* with EACCES: the directory on the path (as
	                         * given, or with symlinks resolved) that the
	                         * user cannot search; "" when it is the file
	                         * itself */
};

/* Takes gid and uid in the calling process as tcpserver -u UID -g GID
 * (ucspi-tcp's prot_gid, prot_uid) does: a gid other than 0 becomes the
 * only group (setgroups(1, &gid), then setgid); a uid other than 0 is
 * then set with setuid.  An id of 0 is left as it is, as tcpserver
 * leaves it.  Returns 0, or -1 with errno. */
int access_as_become(uid_t uid, gid_t gid);

/* Asks whether uid/gid, taken as access_as_become() takes them, may
 * access path with mode (R_OK, W_OK, X_OK, or F_OK) through every
 * directory leading to it.  Returns 0 when the kernel answered (the
 * answer in *a: a->error 0 is yes), -1 when the question could not be
 * asked (fork failed, the ids could not be taken, no answer in
 * ACCESS_AS_MAX_MS), with e saying why.
 *
 * Only root may take other ids.  Run as another user, qmailctl asks in
 * its own process when uid is its own (with its own groups, then), and
 * cannot ask for anyone else (-1, EPERM). */
int access_as(const char *path, uid_t uid, gid_t gid, int mode,
    struct access_answer *a, struct err *e);

/* The same, asked inside root (chroot(root) before the ids are taken,
 * as stunnel's chroot does): path is then a path inside root, and so is
 * a->dir.  root NULL: as access_as().  Only root may. */
int access_as_in(const char *root, const char *path, uid_t uid, gid_t gid,
    int mode, struct access_answer *a, struct err *e);

/* Why the answer was no, for a message, into buf: "directory D is not
 * searchable", "owner 0, group 0, mode 0600" (of path, as root sees
 * it), or strerror(a->error).  Returns buf. */
char *access_as_why(const struct access_answer *a, const char *path,
    char *buf, size_t size);

#endif
