#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port, home: set by tests/lib.sh
# check-config: qmail's own configuration (qmailconf.c), on a fake qmail
# home made the way notqmail's hier.c installs one: a clean tree gives
# exit 0 and no line; each finding is provoked and its one line and the
# exit code asserted; start refuses an smtp service without rcpthosts and
# starts nothing.  Then on the real notqmail (tests/notqmail.sh): a fresh
# install passes, or gives warnings only.
#
# Not tested: a home on a filesystem that lies about owners (NFS
# root_squash), and users/cdb written by a qmail-newu that is running.
. "$TESTS/lib.sh"

# shellcheck disable=SC2034 # read by skip_rest (tests/lib.sh)
PLANNED=71
for _u in qmailq alias nobody; do
	getent passwd "$_u" >/dev/null || skip_rest "no account $_u here (tests/notqmail.sh makes qmail's)"
done
[ "$(id -u)" = 0 ] || skip_rest "not root: the owners of a qmail home need root"
command -v tcprules >/dev/null 2>&1 || skip_rest "no tcprules here (tests/deps.sh)"

make_site
F=$T/qmail
echo "qmail = $F" >>"$T/qmailctl.conf"
sed -i 's/^default = .*/default = smtp pop3/' "$T/qmailctl.conf"

# fake_home: $F as notqmail's make setup and config-fast leave it.
fake_home() {
	rm -rf "$F"
	mkdir -p "$F/control" "$F/users" "$F/bin" "$F/queue" "$F/alias"
	echo mail.example.org >"$F/control/me"
	echo mail.example.org >"$F/control/rcpthosts"
	echo mail.example.org >"$F/control/locals"
	cp "$FIXTURES/greeter" "$F/bin/qmail-smtpd"
	: >"$F/bin/qmail-queue"
	chown qmailq "$F/queue" "$F/bin/qmail-queue"
	chmod 750 "$F/queue"
	chmod 4711 "$F/bin/qmail-queue"
	chown alias "$F/alias"
	chmod 2755 "$F/alias"
}
fake_home
mkdir -p "$T/tcp"
printf '127.:allow\n:deny\n' >"$T/tcp/smtp.rules"
# smtp: qmail-smtpd (the greeter under that name) behind tcpserver -x.
add_service smtp <<'SVC'
run = tcpserver -v -H -l 0 -R -x ${T}/tcp/smtp.cdb 127.0.0.1 ${smtp_port} ${qmail}/bin/qmail-smtpd smtp
log = multilog t ${T}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
# pop3: no qmail-smtpd, so no rcpthosts to need.
add_service pop3 <<'SVC'
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
log = multilog t ${T}/log/pop3
probe = tcp 127.0.0.1 ${pop3_port} +OK
SVC
mkdir -p "$T/log/smtp" "$T/log/pop3"
q cdb smtp >"$T/out" 2>&1; is_rc $? 0 "the smtp rules compile"

# cconf [ARGS]: check-config into $T/out; its exit code in $rc.
cconf() { q check-config "$@" >"$T/out" 2>&1; rc=$?; sed 's/^/# /' "$T/out"; }
lines() { wc -l <"$T/out" | tr -d ' '; }
# one_line LEVEL PATH TEXT: the output is that one finding's line.
one_line() {
	test "$(lines)" = 1 && grep -q "^qmailctl: $2: $1: $3.*: fix: ." "$T/out"
}

cconf; is_rc $rc 0 "a clean home: exit 0"
check "... and no line" test "$(lines)" = 0
q check-config --json >"$T/out" 2>&1
check "--json: no findings, no errors" test "$(cat "$T/out")" = '{"findings":[],"errors":0}'

# --- the control files ---

rm "$F/control/me"
cconf; is_rc $rc 6 "control/me missing: exit 6"
check "... one line, the path and the fix" one_line error "$F/control/me" "missing: qmail-smtpd answers every connection 421"
: >"$F/control/me"
cconf; is_rc $rc 6 "control/me empty: exit 6"
check "... one line" one_line error "$F/control/me" "empty"
q check-config --json >"$T/out" 2>&1
check "--json names it, level error, with the fix" \
	grep -q "^{\"findings\":\[{\"level\":\"error\",\"path\":\"$F/control/me\",\"problem\":\"empty: .*\",\"fix\":\"write .*\"}\],\"errors\":1}$" "$T/out"
fake_home

rm "$F/control/rcpthosts"
cconf; is_rc $rc 6 "control/rcpthosts missing with an smtp service: exit 6"
check "... one line: an open relay" one_line error "$F/control/rcpthosts" "missing: qmail-smtpd then accepts mail for any domain from anyone (an open relay)"
cconf pop3; is_rc $rc 0 "... but for pop3 alone (no qmail-smtpd): exit 0"
check "... and no line" test "$(lines)" = 0

# behind stunnel: smtps finds qmail-smtpd as stunnel's exec.
cat >"$T/smtps.conf" <<EOF
foreground = yes
exec = $F/bin/qmail-smtpd
execArgs = qmail-smtpd
EOF
add_service smtps <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 1 stunnel ${T}/smtps.conf
SVC
cconf smtps; is_rc $rc 6 "... and for smtps, qmail-smtpd behind stunnel: exit 6"
check "... the same line" one_line error "$F/control/rcpthosts" "missing"
rm "$T/services/smtps"
fake_home

rm "$F/control/locals"
cconf; is_rc $rc 0 "control/locals missing: a warning, exit 0"
check "... one line" one_line warning "$F/control/locals" "missing: qmail-send then delivers locally only the name in control/me"
q -q check-config >"$T/out" 2>&1
check "... which -q leaves out" test "$(lines)" = 0
fake_home

# --- users/assign and users/cdb ---

printf '=joe:joe:1000:1000:/home/joe:::\n.\n' >"$F/users/assign"
cconf; is_rc $rc 6 "users/assign without users/cdb: exit 6"
check "... one line, fix: qmail-newu" sh -c "grep -q '^qmailctl: $F/users/cdb: error: missing while users/assign exists: .*: fix: run $F/bin/qmail-newu$' '$T/out' && test \$(wc -l <'$T/out') = 1"
: >"$F/users/cdb"
touch -d '2 hours ago' "$F/users/cdb"
cconf; is_rc $rc 0 "users/cdb older than users/assign: a warning, exit 0"
check "... one line" one_line warning "$F/users/cdb" "older than users/assign"
touch "$F/users/cdb"
cconf; is_rc $rc 0 "users/cdb rebuilt: exit 0"
check "... and no line" test "$(lines)" = 0
fake_home

# --- the tcprules database ---

touch -d '1 hour ago' "$T/tcp/smtp.cdb"
cconf; is_rc $rc 0 "smtp.cdb older than smtp.rules: a warning, exit 0"
check "... one line, fix: qmailctl cdb smtp" sh -c "grep -q '^qmailctl: $T/tcp/smtp.cdb: warning: older than $T/tcp/smtp.rules: .*: fix: qmailctl cdb smtp$' '$T/out' && test \$(wc -l <'$T/out') = 1"
q cdb smtp >/dev/null 2>&1
cconf; is_rc $rc 0 "after qmailctl cdb: exit 0"
check "... and no line" test "$(lines)" = 0
mv "$T/tcp/smtp.cdb" "$T/tcp/smtp.cdb.away"
cconf; is_rc $rc 6 "smtp.cdb missing: exit 6"
check "... one line" one_line error "$T/tcp/smtp.cdb" "missing: tcpserver drops every connection"
mv "$T/tcp/smtp.cdb.away" "$T/tcp/smtp.cdb"

# --- owners and modes, as hier.c installs them ---

chown root "$F/queue"
cconf; is_rc $rc 6 "queue not owned by qmailq: exit 6"
check "... one line" one_line error "$F/queue" "owned by uid 0, not qmailq"
chown qmailq "$F/queue"; chmod 770 "$F/queue"
cconf; is_rc $rc 6 "queue writable by its group: exit 6"
check "... one line" one_line error "$F/queue" "writable by group or others"
chmod 755 "$F/queue"
cconf; is_rc $rc 0 "queue mode 0755: a warning, exit 0"
check "... one line, the mode qmail installs" one_line warning "$F/queue" "mode 0755, where qmail installs it 0750"
fake_home

chmod 711 "$F/bin/qmail-queue"
cconf; is_rc $rc 6 "qmail-queue not setuid: exit 6"
check "... one line: mail cannot be queued" one_line error "$F/bin/qmail-queue" "not setuid qmailq (uid [0-9]*, mode 0711): mail cannot be queued"
chmod 4711 "$F/bin/qmail-queue"; chown root "$F/bin/qmail-queue"
cconf; is_rc $rc 6 "qmail-queue setuid root: exit 6"
check "... one line" one_line error "$F/bin/qmail-queue" "not setuid qmailq"
fake_home

chown root "$F/alias"
cconf; is_rc $rc 6 "alias/ not owned by alias: exit 6"
check "... one line" one_line error "$F/alias" "not a directory owned by alias"
fake_home

chmod 777 "$T/log/smtp"
cconf; is_rc $rc 6 "a log directory writable by others: exit 6"
check "... one line, fix: chmod o-w" sh -c "grep -q '^qmailctl: $T/log/smtp: error: log directory writable by others: .*: fix: chmod o-w $T/log/smtp$' '$T/out' && test \$(wc -l <'$T/out') = 1"
chmod 755 "$T/log/smtp"
chown nobody "$T/log/smtp"
cconf; is_rc $rc 0 "a log directory not the logger's: a warning, exit 0"
check "... one line, fix: chown" one_line warning "$T/log/smtp" "log directory owned by uid [0-9]*, not by the logger's account root"
chown root "$T/log/smtp"
sed -i 's|^log = multilog|log = setuidgid qcnosuchuser multilog|' "$T/services/pop3"
cconf pop3; is_rc $rc 6 "a logger's account that does not exist: exit 6"
check "... one line" one_line error "$T/log/pop3" "the logger's account qcnosuchuser does not exist"
sed -i 's|^log = setuidgid qcnosuchuser multilog|log = multilog|' "$T/services/pop3"
rmdir "$T/log/pop3"; : >"$T/log/pop3"
cconf pop3; is_rc $rc 6 "a log directory that is a file: exit 6"
check "... one line" one_line error "$T/log/pop3" "log directory: not a directory"
rm "$T/log/pop3"; mkdir "$T/log/pop3"

# A symlink in a directory another user may change is never followed.
mkdir "$T/elsewhere"
chown nobody "$T/log"
rmdir "$T/log/pop3"; ln -s "$T/elsewhere" "$T/log/pop3"
cconf pop3; is_rc $rc 6 "a log directory that is a symlink in a directory nobody owns: exit 6"
check "... one line: not followed" one_line error "$T/log/pop3" "log directory: a symlink in a directory others may change (not followed)"
chown root "$T/log"
cconf pop3; is_rc $rc 0 "... the same symlink in root's directory is followed: exit 0"
rm "$T/log/pop3"; mkdir "$T/log/pop3"

# A home of symlinks: root's own, so followed.
mv "$F/control" "$T/control.real"; ln -s "$T/control.real" "$F/control"
cconf; is_rc $rc 0 "control a symlink in root's home: followed, exit 0"
rm "$F/control"; mv "$T/control.real" "$F/control"

# --- start makes the checks that stop a service from working ---

rm "$F/control/rcpthosts"
q start smtp >"$T/out" 2>&1; is_rc $? 6 "start smtp without rcpthosts: exit 6"
sed 's/^/# /' "$T/out"
check "... one line, the path and the fix" sh -c "grep -q '^smtp: failed: $F/control/rcpthosts: missing: .*open relay.*: fix: ' '$T/out' && test \$(wc -l <'$T/out') = 1"
check "... and nothing started" test -z "$(pidfiles_in "$T/run")"
check "... the port is free" sh -c "! '$FIXTURES/client' 127.0.0.1 $smtp_port >/dev/null 2>&1"
q -n start smtp >"$T/out" 2>&1; is_rc $? 6 "-n start makes the same check: exit 6"
fake_home
chmod 711 "$F/bin/qmail-queue"
q start smtp >"$T/out" 2>&1; is_rc $? 6 "start smtp with qmail-queue not setuid: exit 6"
check "... says so" grep -q "^smtp: failed: $F/bin/qmail-queue: not setuid qmailq" "$T/out"
fake_home
rm "$F/control/locals"
chown nobody "$T/log/smtp"; chmod 777 "$T/log/smtp"
q start smtp >"$T/out" 2>&1; is_rc $? 6 "start smtp with a log directory others may write: exit 6"
check "... says so" grep -q "^smtp: failed: $T/log/smtp: log directory writable by others" "$T/out"
chmod 755 "$T/log/smtp"
q start smtp >"$T/out" 2>&1; is_rc $? 0 "start with warnings only (log directory not the logger's): exit 0"
sed 's/^/# /' "$T/out"
check "... the warning printed" grep -q "^smtp: warning: $T/log/smtp: log directory owned by uid [0-9]*, not by the logger's account root: fix: chown root $T/log/smtp$" "$T/out"
check "... and what start does not need (locals) not checked" sh -c "! grep -q locals '$T/out'"
check "... started" grep -q '^smtp: started' "$T/out"
q stop smtp >/dev/null 2>&1
chown root "$T/log/smtp"
rm "$F/control/me" "$F/control/rcpthosts" "$F/bin/qmail-queue"
q start pop3 >"$T/out" 2>&1; is_rc $? 0 "pop3 needs none of qmail's files: started with a broken home"
q stop pop3 >/dev/null 2>&1

# --- the real notqmail: a fresh install passes ---

notqmail_home
sed -i "s|^qmail = .*|qmail = $home|" "$T/qmailctl.conf"
add_service send <<SVC
run = qmail-start ./Maildir/
directory = $home
SVC
cconf smtp send; is_rc $rc 0 "the real notqmail home: exit 0"
check "... warnings only, if any" sh -c "! grep -v ': warning: ' '$T/out' | grep -q ."
q check-config --json smtp send >"$T/out" 2>&1
check "... --json: no errors" grep -q '"errors":0}$' "$T/out"

done_testing
