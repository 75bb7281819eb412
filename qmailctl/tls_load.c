/* tls_load.c: qmailctl's OpenSSL, loaded when first needed.  qmailctl is
 * linked with this file instead of libqmailctl-tls.a: each function that
 * needs OpenSSL is here under its own name, and loads qmailctl-tls.so
 * (tls_plugin.h says why and what) the first time it is called, then
 * calls the real one.  When the plugin cannot be loaded, the call fails
 * as the real one fails, with the reason. */
#include "tls_plugin.h"
#include "proc.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

static const struct tls_plugin *plugin;

static int plugin_matches(const struct tls_plugin *p)
{
	return p && p->abi == TLS_PLUGIN_ABI && p->size == sizeof *p &&
	    p->version && !strcmp(p->version, QMAILCTL_VERSION);
}

/* The plugin, loaded on first use; NULL with the reason in e.  It stays
 * loaded: OpenSSL is not made to be unloaded. */
static const struct tls_plugin *tls(struct err *e)
{
	char path[PATH_MAX];
	const struct tls_plugin *p;
	void *h;

	if (plugin)
		return plugin;
	if (proc_self_sibling(TLS_PLUGIN_FILE, path, sizeof path) < 0) {
		err_set(e, "unable to find " TLS_PLUGIN_FILE " beside qmailctl "
		    "(/proc/self/exe): %s", strerror(errno));
		return NULL;
	}
	/* a path with a '/': dlopen searches no library path for it */
	if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
		err_set(e, "unable to load TLS support: %s", dlerror());
		return NULL;
	}
	p = dlsym(h, TLS_PLUGIN_SYMBOL);
	if (!plugin_matches(p)) {
		err_set(e, "unable to load TLS support: %s is not qmailctl "
		    QMAILCTL_VERSION "'s", path);
		return NULL;
	}
	return plugin = p;
}

int cert_pem_read(const char *file, struct cert_pem *pem, struct err *e)
{
	const struct tls_plugin *t = tls(e);

	if (!t) {
		memset(pem, 0, sizeof *pem);
		return -1;
	}
	return t->cert_pem_read(file, pem, e);
}

/* Asked after cert_pem_read: NULL when nothing was loaded. */
const char *cert_pem_library(void)
{
	return plugin ? plugin->cert_pem_library() : NULL;
}

int cert_make_validity(const char *file, const char *hostname,
    long long not_before, long long not_after, struct err *e)
{
	const struct tls_plugin *t = tls(e);

	if (!t)
		return err_prefix(e, "certificate %s", file);
	return t->cert_make_validity(file, hostname, not_before, not_after, e);
}

int net_tls_start(struct net_conn *c, const char *certname,
    struct net_tls *t)
{
	const struct tls_plugin *p;
	struct err e;

	if (!(p = tls(&e)))
		return net_fail(c, "%s", e.text);
	return p->net_tls_start(c, certname, t);
}

/* Nothing to free when nothing was loaded. */
void net_cleanup(void)
{
	if (plugin)
		plugin->net_cleanup();
}

/* Without the plugin a hashed site has no cgroup here; cgroup_path()
 * says so. */
int cgroup_site_digest(const char *canonical_path,
    char digest[CGROUP_DIGEST_HEX + 1])
{
	const struct tls_plugin *t = tls(NULL);

	return t ? t->cgroup_site_digest(canonical_path, digest) : -1;
}
