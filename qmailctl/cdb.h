/* cdb.h: the cdb command: rebuild a service's tcprules database.
 *
 * The database is the file tcpserver reads for every connection (the -x
 * argument in the service's run line); its source is the service's
 * "rules" key, else FILE.rules beside FILE.cdb.  With only a rules key,
 * the database is that name with .rules replaced by .cdb. */
#ifndef QMAILCTL_CDB_H
#define QMAILCTL_CDB_H

#include <stddef.h>

#include "err.h"
#include "unit.h"

/* The service's database and its source, absolute (a relative name is
 * taken against the service's directory, as tcpserver takes it): 1 with
 * src and cdb filled, 0 when the service has none, -1 with e filled when
 * the names are too long or the source would be the database. */
int cdb_paths(const struct service *svc, char *src, size_t ssize, char *cdb,
    size_t csize, struct err *e);

/* Takes the service lock, runs tcprules and confirms the new database is
 * in place.  Returns 0 (rebuilt, or the service has no database), 1 (it
 * failed: the old database, if any, is untouched) or 5 (no tcprules in
 * the service's PATH); says why with say()/sayerr(). */
int do_cdb(struct unit *u);

#endif
