/* tcpserver.h: the one reader of tcpserver's options (ucspi-tcp 0.88).
 *
 * A service's run line is read once, when the service is loaded, into a
 * struct tcpserver kept in the service (conf.h): who the program tcpserver
 * runs becomes, the -x rules database, the address, and that program.
 * Everything that needs one of these facts (cdb, the preflight checks, the
 * certificate checks) takes it from there.
 *
 *     tcpserver -v -R -H -l 0 -x /etc/tcp/smtp.cdb -u 7791 -g 2108 \
 *         0 25 qmail-smtpd
 *
 * tcpserver may come after chain-loaders (chain.h): envuidgid ACCOUNT
 * gives -U the account's ids. */
#ifndef QMAILCTL_TCPSERVER_H
#define QMAILCTL_TCPSERVER_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"
#include "peers.h"

/* tcpserver's getopt string, as ucspi-tcp 0.88 has it. */
#define TCPSERVER_OPTSTRING "dDvqQhHrR1UXx:t:u:g:l:b:B:c:pPoO"


/* Reads argv (a run line) with env (NAME=VALUE lines, for -U).  Returns 0
 * with t->found 0 when argv does not run tcpserver; -1 with e filled when
 * it does but tcpserver would refuse it (an unknown option, an option
 * without its argument, no host, port or program: tcpserver's usage exit
 * 100). */
int tcpserver_read(char *const *argv, char *const *env, struct tcpserver *t,
    struct err *e);

struct service;
struct unit;

/* Fills svc->tcpserver; on failure e names the line
 * ("FILE:LINE: run: tcpserver: option -x needs an argument"). */
int tcpserver_load(struct service *svc, struct err *e);

/* The preflight check: the -x database exists (else exit 6, with its path)
 * and the program tcpserver runs is installed (else exit 5), found as
 * tcpserver finds it: a name in the service's PATH, a path with a slash
 * in the service's directory.  Returns an exit code, having said why. */
int tcpserver_check(const struct unit *u);

/* FILE as tcpserver, running in dir, opens it: dir/FILE unless absolute.
 * -1 if it does not fit in size. */
int tcpserver_path(char *buf, size_t size, const char *dir,
    const char *file);

#endif
