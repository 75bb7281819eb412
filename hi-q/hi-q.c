/* hi-q: a filter pipeline in front of qmail-queue.
 *
 *     hi-q [-f CONF]
 *
 * Run where qmail-queue would be (QMAILQUEUE=/usr/local/sbin/hi-q): the
 * message on fd 0, the envelope on fd 1, the caller's reply pipe on fd 6.
 * main() only reads the configuration, checks the descriptors, runs the
 * message (pipeline.c) and reports (report.c); see hi-q(8). */
#include "hiq.h"

#include "msg.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#define USAGE "usage: hi-q [-f CONF]"
/* qmail's programs write a custom reply for exit 82 on this one. */
#define REPLY_FD 6

static _Noreturn void usage(const char *what)
{
	die(HIQ_CONFIG, "%s; " USAGE, what);
}

/* A descriptor the caller must have given us: the message, the envelope. */
static void need_fd(int fd, const char *what)
{
	if (fcntl(fd, F_GETFD) < 0)
		die(HIQ_READ, "no %s on descriptor %d", what, fd);
}

/* fd 2 is the log; if the caller closed it, the first pipe would become
 * fd 2 and our one line would go into the message. */
static void keep_stderr(void)
{
	int fd;

	if (fcntl(2, F_GETFD) >= 0)
		return;
	fd = open("/dev/null", O_WRONLY);
	if (fd >= 0 && fd != 2)
		close(fd);
}

/* fd 6 is a reply pipe only when it is a pipe we may write: a file or a
 * terminal left on 6 by accident must not receive our text. */
static int reply_fd(void)
{
	struct stat st;
	int fl = fcntl(REPLY_FD, F_GETFL);

	if (fl < 0 || (fl & O_ACCMODE) == O_RDONLY)
		return -1;
	if (fstat(REPLY_FD, &st) < 0 || !(S_ISFIFO(st.st_mode) ||
	    S_ISSOCK(st.st_mode)))
		return -1;
	return REPLY_FD;
}

static const char *conf_file(int argc, char **argv)
{
	const char *file = getenv("HIQ_CONF");
	char what[64];
	int opt, c;

	opterr = 0;
	while ((opt = getopt(argc, argv, "f:")) != -1) {
		if (opt == 'f') {
			file = optarg;
			continue;
		}
		c = (unsigned char)optopt;
		if (opt == ':' || (opt == '?' && c == 'f'))
			usage("-f needs a file");
		usage(isgraph(c) ? fmt_buf(what, sizeof what,
		    "unknown option -%c", c) : fmt_buf(what, sizeof what,
		    "unknown option (byte %d)", c));
	}
	if (optind < argc)
		usage("no arguments are taken");
	return file && *file ? file : HIQ_DEFAULT_CONF;
}

int main(int argc, char **argv)
{
	struct hiq h;
	struct err e;
	const char *file;
	int code, rfd;

	msg_init("hi-q");
	msg_oom_code = HIQ_NOMEM;
	keep_stderr();
	file = conf_file(argc, argv);
	need_fd(0, "message");
	need_fd(1, "envelope");
	rfd = reply_fd();
	if (hiq_load(file, &h, &e) < 0) {
		hiq_free(&h);
		die(HIQ_CONFIG, "%s", e.text);
	}
	hiq_run(&h);
	code = hiq_report(&h, rfd);
	hiq_free(&h);
	return code;
}
