#!/bin/sh
# TLS services: smtps, pop3 (STLS required) and pop3s through the real
# tcpserver and stunnel (inetd mode) with the stand-in greeter behind
# them, as the shipped services run them: tcpserver drops to nobody/nogroup
# before it runs stunnel.  Starts are confirmed through the whole chain,
# seen from outside by openssl s_client; a start that cannot work (the
# certificate or the stunnel config) is refused with its reason and
# leaves nothing running.  And `qmailctl cert`.
#
# And checkpassword: refused before start when it is missing or the POP3
# user may not run it, a warning when it is setuid and others may.
#
# Not tested here: a chroot in the stunnel config (it needs a tree of
# programs and libraries inside it); a real checkpassword (not packaged).
. "$TESTS/lib.sh"

# Everything below $T is read by uid nobody (stunnel's config and cert).
chmod 755 "$T"
mkdir -p "$T/services" "$T/log" "$T/stunnel"
smtps_port=$(free_port) pop3_port=$(free_port) pop3s_port=$(free_port)
bad_port=$(free_port)
cat >"$T/qmailctl.conf" <<CONF
services = services
rundir = run
default = smtps pop3 pop3s
path = /usr/local/bin:/usr/bin:/bin
hostname = mail.example.org
fixtures = $FIXTURES
T = $T
smtps_port = $smtps_port
pop3_port = $pop3_port
pop3s_port = $pop3s_port
bad_port = $bad_port
CONF

add_tls_services

# ---- qmailctl cert ----

q cert >"$T/out" 2>&1
is_rc $? 0 "cert without FILE makes the default services' certificate"
sed 's/^/# /' "$T/out"
check "... and says what it wrote" \
	grep -qx "cert: wrote $T/cert.pem (CN mail.example.org, expires in 365 days)" "$T/out"
check "... mode 0640, group nogroup: the services' group may read the key" \
	test "$(stat -c '%a %U %G' "$T/cert.pem")" = "640 root nogroup"
openssl x509 -in "$T/cert.pem" -noout -subject >"$T/subj" 2>&1
check "openssl reads the certificate; CN from the site's hostname" \
	grep -q 'CN *= *mail.example.org' "$T/subj"
openssl x509 -in "$T/cert.pem" -noout -ext subjectAltName >"$T/san" 2>&1
check "... subjectAltName DNS:mail.example.org" grep -q 'DNS:mail.example.org' "$T/san"
openssl x509 -in "$T/cert.pem" -noout -pubkey >"$T/pub.cert" 2>/dev/null
openssl pkey -in "$T/cert.pem" -pubout >"$T/pub.key" 2>/dev/null
check "... and the key in it is the certificate's key" \
	sh -c "test -s '$T/pub.key' && cmp -s '$T/pub.cert' '$T/pub.key'"
openssl x509 -in "$T/cert.pem" -noout -text >"$T/text" 2>/dev/null
check "... an EC P-256 key" grep -q 'prime256v1\|P-256' "$T/text"

cp "$T/cert.pem" "$T/cert.before"
q cert >"$T/out" 2>&1
is_rc $? 1 "cert refuses to replace an existing file"
check "... says what the file holds and how to replace it" \
	grep -q "cert: $T/cert.pem exists (a certificate for 'mail.example.org'.*--force" "$T/out"
check "... and left it as it was" cmp -s "$T/cert.pem" "$T/cert.before"
q cert --force "$T/cert.pem" >"$T/out" 2>&1
is_rc $? 0 "cert --force replaces it"
check "... with a new key" sh -c "! cmp -s '$T/cert.pem' '$T/cert.before'"
q cert "$T/other.pem" >/dev/null 2>&1
is_rc $? 0 "cert FILE writes a file no service uses"
check "... mode 0600, owned by root" test "$(stat -c '%a %U %G' "$T/other.pem")" = "600 root root"
q -n cert "$T/dry.pem" >"$T/out" 2>&1
is_rc $? 0 "cert -n exits 0"
check "... says what it would write, and writes nothing" \
	sh -c "grep -q 'would write $T/dry.pem' '$T/out' && test ! -e '$T/dry.pem'"
q cert "$T/a.pem" "$T/b.pem" >/dev/null 2>&1
is_rc $? 2 "cert takes one FILE"
q --force status >/dev/null 2>&1
is_rc $? 2 "--force goes with cert only"

# Without hostname, the name is qmail's control/me.
mkdir -p "$T/qmail/control"
echo "me.example.net" >"$T/qmail/control/me"
sed -e '/^hostname/d' -e "\$a qmail = $T/qmail" "$T/qmailctl.conf" >"$T/me.conf"
"$QMAILCTL" -f "$T/me.conf" cert "$T/me.pem" >/dev/null 2>&1
openssl x509 -in "$T/me.pem" -noout -subject >"$T/subj" 2>&1
check "without hostname, the CN is the first line of QMAIL/control/me" \
	grep -q 'CN *= *me.example.net' "$T/subj"

# ---- start through the whole chain ----

q start smtps pop3 pop3s >"$T/out" 2>&1
is_rc $? 0 "smtps, pop3 and pop3s start, confirmed"
sed 's/^/# /' "$T/out"
check "each is reported started" test "$(grep -c 'started (tcpserver [0-9]*, multilog [0-9]*), ready in' "$T/out")" = 3
check "no warning for a key of mode 0640 in the services' group" sh -c "! grep -q warning '$T/out'"

s_client 'QUIT\r\n' -connect "127.0.0.1:$smtps_port" >"$T/s" 
check "openssl s_client gets the smtps greeting over TLS" grep -q '^220 mail.example.org ESMTP' "$T/s"
s_client 'QUIT\r\n' -connect "127.0.0.1:$pop3s_port" >"$T/s"
check "openssl s_client gets the pop3s greeting over TLS" grep -q '^+OK <' "$T/s"
s_client 'NOOP\r\nQUIT\r\n' -starttls pop3 -connect "127.0.0.1:$pop3_port" >"$T/s"
check "openssl s_client -starttls pop3: qmail-popup answers over TLS" grep -q '^+OK' "$T/s"

"$FIXTURES/client" 127.0.0.1 "$pop3_port" "USER x" "PASS secret" >"$T/plain" 2>&1
sed 's/^/# plain pop3: /' "$T/plain"
check "pop3 without STLS: the greeting, then no answer to USER (dropped)" \
	test "$(wc -l <"$T/plain")" = 1
check "... and no +OK ever after the greeting" sh -c "! sed 1d '$T/plain' | grep -q '^+OK'"

# Who runs what: hold an smtps session open and look at its processes.
children() { cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$1" '$4 == p { print $1 }'; }
uids() { awk '/^Uid:/ { print $2, $3, $4, $5 }' "/proc/$1/status" 2>/dev/null; }
(sleep 2; printf 'QUIT\r\n') | timeout 10 openssl s_client -quiet \
	-connect "127.0.0.1:$smtps_port" >/dev/null 2>&1 &
hold=$!
track_pid "$hold"
tcpsrv=$(pid_of smtps)
# session_up: some stunnel under tcpserver has a program under it;
# sets _st and _gr to their pids.
session_up() {
	for _st in $(children "$tcpsrv"); do
		_gr=$(children "$_st" | head -n 1)
		[ -n "$_gr" ] && return 0
	done
	return 1
}
if wait_for 5 session_up; then
	check "stunnel runs as nobody (uid, euid, saved, fs)" test "$(uids "$_st")" = "65534 65534 65534 65534"
	check "... and so does the program it execs" test "$(uids "$_gr")" = "65534 65534 65534 65534"
	check "... in group nogroup only" \
		test "$(awk '/^Gid:/ { print $2, $3 } /^Groups:/ { print $2 }' "/proc/$_gr/status" | tr '\n' ' ')" = "65534 65534 65534 "
else
	fail "an smtps session shows stunnel and the program behind it"
	fail "(skipped: stunnel's uid)"
	fail "(skipped: group)"
fi
wait "$hold" 2>/dev/null

q stop smtps pop3 pop3s >/dev/null 2>&1
is_rc $? 0 "they stop"

# The probe through TLS says its goodbye after its answer: by its QUIT
# the supervisor has recorded the service up.
bye_server byetls
bye_port=$(free_port)
stunnel_conf byetls smtp "$T/cert.pem"
sed -i "s|^exec = .*|exec = $T/bye/byetls|; /^execArgs/d" "$T/stunnel/byetls.conf"
add_service byetls <<SVC
run = tcpserver -v -R -H -l 0 -u \${uid:nobody} -g \${gid:nogroup} 127.0.0.1 $bye_port stunnel \${T}/stunnel/byetls.conf
log = multilog t \${T}/log/byetls
probe = tls 127.0.0.1 $bye_port 220
SVC
bye_check byetls "a TLS service whose program notes its QUIT"

# ---- the shipped stunnel configs: no error line per connection ----

# services/stunnel/*.conf as shipped, with only the paths changed: the
# certificate, and the stand-in greeter for qmail-popup and qmail-smtpd.
# shipped_conf NAME GREETER-MODE: $T/stunnel/ship_NAME.conf.
shipped_conf() {
	sed -e "s|/etc/qmailctl/servercert.pem|$T/cert.pem|" \
		-e "s|^exec = .*|exec = $FIXTURES/greeter|" \
		-e "s|^execArgs = .*|execArgs = greeter $2 mail.example.org|" \
		"$TOP/services/stunnel/$1.conf" >"$T/stunnel/ship_$1.conf"
}
# errors_in NAME: stunnel's error lines (LOG0 to LOG3) in the service's log.
errors_in() { grep 'LOG[0-3]\[' "$T/log/$1/current" 2>/dev/null; }
ship_smtps_port=$(free_port) ship_pop3_port=$(free_port) ship_pop3s_port=$(free_port)
cat >>"$T/qmailctl.conf" <<CONF
ship_smtps_port = $ship_smtps_port
ship_pop3_port = $ship_pop3_port
ship_pop3s_port = $ship_pop3s_port
CONF
shipped_conf smtps smtp
shipped_conf pop3 pop3
shipped_conf pop3s pop3
tls_service ship_smtps ship_smtps_port 'tls 127.0.0.1 ${ship_smtps_port} 220'
tls_service ship_pop3 ship_pop3_port 'pop3-stls 127.0.0.1 ${ship_pop3_port}'
tls_service ship_pop3s ship_pop3s_port 'tls 127.0.0.1 ${ship_pop3s_port} +OK'
q start ship_smtps ship_pop3 ship_pop3s >"$T/out" 2>&1
is_rc $? 0 "the shipped stunnel configs start (paths changed only)"
sed 's/^/# /' "$T/out"
q check ship_smtps ship_pop3 ship_pop3s >"$T/out" 2>&1
is_rc $? 0 "... and check probes them"
q stop ship_smtps ship_pop3 ship_pop3s >/dev/null 2>&1
for _s in smtps pop3 pop3s; do
	errors_in "ship_$_s" | sed "s/^/# ship_$_s: /"
	check "$_s.conf: two probes leave no error line in the log" \
		sh -c "test -s '$T/log/ship_$_s/current' && ! grep -q 'LOG[0-3]\\[' '$T/log/ship_$_s/current'"
done
# A CAfile that is not there: stunnel says nothing at start, and logs
# the error on every connection; qmailctl warns.
sed -i "s|^CAfile = .*|CAfile = $T/no-such-ca.pem|" "$T/stunnel/ship_pop3s.conf"
q start ship_pop3s >"$T/out" 2>&1
is_rc $? 0 "a CAfile that does not exist: the start goes on"
check "... with a warning" \
	grep -q "^ship_pop3s: warning: stunnel config $T/stunnel/ship_pop3s.conf: CAfile $T/no-such-ca.pem: No such file or directory" "$T/out"
q stop ship_pop3s >/dev/null 2>&1
# The same config without its CAfile line is what logged the error.
sed -i '/^CAfile/d' "$T/stunnel/ship_smtps.conf"
rm -rf "$T/log/ship_smtps"
q start ship_smtps >/dev/null 2>&1
q stop ship_smtps >/dev/null 2>&1
check "... without CAfile, stunnel 5.68 logs 'No trusted certificates found' (what CAfile is for)" \
	sh -c "! stunnel -version 2>&1 | grep -q 'stunnel 5\\.[0-6][0-9] ' || grep -q 'LOG3.*No trusted certificates found' '$T/log/ship_smtps/current'"

# ---- certificates a start refuses ----

# The service "bad" uses $T/bad.pem, behind its own stunnel config.
stunnel_conf bad smtp "$T/bad.pem"
tls_service bad bad_port 'tls 127.0.0.1 ${bad_port} 220' '${T}/bad.pem'
nothing_left() {
	test ! -e "$T/run/bad.pid" && test ! -e "$T/run/bad.log.pid" &&
		! "$FIXTURES/client" 127.0.0.1 "$bad_port" >/dev/null 2>&1
}
# refused WHAT EXPECTED-TEXT: start bad fails, exit 1, with the reason.
refused() {
	q start bad >"$T/out" 2>&1
	is_rc $? "${3:-1}" "start refused: $1"
	sed 's/^/# /' "$T/out"
	check "... the reason: $2" grep -q "^bad: failed: .*$2" "$T/out"
	check "... nothing left running" nothing_left
}
openssl_cert() {     # openssl_cert FILE CN [openssl req options]
	_f=$1 _cn=$2; shift 2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-subj "/CN=$_cn" -keyout "$_f.key" -out "$_f.crt" -days 365 "$@" >/dev/null 2>&1
	cat "$_f.crt" "$_f.key" >"$_f"
	rm -f "$_f.key" "$_f.crt"
	chgrp nogroup "$_f"
	chmod 640 "$_f"
}

rm -f "$T/bad.pem"
refused "missing certificate" "certificate $T/bad.pem: No such file or directory"

openssl_cert "$T/a.pem" a.test
openssl_cert "$T/b.pem" b.test
openssl x509 -in "$T/a.pem" >"$T/bad.pem"
chgrp nogroup "$T/bad.pem"; chmod 640 "$T/bad.pem"
refused "certificate without a key" "certificate $T/bad.pem: no private key in file"

{ openssl x509 -in "$T/a.pem"; openssl pkey -in "$T/b.pem"; } >"$T/bad.pem"
chgrp nogroup "$T/bad.pem"; chmod 640 "$T/bad.pem"
refused "the key of another certificate" "certificate $T/bad.pem: key does not match certificate"

openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=old.test \
	-keyout "$T/old.key" -out "$T/old.csr" >/dev/null 2>&1
openssl x509 -req -in "$T/old.csr" -signkey "$T/old.key" -days -1 -out "$T/old.crt" >/dev/null 2>&1
cat "$T/old.crt" "$T/old.key" >"$T/bad.pem"
chgrp nogroup "$T/bad.pem"; chmod 640 "$T/bad.pem"
refused "an expired certificate" "certificate $T/bad.pem: expired 1 day ago"

cp "$T/a.pem" "$T/bad.pem"
chgrp root "$T/bad.pem"; chmod 600 "$T/bad.pem"
refused "a certificate uid nobody cannot read" "certificate $T/bad.pem: not readable by uid 65534"

mkdir -m 700 "$T/private"
cp "$T/a.pem" "$T/private/bad.pem"; chgrp nogroup "$T/private/bad.pem"; chmod 640 "$T/private/bad.pem"
stunnel_conf bad smtp "$T/private/bad.pem"
tls_service bad bad_port 'tls 127.0.0.1 ${bad_port} 220' '${T}/private/bad.pem'
refused "a certificate in a directory nobody cannot enter" "directory $T/private is not searchable"

# The other services still start beside a refused one.
q start bad smtps >"$T/out" 2>&1
is_rc $? 1 "start bad smtps: exit 1"
check "... smtps started" grep -q '^smtps: started' "$T/out"
check "... bad did not" sh -c "grep -q '^bad: failed' '$T/out' && test ! -e '$T/run/bad.pid'"
q stop smtps >/dev/null 2>&1

# A key others may read: a warning, not a refusal.
cp "$T/a.pem" "$T/bad.pem"; chmod 644 "$T/bad.pem"
stunnel_conf bad smtp "$T/bad.pem"
tls_service bad bad_port 'tls 127.0.0.1 ${bad_port} 220' '${T}/bad.pem'
q start bad >"$T/out" 2>&1
is_rc $? 0 "a key readable by others: the start goes on"
check "... with a warning" grep -q "^bad: warning: certificate $T/bad.pem: private key readable by others (mode 0644)" "$T/out"
q stop bad >/dev/null 2>&1
cp "$T/a.pem" "$T/bad.pem"; chgrp nogroup "$T/bad.pem"; chmod 640 "$T/bad.pem"

# ---- checkpassword, the setuid program behind qmail-popup ----

# A qmail-popup that takes qmail-popup's arguments (HOSTNAME
# CHECKPASSWORD ...) and greets as the stand-in does; the pop3s service
# "cp" runs it from its stunnel config, as the shipped pop3s does.
mkdir -p "$T/bin"
printf '#!/bin/sh\nexec %s pop3 "$1"\n' "$FIXTURES/greeter" >"$T/bin/qmail-popup"
chmod 755 "$T/bin/qmail-popup"
cp_port=$(free_port)
echo "cp_port = $cp_port" >>"$T/qmailctl.conf"
stunnel_conf cp pop3 "$T/cert.pem"
sed -i -e "s|^exec = .*|exec = $T/bin/qmail-popup|" \
	-e "s|^execArgs = .*|execArgs = qmail-popup mail.example.org $T/rbin/checkpassword /bin/true Maildir|" \
	"$T/stunnel/cp.conf"
tls_service cp cp_port 'tls 127.0.0.1 ${cp_port} +OK'
cp_nothing_left() {
	test ! -e "$T/run/cp.pid" && ! "$FIXTURES/client" 127.0.0.1 "$cp_port" >/dev/null 2>&1
}
# cp_refused WHAT EXPECTED-TEXT
cp_refused() {
	q start cp >"$T/out" 2>&1
	is_rc $? 5 "pop3s start refused: $1 (exit 5)"
	sed 's/^/# /' "$T/out"
	check "... the reason: $2" grep -q "^cp: failed: $2" "$T/out"
	check "... nothing left running" cp_nothing_left
}

cp_refused "checkpassword missing" \
	"checkpassword $T/rbin/checkpassword is not installed (qmail-popup's argument in stunnel config $T/stunnel/cp.conf)"
q check cp >/dev/null 2>&1
is_rc $? 2 "... and check does not say OK (not running)"

# The install guide's rule: setuid root, in a directory only the POP3
# user (here nobody) may enter.
mkdir -m 500 "$T/rbin"
printf '#!/bin/sh\nexit 1\n' >"$T/rbin/checkpassword"
chmod 4755 "$T/rbin/checkpassword"
cp_refused "checkpassword in a directory the POP3 user cannot enter" \
	"checkpassword $T/rbin/checkpassword is not executable by uid 65534 (directory $T/rbin is not searchable"
chown nobody "$T/rbin"
chmod 4700 "$T/rbin/checkpassword"
cp_refused "checkpassword the POP3 user may not run" \
	"checkpassword $T/rbin/checkpassword is not executable by uid 65534 (owner 0, group 0, mode 4700"
chmod 4755 "$T/rbin/checkpassword"
q start cp >"$T/out" 2>&1
is_rc $? 0 "checkpassword as the install guide says: pop3s starts"
check "... without a warning" sh -c "! grep -q warning '$T/out'"
q stop cp >/dev/null 2>&1
chmod 755 "$T/rbin"
q start cp >"$T/out" 2>&1
is_rc $? 0 "a setuid checkpassword any user may run: pop3s starts"
sed 's/^/# /' "$T/out"
check "... with a warning that says so" \
	grep -q "^cp: warning: checkpassword $T/rbin/checkpassword is setuid, and users other than uid 65534 may run it (any user may)" "$T/out"
q stop cp >/dev/null 2>&1

# qmail-popup on the service's run line, checkpassword a bare name:
# looked up in the service's PATH, as qmail-popup's execvp does.
add_service cpplain <<'SVC'
description = qmail-popup behind tcpserver, checkpassword from PATH
run = tcpserver -v -H -l 0 -R -u ${uid:nobody} -g ${gid:nogroup} 127.0.0.1 ${cp_port} ${T}/bin/qmail-popup mail.example.org no-such-checkpassword /bin/true Maildir
log = multilog t ${T}/log/cpplain
probe = tcp 127.0.0.1 ${cp_port} +OK
SVC
q start cpplain >"$T/out" 2>&1
is_rc $? 5 "run line: a checkpassword in no directory of PATH is refused (exit 5)"
check "... saying where it looked" \
	grep -q "^cpplain: failed: checkpassword no-such-checkpassword is not installed (not found in /usr/local/bin:/usr/bin:/bin; qmail-popup's argument in the service's run line)" "$T/out"

# ---- stunnel configs a start refuses ----

stunnel_conf bad smtp "$T/bad.pem"
sed -i "s|^exec = .*|exec = $T/no-such-program|" "$T/stunnel/bad.conf"
refused "stunnel's exec target is missing" \
	"stunnel config $T/stunnel/bad.conf: exec $T/no-such-program is not installed" 5

# Who runs it is tcpserver's -u user: the kernel's answer for that user.
printf '#!/bin/sh\n' >"$T/root-only-program"; chmod 700 "$T/root-only-program"
stunnel_conf bad smtp "$T/bad.pem"
sed -i "s|^exec = .*|exec = $T/root-only-program|" "$T/stunnel/bad.conf"
refused "stunnel's exec target is not executable by the service's user" \
	"stunnel config $T/stunnel/bad.conf: exec $T/root-only-program is not executable by uid 65534 (owner 0, group 0, mode 0700)" 5

stunnel_conf bad smtp "$T/bad.pem" "sslVersionMin = TLSv9"
refused "stunnel rejects its config" "stunnel config $T/stunnel/bad.conf:[0-9]*: .*sslVersionMin = TLSv9.*(stunnel exited 1)"

other_port=$(free_port)
stunnel_conf bad smtp "$T/bad.pem" "[smtps]
accept = 127.0.0.1:$other_port"
refused "a stunnel config with a [section] (not inetd mode)" \
	"stunnel config $T/stunnel/bad.conf:[0-9]*: \\[smtps\\]: tcpserver runs stunnel in inetd mode"
check "... and no stunnel daemon was started by the check" \
	sh -c "! '$FIXTURES/client' 127.0.0.1 $other_port >/dev/null 2>&1"

# chroot needs root; stunnel runs as nobody here.  The check runs stunnel
# as the service's user, so it sees what every connection would.
mkdir -p "$T/jail/bin"
printf '#!/bin/sh\n' >"$T/jail/bin/smtpd"; chmod 755 "$T/jail/bin/smtpd"
stunnel_conf bad smtp "$T/bad.pem" "chroot = $T/jail"
sed -i "s|^exec = .*|exec = /bin/smtpd|" "$T/stunnel/bad.conf"
refused "a stunnel chroot, with stunnel not root" "stunnel config $T/stunnel/bad.conf: chroot: Operation not permitted"

stunnel_conf bad smtp "$T/a.pem"
q start bad >"$T/out" 2>&1
is_rc $? 0 "stunnel loading another file than the service's cert: starts"
check "... with a warning naming both" grep -q "^bad: warning: stunnel config $T/stunnel/bad.conf loads cert $T/a.pem, but the service checks $T/bad.pem" "$T/out"
q stop bad >/dev/null 2>&1

# The check is remembered: the next start with the same files skips it.
stunnel_conf bad smtp "$T/bad.pem"
q -v start bad >"$T/out" 2>&1
check "-v start: stunnel checked the config" grep -q "^bad: stunnel config $T/stunnel/bad.conf: checked by .*stunnel in" "$T/out"
q stop bad >/dev/null 2>&1
q -v start bad >"$T/out" 2>&1
check "... and the next start, nothing changed, does not run it again" \
	grep -q "^bad: stunnel config $T/stunnel/bad.conf: unchanged since it was checked" "$T/out"
q stop bad >/dev/null 2>&1
echo "; edited" >>"$T/stunnel/bad.conf"
q -v start bad >"$T/out" 2>&1
check "... but after an edit it does" grep -q "^bad: stunnel config $T/stunnel/bad.conf: checked by" "$T/out"
q stop bad >/dev/null 2>&1

# So is the certificate's parse: an unchanged file is not parsed again,
# but what does not depend on its content alone is judged at every start.
q -v start bad >"$T/out" 2>&1
check "-v start: the unchanged certificate is not parsed again" \
	grep -q "^bad: certificate $T/bad.pem: unchanged since it was parsed" "$T/out"
q stop bad >/dev/null 2>&1
check "... what its parse found is kept in the rundir" \
	grep -q "^not_after [0-9]" "$T/run/bad.cert-ok"
sed -i "s/^not_after [0-9]*/not_after $(( $(date +%s) - 2 * 86400 ))/" "$T/run/bad.cert-ok"
refused "an unchanged certificate past the notAfter it was parsed with" \
	"certificate $T/bad.pem: expired 2 days ago"
cp "$T/bad.pem" "$T/good.pem"
{ openssl x509 -in "$T/a.pem"; openssl pkey -in "$T/b.pem"; } >"$T/bad.pem"
refused "a parsed certificate rewritten with another key: parsed again" \
	"certificate $T/bad.pem: key does not match certificate"
cp "$T/good.pem" "$T/bad.pem"

# Past the preflight: the program behind stunnel exists but says nothing.
# The handshake succeeds; the start fails on the greeting.
stunnel_conf bad smtp "$T/bad.pem"
sed -i "s|^exec = .*|exec = /bin/true|" "$T/stunnel/bad.conf"
# (On a loaded host the last attempt may be cut short by the deadline in
# the middle of a handshake, and start reports that instead: try again.)
for _try in 1 2 3; do
	q -t 1 start bad >"$T/out" 2>&1
	_rc=$?
	grep -q "greeting" "$T/out" && break
	note "try $_try: $(cat "$T/out")"
done
is_rc "$_rc" 1 "exec target that never greets: start fails"
sed 's/^/# /' "$T/out"
check "... on the greeting, after the handshake" \
	grep -q "^bad: failed: not ready after .*probe 127.0.0.1:$bad_port: .*greeting" "$T/out"
check "... nothing left running" nothing_left

done_testing
