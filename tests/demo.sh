#!/bin/sh
# demo.sh: `make demo`.  The five services of a qmail host on loopback,
# started, shown, checked, one crashed and brought back by its supervisor,
# a wedged qmail-send zapped, everything stopped.
#
# qmail itself is not packaged for Debian, so stand-ins replace its
# daemons: greeter answers as qmail-smtpd / qmail-popup would, and
# qmail-standin forks helpers and hung "qmail-remote" deliveries as a
# wedged qmail-send would.  Everything else is real: tcpserver, stunnel,
# multilog, OpenSSL, and qmailctl itself.
set -u

BUILD=${BUILD:-build}
top=$(pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
QMAILCTL=$BUILD/qmailctl
FIX=$BUILD/tests/fixtures
for f in "$QMAILCTL" "$FIX/greeter" "$FIX/qmail-standin" "$FIX/freeport"; do
	[ -x "$f" ] || { echo "demo: fatal: $f is missing: run make tests" >&2; exit 1; }
done

D=$(mktemp -d /tmp/qmailctl-demo.XXXXXX) || exit 1
# However the demo ends, nothing it started stays behind: zap by
# qmailctl itself (process groups and cgroups), then the directory.
finish() {
	"$QMAILCTL" -q -f "$D/qmailctl.conf" zap >/dev/null 2>&1
	rm -rf "$D"
}
trap finish EXIT
trap 'exit 1' INT TERM HUP

say() { printf '\n\033[1m# %s\033[0m\n' "$*"; }
run() {
	printf '$ qmailctl %s\n' "$*"
	"$QMAILCTL" -f "$D/qmailctl.conf" "$@"
	rc=$?
	printf '(exit %d)\n' "$rc"
	return 0
}

port() { "$FIX/freeport"; }
smtp_port=$(port) smtps_port=$(port) pop3_port=$(port) pop3s_port=$(port)
HUNG=300

mkdir -p "$D/services" "$D/stunnel" "$D/log"
cat >"$D/qmailctl.conf" <<CONF
# The demo's site: everything lives in $D.
services = services
rundir = run
default = send smtp smtps pop3 pop3s
path = /usr/bin:/bin
hostname = demo.qmailctl.test
fixtures = $FIX
demo = $D
CONF

cat >"$D/services/send" <<SVC
description = qmail-send (stand-in: $HUNG deliveries hang, as qmail-remote can)
run = \${fixtures}/qmail-standin -n $HUNG
log = multilog t \${demo}/log/send
probe = none
settle = 100
stop_timeout = 1
zap_grace = 100
reload_signal = HUP
flush_signal = ALRM
SVC
cat >"$D/services/smtp" <<SVC
description = SMTP on port 25 (here $smtp_port)
run = tcpserver -v -R -H -l 0 127.0.0.1 $smtp_port \${fixtures}/greeter smtp demo.qmailctl.test
log = multilog t \${demo}/log/smtp
probe = tcp 127.0.0.1 $smtp_port 220
SVC
for s in smtps pop3 pop3s; do
	case $s in
	smtps) p=$smtps_port kind=smtp probe="tls 127.0.0.1 $p 220" proto= ;;
	pop3) p=$pop3_port kind=pop3 probe="pop3-stls 127.0.0.1 $p" proto="protocol = pop3" ;;
	pop3s) p=$pop3s_port kind=pop3 probe="tls 127.0.0.1 $p +OK" proto= ;;
	esac
	cat >"$D/stunnel/$s.conf" <<STUNNEL
; stunnel 5 in inetd mode, run by tcpserver once per connection
foreground = yes
syslog = no
pid =
debug = warning
cert = $D/servercert.pem
$proto
exec = $FIX/greeter
execArgs = greeter $kind demo.qmailctl.test
STUNNEL
	cat >"$D/services/$s" <<SVC
description = $s over TLS (here port $p)
run = tcpserver -v -R -H -l 0 127.0.0.1 $p stunnel \${demo}/stunnel/$s.conf
log = multilog t \${demo}/log/$s
probe = $probe
cert = \${demo}/servercert.pem
SVC
done

echo "qmailctl demo in $D"
echo "Stand-ins replace the qmail daemons (qmail is not packaged here);"
echo "tcpserver, stunnel, multilog, OpenSSL and qmailctl are the real ones."

say "A self-signed certificate for the TLS services"
run cert "$D/servercert.pem"

say "What would run (-n changes nothing)"
run -n start smtps

say "Start all five; each is confirmed by its probe through the whole chain"
run start
say "Status: every element's pid and uptime"
run status
say "Check, as a monitoring plugin would"
run check

say "An independent client: openssl s_client reads the smtps greeting over TLS"
printf 'QUIT\r\n' | timeout 5 openssl s_client -quiet -connect "127.0.0.1:$smtps_port" 2>/dev/null | head -n 1

say "smtp's tcpserver crashes; its supervisor starts it again at once and confirms it by its probe"
old=$(head -n 1 "$D/run/smtp.pid")
printf '$ kill -KILL %s\n' "$old"
kill -KILL "$old"
# Bounded: at most 5 s, looking every 20 ms.
n=0
while [ $n -lt 250 ]; do
	new=$(head -n 1 "$D/run/smtp.pid" 2>/dev/null)
	if [ -n "$new" ] && [ "$new" != "$old" ] &&
		"$QMAILCTL" -f "$D/qmailctl.conf" status smtp 2>/dev/null |
		grep -q '^smtp: up '; then
		break
	fi
	n=$((n + 1))
	sleep 0.02
done
run status smtp
echo "An independent client gets the greeting of the new tcpserver:"
"$FIX/client" 127.0.0.1 "$smtp_port" QUIT
say "check warns for a while after a restart (check_restart_window)"
run check smtp

say "qmail-send is wedged: $HUNG deliveries ignore TERM, so stop cannot finish"
run stop send
say "zap takes qmail-send, its helpers and every hung delivery down together"
run zap send

say "Stop the rest; status then says stopped (exit 3)"
run stop
run status
