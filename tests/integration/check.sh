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

# check takes no lock: a long transition elsewhere does not hold it up.
flock "$T/run/smtp.lock" sleep 5 &
holder=$!
track_pid "$holder"
lock_held() { ! flock -n "$T/run/smtp.lock" true; }
wait_for 5 lock_held
timeout 3 "$QMAILCTL" -f "$T/qmailctl.conf" check smtp >"$T/chk" 2>&1
is_rc $? 0 "check answers while another qmailctl holds the service's lock"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null

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
