/* conf_sup.c: the supervision keys (qmailctl.conf(5), qmailctl(8)
 * SUPERVISION): restart, restart_limit and backoff_max, in a service file,
 * or in the site file where they set every service's default. */
#include "conf_impl.h"

#include <string.h>

static int sup_restart(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	if (strcmp(kv->value, "yes") && strcmp(kv->value, "no"))
		return err_set(e, "%s: 'restart' must be 'yes' or 'no', not '"
		    QUOTE "'", kv->where, kv->value);
	sup->restart = kv->value[0] == 'y';
	return 0;
}

/* "COUNT SECONDS": COUNT from 1 to 1000, SECONDS as for the timeouts. */
static int sup_limit(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	const char *blank = strpbrk(kv->value, " \t");
	struct conf_kv secs = *kv;
	unsigned long long n;
	char count[16];

	if (!blank || blank - kv->value >= (long)sizeof count)
		return err_set(e, "%s: 'restart_limit' takes COUNT SECONDS, "
		    "not '" QUOTE "'", kv->where, kv->value);
	memcpy(count, kv->value, (size_t)(blank - kv->value));
	count[blank - kv->value] = 0;
	if (conf_parse_fixed(count, 0, 1000, &n) < 0 || n == 0)
		return err_set(e, "%s: bad COUNT '" QUOTE "' for "
		    "'restart_limit' (1 to 1000)", kv->where, count);
	while (conf_is_blank(*blank))
		blank++;
	secs.value = blank;
	if (conf_parse_duration(&secs, 1, &sup->limit_ms, e) < 0)
		return -1;
	sup->limit_count = (long)n;
	return 0;
}

int conf_supervision_key(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	int rc;

	if (strcmp(kv->key, "restart") == 0)
		rc = sup_restart(kv, sup, e);
	else if (strcmp(kv->key, "restart_limit") == 0)
		rc = sup_limit(kv, sup, e);
	else if (strcmp(kv->key, "backoff_max") == 0)
		rc = conf_parse_duration(kv, 0, &sup->backoff_max_ms, e);
	else
		return 0;
	return rc < 0 ? -1 : 1;
}
