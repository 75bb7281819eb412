#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# The supervisor under fire: SIGKILL, K times each (100 unless
# SUPLOOP_KILLS says otherwise), of the server and of the logger of a
# plain-TCP service (tcpserver), of a TLS one (tcpserver running stunnel)
# and of the send stand-in, and of a child of qmail-send (which makes
# qmail-send die, as the real one does when it loses a helper).  After
# every kill: the service is back, recorded by pidfiles that name the live
# processes, its probe answered by an independent client, and never two
# servers (nor none) under its supervisor.  A kind's failures are counted
# once, with the first bad round's detail.
. "$TESTS/lib.sh"

K=${SUPLOOP_KILLS:-100}
make_site
chmod 755 "$T"          # stunnel, as nobody, reads its config and cert
smtps_port=$(free_port)
echo "smtps_port = $smtps_port" >>"$T/qmailctl.conf"
add_plain_services
stunnel_conf smtps smtp "$T/cert.pem"
tls_service smtps smtps_port 'tls 127.0.0.1 ${smtps_port} 220'
add_send_standin
# Fast restarts and no give-up: the loops kill faster than a crash would.
for _s in smtp smtps send; do
	printf 'restart_limit = 1000 1\nbackoff_max = 20\n' >>"$T/services/$_s"
done
q cert "$T/cert.pem" >"$T/out" 2>&1 || sed 's/^/# /' "$T/out"
chmod 644 "$T/cert.pem"

q start smtp smtps send >"$T/out" 2>&1
is_rc $? 0 "start smtp, smtps and send"
sed 's/^/# /' "$T/out"

sup_pid() { head -n 1 "$T/run/$1.sup.pid"; }
# children NAME COMM: live children of NAME's supervisor named COMM.
children() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$(sup_pid "$1" 2>/dev/null)" -v c="($2)" \
		'$4 == p && $2 == c && $3 != "Z" { n++ } END { print n + 0 }'
}
# answers NAME: an independent client gets NAME's greeting.
answers() {
	case $1 in
	smtp) "$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT 2>/dev/null | grep -q '^220 ' ;;
	smtps) s_client 'QUIT\r\n' -connect "127.0.0.1:$smtps_port" | grep -q '^220 ' ;;
	send) [ "$(children send qmail-send)" = 1 ] &&
		test "$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$(pid_of send)" \
		    '$4 == p && $3 != "Z" { n++ } END { print n + 0 }')" = 3 ;;
	esac
}
# back NAME PIDFILE OLD: a new live process is recorded in PIDFILE, both
# pidfiles name live processes, and status says up.
back() {
	{ same_process "$2" && [ "$(head -n 1 "$2")" != "$3" ] &&
		same_process "$T/run/$1.pid" && same_process "$T/run/$1.log.pid" &&
		q status "$1" | grep -q "^$1: up "; } 2>/dev/null
}
# soon SECONDS CMD...: wait_for at a steady 5 ms step (lib.sh's grows to
# 100 ms, and 700 rounds would spend a minute in its steps), bounded in
# tries and in time as wait_for is.
soon() {
	_end=$(( $(date +%s) + $1 + 1 )) _tries=0
	shift
	until "$@"; do
		_tries=$((_tries + 1))
		[ "$_tries" -ge 2000 ] || [ "$(date +%s)" -ge "$_end" ] && return 1
		sleep 0.005
	done
}
# kill_loop NAME PIDFILE COMM [VICTIM-CMD]: K rounds of SIGKILL of what
# PIDFILE names (or of the pid VICTIM-CMD prints); PIDFILE must then name
# a new process.
kill_loop() {
	_bad=0 _first='' _i=0
	while [ $_i -lt "$K" ]; do
		_old=$(head -n 1 "$2")
		_victim=$_old
		[ $# -gt 3 ] && _victim=$($4)
		kill -KILL "$_victim"
		_why=
		soon 10 back "$1" "$2" "$_old" || _why="not back"
		[ -z "$_why" ] && [ "$(children "$1" "$3")" != 1 ] &&
			_why="$(children "$1" "$3") $3 under the supervisor"
		[ -z "$_why" ] && ! answers "$1" && _why="no answer"
		if [ -n "$_why" ]; then
			_bad=$((_bad + 1))
			[ -z "$_first" ] && _first="round $_i: $_why"
		fi
		_i=$((_i + 1))
	done
	check "$1: ${4:+a child of }$3 killed $K times: always back, recorded, one, answering ($_bad bad${_first:+; first: $_first})" test "$_bad" = 0
}
helper_of_send() {
	cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$(pid_of send 2>/dev/null)" \
	    '$4 == p && $3 != "Z" { print $1; exit }'
}

sup_smtp=$(sup_pid smtp)
kill_loop smtp "$T/run/smtp.pid" tcpserver
kill_loop smtp "$T/run/smtp.log.pid" multilog
kill_loop smtps "$T/run/smtps.pid" tcpserver
kill_loop smtps "$T/run/smtps.log.pid" multilog
kill_loop send "$T/run/send.pid" qmail-send
kill_loop send "$T/run/send.log.pid" multilog
kill_loop send "$T/run/send.pid" qmail-send helper_of_send
check "smtp's supervisor is still the same process" test "$(sup_pid smtp)" = "$sup_smtp"

q status smtp >"$T/st" 2>&1
sed 's/^/# /' "$T/st"
check "status counts the restarts" grep -q "$((2 * K)) restarts" "$T/st"
check "status gives the last unexpected exit" grep -q 'last unexpected exit: multilog [0-9]* killed by SIGKILL' "$T/st"
q status --json smtp >"$T/js"
check "status --json has the restarts and the last exit" \
	grep -q "\"restarts\":$((2 * K)),\"last_exit\":\"multilog [0-9]* killed by SIGKILL\"" "$T/js"
q status send >"$T/st" 2>&1
sed 's/^/# /' "$T/st"
check "send: a child's death is qmail-send's exit, and said so" \
	grep -q 'last unexpected exit: qmail-s[a-z]* [0-9]* exited 0' "$T/st"
q check smtp >"$T/ck" 2>&1
is_rc $? 1 "check: WARNING after a recent restart"
check "... and says so" grep -q 'restarted .* ago' "$T/ck"
q stop smtp smtps send >"$T/out" 2>&1
is_rc $? 0 "stop after $((7 * K)) kills exits 0"
check "... nothing left" site_empty

done_testing
