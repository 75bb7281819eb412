/* cert_new.c: what "qmailctl cert" makes: a self-signed certificate for
 * the host qmail calls itself, valid for some days, and checked once
 * made as start will check it.  The making is cert_make.c's (OpenSSL);
 * nothing here needs OpenSSL. */
#include "cert.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int cert_make(const char *file, const char *hostname, int days,
    struct err *e)
{
	struct cert_report r;

	if (e)
		e->text[0] = 0;
	if (days <= 0)
		return err_set(e, "certificate %s: days must be positive",
		    file);
	if (cert_make_validity(file, hostname, 0, days * CERT_DAY_SECONDS,
	    e) < 0)
		return -1;
	if (cert_check(file, geteuid(), getegid(), 0, &r) < 0)
		return err_set(e, "%s", r.err.text);
	return 0;
}

const char *cert_default_hostname(const char *qmail_dir, char *buf,
    size_t size)
{
	char path[4096];
	ssize_t n = -1;
	int fd;

	snprintf(path, sizeof path, "%s/control/me", qmail_dir);
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, buf, size - 1);
		close(fd);
	}
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\r\n")] = 0;
	for (n = (ssize_t)strlen(buf); n > 0 && (buf[n - 1] == ' ' ||
	    buf[n - 1] == '\t'); n--)
		buf[n - 1] = 0;
	if (buf[0])
		return buf;
	if (gethostname(buf, size) < 0 || !buf[0])
		snprintf(buf, size, "localhost");
	buf[size - 1] = 0;
	return buf;
}
