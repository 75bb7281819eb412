/* msg.h: one message format for every program of the project.
 *
 *   PROG: fatal: unable to open /run/qmailctl/smtp.pid: Permission denied
 *   PROG: warning: certificate /etc/qmailctl/cert.pem is readable by others
 *
 * The _sys variants append ": " and strerror(errno).  die*() exit with the
 * code given, which is always one of the documented exit codes. */
#ifndef QMAILCTL_MSG_H
#define QMAILCTL_MSG_H

#include <stdarg.h>
#include <stddef.h>

extern const char *msg_prog;      /* set once by main() */

void msg_init(const char *argv0);
_Noreturn void die(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
_Noreturn void die_sys(int code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void warn_sys(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Format into a caller's buffer, never overflowing, always terminated.
 * Returns buf so it can be used inline. */
char *fmt_buf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Allocation that cannot fail quietly: on ENOMEM it dies with exit 111
 * (a system error) and a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
