/* enable.h: persistent enable and disable of a service.
 *
 *     STATEDIR/NAME.disabled     present: NAME is disabled
 *
 * STATEDIR is the site's "statedir" (default /var/lib/qmailctl): unlike
 * the run directory, which is on a tmpfs, it survives a reboot, and that
 * is the point: `start` without service names, which is what the boot
 * runs, skips a disabled service until `enable`.  The marker is written
 * atomically (atomic.h) and the configuration is never edited, as
 * daemontools' and runit's `down` files, rcctl and systemctl do it.
 * A service named on the command line is started all the same. */
#ifndef QMAILCTL_ENABLE_H
#define QMAILCTL_ENABLE_H

#include "conf.h"
#include "opts.h"

/* 1 if the service is disabled, else 0.  Markers in a state directory
 * that others may write are not trusted: a warning, once, and 0. */
int enable_is_disabled(const struct site *site, const char *name);

/* `disable` (disable = 1) or `enable` of each of names (NULL-terminated,
 * at least one).  Returns an exit code. */
int enable_command(const struct site *site, const struct opts *opts,
    char **names, int disable);

/* The names without the disabled ones, NULL-terminated, newly allocated;
 * with -v each one skipped is said. */
char **enable_skip_disabled(const struct site *site, char **names,
    const struct opts *opts);

/* For names given explicitly: says of each disabled one that it is
 * disabled and is acted on as asked. */
void enable_note_disabled(const struct site *site, char **names,
    const struct opts *opts);

#endif
