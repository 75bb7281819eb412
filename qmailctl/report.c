/* report.c: what a command prints about one service, and the formats it
 * prints with.  Every line goes through the one writer (msg.h). */
#include "report.h"
#include "msg.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

void say(const struct unit *u, const char *fmt, ...)
{
	va_list ap;

	if (u->opts->quiet)
		return;
	va_start(ap, fmt);
	msg_vline(1, u->svc->name, NULL, fmt, ap);
	va_end(ap);
}

void sayv(const struct unit *u, const char *fmt, ...)
{
	va_list ap;

	if (!u->opts->verbose)
		return;
	va_start(ap, fmt);
	msg_vline(1, u->svc->name, NULL, fmt, ap);
	va_end(ap);
}

void sayerr(const struct unit *u, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	msg_vline(2, u->svc->name, "failed", fmt, ap);
	va_end(ap);
}

const char *sig_name(int sig)
{
	const char *name = NULL;

#ifdef __GLIBC__
	name = sigabbrev_np(sig);
#else
	/* The signals qmailctl itself sends or reports most; other systems
	 * spell the rest through their own tables. */
	static const struct { int sig; const char *name; } names[] = {
		{ SIGHUP, "HUP" }, { SIGINT, "INT" }, { SIGQUIT, "QUIT" },
		{ SIGKILL, "KILL" }, { SIGSEGV, "SEGV" }, { SIGPIPE, "PIPE" },
		{ SIGALRM, "ALRM" }, { SIGTERM, "TERM" }, { SIGCONT, "CONT" },
		{ SIGSTOP, "STOP" }, { SIGABRT, "ABRT" }, { SIGBUS, "BUS" },
		{ SIGUSR1, "USR1" }, { SIGUSR2, "USR2" }, { SIGCHLD, "CHLD" },
	};
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++)
		if (names[i].sig == sig)
			name = names[i].name;
#endif
	return name ? name : "?";
}

char *fmt_duration(char *buf, size_t size, double s)
{
	long t = (long)s;

	if (s < 1)
		snprintf(buf, size, "%ld ms", (long)(s * 1000 + 0.5));
	else if (s < 60)
		snprintf(buf, size, "%.1f s", s);
	else if (t < 3600)
		snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
	else if (t < 86400)
		snprintf(buf, size, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	else
		snprintf(buf, size, "%ldd%02ldh", t / 86400, t % 86400 / 3600);
	return buf;
}

char *fmt_wstatus(char *buf, size_t size, int wstatus)
{
	if (WIFEXITED(wstatus))
		snprintf(buf, size, "exited %d", WEXITSTATUS(wstatus));
	else if (WIFSIGNALED(wstatus))
		snprintf(buf, size, "killed by SIG%s",
		    sig_name(WTERMSIG(wstatus)));
	else
		snprintf(buf, size, "ended (status 0x%x)", wstatus);
	return buf;
}
