/* cdb.h: the cdb command: rebuild a service's tcprules database.
 *
 * The database is the file tcpserver reads for every connection (the -x
 * argument in the service's run line); its source is the service's
 * "rules" key, else FILE.rules beside FILE.cdb.  With only a rules key,
 * the database is that name with .rules replaced by .cdb. */
#ifndef QMAILCTL_CDB_H
#define QMAILCTL_CDB_H

#include "unit.h"

/* Takes the service lock, runs tcprules and confirms the new database is
 * in place.  Returns 0 (rebuilt, or the service has no database), 1 (it
 * failed: the old database, if any, is untouched) or 5 (no tcprules in
 * the service's PATH); says why with say()/sayerr(). */
int do_cdb(struct unit *u);

#endif
