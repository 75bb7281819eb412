/* backoff.c: the supervisor's restart policy (backoff.h). */
#include "backoff.h"

#include <string.h>

void backoff_init(struct backoff *b, const struct supervision *conf)
{
	memset(b, 0, sizeof *b);
	b->conf = *conf;
	if (b->conf.limit_count > RESTART_LIMIT_MAX)
		b->conf.limit_count = RESTART_LIMIT_MAX;
	if (b->conf.limit_count < 1)
		b->conf.limit_count = 1;
}

void backoff_started(struct backoff *b, int which, long long now)
{
	b->up_at[which] = now;
}

int backoff_exit(struct backoff *b, long long now)
{
	long n = b->conf.limit_count;

	b->exits[b->nexits % n] = now;
	b->nexits++;
	/* the oldest of the last n exits, where the next one will go */
	return b->nexits >= n && now - b->exits[b->nexits % n] <
	    b->conf.limit_ms;
}

long long backoff_schedule(struct backoff *b, int which, long long now)
{
	if (now - b->up_at[which] >= BACKOFF_RESET_MS)
		b->delay[which] = 0;
	b->due[which] = now + b->delay[which];
	b->delay[which] = b->delay[which] == 0 ? BACKOFF_MIN_MS :
	    b->delay[which] * 2;
	if (b->delay[which] > b->conf.backoff_max_ms)
		b->delay[which] = b->conf.backoff_max_ms;
	return b->due[which];
}

int backoff_take_due(struct backoff *b, int which, long long now)
{
	if (!b->due[which] || b->due[which] > now)
		return 0;
	b->due[which] = 0;
	return 1;
}

int backoff_pending(const struct backoff *b, int n)
{
	return backoff_next(b, n) != 0;
}

long long backoff_next(const struct backoff *b, int n)
{
	long long next = 0;
	int i;

	for (i = 0; i < n; i++)
		if (b->due[i] && (!next || b->due[i] < next))
			next = b->due[i];
	return next;
}

void backoff_clear(struct backoff *b)
{
	memset(b->due, 0, sizeof b->due);
}
