/* conf.c: the site config and the service files (see conf.h and
 * qmailctl.conf(5)).
 *
 * One line parser serves both files.  Values are never given to a shell:
 * command lines are split into argv here, by rules small enough to state
 * in the man page, and ${var} is expanded once, after splitting. */
#include "conf.h"
#include "msg.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netdb.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A config line this long is a mistake or an attack, not a setting; the
 * bound keeps every message and buffer small. */
#define LINE_MAX_LEN    (64 * 1024)
/* Refused before parsing, so a runaway file cannot eat memory. */
#define FILE_MAX_LEN    (16 * 1024 * 1024)
/* Expansion multiplies: "x1 = ${x0}${x0}", "x2 = ${x1}${x1}", ... doubles
 * a value per line, and 40 short lines would ask for a terabyte.  So a
 * value may hold, once expanded, what a line may hold, and the values a
 * file stores (site variables, env lines) at most what a file may hold. */
#define VALUE_MAX_LEN   LINE_MAX_LEN
#define STORED_MAX_LEN  FILE_MAX_LEN
/* Keys and variable names are identifiers; this is generous. */
#define KEY_MAX_LEN     64
/* No wait, grace or settle time is sensibly longer than a day. */
#define TIME_MAX_MS     (86400LL * 1000)
/* 1 TiB: a larger "limit" is a typo, not a limit. */
#define MEMORY_MAX      (1ULL << 40)
/* uid_t and gid_t are 32 bits; (uid_t)-1 means "unchanged" to the kernel. */
#define ID_MAX          4294967294ULL
/* User messages quote what they complain about, clipped to this. */
#define QUOTE           "%.64s"

/* ---- small helpers ---- */

/* Messages quote what the file says, raw: the writer escapes (msg.h). */
#define fail err_set

struct buf {
	char *s;
	size_t len, cap;
};

static void buf_add(struct buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void buf_addc(struct buf *b, char c)
{
	buf_add(b, &c, 1);
}

/* Hands the string over (never NULL) and leaves b empty. */
static char *buf_take(struct buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

/* A NULL-terminated array of strings that grows. */
struct vec {
	char **v;
	size_t n, cap;
};

static void vec_push(struct vec *v, char *s)
{
	if (v->n + 2 > v->cap) {
		v->cap = (v->n + 2) * 2;
		v->v = xrealloc(v->v, v->cap * sizeof *v->v);
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

/* Hands the array over (never NULL) and leaves v empty. */
static char **vec_take(struct vec *v)
{
	char **a = v->v ? v->v : xcalloc(1, sizeof *a);

	v->v = NULL;
	v->n = v->cap = 0;
	return a;
}

void conf_free_argv(char **argv)
{
	char **p;

	if (!argv)
		return;
	for (p = argv; *p; p++)
		free(*p);
	free(argv);
}

static int is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static int is_alpha_(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_';
}

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* [A-Za-z_][A-Za-z0-9_]*: a variable, a key, an environment name. */
static int is_ident(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !is_alpha_(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!is_alpha_(s[i]) && !is_digit(s[i]))
			return 0;
	return 1;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!is_digit(*s))
			return 0;
	return 1;
}

int conf_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!is_alpha_(name[i]) && !is_digit(name[i]) && name[i] != '-')
			return 0;
	return 1;
}

const char *conf_site_var(const struct site *site, const char *key)
{
	size_t i;

	if (!site)
		return NULL;
	for (i = 0; i < site->nvars; i++)
		if (strcmp(site->vars[i].key, key) == 0)
			return site->vars[i].value;
	return NULL;
}

/* ---- expansion ---- */

/* The numeric id of user (or group) who: a number stands for itself, as
 * chown(1) allows, anything else is looked up. */
static int lookup_id(int group, const char *who, unsigned long long *id,
    const char *where, struct err *e)
{
	const char *what = group ? "group" : "user";
	struct passwd *pw = NULL;
	struct group *gr = NULL;

	if (all_digits(who)) {
		errno = 0;
		*id = strtoull(who, NULL, 10);
		if (errno || *id > ID_MAX)
			return fail(e, "%s: bad %s id '" QUOTE "'", where, what,
			    who);
		return 0;
	}
	errno = 0;
	if (group)
		gr = getgrnam(who);
	else
		pw = getpwnam(who);
	if (!pw && !gr) {
		/* "Not found" comes back as 0 or one of these. */
		if (errno && errno != ENOENT && errno != ESRCH &&
		    errno != EBADF && errno != EPERM)
			return fail(e, "%s: unable to look up %s '" QUOTE
			    "': %s", where, what, who, strerror(errno));
		return fail(e, "%s: unknown %s '" QUOTE "'", where, what, who);
	}
	*id = group ? (unsigned long long)gr->gr_gid :
	    (unsigned long long)pw->pw_uid;
	return 0;
}

/* ${uid:NAME} and ${gid:NAME}.  When the site defines a variable NAME, its
 * value is the user or group to look up (one step, not recursive), so a
 * site maps qmail's users without editing service files: "qmaild = mailin". */
static int expand_id(const struct site *site, int group, const char *name,
    size_t n, struct buf *out, const char *where, struct err *e)
{
	const char *who;
	char key[256], num[24];
	unsigned long long id = 0;

	if (n == 0)
		return fail(e, "%s: empty %s name in '${%s:}'", where,
		    group ? "group" : "user", group ? "gid" : "uid");
	if (n >= sizeof key)
		return fail(e, "%s: %s name too long", where,
		    group ? "group" : "user");
	memcpy(key, name, n);
	key[n] = '\0';
	who = conf_site_var(site, key);
	if (lookup_id(group, who ? who : key, &id, where, e) < 0)
		return -1;
	snprintf(num, sizeof num, "%llu", id);
	buf_add(out, num, strlen(num));
	return 0;
}

/* *pp points at "${"; on success it is left at the closing '}'.  The value
 * is appended as it is: expansion is not recursive, a value containing
 * ${x} is inserted literally.  That guarantees termination and means a
 * site variable can never smuggle in quotes or more words. */
static int expand(const struct site *site, const char **pp, struct buf *out,
    const char *where, struct err *e)
{
	const char *name = *pp + 2, *end = strchr(name, '}');
	const char *value;
	size_t n;
	char key[KEY_MAX_LEN + 1];

	if (!end)
		return fail(e, "%s: unterminated '${'", where);
	n = (size_t)(end - name);
	*pp = end;
	if (n >= 4 && (strncmp(name, "uid:", 4) == 0 ||
	    strncmp(name, "gid:", 4) == 0))
		return expand_id(site, name[0] == 'g', name + 4, n - 4, out,
		    where, e);
	if (n == 0)
		return fail(e, "%s: empty variable name '${}'", where);
	if (n > KEY_MAX_LEN || !is_ident(name, n))
		return fail(e, "%s: bad variable name '%.*s'", where,
		    n > KEY_MAX_LEN ? KEY_MAX_LEN : (int)n, name);
	memcpy(key, name, n);
	key[n] = '\0';
	value = conf_site_var(site, key);
	if (!value)
		return fail(e, "%s: undefined variable '%s'", where, key);
	buf_add(out, value, strlen(value));
	return 0;
}

/* The lexer behind conf_split and the one-word values.  With split set,
 * blanks separate words and double quotes group (a quoted "" is an empty
 * word); without it, blanks and quotes are ordinary characters and the
 * result is exactly one word.  Either way a backslash takes the next
 * character literally (so \$ is a dollar) and ${...} is replaced by its
 * value.  Expanding while scanning is the same as expanding after
 * splitting, because a value is never scanned again: it cannot change the
 * word count. */
static int lex(const struct site *site, const char *text, int split,
    const char *where, struct vec *words, struct err *e)
{
	struct buf w = { 0 };
	int inword = 0, quoted = 0;
	size_t done = 0;        /* bytes in the words already pushed */
	const char *p;

	for (p = text; *p; p++) {
		if (*p == '\\') {
			if (!p[1]) {
				free(w.s);
				return fail(e, "%s: trailing backslash", where);
			}
			buf_addc(&w, *++p);
		} else if (split && *p == '"') {
			quoted = !quoted;
		} else if (split && !quoted && is_blank(*p)) {
			done += w.len;
			if (inword)
				vec_push(words, buf_take(&w));
			inword = 0;
			continue;
		} else if (p[0] == '$' && p[1] == '{') {
			if (expand(site, &p, &w, where, e) < 0) {
				free(w.s);
				return -1;
			}
			if (done + w.len > VALUE_MAX_LEN) {
				free(w.s);
				return fail(e, "%s: longer than %d bytes once "
				    "expanded", where, VALUE_MAX_LEN);
			}
		} else {
			buf_addc(&w, *p);
		}
		inword = 1;
	}
	if (quoted) {
		free(w.s);
		return fail(e, "%s: unterminated quote", where);
	}
	if (done + w.len > VALUE_MAX_LEN) {     /* text after the last ${} */
		free(w.s);
		return fail(e, "%s: longer than %d bytes once expanded", where,
		    VALUE_MAX_LEN);
	}
	if (inword || !split)
		vec_push(words, buf_take(&w));
	return 0;
}

int conf_split(const struct site *site, const char *text, const char *where,
    char ***argv, struct err *e)
{
	struct vec words = { 0 };

	*argv = NULL;
	if (lex(site, text, 1, where ? where : "(text)", &words, e) < 0) {
		conf_free_argv(vec_take(&words));
		return -1;
	}
	*argv = vec_take(&words);
	return 0;
}

/* A value that is one word whatever it contains: a path, an env value. */
static int expand_word(const struct site *site, const char *text,
    const char *where, char **out, struct err *e)
{
	struct vec words = { 0 };

	*out = NULL;
	if (lex(site, text, 0, where, &words, e) < 0) {
		conf_free_argv(vec_take(&words));
		return -1;
	}
	*out = words.v[0];
	free(words.v);
	return 0;
}

/* ---- files and lines ---- */

static int read_file(const char *file, char **data, size_t *len,
    struct err *e)
{
	struct buf b = { 0 };
	char chunk[8192];
	ssize_t r;
	int fd, err;

	fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(e, "%s: unable to open: %s", file, strerror(errno));
	for (;;) {
		r = read(fd, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		if (b.len + (size_t)r > FILE_MAX_LEN) {
			close(fd);
			free(b.s);
			return fail(e, "%s: larger than %d bytes", file,
			    FILE_MAX_LEN);
		}
		buf_add(&b, chunk, (size_t)r);
	}
	err = errno;
	close(fd);
	if (r < 0) {
		free(b.s);
		return fail(e, "%s: unable to read: %s", file, strerror(err));
	}
	*len = b.len;
	*data = buf_take(&b);
	return 0;
}


static char *trim(char *s)
{
	char *end;

	while (is_blank(*s))
		s++;
	end = s + strlen(s);
	/* A trailing \r forgives a file edited with CRLF line ends. */
	while (end > s && (is_blank(end[-1]) || end[-1] == '\r'))
		*--end = '\0';
	return s;
}

static int parse_line(char *text, unsigned long line, const char *where,
    conf_line_fn *fn, void *ctx, struct err *e)
{
	char *s = trim(text), *eq;
	struct conf_kv kv;

	if (!*s || *s == '#')
		return 0;
	eq = strchr(s, '=');
	if (!eq)
		return fail(e, "%s: expected 'key = value'", where);
	*eq = '\0';
	kv.key = trim(s);
	kv.value = trim(eq + 1);
	kv.line = line;
	kv.where = where;
	if (!*kv.key)
		return fail(e, "%s: missing key before '='", where);
	return fn(ctx, &kv, e);
}

int conf_read_file(const char *file, conf_line_fn *fn, void *ctx,
    struct err *e)
{
	char *data = NULL, *p, *nl, where[sizeof e->text];
	size_t len = 0, n;
	unsigned long line = 0;
	int rc = 0;

	if (read_file(file, &data, &len, e) < 0)
		return -1;
	for (p = data; rc == 0 && p < data + len; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(data + len - p));
		if (!nl)
			nl = data + len;
		n = (size_t)(nl - p);
		fmt_buf(where, sizeof where, "%s:%lu", file, ++line);
		if (n > LINE_MAX_LEN)
			rc = fail(e, "%s: line longer than %d bytes", where,
			    LINE_MAX_LEN);
		else if (memchr(p, '\0', n))
			rc = fail(e, "%s: NUL byte", where);
		else {
			*nl = '\0';
			rc = parse_line(p, line, where, fn, ctx, e);
		}
	}
	free(data);
	return rc;
}

/* ---- the site config ---- */

struct site_ctx {
	struct site *site;
	unsigned long *lines;   /* where each variable was set */
	const char *file;
	size_t stored;          /* bytes of the values so far */
};

/* A relative path names something beside the site file, wherever
 * qmailctl was started; the result is absolute, because the elements run
 * in their own directories. */
static int resolve(const char *file, const char *path, char **out,
    struct err *e)
{
	struct buf b = { 0 };
	const char *slash = strrchr(file, '/');
	size_t dirlen = slash ? (size_t)(slash - file) : 0;
	char cwd[4096];

	if (path[0] == '/') {
		*out = xstrdup(path);
		return 0;
	}
	while (path[0] == '.' && path[1] == '/')
		path += 2;
	if (file[0] != '/') {
		if (!getcwd(cwd, sizeof cwd))
			return fail(e, "%s: unable to find the current "
			    "directory: %s", file, strerror(errno));
		buf_add(&b, cwd, strlen(cwd));
		if (b.len > 1)
			buf_addc(&b, '/');
	}
	if (slash) {
		buf_add(&b, file, dirlen);
		buf_addc(&b, '/');
	}
	buf_add(&b, path, strlen(path));
	*out = buf_take(&b);
	return 0;
}

/* A name for "default": valid, and not already in v. */
static int check_name(const struct vec *v, const char *name,
    const char *where, struct err *e)
{
	size_t i;

	if (!conf_valid_name(name))
		return fail(e, "%s: bad service name '" QUOTE "' in 'default'",
		    where, name);
	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i], name) == 0)
			return fail(e, "%s: '%s' listed twice in 'default'",
			    where, name);
	return 0;
}

/* "default": blank-separated names; empty is an empty set. */
static int set_names(struct site *site, const char *value, const char *where,
    struct err *e)
{
	struct vec v = { 0 };
	const char *p = value, *q;
	size_t n;
	char *name;

	for (;;) {
		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		for (q = p; *q && !is_blank(*q); q++)
			;
		n = (size_t)(q - p);
		name = xmalloc(n + 1);
		memcpy(name, p, n);
		name[n] = '\0';
		if (check_name(&v, name, where, e) < 0) {
			free(name);
			conf_free_argv(vec_take(&v));
			return -1;
		}
		vec_push(&v, name);
		p = q;
	}
	conf_free_argv(site->names);
	site->names = vec_take(&v);
	return 0;
}

static void add_var(struct site_ctx *c, const char *key, char *value,
    unsigned long line)
{
	struct site *s = c->site;

	s->vars = xrealloc(s->vars, (s->nvars + 1) * sizeof *s->vars);
	c->lines = xrealloc(c->lines, (s->nvars + 1) * sizeof *c->lines);
	s->vars[s->nvars].key = xstrdup(key);
	s->vars[s->nvars].value = value;
	c->lines[s->nvars] = line;
	s->nvars++;
}

static int sup_key(const struct conf_kv *kv, struct supervision *sup,
    struct err *e);
static int set_time(const struct conf_kv *kv, int seconds, long *out,
    struct err *e);

/* The builtin keys take effect; the variable gets the resolved value, so
 * that ${services} and ${rundir} are absolute in service files too. */
static int set_builtin(struct site_ctx *c, const char *key, char **value,
    const char *where, struct err *e)
{
	struct site *s = c->site;
	char *v;

	if (strcmp(key, "services") == 0 || strcmp(key, "rundir") == 0) {
		if (!**value)
			return fail(e, "%s: empty '%s'", where, key);
		if (resolve(c->file, *value, &v, e) < 0)
			return -1;
		free(*value);
		*value = v;
		if (key[0] == 's')
			s->services = xstrdup(v);
		else
			s->rundir = xstrdup(v);
	} else if (strcmp(key, "path") == 0) {
		if (!**value)
			return fail(e, "%s: empty 'path'", where);
		s->path = xstrdup(*value);
	} else if (strcmp(key, "default") == 0) {
		return set_names(s, *value, where, e);
	} else {
		struct conf_kv kv = { key, *value, 0, where };

		if (strcmp(key, "check_restart_window") == 0)
			return set_time(&kv, 1, &s->check_restart_window_ms, e);
		return sup_key(&kv, &s->sup, e) < 0 ? -1 : 0;
	}
	return 0;
}

/* Site values are expanded once, when they are defined, from the
 * variables of earlier lines: "logdir = ${qmail}/log" works, a forward
 * reference is an undefined variable.  What is stored is final, so using
 * it later never expands anything again. */
static int site_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct site_ctx *c = ctx;
	size_t i;
	char *value;

	if (strlen(kv->key) > KEY_MAX_LEN || !is_ident(kv->key,
	    strlen(kv->key)))
		return fail(e, "%s: bad key '" QUOTE "' (letters, digits and _ "
		    "only)", kv->where, kv->key);
	for (i = 0; i < c->site->nvars; i++)
		if (strcmp(c->site->vars[i].key, kv->key) == 0)
			return fail(e, "%s: '%s' already set on line %lu",
			    kv->where, kv->key, c->lines[i]);
	if (expand_word(c->site, kv->value, kv->where, &value, e) < 0)
		return -1;
	c->stored += strlen(value);
	if (c->stored > STORED_MAX_LEN) {
		free(value);
		return fail(e, "%s: the variables hold more than %d bytes in all",
		    kv->where, STORED_MAX_LEN);
	}
	if (set_builtin(c, kv->key, &value, kv->where, e) < 0) {
		free(value);
		return -1;
	}
	add_var(c, kv->key, value, kv->line);
	return 0;
}

/* Builtins the file did not set get their defaults, as variables too. */
static int site_defaults(struct site_ctx *c, struct err *e)
{
	struct site *s = c->site;
	char *v;

	if (!s->services) {
		if (resolve(c->file, "services", &v, e) < 0)
			return -1;
		s->services = xstrdup(v);
		add_var(c, "services", v, 0);
	}
	if (!s->rundir) {
		s->rundir = xstrdup(CONF_DEFAULT_RUNDIR);
		add_var(c, "rundir", xstrdup(CONF_DEFAULT_RUNDIR), 0);
	}
	if (!s->path) {
		s->path = xstrdup(CONF_DEFAULT_PATH);
		add_var(c, "path", xstrdup(CONF_DEFAULT_PATH), 0);
	}
	if (!s->names) {
		set_names(s, CONF_DEFAULT_NAMES, "default", e);
		add_var(c, "default", xstrdup(CONF_DEFAULT_NAMES), 0);
	}
	return 0;
}

int conf_load_site(const char *file, struct site *site, struct err *e)
{
	struct site_ctx c;
	int rc;

	memset(site, 0, sizeof *site);
	site->file = xstrdup(file);
	site->sup = (struct supervision){ 1, 10, 60000, 60000 };
	site->check_restart_window_ms = 300000;
	c.site = site;
	c.lines = NULL;
	c.file = file;
	c.stored = 0;
	rc = conf_read_file(file, site_line, &c, e);
	if (rc == 0)
		rc = site_defaults(&c, e);
	free(c.lines);
	if (rc < 0)
		conf_free_site(site);
	return rc;
}

void conf_free_site(struct site *site)
{
	size_t i;

	free(site->file);
	free(site->services);
	free(site->rundir);
	free(site->path);
	conf_free_argv(site->names);
	for (i = 0; i < site->nvars; i++) {
		free(site->vars[i].key);
		free(site->vars[i].value);
	}
	free(site->vars);
	memset(site, 0, sizeof *site);
}

/* ---- the services directory ---- */

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int conf_list_services(const struct site *site, char ***names,
    struct err *e)
{
	struct vec v = { 0 };
	struct dirent *d;
	struct stat st;
	char path[8192];
	DIR *dir;
	int err;

	*names = NULL;
	dir = opendir(site->services);
	if (!dir)
		return fail(e, "%s: unable to open directory: %s",
		    site->services, strerror(errno));
	for (errno = 0; (d = readdir(dir)); errno = 0) {
		if (!conf_valid_name(d->d_name))
			continue;
		fmt_buf(path, sizeof path, "%s/%s", site->services, d->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		vec_push(&v, xstrdup(d->d_name));
	}
	err = errno;
	closedir(dir);
	if (err) {
		conf_free_argv(vec_take(&v));
		return fail(e, "%s: unable to read directory: %s",
		    site->services, strerror(err));
	}
	if (v.n > 1)
		qsort(v.v, v.n, sizeof *v.v, cmp_names);
	*names = vec_take(&v);
	return 0;
}

/* ---- service files ---- */

enum {
	K_DESCRIPTION, K_RUN, K_LOG, K_DIRECTORY, K_ENV, K_PROBE, K_CERT,
	K_RULES, K_SETTLE, K_START_TIMEOUT, K_STOP_TIMEOUT, K_ZAP_GRACE,
	K_MEMORY, K_RELOAD_SIGNAL, K_FLUSH_SIGNAL, K_RESTART, K_RESTART_LIMIT,
	K_BACKOFF_MAX, K_COUNT
};

struct svc_ctx {
	const struct site *site;
	struct service *svc;
	struct vec env;
	size_t env_stored;              /* bytes of the env values so far */
	unsigned long seen[K_COUNT];    /* the line each key was set on */
};

typedef int key_fn(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e);

/* "run" and "log": an argv whose program is not empty. */
static int set_argv(struct svc_ctx *c, const struct conf_kv *kv, char ***argv,
    struct err *e)
{
	if (conf_split(c->site, kv->value, kv->where, argv, e) < 0)
		return -1;
	if (!(*argv)[0] || !(*argv)[0][0])
		return fail(e, "%s: '%s' names no program", kv->where,
		    kv->key);
	return 0;
}

static int key_run(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_argv(c, kv, &c->svc->run, e);
}

static int key_log(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_argv(c, kv, &c->svc->log, e);
}

static int key_description(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	(void)e;
	free(c->svc->description);
	c->svc->description = xstrdup(kv->value);
	return 0;
}

/* directory, cert, rules: one word, absolute, because qmailctl's own
 * working directory is anybody's guess. */
static int set_path(struct svc_ctx *c, const struct conf_kv *kv, char **out,
    struct err *e)
{
	if (expand_word(c->site, kv->value, kv->where, out, e) < 0)
		return -1;
	if ((*out)[0] != '/')
		return fail(e, "%s: '%s' must be an absolute path", kv->where,
		    kv->key);
	return 0;
}

static int key_directory(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_path(c, kv, &c->svc->directory, e);
}

static int key_cert(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_path(c, kv, &c->svc->cert, e);
}

static int key_rules(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_path(c, kv, &c->svc->rules, e);
}

/* env NAME=VALUE: the name is checked as written, only the value is
 * expanded, so no variable can make a name up. */
static int key_env(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	const char *eq = strchr(kv->value, '=');
	size_t n, i;
	char *value;
	struct buf b = { 0 };

	if (!eq)
		return fail(e, "%s: env '" QUOTE "' is not NAME=VALUE",
		    kv->where, kv->value);
	n = (size_t)(eq - kv->value);
	if (!is_ident(kv->value, n))
		return fail(e, "%s: bad env name '%.*s'", kv->where,
		    n > 64 ? 64 : (int)n, kv->value);
	if (n == 4 && strncmp(kv->value, "PATH", 4) == 0)
		return fail(e, "%s: env PATH is not allowed: the site's 'path' "
		    "sets it", kv->where);
	for (i = 0; i < c->env.n; i++)
		if (strncmp(c->env.v[i], kv->value, n + 1) == 0)
			return fail(e, "%s: env '%.*s' set twice", kv->where,
			    (int)n, kv->value);
	if (expand_word(c->site, eq + 1, kv->where, &value, e) < 0)
		return -1;
	c->env_stored += n + 1 + strlen(value);
	if (c->env_stored > STORED_MAX_LEN) {
		free(value);
		return fail(e, "%s: the env lines hold more than %d bytes in all",
		    kv->where, STORED_MAX_LEN);
	}
	buf_add(&b, kv->value, n + 1);
	buf_add(&b, value, strlen(value));
	free(value);
	vec_push(&c->env, buf_take(&b));
	return 0;
}

/* ---- numbers ---- */

/* Digits, optionally a point and up to 'frac' more digits; the result is
 * scaled by 10^frac ("0.5" seconds with frac 3 is 500 ms).  No sign, no
 * blanks, nothing after.  Returns -1 if malformed, -2 if above max. */
static int parse_fixed(const char *s, int frac, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	int decimals = 0, point = 0;

	if (!is_digit(*s))
		return -1;
	for (; *s; s++) {
		if (*s == '.' && !point && frac > 0) {
			point = 1;
			if (!is_digit(s[1]))
				return -1;
			continue;
		}
		if (!is_digit(*s) || (point && ++decimals > frac))
			return -1;
		v = v * 10 + (unsigned long long)(*s - '0');
		if (v > max)
			return -2;
	}
	for (; decimals < frac; decimals++)
		if ((v *= 10) > max)
			return -2;
	*out = v;
	return 0;
}

/* settle, zap_grace (ms) and the timeouts (seconds, up to 3 decimals),
 * all at most a day; a timeout of 0 could never be met. */
static int set_time(const struct conf_kv *kv, int seconds, long *out,
    struct err *e)
{
	unsigned long long v;
	int rc = parse_fixed(kv->value, seconds ? 3 : 0, TIME_MAX_MS, &v);

	if (rc == -1)
		return fail(e, "%s: bad number '" QUOTE "' for '%s'%s",
		    kv->where, kv->value, kv->key, seconds ?
		    " (seconds, up to 3 decimals)" : " (milliseconds)");
	if (rc == -2)
		return fail(e, "%s: '%s' is too large (at most %s)", kv->where,
		    kv->key, seconds ? "86400 seconds" : "86400000 ms");
	if (seconds && v == 0)
		return fail(e, "%s: '%s' must be more than 0", kv->where,
		    kv->key);
	*out = (long)v;
	return 0;
}

static int key_settle(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_time(kv, 0, &c->svc->settle_ms, e);
}

static int key_start_timeout(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_time(kv, 1, &c->svc->start_timeout_ms, e);
}

static int key_stop_timeout(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_time(kv, 1, &c->svc->stop_timeout_ms, e);
}

static int key_zap_grace(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_time(kv, 0, &c->svc->zap_grace_ms, e);
}

/* Bytes, or with a k, m or g suffix (powers of 1024, either case). */
static int key_memory(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	char num[32];
	size_t n = strlen(kv->value);
	unsigned long long v, unit = 1;
	int rc;

	if (n > 0 && strchr("kKmMgG", kv->value[n - 1])) {
		switch (kv->value[--n]) {
		case 'k': case 'K': unit = 1ULL << 10; break;
		case 'm': case 'M': unit = 1ULL << 20; break;
		default: unit = 1ULL << 30; break;
		}
	}
	if (n == 0 || n >= sizeof num)
		rc = -1;
	else {
		memcpy(num, kv->value, n);
		num[n] = '\0';
		rc = parse_fixed(num, 0, MEMORY_MAX / unit, &v);
	}
	if (rc == -1)
		return fail(e, "%s: bad number '" QUOTE "' for 'memory' (bytes, "
		    "or with k, m or g)", kv->where, kv->value);
	if (rc == -2)
		return fail(e, "%s: 'memory' is too large (at most 1024g)",
		    kv->where);
	c->svc->memory = v * unit;
	return 0;
}

/* ---- signals ---- */

/* What reload and flush may send: signals a daemon can catch and act on.
 * KILL and STOP are left out, since neither can mean "reload"; names, not
 * numbers, because numbers differ between systems. */
static const struct {
	const char *name;
	int sig;
} signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "USR1", SIGUSR1 }, { "USR2", SIGUSR2 }, { "ALRM", SIGALRM },
	{ "TERM", SIGTERM }, { "CONT", SIGCONT }, { "WINCH", SIGWINCH },
};

/* HUP or SIGHUP; "none" is 0, the default: the command does nothing. */
static int set_signal(const struct conf_kv *kv, int *out, struct err *e)
{
	const char *name = kv->value;
	size_t i;

	if (strcmp(name, "none") == 0) {
		*out = 0;
		return 0;
	}
	if (strncmp(name, "SIG", 3) == 0)
		name += 3;
	for (i = 0; i < sizeof signals / sizeof signals[0]; i++)
		if (strcmp(name, signals[i].name) == 0) {
			*out = signals[i].sig;
			return 0;
		}
	return fail(e, "%s: unknown signal '" QUOTE "' for '%s' (HUP, INT, "
	    "QUIT, USR1, USR2, ALRM, TERM, CONT, WINCH or none)", kv->where,
	    kv->value, kv->key);
}

static int key_reload_signal(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_signal(kv, &c->svc->reload_signal, e);
}

static int key_flush_signal(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_signal(kv, &c->svc->flush_signal, e);
}

/* ---- probes ---- */

static const struct {
	const char *name;
	enum probe_kind kind;
	int nargs;
	const char *usage;
} probes[] = {
	{ "none", PROBE_NONE, 0, "no arguments" },
	{ "tcp", PROBE_TCP, 3, "HOST PORT EXPECT" },
	{ "tls", PROBE_TLS, 3, "HOST PORT EXPECT" },
	{ "pop3-stls", PROBE_POP3_STLS, 2, "HOST PORT" },
	{ "smtp-starttls", PROBE_SMTP_STARTTLS, 2, "HOST PORT" },
};

/* A port is a number from 1 to 65535 or a name from services(5); it is
 * stored as the number, so the probe and -n show what is really used. */
static int parse_port(const char *s, const char *where, char **out,
    struct err *e)
{
	unsigned long long v;
	struct servent *se;
	char num[8];

	if (is_digit(*s)) {
		if (parse_fixed(s, 0, 65535, &v) < 0 || v == 0)
			return fail(e, "%s: bad port '" QUOTE "'", where, s);
	} else {
		se = *s ? getservbyname(s, "tcp") : NULL;
		if (!se)
			return fail(e, "%s: unknown port '" QUOTE "'", where, s);
		v = ntohs((unsigned short)se->s_port);
	}
	snprintf(num, sizeof num, "%llu", v);
	*out = xstrdup(num);
	return 0;
}

static int fill_probe(struct probe *p, size_t k, char **argv,
    const char *where, struct err *e)
{
	p->kind = probes[k].kind;
	if (probes[k].nargs == 0)
		return 0;
	if (!argv[1][0])
		return fail(e, "%s: empty probe host", where);
	p->host = xstrdup(argv[1]);
	if (parse_port(argv[2], where, &p->port, e) < 0)
		return -1;
	if (probes[k].nargs == 3) {
		if (!argv[3][0])
			return fail(e, "%s: empty probe EXPECT", where);
		p->expect = xstrdup(argv[3]);
	}
	return 0;
}

static int key_probe(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	char **argv;
	size_t k, argc;
	int rc;

	if (conf_split(c->site, kv->value, kv->where, &argv, e) < 0)
		return -1;
	for (argc = 0; argv[argc]; argc++)
		;
	for (k = 0; k < sizeof probes / sizeof probes[0]; k++)
		if (argc > 0 && strcmp(argv[0], probes[k].name) == 0)
			break;
	if (k == sizeof probes / sizeof probes[0])
		rc = fail(e, "%s: unknown probe '" QUOTE "' (none, tcp, tls, "
		    "pop3-stls, smtp-starttls)", kv->where,
		    argc ? argv[0] : "");
	else if (argc - 1 != (size_t)probes[k].nargs)
		rc = fail(e, "%s: probe '%s' takes %s", kv->where,
		    probes[k].name, probes[k].usage);
	else
		rc = fill_probe(&c->svc->probe, k, argv, kv->where, e);
	conf_free_argv(argv);
	return rc;
}

/* ---- supervision keys (service file; the site config's set defaults) ---- */

static int sup_restart(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	if (strcmp(kv->value, "yes") && strcmp(kv->value, "no"))
		return fail(e, "%s: 'restart' must be 'yes' or 'no', not '"
		    QUOTE "'", kv->where, kv->value);
	sup->restart = kv->value[0] == 'y';
	return 0;
}

/* "COUNT SECONDS": COUNT from 1 to 1000, SECONDS as for the timeouts. */
static int sup_limit(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	const char *blank = strchr(kv->value, ' ');
	struct conf_kv secs = *kv;
	unsigned long long n;
	char count[16];

	if (!blank || blank - kv->value >= (long)sizeof count)
		return fail(e, "%s: 'restart_limit' takes COUNT SECONDS, not '"
		    QUOTE "'", kv->where, kv->value);
	memcpy(count, kv->value, (size_t)(blank - kv->value));
	count[blank - kv->value] = 0;
	if (parse_fixed(count, 0, 1000, &n) < 0 || n == 0)
		return fail(e, "%s: bad COUNT '" QUOTE "' for 'restart_limit' "
		    "(1 to 1000)", kv->where, count);
	while (*blank == ' ' || *blank == '\t')
		blank++;
	secs.value = blank;
	if (set_time(&secs, 1, &sup->limit_ms, e) < 0)
		return -1;
	sup->limit_count = (long)n;
	return 0;
}

/* One of restart, restart_limit, backoff_max: 1 if key is one of them
 * (0 if not), -1 on a bad value. */
static int sup_key(const struct conf_kv *kv, struct supervision *sup,
    struct err *e)
{
	int rc;

	if (strcmp(kv->key, "restart") == 0)
		rc = sup_restart(kv, sup, e);
	else if (strcmp(kv->key, "restart_limit") == 0)
		rc = sup_limit(kv, sup, e);
	else if (strcmp(kv->key, "backoff_max") == 0)
		rc = set_time(kv, 0, &sup->backoff_max_ms, e);
	else
		return 0;
	return rc < 0 ? -1 : 1;
}

static int key_sup(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return sup_key(kv, &c->svc->sup, e) < 0 ? -1 : 0;
}

/* ---- service file: dispatch ---- */

static const struct {
	const char *name;
	key_fn *set;
	int repeat;
} keys[K_COUNT] = {
	[K_DESCRIPTION] = { "description", key_description, 0 },
	[K_RUN] = { "run", key_run, 0 },
	[K_LOG] = { "log", key_log, 0 },
	[K_DIRECTORY] = { "directory", key_directory, 0 },
	[K_ENV] = { "env", key_env, 1 },
	[K_PROBE] = { "probe", key_probe, 0 },
	[K_CERT] = { "cert", key_cert, 0 },
	[K_RULES] = { "rules", key_rules, 0 },
	[K_SETTLE] = { "settle", key_settle, 0 },
	[K_START_TIMEOUT] = { "start_timeout", key_start_timeout, 0 },
	[K_STOP_TIMEOUT] = { "stop_timeout", key_stop_timeout, 0 },
	[K_ZAP_GRACE] = { "zap_grace", key_zap_grace, 0 },
	[K_MEMORY] = { "memory", key_memory, 0 },
	[K_RELOAD_SIGNAL] = { "reload_signal", key_reload_signal, 0 },
	[K_FLUSH_SIGNAL] = { "flush_signal", key_flush_signal, 0 },
	[K_RESTART] = { "restart", key_sup, 0 },
	[K_RESTART_LIMIT] = { "restart_limit", key_sup, 0 },
	[K_BACKOFF_MAX] = { "backoff_max", key_sup, 0 },
};

static int service_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct svc_ctx *c = ctx;
	size_t k;

	for (k = 0; k < K_COUNT; k++)
		if (strcmp(kv->key, keys[k].name) == 0)
			break;
	if (k == K_COUNT)
		return fail(e, "%s: unknown key '" QUOTE "'", kv->where,
		    kv->key);
	if (c->seen[k] && !keys[k].repeat)
		return fail(e, "%s: '%s' already set on line %lu", kv->where,
		    kv->key, c->seen[k]);
	c->seen[k] = kv->line;
	if (!*kv->value && k != K_DESCRIPTION)
		return fail(e, "%s: empty value for '%s'", kv->where, kv->key);
	return keys[k].set(c, kv, e);
}

static void service_defaults(struct service *svc)
{
	if (!svc->description)
		svc->description = xstrdup("");
	if (!svc->directory)
		svc->directory = xstrdup("/");
}

static void service_init(struct service *svc, const struct site *site,
    const char *name)
{
	size_t n = strlen(site->services) + strlen(name) + 2;

	memset(svc, 0, sizeof *svc);
	svc->name = xstrdup(name);
	svc->file = xmalloc(n);
	fmt_buf(svc->file, n, "%s/%s", site->services, name);
	svc->probe.kind = PROBE_NONE;
	svc->settle_ms = 200;
	svc->start_timeout_ms = 10000;
	svc->stop_timeout_ms = 30000;
	svc->zap_grace_ms = 100;
	svc->sup = site->sup;
}

int conf_load_service(const struct site *site, const char *name,
    struct service *svc, struct err *e)
{
	struct svc_ctx c;
	struct stat st;
	int rc;

	memset(svc, 0, sizeof *svc);
	if (!conf_valid_name(name))
		return fail(e, "invalid service name '" QUOTE "'", name);
	service_init(svc, site, name);
	/* A missing file is the commonest mistake: a misspelt name. */
	if (stat(svc->file, &st) < 0 && errno == ENOENT) {
		fail(e, "%s: no such service", svc->file);
		conf_free_service(svc);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.site = site;
	c.svc = svc;
	rc = conf_read_file(svc->file, service_line, &c, e);
	svc->env = vec_take(&c.env);
	if (rc == 0 && !svc->run)
		rc = fail(e, "%s: missing 'run'", svc->file);
	if (rc < 0) {
		conf_free_service(svc);
		return -1;
	}
	service_defaults(svc);
	return 0;
}

void conf_free_service(struct service *svc)
{
	free(svc->name);
	free(svc->file);
	free(svc->description);
	conf_free_argv(svc->run);
	conf_free_argv(svc->log);
	free(svc->directory);
	conf_free_argv(svc->env);
	free(svc->probe.host);
	free(svc->probe.port);
	free(svc->probe.expect);
	free(svc->cert);
	free(svc->rules);
	memset(svc, 0, sizeof *svc);
}
