/* hi-q-spamlevel: a hi-q filter that refuses what spamd scored very high.
 *
 *     hi-q-spamlevel STARS
 *
 * Copies the message from stdin to stdout unchanged (every byte, NULs
 * and a missing final newline included), and exits 1 when a header line
 * "X-Spam-Level:" (spamd writes one star per point of score) holds at
 * least STARS stars, else 0: after spamc in hi-q's filters, with "reject
 * = 1", the red of green/yellow/red (hi-q(8)).  Only the header is looked
 * at: it ends at the first empty line.  Exits 100 on bad usage, 111 when
 * it cannot read or write. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char field[] = "x-spam-level:";

struct scan {
	int in_header;
	size_t col;             /* bytes since the start of the line */
	int matching;           /* the line starts as field does, so far */
	long stars, most;
};

/* One byte of the message: where it is in the header, and what it adds. */
static void scan_byte(struct scan *s, unsigned char c)
{
	if (!s->in_header)
		return;
	if (c == '\n') {
		/* "\n" or "\r\n" alone on a line ends the header. */
		if (s->col == 0 || (s->col == 1 && s->matching == -1))
			s->in_header = 0;
		if (s->stars > s->most)
			s->most = s->stars;
		s->col = 0;
		s->matching = 1;
		s->stars = 0;
		return;
	}
	if (s->col == 0 && c == '\r')
		s->matching = -1;       /* maybe the CR of an empty line */
	else if (s->matching == 1 && s->col < sizeof field - 1)
		s->matching = (c | 0x20) == field[s->col];
	else if (s->matching == 1 && c == '*')
		s->stars++;
	else if (s->matching == -1)
		s->matching = 0;
	s->col++;
}

static int put(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(1, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[65536];
	struct scan s = { .in_header = 1, .matching = 1 };
	char *end;
	long want;
	ssize_t n, i;

	if (argc != 2 || (want = strtol(argv[1], &end, 10)) < 1 || *end) {
		fprintf(stderr, "hi-q-spamlevel: fatal: usage: hi-q-spamlevel "
		    "STARS (a number from 1)\n");
		return 100;
	}
	for (;;) {
		n = read(0, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			perror("hi-q-spamlevel: fatal: unable to read");
			return 111;
		}
		if (n == 0)
			break;
		for (i = 0; i < n && s.in_header; i++)
			scan_byte(&s, (unsigned char)buf[i]);
		if (put(buf, (size_t)n) < 0) {
			perror("hi-q-spamlevel: fatal: unable to write");
			return 111;
		}
	}
	if (s.stars > s.most)
		s.most = s.stars;
	return s.most >= want ? 1 : 0;
}
