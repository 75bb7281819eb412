/* fuzz_conf.c: the configuration layer (qmailctl/conf_*.c) under a fuzzer.
 *
 * An input is written to real files and read back by the very functions
 * qmailctl uses, so the file reading is fuzzed with the parsing:
 *
 *   - An input with a line "%%" is a site config (before it) and a service
 *     file (after it): the site is loaded with conf_load_site, the service
 *     with conf_load_service against it, or against the base site below
 *     if the site was refused.
 *   - Any other input is tried three ways: as a site config, as a service
 *     file of the base site, and (up to its first NUL) as a command line
 *     for conf_split.
 *
 * What is checked, beyond "no crash, no leak, no undefined behaviour":
 *   - a refusal is one printable line (no control character but tab)
 *     that starts with the file's name (SPEC: errors name the file and
 *     line);
 *   - a loaded site has absolute services and rundir, a path, valid and
 *     distinct default names, identifier keys, and variables that agree
 *     with the builtin fields; expansion never multiplies a file into more
 *     memory than the bounds of conf.h (64 KB a value, 16 MB in all);
 *   - its typed keys hold what qmailctl.conf(5) allows: cgroup auto or no,
 *     cert_warn_days from 0 to 3650, an absolute qmail and cert, a host
 *     name of letters, digits, '-' and '.', each equal to its variable;
 *   - a loaded service has a program to run, absolute paths, NAME=VALUE
 *     environment entries with distinct names and no PATH, a well-formed
 *     probe whose EXPECT fits in the greeting line the probe reads, and
 *     numbers within the documented bounds;
 *   - conf_split's words, printed by plan_argv (what -n shows), split back
 *     to the same words: -n shows exactly what would run;
 *   - the number of words never depends on the values of the variables
 *     (conf.h: "a value never changes the word count"): the same text
 *     split against a site whose values differ gives as many words. */
#include "fuzz.h"
#include "msg.h"
#include "multilog.h"
#include "tcpserver.h"
#include "conf.h"
#include "plan.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define SEPARATOR "\n%%\n"
/* The bounds the loader promises (qmailctl.conf(5)). */
#define TIME_MAX_MS (86400L * 1000)
#define MEMORY_MAX (1ULL << 40)
#define WARN_DAYS_MAX 3650
/* What a value may hold once expanded, and what a file's values (site
 * variables, env lines) may hold in all: expansion must not multiply. */
#define VALUE_MAX (64 * 1024)
#define STORED_MAX (16 * 1024 * 1024)

/* The variables of the shipped qmailctl.conf, so that the service files
 * of services/ (the seed corpus) load; the users are root so that
 * ${uid:...} and ${gid:...} succeed here.  b and q hold blanks and quotes:
 * they must never add words. */
#define BASE_VARS \
	"path = /usr/bin:/bin\n" \
	"qmail = /var/qmail\n" \
	"etc = /etc/qmailctl\n" \
	"logdir = /var/log/qmail\n" \
	"rules = /etc/tcp\n" \
	"cert_warn_days = 30\n" \
	"ip = 0\n" \
	"probe_ip = 127.0.0.1\n" \
	"smtp_port = 25\nsmtps_port = 465\npop3_port = 110\n" \
	"pop3s_port = 995\n" \
	"smtp_concurrency = 20\nsmtps_concurrency = 20\n" \
	"pop3_concurrency = 20\npop3s_concurrency = 20\n" \
	"spamd_ip = 127.0.0.1\nspamd_port = 783\nspamd_children = 5\n"

static const char base_text[] =
	"services = services\n"
	"rundir = run\n"
	"default = smtp pop3\n"
	BASE_VARS
	"qmaild = root\nnofiles = root\nqmaill = root\nspamd_user = root\n"
	"a = alpha\n"
	"b = two \"words\" \\ here\n"
	"q = \" '\n"
	"dollar = \\${a}\n"
	"empty =\n";

/* The same keys; every value a different single token. */
static const char alt_text[] =
	"services = services\n"
	"rundir = run\n"
	"default = smtp pop3\n"
	BASE_VARS
	"qmaild = 0\nnofiles = 0\nqmaill = x\nspamd_user = x\n"
	"a = A\n"
	"b = B\n"
	"q = Q\n"
	"dollar = D\n"
	"empty = E\n";

static struct site base, alt;

static void setup(void)
{
	struct err e;

	if (base.file)
		return;
	mkdir(fuzz_path("services"), 0700);
	fuzz_put(fuzz_path("base.conf"), base_text, sizeof base_text - 1);
	fuzz_put(fuzz_path("alt.conf"), alt_text, sizeof alt_text - 1);
	if (conf_load_site(fuzz_path("base.conf"), &base, &e) < 0 ||
	    conf_load_site(fuzz_path("alt.conf"), &alt, &e) < 0)
		fuzz_broken("the base sites load", e.text);
}

/* ---- promises ---- */

static int ident(const char *s)
{
	size_t i;

	if (!(s[0] == '_' || (s[0] >= 'A' && s[0] <= 'Z') ||
	    (s[0] >= 'a' && s[0] <= 'z')))
		return 0;
	for (i = 1; s[i]; i++)
		if (!(s[i] == '_' || (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

static int same(const char *a, const char *b)
{
	return a && b && strcmp(a, b) == 0;
}

/* As the writer prints it (msg.h): printable ASCII only, one line,
 * nothing a terminal obeys. */
static int printable(const char *s)
{
	char shown[4 * sizeof ((struct err *)0)->text + 1];

	msg_escape(shown, sizeof shown, s, strlen(s));
	for (s = shown; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return 0;
	return 1;
}

/* One line naming the file: "FILE: ..." or "FILE:LINE: ...". */
static void check_error(const struct err *e, const char *file)
{
	size_t n = strlen(file);

	FUZZ_CHECK(e->text[0] != '\0', "empty error");
	FUZZ_CHECK(printable(e->text), e->text);
	FUZZ_CHECK(strncmp(e->text, file, n) == 0 && e->text[n] == ':',
	    e->text);
}

/* Letters, digits, '-' and '.', neither first nor last a '.' or '-'. */
static int hostname_chars(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || s[0] == '.' || s[0] == '-' || s[n - 1] == '.' ||
	    s[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' &&
		    s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '.'))
			return 0;
	return 1;
}

/* A typed field and its variable: set together, equal. */
static void check_field_var(const struct site *s, const char *key,
    const char *field)
{
	const char *var = conf_site_var(s, key);

	FUZZ_CHECK(field ? same(var, field) : var == NULL, key);
}

static void check_site_typed(const struct site *s)
{
	const char *cg = conf_site_var(s, "cgroup");

	FUZZ_CHECK(s->cgroup == SITE_CGROUP_AUTO || s->cgroup == SITE_CGROUP_NO,
	    "cgroup");
	FUZZ_CHECK(same(cg, s->cgroup == SITE_CGROUP_NO ? "no" : "auto"),
	    "${cgroup}");
	FUZZ_CHECK(s->cert_warn_days >= 0 && s->cert_warn_days <= WARN_DAYS_MAX,
	    "cert_warn_days");
	FUZZ_CHECK(conf_site_var(s, "cert_warn_days") != NULL,
	    "no ${cert_warn_days}");
	FUZZ_CHECK(s->qmail && s->qmail[0] == '/', s->qmail);
	check_field_var(s, "qmail", s->qmail);
	FUZZ_CHECK(!s->cert || s->cert[0] == '/', s->cert);
	check_field_var(s, "cert", s->cert);
	FUZZ_CHECK(!s->hostname || hostname_chars(s->hostname), s->hostname);
	check_field_var(s, "hostname", s->hostname);
}

static void check_site(const struct site *s)
{
	size_t i, j, stored = 0;

	FUZZ_CHECK(s->services && s->services[0] == '/', s->services);
	FUZZ_CHECK(s->rundir && s->rundir[0] == '/', s->rundir);
	FUZZ_CHECK(s->path && s->path[0], s->path);
	FUZZ_CHECK(s->names != NULL, "no default set");
	for (i = 0; s->names[i]; i++) {
		FUZZ_CHECK(conf_valid_name(s->names[i]), s->names[i]);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(s->names[i], s->names[j]) != 0,
			    s->names[i]);
	}
	for (i = 0; i < s->nvars; i++) {
		FUZZ_CHECK(ident(s->vars[i].key) && strlen(s->vars[i].key) <= 64,
		    s->vars[i].key);
		FUZZ_CHECK(s->vars[i].value != NULL, s->vars[i].key);
		/* rundir and services get the site file's directory in
		 * front: a little more than a value */
		FUZZ_CHECK(strlen(s->vars[i].value) <= VALUE_MAX + 4096,
		    s->vars[i].key);
		stored += strlen(s->vars[i].value);
		FUZZ_CHECK(stored <= STORED_MAX + 4096 * 2, s->vars[i].key);
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strcmp(s->vars[i].key, s->vars[j].key) != 0,
			    s->vars[i].key);
	}
	FUZZ_CHECK(same(conf_site_var(s, "services"), s->services), s->services);
	FUZZ_CHECK(same(conf_site_var(s, "rundir"), s->rundir), s->rundir);
	FUZZ_CHECK(same(conf_site_var(s, "path"), s->path), s->path);
	FUZZ_CHECK(conf_site_var(s, "default") != NULL, "no ${default}");
	check_site_typed(s);
}

static int all_digits(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void check_probe(const struct probe *p)
{
	if (p->kind == PROBE_NONE) {
		FUZZ_CHECK(!p->host && !p->port && !p->expect, "probe none");
		return;
	}
	FUZZ_CHECK(p->host && p->host[0], "probe host");
	FUZZ_CHECK(p->port && all_digits(p->port) && strlen(p->port) <= 5 &&
	    atoi(p->port) >= 1 && atoi(p->port) <= 65535, p->port);
	if (p->kind == PROBE_TCP || p->kind == PROBE_TLS)
		FUZZ_CHECK(p->expect && p->expect[0] &&
		    strlen(p->expect) <= PROBE_EXPECT_MAX, "probe expect");
	else
		FUZZ_CHECK(p->kind == PROBE_POP3_STLS ||
		    p->kind == PROBE_SMTP_STARTTLS, "probe kind");
}

static int known_signal(int sig)
{
	return sig == 0 || sig == SIGHUP || sig == SIGINT || sig == SIGQUIT ||
	    sig == SIGUSR1 || sig == SIGUSR2 || sig == SIGALRM ||
	    sig == SIGTERM || sig == SIGCONT || sig == SIGWINCH;
}

static void check_env(char **env)
{
	size_t i, j, n, stored = 0;
	char *eq;

	FUZZ_CHECK(env != NULL, "env");
	for (i = 0; env[i]; i++) {
		eq = strchr(env[i], '=');
		FUZZ_CHECK(eq != NULL, env[i]);
		*eq = '\0';
		FUZZ_CHECK(ident(env[i]) && strcmp(env[i], "PATH") != 0,
		    env[i]);
		*eq = '=';
		n = (size_t)(eq - env[i]) + 1;
		FUZZ_CHECK(strlen(eq + 1) <= VALUE_MAX, env[i]);
		stored += strlen(env[i]);
		FUZZ_CHECK(stored <= STORED_MAX, "env in all");
		for (j = 0; j < i; j++)
			FUZZ_CHECK(strncmp(env[i], env[j], n) != 0, env[i]);
	}
}

/* The bytes of an argv's words: one value, expanded. */
static size_t argv_bytes(char **argv)
{
	size_t n = 0;

	for (; argv && *argv; argv++)
		n += strlen(*argv);
	return n;
}

static void check_service(const struct service *svc, const char *name)
{
	FUZZ_CHECK(same(svc->name, name), svc->name);
	FUZZ_CHECK(svc->description && !strchr(svc->description, '\n'),
	    svc->description);
	FUZZ_CHECK(svc->run && svc->run[0] && svc->run[0][0], "run");
	FUZZ_CHECK(!svc->log || (svc->log[0] && svc->log[0][0]), "log");
	FUZZ_CHECK(argv_bytes(svc->run) <= VALUE_MAX, "run");
	FUZZ_CHECK(argv_bytes(svc->log) <= VALUE_MAX, "log");
	FUZZ_CHECK(svc->directory && svc->directory[0] == '/',
	    svc->directory);
	FUZZ_CHECK(!svc->cert || svc->cert[0] == '/', svc->cert);
	FUZZ_CHECK(!svc->rules || svc->rules[0] == '/', svc->rules);
	check_env(svc->env);
	check_probe(&svc->probe);
	FUZZ_CHECK(svc->settle_ms >= 0 && svc->settle_ms <= TIME_MAX_MS,
	    "settle");
	FUZZ_CHECK(svc->zap_grace_ms >= 0 && svc->zap_grace_ms <= TIME_MAX_MS,
	    "zap_grace");
	FUZZ_CHECK(svc->start_timeout_ms > 0 &&
	    svc->start_timeout_ms <= TIME_MAX_MS, "start_timeout");
	FUZZ_CHECK(svc->stop_timeout_ms > 0 &&
	    svc->stop_timeout_ms <= TIME_MAX_MS, "stop_timeout");
	FUZZ_CHECK(svc->memory <= MEMORY_MAX, "memory");
	FUZZ_CHECK(known_signal(svc->reload_signal), "reload_signal");
	FUZZ_CHECK(known_signal(svc->flush_signal), "flush_signal");
}

/* ---- the three ways in ---- */

static int load_site(const char *text, size_t len, struct site *s)
{
	struct err e;
	const char *file = fuzz_path("site.conf");

	fuzz_put(file, text, len);
	if (conf_load_site(file, s, &e) < 0) {
		check_error(&e, file);
		return -1;
	}
	check_site(s);
	return 0;
}

static void load_service(const struct site *s, const char *text, size_t len)
{
	struct err e;
	struct service svc;
	char file[4200];

	snprintf(file, sizeof file, "%s/fz", s->services);
	fuzz_put(file, text, len);
	if (conf_load_service(s, "fz", &svc, &e) < 0) {
		check_error(&e, file);
		return;
	}
	check_service(&svc, "fz");
	/* The peer readers take whatever argv the file gave: they may refuse
	 * it (with FILE:LINE), never read past it. */
	if (tcpserver_load(&svc, &e) < 0 || multilog_load(&svc, &e) < 0)
		check_error(&e, file);
	conf_free_service(&svc);
}

static size_t count(char **argv)
{
	size_t n = 0;

	while (argv[n])
		n++;
	return n;
}

/* plan_argv's text for argv splits back into argv. */
static void check_round_trip(char **argv)
{
	struct err e;
	char *text, **again;
	size_t len = 1, i;

	/* at worst every byte escaped, plus quotes and a blank per word */
	for (i = 0; argv[i]; i++)
		len += 2 * strlen(argv[i]) + 3;
	text = malloc(len);
	if (!text)
		abort();
	plan_argv(text, len, argv);
	if (conf_split(NULL, text, "again", &again, &e) < 0)
		fuzz_broken("-n's quoting splits back", e.text);
	FUZZ_CHECK(count(again) == count(argv), text);
	for (i = 0; argv[i]; i++)
		FUZZ_CHECK(strcmp(again[i], argv[i]) == 0, text);
	conf_free_argv(again);
	free(text);
}

static void split(const uint8_t *data, size_t size)
{
	struct err e;
	char *text = malloc(size + 1), **argv, **other;

	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';      /* conf_split takes a C string */
	if (conf_split(&base, text, "W", &argv, &e) < 0) {
		check_error(&e, "W");
		free(text);
		return;
	}
	check_round_trip(argv);
	if (conf_split(&alt, text, "W", &other, &e) == 0) {
		FUZZ_CHECK(count(other) == count(argv), text);
		conf_free_argv(other);
	}
	conf_free_argv(argv);
	free(text);
}

int fuzz_conf_one(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *sep = memmem(data, size, SEPARATOR, sizeof SEPARATOR - 1);
	struct site s;

	setup();
	if (sep) {
		size_t head = (size_t)(sep - text) + 1; /* keeps its newline */
		size_t tail = size - head - (sizeof SEPARATOR - 2);

		if (load_site(text, head, &s) == 0) {
			/* The site may name any directory: the file is
			 * written to ours, whatever it says. */
			free(s.services);
			s.services = strdup(base.services);
			if (!s.services)
				abort();
			load_service(&s, sep + sizeof SEPARATOR - 1, tail);
			conf_free_site(&s);
		} else
			load_service(&base, sep + sizeof SEPARATOR - 1, tail);
		return 0;
	}
	if (load_site(text, size, &s) == 0)
		conf_free_site(&s);
	load_service(&base, text, size);
	split(data, size);
	return 0;
}

#ifdef QMAILCTL_FUZZ
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_conf_one(data, size);
}
#endif
