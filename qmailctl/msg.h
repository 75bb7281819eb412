/* msg.h: the project's one line writer and one escaper.
 *
 * Every line a program of the project prints for a person goes through
 * msg_line(), in one of these forms:
 *
 *   qmailctl: fatal: unable to open /run/qmailctl/smtp.pid: Permission denied
 *   qmailctl: warning: certificate /etc/qmailctl/cert.pem is readable by others
 *   smtp: started (tcpserver 812, multilog 811), ready in 9 ms
 *   smtp: failed: tcpserver 812 exited 111
 *   smtp: warning: certificate expires in 12 days
 *
 * The writer escapes every byte that is not printable ASCII (msg_escape),
 * so that what a line quotes from outside (a log line, a peer's greeting,
 * a file name, a config value) can neither break the line nor reach the
 * terminal as a control sequence.  Each line is one write(2), so lines of
 * concurrent workers never mix. */
#ifndef QMAILCTL_MSG_H
#define QMAILCTL_MSG_H

#include <stdarg.h>
#include <stddef.h>

extern const char *msg_prog;      /* set once by main() */

void msg_init(const char *argv0);

/* The exit code of an allocation failure: qmailctl's is EXIT_FAILED (1),
 * pido's is 111 (its "system error").  Set by main(). */
extern int msg_oom_code;

/* "WHO: LEVEL: text\n" (or "WHO: text\n" when level is NULL) on fd, text
 * formatted from fmt and escaped, in one write. */
void msg_vline(int fd, const char *who, const char *level, const char *fmt,
    va_list ap);
void msg_line(int fd, const char *who, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The same without a head, for lines whose form is fixed by another
 * convention (check's "QMAILCTL OK - ...", the monitoring plugins'). */
void msg_text(int fd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Writes the len bytes at in to out as printable ASCII: bytes from 0x20 to
 * 0x7e stand for themselves, every other byte (NUL, ESC, CR, DEL, 8-bit)
 * becomes \xNN.  The result is always terminated and clipped to size.
 * Its output is a fixed point: escaping it again changes nothing, so text
 * escaped where its length was known (bytes with a NUL) passes the
 * writer unchanged.  Returns out. */
char *msg_escape(char *out, size_t size, const void *in, size_t len);

/* The program-level lines: "PROG: fatal: ..." and "PROG: warning: ...".
 * The _sys variants append ": " and strerror(errno).  die*() exit with the
 * code given, which is always one of the documented exit codes. */
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

/* Allocation that cannot fail quietly: on ENOMEM it dies with
 * msg_oom_code and a message. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);

#endif
