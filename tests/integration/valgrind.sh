#!/bin/sh
# qmailctl's and pido's paths under valgrind (memcheck): no error, no leak.
#
# Which valgrind: Debian 12's (3.19) answers ENOSYS to pidfd_open(2), so
# under it every command that holds a process could only refuse.  Debian
# 13's (3.24) knows the call; tests/valgrind-fetch.sh gets it (apt, with
# signatures checked, into build/; nothing is installed) when the one on
# the machine does not.
#
# No valgrind release, 3.27.1 included, knows pidfd_send_signal(2).  Under
# valgrind the commands whose work is signalling (stop, restart, zap,
# reload, flush, pause, cont) therefore refuse before doing anything, and
# that refusal is what is tested of them here.  Their signalling paths run
# under AddressSanitizer and LeakSanitizer instead (make check SANITIZE=1).
#
# Under valgrind here: the unit tests; pido; list, -n, cert and
# configuration errors; start of all five services (a stand-in qmail-send,
# smtp, and smtps, pop3 with STLS and pop3s through the real tcpserver and
# stunnel) confirmed by their TLS probes; start of running services; a
# start that fails; status, -v and --json; check; the refusals.
#
# tests/valgrind.supp hides one report, inside glibc at exit (it says
# why); nothing of qmailctl's.
# shellcheck disable=SC2016 # ${...} in service files is qmailctl's
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site
. "$TESTS/lib.sh"

if grep -q __asan_init "$QMAILCTL"; then
	skip "an ASan build (SANITIZE=1) cannot run under valgrind; ASan checks it"
	done_testing
	exit
fi

# knows VALGRIND: pidfdok's verdict under it (0 both calls, 1 neither,
# 2 pidfd_open only; 127 no such valgrind).
knows() { "$1" -q "$FIXTURES/pidfdok" >/dev/null 2>&1; }
VALGRIND=$(command -v valgrind 2>/dev/null)
knows "${VALGRIND:-/nonexistent}"
knew=$?
if [ "$knew" = 1 ] || [ "$knew" = 127 ]; then
	if fetched=$(sh "$TESTS/valgrind-fetch.sh" "$BUILD/valgrind" 2>"$T/fetch"); then
		VALGRIND=$fetched
		knows "$VALGRIND"
		knew=$?
		note "using $("$VALGRIND" --version) from $fetched"
	else
		note "$(cat "$T/fetch")"
	fi
fi
if [ -z "$VALGRIND" ] || [ "$knew" = 127 ]; then
	skip "no valgrind, and none could be fetched"
	done_testing
	exit
fi

VGOPTS="-q --error-exitcode=99 --leak-check=full \
--errors-for-leak-kinds=definite,indirect --trace-children=no \
--suppressions=$TESTS/valgrind.supp"
# vg PROGRAM ARGS...: under valgrind, output in $T/out and $T/err.
vg() {
	# shellcheck disable=SC2086 # VGOPTS is a list of options
	"$VALGRIND" $VGOPTS "$@" >"$T/out" 2>"$T/err"
}
vq() { vg "$QMAILCTL" -f "$T/qmailctl.conf" "$@"; }
# clean: valgrind reported nothing (its lines start ==PID==); else the
# start of its report, as TAP comments.
clean() {
	grep -q '^==[0-9]*==' "$T/err" || return 0
	grep -m 12 '^==[0-9]*==' "$T/err" | sed 's/^/# /'
	return 1
}
show() { sed 's/^/# /' "$T/out" "$T/err"; }

# ---- the unit tests ----
for u in "$BUILD"/tests/unit/*; do
	vg "$u"
	rc=$?
	is_rc $rc 0 "unit/${u##*/} under valgrind: every case passes"
	check "... no error, no leak" clean
	[ $rc = 0 ] || show
done

# ---- pido ----
vg "$PIDO" "$T/pido.pid" "$FIXTURES/freeport"
is_rc $? 0 "pido PIDFILE PROGRAM under valgrind: runs the program"
check "... no error, no leak" clean
check "... and wrote the pidfile" test -s "$T/pido.pid"
vg "$PIDO" "$T/no/such/dir/x.pid" true
is_rc $? 111 "pido with a pidfile it cannot write: 111"
check "... no error, no leak" clean

# ---- the site: five services, three of them behind stunnel ----
chmod 755 "$T"
make_site
add_plain_services
smtps_port=$(free_port) pop3s_port=$(free_port) quitter_port=$(free_port)
cat >>"$T/qmailctl.conf" <<CONF
hostname = mail.example.org
quitter_port = $quitter_port
smtps_port = $smtps_port
pop3s_port = $pop3s_port
CONF
sed -i 's/^default = .*/default = send smtp smtps pop3 pop3s/' "$T/qmailctl.conf"
add_tls_services
add_service send <<'SVC'
description = stand-in qmail-send with 20 deliveries
run = ${fixtures}/qmail-standin -n 20 -r ${T}/record
log = multilog t ${T}/log/send
probe = none
settle = 100
SVC
add_service quitter <<'SVC'
description = a server that exits at once
run = /bin/false
log = multilog t ${T}/log/quitter
probe = tcp 127.0.0.1 ${quitter_port} 220
SVC

vq list
is_rc $? 0 "list under valgrind: exit 0"
check "... no error, no leak" clean
# -n runs start's checks: the TLS services' certificate is not made yet,
# so it exits 1, as start would.
vq -n start
is_rc $? 1 "-n start under valgrind: exit 1, as start would (no certificate yet)"
check "... no error, no leak" clean
vq cert
is_rc $? 0 "cert under valgrind: exit 0"
check "... no error, no leak" clean
printf 'run = sleep 1\nrnu = x\n' >"$T/services/typo"
vq start typo
is_rc $? 6 "a configuration error under valgrind: exit 6"
check "... no error, no leak" clean
rm "$T/services/typo"
vq start nosuch
is_rc $? 2 "an unknown service under valgrind: exit 2"
check "... no error, no leak" clean

if [ "$knew" = 1 ]; then
	# This valgrind has no pidfd_open either: qmailctl must say it
	# cannot work, not misreport a live service as dead.
	q start smtp >/dev/null 2>&1
	vq status smtp
	is_rc $? 4 "without pidfd_open (valgrind's ENOSYS), status exits 4 (unknown)"
	check "... saying why, not 'dead'" grep -q 'needs Linux 5.3' "$T/err"
	check "... while the service runs" same_process "$T/run/smtp.pid"
	skip "the paths that hold processes: this valgrind lacks pidfd_open"
	q stop smtp >/dev/null 2>&1
	done_testing
	exit
fi

vq start
rc=$?
is_rc $rc 0 "start of all five under valgrind: exit 0"
check "... no error, no leak" clean
[ $rc = 0 ] || show
for s in send smtp smtps pop3 pop3s; do
	check "... $s runs, as recorded" same_process "$T/run/$s.pid"
done
ready() { s_client 'QUIT\r\n' -connect "127.0.0.1:$1" | head -n 1 | grep -q "$2"; }
check "... smtps serves through TLS (openssl s_client)" ready "$smtps_port" '^220'
check "... pop3s serves through TLS (openssl s_client)" ready "$pop3s_port" '^+OK'

vq start smtp pop3s
is_rc $? 0 "start of running services under valgrind: exit 0"
check "... no error, no leak" clean
check "... says they were running" grep -q '^smtp: already running' "$T/out"

vq start quitter
is_rc $? 1 "start of a server that exits at once, under valgrind: exit 1"
check "... no error, no leak" clean
check "... says so" grep -q '^quitter: failed: .*exited 1' "$T/err"
check "... leaves no pidfile" test ! -e "$T/run/quitter.pid" -a ! -e "$T/run/quitter.log.pid"

vq status
is_rc $? 0 "status under valgrind: exit 0"
check "... no error, no leak" clean
check "... five running" test "$(grep -c ': up (' "$T/out")" = 5
vq -v status send smtps
is_rc $? 0 "status -v under valgrind: exit 0"
check "... no error, no leak" clean
vq --json status
is_rc $? 0 "status --json under valgrind: exit 0"
check "... no error, no leak" clean
vq check
is_rc $? 0 "check under valgrind: exit 0 (OK)"
check "... no error, no leak" clean
check "... TLS seen on smtps, pop3 and pop3s" test "$(grep -c 'TLSv1' "$T/out")" = 3

if [ "$knew" = 2 ]; then
	before="$(pid_of smtp) $(pid_of send)"
	for cmd in stop restart zap reload flush pause cont; do
		vq "$cmd" smtp send
		is_rc $? 1 "$cmd under valgrind (no pidfd_send_signal): refused, exit 1"
		check "... no error, no leak" clean
		check "... saying why, in one line" grep -qx \
			"qmailctl: fatal: $cmd: unable to signal through a pidfd (pidfd_send_signal: Function not implemented): refusing to signal by bare pid" "$T/err"
	done
	untouched() {
		test "$(pid_of smtp) $(pid_of send)" = "$before" &&
			same_process "$T/run/smtp.pid" && same_process "$T/run/send.pid" &&
			! grep -q '^State:.*T' "/proc/$(pid_of send)/status"
	}
	check "... and smtp and send were left as they were, not stopped" untouched
else
	note "this valgrind knows pidfd_send_signal: stop runs under it too"
	vq stop
	is_rc $? 0 "stop under valgrind: exit 0"
	check "... no error, no leak" clean
fi
q stop >/dev/null 2>&1
done_testing
