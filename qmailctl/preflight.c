/* preflight.c: what must hold before a service is started. */
#include "preflight.h"
#include "transition.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static int check_directory(struct unit *u)
{
	struct stat st;

	if (stat(u->svc->directory, &st) < 0) {
		sayerr(u, "directory %s: %s", u->svc->directory,
		    strerror(errno));
		return EXIT_FAILED;
	}
	if (!S_ISDIR(st.st_mode)) {
		sayerr(u, "directory %s: not a directory", u->svc->directory);
		return EXIT_FAILED;
	}
	return EXIT_OK;
}

int preflight(struct unit *u)
{
	return check_directory(u);
}
