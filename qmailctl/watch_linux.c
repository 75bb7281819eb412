/* watch_linux.c: all inotify code (see watch.h).  A port to a system
 * without inotify replaces this file (kqueue's EVFILT_VNODE, or -1). */
#include "watch.h"

#include <sys/inotify.h>
#include <unistd.h>

int watch_open(void)
{
	return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

int watch_dir(int wfd, const char *path)
{
	/* What multilog does to its directory: appends to current
	 * (IN_MODIFY), renames it to @TAI64N.s (IN_MOVED_FROM) and makes a
	 * new current (IN_CREATE). */
	return inotify_add_watch(wfd, path, IN_MODIFY | IN_CREATE |
	    IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE | IN_CLOSE_WRITE |
	    IN_ONLYDIR | IN_DONT_FOLLOW) < 0 ? -1 : 0;
}

void watch_drain(int wfd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	/* Non-blocking: stops at EAGAIN; a bounded number of reads, since
	 * the events only wake the follower up. */
	for (int i = 0; i < 64 && read(wfd, buf, sizeof buf) > 0; i++)
		;
}
