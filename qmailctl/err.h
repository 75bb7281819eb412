/* err.h: the one way a failure's reason travels back to whoever reports it.
 *
 * A function that can fail fills a struct err with one line that says
 * what failed, on what, and why, e.g.
 *     /etc/qmailctl/services/smtp:7: unknown key 'rnu'
 *     probe 127.0.0.1:25: connection closed before greeting
 * and returns -1.  The text is raw: the caller prints it through the one
 * writer (msg.h), which escapes it.  Only bytes that may hold a NUL are
 * escaped early, by their reader, with msg_escape(). */
#ifndef QMAILCTL_ERR_H
#define QMAILCTL_ERR_H

struct err {
	char text[1024];
};

/* Each sets e->text (e may be NULL) and returns -1. */
int err_set(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The same, with ": " and strerror(errno) appended. */
int err_sys(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Puts "prefix: " in front of what e already says. */
int err_prefix(struct err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
