/* conf.h: the site config and the service files (see qmailctl.conf(5)).
 *
 * Both files use one syntax: "key = value" lines, '#' comments, blank
 * lines.  Values that are command lines (run, log, probe) are split into
 * argv on blanks with "double quotes" and backslash escapes, and ${var}
 * is expanded after splitting, so a value never changes the word count.
 * No shell ever sees any of it.
 *
 * Every function that can fail fills a struct err (err.h) with one line
 * that names FILE:LINE and what is wrong, e.g.
 *     /etc/qmailctl/services/smtp:7: unknown key 'rnu'
 * and returns -1.  The caller reports it and exits 6. */
#ifndef QMAILCTL_CONF_H
#define QMAILCTL_CONF_H

#include <stddef.h>

#include "err.h"
#include "peers.h"

#define CONF_DEFAULT_FILE "/etc/qmailctl/qmailctl.conf"
#define CONF_DEFAULT_RUNDIR "/run/qmailctl"
#define CONF_DEFAULT_PATH "/var/qmail/bin:/usr/local/bin:/usr/bin:/bin"
#define CONF_DEFAULT_NAMES "send smtp smtps pop3 pop3s"
#define CONF_DEFAULT_QMAIL "/var/qmail"
/* check and start warn this many days before a certificate expires. */
#define CONF_DEFAULT_CERT_WARN_DAYS 30
#define CONF_DEFAULT_STATEDIR "/var/lib/qmailctl"
/* Supervision defaults (SPEC: restart_limit 10 60, backoff_max 60000). */
#define SUP_LIMIT_COUNT_DEFAULT 10
#define SUP_LIMIT_MS_DEFAULT 60000
#define SUP_BACKOFF_MAX_MS_DEFAULT 60000
#define CHECK_RESTART_WINDOW_MS_DEFAULT 300000

struct conf_var {
	char *key;
	char *value;
};

enum site_cgroup {
	SITE_CGROUP_AUTO,       /* a cgroup per server where v2 is writable */
	SITE_CGROUP_NO,         /* process groups only */
};

/* check's queue thresholds (site keys check_queue_warn, _crit,
 * check_queue_age_warn, _crit): above them, WARNING or CRITICAL. */
enum queue_limit {
	QUEUE_WARN, QUEUE_CRIT,         /* messages in the queue */
	QUEUE_AGE_WARN, QUEUE_AGE_CRIT, /* seconds, the oldest message */
	QUEUE_LIMITS
};
#define QUEUE_LIMIT_MAX 1000000000ULL
extern const char *const conf_queue_limit_keys[QUEUE_LIMITS];

/* Supervision (qmailctl(8), SUPERVISION): the service keys restart,
 * restart_limit and backoff_max; the same keys in the site config set
 * the defaults. */
struct supervision {
	int restart;            /* 1: restart an element that exits unasked */
	long limit_count;       /* restart_limit COUNT SECONDS: give up after */
	long limit_ms;          /* COUNT unexpected exits within SECONDS */
	long backoff_max_ms;    /* longest wait between two restarts */
};

struct site {
	char *file;             /* the site config's path */
	char *services;         /* service directory (relative: to file's dir;
	                         * default "services" beside the file) */
	char *rundir;           /* pidfiles and locks */
	char *path;             /* PATH the services get */
	char **names;           /* the default set, NULL-terminated (an empty
	                         * "default =" gives an empty array) */
	enum site_cgroup cgroup;        /* default SITE_CGROUP_AUTO */
	long cert_warn_days;    /* 0 to 3650; CONF_DEFAULT_CERT_WARN_DAYS */
	char *hostname;         /* the host's name, which `cert` puts in a
	                         * certificate; NULL when not set */
	char *qmail;            /* qmail's home; CONF_DEFAULT_QMAIL */
	char *cert;             /* the file `cert` writes when given none,
	                         * absolute; NULL when not set */
	char *statedir;         /* what outlives a reboot (disable markers),
	                         * absolute; CONF_DEFAULT_STATEDIR */
	long long queue_limit[QUEUE_LIMITS];    /* check's queue thresholds,
	                         * enum queue_limit; -1 when not set */
	struct conf_var *vars;  /* every key of the site file, for ${key} */
	size_t nvars;
	struct supervision sup; /* the services' defaults */
	long check_restart_window_ms;   /* check warns this long after a
	                                 * restart; default 300 s */
};

enum probe_kind {
	PROBE_NONE,
	PROBE_TCP,              /* tcp HOST PORT EXPECT */
	PROBE_TLS,              /* tls HOST PORT EXPECT: implicit TLS */
	PROBE_POP3_STLS,        /* pop3-stls HOST PORT */
	PROBE_SMTP_STARTTLS,    /* smtp-starttls HOST PORT */
};

/* The longest reply line a probe reads, its line end included: a longer
 * line is no greeting, and the probe fails at the bound rather than grow
 * memory for a peer that never sends a newline (net.c).  An EXPECT is
 * a prefix of such a line, so one longer than PROBE_EXPECT_MAX could
 * never match: the loader refuses it. */
#define PROBE_LINE_MAX 1024
#define PROBE_EXPECT_MAX (PROBE_LINE_MAX - 1)

struct probe {
	enum probe_kind kind;
	char *host;             /* numeric address or name */
	char *port;             /* decimal; a services(5) name given in the
	                         * file is resolved when it is loaded */
	char *expect;           /* greeting prefix; NULL for the STLS kinds */
};

struct service {
	char *name;
	char *file;             /* the service file's path */
	char *description;      /* "" when not set */
	char **run;             /* server element argv, NULL-terminated */
	char **log;             /* logger element argv, or NULL */
	char *directory;        /* working directory; "/" when not set */
	char **env;             /* NAME=VALUE, NULL-terminated (maybe empty) */
	struct probe probe;
	char *cert;             /* PEM that must be valid before start; NULL */
	char *rules;            /* tcprules source; NULL: from tcpserver -x */
	long settle_ms;         /* default 200 */
	long start_timeout_ms;  /* default 10000 */
	long stop_timeout_ms;   /* default 30000 */
	long zap_grace_ms;      /* default 100 */
	unsigned long long memory;  /* bytes; 0 = no limit */
	int reload_signal;      /* what `reload` sends; 0: nothing to reload */
	int flush_signal;       /* what `flush` sends; 0: not a queue */
	/* What the run and log lines say to tcpserver and multilog, read
	 * once after conf_load_service() by tcpserver_load() and
	 * multilog_load(): pointers into run, log and env. */
	struct tcpserver tcpserver;
	struct multilog multilog;
	struct supervision sup;
};

/* Reads the site config.  A missing file is an error.  Unknown keys are
 * variables; the keys qmailctl reads (services, rundir, default, path,
 * cgroup, cert_warn_days, hostname, qmail, cert) are checked into their
 * fields and are variables too, with their defaults when not set (but
 * hostname and cert, whose defaults are found later).  Relative paths for
 * services, rundir and cert are taken relative to the directory of the
 * site file, and stored absolute.  A value may use ${key} of an earlier
 * line; it is expanded once, when it is defined. */
int conf_load_site(const char *file, struct site *site, struct err *e);

/* The value of ${key} in the site config, or NULL. */
const char *conf_site_var(const struct site *site, const char *key);

/* True if name is acceptable as a service name: [A-Za-z0-9_-], 1 to 64
 * characters, so it can never name a path outside the directories. */
int conf_valid_name(const char *name);

/* True if name is a host name a certificate can carry: dot-separated
 * labels of 1 to 63 letters, digits and '-' (not first or last), 253
 * characters at most. */
int conf_valid_hostname(const char *name);

/* The services in the site's service directory, sorted, NULL-terminated.
 * Files whose names are not valid service names (backups like smtp~,
 * smtp.dist, .hidden) are skipped. */
int conf_list_services(const struct site *site, char ***names,
    struct err *e);

/* Reads SERVICES/name.  Every value is expanded; a missing run, an
 * unknown key, an undefined variable, an unknown user or group, an
 * unterminated quote, a bad number or a bad probe is an error.  An invalid
 * name is refused ("invalid service name '../x'"); a name with no file is
 * "SERVICES/name: no such service". */
int conf_load_service(const struct site *site, const char *name,
    struct service *svc, struct err *e);

/* Splits text into a NULL-terminated argv (double quotes, backslash
 * escapes) and expands ${var}, ${uid:NAME} and ${gid:NAME} in each word.
 * Expansion is not recursive.  In ${uid:NAME}, a site variable NAME names
 * the user to look up, and a number stands for itself.  site may be NULL
 * (no variables).  where ("FILE:LINE") prefixes error messages. */
int conf_split(const struct site *site, const char *text, const char *where,
    char ***argv, struct err *e);

/* One "key = value" line of a file, trimmed, with where = "FILE:LINE". */
struct conf_kv {
	const char *key;
	const char *value;
	unsigned long line;
	const char *where;
};

typedef int conf_line_fn(void *ctx, const struct conf_kv *kv, struct err *e);

/* Calls fn for every "key = value" line of file, stopping at the first
 * that fails.  Comments are lines whose first non-blank character is '#';
 * a '#' elsewhere is data.  A file over 16 MiB, a line over 64 KiB or a
 * NUL byte is an error.  This is the one reader of every configuration
 * file of the project (site, services, hi-q). */
int conf_read_file(const char *file, conf_line_fn *fn, void *ctx,
    struct err *e);

void conf_free_argv(char **argv);
void conf_free_service(struct service *svc);
void conf_free_site(struct site *site);

#endif
