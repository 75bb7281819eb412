/* opts.h: what the command line asked for, shared by every command. */
#ifndef QMAILCTL_OPTS_H
#define QMAILCTL_OPTS_H

struct opts {
	int dry_run, quiet, verbose, json;
	int kill_after;                 /* stop -k: zap after the timeout */
	int force;                      /* cert --force */
	const char *textfile;           /* metrics --textfile DIR */
	int follow;                     /* log -f */
	long lines;                     /* log -n N; -1: not given */
	long timeout_ms;                /* -t; 0: each service's own */
};

#endif
