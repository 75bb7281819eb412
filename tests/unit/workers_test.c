/* workers_test: the order start forks its workers in (workers_order with
 * start_ahead): a service confirmed by a settle first, then those probed
 * through TLS, then the rest, each class in the order given; and with no
 * rank, the order given.  Prints TAP. */
#include "transition.h"
#include "workers.h"
#include "tap.h"

static struct service svc(const char *name, enum probe_kind kind, long settle)
{
	struct service s;

	memset(&s, 0, sizeof s);
	s.name = (char *)name;
	s.probe.kind = kind;
	s.settle_ms = settle;
	return s;
}

/* The names in the order workers_order gives, space-separated. */
static const char *ordered(const struct unit *u, size_t n,
    int (*ahead)(const struct unit *))
{
	static char out[256];
	size_t order[8], i;

	workers_order(u, n, ahead, order);
	out[0] = 0;
	for (i = 0; i < n; i++) {
		if (i)
			strcat(out, " ");
		strcat(out, u[order[i]].svc->name);
	}
	return out;
}

int main(void)
{
	struct service s[] = {
		svc("smtp", PROBE_TCP, 200), svc("smtps", PROBE_TLS, 200),
		svc("pop3", PROBE_TCP, 200), svc("send", PROBE_NONE, 200),
		svc("pop3s", PROBE_TLS, 200), svc("sub", PROBE_POP3_STLS, 200),
		svc("fast", PROBE_NONE, 0),
	};
	struct unit u[7];
	size_t i;

	memset(u, 0, sizeof u);
	for (i = 0; i < 7; i++)
		u[i].svc = &s[i];
	is_str(ordered(u, 7, start_ahead),
	    "send smtps pop3s sub smtp pop3 fast",
	    "start: the settle first, then the TLS probes, then the rest");
	is_str(ordered(u, 7, NULL), "smtp smtps pop3 send pop3s sub fast",
	    "no rank: the order given");
	is_str(ordered(u, 1, start_ahead), "smtp", "one unit");
	is_str(ordered(u + 4, 3, start_ahead), "pop3s sub fast",
	    "equals keep their order");
	return done_testing();
}
