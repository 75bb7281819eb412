/* msg.c: the project's one line writer, its one escaper, and allocation
 * that dies loudly (see msg.h). */
#include "msg.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *msg_prog = "qmailctl";
int msg_oom_code = 1;

/* A line longer than this is clipped: a message is for a person. */
#define LINE_MAX_BYTES 4096

void msg_init(const char *argv0)
{
	const char *slash;

	if (!argv0 || !*argv0)
		return;
	slash = strrchr(argv0, '/');
	msg_prog = slash ? slash + 1 : argv0;
}

char *msg_escape(char *out, size_t size, const void *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = in;
	size_t o = 0, i;

	if (size == 0)
		return out;
	for (i = 0; i < len; i++) {
		unsigned char c = s[i];

		if (c >= 0x20 && c < 0x7f) {
			if (o + 1 >= size)
				break;
			out[o++] = (char)c;
		} else {
			if (o + 4 >= size)
				break;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		}
	}
	out[o] = '\0';
	return out;
}

/* head, then fmt, escaped, as one line in one write. */
static void write_line(int fd, const char *head, const char *fmt, va_list ap)
{
	char raw[LINE_MAX_BYTES], line[LINE_MAX_BYTES + 1];
	size_t n;

	n = (size_t)snprintf(raw, sizeof raw, "%s", head);
	if (n >= sizeof raw)
		n = 0;
	vsnprintf(raw + n, sizeof raw - n, fmt, ap);
	msg_escape(line, sizeof line - 1, raw, strlen(raw));
	n = strlen(line);
	line[n++] = '\n';
	(void)!write(fd, line, n);
}

void msg_vline(int fd, const char *who, const char *level, const char *fmt,
    va_list ap)
{
	char head[256];

	snprintf(head, sizeof head, "%s: %s%s", who ? who : msg_prog,
	    level ? level : "", level ? ": " : "");
	write_line(fd, head, fmt, ap);
}

void msg_text(int fd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	write_line(fd, "", fmt, ap);
	va_end(ap);
}

void msg_line(int fd, const char *who, const char *level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vline(fd, who, level, fmt, ap);
	va_end(ap);
}

static void vprog(const char *level, const char *fmt, va_list ap, int err)
{
	char text[LINE_MAX_BYTES];
	size_t n;

	vsnprintf(text, sizeof text, fmt, ap);
	n = strlen(text);
	if (err)
		snprintf(text + n, sizeof text - n, ": %s", strerror(err));
	msg_line(2, NULL, level, "%s", text);
}

void die(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprog("fatal", fmt, ap, 0);
	va_end(ap);
	exit(code);
}

void die_sys(int code, const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vprog("fatal", fmt, ap, err);
	va_end(ap);
	exit(code);
}

void warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprog("warning", fmt, ap, 0);
	va_end(ap);
}

void warn_sys(const char *fmt, ...)
{
	int err = errno;
	va_list ap;

	va_start(ap, fmt);
	vprog("warning", fmt, ap, err);
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
		die_sys(msg_oom_code, "unable to allocate %zu bytes", n);
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		die_sys(msg_oom_code, "unable to allocate %zu bytes", n * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		die_sys(msg_oom_code, "unable to allocate %zu bytes", n);
	return q;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);

	if (!p)
		die_sys(msg_oom_code, "unable to allocate %zu bytes",
		    strlen(s) + 1);
	return p;
}
