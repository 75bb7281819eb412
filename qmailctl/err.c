/* err.c: filling a struct err (see err.h). */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set_text(struct err *e, const char *fmt, va_list ap)
{
	vsnprintf(e->text, sizeof e->text, fmt, ap);
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	set_text(e, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int saved = errno;
	size_t n;
	va_list ap;

	if (!e)
		return -1;
	va_start(ap, fmt);
	set_text(e, fmt, ap);
	va_end(ap);
	n = strlen(e->text);
	snprintf(e->text + n, sizeof e->text - n, ": %s", strerror(saved));
	errno = saved;
	return -1;
}

int err_prefix(struct err *e, const char *fmt, ...)
{
	char old[sizeof e->text];
	size_t n, keep;
	va_list ap;

	if (!e)
		return -1;
	memcpy(old, e->text, sizeof old);
	va_start(ap, fmt);
	set_text(e, fmt, ap);
	va_end(ap);
	n = strlen(e->text);
	if (n + 2 < sizeof e->text) {
		memcpy(e->text + n, ": ", 2);
		n += 2;
		keep = strnlen(old, sizeof e->text - n - 1);
		memcpy(e->text + n, old, keep);
		e->text[n + keep] = '\0';
	}
	return -1;
}
