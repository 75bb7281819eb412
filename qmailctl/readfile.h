/* readfile.h: reading a small regular file whole (a PEM, a stunnel
 * config), as root reads files that others may have planted: a FIFO
 * must not hang us, a device or a huge file must not be read. */
#ifndef QMAILCTL_READFILE_H
#define QMAILCTL_READFILE_H

#include <stddef.h>

#include "err.h"

/* Reads file, a regular file of at most max bytes, into a new buffer
 * (*text, NUL-terminated, *len bytes before the NUL; len may be NULL).
 * Returns 0, or -1 with e ("No such file or directory", "not a regular
 * file", "larger than 1048576 bytes", "file grew while being read");
 * *text is then NULL.  A buffer that held a secret is the caller's to
 * wipe before free(). */
int read_small_file(const char *file, size_t max, char **text, size_t *len,
    struct err *e);

#endif
