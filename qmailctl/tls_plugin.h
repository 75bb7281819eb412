/* tls_plugin.h: qmailctl-tls.so, the part of qmailctl that needs OpenSSL.
 *
 * qmailctl links no OpenSSL.  Linking libssl and libcrypto cost every run
 * of it about 0.8 ms of the dynamic linker's relocations (measured here:
 * 1.9 ms to exec and exit against 1.1 ms without), on the path of every
 * start and stop, where nothing uses them: a start whose certificate is
 * remembered (cert_cache.h) makes no TLS, the supervisors probe through
 * TLS in a relay (probe_relay.h).  What needs OpenSSL is in this shared
 * object, found beside qmailctl as qmailctl-supervise is (whoever may
 * replace one may replace qmailctl itself), and loaded by tls_load.c on
 * first use: a certificate parsed or made, a TLS connection, a hashed
 * site's digest.  Programs that link libqmailctl-tls.a instead (the unit
 * tests) call the same functions directly.
 *
 * The table is checked before use: the plugin of another build of
 * qmailctl is refused, not called. */
#ifndef QMAILCTL_TLS_PLUGIN_H
#define QMAILCTL_TLS_PLUGIN_H

#include <stddef.h>

#include "cert.h"
#include "cgroup.h"
#include "net.h"

#define TLS_PLUGIN_FILE "qmailctl-tls.so"
#define TLS_PLUGIN_SYMBOL "qmailctl_tls_plugin"
/* Raised whenever the table below or a type it passes changes. */
#define TLS_PLUGIN_ABI 1

struct tls_plugin {
	unsigned abi;                   /* TLS_PLUGIN_ABI */
	size_t size;                    /* sizeof (struct tls_plugin) */
	const char *version;            /* QMAILCTL_VERSION */
	int (*cert_pem_read)(const char *file, struct cert_pem *pem,
	    struct err *e);
	const char *(*cert_pem_library)(void);
	int (*cert_make_validity)(const char *file, const char *hostname,
	    long long not_before, long long not_after, struct err *e);
	int (*net_tls_start)(struct net_conn *c, const char *certname,
	    struct net_tls *t);
	void (*net_cleanup)(void);
	int (*cgroup_site_digest)(const char *canonical_path,
	    char digest[CGROUP_DIGEST_HEX + 1]);
};

#endif
