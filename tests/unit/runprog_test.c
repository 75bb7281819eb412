/* runprog_test: the runner of helper programs (runprog.h): stdout by
 * line (clipped, the last line without a newline), stderr kept within
 * bounds, the exit status, a program killed after its timeout, and one
 * that cannot be run. */
#include "runprog.h"
#include "msg.h"
#include "tap.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

struct seen {
	int n;
	char first[RUNPROG_LINE_MAX + 1], last[RUNPROG_LINE_MAX + 1];
	size_t first_len;
};

static void line(void *ctx, const char *l, size_t len)
{
	struct seen *s = ctx;

	if (s->n++ == 0) {
		memcpy(s->first, l, len + 1);
		s->first_len = len;
	}
	memcpy(s->last, l, len + 1);
}

/* Runs /bin/sh -c script with stdout by line into s. */
static int sh(const char *script, long timeout_ms, struct seen *s,
    struct runprog *r)
{
	char *argv[] = { "sh", "-c", (char *)script, NULL };
	char *envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct err e;

	memset(s, 0, sizeof *s);
	memset(r, 0, sizeof *r);
	r->prog = "/bin/sh";
	r->argv = argv;
	r->envp = envp;
	r->fd_in = -1;
	r->timeout_ms = timeout_ms;
	r->line = line;
	r->ctx = s;
	return runprog(r, &e);
}

int main(void)
{
	char how[64];
	struct runprog r;
	struct seen s;
	struct err e;

	msg_init("runprog_test");
	ok(sh("printf 'one\\ntwo\\nthree'", 5000, &s, &r) == 0, "runs");
	is_long(s.n, 3, "three lines, the last without a newline");
	is_str(s.first, "one", "... the first");
	is_str(s.last, "three", "... the last");
	ok(runprog_failure(&r, how, sizeof how) == NULL, "exit 0 is no failure");

	sh("head -c 5000 /dev/zero | tr '\\0' x; echo; echo after", 5000, &s,
	    &r);
	is_long(s.n, 2, "a 5000-byte line is one line");
	is_long((long long)s.first_len, RUNPROG_LINE_MAX,
	    "... clipped to RUNPROG_LINE_MAX");
	is_str(s.last, "after", "... and the next line is whole");

	sh("head -c 100000 /dev/zero | tr '\\0' e >&2; exit 3", 5000, &s, &r);
	is_long((long long)strlen(r.err), sizeof r.err - 1,
	    "stderr is kept up to its buffer, the rest read and dropped");
	is_str(runprog_failure(&r, how, sizeof how), "exited 3",
	    "the exit status in words");

	sh("echo early; exec sleep 30", 200, &s, &r);
	ok(r.timed_out && WIFSIGNALED(r.status), "killed after its timeout");
	is_str(s.first, "early", "... what it said before is there");
	is_str(runprog_failure(&r, how, sizeof how),
	    "no result after 200 ms, killed", "... and said so");

	memset(&r, 0, sizeof r);
	r.prog = "/nonexistent/prog";
	r.argv = (char *[]){ "prog", NULL };
	r.envp = (char *[]){ NULL };
	r.fd_in = -1;
	r.timeout_ms = 5000;
	ok(runprog(&r, &e) == 0 && strstr(r.err, "unable to run "
	    "/nonexistent/prog: No such file or directory") != NULL,
	    "a program that cannot be run says why on its stderr");
	is_str(runprog_failure(&r, how, sizeof how), "exited 111",
	    "... and exits 111");
	return done_testing();
}
