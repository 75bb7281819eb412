/* conf_lex.c: the words of configuration values (see conf.h and
 * qmailctl.conf(5)): splitting a command line into argv, the one-word
 * values, ${var}, ${uid:NAME} and ${gid:NAME} expansion, and numbers.
 * The bottom of the configuration layer (conf_impl.h): it knows nothing of
 * files or keys, only of text, a site's variables and a FILE:LINE to name.
 *
 * Values are never given to a shell: command lines are split here, by
 * rules small enough to state in the man page, and ${var} is expanded
 * once, after splitting. */
#include "conf_impl.h"
#include "msg.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* uid_t and gid_t are 32 bits; (uid_t)-1 means "unchanged" to the kernel. */
#define ID_MAX          4294967294ULL

/* ---- growing strings and arrays ---- */

void conf_buf_add(struct conf_buf *b, const char *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void conf_buf_addc(struct conf_buf *b, char c)
{
	conf_buf_add(b, &c, 1);
}

char *conf_buf_take(struct conf_buf *b)
{
	char *s = b->s ? b->s : xstrdup("");

	b->s = NULL;
	b->len = b->cap = 0;
	return s;
}

void conf_vec_push(struct conf_vec *v, char *s)
{
	if (v->n + 2 > v->cap) {
		v->cap = (v->n + 2) * 2;
		v->v = xrealloc(v->v, v->cap * sizeof *v->v);
	}
	v->v[v->n++] = s;
	v->v[v->n] = NULL;
}

char **conf_vec_take(struct conf_vec *v)
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

/* ---- characters and numbers ---- */

int conf_is_ident(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || !conf_is_alpha_(s[0]))
		return 0;
	for (i = 1; i < n; i++)
		if (!conf_is_alpha_(s[i]) && !conf_is_digit(s[i]))
			return 0;
	return 1;
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!conf_is_digit(*s))
			return 0;
	return 1;
}

int conf_parse_fixed(const char *s, int frac, unsigned long long max,
    unsigned long long *out)
{
	unsigned long long v = 0;
	int decimals = 0, point = 0;

	if (!conf_is_digit(*s))
		return -1;
	for (; *s; s++) {
		if (*s == '.' && !point && frac > 0) {
			point = 1;
			if (!conf_is_digit(s[1]))
				return -1;
			continue;
		}
		if (!conf_is_digit(*s) || (point && ++decimals > frac))
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

/* ---- expansion ---- */

/* Here rather than beside the site loader, because expansion is what
 * reads the variables: the site file fills them (conf_site.c), a layer
 * above, so the calls go one way. */
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
			return err_set(e, "%s: bad %s id '" QUOTE "'", where,
			    what, who);
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
			return err_sys(e, "%s: unable to look up %s '" QUOTE
			    "'", where, what, who);
		return err_set(e, "%s: unknown %s '" QUOTE "'", where, what,
		    who);
	}
	*id = group ? (unsigned long long)gr->gr_gid :
	    (unsigned long long)pw->pw_uid;
	return 0;
}

/* ${uid:NAME} and ${gid:NAME}.  When the site defines a variable NAME, its
 * value is the user or group to look up (one step, not recursive), so a
 * site maps qmail's users without editing service files: "qmaild = mailin". */
static int expand_id(const struct site *site, int group, const char *name,
    size_t n, struct conf_buf *out, const char *where, struct err *e)
{
	const char *who;
	char key[256], num[24];
	unsigned long long id = 0;

	if (n == 0)
		return err_set(e, "%s: empty %s name in '${%s:}'", where,
		    group ? "group" : "user", group ? "gid" : "uid");
	if (n >= sizeof key)
		return err_set(e, "%s: %s name too long", where,
		    group ? "group" : "user");
	memcpy(key, name, n);
	key[n] = '\0';
	who = conf_site_var(site, key);
	if (lookup_id(group, who ? who : key, &id, where, e) < 0)
		return -1;
	snprintf(num, sizeof num, "%llu", id);
	conf_buf_add(out, num, strlen(num));
	return 0;
}

/* *pp points at "${"; on success it is left at the closing '}'.  The value
 * is appended as it is: expansion is not recursive, a value containing
 * ${x} is inserted literally.  That guarantees termination and means a
 * site variable can never smuggle in quotes or more words. */
static int expand_reference(const struct site *site, const char **pp,
    struct conf_buf *out, const char *where, struct err *e)
{
	const char *name = *pp + 2, *end = strchr(name, '}');
	const char *value;
	size_t n;
	char key[KEY_MAX_LEN + 1];

	if (!end)
		return err_set(e, "%s: unterminated '${'", where);
	n = (size_t)(end - name);
	*pp = end;
	if (n >= 4 && (strncmp(name, "uid:", 4) == 0 ||
	    strncmp(name, "gid:", 4) == 0))
		return expand_id(site, name[0] == 'g', name + 4, n - 4, out,
		    where, e);
	if (n == 0)
		return err_set(e, "%s: empty variable name '${}'", where);
	if (n > KEY_MAX_LEN || !conf_is_ident(name, n))
		return err_set(e, "%s: bad variable name '%.*s'", where,
		    n > KEY_MAX_LEN ? KEY_MAX_LEN : (int)n, name);
	memcpy(key, name, n);
	key[n] = '\0';
	value = conf_site_var(site, key);
	if (!value)
		return err_set(e, "%s: undefined variable '%s'", where, key);
	conf_buf_add(out, value, strlen(value));
	return 0;
}

/* ---- splitting ---- */

/* The lexer behind conf_split and the one-word values.  With split set,
 * blanks separate words and double quotes group (a quoted "" is an empty
 * word); without it, blanks and quotes are ordinary characters and the
 * result is exactly one word.  Either way a backslash takes the next
 * character literally (so \$ is a dollar) and ${...} is replaced by its
 * value.  Expanding while scanning is the same as expanding after
 * splitting, because a value is never scanned again: it cannot change the
 * word count. */
static int scan_words(const struct site *site, const char *text, int split,
    const char *where, struct conf_vec *words, struct err *e)
{
	struct conf_buf w = { 0 };
	int inword = 0, quoted = 0;
	size_t done = 0;        /* bytes in the words already pushed */
	const char *p;

	for (p = text; *p; p++) {
		if (*p == '\\') {
			if (!p[1]) {
				free(w.s);
				return err_set(e, "%s: trailing backslash",
				    where);
			}
			conf_buf_addc(&w, *++p);
		} else if (split && *p == '"') {
			quoted = !quoted;
		} else if (split && !quoted && conf_is_blank(*p)) {
			done += w.len;
			if (inword)
				conf_vec_push(words, conf_buf_take(&w));
			inword = 0;
			continue;
		} else if (p[0] == '$' && p[1] == '{') {
			if (expand_reference(site, &p, &w, where, e) < 0) {
				free(w.s);
				return -1;
			}
			if (done + w.len > VALUE_MAX_LEN) {
				free(w.s);
				return err_set(e, "%s: longer than %d bytes "
				    "once expanded", where, VALUE_MAX_LEN);
			}
		} else {
			conf_buf_addc(&w, *p);
		}
		inword = 1;
	}
	if (quoted) {
		free(w.s);
		return err_set(e, "%s: unterminated quote", where);
	}
	if (done + w.len > VALUE_MAX_LEN) {     /* text after the last ${} */
		free(w.s);
		return err_set(e, "%s: longer than %d bytes once expanded",
		    where, VALUE_MAX_LEN);
	}
	if (inword || !split)
		conf_vec_push(words, conf_buf_take(&w));
	return 0;
}

int conf_split(const struct site *site, const char *text, const char *where,
    char ***argv, struct err *e)
{
	struct conf_vec words = { 0 };

	*argv = NULL;
	if (scan_words(site, text, 1, where ? where : "(text)", &words,
	    e) < 0) {
		conf_free_argv(conf_vec_take(&words));
		return -1;
	}
	*argv = conf_vec_take(&words);
	return 0;
}

int conf_expand_word(const struct site *site, const char *text,
    const char *where, char **out, struct err *e)
{
	struct conf_vec words = { 0 };

	*out = NULL;
	if (scan_words(site, text, 0, where, &words, e) < 0) {
		conf_free_argv(conf_vec_take(&words));
		return -1;
	}
	*out = words.v[0];
	free(words.v);
	return 0;
}

/* settle, zap_grace (ms) and the timeouts (seconds, up to 3 decimals),
 * all at most a day; a timeout of 0 could never be met. */
int conf_parse_duration(const struct conf_kv *kv, int seconds,
    long *out, struct err *e)
{
	unsigned long long v;
	int rc = conf_parse_fixed(kv->value, seconds ? 3 : 0, TIME_MAX_MS,
	    &v);

	if (rc == -1)
		return err_set(e, "%s: bad number '" QUOTE "' for '%s'%s",
		    kv->where, kv->value, kv->key, seconds ?
		    " (seconds, up to 3 decimals)" : " (milliseconds)");
	if (rc == -2)
		return err_set(e, "%s: '%s' is too large (at most %s)",
		    kv->where, kv->key, seconds ? "86400 seconds" :
		    "86400000 ms");
	if (seconds && v == 0)
		return err_set(e, "%s: '%s' must be more than 0", kv->where,
		    kv->key);
	*out = (long)v;
	return 0;
}
