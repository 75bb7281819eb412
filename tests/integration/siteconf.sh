#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# The keys qmailctl itself reads from the site config, and the probe's
# EXPECT, are checked when the file is loaded: a bad value is exit 6 with
# FILE:LINE, whatever the command, and nothing is done (qmailctl.conf(5)).
. "$TESTS/lib.sh"

make_site
add_plain_services
qf() { _c=$1; shift; timeout -k 5 20 "$QMAILCTL" -f "$_c" "$@"; }
# site NAME LINE: $T/NAME.conf, the test site plus LINE; n is LINE's number.
site() { { cat "$T/qmailctl.conf"; echo "$2"; } >"$T/$1.conf"; }
n=$(($(wc -l <"$T/qmailctl.conf") + 1))
nothing_started() { test ! -e "$T/run/smtp.pid"; }

# refused NAME LINE MESSAGE: the site with LINE is refused by start and by
# status, naming FILE:LINE.
refused() {
	site "$1" "$2"
	qf "$T/$1.conf" start smtp >"$T/out" 2>&1
	is_rc $? 6 "'$2': start exits 6"
	check "... naming FILE:LINE: $3" grep -qxF \
		"qmailctl: fatal: $T/$1.conf:$n: $3" "$T/out"
	check "... and nothing was started" nothing_started
	qf "$T/$1.conf" status smtp >/dev/null 2>&1
	is_rc $? 6 "... status exits 6 too"
}

refused cgroup 'cgroup = bogus' "bad value 'bogus' for 'cgroup' (auto or no)"
refused days 'cert_warn_days = soon' \
	"bad number 'soon' for 'cert_warn_days' (whole days from 0 to 3650)"
refused days 'cert_warn_days = 3651' \
	"bad number '3651' for 'cert_warn_days' (whole days from 0 to 3650)"
labels="labels of letters, digits and '-', joined by dots"
refused host 'hostname = mail..example.org' \
	"bad host name 'mail..example.org' for 'hostname' ($labels)"
refused qmail 'qmail = var/qmail' "'qmail' must be an absolute path"

site good 'cert_warn_days = 0'
qf "$T/good.conf" -n start smtp >/dev/null 2>&1
is_rc $? 0 "cert_warn_days = 0 is accepted"
site good 'cgroup = no'
qf "$T/good.conf" -n start smtp >/dev/null 2>&1
is_rc $? 0 "cgroup = no is accepted"

# An EXPECT longer than a greeting line the probe reads (1024 bytes with
# its newline) could never match: every start would wait out its timeout.
long=$(head -c 1024 /dev/zero | tr '\0' 2)
cat >"$T/services/long" <<SVC
run = tcpserver -v -H -l 0 -R 127.0.0.1 \${smtp_port} \${fixtures}/greeter smtp
probe = tcp 127.0.0.1 \${smtp_port} $long
SVC
q -n start long >"$T/out" 2>&1
is_rc $? 6 "a probe EXPECT of 1024 bytes: -n start exits 6"
check "... naming FILE:LINE and the bound" grep -qxF "qmailctl: fatal: \
$T/services/long:2: probe EXPECT of 1024 bytes can never match: \
a greeting line holds at most 1023 bytes" "$T/out"
q start long >/dev/null 2>&1
is_rc $? 6 "... start exits 6 at once"
check "... and nothing was started" test ! -e "$T/run/long.pid"
sed -i 's/ 2\(2*\)$/ \1/' "$T/services/long"
q -n start long >/dev/null 2>&1
is_rc $? 0 "a probe EXPECT of 1023 bytes is accepted"

done_testing
