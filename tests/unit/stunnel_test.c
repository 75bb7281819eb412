/* stunnel_test: the stunnel config as qmailctl reads it
 * (stunnel_read_conf, stunnel_exec_ids, stunnel_root) and qmail-popup's
 * checkpassword argument.  Prints TAP. */
#include "checkpassword.h"
#include "stunnel.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[64];

static void cleanup(void)
{
	if (tmpdir[0])
		rm_tree(tmpdir);
}

static void write_conf(const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof path, "%s/%s", tmpdir, name);
	if (!(f = fopen(path, "w")) || fputs(text, f) < 0 || fclose(f) != 0)
		bail_out("unable to write %s", path);
}

static void test_read(void)
{
	struct stunnel_conf c;
	struct err e;
	char want[256];

	write_conf("a.conf",
	    "; a comment\n"
	    "foreground = yes\n"
	    "  Cert =  /etc/qmailctl/servercert.pem \r\n"
	    "CAFILE=/etc/qmailctl/servercert.pem\n"
	    "exec = /var/qmail/bin/qmail-popup\n"
	    "execArgs = qmail-popup mail.example.org /var/qmail/rbin/checkpassword"
	    " /var/qmail/bin/qmail-pop3d Maildir\n"
	    "chroot = jail\n"
	    "setuid = 65534\n"
	    "garbage line without an equals sign\n");
	ok(stunnel_read_conf(tmpdir, "a.conf", &c, &e) == 0, "reads a config");
	snprintf(want, sizeof want, "%s/a.conf", tmpdir);
	is_str(c.path, want, "a relative config is taken from the directory");
	is_str(c.cert, "/etc/qmailctl/servercert.pem",
	    "keys are case-insensitive, blanks and CR trimmed");
	is_str(c.cafile, "/etc/qmailctl/servercert.pem", "CAfile");
	is_str(c.exec_args, "qmail-popup mail.example.org "
	    "/var/qmail/rbin/checkpassword /var/qmail/bin/qmail-pop3d Maildir",
	    "execArgs, whole");
	ok(c.foreground && !c.daemon_line, "foreground; no daemon section");
	snprintf(want, sizeof want, "%s/jail", tmpdir);
	is_str(stunnel_root(&c, tmpdir, (char[256]){0}, 256), want,
	    "a relative chroot is taken from the directory");

	write_conf("d.conf", "foreground = yes\n\n[pop3s]\naccept = 995\n");
	ok(stunnel_read_conf(tmpdir, "d.conf", &c, &e) == 0 &&
	    c.daemon_line == 3 && !strcmp(c.daemon_what, "[pop3s]"),
	    "a [section] is found, with its line");
	write_conf("e.conf", "accept = 995\n");
	ok(stunnel_read_conf(tmpdir, "e.conf", &c, &e) == 0 &&
	    c.daemon_line == 1 && !strcmp(c.daemon_what, "accept"),
	    "so is a global accept");
	ok(stunnel_read_conf(tmpdir, "missing.conf", &c, &e) < 0 &&
	    strstr(e.text, "No such file"), "a missing config: why");
	ok(stunnel_read_conf(tmpdir, ".", &c, &e) < 0 &&
	    strstr(e.text, "not a regular file"), "a directory is refused");
}

static void test_ids(void)
{
	struct stunnel_conf c;
	struct err e;
	uid_t uid = 7;
	gid_t gid = 8;

	memset(&c, 0, sizeof c);
	ok(stunnel_exec_ids(&c, &uid, &gid, &e) == 0 && uid == 7 && gid == 8,
	    "without setuid/setgid: tcpserver's ids");
	snprintf(c.setuid, sizeof c.setuid, "root");
	snprintf(c.setgid, sizeof c.setgid, "65534");
	ok(stunnel_exec_ids(&c, &uid, &gid, &e) == 0 && uid == 0 &&
	    gid == 65534, "setuid by name, setgid by number");
	snprintf(c.setuid, sizeof c.setuid, "no-such-user-here");
	ok(stunnel_exec_ids(&c, &uid, &gid, &e) < 0 &&
	    strstr(e.text, "setuid no-such-user-here: no such user"),
	    "an unknown setuid user: why");
}

static void test_popup(void)
{
	char *full[] = { "qmail-popup", "mail.test", "/bin/checkpassword",
	    "qmail-pop3d", "Maildir", NULL };
	char *shortv[] = { "qmail-popup", "mail.test", NULL };

	is_str(checkpassword_of_popup(full), "/bin/checkpassword",
	    "checkpassword: qmail-popup's second argument");
	ok(checkpassword_of_popup(shortv) == NULL,
	    "no second argument: none");
}

int main(void)
{
	make_tmpdir(tmpdir, sizeof tmpdir, "stunnel");
	atexit(cleanup);
	test_read();
	test_ids();
	test_popup();
	return done_testing();
}
