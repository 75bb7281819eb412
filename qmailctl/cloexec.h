/* cloexec.h: what a program we exec inherits of our descriptors. */
#ifndef QMAILCTL_CLOEXEC_H
#define QMAILCTL_CLOEXEC_H

/* Marks every descriptor above 2 close-on-exec, so that a program we
 * exec keeps only fds 0-2 and what is cleared again after this:
 * close_range() (Linux 5.11), else fd by fd up to the limit. */
void cloexec_all(void);
#endif
