/* stamp.h: remembering a check that passed, keyed on what could change
 * its verdict.
 *
 * A check that costs milliseconds (stunnel run on its config, a
 * certificate parsed and its key matched) need not run again while the
 * files it read are the files they were: a stamp is a text that names
 * each of them with what stat() says of it (device, inode, size, mtime,
 * ctime, mode, owner), and the stamp of the last check that passed is
 * kept in the rundir as RUNDIR/NAME.SUFFIX (written atomically, read
 * without following a symlink).  A file replaced, rewritten, or touched
 * back to its old mtime changes its inode or ctime, so the stamp differs
 * and the check runs again. */
#ifndef QMAILCTL_STAMP_H
#define QMAILCTL_STAMP_H

#include <stddef.h>

#include "err.h"

/* Appends "LABEL PATH FINGERPRINT\n" to buf ("LABEL PATH -" when stat
 * fails). */
void stamp_file(char *buf, size_t size, const char *label, const char *path);

/* Is the file name below dirfd exactly stamp?  0 when it is missing,
 * a symlink or different. */
int stamp_matches(int dirfd, const char *name, const char *stamp);

/* Reads the file name below dirfd (no symlink followed) into buf, at
 * most size - 1 bytes, NUL-terminated.  Returns its length, or -1. */
long stamp_read(int dirfd, const char *name, char *buf, size_t size);

/* Keeps text as the file name below dirfd (dirpath names it in errors),
 * atomically.  Returns 0, or -1 with e. */
int stamp_keep(int dirfd, const char *dirpath, const char *name,
    const char *text, struct err *e);

#endif
