/* fuzz_hiq.c: hi-q's configuration (hi-q/config.c) under a fuzzer.
 *
 * An input is hi-q's site file, or a site file and a filter file
 * separated by a line "%%".  The site file gets a last line naming the
 * fuzzer's own filter directory (an input that sets "filters" itself is
 * refused as a key set twice), where the filter file is written as
 * "10-f"; both are read back by hiq_load(), as hi-q reads them.
 *
 * What is checked, beyond "no crash, no leak, no undefined behaviour":
 *   - a refusal is one line that starts with the name of a file (or the
 *     directory) it read: hi-q(8) says errors name the file and line;
 *   - a loaded configuration has a queue and filters whose programs are
 *     absolute paths, timeouts within the documented bounds (more than 0,
 *     at most a day), exit codes in at most one of pass, reject and
 *     defer, and replies of printable ASCII (they reach an SMTP client). */
#include "fuzz.h"
#include "msg.h"
#include "../../hi-q/hiq.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SEPARATOR "\n%%\n"
#define TIMEOUT_MAX_MS (86400L * 1000)

static void check_error(const struct err *e)
{
	const char *dir = fuzz_dir();

	FUZZ_CHECK(e->text[0] != '\0', "empty error");
	FUZZ_CHECK(!strchr(e->text, '\n'), e->text);
	FUZZ_CHECK(strncmp(e->text, dir, strlen(dir)) == 0, e->text);
}

static void check_stage(const struct stage *s)
{
	const char *p;
	int i;

	FUZZ_CHECK(s->argv && s->argv[0] && s->argv[0][0] == '/', s->name);
	FUZZ_CHECK(s->timeout_ms > 0 && s->timeout_ms <= TIMEOUT_MAX_MS,
	    s->name);
	for (i = 0; i <= 255; i++)
		FUZZ_CHECK(codes_has(&s->pass, i) + codes_has(&s->reject, i) +
		    codes_has(&s->defer, i) <= 1, s->name);
	for (p = s->reply; p && *p; p++)
		FUZZ_CHECK(*p >= 0x20 && *p <= 0x7e, s->reply);
}

static void check_hiq(const struct hiq *h)
{
	size_t i;

	FUZZ_CHECK(h->queue.argv && h->queue.argv[0] &&
	    h->queue.argv[0][0] == '/', "queue");
	FUZZ_CHECK(h->timeout_ms > 0 && h->timeout_ms <= TIMEOUT_MAX_MS,
	    "timeout");
	FUZZ_CHECK(h->nfilters <= 1, "one filter file at most");
	for (i = 0; i < h->nfilters; i++)
		check_stage(&h->filter[i]);
}

int fuzz_hiq_one(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *sep;
	const char *dir = fuzz_path("hi-q.d");
	const char *site = fuzz_path("hi-q.conf");
	const char *file = fuzz_path("hi-q.d/10-f");
	size_t site_len = size, n;
	struct hiq h;
	struct err e;
	char *buf;

	mkdir(dir, 0700);
	unlink(file);
	sep = memmem(text, size, SEPARATOR, sizeof SEPARATOR - 1);
	if (sep) {
		site_len = (size_t)(sep - text) + 1;
		n = size - site_len - (sizeof SEPARATOR - 2);
		fuzz_put(file, sep + sizeof SEPARATOR - 1, n);
	}
	n = strlen("\nfilters = ") + strlen(dir) + 2;
	buf = xmalloc(site_len + n);
	memcpy(buf, text, site_len);
	snprintf(buf + site_len, n, "\nfilters = %s\n", dir);
	fuzz_put(site, buf, site_len + strlen(buf + site_len));
	free(buf);
	if (hiq_load(site, &h, &e) == 0)
		check_hiq(&h);
	else
		check_error(&e);
	hiq_free(&h);
	return 0;
}

#ifdef QMAILCTL_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_hiq_one(data, size);
}
#endif
