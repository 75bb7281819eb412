/* probe_relay.c: both ends of a probe run in a qmailctl child
 * (probe_relay.h). */
#include "probe_relay.h"
#include "exitcode.h"
#include "msg.h"
#include "runprog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* exec and the dynamic linker (libssl, libcrypto) before the attempt
 * starts: the child's own deadline is the attempt's, this is on top. */
#define RELAY_START_MS 500

extern char **environ;

/* What the parent has read so far: the result line, then the reason. */
struct reading {
	struct probe_result *r;
	int rc;
	int lines;
};

static void read_line(void *ctx, const char *line, size_t len)
{
	struct reading *rd = ctx;
	struct probe_result *r = rd->r;
	char version[sizeof r->tls.version], cipher[sizeof r->tls.cipher];

	(void)len;
	if (++rd->lines == 2)
		snprintf(r->err.text, sizeof r->err.text, "%s", line);
	if (rd->lines != 1 || sscanf(line, "%d %d %d %15s %63s", &rd->rc,
	    &r->refused, &r->tls.name_match, version, cipher) != 5)
		return;
	if (strcmp(version, "-"))
		snprintf(r->tls.version, sizeof r->tls.version, "%s", version);
	if (strcmp(cipher, "-"))
		snprintf(r->tls.cipher, sizeof r->tls.cipher, "%s", cipher);
}

int probe_relay(const char *qmailctl, const struct probe *p, long timeout_ms,
    const char *certname, struct probe_result *r)
{
	char tmo[32], why[128], where[300], *argv[10];
	const char *kind = probe_kind_name(p->kind);
	struct reading rd = { r, -2, 0 };
	struct runprog run;
	struct err e;
	int n = 0;

	memset(r, 0, sizeof *r);
	snprintf(tmo, sizeof tmo, "%ld", timeout_ms);
	argv[n++] = PROBE_PROG;
	argv[n++] = (char *)(kind ? kind : "?");
	argv[n++] = p->host;
	argv[n++] = p->port;
	argv[n++] = tmo;
	if (p->expect) {
		argv[n++] = "-e";
		argv[n++] = p->expect;
	}
	if (certname) {
		argv[n++] = "-c";
		argv[n++] = (char *)certname;
	}
	argv[n] = NULL;
	memset(&run, 0, sizeof run);
	run.prog = qmailctl;
	run.argv = argv;
	run.envp = environ;
	run.fd_in = -1;
	run.timeout_ms = timeout_ms + RELAY_START_MS;
	run.line = read_line;
	run.ctx = &rd;
	net_where(where, sizeof where, p->host, p->port);
	if (runprog(&run, &e) < 0)
		return err_set(&r->err, "probe %s: %s", where, e.text);
	if (rd.rc == 0 || (rd.rc == -1 && rd.lines == 2))
		return rd.rc;
	/* No result: the child could not run, or died, or said nothing. */
	memset(r, 0, sizeof *r);
	return err_set(&r->err, "probe %s: %s %s: %s", where, PROBE_PROG,
	    qmailctl, run.err[0] ? run.err :
	    runprog_failure(&run, why, sizeof why) ? why : "no result");
}

int probe_relay_main(int argc, char **argv)
{
	struct probe p = { PROBE_NONE, NULL, NULL, NULL };
	const char *certname = NULL;
	struct probe_result r;
	char *end;
	long timeout_ms;
	int i, rc;

	if (argc < 5 || probe_kind_parse(argv[1], &p.kind) < 0)
		goto usage;
	p.host = argv[2];
	p.port = argv[3];
	errno = 0;
	timeout_ms = strtol(argv[4], &end, 10);
	if (errno || *end || timeout_ms <= 0)
		goto usage;
	for (i = 5; i + 1 < argc; i += 2)
		if (!strcmp(argv[i], "-e"))
			p.expect = argv[i + 1];
		else if (!strcmp(argv[i], "-c"))
			certname = argv[i + 1];
		else
			goto usage;
	if (i != argc)
		goto usage;
	rc = probe_once(&p, timeout_ms, certname, &r);
	printf("%d %d %d %s %s\n", rc, r.refused, r.tls.name_match,
	    r.tls.version[0] ? r.tls.version : "-",
	    r.tls.cipher[0] ? r.tls.cipher : "-");
	if (rc < 0)
		printf("%s\n", r.err.text);
	probe_cleanup();
	return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
usage:
	warn("usage: " PROBE_PROG " KIND HOST PORT TIMEOUT_MS [-e EXPECT] "
	    "[-c CERTNAME]");
	return EXIT_USAGE;
}
