/* qmailctl-supervise NAME: a service's supervisor (qmailctl/supervise.c),
 * a program of its own so that it links without OpenSSL (nossl.c).  Only
 * qmailctl starts it: start, or `qmailctl supervise NAME` under a service
 * manager, leave it its service's settings in the environment. */
#include "msg.h"
#include "nossl.h"
#include "supervise.h"

#include <signal.h>

int main(int argc, char **argv)
{
	msg_init(argv[0]);
	msg_oom_code = EXIT_FAILED;
	/* fds 0-2 are qmailctl's choice: /dev/null for the daemon, the
	 * service manager's for the foreground supervisor */
	signal(SIGPIPE, SIG_IGN);
	nossl_init();
	return supervise_main(argc, argv);
}
