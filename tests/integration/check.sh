#!/bin/sh
# qmailctl check: one line per service in the monitoring-plugins form, and
# the plugins' exit codes: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN, the
# worst winning in the order OK < UNKNOWN < WARNING < CRITICAL.  Against
# the real tcpserver, stunnel and multilog with stand-in daemons.
#
# Not tested here: check run by a user other than root (a key it may not
# read is UNKNOWN; the test runs as root).
. "$TESTS/lib.sh"

make_site
add_plain_services
smtps_port=$(free_port)
echo "smtps_port = $smtps_port" >>"$T/qmailctl.conf"
# smtps runs as root here: the certificates below are made 0600 root.
stunnel_conf smtps smtp "$T/cert.pem"
add_service smtps <<'SVC'
description = stand-in smtps
run = tcpserver -v -R -H -l 0 127.0.0.1 ${smtps_port} stunnel ${T}/stunnel/smtps.conf
log = multilog t ${T}/log/smtps
probe = tls 127.0.0.1 ${smtps_port} 220
cert = ${T}/cert.pem
SVC
add_service send <<'SVC'
description = stand-in qmail-send
run = sleep 100000
log = multilog t ${T}/log/send
probe = none
# unsupervised: a logger that dies stays dead (supervise.sh tests restarts)
restart = no
settle = 20
SVC
q -q cert "$T/cert.pem" >/dev/null 2>&1

# check_out EXPECTED-RC DESCRIPTION ARGS...: runs check into $T/chk.
check_out() {
	_want=$1 _d=$2; shift 2
	q check "$@" >"$T/chk" 2>&1
	is_rc $? "$_want" "$_d"
	sed 's/^/# /' "$T/chk"
}
line_of() { grep "^QMAILCTL [A-Z]* - $1[: ]" "$T/chk"; }

check_out 2 "check before anything runs: CRITICAL (exit 2)" smtp smtps send
check "... one line per service" test "$(wc -l <"$T/chk")" = 3
check "... a stopped service is CRITICAL: not running" \
	grep -qx "QMAILCTL CRITICAL - smtps: not running" "$T/chk"

q start smtp smtps send >"$T/out" 2>&1
is_rc $? 0 "start smtp smtps send"

check_out 0 "check of healthy services: exit 0" smtp smtps send
check "smtps: ready, the TLS protocol, the days left" \
	grep -Eqx "QMAILCTL OK - smtps ready in [0-9.]+ m?s, TLSv1\.[23], cert expires in 365 days" "$T/chk"
check "smtp: ready, plain" grep -Eqx "QMAILCTL OK - smtp ready in [0-9.]+ m?s" "$T/chk"
check "send (no probe): its pid alive" \
	grep -Eqx "QMAILCTL OK - send running \(sleep $(pid_of send) up .*\)" "$T/chk"
q -v check smtps >"$T/chk" 2>&1
check "-v adds the cipher" grep -Eq "^QMAILCTL OK - smtps ready in .*, TLSv1\.[23] TLS_[A-Z0-9_]+, cert" "$T/chk"
q -q check smtp smtps send >"$T/chk" 2>&1
is_rc $? 0 "-q check of healthy services: exit 0"
check "... and prints nothing" test ! -s "$T/chk"

# ---- the TLS the server negotiates, and the certificate it sends ----
# Each weakness is a WARNING with its reason; the shipped kind of setup
# (qmailctl cert for the site's hostname, stunnel's defaults) stays OK.
# stunnel reads its config and certificate at each connection (inetd
# mode), so a file rewritten here is what the next check meets.
echo "hostname = mail.example.org" >>"$T/qmailctl.conf"
q -q cert --force "$T/cert.pem" >/dev/null 2>&1
check_out 0 "hostname set, a certificate made by qmailctl cert for it: OK" smtps
check "... no warning" \
	grep -Eqx "QMAILCTL OK - smtps ready in [0-9.]+ m?s, TLSv1\.[23], cert expires in 36[45] days" "$T/chk"

# pem FILE CERT... KEY: the PEM file a service reads, mode 0600.
pem() { _f=$1; shift; cat "$@" >"$_f"; chmod 600 "$_f"; }
ec_cert() {     # ec_cert NAME SUBJECT [openssl req options]: $T/NAME.crt, .key
	_n=$1 _s=$2; shift 2
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
		-days 365 -subj "$_s" -keyout "$T/$_n.key" -out "$T/$_n.crt" "$@" >/dev/null 2>&1
}

ec_cert other /CN=other.test -addext subjectAltName=DNS:other.test
pem "$T/cert.pem" "$T/other.crt" "$T/other.key"
check_out 1 "a certificate for another name than the site's hostname: WARNING" smtps
check "... names both" grep -q "^QMAILCTL WARNING - smtps ready .*, certificate does not name mail.example.org (it names other.test), cert expires" "$T/chk"
sed -i '/^hostname = /d' "$T/qmailctl.conf"
check_out 0 "... without a hostname in the site, no name is checked: OK" smtps
echo "hostname = mail.example.org" >>"$T/qmailctl.conf"

# A leaf signed by a CA, the CA not sent: clients cannot build the chain.
ec_cert ca "/CN=check test CA"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj /CN=mail.example.org -keyout "$T/leaf.key" -out "$T/leaf.csr" >/dev/null 2>&1
openssl x509 -req -in "$T/leaf.csr" -CA "$T/ca.crt" -CAkey "$T/ca.key" \
	-days 365 -out "$T/leaf.crt" >/dev/null 2>&1
pem "$T/cert.pem" "$T/leaf.crt" "$T/leaf.key"
check_out 1 "a CA-signed leaf sent without its issuer: WARNING" smtps
check "... names the issuer missing" grep -q "^QMAILCTL WARNING - smtps ready .*, certificate chain lacks the leaf's issuer (CN=check test CA), cert expires" "$T/chk"
pem "$T/cert.pem" "$T/leaf.crt" "$T/ca.crt" "$T/leaf.key"
check_out 0 "... the same leaf with its CA after it: OK" smtps

# An old server: TLS 1.0 and RSA key exchange (AES128-SHA needs an RSA
# key), at stunnel's security level 0.  OpenSSL 3.0 on Debian 12 still
# negotiates TLS 1.0 there; the probe sets no floor, so it can report it.
old_port=$(free_port)
echo "old_port = $old_port" >>"$T/qmailctl.conf"
openssl req -x509 -newkey rsa:2048 -nodes -days 365 -subj /CN=mail.example.org \
	-keyout "$T/rsa.key" -out "$T/rsa.crt" >/dev/null 2>&1
pem "$T/rsa.pem" "$T/rsa.crt" "$T/rsa.key"
# old_tls MAX CIPHERS: the old service's stunnel config.
old_tls() {
	stunnel_conf old smtp "$T/rsa.pem" "sslVersionMax = $1
ciphers = $2
securityLevel = 0"
}
old_tls TLSv1 AES128-SHA
add_service old <<'SVC'
description = stand-in smtps of another age
run = tcpserver -v -R -H -l 0 127.0.0.1 ${old_port} stunnel ${T}/stunnel/old.conf
log = multilog t ${T}/log/old
probe = tls 127.0.0.1 ${old_port} 220
cert = ${T}/rsa.pem
SVC
q start old >"$T/out" 2>&1
is_rc $? 0 "start of a TLS 1.0 server: the probe reaches it"
check_out 1 "TLS 1.0 with AES128-SHA: WARNING" old
check "... the protocol and the cipher, and why each" \
	grep -Eqx "QMAILCTL WARNING - old ready in [0-9.]+ m?s, TLSv1 AES128-SHA, protocol below TLS 1.2, no forward secrecy, cert expires in 36[45] days" "$T/chk"
old_tls TLSv1.2 AES128-SHA
check_out 1 "TLS 1.2 with RSA key exchange: WARNING" old
check "... for the cipher only" \
	grep -Eqx "QMAILCTL WARNING - old ready in [0-9.]+ m?s, TLSv1\.2 AES128-SHA, no forward secrecy, cert expires in 36[45] days" "$T/chk"
old_tls TLSv1 ECDHE-RSA-AES128-SHA
check_out 1 "TLS 1.0 with ECDHE: WARNING" old
check "... for the protocol only" \
	grep -Eqx "QMAILCTL WARNING - old ready in [0-9.]+ m?s, TLSv1, protocol below TLS 1.2, cert expires in 36[45] days" "$T/chk"
q stop old >/dev/null 2>&1
rm -f "$T/services/old"
sed -i '/^hostname = /d' "$T/qmailctl.conf"
q -q cert --force "$T/cert.pem" >/dev/null 2>&1

# check takes no lock: a long transition elsewhere does not hold it up.
flock "$T/run/smtp.lock" sleep 5 &
holder=$!
track_pid "$holder"
lock_held() { ! flock -n "$T/run/smtp.lock" true; }
wait_for 5 lock_held
timeout 3 "$QMAILCTL" -f "$T/qmailctl.conf" check smtp >"$T/chk" 2>&1
is_rc $? 0 "check answers while another qmailctl holds the service's lock"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

# What the check line quotes from the config is escaped, as in every line
# qmailctl writes; what came from the peer was escaped when it was read.
esc=$(printf '\033')
cp "$T/services/smtp" "$T/smtp.svc"
sed -i "s/^probe = .*/probe = tcp 127.0.0.1 \${smtp_port} ${esc}[31m220/" "$T/services/smtp"
check_out 2 "a probe expecting what the greeting lacks: CRITICAL" smtp
check "... the ESC of the config value escaped" \
	grep -q "greeting '220 stand-in.invalid ESMTP stand-in' does not start with '.x1b\[31m220'" "$T/chk"
check "... no raw ESC reaches the terminal" sh -c "! grep -q '$esc' '$T/chk'"
cp "$T/smtp.svc" "$T/services/smtp"

# WARNING: a certificate that expires within cert_warn_days (default 30).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 5 \
	-subj /CN=soon.test -keyout "$T/soon.key" -out "$T/soon.crt" >/dev/null 2>&1
cat "$T/soon.crt" "$T/soon.key" >"$T/cert.pem"
check_out 1 "a certificate expiring in 5 days: WARNING (exit 1)" smtp smtps
check "... says so, and how soon" \
	grep -Eqx "QMAILCTL WARNING - smtps ready in .*, cert expires in 5 days" "$T/chk"
check "... the other service stays OK" grep -q "^QMAILCTL OK - smtp ready" "$T/chk"
echo "cert_warn_days = 2" >>"$T/qmailctl.conf"
check_out 0 "cert_warn_days = 2: the same certificate is OK" smtps

# The key readable by others: a WARNING too.
chmod 644 "$T/cert.pem"
check_out 1 "a key readable by others: WARNING" smtps
check "... and why" grep -q "^QMAILCTL WARNING - smtps ready .*, private key readable by others (mode 0644)" "$T/chk"
chmod 600 "$T/cert.pem"

# CRITICAL: a certificate that expired while the service runs (stunnel
# still serves it; clients will refuse it).
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=old.test \
	-keyout "$T/old.key" -out "$T/old.csr" >/dev/null 2>&1
openssl x509 -req -in "$T/old.csr" -signkey "$T/old.key" -days -1 -out "$T/old.crt" >/dev/null 2>&1
cat "$T/old.crt" "$T/old.key" >"$T/cert.pem"
check_out 2 "an expired certificate on a running service: CRITICAL (exit 2)" smtps
check "... ready, but the certificate has expired" \
	grep -q "^QMAILCTL CRITICAL - smtps ready .*, but certificate $T/cert.pem: expired" "$T/chk"

# CRITICAL: the certificate is gone; stunnel fails every connection.
rm -f "$T/cert.pem"
check_out 2 "a running service whose probe fails: CRITICAL" smtps
check "... with the probe's reason" grep -q "^QMAILCTL CRITICAL - smtps: probe 127.0.0.1:$smtps_port: " "$T/chk"
q -q cert "$T/cert.pem" >/dev/null 2>&1

# CRITICAL: a service that stopped.
q stop smtp >/dev/null 2>&1
check_out 2 "one service down: exit 2" smtp smtps send
check "... it is CRITICAL" grep -qx "QMAILCTL CRITICAL - smtp: not running" "$T/chk"
check "... the others are still reported OK" test "$(grep -c '^QMAILCTL OK' "$T/chk")" = 2
q -q check smtp smtps >"$T/chk" 2>&1
check "-q prints the failures only" sh -c "grep -q CRITICAL '$T/chk' && test \$(wc -l <'$T/chk') = 1"

# UNKNOWN: a pidfile that is not one; the worst wins, UNKNOWN below
# WARNING and CRITICAL.
add_service ghost <<'SVC'
run = sleep 100000
probe = none
SVC
echo garbage >"$T/run/ghost.pid"
check_out 3 "a pidfile that is not a pidfile: UNKNOWN (exit 3)" ghost
check "... and why" grep -q "^QMAILCTL UNKNOWN - ghost: pidfile $T/run/ghost.pid is not a pidfile" "$T/chk"
check_out 3 "UNKNOWN and OK: exit 3" ghost smtps
cat "$T/soon.crt" "$T/soon.key" >"$T/cert.pem"
sed -i '/^cert_warn_days/d' "$T/qmailctl.conf"
check_out 1 "UNKNOWN and WARNING: exit 1" ghost smtps
check_out 2 "UNKNOWN, WARNING and CRITICAL: exit 2" ghost smtps smtp
rm -f "$T/run/ghost.pid"

# A logger that died: WARNING (the server's output has nowhere to go).
sendlog=$(pid_of send log)
kill "$sendlog"
wait_for 5 gone "$sendlog"
check_out 1 "send's logger gone: WARNING" send
check "... and why" grep -q "^QMAILCTL WARNING - send running .*, but its logger multilog is not running" "$T/chk"

q -n check smtps >"$T/out" 2>&1
is_rc $? 0 "-n check changes nothing, exits 0"

q stop smtps send >/dev/null 2>&1
done_testing
