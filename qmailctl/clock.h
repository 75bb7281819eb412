/* clock.h: monotonic milliseconds, for deadlines and for the times qmailctl
 * reports.  Never the wall clock: it may jump while we wait. */
#ifndef QMAILCTL_CLOCK_H
#define QMAILCTL_CLOCK_H

#include <time.h>

static inline long long clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline long long clock_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

/* Milliseconds left until deadline, never negative. */
static inline int clock_left(long long deadline)
{
	long long left = deadline - clock_ms();

	return left < 0 ? 0 : left > 0x7fffffff ? 0x7fffffff : (int)left;
}

#endif
