/* backoff_test: the restart policy (backoff.h) on a clock of its own: the
 * first restart at once, then doubling from BACKOFF_MIN_MS to backoff_max,
 * at once again after BACKOFF_RESET_MS up, and the give-up at
 * restart_limit exits within its window.  Prints TAP. */
#include "backoff.h"
#include "tap.h"

static struct supervision conf(long count, long window_ms, long max_ms)
{
	struct supervision c = { 1, count, window_ms, max_ms };

	return c;
}

/* The waits of n exits in a row, each right after its restart. */
static void waits(struct backoff *b, int n, long long *t, long *out)
{
	int i;

	for (i = 0; i < n; i++) {
		long long due = backoff_schedule(b, EL_RUN, *t);

		out[i] = (long)(due - *t);
		*t = due;
		backoff_started(b, EL_RUN, *t);
	}
}

int main(void)
{
	struct supervision c = conf(1000, 1000, 1000);
	struct backoff b;
	long w[6];
	long long t = 50000;

	backoff_init(&b, &c);
	backoff_started(&b, EL_RUN, t);
	t += BACKOFF_RESET_MS;
	waits(&b, 6, &t, w);
	is_long(w[0], 0, "a server up 10 s: restarted at once");
	is_long(w[1], BACKOFF_MIN_MS, "... the next after BACKOFF_MIN_MS");
	is_long(w[2], 2 * BACKOFF_MIN_MS, "... then twice that");
	is_long(w[5], 1000, "... capped at backoff_max");
	ok(backoff_pending(&b, EL_MAX), "a restart is pending");
	ok(backoff_next(&b, EL_MAX) == t, "... due when scheduled");
	ok(!backoff_take_due(&b, EL_RUN, t - 1), "not taken before it is due");
	ok(backoff_take_due(&b, EL_RUN, t), "taken when due");
	ok(!backoff_pending(&b, EL_MAX), "... and no longer pending");
	backoff_started(&b, EL_RUN, t);
	t += BACKOFF_RESET_MS;
	waits(&b, 1, &t, w);
	is_long(w[0], 0, "up BACKOFF_RESET_MS again: at once again");
	backoff_schedule(&b, EL_LOG, t);
	backoff_clear(&b);
	ok(!backoff_pending(&b, EL_MAX), "clear drops every pending restart");

	c = conf(3, 1000, 1000);
	backoff_init(&b, &c);
	ok(!backoff_exit(&b, 0) && !backoff_exit(&b, 400),
	    "two exits of a limit of 3 in 1 s: not given up");
	ok(backoff_exit(&b, 900), "the third within 1 s: given up");
	backoff_init(&b, &c);
	ok(!backoff_exit(&b, 0) && !backoff_exit(&b, 600) &&
	    !backoff_exit(&b, 1200), "three exits spread over 1.2 s: not");
	ok(backoff_exit(&b, 1500), "... a fourth within 1 s of the second: given up");

	c = conf(RESTART_LIMIT_MAX + 5, 1000, 1000);
	backoff_init(&b, &c);
	is_long(b.conf.limit_count, RESTART_LIMIT_MAX,
	    "a COUNT above RESTART_LIMIT_MAX is cut to it");
	return done_testing();
}
