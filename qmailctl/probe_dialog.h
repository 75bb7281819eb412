/* probe_dialog.h: what probe.c (one attempt, the plain greeting) and
 * probe_tls.c (the dialogs through TLS) share.  Private to the two. */
#ifndef QMAILCTL_PROBE_DIALOG_H
#define QMAILCTL_PROBE_DIALOG_H
#include "probe.h"

/* One attempt: the connection, and where its findings go. */
struct attempt {
	const struct probe *p;
	const char *certname;
	struct probe_result *r;
	struct net_conn c;
};

/* A reply line: its bytes may hold a NUL, so its length goes with it. */
struct line {
	char text[NET_LINE_MAX + 1];
	size_t len;
};

/* Each returns 0, or -1 with the reason in the attempt's result; what
 * names the line in that reason. */
int probe_get_line(struct attempt *a, struct line *l, const char *what);
/* Fails unless the line starts with prefix. */
int probe_expect(struct attempt *a, const struct line *l, const char *prefix,
    const char *what);
/* Sends cmd, reads the first line of the reply. */
int probe_command(struct attempt *a, const char *cmd, struct line *l,
    const char *what);
/* The greeting, which starts with expect ("" when NULL). */
int probe_greeting(struct attempt *a, const char *expect);
/* Connects, runs dialog, says goodbye and closes: one attempt. */
int probe_attempt(const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r,
    int (*dialog)(struct attempt *));
#endif
