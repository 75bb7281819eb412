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

/* Exponential backoff for a polling loop: returns how long to wait now
 * (*delay, but never past deadline) and doubles *delay up to max_ms.
 *
 *     int delay = 1;
 *     while (!done() && clock_left(deadline) > 0)
 *             poll(NULL, 0, clock_backoff(&delay, deadline, 50));
 */
static inline int clock_backoff(int *delay, long long deadline, int max_ms)
{
	int left = clock_left(deadline), wait = *delay < left ? *delay : left;

	*delay = *delay > max_ms / 2 ? max_ms : *delay * 2;
	return wait;
}

#endif
