/* probe_relay.h: probes run in a qmailctl child, their results read back.
 *
 * The supervisor links without OpenSSL (a plain service's supervisor
 * should cost what runsv costs, and libcrypto alone is megabytes), so the
 * probes through TLS that confirm a start or a restart run in qmailctl,
 * exec'd as PROBE_PROG -s: it reads one request a line on its stdin,
 * makes that attempt, and writes the result on its stdout, until EOF.
 * One child serves a whole confirmation, so exec and the dynamic linker
 * are paid once, while the service itself starts.  Both ends are here,
 * so the format lives once:
 *     request: KIND \t HOST \t PORT \t TIMEOUT_MS \t [+EXPECT] \t [+CERTNAME] \n
 *     result:  RC REFUSED NAME_MATCH VERSION CIPHER \n   (VERSION, CIPHER: - if none)
 *              the reason \n                          (when RC is -1)
 * The child is our own, unreaped until we end it, so its pid names it;
 * an attempt's answer is awaited until its deadline and a little more,
 * and a child that misses it is killed. */
#ifndef QMAILCTL_PROBE_RELAY_H
#define QMAILCTL_PROBE_RELAY_H
#include <sys/types.h>

#include "probe.h"

#define PROBE_PROG "qmailctl-probe"

struct probe_relay {
	pid_t pid;              /* 0: none running */
	int to, from;           /* its stdin, its stdout */
	char buf[2 * sizeof(struct err) + 128];
	size_t len;             /* bytes of buf read, not yet a line */
};

/* Starts the qmailctl at path qmailctl as the relay.  0, or -1 with e. */
int probe_relay_start(struct probe_relay *pr, const char *qmailctl,
    struct err *e);
/* probe_once(p, timeout_ms, certname, r), run by the relay: the same
 * return and r.  A relay that dies or misses the deadline is ended (the
 * next ask needs a new start); r->err then says so. */
int probe_relay_ask(struct probe_relay *pr, const struct probe *p,
    long timeout_ms, const char *certname, struct probe_result *r);
/* Ends it: EOF, then KILL if it does not exit at once; reaped. */
void probe_relay_end(struct probe_relay *pr);

/* qmailctl-probe -s: the child's side.  Exits 0 at EOF, 2 on a request
 * it cannot read. */
int probe_relay_main(int argc, char **argv);
#endif
