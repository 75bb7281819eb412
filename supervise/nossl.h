/* nossl.h: what qmailctl-supervise links in place of the two parts of
 * libqmailctl that need OpenSSL (nossl.c). */
#ifndef QMAILCTL_NOSSL_H
#define QMAILCTL_NOSSL_H

/* Before anything else: takes what qmailctl left in the environment for
 * them (and removes it, as the services must not see it), and finds the
 * qmailctl that runs the TLS probes. */
void nossl_init(void);
#endif
