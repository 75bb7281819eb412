/* conf_file.c: the one reader of every configuration file of the project
 * (the site file, the service files, hi-q's): a bounded read of the whole
 * file, then one "key = value" line at a time to the caller's function,
 * each with its FILE:LINE (see conf_read_file in conf.h).  What a key
 * means is the caller's business. */
#include "conf_impl.h"
#include "msg.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The whole file, refused past FILE_MAX_LEN before any of it is parsed. */
static int read_bounded(const char *file, char **data, size_t *len,
    struct err *e)
{
	struct conf_buf b = { 0 };
	char chunk[8192];
	ssize_t r;
	int fd;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "%s: unable to open", file);
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > FILE_MAX_LEN) {
			close(fd);
			free(b.s);
			return err_set(e, "%s: larger than %d bytes", file,
			    FILE_MAX_LEN);
		}
		conf_buf_add(&b, chunk, (size_t)r);
	}
	if (r < 0) {
		err_sys(e, "%s: unable to read", file);
		close(fd);
		free(b.s);
		return -1;
	}
	close(fd);
	*len = b.len;
	*data = conf_buf_take(&b);
	return 0;
}

static char *trim_blanks(char *s)
{
	char *end;

	while (conf_is_blank(*s))
		s++;
	end = s + strlen(s);
	/* A trailing \r forgives a file edited with CRLF line ends. */
	while (end > s && (conf_is_blank(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

/* One line, without its newline: blank, a comment, or "key = value". */
static int parse_line(char *text, unsigned long line, const char *where,
    conf_line_fn *fn, void *ctx, struct err *e)
{
	char *s = trim_blanks(text), *eq;
	struct conf_kv kv;

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return err_set(e, "%s: expected 'key = value'", where);
	*eq = '\0';
	kv.key = trim_blanks(s);
	kv.value = trim_blanks(eq + 1);
	kv.line = line;
	kv.where = where;
	if (!*kv.key)
		return err_set(e, "%s: missing key before '='", where);
	return fn(ctx, &kv, e);
}

int conf_read_file(const char *file, conf_line_fn *fn, void *ctx,
    struct err *e)
{
	char *data = NULL, *p, *nl, where[sizeof e->text];
	size_t len = 0, n;
	unsigned long line = 0;
	int rc = 0;

	if (read_bounded(file, &data, &len, e) < 0)
		return -1;
	for (p = data; rc == 0 && p < data + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(data + len - p));
		if (!nl)
			nl = data + len;
		n = (size_t)(nl - p);
		fmt_buf(where, sizeof where, "%s:%lu", file, ++line);
		if (n > LINE_MAX_LEN)
			rc = err_set(e, "%s: line longer than %d bytes", where,
			    LINE_MAX_LEN);
		else if (memchr(p, '\0', n))
			rc = err_set(e, "%s: NUL byte", where);
		else {
			*nl = '\0';
			rc = parse_line(p, line, where, fn, ctx, e);
		}
	}
	free(data);
	return rc;
}
