/* cgroup_digest.c: the SHA-256 that names a site too long for a cgroup
 * directory (cgroup.h), OpenSSL's.  Its own file so that a program linked
 * without OpenSSL can give its own (qmailctl-supervise). */
#include "cgroup.h"

#include <string.h>

#include <openssl/evp.h>

int cgroup_site_digest(const char *canonical_path,
    char digest[CGROUP_DIGEST_HEX + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(canonical_path, strlen(canonical_path), md, &mdlen,
	    EVP_sha256(), NULL) != 1 || mdlen * 2 < CGROUP_DIGEST_HEX)
		return -1;
	for (i = 0; i < CGROUP_DIGEST_HEX / 2; i++) {
		digest[2 * i] = hex[md[i] >> 4];
		digest[2 * i + 1] = hex[md[i] & 15];
	}
	digest[CGROUP_DIGEST_HEX] = 0;
	return 0;
}
