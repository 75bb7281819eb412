/* qmailctl: start, stop and watch the services of a qmail host.
 *
 * main() parses the command line, loads the configuration, selects the
 * services and dispatches; everything else lives in a file of its own.
 * Data flows one way: command line -> config -> units -> actions -> report. */
#include "cdb.h"
#include "certcmd.h"
#include "check.h"
#include "conf.h"
#include "enable.h"
#include "logcmd.h"
#include "metrics.h"
#include "msg.h"
#include "plan.h"
#include "preflight.h"
#include "probe_relay.h"
#include "proc.h"
#include "qmailconf.h"
#include "queue.h"
#include "rundir.h"
#include "service.h"
#include "status.h"
#include "supervise.h"
#include "transition.h"
#include "workers.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

/* How a command runs: in workers (one per service, concurrently, each
 * under the service's lock); as check does (workers, no lock); inline and
 * read-only; or, for cert, on a file rather than on services; queue on
 * qmail's queue; mark on the state directory; metrics as check does;
 * check-config on qmail's files and the services' own, inline; log on the
 * log directories only. */
enum how { IN_WORKERS, CHECK, STATUS, LIST, CERT, QUEUE, MARK_ON, MARK_OFF,
	METRICS, QCONF, FOREGROUND, LOG };

/* The options that only some commands take. */
enum { TAKES_JSON = 1, TAKES_KILL = 2, TAKES_FORCE = 4, TAKES_TEXTFILE = 8 };

/* What else sets a command apart. */
enum {
	SKIPS_DISABLED = 1,     /* without names, the disabled are left out */
	STARTS = 4,             /* -n runs the checks a start makes */
	PLUGIN_EXITS = 2,       /* a usage error is UNKNOWN (3), not 2: a
	                         * monitor reads 2 as CRITICAL */
};

struct command {
	const char *name;
	enum how how;
	int (*act)(struct unit *);      /* for IN_WORKERS */
	int signals;                    /* its work is signalling processes */
	int takes;                      /* TAKES_*: its own options */
	const char *help;
	int flags;                      /* SKIPS_DISABLED, STARTS, PLUGIN_EXITS */
};

static const struct command commands[] = {
	{ "start", IN_WORKERS, do_start, 0, 0, "start services not running, confirm each is ready", SKIPS_DISABLED | STARTS },
	{ "supervise", FOREGROUND, do_supervise, 0, 0, "one service, its supervisor in the foreground (qmail@.service)", STARTS },
	{ "stop", IN_WORKERS, do_stop, 1, TAKES_KILL, "stop services, confirm every process has exited", 0 },
	{ "restart", IN_WORKERS, do_restart, 1, TAKES_KILL, "stop, then start", SKIPS_DISABLED | STARTS },
	{ "zap", IN_WORKERS, do_zap, 1, 0, "kill each server's whole process group (or cgroup)", 0 },
	{ "status", STATUS, NULL, 0, TAKES_JSON, "state, pids and uptime (--json for machines)", 0 },
	{ "reload", IN_WORKERS, do_reload, 1, 0, "send the reload signal (qmail-send: HUP)", 0 },
	{ "flush", IN_WORKERS, do_flush, 1, 0, "qmail-tcpok, then the flush signal (qmail-send: ALRM)", 0 },
	{ "pause", IN_WORKERS, do_pause, 1, 0, "STOP every process of the server", 0 },
	{ "cont", IN_WORKERS, do_cont, 1, 0, "CONT every process of the server", 0 },
	{ "cdb", IN_WORKERS, do_cdb, 0, 0, "rebuild each tcprules .cdb from its .rules", 0 },
	{ "check", CHECK, NULL, 0, 0, "probe now, check certificates (monitoring-plugins form)", PLUGIN_EXITS },
	{ "cert", CERT, NULL, 0, TAKES_FORCE, "make a self-signed certificate+key PEM [FILE]", 0 },
	{ "list", LIST, NULL, 0, 0, "the configured services and what each runs", 0 },
	{ "queue", QUEUE, NULL, 0, TAKES_JSON, "qmail's queue: messages, not preprocessed, oldest", 0 },
	{ "stat", QUEUE, NULL, 0, TAKES_JSON, "the same as queue", 0 },
	{ "disable", MARK_ON, NULL, 0, 0, "start without names (the boot) skips SERVICE...", 0 },
	{ "enable", MARK_OFF, NULL, 0, 0, "undo disable", 0 },
	{ "metrics", METRICS, NULL, 0, TAKES_TEXTFILE, "Prometheus text format [--textfile DIR]", 0 },
	{ "check-config", QCONF, NULL, 0, TAKES_JSON, "qmail's own config: control files, cdbs, owners, modes", 0 },
	{ "log", LOG, NULL, 0, 0, "the last lines of each log [-n N], -f: follow", 0 },
};

/* Each option a command may take, with the word its refusal uses. */
static const struct {
	int takes;
	const char *refusal;
} own_options[] = {
	{ TAKES_JSON, "--json goes with status, queue, stat and check-config only" },
	{ TAKES_KILL, "-k goes with stop and restart only" },
	{ TAKES_FORCE, "--force goes with cert only" },
	{ TAKES_TEXTFILE, "--textfile goes with metrics only" },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static struct opts opts;
/* Where the SERVICE names begin in argv, after every option. */
static int names_from;
/* A usage error's exit code: 2, or 3 for check (PLUGIN_EXITS).  An error
 * in the options is kept until the command is known, since options may
 * come before it. */
static int usage_exit = EXIT_USAGE;
static char deferred[128];

static void usage_text(FILE *f)
{
	size_t i;

	fprintf(f, "usage: qmailctl [-f CONF] [-n] [-q | -v] [-t SECONDS] "
	    "COMMAND [SERVICE ...]\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-12s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\noptions:\n"
	    "  -f CONF     site config (default $QMAILCTL_CONF, else %s)\n"
	    "  -n          show what would run; change nothing\n"
	    "  -q          print failures only\n"
	    "  -v          say more (probe details, removed pidfiles)\n"
	    "  -t SECONDS  bound each transition's wait (default: per service)\n"
	    "  -k          with stop: zap what is still running after the timeout\n"
	    "  --json      with status, queue, check-config: JSON output\n"
	    "  --force     with cert: replace an existing FILE\n"
	    "  --textfile DIR  with metrics: write DIR/qmailctl.prom\n"
	    "  log [-f] [-n N]  after log, its own: follow; N lines of each "
	    "(default %d)\n"
	    "  --help, --version\n\n"
	    "Without SERVICE names: the services named NAME=yes in the "
	    "environment,\nelse the site config's default set.  "
	    "See qmailctl(8).\n", CONF_DEFAULT_FILE, LOG_LINES_DEFAULT);
}

static _Noreturn void usage(const char *why)
{
	msg_line(2, NULL, "fatal", "%s", why);
	usage_text(stderr);
	exit(usage_exit);
}

/* Daemons we start must never get a terminal or a socket of ours as their
 * fd 0, 1 or 2 because we were started with one of them closed. */
static void open_std_fds(void)
{
	int fd;

	while ((fd = open("/dev/null", O_RDWR)) >= 0 && fd <= 2)
		;
	if (fd > 2)
		close(fd);
}

static long parse_seconds(const char *s)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v <= 0 || v > 86400) {
		if (!deferred[0])
			snprintf(deferred, sizeof deferred, "-t takes a number "
			    "of seconds, more than 0 and at most 86400");
		return 0;
	}
	return (long)(v * 1000 + 0.5);
}

static void defer(const char *why)
{
	if (!deferred[0])
		snprintf(deferred, sizeof deferred, "%s", why);
}

/* log -n N: a count of lines, 0 (only what -f sees come) and up. */
static long parse_lines(const char *s)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || *s < '0' || *s > '9' ||
	    v > LOG_LINES_MAX) {
		defer("-n after log takes a number of lines, from 0 to 1000000");
		return -1;
	}
	return v;
}

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "json", no_argument, NULL, 'j' },
	{ "force", no_argument, NULL, 'F' },
	{ "textfile", required_argument, NULL, 'T' },
	{ NULL, 0, NULL, 0 },
};

/* Options of argv[1..argc) in getopt_long's way (optind 0: it starts
 * afresh on a new vector); own: log's -f and -n, else the global ones.
 * Returns where the words that are not options begin. */
static int scan(int argc, char **argv, const char *optstring, int own)
{
	int c;

	optind = 0;
	while ((c = getopt_long(argc, argv, optstring, longopts,
	    NULL)) != -1) {
		if (own && c == 'f')
			opts.follow = 1;
		else if (own && c == 'n')
			opts.lines = parse_lines(optarg);
		else switch (c) {
		case 'f': setenv("QMAILCTL_CONF", optarg, 1); break;
		case 'n': opts.dry_run = 1; break;
		case 'q': opts.quiet = 1; opts.verbose = 0; break;
		case 'v': opts.verbose = 1; opts.quiet = 0; break;
		case 't': opts.timeout_ms = parse_seconds(optarg); break;
		case 'j': opts.json = 1; break;
		case 'k': opts.kill_after = 1; break;
		case 'F': opts.force = 1; break;
		case 'T': opts.textfile = optarg; break;
		case 'h': usage_text(stdout); exit(EXIT_OK);
		case 'V': printf("qmailctl %s\n", QMAILCTL_VERSION);
			exit(EXIT_OK);
		default:
			if (!deferred[0])
				snprintf(deferred, sizeof deferred, "unknown "
				    "option '%.64s'", argv[optind - 1]);
		}
	}
	return optind;
}

/* The global options may come before or after COMMAND (SERVICE names
 * never start with '-'), but after log come log's own: -f follows and
 * -n N counts lines there, while before it they are -f CONF and the dry
 * run.  So the global ones are read up to the command first, then what
 * follows it as its kind.  Returns the command's index. */
static int parse_options(int argc, char **argv)
{
	int first, own;

	opterr = 0;
	first = scan(argc, argv, "+f:nqvt:hVk", 0);
	names_from = first;
	if (first >= argc)
		return first;
	own = !strcmp(argv[first], "log");
	names_from = first + scan(argc - first, argv + first,
	    own ? "fn:" : "f:nqvt:hVk", own);
	return first;
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int in_list(char **list, const char *name)
{
	for (; *list; list++)
		if (!strcmp(*list, name))
			return 1;
	return 0;
}

/* The services to act on: the names given; else those set NAME=yes in
 * the environment (as the old qmail scripts allowed); else the default. */
static char **select_names(const struct site *site, char **known, char **args,
    int nargs)
{
	char **sel = xcalloc((size_t)nargs + 1, sizeof *sel);
	size_t n = 0, i;

	for (i = 0; i < (size_t)nargs; i++) {
		if (!in_list(known, args[i]))
			die(usage_exit, "unknown service '%s' (no file %s/%s)",
			    args[i], site->services, args[i]);
		if (!in_list(sel, args[i]))
			sel[n++] = args[i];
	}
	if (n > 0)
		return sel;
	for (i = 0; known[i]; i++) {
		const char *v = getenv(known[i]);

		if (v && !strcasecmp(v, "yes")) {
			sel = xrealloc(sel, (n + 2) * sizeof *sel);
			sel[n++] = known[i];
			sel[n] = NULL;
		}
	}
	if (n > 0)
		return sel;
	free(sel);
	for (i = 0; site->names[i]; i++)
		if (!in_list(known, site->names[i]))
			die(EXIT_CONFIG, "%s: default names service '%s', but "
			    "there is no file %s/%s", site->file,
			    site->names[i], site->services, site->names[i]);
	return NULL;
}

static int run_status(struct unit *units, size_t n)
{
	int worst = -1, rc;
	size_t i;

	if (opts.json)
		printf("{\"services\":[");
	for (i = 0; i < n; i++) {
		rc = opts.json ? status_json(&units[i], i == 0) :
		    status_text(&units[i]);
		worst = status_worst(worst, rc);
		unit_free(&units[i]);
	}
	if (opts.json)
		printf("]}\n");
	return worst < 0 ? STATUS_STOPPED : worst;
}

/* The commands that act take root's run directory and signal root's
 * processes; as anybody else they would only trip over the run
 * directory's owner check, which names the wrong cause. */
static void need_root(const struct command *cmd)
{
	if (geteuid() != 0)
		die(EXIT_PRIVILEGE, "%s: qmailctl must run as root (this is "
		    "uid %d)", cmd->name, (int)geteuid());
}

/* Every command that reads or writes the rundir checks it first, the
 * read-only ones too (their answers would be forged as easily), and
 * holds it open for everything below it (rundir.h).  Commands that act
 * create it; status and check take a missing one as "nothing runs". */
static struct rundir rundir = { -1, "" };

static void open_rundir(const struct command *cmd, const struct site *site)
{
	struct err err;
	int code;

	if (rundir_open(&rundir, site->rundir, cmd->how == IN_WORKERS ||
	    cmd->how == FOREGROUND, &err) == 0)
		return;
	if (cmd->how == CHECK) {
		/* A monitor reads the plugin line on stdout. */
		msg_line(1, "QMAILCTL UNKNOWN - qmailctl", NULL, "%s", err.text);
		exit(CHECK_UNKNOWN);
	}
	if (cmd->how == STATUS)
		code = STATUS_UNKNOWN;
	else
		code = errno == EACCES || errno == EPERM ? EXIT_PRIVILEGE :
		    EXIT_FAILED;
	die(code, "%s", err.text);
}

/* Every selected service file is read before anything is done, so a
 * configuration error never leaves a half-acted set. */
static size_t load_units(const struct site *site, char **names,
    struct service **svcs, struct unit **units)
{
	struct err err;
	size_t n, i;

	for (n = 0; names[n]; n++)
		;
	*svcs = xcalloc(n, sizeof **svcs);
	*units = xcalloc(n, sizeof **units);
	for (i = 0; i < n; i++) {
		if (service_load(site, names[i], &(*svcs)[i], &err) < 0)
			die(EXIT_CONFIG, "%s", err.text);
		unit_init(&(*units)[i], site, &(*svcs)[i], &opts);
	}
	return n;
}

/* -n: what each service would run and, for a command that starts, every
 * check the start would make before it spawns anything, each result
 * printed; the exit code is the one the command would exit with. */
static int dry_run(const struct command *cmd, struct unit *units, size_t n)
{
	int worst = EXIT_OK, rc;
	size_t i;

	for (i = 0; i < n; i++) {
		rc = plan_show(&units[i]);
		if (rc == EXIT_OK && (cmd->flags & STARTS))
			rc = preflight(&units[i]);
		plan_verdict(&units[i], cmd->name, rc);
		if (rc > worst)
			worst = rc;
	}
	return worst;
}

static int dispatch(const struct command *cmd, const struct site *site,
    char **known, struct unit *units, size_t n)
{
	size_t i;

	/* It reads files only, and changes nothing with or without -n. */
	if (cmd->how == QCONF)
		return qmailconf_command(site, &opts, units, n);
	/* log reads the log directories only: no rundir, no processes. */
	if (cmd->how == LOG)
		return log_run(units, n, &opts);
	if (!opts.dry_run && cmd->how != LIST && !proc_handles_supported())
		die(cmd->how == STATUS ? STATUS_UNKNOWN : EXIT_FAILED,
		    "this kernel has no pidfd_open(2): qmailctl needs Linux 5.3 "
		    "or later to tell its processes from strangers");
	/* start signals only to undo a failed start; it reports there. */
	if (!opts.dry_run && cmd->signals && !proc_signals_supported())
		die(EXIT_FAILED, "%s: unable to signal through a pidfd "
		    "(pidfd_send_signal: %s): refusing to signal by bare pid",
		    cmd->name, strerror(errno));
	if (opts.dry_run)
		return dry_run(cmd, units, n);
	if (cmd->how == IN_WORKERS || cmd->how == FOREGROUND)
		need_root(cmd);
	if (cmd->how != LIST) {
		open_rundir(cmd, site);
		for (i = 0; i < n; i++)
			units[i].rundir = &rundir;
	}
	switch (cmd->how) {
	case CHECK:
		return check_run(units, n);
	case IN_WORKERS:
		rundir_prune_locks(&rundir, known);
		return workers_run(units, n, cmd->act,
		    (cmd->flags & STARTS) ? start_ahead : NULL);
	case FOREGROUND:
		/* in this process: it becomes the supervisor */
		return cmd->act(&units[0]);
	case STATUS:
		return run_status(units, n);
	case LIST:
		for (i = 0; i < n; i++)
			plan_list(&units[i]);
		return EXIT_OK;
	case METRICS:
		return metrics_run(units, n, &opts);
	case QCONF:             /* before the rundir, above */
	case CERT:
	case QUEUE:
	case MARK_ON:
	case MARK_OFF:
	case LOG:
		break;          /* handled before any service is loaded */
	}
	return EXIT_USAGE;
}

/* The command named at argv[first], with every option it was given
 * checked against what it takes. */
static const struct command *parse_command(int argc, char **argv, int first)
{
	int given = (opts.json ? TAKES_JSON : 0) |
	    (opts.kill_after ? TAKES_KILL : 0) | (opts.force ? TAKES_FORCE : 0) |
	    (opts.textfile ? TAKES_TEXTFILE : 0);
	const struct command *cmd;
	char why[128];
	size_t i;

	cmd = first < argc ? find_command(argv[first]) : NULL;
	if (cmd && (cmd->flags & PLUGIN_EXITS))
		usage_exit = CHECK_UNKNOWN;
	if (deferred[0])
		usage(deferred);
	if (first >= argc)
		usage("no command given");
	if (!cmd) {
		snprintf(why, sizeof why, "unknown command '%.64s'",
		    argv[first]);
		usage(why);
	}
	for (i = 0; i < sizeof own_options / sizeof own_options[0]; i++)
		if (given & own_options[i].takes & ~cmd->takes)
			usage(own_options[i].refusal);
	if (cmd->how == LOG && opts.dry_run)
		usage("log has no dry run: its -n N (lines) goes after log");
	return cmd;
}

static void load_site(struct site *site)
{
	const char *conf = getenv("QMAILCTL_CONF");
	struct err err;

	if (!conf || !*conf)
		conf = CONF_DEFAULT_FILE;
	if (conf_load_site(conf, site, &err) < 0)
		die(EXIT_CONFIG, "%s", err.text);
}

/* Selects the services, loads them all, acts, and frees them. */
static int run_on_services(const struct command *cmd, const struct site *site,
    char **args, int nargs)
{
	struct service *svcs;
	struct unit *units;
	struct err err;
	char **known, **names;
	size_t n, i;
	int rc;

	if (conf_list_services(site, &known, &err) < 0)
		die(EXIT_CONFIG, "%s", err.text);
	names = select_names(site, known, args, nargs);
	if (cmd->how == MARK_ON || cmd->how == MARK_OFF) {
		rc = enable_command(site, &opts, names, cmd->how == MARK_ON);
		free(names);
		conf_free_argv(known);
		return rc;
	}
	if (cmd->flags & SKIPS_DISABLED) {
		if (names)
			enable_note_disabled(site, names, &opts);
		else
			names = enable_skip_disabled(site, site->names, &opts);
	}
	/* list shows every configured service unless told which. */
	if (!names && cmd->how == LIST)
		names = known;
	n = load_units(site, names ? names : site->names, &svcs, &units);
	rc = dispatch(cmd, site, known, units, n);
	rundir_close(&rundir);
	for (i = 0; i < n; i++)
		conf_free_service(&svcs[i]);
	free(svcs);
	free(units);
	if (names != known)
		free(names);
	conf_free_argv(known);
	return rc;
}

int main(int argc, char **argv)
{
	const struct command *cmd;
	struct site site;
	char **args;
	int first, nargs, rc;

	msg_init(argv[0]);
	msg_oom_code = EXIT_FAILED;
	open_std_fds();
	signal(SIGPIPE, SIG_IGN);
	/* the supervisor (qmailctl-supervise) runs its TLS probes so; OpenSSL
	 * is loaded at the first handshake, once the probe's connection is
	 * accepted, while the server starts its side (stunnel): loaded
	 * before, it would delay the connection instead */
	if (!strcmp(msg_prog, PROBE_PROG))
		return probe_relay_main(argc, argv);
	opts.lines = -1;
	first = parse_options(argc, argv);
	cmd = parse_command(argc, argv, first);
	args = argv + names_from;
	nargs = argc - names_from;
	if (cmd->how == QUEUE && nargs > 0)
		usage("queue and stat take no service names");
	if (cmd->how == FOREGROUND && nargs != 1)
		usage("supervise takes one SERVICE name");
	if ((cmd->how == MARK_ON || cmd->how == MARK_OFF) && nargs == 0)
		usage("disable and enable need SERVICE names");
	load_site(&site);
	if (cmd->how == QUEUE)
		rc = queue_command(&site, &opts);
	else if (cmd->how == CERT)
		rc = cert_command(&site, args, nargs, &opts, opts.force);
	else
		rc = run_on_services(cmd, &site, args, nargs);
	conf_free_site(&site);
	return rc;
}
