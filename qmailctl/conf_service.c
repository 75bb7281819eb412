/* conf_service.c: the service files (see conf_load_service in conf.h and
 * SERVICE FILES in qmailctl.conf(5)).
 *
 * The table of keys comes first: to add a key, add a row, its setter
 * below, its field in struct service (conf.h), and its entry in
 * qmailctl.conf(5).  A setter gets one "key = value" line, already
 * trimmed, with its FILE:LINE, and either fills the service or says, in
 * one line naming FILE:LINE, what is wrong with the value. */
#include "conf_impl.h"
#include "msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct svc_ctx;
typedef int key_fn(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e);

static key_fn key_description, key_run, key_log, key_directory, key_env,
    key_probe, key_cert, key_rules, key_settle, key_start_timeout,
    key_stop_timeout, key_zap_grace, key_memory, key_reload_signal,
    key_flush_signal, key_supervision;

/* ---- the keys ---- */

enum {
	ONCE = 0,
	REPEAT = 1,             /* may be given on many lines (env) */
	EMPTY_OK = 2,           /* an empty value is a value (description) */
};

static const struct {
	const char *name;
	key_fn *set;
	int flags;
} service_keys[] = {
	{ "description", key_description, EMPTY_OK },
	{ "run", key_run, ONCE },
	{ "log", key_log, ONCE },
	{ "directory", key_directory, ONCE },
	{ "env", key_env, REPEAT },
	{ "probe", key_probe, ONCE },
	{ "cert", key_cert, ONCE },
	{ "rules", key_rules, ONCE },
	{ "settle", key_settle, ONCE },
	{ "start_timeout", key_start_timeout, ONCE },
	{ "stop_timeout", key_stop_timeout, ONCE },
	{ "zap_grace", key_zap_grace, ONCE },
	{ "memory", key_memory, ONCE },
	{ "reload_signal", key_reload_signal, ONCE },
	{ "flush_signal", key_flush_signal, ONCE },
	{ "restart", key_supervision, ONCE },
	{ "restart_limit", key_supervision, ONCE },
	{ "backoff_max", key_supervision, ONCE },
};

#define NKEYS (sizeof service_keys / sizeof service_keys[0])

/* The defaults of the keys that are not set (conf.h, struct service). */
#define SETTLE_MS_DEFAULT        200
#define START_TIMEOUT_MS_DEFAULT 10000
#define STOP_TIMEOUT_MS_DEFAULT  30000
#define ZAP_GRACE_MS_DEFAULT     100

/* No wait, grace or settle time is sensibly longer than a day. */
/* 1 TiB: a larger "limit" is a typo, not a limit. */
#define MEMORY_MAX      (1ULL << 40)

struct svc_ctx {
	const struct site *site;
	struct service *svc;
	struct conf_vec env;
	size_t env_stored;              /* bytes of the env values so far */
	unsigned long seen[NKEYS];      /* the line each key was set on */
};

/* ---- commands and text ---- */

/* "run" and "log": an argv whose program is not empty. */
static int set_command(struct svc_ctx *c, const struct conf_kv *kv,
    char ***argv, struct err *e)
{
	if (conf_split(c->site, kv->value, kv->where, argv, e) < 0)
		return -1;
	if (!(*argv)[0] || !(*argv)[0][0])
		return err_set(e, "%s: '%s' names no program", kv->where,
		    kv->key);
	return 0;
}

static int key_run(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_command(c, kv, &c->svc->run, e);
}

static int key_log(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_command(c, kv, &c->svc->log, e);
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
static int set_abs_path(struct svc_ctx *c, const struct conf_kv *kv,
    char **out, struct err *e)
{
	if (conf_expand_word(c->site, kv->value, kv->where, out, e) < 0)
		return -1;
	if ((*out)[0] != '/')
		return err_set(e, "%s: '%s' must be an absolute path",
		    kv->where, kv->key);
	return 0;
}

static int key_directory(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_abs_path(c, kv, &c->svc->directory, e);
}

static int key_cert(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_abs_path(c, kv, &c->svc->cert, e);
}

static int key_rules(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return set_abs_path(c, kv, &c->svc->rules, e);
}

/* env NAME=VALUE: the name is checked as written, only the value is
 * expanded, so no variable can make a name up. */
static int key_env(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	const char *eq = strchr(kv->value, '=');
	size_t n, i;
	char *value;
	struct conf_buf b = { 0 };

	if (!eq)
		return err_set(e, "%s: env '" QUOTE "' is not NAME=VALUE",
		    kv->where, kv->value);
	n = (size_t)(eq - kv->value);
	if (!conf_is_ident(kv->value, n))
		return err_set(e, "%s: bad env name '%.*s'", kv->where,
		    n > 64 ? 64 : (int)n, kv->value);
	if (n == 4 && strncmp(kv->value, "PATH", 4) == 0)
		return err_set(e, "%s: env PATH is not allowed: the site's "
		    "'path' sets it", kv->where);
	for (i = 0; i < c->env.n; i++)
		if (strncmp(c->env.v[i], kv->value, n + 1) == 0)
			return err_set(e, "%s: env '%.*s' set twice",
			    kv->where, (int)n, kv->value);
	if (conf_expand_word(c->site, eq + 1, kv->where, &value, e) < 0)
		return -1;
	c->env_stored += n + 1 + strlen(value);
	if (c->env_stored > STORED_MAX_LEN) {
		free(value);
		return err_set(e, "%s: the env lines hold more than %d bytes "
		    "in all", kv->where, STORED_MAX_LEN);
	}
	conf_buf_add(&b, kv->value, n + 1);
	conf_buf_add(&b, value, strlen(value));
	free(value);
	conf_vec_push(&c->env, conf_buf_take(&b));
	return 0;
}

/* ---- numbers ---- */


static int key_settle(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return conf_parse_duration(kv, 0, &c->svc->settle_ms, e);
}

static int key_start_timeout(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return conf_parse_duration(kv, 1, &c->svc->start_timeout_ms, e);
}

static int key_stop_timeout(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return conf_parse_duration(kv, 1, &c->svc->stop_timeout_ms, e);
}

static int key_zap_grace(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return conf_parse_duration(kv, 0, &c->svc->zap_grace_ms, e);
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
		rc = conf_parse_fixed(num, 0, MEMORY_MAX / unit, &v);
	}
	if (rc == -1)
		return err_set(e, "%s: bad number '" QUOTE "' for 'memory' "
		    "(bytes, or with k, m or g)", kv->where, kv->value);
	if (rc == -2)
		return err_set(e, "%s: 'memory' is too large (at most 1024g)",
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
static int parse_signal_key(const struct conf_kv *kv, int *out,
    struct err *e)
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
	return err_set(e, "%s: unknown signal '" QUOTE "' for '%s' (HUP, "
	    "INT, QUIT, USR1, USR2, ALRM, TERM, CONT, WINCH or none)",
	    kv->where, kv->value, kv->key);
}

static int key_reload_signal(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return parse_signal_key(kv, &c->svc->reload_signal, e);
}

static int key_flush_signal(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return parse_signal_key(kv, &c->svc->flush_signal, e);
}

/* restart, restart_limit, backoff_max: conf_sup.c, as in the site file. */
static int key_supervision(struct svc_ctx *c, const struct conf_kv *kv,
    struct err *e)
{
	return conf_supervision_key(kv, &c->svc->sup, e) < 0 ? -1 : 0;
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

	if (conf_is_digit(*s)) {
		if (conf_parse_fixed(s, 0, 65535, &v) < 0 || v == 0)
			return err_set(e, "%s: bad port '" QUOTE "'", where, s);
	} else {
		se = *s ? getservbyname(s, "tcp") : NULL;
		if (!se)
			return err_set(e, "%s: unknown port '" QUOTE "'", where,
			    s);
		v = ntohs((unsigned short)se->s_port);
	}
	snprintf(num, sizeof num, "%llu", v);
	*out = xstrdup(num);
	return 0;
}

/* EXPECT is a prefix of the greeting line, and the probe reads at most
 * PROBE_LINE_MAX bytes of it, its newline included: a longer EXPECT could
 * never match, and every start would wait out its timeout to say so. */
static int check_expect(const char *expect, const char *where,
    struct err *e)
{
	size_t n = strlen(expect);

	if (n == 0)
		return err_set(e, "%s: empty probe EXPECT", where);
	if (n > PROBE_EXPECT_MAX)
		return err_set(e, "%s: probe EXPECT of %zu bytes can never "
		    "match: a greeting line holds at most %d bytes", where, n,
		    PROBE_EXPECT_MAX);
	return 0;
}

static int fill_probe(struct probe *p, size_t k, char **argv,
    const char *where, struct err *e)
{
	p->kind = probes[k].kind;
	if (probes[k].nargs == 0)
		return 0;
	if (!argv[1][0])
		return err_set(e, "%s: empty probe host", where);
	p->host = xstrdup(argv[1]);
	if (parse_port(argv[2], where, &p->port, e) < 0)
		return -1;
	if (probes[k].nargs == 3) {
		if (check_expect(argv[3], where, e) < 0)
			return -1;
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
		rc = err_set(e, "%s: unknown probe '" QUOTE "' (none, tcp, "
		    "tls, pop3-stls, smtp-starttls)", kv->where,
		    argc ? argv[0] : "");
	else if (argc - 1 != (size_t)probes[k].nargs)
		rc = err_set(e, "%s: probe '%s' takes %s", kv->where,
		    probes[k].name, probes[k].usage);
	else
		rc = fill_probe(&c->svc->probe, k, argv, kv->where, e);
	conf_free_argv(argv);
	return rc;
}

/* ---- loading ---- */

static int service_line(void *ctx, const struct conf_kv *kv, struct err *e)
{
	struct svc_ctx *c = ctx;
	size_t k;

	for (k = 0; k < NKEYS; k++)
		if (strcmp(kv->key, service_keys[k].name) == 0)
			break;
	if (k == NKEYS)
		return err_set(e, "%s: unknown key '" QUOTE "'", kv->where,
		    kv->key);
	if (c->seen[k] && !(service_keys[k].flags & REPEAT))
		return err_set(e, "%s: '%s' already set on line %lu",
		    kv->where, kv->key, c->seen[k]);
	c->seen[k] = kv->line;
	if (!*kv->value && !(service_keys[k].flags & EMPTY_OK))
		return err_set(e, "%s: empty value for '%s'", kv->where,
		    kv->key);
	return service_keys[k].set(c, kv, e);
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
	svc->settle_ms = SETTLE_MS_DEFAULT;
	svc->start_timeout_ms = START_TIMEOUT_MS_DEFAULT;
	svc->stop_timeout_ms = STOP_TIMEOUT_MS_DEFAULT;
	svc->zap_grace_ms = ZAP_GRACE_MS_DEFAULT;
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
		return err_set(e, "invalid service name '" QUOTE "'", name);
	service_init(svc, site, name);
	/* A missing file is the commonest mistake: a misspelt name. */
	if (stat(svc->file, &st) < 0 && errno == ENOENT) {
		err_set(e, "%s: no such service", svc->file);
		conf_free_service(svc);
		return -1;
	}
	memset(&c, 0, sizeof c);
	c.site = site;
	c.svc = svc;
	rc = conf_read_file(svc->file, service_line, &c, e);
	svc->env = conf_vec_take(&c.env);
	if (rc == 0 && !svc->run)
		rc = err_set(e, "%s: missing 'run'", svc->file);
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
