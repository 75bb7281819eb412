/* exitcode.h: the exit codes qmailctl(8) documents, in one place.
 *
 * LSB init-script codes for the actions, LSB status codes for status, and
 * the monitoring-plugins codes for check.  Every layer may include this;
 * it includes nothing. */
#ifndef QMAILCTL_EXITCODE_H
#define QMAILCTL_EXITCODE_H

enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1,        /* a transition failed or was not confirmed;
	                         * also a system error (out of memory) */
	EXIT_USAGE = 2,
	EXIT_PRIVILEGE = 4,
	EXIT_NOT_INSTALLED = 5,
	EXIT_CONFIG = 6,
	EXIT_NOT_RUNNING = 7,
};

/* status (LSB "status" action). */
enum {
	STATUS_RUNNING = 0,
	STATUS_DEAD = 1,        /* dead, but a pidfile remains */
	STATUS_STOPPED = 3,
	STATUS_UNKNOWN = 4,
};

/* check (monitoring-plugins). */
enum {
	CHECK_OK = 0,
	CHECK_WARNING = 1,
	CHECK_CRITICAL = 2,
	CHECK_UNKNOWN = 3,
};

#endif
