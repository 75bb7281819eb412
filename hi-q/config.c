/* config.c: hi-q's site file and its filter files (hi-q(8)).
 *
 * Both are read by the project's one reader, conf_read_file(), and command
 * lines are split by conf_split() with no variables: no shell ever sees
 * them.  Every error names FILE:LINE (or FILE for what is missing). */
#include "hiq.h"

#include "conf.h"
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define TIMEOUT_MAX_MS (86400L * 1000)
/* What qmail-smtpd reads from fd 6 is at most 255 bytes, with the D/Z. */
#define REPLY_MAX 200

/* A file or directory anyone may write names programs anyone could make
 * hi-q run, as qmail-smtpd's user, on every message: refused. */
static int not_world_writable(const char *path, struct err *e)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return 0;       /* the reader says what is wrong with it */
	if (st.st_mode & S_IWOTH)
		return err_set(e, "%s: writable by everyone", path);
	return 0;
}

/* Which keys a file has set, so a key set twice is an error. */
struct seen {
	const char *key[8];
	unsigned long line[8];
	size_t n;
};

static int once(struct seen *s, const struct conf_kv *kv, struct err *e)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (strcmp(s->key[i], kv->key) == 0)
			return err_set(e, "%s: '%s' already set on line %lu",
			    kv->where, kv->key, s->line[i]);
	if (s->n < sizeof s->key / sizeof s->key[0]) {
		s->key[s->n] = kv->key;
		s->line[s->n++] = kv->line;
	}
	return 0;
}

int codes_has(const struct codes *c, int code)
{
	return code >= 0 && code <= 255 && (c->bit[code / 8] >> (code % 8)) & 1;
}

static void codes_add(struct codes *c, int code)
{
	c->bit[code / 8] |= (unsigned char)(1 << (code % 8));
}

/* Seconds, with up to 3 decimals: "120", "0.5".  More than 0, at most a
 * day. */
static int set_timeout(const struct conf_kv *kv, long *ms, struct err *e)
{
	const char *s = kv->value;
	long v = 0;
	int decimals = -1;

	for (; *s; s++) {
		if (*s == '.' && decimals < 0) {
			decimals = 0;
			continue;
		}
		if (*s < '0' || *s > '9' || decimals >= 3)
			return err_set(e, "%s: bad number '%s' for '%s' "
			    "(seconds, up to 3 decimals)", kv->where,
			    kv->value, kv->key);
		v = v * 10 + (*s - '0');
		if (decimals >= 0)
			decimals++;
		if (v > TIMEOUT_MAX_MS)
			return err_set(e, "%s: '%s' is too large (at most "
			    "86400 seconds)", kv->where, kv->key);
	}
	if (s == kv->value || decimals == 0)
		return err_set(e, "%s: bad number '%s' for '%s' (seconds, "
		    "up to 3 decimals)", kv->where, kv->value, kv->key);
	for (decimals = decimals < 0 ? 0 : decimals; decimals < 3; decimals++)
		v *= 10;
	if (v == 0)
		return err_set(e, "%s: '%s' must be more than 0", kv->where,
		    kv->key);
	if (v > TIMEOUT_MAX_MS)
		return err_set(e, "%s: '%s' is too large (at most 86400 "
		    "seconds)", kv->where, kv->key);
	*ms = v;
	return 0;
}

/* Exit codes, 0 to 255, separated by blanks or commas. */
static int set_codes(const struct conf_kv *kv, struct codes *c,
    struct err *e)
{
	const char *s = kv->value;
	int v, digits;

	memset(c, 0, sizeof *c);
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		if (!*s)
			return 0;
		for (v = 0, digits = 0; *s >= '0' && *s <= '9'; s++) {
			v = v * 10 + (*s - '0');
			if (++digits > 3)
				break;
		}
		if (!digits || v > 255 || (*s && *s != ' ' && *s != '\t' &&
		    *s != ','))
			return err_set(e, "%s: bad exit code list '%s' for "
			    "'%s' (numbers from 0 to 255)", kv->where,
			    kv->value, kv->key);
		codes_add(c, v);
	}
}

/* An argv whose program is an absolute path: hi-q runs from wherever its
 * caller is (qmail-smtpd: /var/qmail) and never searches a PATH. */
static int set_argv(const struct conf_kv *kv, char ***argv, struct err *e)
{
	char **v;

	if (conf_split(NULL, kv->value, kv->where, &v, e) < 0)
		return -1;
	if (!v[0]) {
		conf_free_argv(v);
		return err_set(e, "%s: empty '%s'", kv->where, kv->key);
	}
	if (v[0][0] != '/') {
		err_set(e, "%s: '%s' is not an absolute path", kv->where, v[0]);
		conf_free_argv(v);
		return -1;
	}
	conf_free_argv(*argv);
	*argv = v;
	return 0;
}

/* A reply reaches the SMTP client after "554 " or "451 ": printable
 * ASCII only, so that it can never end the reply line early. */
static int set_reply(const struct conf_kv *kv, char **reply, struct err *e)
{
	const char *s;

	if (!*kv->value)
		return err_set(e, "%s: empty 'reply'", kv->where);
	if (strlen(kv->value) > REPLY_MAX)
		return err_set(e, "%s: 'reply' is longer than %d bytes",
		    kv->where, REPLY_MAX);
	for (s = kv->value; *s; s++)
		if (*s < 0x20 || *s > 0x7e)
			return err_set(e, "%s: 'reply' holds a byte that is "
			    "not printable ASCII", kv->where);
	*reply = xstrdup(kv->value);
	return 0;
}

/* ---- the site file ---- */

struct site_ctx {
	struct hiq *h;
	struct seen seen;
};

static int site_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct site_ctx *c = ctx;
	struct hiq *h = c->h;

	if (strcmp(kv->key, "queue") != 0 && strcmp(kv->key, "filters") != 0
	    && strcmp(kv->key, "timeout") != 0)
		return err_set(e, "%s: unknown key '%s'", kv->where, kv->key);
	if (once(&c->seen, kv, e) < 0)
		return -1;
	if (kv->key[0] == 'q')
		return set_argv(kv, &h->queue.argv, e);
	if (kv->key[0] == 't')
		return set_timeout(kv, &h->timeout_ms, e);
	if (kv->value[0] != '/')
		return err_set(e, "%s: 'filters' is not an absolute path",
		    kv->where);
	free(h->filters_dir);
	h->filters_dir = xstrdup(kv->value);
	return 0;
}

/* ---- one filter file ---- */

struct filter_ctx {
	struct stage *f;
	struct seen seen;
	int pass_set;
};

static int filter_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct filter_ctx *c = ctx;
	struct stage *f = c->f;
	const char *k = kv->key;

	if (strcmp(k, "run") && strcmp(k, "timeout") && strcmp(k, "pass") &&
	    strcmp(k, "reject") && strcmp(k, "defer") &&
	    strcmp(k, "on_failure") && strcmp(k, "reply"))
		return err_set(e, "%s: unknown key '%s'", kv->where, k);
	if (once(&c->seen, kv, e) < 0)
		return -1;
	if (strcmp(k, "run") == 0)
		return set_argv(kv, &f->argv, e);
	if (strcmp(k, "timeout") == 0)
		return set_timeout(kv, &f->timeout_ms, e);
	if (strcmp(k, "pass") == 0) {
		c->pass_set = 1;
		return set_codes(kv, &f->pass, e);
	}
	if (strcmp(k, "reject") == 0)
		return set_codes(kv, &f->reject, e);
	if (strcmp(k, "defer") == 0)
		return set_codes(kv, &f->defer, e);
	if (strcmp(k, "reply") == 0)
		return set_reply(kv, &f->reply, e);
	if (strcmp(kv->value, "defer") == 0)
		f->on_failure = FAIL_DEFER;
	else if (strcmp(kv->value, "skip") == 0)
		f->on_failure = FAIL_SKIP;
	else
		return err_set(e, "%s: bad 'on_failure' '%s' (defer or skip)",
		    kv->where, kv->value);
	return 0;
}

/* A code may mean one thing only. */
static int check_codes(const char *file, const struct stage *f,
    struct err *e)
{
	int i;

	for (i = 0; i <= 255; i++) {
		int n = codes_has(&f->pass, i) + codes_has(&f->reject, i) +
		    codes_has(&f->defer, i);

		if (n > 1)
			return err_set(e, "%s: exit code %d is in more than "
			    "one of pass, reject and defer", file, i);
	}
	return 0;
}

static int load_filter(const char *dir, const char *name, struct stage *f,
    struct err *e)
{
	struct filter_ctx c = { .f = f };
	size_t n = strlen(dir) + strlen(name) + 2;
	char *file = xmalloc(n);
	int rc;

	fmt_buf(file, n, "%s/%s", dir, name);
	f->name = xstrdup(name);
	f->timeout_ms = HIQ_DEFAULT_FILTER_TIMEOUT_MS;
	rc = not_world_writable(file, e);
	if (rc == 0)
		rc = conf_read_file(file, filter_line, &c, e);
	if (rc == 0 && !f->argv)
		rc = err_set(e, "%s: no 'run'", file);
	if (rc == 0 && !c.pass_set)
		codes_add(&f->pass, 0);
	if (rc == 0)
		rc = check_codes(file, f, e);
	free(file);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The filter files' names, sorted bytewise (never by locale).  Names that
 * are not valid service names (10-spamc.example, 10-spamc.dist, editor
 * backups, dot files) are not filters: that is how a shipped example
 * stays disabled. */
static int list_filters(const char *dir, char ***names, size_t *n,
    struct err *e)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;

	*n = 0;
	if (!d)
		return err_sys(e, "%s: unable to open directory", dir);
	while ((de = readdir(d))) {
		if (!conf_valid_name(de->d_name))
			continue;
		if (*n == HIQ_MAX_FILTERS) {
			closedir(d);
			conf_free_argv(v);
			return err_set(e, "%s: more than %d filters", dir,
			    HIQ_MAX_FILTERS);
		}
		v = xrealloc(v, (*n + 2) * sizeof *v);
		v[(*n)++] = xstrdup(de->d_name);
		v[*n] = NULL;
	}
	closedir(d);
	if (v)
		qsort(v, *n, sizeof *v, by_name);
	*names = v;
	return 0;
}

static int load_filters(struct hiq *h, struct err *e)
{
	char **names = NULL;
	size_t i, n;
	int rc = 0;

	if (not_world_writable(h->filters_dir, e) < 0 ||
	    list_filters(h->filters_dir, &names, &n, e) < 0)
		return -1;
	h->filter = xcalloc(n ? n : 1, sizeof *h->filter);
	for (i = 0; i < n && rc == 0; i++) {
		rc = load_filter(h->filters_dir, names[i], &h->filter[i], e);
		h->nfilters = i + 1;
	}
	conf_free_argv(names);
	return rc;
}

int hiq_load(const char *file, struct hiq *h, struct err *e)
{
	struct site_ctx c = { .h = h };

	memset(h, 0, sizeof *h);
	h->file = xstrdup(file);
	h->timeout_ms = HIQ_DEFAULT_TIMEOUT_MS;
	h->queue.name = xstrdup("queue");
	if (not_world_writable(file, e) < 0 ||
	    conf_read_file(file, site_line, &c, e) < 0)
		return -1;
	if (!h->queue.argv && conf_split(NULL, HIQ_DEFAULT_QUEUE, file,
	    &h->queue.argv, e) < 0)
		return -1;
	if (!h->filters_dir)
		h->filters_dir = xstrdup(HIQ_DEFAULT_FILTERS);
	return load_filters(h, e);
}

static void stage_free(struct stage *s)
{
	free(s->name);
	conf_free_argv(s->argv);
	free(s->reply);
}

void hiq_free(struct hiq *h)
{
	size_t i;

	for (i = 0; i < h->nfilters; i++)
		stage_free(&h->filter[i]);
	free(h->filter);
	stage_free(&h->queue);
	free(h->filters_dir);
	free(h->file);
	memset(h, 0, sizeof *h);
}
