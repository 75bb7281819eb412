/* certdays_test: the days a certificate has left are counted one way by
 * "cert" and by "check" (issue 14: check right after cert said 364 where
 * cert had said 365).  cert_days_left() on its own, and cert_check() on a
 * certificate with less than its nominal validity left, as one that
 * "cert" wrote a while ago has.  Prints TAP. */
#include "cert.h"
#include "tap.h"

#define DAY 86400LL

static char tmpdir[64];

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

static void test_counting(void)
{
	is_long(cert_days_left(365 * DAY), 365, "exactly 365 days: 365");
	is_long(cert_days_left(365 * DAY - 1), 365,
	    "365 days less a second (check just after cert): 365, as cert says");
	is_long(cert_days_left(364 * DAY + 1), 365, "a day begun counts as a day");
	is_long(cert_days_left(1), 1, "one second left: 1 day");
	is_long(cert_days_left(0), 0, "expired this second: 0");
	is_long(cert_days_left(-1), 0, "expired a second ago: 0 whole days ago");
	is_long(cert_days_left(-3 * DAY - 60), -3, "expired 3 days and a minute ago: -3");
}

static void test_check(void)
{
	char file[128];
	struct cert_report r;
	struct err err;

	snprintf(file, sizeof file, "%s/c.pem", tmpdir);
	/* A 365-day certificate an hour after it was made. */
	if (!ok(cert_make_validity(file, "days.test", -3600, 365 * DAY - 3600,
	    &err) == 0, "a 365-day certificate, an hour old")) {
		diag("cert_make_validity", err.text);
		return;
	}
	ok(cert_check(file, 0, 0, 30, &r) == 0, "cert_check passes it");
	is_long(r.days_left, 365, "... 365 days left, as cert said when it wrote it");
}

int main(void)
{
	make_tmpdir(tmpdir, sizeof tmpdir, "certdays");
	atexit(cleanup);
	test_counting();
	test_check();
	return done_testing();
}
