/* pathwalk.h: opening what a path names as root, when others may have
 * planted a symlink on the way: the path is walked one component at a
 * time, and a symlink is followed only in a directory that only root may
 * change (there it is root's own). */
#ifndef QMAILCTL_PATHWALK_H
#define QMAILCTL_PATHWALK_H

#include <stddef.h>

/* True if only root may change the directory dfd: owned by root, and
 * writable by no other user or group. */
int pathwalk_root_only(int dfd);

/* Opens the directory that holds path (absolute), an O_PATH fd, and
 * points *base at the last component in copy (size bytes).  -1 with
 * errno: ELOOP or ENOTDIR for a symlink others could have planted. */
int pathwalk_parent(const char *path, char *copy, size_t size,
    const char **base);
#endif
