/* port: prints a TCP port of 127.0.0.1 that is free now and lies below
 * the kernel's ephemeral range (net.ipv4.ip_local_port_range).
 *
 *     port [SEED]
 *
 * Why not tests/fixtures/freeport (bind to port 0)?  That port comes from
 * the ephemeral range, and the benchmark stops and starts its listeners
 * hundreds of times: while a listener is down, the kernel may hand its
 * port to anyone's next bind(0) (another test run on the same machine) or
 * to an outgoing connection's local end, and the next start fails with
 * "address already used".  No bind(0) and no connect() ever takes a port
 * below the ephemeral range.  The port is picked at random from the 16384
 * below it (or from 1024 up, if the range starts lower), and checked by
 * binding it; at most 500 tries.  Exits 0, or 111 when none is free. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TRIES 500
#define SPAN 16384

static int free_now(int port)
{
	struct sockaddr_in sa = { 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	if (fd < 0)
		return 0;
	sa.sin_family = AF_INET;
	sa.sin_port = htons((unsigned short)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
	close(fd);
	return ok;
}

int main(int argc, char **argv)
{
	int lo = 32768, hi, i;
	FILE *f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");

	if (f) {
		if (fscanf(f, "%d", &lo) != 1)
			lo = 32768;
		fclose(f);
	}
	hi = lo;                        /* first port we may not use */
	lo = hi - SPAN < 1024 ? 1024 : hi - SPAN;
	if (hi - lo < 64) {
		fprintf(stderr, "port: fatal: no room below the ephemeral range\n");
		return 111;
	}
	srand((unsigned)(argc > 1 ? atoi(argv[1]) : 0) ^ (unsigned)getpid() ^
	    (unsigned)time(NULL));
	for (i = 0; i < TRIES; i++) {
		int p = lo + rand() % (hi - lo);

		if (free_now(p)) {
			printf("%d\n", p);
			return 0;
		}
	}
	fprintf(stderr, "port: fatal: no free port found in %d tries\n", TRIES);
	return 111;
}
