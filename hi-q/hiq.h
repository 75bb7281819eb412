/* hiq.h: hi-q's configuration, one message's pipeline, and its report.
 *
 * hi-q stands where qmail-smtpd runs qmail-queue (see hi-q(8)): the
 * message on fd 0, the envelope on fd 1, a reply pipe on fd 6.  Data
 * flows one way: config.c reads the site file and the filter files into
 * a struct hiq; pipeline.c runs one message through the filters into the
 * queue program and fills in each stage's verdict; report.c turns those
 * verdicts into the exit code, the fd 6 text and the one log line. */
#ifndef HIQ_H
#define HIQ_H

#include <stddef.h>
#include <sys/types.h>

#include "err.h"

#define HIQ_DEFAULT_CONF "/etc/qmailctl/hi-q.conf"
#define HIQ_DEFAULT_QUEUE "/var/qmail/bin/qmail-queue"
#define HIQ_DEFAULT_FILTERS "/etc/qmailctl/hi-q.d"
#define HIQ_DEFAULT_TIMEOUT_MS (300 * 1000L)
#define HIQ_DEFAULT_FILTER_TIMEOUT_MS (120 * 1000L)
/* More filters than this is a configuration mistake, not a pipeline. */
#define HIQ_MAX_FILTERS 64

/* hi-q's exit codes: qmail-queue's own (qmail-queue(8)), which is what
 * the program that runs hi-q understands.  qmail-smtpd answers 554 for
 * 11 to 40 and 451 for the rest; with 82 it answers with the text hi-q
 * wrote to fd 6 (D: permanent, Z: temporary). */
enum {
	HIQ_QUEUED = 0,
	HIQ_REJECT = 31,        /* permanent refusal, no fd 6 to explain */
	HIQ_NOMEM = 51,
	HIQ_TIMEOUT = 52,       /* the whole message took too long */
	HIQ_READ = 54,          /* fd 0 or fd 1 is not open */
	HIQ_CONFIG = 55,        /* bad configuration or usage */
	HIQ_DEFER = 71,         /* temporary refusal, no fd 6 */
	HIQ_INTERNAL = 81,      /* a system call failed; the queue crashed */
	HIQ_TEXT = 82,          /* the reason is on fd 6 */
};

/* A set of exit codes, 0 to 255. */
struct codes {
	unsigned char bit[32];
};

enum on_failure { FAIL_DEFER, FAIL_SKIP };

/* What became of one stage. */
enum verdict {
	V_NONE,         /* not started (an earlier stage failed first) */
	V_RUNNING,
	V_PASS,         /* exited with a pass code */
	V_REJECT,       /* exited with a reject code */
	V_DEFER,        /* exited with a defer code */
	V_OTHER,        /* exited with a code it does not map */
	V_CRASH,        /* killed by a signal it did not get from us */
	V_TIMEOUT,      /* its own timeout expired */
	V_SKIPPED,      /* could not start, on_failure = skip */
	V_NOSTART,      /* could not start, on_failure = defer */
	V_KILLED,       /* ended by hi-q because the message failed */
};

/* What decided the message's fate, when it was not the queue's own exit
 * after it had the envelope. */
enum cause {
	CAUSE_NONE,
	CAUSE_FILTER,           /* a filter's verdict other than pass */
	CAUSE_QUEUE,            /* the queue ended before it had the envelope */
	CAUSE_TIMEOUT,          /* the whole message's timeout */
	CAUSE_SIGNAL,           /* hi-q was told to stop (TERM, INT, HUP) */
	CAUSE_ERROR,            /* a system call failed: see error */
};

struct stage {
	char *name;             /* the filter file's name; "queue" */
	char **argv;            /* argv[0] is an absolute path */
	long timeout_ms;        /* 0: only the whole message's timeout */
	struct codes pass, reject, defer;
	enum on_failure on_failure;
	char *reply;            /* text for the sender; NULL: the default */
	/* filled in by the pipeline */
	pid_t pid;              /* 0 when not running */
	long long start_ms, end_ms;
	enum verdict verdict;
	int code;               /* exit code, or signal for V_CRASH */
	char why[256];          /* V_SKIPPED, V_NOSTART: why it did not run */
};

struct hiq {
	char *file;             /* the site file */
	char *filters_dir;
	long timeout_ms;
	struct stage *filter;   /* in the order of their names */
	size_t nfilters;
	struct stage queue;     /* the final program: verdict from its code */
	/* filled in by the pipeline */
	long long size;         /* message bytes, -1: not known (a pipe) */
	enum cause cause;       /* what ended the message, the first one */
	size_t cause_filter;    /* with CAUSE_FILTER: which */
	int signal;             /* with CAUSE_SIGNAL: which */
	int envelope_given;     /* hi-q began to write the envelope to the
	                         * queue: from then on it may commit */
	char queue_text[256];   /* what the queue wrote on its fd 6 */
	size_t queue_text_len;
	char error[512];        /* a system error that ended the message */
};

/* config.c */
int hiq_load(const char *file, struct hiq *h, struct err *e);
void hiq_free(struct hiq *h);
int codes_has(const struct codes *c, int code);

/* pipeline.c: runs the message from fd 0 and the envelope from fd 1
 * through the stages, and fills them in.  Every child is reaped before
 * it returns. */
void hiq_run(struct hiq *h);

/* report.c: the exit code, after writing the reason to reply_fd (when it
 * is >= 0 and the code is one to explain), and the log line on fd 2. */
int hiq_report(const struct hiq *h, int reply_fd);

#endif
