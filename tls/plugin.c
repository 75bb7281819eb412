/* plugin.c: what qmailctl-tls.so gives qmailctl (tls_plugin.h).  Every
 * other symbol of the shared object is hidden (-fvisibility=hidden): it
 * calls its own functions, and qmailctl's only where it needs them. */
#include "tls_plugin.h"

__attribute__((visibility("default")))
const struct tls_plugin qmailctl_tls_plugin = {
	.abi = TLS_PLUGIN_ABI,
	.size = sizeof(struct tls_plugin),
	.version = QMAILCTL_VERSION,
	.cert_pem_read = cert_pem_read,
	.cert_pem_library = cert_pem_library,
	.cert_make_validity = cert_make_validity,
	.net_tls_start = net_tls_start,
	.net_cleanup = net_cleanup,
	.cgroup_site_digest = cgroup_site_digest,
};
