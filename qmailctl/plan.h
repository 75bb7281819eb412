/* plan.h: what qmailctl would run, shown without running it (-n, list). */
#ifndef QMAILCTL_PLAN_H
#define QMAILCTL_PLAN_H

#include <stddef.h>
#include <stdio.h>
#include "unit.h"

/* Prints, for -n, every element's exact argv, pidfile, directory,
 * environment, limits and probe of the service. */
void plan_show(const struct unit *u, const char *command);

/* One entry of `list`. */
void plan_list(const struct unit *u);

/* argv with shell-like quoting where a word needs it (blanks, quotes,
 * control bytes), so that what is shown is exactly the words that will
 * be passed; into buf (clipped), raw: print it through the writer. */
char *plan_argv(char *buf, size_t size, char *const *argv);

#endif
