/* cloexec.c: every descriptor above 2 closed on exec (cloexec.h), for
 * the children qmailctl, its supervisor and hi-q exec: a daemon must not
 * keep a caller's pipe open, nor a lock held. */
#include "cloexec.h"

#include <fcntl.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

void cloexec_all(void)
{
	long max;
	int fd;

	if (close_range(3, ~0U, CLOSE_RANGE_CLOEXEC) == 0)
		return;
	max = sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 1 << 20)
		max = 1 << 20;
	for (fd = 3; fd < max; fd++)
		fcntl(fd, F_SETFD, FD_CLOEXEC);
}
