/* peers.h: what a service's command lines say about the peer programs,
 * read once when the service is loaded (tcpserver.h, multilog.h) and kept
 * in the service (conf.h).  Data only, so that the config layer can hold
 * it without depending on the readers above it. */
#ifndef QMAILCTL_PEERS_H
#define QMAILCTL_PEERS_H

#include <sys/types.h>

struct tcpserver {
	int found;              /* the run line runs tcpserver */
	uid_t uid;              /* -u, or with -U $UID; 0: tcpserver keeps
	                         * root's */
	gid_t gid;              /* -g, or with -U $GID; 0 likewise */
	const char *rules;      /* -x FILE as written, or NULL */
	const char *host;       /* where it listens */
	const char *port;
	char *const *prog;      /* the program it runs and its arguments */
};

struct multilog {
	int found;              /* the logger is multilog */
	const char *user;       /* the account setuidgid gives it; NULL: root */
	const char *dir;        /* its first log directory as written (may be
	                         * relative to the service's directory); NULL */
	char *const *args;      /* multilog's arguments (its script) */
};

#endif
