/* checkpassword.h: the one setuid program in a POP3 chain.
 *
 * qmail-popup HOSTNAME CHECKPASSWORD SUBPROGRAM...: for each login
 * qmail-popup runs CHECKPASSWORD (execvp: a bare name is looked up in
 * PATH), which checks the password and becomes the user who logs in;
 * to become that user it must be root, so it is installed setuid root in
 * a directory only the POP3 user may enter (install guide, 6.7):
 *     mkdir /var/qmail/rbin; chown qmaild /var/qmail/rbin
 *     chmod 500 /var/qmail/rbin
 *     install -m 4755 checkpassword /var/qmail/rbin/
 * When it is missing, or the POP3 user may not run it, tcpserver,
 * stunnel and qmail-popup all run, the greeting comes, and every login
 * fails: the probe cannot see it, so it is checked before start. */
#ifndef QMAILCTL_CHECKPASSWORD_H
#define QMAILCTL_CHECKPASSWORD_H

#include <sys/types.h>

#include "unit.h"

/* The CHECKPASSWORD of a qmail-popup argv (argv[0] names qmail-popup):
 * argv[2], or NULL when there is none. */
const char *checkpassword_of_popup(char *const *argv);

/* Finds qmail-popup in the service's run line, or as the exec of the
 * stunnel config it runs (its execArgs), and checks that its
 * checkpassword is installed and executable by the user qmail-popup
 * runs as (uid/gid: tcpserver's -u and -g; the stunnel config's
 * setuid/setgid and chroot count), by the kernel's answer (access_as.h).
 * Returns EXIT_OK (also for a service without qmail-popup), or
 * EXIT_NOT_INSTALLED having said why with sayerr().  Warns when it is
 * setuid and other users than the POP3 user (or root) may run it. */
int checkpassword_preflight(struct unit *u, uid_t uid, gid_t gid);

#endif
