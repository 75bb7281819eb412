/* sdnotify_test: sd_notify_send() to a datagram socket bound here, under a
 * path and under an abstract name, and its refusals.  Prints TAP. */
#include "sdnotify.h"
#include "tap.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

/* Binds a datagram socket to name (a path, or '@' and an abstract name)
 * and returns it, or -1. */
static int bind_dgram(const char *name)
{
	struct sockaddr_un sa;
	size_t len = strlen(name);
	int fd;

	memset(&sa, 0, sizeof sa);
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, name, len);
	if (name[0] == '@')
		sa.sun_path[0] = '\0';
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (bind(fd, (struct sockaddr *)&sa,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Sends msg through $NOTIFY_SOCKET=name and checks that fd got it whole,
 * as one datagram. */
static void roundtrip(int fd, const char *name, const char *msg,
    const char *desc)
{
	char buf[256];
	ssize_t n;

	setenv("NOTIFY_SOCKET", name, 1);
	if (sd_notify_send(msg) < 0) {
		ok(0, "%s: sent (%s)", desc, strerror(errno));
		return;
	}
	n = recv(fd, buf, sizeof buf - 1, MSG_DONTWAIT);
	buf[n < 0 ? 0 : n] = '\0';
	is_str(buf, msg, desc);
}

int main(void)
{
	char dir[256], path[300], abs[64];
	int fd;

	unsetenv("NOTIFY_SOCKET");
	ok(sd_notify_send("READY=1") == 0, "no NOTIFY_SOCKET: a no-op");
	setenv("NOTIFY_SOCKET", "", 1);
	ok(sd_notify_send("READY=1") == 0, "empty NOTIFY_SOCKET: a no-op");

	make_tmpdir(dir, sizeof dir, "sdnotify");
	snprintf(path, sizeof path, "%s/notify", dir);
	fd = bind_dgram(path);
	if (fd < 0)
		bail_out("cannot bind %s", path);
	roundtrip(fd, path, "READY=1\nSTATUS=smtp: serving", "path socket");
	close(fd);

	snprintf(abs, sizeof abs, "@qmailctl-sdnotify-test-%ld",
	    (long)getpid());
	fd = bind_dgram(abs);
	if (fd < 0)
		bail_out("cannot bind abstract %s", abs);
	roundtrip(fd, abs, "STOPPING=1", "abstract socket");
	close(fd);

	setenv("NOTIFY_SOCKET", "relative/notify", 1);
	ok(sd_notify_send("READY=1") < 0 && errno == EINVAL,
	    "a relative name is refused");
	setenv("NOTIFY_SOCKET", path, 1);   /* nobody bound there now */
	unlink(path);
	ok(sd_notify_send("READY=1") < 0, "a socket nobody reads: an error");

	rm_tree(dir);
	return done_testing();
}
