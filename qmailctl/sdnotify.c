/* sdnotify.c: the sd_notify datagram, without libsystemd. */
#include "sdnotify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Fills sa from NOTIFY_SOCKET's value; returns the address length to pass
 * to sendmsg, or 0 with errno.  Only absolute paths and abstract names are
 * systemd's; anything else is refused rather than resolved against our
 * working directory. */
static socklen_t notify_addr(const char *name, struct sockaddr_un *sa)
{
	size_t len = strlen(name);

	memset(sa, 0, sizeof *sa);
	sa->sun_family = AF_UNIX;
	if (name[0] != '/' && name[0] != '@') {
		errno = EINVAL;
		return 0;
	}
	if (len < 2 || len > sizeof sa->sun_path) {
		errno = len < 2 ? EINVAL : ENAMETOOLONG;
		return 0;
	}
	memcpy(sa->sun_path, name, len);
	if (name[0] == '@')
		sa->sun_path[0] = '\0';  /* abstract: no NUL terminator counted */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
}

int sd_notify_send(const char *state)
{
	const char *name = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	struct iovec iov;
	struct msghdr mh;
	socklen_t salen;
	ssize_t n;
	int fd, saved;

	if (name == NULL || name[0] == '\0')
		return 0;
	salen = notify_addr(name, &sa);
	if (salen == 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	iov.iov_base = (void *)state;
	iov.iov_len = strlen(state);
	memset(&mh, 0, sizeof mh);
	mh.msg_name = &sa;
	mh.msg_namelen = salen;
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	do
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	saved = errno;
	close(fd);
	errno = saved;
	return n < 0 ? -1 : 0;
}
