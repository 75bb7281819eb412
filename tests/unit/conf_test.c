/* conf_test: the configuration layer (qmailctl/conf_*.c), as TAP.
 *
 * Runs from the top of the tree (tests/run.sh does), because the last
 * part loads every file shipped in services/.  Fixtures live in a fresh
 * directory under /tmp, removed at the end.
 *
 * Not tested here: a getpwnam() that fails for a reason other than "no
 * such user" (needs a broken NSS), and a services directory that fails
 * half-way through readdir(). */
#include "conf.h"
#include "msg.h"
#include "tap.h"

#include <errno.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[64];            /* the fixture directory */
static struct site site;        /* tmp/qmailctl.conf, loaded by setup() */

/* "a|b|c" for an argv, "(null)" for NULL, so one comparison checks it all. */
static const char *joined(char **argv)
{
	static char buf[4096];
	size_t len = 0;

	if (!argv)
		return "(null)";
	buf[0] = '\0';
	for (; *argv; argv++)
		len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s",
		    len ? "|" : "", *argv);
	return buf;
}

static const char *in_tmp(const char *rel)
{
	static char bufs[4][4096];
	static int i;

	i = (i + 1) % 4;
	return fmt_buf(bufs[i], sizeof bufs[i], "%s/%s", tmp, rel);
}

static void put_bytes(const char *rel, const char *data, size_t len)
{
	FILE *f = fopen(in_tmp(rel), "w");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0)
		bail_out("cannot write %s", in_tmp(rel));
}

static void put(const char *rel, const char *text)
{
	put_bytes(rel, text, strlen(text));
}

/* ---- splitting ---- */

static void split_is(const struct site *s, const char *text, const char *want,
    const char *desc)
{
	struct err e = { "" };
	char **argv;

	if (conf_split(s, text, "W", &argv, &e) < 0) {
		ok(0, "%s", desc);
		diag_got(desc, e.text, want);
		return;
	}
	is_str(joined(argv), want, desc);
	conf_free_argv(argv);
}

static void split_fails(const struct site *s, const char *text,
    const char *want, const char *desc)
{
	struct err e = { "" };
	char **argv = (char **)1;
	int rc = conf_split(s, text, "W", &argv, &e);

	ok(rc == -1 && argv == NULL, "%s: fails", desc);
	is_str(e.text, want, desc);
	if (rc == 0)
		conf_free_argv(argv);
}

static void test_split(void)
{
	split_is(NULL, "a b  c", "a|b|c", "blanks separate words");
	split_is(NULL, "\ta\t\tb ", "a|b", "tabs separate, edges are trimmed");
	split_is(NULL, "", "", "empty text is no words");
	split_is(NULL, "   ", "", "blanks only is no words");
	split_is(NULL, "\"a b\" c", "a b|c", "double quotes group");
	split_is(NULL, "x\"y z\"w", "xy zw", "quotes join with what touches them");
	split_is(NULL, "a \"\" b", "a||b", "\"\" is an empty word");
	split_is(NULL, "\"\"", "", "a lone \"\" is one empty word");
	{
		struct err e;
		char **argv;

		conf_split(NULL, "\"\"", "W", &argv, &e);
		ok(argv[0] && argv[0][0] == '\0' && !argv[1],
		    "... and it is really there, as argv[0]");
		conf_free_argv(argv);
	}
	split_is(NULL, "a\\ b", "a b", "backslash escapes a blank");
	split_is(NULL, "\"a\\\"b\"", "a\"b", "backslash escapes a quote inside quotes");
	split_is(NULL, "a\\\\b", "a\\b", "backslash escapes a backslash");
	split_is(NULL, "\\n", "n", "backslash before a letter is the letter");
	split_is(NULL, "'a b'", "'a|b'", "single quotes are ordinary characters");
	split_is(NULL, "a#b #c", "a#b|#c", "# inside a value is data");
	split_fails(NULL, "a \"b c", "W: unterminated quote", "unterminated quote");
	split_fails(NULL, "a b\\", "W: trailing backslash", "trailing backslash");
}

/* ---- expansion ---- */

static void test_expand(void)
{
	split_is(&site, "${qmail}/bin x", "/var/qmail/bin|x", "${var} expands");
	split_is(&site, "a${qmail}b", "a/var/qmailb", "${var} inside a word");
	split_is(&site, "x ${spaced} y", "x|two words|y",
	    "a value with blanks stays one word (expansion after splitting)");
	split_is(&site, "x ${empty} y", "x||y",
	    "an empty value is still a word: the word count never changes");
	split_is(&site, "\"${qmail} q\"", "/var/qmail q", "${var} expands inside quotes");
	split_is(&site, "${literal}", "${qmail}",
	    "expansion is not recursive: a value's ${x} stays literal");
	split_is(&site, "${quoty}", "\"a b\\",
	    "a value's quotes and backslashes are data");
	split_is(&site, "\\${qmail}", "${qmail}", "\\$ is a literal dollar");
	split_is(&site, "$qmail $ a$", "$qmail|$|a$", "$ without { is literal");
	split_is(&site, "${uid:root} ${gid:root}", "0|0", "${uid:root} and ${gid:root} are 0");
	split_is(&site, "${uid:0} ${gid:007}", "0|7", "a numeric id stands for itself");
	split_is(&site, "-u ${uid:qmaild} -g ${gid:nofiles}", "-u|0|-g|0",
	    "${uid:NAME} looks up the user a site variable NAME names");
	split_is(&site, "${logdir}", "/var/qmail/log",
	    "a site variable may use one defined before it");
	split_fails(&site, "${nosuch}", "W: undefined variable 'nosuch'",
	    "undefined variable");
	split_fails(NULL, "${qmail}", "W: undefined variable 'qmail'",
	    "no site: every variable is undefined");
	split_fails(&site, "${uid:qmailctl_nosuchuser}",
	    "W: unknown user 'qmailctl_nosuchuser'", "unknown user");
	split_fails(&site, "${gid:qmailctl_nosuchgroup}",
	    "W: unknown group 'qmailctl_nosuchgroup'", "unknown group");
	split_fails(&site, "${uid:ghost}", "W: unknown user 'qmailctl_ghost'",
	    "unknown user through a site variable names the user");
	split_fails(&site, "${uid:4294967295}", "W: bad user id '4294967295'",
	    "a numeric id of -1 is refused");
	split_fails(&site, "a ${qmail", "W: unterminated '${'", "unterminated ${");
	split_fails(&site, "${}", "W: empty variable name '${}'", "${} is refused");
	split_fails(&site, "${uid:}", "W: empty user name in '${uid:}'",
	    "${uid:} is refused");
	split_fails(&site, "${a b}", "W: bad variable name 'a b'", "bad variable name");
}

/* ---- the site config ---- */

static void site_fails(const char *text, const char *want, const char *desc)
{
	struct err e = { "" };
	struct site s;
	char full[2048];

	put("bad.conf", text);
	ok(conf_load_site(in_tmp("bad.conf"), &s, &e) == -1, "%s: fails", desc);
	is_str(e.text, fmt_buf(full, sizeof full, "%s%s", in_tmp("bad.conf"),
	    want), desc);
}

static void test_site_defaults(void)
{
	struct err e = { "" };
	struct site s;
	char cwd[4096], want[8192];

	put("empty.conf", "# nothing but a comment\n\n   \n");
	if (conf_load_site(in_tmp("empty.conf"), &s, &e) < 0) {
		ok(0, "an empty site config loads: %s", e.text);
		return;
	}
	ok(1, "an empty site config loads");
	is_str(s.file, in_tmp("empty.conf"), "site.file is the path given");
	is_str(s.services, in_tmp("services"),
	    "default services: 'services' beside the site file");
	is_str(s.rundir, CONF_DEFAULT_RUNDIR, "default rundir");
	is_str(s.path, CONF_DEFAULT_PATH, "default path");
	is_str(joined(s.names), "send|smtp|smtps|pop3|pop3s", "default names");
	is_str(conf_site_var(&s, "rundir"), CONF_DEFAULT_RUNDIR,
	    "a defaulted builtin is a variable too");
	ok(s.cgroup == SITE_CGROUP_AUTO, "default cgroup: auto");
	is_long(s.cert_warn_days, CONF_DEFAULT_CERT_WARN_DAYS,
	    "default cert_warn_days");
	is_str(s.qmail, CONF_DEFAULT_QMAIL, "default qmail");
	ok(!s.hostname && !s.cert, "hostname and cert: not set");
	is_str(conf_site_var(&s, "qmail"), "/var/qmail",
	    "the typed keys' defaults are variables too: ${qmail}");
	is_str(conf_site_var(&s, "cgroup"), "auto", "... ${cgroup}");
	is_str(conf_site_var(&s, "cert_warn_days"), "30",
	    "... ${cert_warn_days}");
	ok(!conf_site_var(&s, "hostname") && !conf_site_var(&s, "cert"),
	    "... but not hostname and cert, whose defaults are found later");
	conf_free_site(&s);

	/* A relative site file: paths become absolute through the cwd. */
	if (!getcwd(cwd, sizeof cwd) || chdir(tmp) < 0) {
		ok(0, "chdir to the fixture directory");
		return;
	}
	put("rel.conf", "services = ./svc\nrundir = run/q\n");
	ok(conf_load_site("rel.conf", &s, &e) == 0, "a relative site file loads");
	is_str(s.services, fmt_buf(want, sizeof want, "%s/svc", tmp),
	    "relative services from a relative site file is absolute");
	is_str(s.rundir, fmt_buf(want, sizeof want, "%s/run/q", tmp),
	    "relative rundir likewise");
	is_str(conf_site_var(&s, "services"), s.services,
	    "${services} is the resolved path");
	conf_free_site(&s);
	if (chdir(cwd) < 0)
		bail_out("chdir %s: %s", cwd, strerror(errno));
}

/* Host names: what hostname = may say. */
static void test_hostnames(void)
{
	char big[300];
	size_t i;

	ok(conf_valid_hostname("localhost") && conf_valid_hostname("a-b.c0") &&
	    conf_valid_hostname("1.example.org"), "valid host names");
	ok(!conf_valid_hostname("") && !conf_valid_hostname("a..b") &&
	    !conf_valid_hostname(".a") && !conf_valid_hostname("a.") &&
	    !conf_valid_hostname("-a.b") && !conf_valid_hostname("a-.b") &&
	    !conf_valid_hostname("a b") && !conf_valid_hostname("a\033b") &&
	    !conf_valid_hostname("*.example.org"),
	    "empty labels, '-' at a label's end, blanks, others: refused");
	memset(big, 'a', sizeof big);
	big[63] = '\0';
	ok(conf_valid_hostname(big), "a label of 63 characters");
	big[63] = 'a';
	big[64] = '\0';
	ok(!conf_valid_hostname(big), "a label of 64: refused");
	memset(big, 'a', sizeof big);
	for (i = 1; i < 253; i += 2)
		big[i] = '.';
	big[253] = '\0';
	ok(conf_valid_hostname(big), "a name of 253 characters");
	big[253] = 'a';
	big[254] = '\0';
	ok(!conf_valid_hostname(big), "a name of 254: refused");
}

/* The keys qmailctl itself reads, checked into typed fields. */
static void test_site_typed(void)
{
	struct err e = { "" };
	struct site s;

	put("typed.conf", "days = 3650\ncgroup = no\ncert_warn_days = ${days}\n"
	    "hostname = Mail-1.example.org\nqmail = /opt/qmail\n"
	    "cert = ./tls/c.pem\n");
	if (conf_load_site(in_tmp("typed.conf"), &s, &e) < 0) {
		ok(0, "a site with every typed key loads: %s", e.text);
		return;
	}
	ok(s.cgroup == SITE_CGROUP_NO, "cgroup = no");
	is_long(s.cert_warn_days, 3650, "cert_warn_days, expanded first");
	is_str(s.hostname, "Mail-1.example.org", "hostname");
	is_str(s.qmail, "/opt/qmail", "qmail");
	is_str(s.cert, in_tmp("tls/c.pem"),
	    "cert: relative to the site file, made absolute");
	is_str(conf_site_var(&s, "cert"), s.cert, "... and so is ${cert}");
	is_str(conf_site_var(&s, "cgroup"), "no", "${cgroup} as written");
	conf_free_site(&s);
	put("zero.conf", "cert_warn_days = 0\ncgroup = auto\n");
	ok(conf_load_site(in_tmp("zero.conf"), &s, &e) == 0 &&
	    s.cert_warn_days == 0 && s.cgroup == SITE_CGROUP_AUTO,
	    "cert_warn_days = 0 and cgroup = auto");
	conf_free_site(&s);

	site_fails("x = 1\ncgroup = bogus\n",
	    ":2: bad value 'bogus' for 'cgroup' (auto or no)", "cgroup = bogus");
	site_fails("cgroup = AUTO\n", ":1: bad value 'AUTO' for 'cgroup' "
	    "(auto or no)", "cgroup is case-sensitive");
	site_fails("cgroup =\n", ":1: empty 'cgroup'", "an empty cgroup");
	site_fails("cert_warn_days = 3651\n", ":1: bad number '3651' for "
	    "'cert_warn_days' (whole days from 0 to 3650)",
	    "cert_warn_days above ten years");
	site_fails("\ncert_warn_days = -1\n", ":2: bad number '-1' for "
	    "'cert_warn_days' (whole days from 0 to 3650)",
	    "a negative cert_warn_days");
	site_fails("cert_warn_days = 1.5\n", ":1: bad number '1.5' for "
	    "'cert_warn_days' (whole days from 0 to 3650)",
	    "cert_warn_days is whole days");
	site_fails("cert_warn_days = 30d\n", ":1: bad number '30d' for "
	    "'cert_warn_days' (whole days from 0 to 3650)",
	    "cert_warn_days takes no unit");
	site_fails("cert_warn_days =\n", ":1: empty 'cert_warn_days'",
	    "an empty cert_warn_days");
	site_fails("hostname = mail_1.example.org\n", ":1: bad host name "
	    "'mail_1.example.org' for 'hostname' (labels of letters, digits "
	    "and '-', joined by dots)", "a hostname with '_'");
	site_fails("hostname =\n", ":1: empty 'hostname'", "an empty hostname");
	site_fails("qmail = var/qmail\n", ":1: 'qmail' must be an absolute path",
	    "a relative qmail");
	site_fails("qmail =\n", ":1: empty 'qmail'", "an empty qmail");
	site_fails("cert =\n", ":1: empty 'cert'", "an empty cert");
	test_hostnames();
}

static void test_site(void)
{
	struct err e = { "" };
	struct site s;

	test_site_defaults();
	test_site_typed();
	put("abs.conf", "  # indented comment\n services=/srv/q/svc \n"
	    "rundir =\t/var/run/q\npath = /bin:/usr/bin\n"
	    "default = smtp   send\nfoo = bar = baz\nbar=\n");
	if (conf_load_site(in_tmp("abs.conf"), &s, &e) < 0) {
		ok(0, "a full site config loads: %s", e.text);
		return;
	}
	is_str(s.services, "/srv/q/svc", "services is trimmed and absolute");
	is_str(s.rundir, "/var/run/q", "rundir after a tab");
	is_str(s.path, "/bin:/usr/bin", "path");
	is_str(joined(s.names), "smtp|send", "default, in the given order");
	is_str(conf_site_var(&s, "foo"), "bar = baz",
	    "a value is split at the first '=' only");
	is_str(conf_site_var(&s, "bar"), "", "an empty site variable is allowed");
	is_str(conf_site_var(&s, "nosuch"), NULL, "an unknown variable is NULL");
	conf_free_site(&s);

	put("nodefault.conf", "default =\n");
	ok(conf_load_site(in_tmp("nodefault.conf"), &s, &e) == 0 &&
	    s.names && !s.names[0], "an empty default is an empty set");
	conf_free_site(&s);

	site_fails("a = 1\nb = 2\na = 3\n", ":3: 'a' already set on line 1",
	    "a site key set twice");
	site_fails("x = ${y}\ny = 1\n", ":1: undefined variable 'y'",
	    "a forward reference");
	site_fails("qmail\n", ":1: expected 'key = value'", "a line without '='");
	site_fails("= x\n", ":1: missing key before '='", "a line without a key");
	site_fails("a-b = 1\n", ":1: bad key 'a-b' (letters, digits and _ only)",
	    "a key that cannot be a variable");
	site_fails("default = send ../x\n", ":1: bad service name '../x' in 'default'",
	    "a bad name in default");
	site_fails("default = send send\n", ":1: 'send' listed twice in 'default'",
	    "a name twice in default");
	site_fails("path =\n", ":1: empty 'path'", "an empty path");
	put("quote.conf", "x = \"a b\nq = \\${x}\n");
	ok(conf_load_site(in_tmp("quote.conf"), &s, &e) == 0,
	    "a site value may hold one quote: quotes are data there");
	is_str(conf_site_var(&s, "x"), "\"a b", "... kept as written");
	is_str(conf_site_var(&s, "q"), "${x}", "... and \\$ is a literal dollar");
	conf_free_site(&s);
	site_fails("x = a\\\n", ":1: trailing backslash",
	    "a trailing backslash in a site value");
	ok(conf_load_site(in_tmp("nosuch.conf"), &s, &e) == -1,
	    "a missing site config fails");
	{
		char want[4200];

		is_str(e.text, fmt_buf(want, sizeof want,
		    "%s: unable to open: No such file or directory",
		    in_tmp("nosuch.conf")), "... naming the file");
	}
}

/* ---- service files ---- */

static int load(const char *text, struct service *svc, struct err *e)
{
	put("services/t", text);
	return conf_load_service(&site, "t", svc, e);
}

static void svc_fails(const char *text, const char *want, const char *desc)
{
	struct err e = { "" };
	struct service svc;
	char full[2048];

	ok(load(text, &svc, &e) == -1, "%s: fails", desc);
	is_str(e.text, fmt_buf(full, sizeof full, "%s%s",
	    in_tmp("services/t"), want), desc);
}

static void test_service_full(void)
{
	struct err e = { "" };
	struct service svc;

	if (load("# a service with every key\n"
	    "description = Test: SMTP # not a comment\n"
	    "run = tcpserver -u ${uid:qmaild} -c \"${conc}\" 0 25 qmail-smtpd\n"
	    "log = multilog t ${logdir}/t\n"
	    "directory = ${qmail}\n"
	    "env = GREETING=hello \"big\" world\n"
	    "env = EMPTY=\n"
	    "env = HOME=${qmail}/alias\n"
	    "probe = tcp 127.0.0.1 25 220\n"
	    "cert = ${qmail}/control/servercert.pem\n"
	    "rules = /etc/tcp/smtp.rules\n"
	    "settle = 250\n"
	    "start_timeout = 0.5\n"
	    "stop_timeout = 120\n"
	    "zap_grace = 0\n"
	    "memory = 12m\n"
	    "reload_signal = HUP\n"
	    "flush_signal = SIGALRM\n", &svc, &e) < 0) {
		ok(0, "a service with every key loads: %s", e.text);
		return;
	}
	ok(1, "a service with every key loads");
	is_str(svc.name, "t", "name");
	is_str(svc.file, in_tmp("services/t"), "file");
	is_str(svc.description, "Test: SMTP # not a comment", "description is literal");
	is_str(joined(svc.run), "tcpserver|-u|0|-c|20|0|25|qmail-smtpd", "run");
	is_str(joined(svc.log), "multilog|t|/var/qmail/log/t", "log");
	is_str(svc.directory, "/var/qmail", "directory is expanded");
	is_str(joined(svc.env), "GREETING=hello \"big\" world|EMPTY=|HOME=/var/qmail/alias",
	    "env: one word each, quotes literal, expanded, in order");
	ok(svc.probe.kind == PROBE_TCP, "probe kind tcp");
	is_str(svc.probe.host, "127.0.0.1", "probe host");
	is_str(svc.probe.port, "25", "probe port");
	is_str(svc.probe.expect, "220", "probe expect");
	is_str(svc.cert, "/var/qmail/control/servercert.pem", "cert is expanded");
	is_str(svc.rules, "/etc/tcp/smtp.rules", "rules");
	is_long(svc.settle_ms, 250, "settle in ms");
	is_long(svc.start_timeout_ms, 500, "start_timeout 0.5 s is 500 ms");
	is_long(svc.stop_timeout_ms, 120000, "stop_timeout 120 s");
	is_long(svc.zap_grace_ms, 0, "zap_grace 0 is allowed");
	is_long((long long)svc.memory, 12LL << 20, "memory 12m");
	is_long(svc.reload_signal, SIGHUP, "reload_signal HUP");
	is_long(svc.flush_signal, SIGALRM, "flush_signal SIGALRM");
	conf_free_service(&svc);
}

static void test_service_defaults(void)
{
	struct err e = { "" };
	struct service svc;

	if (load("run = true\n", &svc, &e) < 0) {
		ok(0, "a service with only run loads: %s", e.text);
		return;
	}
	is_str(svc.description, "", "default description is \"\"");
	is_str(joined(svc.run), "true", "run");
	ok(svc.log == NULL, "no log: NULL");
	is_str(svc.directory, "/", "default directory is /");
	ok(svc.env && !svc.env[0], "default env is empty, not NULL");
	ok(svc.probe.kind == PROBE_NONE && !svc.probe.host && !svc.probe.port &&
	    !svc.probe.expect, "default probe is none");
	ok(!svc.cert && !svc.rules, "default cert and rules are NULL");
	is_long(svc.settle_ms, 200, "default settle 200 ms");
	is_long(svc.start_timeout_ms, 10000, "default start_timeout 10 s");
	is_long(svc.stop_timeout_ms, 30000, "default stop_timeout 30 s");
	is_long(svc.zap_grace_ms, 100, "default zap_grace 100 ms");
	ok(svc.memory == 0, "default memory: no limit");
	ok(svc.reload_signal == 0 && svc.flush_signal == 0,
	    "default reload_signal and flush_signal: none (0)");
	conf_free_service(&svc);
}

static void probe_is(const char *line, enum probe_kind kind, const char *host,
    const char *port, const char *expect, const char *desc)
{
	struct err e = { "" };
	struct service svc;
	char text[512];

	if (load(fmt_buf(text, sizeof text, "run = x\nprobe = %s\n", line),
	    &svc, &e) < 0) {
		ok(0, "%s: %s", desc, e.text);
		return;
	}
	ok(svc.probe.kind == kind, "%s: kind", desc);
	is_str(svc.probe.host, host, "... host");
	is_str(svc.probe.port, port, "... port");
	is_str(svc.probe.expect, expect, "... expect");
	conf_free_service(&svc);
}

/* An EXPECT the probe could never read whole is refused at load. */
static void test_expect_bound(void)
{
	struct err e = { "" };
	struct service svc;
	char expect[PROBE_LINE_MAX + 1], text[PROBE_LINE_MAX + 64];
	int i;

	memset(expect, '2', PROBE_EXPECT_MAX);
	expect[PROBE_EXPECT_MAX] = '\0';
	ok(load(fmt_buf(text, sizeof text, "run = x\nprobe = tcp h 25 %s\n",
	    expect), &svc, &e) == 0 && strlen(svc.probe.expect) ==
	    PROBE_EXPECT_MAX, "an EXPECT of %d bytes (a whole greeting line) "
	    "is accepted", PROBE_EXPECT_MAX);
	conf_free_service(&svc);
	expect[PROBE_EXPECT_MAX] = '2';
	expect[PROBE_LINE_MAX] = '\0';
	for (i = 0; i < 2; i++) {
		fmt_buf(text, sizeof text, "run = x\nprobe = %s h 25 %s\n",
		    i ? "tls" : "tcp", expect);
		svc_fails(text, ":2: probe EXPECT of 1024 bytes can never match: "
		    "a greeting line holds at most 1023 bytes",
		    i ? "tls: an EXPECT longer than a greeting line" :
		    "tcp: an EXPECT longer than a greeting line");
	}
}

static void test_probes(void)
{
	probe_is("none", PROBE_NONE, NULL, NULL, NULL, "probe none");
	probe_is("tls ${probe_ip} 465 \"220 \"", PROBE_TLS, "127.0.0.1", "465",
	    "220 ", "probe tls, expanded, quoted EXPECT");
	probe_is("pop3-stls ::1 110", PROBE_POP3_STLS, "::1", "110", NULL,
	    "probe pop3-stls");
	probe_is("smtp-starttls localhost 65535", PROBE_SMTP_STARTTLS,
	    "localhost", "65535", NULL, "probe smtp-starttls");
	probe_is("tcp h 00995 +OK", PROBE_TCP, "h", "995", "+OK",
	    "a port is stored as its number");
	if (getservbyname("smtp", "tcp"))
		probe_is("tcp h smtp 220", PROBE_TCP, "h", "25", "220",
		    "a port name from services(5) becomes its number");
	else
		skip("a port name from services(5) becomes its number",
		    "no smtp in /etc/services");

	svc_fails("run = x\nprobe = ping h\n", ":2: unknown probe 'ping' "
	    "(none, tcp, tls, pop3-stls, smtp-starttls)", "unknown probe kind");
	svc_fails("run = x\nprobe = none x\n", ":2: probe 'none' takes no arguments",
	    "none with arguments");
	svc_fails("run = x\nprobe = tcp h 25\n", ":2: probe 'tcp' takes HOST PORT EXPECT",
	    "tcp without EXPECT");
	svc_fails("run = x\nprobe = tls h 465 220 x\n",
	    ":2: probe 'tls' takes HOST PORT EXPECT", "tls with too much");
	svc_fails("run = x\nprobe = pop3-stls h 110 +OK\n",
	    ":2: probe 'pop3-stls' takes HOST PORT", "pop3-stls with EXPECT");
	svc_fails("run = x\nprobe = smtp-starttls h\n",
	    ":2: probe 'smtp-starttls' takes HOST PORT", "smtp-starttls without port");
	svc_fails("run = x\nprobe = tcp h 0 220\n", ":2: bad port '0'", "port 0");
	svc_fails("run = x\nprobe = tcp h 65536 220\n", ":2: bad port '65536'",
	    "port 65536");
	svc_fails("run = x\nprobe = tcp h 25x 220\n", ":2: bad port '25x'",
	    "port 25x");
	svc_fails("run = x\nprobe = tcp h qmailctl-nosuch 220\n",
	    ":2: unknown port 'qmailctl-nosuch'", "unknown port name");
	svc_fails("run = x\nprobe = tcp \"\" 25 220\n", ":2: empty probe host",
	    "empty host");
	svc_fails("run = x\nprobe = tcp h 25 \"\"\n", ":2: empty probe EXPECT",
	    "empty EXPECT");
	test_expect_bound();
	svc_fails("run = x\nprobe = \"\"\n", ":2: unknown probe '' "
	    "(none, tcp, tls, pop3-stls, smtp-starttls)", "empty probe word");
}

static void number_is(const char *line, long long want, const char *desc)
{
	struct err e = { "" };
	struct service svc;
	char text[512];
	long long got;

	if (load(fmt_buf(text, sizeof text, "run = x\n%s\n", line), &svc, &e) < 0) {
		ok(0, "%s: %s", desc, e.text);
		return;
	}
	switch (line[0]) {
	case 's': got = line[1] == 'e' ? svc.settle_ms :
	    line[2] == 'a' ? svc.start_timeout_ms : svc.stop_timeout_ms; break;
	case 'z': got = svc.zap_grace_ms; break;
	default: got = (long long)svc.memory; break;
	}
	is_long(got, want, desc);
	conf_free_service(&svc);
}

static void test_numbers(void)
{
	number_is("start_timeout = 2", 2000, "start_timeout 2 is 2000 ms");
	number_is("start_timeout = 1.25", 1250, "start_timeout 1.25");
	number_is("stop_timeout = 0.001", 1, "stop_timeout 0.001 is 1 ms");
	number_is("stop_timeout = 86400", 86400000, "stop_timeout of a day is allowed");
	number_is("settle = 0", 0, "settle 0");
	number_is("zap_grace = 86400000", 86400000, "zap_grace of a day");
	number_is("memory = 2000000", 2000000, "memory in bytes");
	number_is("memory = 3k", 3072, "memory 3k");
	number_is("memory = 1G", 1LL << 30, "memory 1G");
	number_is("memory = 1024g", 1LL << 40, "memory 1024g, the maximum");
	number_is("memory = 0", 0, "memory 0: no limit");

	svc_fails("run = x\nsettle = -1\n",
	    ":2: bad number '-1' for 'settle' (milliseconds)", "negative settle");
	svc_fails("run = x\nsettle = 1.5\n",
	    ":2: bad number '1.5' for 'settle' (milliseconds)", "decimal ms");
	svc_fails("run = x\nzap_grace = 10ms\n",
	    ":2: bad number '10ms' for 'zap_grace' (milliseconds)", "units after ms");
	svc_fails("run = x\nsettle = 86400001\n",
	    ":2: 'settle' is too large (at most 86400000 ms)", "settle over a day");
	svc_fails("run = x\nsettle = 99999999999999999999999\n",
	    ":2: 'settle' is too large (at most 86400000 ms)", "settle that overflows");
	svc_fails("run = x\nstart_timeout = abc\n", ":2: bad number 'abc' for "
	    "'start_timeout' (seconds, up to 3 decimals)", "a word for seconds");
	svc_fails("run = x\nstart_timeout = 1.\n", ":2: bad number '1.' for "
	    "'start_timeout' (seconds, up to 3 decimals)", "a bare point");
	svc_fails("run = x\nstart_timeout = .5\n", ":2: bad number '.5' for "
	    "'start_timeout' (seconds, up to 3 decimals)", "no digit before the point");
	svc_fails("run = x\nstop_timeout = 0.0001\n", ":2: bad number '0.0001' for "
	    "'stop_timeout' (seconds, up to 3 decimals)", "more than 3 decimals");
	svc_fails("run = x\nstop_timeout = 1 2\n", ":2: bad number '1 2' for "
	    "'stop_timeout' (seconds, up to 3 decimals)", "two numbers");
	svc_fails("run = x\nstop_timeout = 86400.001\n",
	    ":2: 'stop_timeout' is too large (at most 86400 seconds)", "over a day");
	svc_fails("run = x\nstop_timeout = 0\n",
	    ":2: 'stop_timeout' must be more than 0", "a timeout of 0");
	svc_fails("run = x\nstart_timeout = 0.000\n",
	    ":2: 'start_timeout' must be more than 0", "a timeout of 0.000");
	svc_fails("run = x\nmemory = 5x\n", ":2: bad number '5x' for 'memory' "
	    "(bytes, or with k, m or g)", "a bad memory suffix");
	svc_fails("run = x\nmemory = m\n", ":2: bad number 'm' for 'memory' "
	    "(bytes, or with k, m or g)", "a suffix alone");
	svc_fails("run = x\nmemory = 1025g\n",
	    ":2: 'memory' is too large (at most 1024g)", "memory over 1 TiB");
	svc_fails("run = x\nmemory = 1.5m\n", ":2: bad number '1.5m' for 'memory' "
	    "(bytes, or with k, m or g)", "decimal memory");
}

static void test_service_errors(void)
{
	svc_fails("# x\nrun = x\n\nrnu = y\n", ":4: unknown key 'rnu'", "unknown key");
	svc_fails("description = no run\n", ": missing 'run'", "missing run");
	svc_fails("", ": missing 'run'", "an empty file: missing run");
	svc_fails("run = a\nrun = b\n", ":2: 'run' already set on line 1",
	    "run twice");
	svc_fails("run = a\nsettle = 1\nlog = x\nsettle = 2\n",
	    ":4: 'settle' already set on line 2", "settle twice");
	svc_fails("run = a\nprobe = none\nprobe = none\n",
	    ":3: 'probe' already set on line 2", "probe twice");
	svc_fails("run = a\ndescription = a\ndescription = b\n",
	    ":3: 'description' already set on line 2", "description twice");
	svc_fails("run = a\nlog\n", ":2: expected 'key = value'", "a line without '='");
	svc_fails("run = a\nlog =\n", ":2: empty value for 'log'", "an empty log");
	svc_fails("run = \"\" x\n", ":1: 'run' names no program", "an empty program");
	svc_fails("run = x \"y\n", ":1: unterminated quote", "unterminated quote in run");
	svc_fails("run = x\nlog = y z\\\n", ":2: trailing backslash",
	    "trailing backslash in log");
	svc_fails("run = x -u ${qmaild_uid}\n", ":1: undefined variable 'qmaild_uid'",
	    "undefined variable in run");
	svc_fails("run = x\n\n\nlog = -u ${uid:ghost}\n",
	    ":4: unknown user 'qmailctl_ghost'", "unknown user in log");
	svc_fails("run = x\ndirectory = var/qmail\n",
	    ":2: 'directory' must be an absolute path", "a relative directory");
	svc_fails("run = x\ncert = ${empty}\n",
	    ":2: 'cert' must be an absolute path", "a cert that expands to nothing");
	svc_fails("run = x\nrules = ${nosuch}/x\n",
	    ":2: undefined variable 'nosuch'", "undefined variable in rules");
	svc_fails("run = x\nenv = PATH=/bin\n",
	    ":2: env PATH is not allowed: the site's 'path' sets it", "env PATH");
	svc_fails("run = x\nenv = 1X=a\n", ":2: bad env name '1X'", "env bad name");
	svc_fails("run = x\nenv = A-B=a\n", ":2: bad env name 'A-B'", "env dash name");
	svc_fails("run = x\nenv = =a\n", ":2: bad env name ''", "env empty name");
	svc_fails("run = x\nenv = FOO\n", ":2: env 'FOO' is not NAME=VALUE",
	    "env without =");
	svc_fails("run = x\nenv = FOO=1\nenv = FOO=2\n", ":3: env 'FOO' set twice",
	    "env name twice");
	svc_fails("run = x\nenv = FOO=a\\\n", ":2: trailing backslash",
	    "env trailing backslash");
	svc_fails("run = x\nreload_signal = KILL\n", ":2: unknown signal 'KILL' "
	    "for 'reload_signal' (HUP, INT, QUIT, USR1, USR2, ALRM, TERM, CONT, "
	    "WINCH or none)", "reload_signal KILL is refused");
	svc_fails("run = x\nflush_signal = 14\n", ":2: unknown signal '14' "
	    "for 'flush_signal' (HUP, INT, QUIT, USR1, USR2, ALRM, TERM, CONT, "
	    "WINCH or none)", "a signal number is refused");
	svc_fails("run = x\nflush_signal = none\nflush_signal = HUP\n",
	    ":3: 'flush_signal' already set on line 2", "flush_signal twice");
}

/* Hostile input: nothing crashes, every error still names FILE:LINE. */
static void test_hostile(void)
{
	static char big[1024 * 1024 + 32];
	size_t n = 1024 * 1024;

	memcpy(big, "run = x\nlog = ", 14);
	memset(big + 14, 'a', n);
	memcpy(big + 14 + n, "\n", 2);
	put_bytes("services/t", big, strlen(big));
	{
		struct err e = { "" };
		struct service svc;
		char want[4200];

		ok(conf_load_service(&site, "t", &svc, &e) == -1,
		    "a 1 MB line: fails");
		is_str(e.text, fmt_buf(want, sizeof want,
		    "%s:2: line longer than 65536 bytes", in_tmp("services/t")),
		    "a 1 MB line is refused with FILE:LINE");
	}
	memset(big, 'x', 65536);
	memcpy(big, "run = ", 6);
	big[65536] = '\0';
	put("services/t", big);
	{
		struct err e = { "" };
		struct service svc;

		ok(conf_load_service(&site, "t", &svc, &e) == 0 &&
		    strlen(svc.run[0]) == 65530, "a line of exactly 64 KiB is fine");
		conf_free_service(&svc);
	}
	put_bytes("services/t", "run = x\n#\nlog = a\0b\n", 20);
	{
		struct err e = { "" };
		struct service svc;
		char want[4200];

		ok(conf_load_service(&site, "t", &svc, &e) == -1, "a NUL byte: fails");
		is_str(e.text, fmt_buf(want, sizeof want, "%s:3: NUL byte",
		    in_tmp("services/t")), "a NUL byte is refused with FILE:LINE");
	}
	put("services/t", "run = x\r\nlog = y\r\n");
	{
		struct err e = { "" };
		struct service svc;

		ok(conf_load_service(&site, "t", &svc, &e) == 0 &&
		    strcmp(joined(svc.log), "y") == 0, "CRLF line ends are forgiven");
		conf_free_service(&svc);
	}
	put("services/t", "run = x");
	{
		struct err e = { "" };
		struct service svc;

		ok(conf_load_service(&site, "t", &svc, &e) == 0,
		    "a last line without a newline is read");
		conf_free_service(&svc);
	}
}

static void test_names(void)
{
	static const char *bad[] = { "../x", "a/b", ".x", "", "..", "a b",
	    "smtp~", "smtp.dist", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa", NULL };
	const char **p;

	ok(conf_valid_name("smtp") && conf_valid_name("pop3-s_2") &&
	    conf_valid_name("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaa"), "valid names, 64 characters included");
	for (p = bad; *p; p++) {
		struct err e = { "" };
		struct service svc;
		char want[256];

		ok(!conf_valid_name(*p), "'%.20s' is not a valid name", *p);
		ok(conf_load_service(&site, *p, &svc, &e) == -1,
		    "... and conf_load_service refuses it");
		is_str(e.text, fmt_buf(want, sizeof want,
		    "invalid service name '%.64s'", *p), "... saying so");
	}
	{
		struct err e = { "" };
		struct service svc;
		char want[4200];

		ok(conf_load_service(&site, "nosuch", &svc, &e) == -1,
		    "an unknown service fails");
		is_str(e.text, fmt_buf(want, sizeof want, "%s: no such service",
		    in_tmp("services/nosuch")), "... naming its file");
	}
}

static void test_list(void)
{
	struct err e = { "" };
	struct site s = site;
	char **names;
	char want[4200];

	put("services/smtp", "run = x\n");
	put("services/send", "run = x\n");
	put("services/smtp~", "run = x\n");
	put("services/smtp.dist", "run = x\n");
	put("services/.hidden", "run = x\n");
	mkdir(in_tmp("services/pop3"), 0755);
	if (symlink("smtp", in_tmp("services/smtps")) < 0 ||
	    symlink("nowhere", in_tmp("services/dangling")) < 0)
		printf("# symlink: %s\n", strerror(errno));
	unlink(in_tmp("services/t"));
	ok(conf_list_services(&site, &names, &e) == 0, "list services");
	is_str(joined(names), "send|smtp|smtps",
	    "sorted; backups, dotfiles, directories and dangling links skipped");
	conf_free_argv(names);

	s.services = (char *)in_tmp("nosuchdir");
	names = (char **)1;
	ok(conf_list_services(&s, &names, &e) == -1 && names == NULL,
	    "an unreadable services directory fails");
	is_str(e.text, fmt_buf(want, sizeof want, "%s: unable to open "
	    "directory: No such file or directory", in_tmp("nosuchdir")),
	    "... naming it");
}

/* ---- what the package ships ---- */

/* The shipped site config, with the users mapped to root and the
 * services directory pointed at the tree: qmail's users need not exist
 * here, and that mapping is exactly what the site config is for. */
static void write_shipped_site(const char *top)
{
	static const char *over[] = { "services", "qmaild", "qmaill",
	    "nofiles", NULL };
	FILE *in = fopen("services/qmailctl.conf", "r"), *out;
	char line[4096], key[64];
	const char **p;
	int skip;

	out = fopen(in_tmp("shipped.conf"), "w");
	if (!in || !out)
		bail_out("cannot copy services/qmailctl.conf");
	while (fgets(line, sizeof line, in)) {
		skip = 0;
		if (sscanf(line, " %63[A-Za-z0-9_] =", key) == 1 && line[0] != '#')
			for (p = over; *p; p++)
				skip |= strcmp(key, *p) == 0;
		if (!skip)
			fputs(line, out);
	}
	fprintf(out, "services = %s/services\nqmaild = root\nqmaill = root\n"
	    "nofiles = root\n", top);
	fclose(in);
	fclose(out);
}

static void test_shipped(void)
{
	struct err e = { "" };
	struct site s;
	struct service svc;
	char top[4096], **names, **p;

	if (conf_load_site("services/qmailctl.conf", &s, &e) < 0) {
		ok(0, "the shipped qmailctl.conf loads: %s", e.text);
		return;
	}
	ok(1, "the shipped qmailctl.conf loads");
	is_str(s.services, "/etc/qmailctl/services", "... services");
	is_str(s.rundir, "/run/qmailctl", "... rundir");
	is_str(joined(s.names), "send|smtp|smtps|pop3|pop3s", "... default");
	is_str(s.path, "/var/qmail/bin:/usr/local/bin:/usr/bin:/bin", "... path");
	conf_free_site(&s);

	if (!getcwd(top, sizeof top))
		bail_out("getcwd: %s", strerror(errno));
	write_shipped_site(top);
	if (conf_load_site(in_tmp("shipped.conf"), &s, &e) < 0) {
		ok(0, "the shipped config with test users loads: %s", e.text);
		return;
	}
	if (conf_list_services(&s, &names, &e) < 0) {
		ok(0, "list the shipped services: %s", e.text);
		conf_free_site(&s);
		return;
	}
	is_str(joined(names), "pop3|pop3s|send|smtp|smtps|spamd",
	    "the shipped services are the five and spamd");
	for (p = names; *p; p++) {
		int rc = conf_load_service(&s, *p, &svc, &e);

		ok(rc == 0, "shipped service %s loads%s%s", *p,
		    rc ? ": " : "", rc ? e.text : "");
		if (rc == 0 && strcmp(*p, "send") != 0 && strcmp(*p, "spamd") != 0)
			ok(svc.probe.kind != PROBE_NONE && svc.log != NULL,
			    "... and has a probe and a logger");
		if (rc == 0 && strcmp(*p, "send") == 0)
			ok(svc.reload_signal == SIGHUP &&
			    svc.flush_signal == SIGALRM && svc.log != NULL,
			    "... reload is HUP, flush is ALRM, and it has a logger");
		if (rc == 0)
			conf_free_service(&svc);
	}
	conf_free_argv(names);
	conf_free_site(&s);
}

/* ---- fixture ---- */

static void remove_tmp(void)
{
	rm_tree(tmp);
}

static void setup(void)
{
	struct err e = { "" };

	make_tmpdir(tmp, sizeof tmp, "conf");
	atexit(remove_tmp);
	if (mkdir(in_tmp("services"), 0755) < 0)
		bail_out("mkdir %s: %s", in_tmp("services"), strerror(errno));
	put("qmailctl.conf", "# the test site\n"
	    "qmail = /var/qmail\n"
	    "logdir = ${qmail}/log\n"
	    "spaced = two words\n"
	    "empty =\n"
	    "literal = \\${qmail}\n"
	    "quoty = \"a b\\\\\n"
	    "conc = 20\n"
	    "probe_ip = 127.0.0.1\n"
	    "qmaild = root\n"
	    "nofiles = root\n"
	    "ghost = qmailctl_ghost\n");
	if (conf_load_site(in_tmp("qmailctl.conf"), &site, &e) < 0)
		bail_out("test site: %s", e.text);
}

int main(void)
{
	setup();
	test_split();
	test_expand();
	test_site();
	test_service_full();
	test_service_defaults();
	test_probes();
	test_numbers();
	test_service_errors();
	test_hostile();
	test_names();
	test_list();
	test_shipped();
	conf_free_site(&site);
	return done_testing();
}
