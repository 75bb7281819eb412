/* plan.h: what qmailctl would run, shown without running it (-n, list). */
#ifndef QMAILCTL_PLAN_H
#define QMAILCTL_PLAN_H

#include <stddef.h>
#include <stdio.h>
#include "unit.h"

/* Prints, for -n, every element's exact argv, pidfile, directory,
 * environment, limits and probe of the service.  Returns EXIT_OK, or
 * EXIT_NOT_INSTALLED (having said which) when a program is missing. */
int plan_show(const struct unit *u);

/* -n's last line for the service: "would start", or "would not start:
 * exit 5, as start would exit" for rc, the code the command would have. */
void plan_verdict(const struct unit *u, const char *command, int rc);

/* One entry of `list`. */
void plan_list(const struct unit *u);

/* argv with shell-like quoting where a word needs it (blanks, quotes,
 * control bytes), so that what is shown is exactly the words that will
 * be passed; into buf (clipped), raw: print it through the writer. */
char *plan_argv(char *buf, size_t size, char *const *argv);

#endif
