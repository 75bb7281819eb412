/* conf_site.c: the site file (see conf_load_site in conf.h and SITE
 * CONFIGURATION in qmailctl.conf(5)), the service names it may use, and
 * the service directory it names.
 *
 * Every key is a variable for ${key}.  The keys qmailctl itself reads are
 * also checked here, once, into typed fields of struct site, so that a
 * mistake in any of them is a FILE:LINE error at load (exit 6) and no
 * other file reads them raw. */
#include "conf_impl.h"
#include "msg.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* More than ten years' notice of an expiry is a typo. */
#define WARN_DAYS_MAX   3650
/* RFC 1035: a label of at most 63 bytes, a name of at most 253. */
#define LABEL_MAX_LEN   63
#define HOSTNAME_MAX_LEN 253

struct site_ctx {
	struct site *site;
	unsigned long *lines;   /* where each variable was set */
	const char *file;
	size_t stored;          /* bytes of the values so far */
};

/* ---- names ---- */

int conf_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n < 1 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!conf_is_alpha_(name[i]) && !conf_is_digit(name[i]) &&
		    name[i] != '-')
			return 0;
	return 1;
}

/* A name for "default": valid, and not already in v. */
static int check_default_name(const struct conf_vec *v, const char *name,
    const char *where, struct err *e)
{
	size_t i;

	if (!conf_valid_name(name))
		return err_set(e, "%s: bad service name '" QUOTE "' in "
		    "'default'", where, name);
	for (i = 0; i < v->n; i++)
		if (strcmp(v->v[i], name) == 0)
			return err_set(e, "%s: '%s' listed twice in 'default'",
			    where, name);
	return 0;
}

/* "default": blank-separated names; empty is an empty set. */
static int parse_default_names(struct site *site, const char *value,
    const char *where, struct err *e)
{
	struct conf_vec v = { 0 };
	const char *p = value, *q;
	size_t n;
	char *name;

	for (;;) {
		while (conf_is_blank(*p))
			p++;
		if (!*p)
			break;
		for (q = p; *q && !conf_is_blank(*q); q++)
			;
		n = (size_t)(q - p);
		name = xmalloc(n + 1);
		memcpy(name, p, n);
		name[n] = '\0';
		if (check_default_name(&v, name, where, e) < 0) {
			free(name);
			conf_free_argv(conf_vec_take(&v));
			return -1;
		}
		conf_vec_push(&v, name);
		p = q;
	}
	conf_free_argv(site->names);
	site->names = conf_vec_take(&v);
	return 0;
}

int conf_valid_hostname(const char *s)
{
	size_t n = strlen(s), label = 0, i;

	for (i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0 || s[i - 1] == '-')
				return 0;
			label = 0;
		} else if (s[i] == '-' && label == 0) {
			return 0;
		} else if (s[i] == '_' || (!conf_is_alpha_(s[i]) &&
		    !conf_is_digit(s[i]) && s[i] != '-')) {
			return 0;
		} else if (++label > LABEL_MAX_LEN) {
			return 0;
		}
	}
	return n <= HOSTNAME_MAX_LEN;
}

/* ---- the keys qmailctl reads ---- */

/* A relative path names something beside the site file, wherever
 * qmailctl was started; the result is absolute, because the elements run
 * in their own directories. */
static int resolve_site_path(const char *file, const char *path, char **out,
    struct err *e)
{
	struct conf_buf b = { 0 };
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
			return err_sys(e, "%s: unable to find the current "
			    "directory", file);
		conf_buf_add(&b, cwd, strlen(cwd));
		if (b.len > 1)
			conf_buf_addc(&b, '/');
	}
	if (slash) {
		conf_buf_add(&b, file, dirlen);
		conf_buf_addc(&b, '/');
	}
	conf_buf_add(&b, path, strlen(path));
	*out = conf_buf_take(&b);
	return 0;
}

/* Each setter gets the expanded value; it may replace it (a resolved
 * path), and what it leaves is the variable's value. */
typedef int site_key_fn(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e);

/* services, rundir, cert: a path beside the site file, made absolute; the
 * variable gets the absolute path too, so that ${services} is absolute
 * in the service files. */
static int set_site_path(struct site_ctx *c, char **value, char **field,
    struct err *e)
{
	char *v;

	if (resolve_site_path(c->file, *value, &v, e) < 0)
		return -1;
	free(*value);
	*value = v;
	free(*field);
	*field = xstrdup(v);
	return 0;
}

static int site_key_services(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	(void)kv;
	return set_site_path(c, value, &c->site->services, e);
}

static int site_key_rundir(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	(void)kv;
	return set_site_path(c, value, &c->site->rundir, e);
}

static int site_key_cert(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	(void)kv;
	return set_site_path(c, value, &c->site->cert, e);
}

static int site_key_path(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	(void)kv;
	(void)e;
	c->site->path = xstrdup(*value);
	return 0;
}

static int site_key_default(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	return parse_default_names(c->site, *value, kv->where, e);
}

static int site_key_cgroup(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	if (strcmp(*value, "auto") == 0)
		c->site->cgroup = SITE_CGROUP_AUTO;
	else if (strcmp(*value, "no") == 0)
		c->site->cgroup = SITE_CGROUP_NO;
	else
		return err_set(e, "%s: bad value '" QUOTE "' for 'cgroup' "
		    "(auto or no)", kv->where, *value);
	return 0;
}

static int site_key_cert_warn_days(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	unsigned long long days;

	if (conf_parse_fixed(*value, 0, WARN_DAYS_MAX, &days) < 0)
		return err_set(e, "%s: bad number '" QUOTE "' for "
		    "'cert_warn_days' (whole days from 0 to %d)", kv->where,
		    *value, WARN_DAYS_MAX);
	c->site->cert_warn_days = (long)days;
	return 0;
}

static int site_key_hostname(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	if (!conf_valid_hostname(*value))
		return err_set(e, "%s: bad host name '" QUOTE "' for "
		    "'hostname' (labels of letters, digits and '-', joined "
		    "by dots)", kv->where, *value);
	c->site->hostname = xstrdup(*value);
	return 0;
}

/* qmail's home is compiled into qmail: it is where qmail is, not a place
 * beside this file, so a relative one is a mistake. */
static int site_key_qmail(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	if ((*value)[0] != '/')
		return err_set(e, "%s: 'qmail' must be an absolute path",
		    kv->where);
	c->site->qmail = xstrdup(*value);
	return 0;
}

static int site_key_statedir(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	(void)kv;
	return set_site_path(c, value, &c->site->statedir, e);
}

/* check_queue_warn, _crit (messages), check_queue_age_warn, _crit
 * (seconds): check's queue thresholds, in the order of enum queue_limit. */
const char *const conf_queue_limit_keys[QUEUE_LIMITS] = {
	"check_queue_warn", "check_queue_crit",
	"check_queue_age_warn", "check_queue_age_crit",
};

static int site_key_queue_limit(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	unsigned long long n;
	int i;

	for (i = 0; i < QUEUE_LIMITS; i++)
		if (strcmp(kv->key, conf_queue_limit_keys[i]) == 0)
			break;
	if (conf_parse_fixed(*value, 0, QUEUE_LIMIT_MAX, &n) < 0)
		return err_set(e, "%s: bad number '" QUOTE "' for '%s' (a "
		    "whole number from 0 to %llu)", kv->where, *value,
		    kv->key, (unsigned long long)QUEUE_LIMIT_MAX);
	c->site->queue_limit[i] = (long long)n;
	return 0;
}

/* restart, restart_limit, backoff_max: every service's default
 * (conf_sup.c, as in a service file). */
static int site_key_supervision(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	struct conf_kv expanded = *kv;

	expanded.value = *value;
	return conf_supervision_key(&expanded, &c->site->sup, e) < 0 ? -1 : 0;
}

/* check is WARNING this many seconds after a service restarted. */
static int site_key_check_restart_window(struct site_ctx *c,
    const struct conf_kv *kv, char **value, struct err *e)
{
	struct conf_kv expanded = *kv;

	expanded.value = *value;
	return conf_parse_duration(&expanded, 1,
	    &c->site->check_restart_window_ms, e);
}

/* empty_ok: an empty value means something ("default =" is no service);
 * for the others it is a mistake, not a way to ask for the default. */
static const struct {
	const char *name;
	site_key_fn *set;
	int empty_ok;
} site_keys[] = {
	{ "services", site_key_services, 0 },
	{ "rundir", site_key_rundir, 0 },
	{ "default", site_key_default, 1 },
	{ "path", site_key_path, 0 },
	{ "cgroup", site_key_cgroup, 0 },
	{ "cert_warn_days", site_key_cert_warn_days, 0 },
	{ "hostname", site_key_hostname, 0 },
	{ "qmail", site_key_qmail, 0 },
	{ "cert", site_key_cert, 0 },
	{ "statedir", site_key_statedir, 0 },
	{ "check_queue_warn", site_key_queue_limit, 0 },
	{ "check_queue_crit", site_key_queue_limit, 0 },
	{ "check_queue_age_warn", site_key_queue_limit, 0 },
	{ "check_queue_age_crit", site_key_queue_limit, 0 },
	{ "restart", site_key_supervision, 0 },
	{ "restart_limit", site_key_supervision, 0 },
	{ "backoff_max", site_key_supervision, 0 },
	{ "check_restart_window", site_key_check_restart_window, 0 },
};

static int set_site_key(struct site_ctx *c, const struct conf_kv *kv,
    char **value, struct err *e)
{
	size_t k;

	for (k = 0; k < sizeof site_keys / sizeof site_keys[0]; k++)
		if (strcmp(kv->key, site_keys[k].name) == 0)
			break;
	if (k == sizeof site_keys / sizeof site_keys[0])
		return 0;       /* a variable only */
	if (!**value && !site_keys[k].empty_ok)
		return err_set(e, "%s: empty '%s'", kv->where, kv->key);
	return site_keys[k].set(c, kv, value, e);
}

/* ---- the file ---- */

static void add_site_var(struct site_ctx *c, const char *key, char *value,
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

/* Site values are expanded once, when they are defined, from the
 * variables of earlier lines: "logdir = ${qmail}/log" works, a forward
 * reference is an undefined variable.  What is stored is final, so using
 * it later never expands anything again. */
static int site_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct site_ctx *c = ctx;
	size_t i;
	char *value;

	if (strlen(kv->key) > KEY_MAX_LEN || !conf_is_ident(kv->key,
	    strlen(kv->key)))
		return err_set(e, "%s: bad key '" QUOTE "' (letters, digits "
		    "and _ only)", kv->where, kv->key);
	for (i = 0; i < c->site->nvars; i++)
		if (strcmp(c->site->vars[i].key, kv->key) == 0)
			return err_set(e, "%s: '%s' already set on line %lu",
			    kv->where, kv->key, c->lines[i]);
	if (conf_expand_word(c->site, kv->value, kv->where, &value, e) < 0)
		return -1;
	c->stored += strlen(value);
	if (c->stored > STORED_MAX_LEN) {
		free(value);
		return err_set(e, "%s: the variables hold more than %d bytes "
		    "in all", kv->where, STORED_MAX_LEN);
	}
	if (set_site_key(c, kv, &value, e) < 0) {
		free(value);
		return -1;
	}
	add_site_var(c, kv->key, value, kv->line);
	return 0;
}

/* A key the file did not set gets its default, as a variable too. */
static void default_var(struct site_ctx *c, char **field, const char *key,
    const char *value)
{
	if (*field)
		return;
	*field = xstrdup(value);
	add_site_var(c, key, xstrdup(value), 0);
}

/* The variables of the typed keys that are not strings, when not set. */
static void default_number_vars(struct site_ctx *c)
{
	char days[24];

	if (!conf_site_var(c->site, "cgroup"))
		add_site_var(c, "cgroup", xstrdup("auto"), 0);
	if (!conf_site_var(c->site, "cert_warn_days")) {
		fmt_buf(days, sizeof days, "%ld", c->site->cert_warn_days);
		add_site_var(c, "cert_warn_days", xstrdup(days), 0);
	}
}

static int site_defaults(struct site_ctx *c, struct err *e)
{
	struct site *s = c->site;
	char *v;

	if (!s->services) {
		if (resolve_site_path(c->file, "services", &v, e) < 0)
			return -1;
		default_var(c, &s->services, "services", v);
		free(v);
	}
	default_var(c, &s->rundir, "rundir", CONF_DEFAULT_RUNDIR);
	default_var(c, &s->path, "path", CONF_DEFAULT_PATH);
	default_var(c, &s->qmail, "qmail", CONF_DEFAULT_QMAIL);
	default_var(c, &s->statedir, "statedir", CONF_DEFAULT_STATEDIR);
	if (!s->names) {
		parse_default_names(s, CONF_DEFAULT_NAMES, "default", e);
		add_site_var(c, "default", xstrdup(CONF_DEFAULT_NAMES), 0);
	}
	default_number_vars(c);
	return 0;
}

int conf_load_site(const char *file, struct site *site, struct err *e)
{
	struct site_ctx c;
	int rc;

	memset(site, 0, sizeof *site);
	site->file = xstrdup(file);
	site->cgroup = SITE_CGROUP_AUTO;
	site->cert_warn_days = CONF_DEFAULT_CERT_WARN_DAYS;
	site->sup = (struct supervision){ 1, SUP_LIMIT_COUNT_DEFAULT,
	    SUP_LIMIT_MS_DEFAULT, SUP_BACKOFF_MAX_MS_DEFAULT };
	site->check_restart_window_ms = CHECK_RESTART_WINDOW_MS_DEFAULT;
	for (rc = 0; rc < QUEUE_LIMITS; rc++)
		site->queue_limit[rc] = -1;
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
	free(site->hostname);
	free(site->qmail);
	free(site->cert);
	free(site->statedir);
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
	struct conf_vec v = { 0 };
	struct dirent *d;
	struct stat st;
	char path[8192];
	DIR *dir;
	int err;

	*names = NULL;
	dir = opendir(site->services);
	if (!dir)
		return err_sys(e, "%s: unable to open directory",
		    site->services);
	for (errno = 0; (d = readdir(dir)); errno = 0) {
		if (!conf_valid_name(d->d_name))
			continue;
		fmt_buf(path, sizeof path, "%s/%s", site->services, d->d_name);
		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
			continue;
		conf_vec_push(&v, xstrdup(d->d_name));
	}
	err = errno;
	closedir(dir);
	if (err) {
		conf_free_argv(conf_vec_take(&v));
		errno = err;
		return err_sys(e, "%s: unable to read directory",
		    site->services);
	}
	if (v.n > 1)
		qsort(v.v, v.n, sizeof *v.v, cmp_names);
	*names = conf_vec_take(&v);
	return 0;
}
