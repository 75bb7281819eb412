/* service.c: a service loaded whole, once (see service.h). */
#include "service.h"
#include "multilog.h"
#include "tcpserver.h"

int service_load(const struct site *site, const char *name,
    struct service *svc, struct err *e)
{
	if (conf_load_service(site, name, svc, e) < 0)
		return -1;
	if (tcpserver_load(svc, e) < 0 || multilog_load(svc, e) < 0) {
		conf_free_service(svc);
		return -1;
	}
	return 0;
}
