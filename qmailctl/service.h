/* service.h: a service loaded whole, once: its file (conf.h), then what
 * its command lines say about the peer programs (tcpserver.h,
 * multilog.h).  Every command that acts on a service loads it this way,
 * so no fact of it is worked out twice. */
#ifndef QMAILCTL_SERVICE_H
#define QMAILCTL_SERVICE_H

#include "conf.h"

/* conf_load_service(), then the peer readers.  -1 with e naming
 * FILE:LINE on any mistake (the caller exits 6); svc is then freed. */
int service_load(const struct site *site, const char *name,
    struct service *svc, struct err *e);

#endif
