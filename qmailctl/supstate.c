/* supstate.c: the supervisor's state file (supstate.h). */
#include "supstate.h"
#include "atomic.h"
#include "clock.h"
#include "report.h"
#include "rundir.h"
#include "unit.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Anyone may read it, as a pidfile. */
#define SUPSTATE_MODE 0644
#define SUPSTATE_MAX 2048

static void state_name(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s.state", name);
}

int supstate_write(const struct rundir *rd, const char *name,
    const struct sup_state *s, struct err *e)
{
	char buf[SUPSTATE_MAX], base[NAME_MAX + 1];
	int n;

	n = snprintf(buf, sizeof buf, "state %s\nsince %lld\nwait_until %lld\n"
	    "restarts %ld\nlast_restart %lld\nlast_exit %s\nlast_exit_at %lld\n"
	    "reason %s\n", s->state, s->since, s->wait_until, s->restarts,
	    s->last_restart, s->last_exit, s->last_exit_at, s->reason);
	if (n < 0 || (size_t)n >= sizeof buf)
		n = sizeof buf - 1;
	state_name(base, sizeof base, name);
	return atomic_write_at(rd->fd, rd->path, base, buf, (size_t)n,
	    SUPSTATE_MODE, ATOMIC_CHECK_DIR, e);
}

void supstate_remove(const struct rundir *rd, const char *name)
{
	char base[NAME_MAX + 1];

	state_name(base, sizeof base, name);
	if (rd && rd->fd >= 0)
		unlinkat(rd->fd, base, 0);
}

/* A value runs to the end of its line; newlines were never written in
 * one (the texts come from our own formatting, see supervise.c). */
static void set_text(char *dst, size_t size, const char *v)
{
	snprintf(dst, size, "%.*s", (int)strcspn(v, "\n"), v);
}

static void parse_line(struct sup_state *s, const char *line)
{
	const char *v = strchr(line, ' ');

	if (!v)
		return;
	v++;
	if (!strncmp(line, "state ", 6))
		set_text(s->state, sizeof s->state, v);
	else if (!strncmp(line, "since ", 6))
		s->since = atoll(v);
	else if (!strncmp(line, "wait_until ", 11))
		s->wait_until = atoll(v);
	else if (!strncmp(line, "restarts ", 9))
		s->restarts = atol(v);
	else if (!strncmp(line, "last_restart ", 13))
		s->last_restart = atoll(v);
	else if (!strncmp(line, "last_exit ", 10))
		set_text(s->last_exit, sizeof s->last_exit, v);
	else if (!strncmp(line, "last_exit_at ", 13))
		s->last_exit_at = atoll(v);
	else if (!strncmp(line, "reason ", 7))
		set_text(s->reason, sizeof s->reason, v);
}

int supstate_read(const struct rundir *rd, const char *name,
    struct sup_state *s)
{
	char buf[SUPSTATE_MAX + 1], base[NAME_MAX + 1], *line, *next;
	struct stat st;
	ssize_t n;
	int fd;

	memset(s, 0, sizeof *s);
	if (!rd || rd->fd < 0) {
		errno = ENOENT;
		return -1;
	}
	state_name(base, sizeof base, name);
	fd = openat(rd->fd, base, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > SUPSTATE_MAX) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	n = read(fd, buf, SUPSTATE_MAX);
	close(fd);
	if (n <= 0) {
		errno = EINVAL;
		return -1;
	}
	buf[n] = 0;
	for (line = buf; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		parse_line(s, line);
	}
	if (!s->state[0]) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

enum sup_view supstate_view(const struct unit *u, struct sup_state *s)
{
	static const struct {
		const char *state;
		enum sup_view view;
	} words[] = {
		{ "up", SV_UP }, { "starting", SV_STARTING },
		{ "restarting", SV_RESTARTING }, { "held", SV_STOPPING },
		{ "stopping", SV_STOPPING },
	};
	int have;
	size_t i;

	have = supstate_read(u->rundir, u->svc->name, s) == 0;
	if (u->sup.state == EL_ALIVE) {
		for (i = 0; i < sizeof words / sizeof words[0]; i++)
			if (have && !strcmp(s->state, words[i].state))
				return words[i].view;
		return SV_STARTING;
	}
	if (u->el[EL_RUN].state == EL_ALIVE)
		return have || u->sup.state != EL_ABSENT ? SV_UNSUPERVISED :
		    SV_NONE;
	return have && !strcmp(s->state, "failed") ? SV_FAILED : SV_NONE;
}

const char *supstate_word(enum sup_view v)
{
	static const char *const w[] = {
		[SV_NONE] = "", [SV_UP] = "up", [SV_STARTING] = "starting",
		[SV_RESTARTING] = "restarting", [SV_STOPPING] = "stopping",
		[SV_FAILED] = "failed", [SV_UNSUPERVISED] = "unsupervised",
	};

	return w[v];
}

void supstate_history(const struct sup_state *s, char *buf, size_t size)
{
	char ago[32], when[32] = "?";
	time_t t = (time_t)s->last_exit_at;
	struct tm tm;
	size_t n = 0;

	buf[0] = 0;
	if (s->restarts > 0) {
		fmt_duration(ago, sizeof ago,
		    (double)(clock_ms() - s->last_restart) / 1000);
		n = (size_t)snprintf(buf, size, "%ld restart%s, the last %s "
		    "ago", s->restarts, s->restarts == 1 ? "" : "s", ago);
	}
	if (s->last_exit[0] && n < size) {
		if (localtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		snprintf(buf + n, size - n, "%slast unexpected exit: %s at %s",
		    n ? "; " : "", s->last_exit, when);
	}
}
