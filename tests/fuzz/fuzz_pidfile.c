/* fuzz_pidfile.c: the pidfile reader (qmailctl/pidfile.c) under a fuzzer.
 *
 * An input is a pidfile's whole content, written to a file and read with
 * pidfile_read, as qmailctl reads what it finds in the rundir.  A pid read
 * from a pidfile decides what gets signalled, so what is accepted must be
 * exactly what pidfile_write could have written:
 *   - a refusal is EINVAL;
 *   - an accepted pid, pgid and sid are each a possible pid (pgid and sid
 *     may be 0: not recorded), the boot id is a terminated string;
 *   - what was accepted, written back with pidfile_write, reads back the
 *     same. */
#include "fuzz.h"
#include "pidfile.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Linux's PID_MAX_LIMIT: no pid is larger. */
#define PID_LIMIT 4194304

static void check_ident(const struct proc_ident *id, const char *what)
{
	FUZZ_CHECK(id->pid > 0 && id->pid <= PID_LIMIT, what);
	FUZZ_CHECK(id->pgid >= 0 && id->pgid <= PID_LIMIT, what);
	FUZZ_CHECK(id->sid >= 0 && id->sid <= PID_LIMIT, what);
	FUZZ_CHECK(memchr(id->boot, '\0', sizeof id->boot) != NULL, what);
}

int fuzz_pidfile_one(const uint8_t *data, size_t size)
{
	const char *path = fuzz_path("p.pid"), *copy = fuzz_path("q.pid");
	struct proc_ident id, again;
	struct err why;

	fuzz_put(path, data, size);
	if (pidfile_read(path, &id) < 0) {
		FUZZ_CHECK(errno == EINVAL, strerror(errno));
		return 0;
	}
	check_ident(&id, "read");
	if (pidfile_write(copy, &id, &why) < 0)
		fuzz_broken("an accepted identity can be written", why.text);
	if (pidfile_read(copy, &again) < 0)
		fuzz_broken("what pidfile_write wrote reads back",
		    strerror(errno));
	FUZZ_CHECK(again.pid == id.pid && again.start == id.start &&
	    again.pgid == id.pgid && again.sid == id.sid &&
	    strcmp(again.boot, id.boot) == 0, "round trip");
	return 0;
}

#ifdef QMAILCTL_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_pidfile_one(data, size);
}
#endif
