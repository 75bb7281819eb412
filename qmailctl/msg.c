/* msg.c: the project's one message format, and allocation that dies loudly. */
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *msg_prog = "qmailctl";

void msg_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	msg_prog = slash ? slash + 1 : argv0;
}

static void vsay(const char *level, const char *fmt, va_list ap, int err)
{
	char line[2048];
	size_t len;

	len = (size_t)snprintf(line, sizeof line, "%s: %s: ", msg_prog, level);
	if (len < sizeof line)
		vsnprintf(line + len, sizeof line - len, fmt, ap);
	len = strlen(line);
	if (err && len < sizeof line)
		snprintf(line + len, sizeof line - len, ": %s", strerror(err));
	/* What a message quotes (a service name from the command line, a
	 * path) may hold any byte: a control character is shown as ?, so a
	 * message is one line and a terminal obeys none of it. */
	for (len = 0; line[len]; len++)
		if ((unsigned char)line[len] < 0x20 || line[len] == 0x7f)
			line[len] = '?';
	/* One write per message, so lines from concurrent workers never mix. */
	fprintf(stderr, "%s\n", line);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("fatal", fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void die_sys(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsay("fatal", fmt, ap, err);
	va_end(ap);
	exit(code);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsay("warning", fmt, ap, 0);
	va_end(ap);
}

void warn_sys(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vsay("warning", fmt, ap, err);
	va_end(ap);
}

char *fmt_buf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		die_sys(111, "unable to allocate %zu bytes", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_sys(111, "unable to allocate %zu bytes", n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_sys(111, "unable to allocate %zu bytes", n);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_sys(111, "unable to allocate %zu bytes", strlen(s) + 1);
	return p;
}
