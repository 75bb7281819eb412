#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# Load: while a client pool holds LOAD_SESSIONS (default 40) SMTP and POP3
# sessions per service (fixtures/holder, loopback only, each hold bounded
# by LOAD_HOLD seconds), restart and zap still confirm correctly, and stop
# deals with the sessions that outlive the listener as qmailctl(8) says:
# TERM to the server, then to what is left of its process group (the
# sessions), then it waits for the logger.  So after stop, restart or zap
# has exited 0, no session of the old server lives and every held
# connection has been closed by the server.
#
# Times with and without the sessions are printed as TAP comments, never
# asserted.  tcpserver runs with -c 100 so that 40 sessions and the probe
# fit.  The sessions are found by the test's directory in their command
# line (the stand-in daemon runs from a copy in $T/bin).
. "$TESTS/lib.sh"

own_qmailctl

K=${LOAD_SESSIONS:-40}
HOLD=${LOAD_HOLD:-30}

make_site
mkdir "$T/bin"
cp "$FIXTURES/greeter" "$T/bin/"
sed -i "s|^fixtures = .*|fixtures = $T/bin|" "$T/qmailctl.conf"
add_service smtp <<'SVC'
description = stand-in SMTP, 100 sessions at most
run = tcpserver -v -H -l 0 -c 100 -R 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
log = multilog t ${T}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
add_service pop3 <<'SVC'
description = stand-in POP3, 100 sessions at most
run = tcpserver -v -H -l 0 -c 100 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
log = multilog t ${T}/log/pop3
probe = tcp 127.0.0.1 ${pop3_port} +OK
SVC

# On every exit path: whatever of the site still runs (lib.sh's cleanup
# goes by pidfiles), then lib.sh's cleanup.
kill_site() { for _p in $(site | awk '{ print $1 }'); do kill -KILL "$_p" 2>/dev/null; done; }
# The site's cgroups (qmailctl(8), CGROUPS), removed at exit if empty: a
# failed test must not leave them on the host.
cgsite="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/qmailctl/$(echo "$T/run" | tr / _)"
rm_cgroups() { [ -d "$cgsite" ] && { rmdir "$cgsite"/*/ "$cgsite" 2>/dev/null; }; return 0; }
trap 'kill_supervisors; kill_site; rm_cgroups; cleanup' EXIT
# sessions SERVICE [PGID]: live stand-in daemons serving a connection of
# SERVICE (of the server leading PGID).
sessions() { site | awk -v s="$1" -v g="${2:-}" '$6 == "greeter" && $8 == s && (g == "" || $3 == g)' | wc -l; }
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
answers() {
	"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT 2>/dev/null | grep -q '^220 ' &&
		"$FIXTURES/client" 127.0.0.1 "$pop3_port" QUIT 2>/dev/null | grep -q '^+OK'
}

# timed NAME ARGS: runs q ARGS, sets rc and ms (wall time of the command).
timed() {
	_t0=$(now_ms)
	q "$@" >"$T/out" 2>&1
	rc=$?
	ms=$(( $(now_ms) - _t0 ))
}

# hold: K sessions on each service, greeted.
hold() {
	"$FIXTURES/holder" 127.0.0.1 "$smtp_port" "$K" 220 "$HOLD" >"$T/h.smtp" 2>&1 &
	hs=$!
	"$FIXTURES/holder" 127.0.0.1 "$pop3_port" "$K" +OK "$HOLD" >"$T/h.pop3" 2>&1 &
	hp=$!
	track_pid "$hs"; track_pid "$hp"
	wait_for 20 grep -q '^held' "$T/h.smtp"
	wait_for 20 grep -q '^held' "$T/h.pop3"
	check "$1: $K SMTP and $K POP3 sessions held ($(head -n 1 "$T/h.smtp"), $(head -n 1 "$T/h.pop3"))" \
		test "$(head -n 1 "$T/h.smtp")" = "held $K" -a "$(head -n 1 "$T/h.pop3")" = "held $K"
	# (the churning clients may add a session or two)
	check "... each served by a session process of its own" \
		test "$(sessions smtp)" -ge "$K" -a "$(sessions pop3)" -ge "$K"
	old_s=$(pid_of smtp) old_p=$(pid_of pop3)
}
# released WHAT: right after WHAT exited, no old session lives, and the
# holders see every connection closed.
released() {
	_s=$(sessions smtp "$old_s") _p=$(sessions pop3 "$old_p")
	check "... no session of the old servers lives when $1 has exited ($_s smtp, $_p pop3)" \
		test "$_s" = 0 -a "$_p" = 0
	wait "$hs"; _rs=$?
	wait "$hp"; _rp=$?
	check "... and the server closed every held connection ($(tail -n 1 "$T/h.smtp"); $(tail -n 1 "$T/h.pop3"))" \
		test "$_rs$_rp" = 00
}

# Without sessions, for comparison.
q start smtp pop3 >/dev/null 2>&1
timed restart smtp pop3; base_restart=$ms
is_rc $rc 0 "restart without sessions exits 0"
timed zap smtp pop3; base_zap=$ms
is_rc $rc 0 "zap without sessions exits 0"
q start smtp pop3 >/dev/null 2>&1
timed stop smtp pop3; base_stop=$ms
is_rc $rc 0 "stop without sessions exits 0"
q start smtp pop3 >"$T/out" 2>&1
is_rc $? 0 "start exits 0"

# churn: besides the held sessions, clients that connect, read the
# greeting and quit, back to back, until told to stop (at most 5000).
churn() {
	_n=0 _good=0
	while [ ! -e "$T/stop-churn" ] && [ "$_n" -lt 5000 ]; do
		_n=$((_n + 1))
		"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >/dev/null 2>&1 && _good=$((_good + 1))
		"$FIXTURES/client" 127.0.0.1 "$pop3_port" QUIT >/dev/null 2>&1 && _good=$((_good + 1))
	done
	echo "$_good of $((_n * 2))" >"$T/churn"
}
rm -f "$T/stop-churn"
churn &
churn_pid=$!
track_pid "$churn_pid"

# restart under load.
hold "restart"
q status smtp pop3 >"$T/st" 2>&1
is_rc $? 0 "status says running under load"
q check smtp pop3 >"$T/chk" 2>&1
rc=$?
if [ "$rc" = 2 ] && grep -q "unknown command 'check'" "$T/chk"; then
	skip "check beside $K sessions: this qmailctl has no check command yet (qmailctl(8) documents one)"
else
	is_rc $rc 0 "check (a probe through the whole chain) succeeds beside $K sessions"
	sed 's/^/# /' "$T/chk"
fi
timed restart smtp pop3; load_restart=$ms
is_rc $rc 0 "restart with $K sessions per service exits 0"
sed 's/^/# /' "$T/out"
check "... with new servers" test "$(pid_of smtp)" != "$old_s" -a "$(pid_of pop3)" != "$old_p"
check "... that answer" answers
released restart

# zap under load.
hold "zap"
timed zap smtp pop3; load_zap=$ms
is_rc $rc 0 "zap with $K sessions per service exits 0"
sed 's/^/# /' "$T/out"
# the server and its K sessions (and maybe a churning client's)
check "... counting the sessions it killed" \
	test "$(awk -v k="$K" '/zapped [0-9]+ processes/ && $3 > k { n++ } END { print n + 0 }' "$T/out")" = 2
check "... and no pidfile is left" test -z "$(pidfiles_in "$T/run")"
released zap
q start smtp pop3 >/dev/null 2>&1
is_rc $? 0 "start after the zap exits 0"
check "... and the new servers answer" answers
touch "$T/stop-churn"
wait "$churn_pid"
note "churning clients during restart and zap: $(cat "$T/churn") connections greeted"

# stop under load: the sessions outlive the listener; stop TERMs them.
hold "stop"
timed stop smtp pop3; load_stop=$ms
is_rc $rc 0 "stop with $K sessions per service exits 0"
sed 's/^/# /' "$T/out"
released stop
check "... the loggers have exited too, nothing of the site is left" site_empty
check "... and no pidfile is left" test -z "$(pidfiles_in "$T/run")"

note "wall time of the command for both services, idle -> with $K held sessions each"
note "(restart and zap also with clients churning beside them; one run on a shared host: noisy):"
note "  restart $base_restart -> $load_restart ms, zap $base_zap -> $load_zap ms, stop $base_stop -> $load_stop ms"
done_testing
