/* stunnel.h: a service whose tcpserver runs stunnel in inetd mode: its
 * stunnel config as qmailctl reads it, and the checks made on it before
 * start (the program it execs, the certificate it loads, and stunnel's
 * own verdict on the config, remembered while nothing changes). */
#ifndef QMAILCTL_STUNNEL_H
#define QMAILCTL_STUNNEL_H

#include <limits.h>
#include <sys/types.h>

#include "conf.h"
#include "err.h"
#include "unit.h"

/* The options qmailctl looks at; stunnel checks all the others. */
struct stunnel_conf {
	char path[PATH_MAX];    /* the config, as we open it */
	char exec[PATH_MAX];    /* "exec", "" if none */
	char exec_args[PATH_MAX]; /* "execArgs" (argv[0] first), "" if none */
	char cert[PATH_MAX];    /* "cert", "" if none */
	char cafile[PATH_MAX];  /* "CAfile", "" if none */
	char chroot[PATH_MAX];  /* "chroot", "" if none */
	char setuid[64];        /* "setuid" (a name or a number), "" if none */
	char setgid[64];        /* "setgid", "" if none */
	int daemon_line;        /* first [section] or accept, 0 if none */
	char daemon_what[80];
	int foreground;         /* "foreground = yes" */
};

/* dir/path into buf, or path if it is absolute (or dir is ""): how
 * stunnel resolves the paths of its config against its directory. */
void stunnel_path(char *buf, size_t size, const char *dir, const char *path);

/* Finds "stunnel CONFIG" in the service's run line: the word whose
 * basename is stunnel or stunnel4, and the word after it (NULL at the
 * end of the line).  Returns 0, or -1 when the service runs no stunnel. */
int stunnel_find(const struct service *svc, const char **prog,
    const char **conf);

/* Reads the config at file (relative: to the service's directory dir)
 * into c.  Returns 0, or -1 with e saying why ("Permission denied"). */
int stunnel_read_conf(const char *dir, const char *file,
    struct stunnel_conf *c, struct err *e);

/* The ids the program stunnel execs runs as: tcpserver's uid and gid,
 * unless the config's setuid/setgid change them.  Returns 0, or -1 with
 * e when a setuid/setgid name is unknown. */
int stunnel_exec_ids(const struct stunnel_conf *c, uid_t *uid, gid_t *gid,
    struct err *e);

/* The directory stunnel chroots to before it execs, absolute (relative
 * to dir), into buf; "" when there is none.  Returns buf. */
char *stunnel_root(const struct stunnel_conf *c, const char *dir, char *buf,
    size_t size);

/* The checks of a service that runs stunnel, as uid/gid (tcpserver's -u
 * and -g): the config is one for inetd mode, the program it execs is
 * there and executable by its user (access_as.h), the certificate it
 * loads exists, and `stunnel CONFIG </dev/null` accepts the config (not
 * run again while stunnel, the config, the certificates, the directory
 * and the user are what they were when it last passed: RUNDIR/NAME.
 * stunnel-ok).  Returns an exit code (EXIT_OK for a service that runs
 * no stunnel), having said why with sayerr() otherwise; warnings are
 * "NAME: warning: ..." lines. */
int stunnel_preflight(struct unit *u, uid_t uid, gid_t gid);

#endif
