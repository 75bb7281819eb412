#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# Supervision: qmailctl-supervise restarts what exits unasked, holds the
# log pipe, backs off and gives up; stop and zap bring nothing back; a
# killed supervisor leaves the service serving.  The kill loops (100
# kills of each element of each kind) are suploop.sh's.  Not tested here:
# a probe that stops answering while the processes live (reported, not
# acted upon).
. "$TESTS/lib.sh"

make_site
add_plain_services
# Fast restarts, no give-up: the tests kill faster than a real crash.
printf 'restart_limit = 1000 1\nbackoff_max = 20\n' >>"$T/services/smtp"
add_send_standin 'restart_limit = 1000 1' 'backoff_max = 20'

sup_pid() { head -n 1 "$T/run/$1.sup.pid"; }
# back PIDFILE OLD NAME: a new live process is recorded and NAME is up.
back() {
	same_process "$1" && [ "$(head -n 1 "$1" 2>/dev/null)" != "$2" ] &&
		q status "$3" 2>/dev/null | grep -q "^$3: up "
}

# The keys: bad values are errors naming FILE:LINE (exit 6).
bad_key() {
	printf 'run = sleep 1\n%s\n' "$1" >"$T/services/bad"
	q -n start bad >"$T/out" 2>&1
	is_rc $? 6 "'$1' is a configuration error"
	check "... naming the file and line" grep -q "services/bad:2: $2" "$T/out"
}
bad_key "restart = maybe" "'restart' must be 'yes' or 'no'"
bad_key "restart_limit = 10" "'restart_limit' takes COUNT SECONDS"
bad_key "restart_limit = 0 60" "bad COUNT '0'"
bad_key "backoff_max = soon" "bad number 'soon' for 'backoff_max'"
rm -f "$T/services/bad"
sed 's/^T = /restart = sometimes\nT = /' "$T/qmailctl.conf" >"$T/bad.conf"
"$QMAILCTL" -f "$T/bad.conf" status >"$T/out" 2>&1
is_rc $? 6 "a bad site default is an error too"
check "... naming the site file and line" grep -q "bad.conf:[0-9]*: 'restart' must be" "$T/out"
# restart = no in the site config: no supervisor by default.
sed 's/^T = /restart = no\nT = /' "$T/qmailctl.conf" >"$T/no.conf"
"$QMAILCTL" -f "$T/no.conf" start pop3 >/dev/null 2>&1
is_rc $? 0 "restart = no as the site default: start exits 0"
check "... and no supervisor runs" test ! -e "$T/run/pop3.sup.pid"
"$QMAILCTL" -f "$T/no.conf" stop pop3 >/dev/null 2>&1
# A relative -f: the supervisor still finds the site (it runs in /).
(cd "$T" && "$QMAILCTL" -f qmailctl.conf start pop3 >/dev/null 2>&1)
is_rc $? 0 "start with a relative -f exits 0"
check "... its supervisor runs in /" test "$(readlink "/proc/$(head -n 1 "$T/run/pop3.sup.pid")/cwd")" = /
q stop pop3 >/dev/null 2>&1

# The probe says its goodbye after its answer: by its QUIT the
# supervisor has recorded the service up.
bye_server bye
bye_port=$(free_port)
add_service bye <<SVC
run = tcpserver -v -R -H -l 0 127.0.0.1 $bye_port \${T}/bye/bye
log = multilog t \${T}/log/bye
probe = tcp 127.0.0.1 $bye_port 220
SVC
bye_check bye "a service whose program notes its QUIT"
rm -f "$T/services/bye"

q start smtp send >"$T/out" 2>&1
is_rc $? 0 "start smtp send (supervised by default) exits 0"
sed 's/^/# /' "$T/out"
check "the supervisor's pidfile names a live process" same_process "$T/run/smtp.sup.pid"
sup=$(sup_pid smtp)
check "ps shows which service it keeps" test "$(tr '\0' ' ' <"/proc/$sup/cmdline")" = "qmailctl-supervise smtp "
spid=$(pid_of smtp) lpid=$(pid_of smtp log)
check "the supervisor is the server's parent" test "$(stat_field "$spid" 4)" = "$sup"
check "the supervisor is the logger's parent" test "$(stat_field "$lpid" 4)" = "$sup"
check "the supervisor leads a session of its own" test "$(stat_field "$sup" 6)" = "$sup"
check "the supervisor holds both ends of the log pipe" \
	test "$(readlink "/proc/$sup/fd/2")" = "$(readlink "/proc/$lpid/fd/0")"
check "... and it sleeps (no timer while nothing happens)" \
	test "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$sup/status")" = S

# --- no line lost or repeated across 20 restarts of the logger ------------
NL=300000
add_service bab <<SVC
run = sh -c "seq 1 $NL; exec sleep 100000"
log = multilog s16000000 \${T}/log/bab
probe = none
settle = 50
restart_limit = 1000 1
backoff_max = 20
SVC
q start bab >"$T/out" 2>&1
is_rc $? 0 "start a server writing $NL numbered lines"
i=0 missed=0
while [ $i -lt 20 ]; do
	old=$(pid_of bab log)
	# TERM: multilog writes out what it read, then exits (KILL would lose
	# what it held, the logger's own loss, not the pipe's)
	kill -TERM "$old"
	wait_for 10 back "$T/run/bab.log.pid" "$old" bab || missed=$((missed + 1))
	i=$((i + 1))
done
check "the logger was stopped and restarted 20 times ($missed misses)" test "$missed" = 0
numbers() { cat "$T"/log/bab/@* "$T"/log/bab/current 2>/dev/null | grep -E '^[0-9]+$'; }
all_in() { test "$(numbers | tail -n 1)" = "$NL"; }
wait_for 30 all_in
numbers >"$T/got"
seq 1 "$NL" >"$T/want"
check "every line is in the log once, in order" cmp -s "$T/got" "$T/want"
# The supervisor writes no line of its own while the server runs: one
# between two pieces of a server's line (seq writes 4 KB blocks) would
# cut that line in two.
cat "$T"/log/bab/@* "$T"/log/bab/current 2>/dev/null | grep -vE '^[0-9]+$' >"$T/other"
check "... and nothing but the server's lines (none of the supervisor's cut one)" test ! -s "$T/other"
note "lines: $(wc -l <"$T/got") of $NL"
q stop bab >/dev/null 2>&1

# --- at a stop, what the server writes as it ends reaches the log --------
# The supervisor closes its own ends of the pipe when it sends TERM (the
# logger then drains while the server ends): a line written 300 ms later
# must still be read, and the logger end only after it.
add_service last <<SVC
run = sh -c "trap 'sleep 0.3; echo said after TERM; exit 0' TERM; echo up; while :; do sleep 0.1; done"
log = multilog \${T}/log/last
probe = none
settle = 50
SVC
q start last >"$T/out" 2>&1
is_rc $? 0 "start a server that writes a last line 300 ms after TERM"
logger=$(pid_of last log)
q stop last >"$T/out" 2>&1 &
stopper=$!
track_pid "$stopper"
stopping() { q status last 2>/dev/null | grep -q '^last: stopping'; }
wait_for 5 stopping
check "... while it ends, status says stopping" stopping
wait "$stopper"
is_rc $? 0 "... stop"
check "... its last line is in the log" grep -q '^said after TERM$' "$T/log/last/current"
check "... and its logger is gone, its pidfiles too" sh -c \
	"! kill -0 $logger 2>/dev/null && test ! -e '$T/run/last.pid' && test ! -e '$T/run/last.log.pid'"

# A server that floods its log: the pipe is full whenever the logger is
# down, and the supervisor must not block on a line of its own then.
add_service flood <<'SVC'
run = yes
log = multilog s1000000 n2 ${T}/log/flood
probe = none
settle = 50
restart_limit = 1000 1
backoff_max = 20
SVC
q start flood >/dev/null 2>&1
i=0 missed=0
while [ $i -lt 5 ]; do
	old=$(pid_of flood log)
	kill -KILL "$old"
	wait_for 10 back "$T/run/flood.log.pid" "$old" flood || missed=$((missed + 1))
	i=$((i + 1))
done
check "a flooding server: its logger killed 5 times, always back ($missed misses)" test "$missed" = 0
q stop flood >/dev/null 2>&1

# --- a server that exits at once: backoff, give up, start clears it -------
add_service crash <<'SVC'
run = sh -c "if test -e ${T}/crash; then exit 3; fi; exec sleep 100000"
log = multilog ${T}/log/crash
probe = none
settle = 50
restart_limit = 6 60
backoff_max = 400
SVC
q start crash >/dev/null 2>&1
is_rc $? 0 "start crash (it runs until told to crash)"
: >"$T/crash"
kill -KILL "$(pid_of crash)"
failed() { q status crash 2>/dev/null | grep -q '^crash: failed'; }
wait_for 20 failed
q status crash >"$T/st" 2>&1
is_rc $? 1 "after the limit: status exits 1"
sed 's/^/# /' "$T/st"
check "... says failed and why" grep -q '^crash: failed (6 unexpected exits within 60 s; the last: sh [0-9]* exited 3' "$T/st"
q check crash >"$T/ck" 2>&1
is_rc $? 2 "check: CRITICAL when failed"
check "... with the reason" grep -q 'CRITICAL - crash: failed (6 unexpected exits' "$T/ck"
check "nothing of it runs, no supervisor is left" test ! -e "$T/run/crash.pid" -a ! -e "$T/run/crash.sup.pid"
grep -o 'restarting in [0-9]* ms' "$T/log/crash/current" | awk '{ print $3 }' >"$T/waits"
note "waits: $(tr '\n' ' ' <"$T/waits")"
check "the first restart is at once" test "$(head -n 1 "$T/waits")" = 0
check "the waits grow, capped at backoff_max" awk 'NR > 1 && ($1 < last || $1 > 400) { bad = 1 } { last = $1 } END { exit bad || last != 400 }' "$T/waits"
rm -f "$T/crash"
q start crash >"$T/out" 2>&1
is_rc $? 0 "start clears the failed state"
check "... status says up" sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' status crash | grep -q '^crash: up '"

# --- stop and zap during a backoff wait: nothing comes back ---------------
sed -i 's/^restart_limit = .*/restart_limit = 100 60/; s/^backoff_max = .*/backoff_max = 60000/' "$T/services/crash"
# into_backoff: crash in a loop until the wait is long
into_backoff() {
	q start crash >/dev/null 2>&1 || return 1
	: >"$T/crash"
	kill -KILL "$(pid_of crash)"
	wait_for 20 grep -q 'restarting in 1600 ms' "$T/log/crash/current"
}
for cmd in stop zap; do
	: >"$T/log/crash/current"
	q stop crash >/dev/null 2>&1
	rm -f "$T/crash"
	check "$cmd: the service is in a long backoff wait" into_backoff
	sup=$(sup_pid crash)
	q status crash >"$T/st" 2>&1
	check "$cmd: status says restarting, with the wait left" grep -q '^crash: restarting in [0-9]* ms' "$T/st"
	q $cmd crash >"$T/out" 2>&1
	is_rc $? 0 "$cmd during the wait exits 0"
	sed 's/^/# /' "$T/out"
	[ "$cmd" = zap ] && check "zap: says what it ended, not 'not running'" grep -q '^crash: no server was running (a restart was pending); supervisor and logger ended' "$T/out"
	check "$cmd: the supervisor has exited" gone "$sup"
	rm -f "$T/crash"
	sleep 2
	check "$cmd: nothing came back" test -z "$(pidfiles_in "$T/run" | grep crash)"
	q status crash >/dev/null 2>&1
	is_rc $? 3 "$cmd: status says stopped"
done

# --- the supervisor killed: mail is still served ---------------------------
sup=$(sup_pid smtp) spid=$(pid_of smtp)
kill -KILL "$sup"
wait_for 5 gone "$sup"
"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >"$T/greet" 2>&1
check "supervisor killed: an independent client still gets the greeting" grep -q '^220 ' "$T/greet"
check "... from the same server" same_process "$T/run/smtp.pid"
q status smtp >"$T/st" 2>&1
is_rc $? 0 "status exits 0"
sed 's/^/# /' "$T/st"
check "... and says unsupervised, with the pids" grep -q "^smtp: unsupervised (tcpserver $spid up " "$T/st"
q check smtp >"$T/ck" 2>&1
is_rc $? 1 "check: WARNING when unsupervised"
q stop smtp send >"$T/out" 2>&1
is_rc $? 0 "stop of an unsupervised service exits 0"
check "nothing of smtp is left in the run directory" test -z "$(files_in "$T/run" | grep '^smtp' | grep -v lock)"

# A hold that no TERM follows (a stray USR1, or a zap that died after it)
# ends by itself (zap grace + 10 s): what exited meanwhile comes back.
q start smtp >/dev/null 2>&1
sup=$(sup_pid smtp) old=$(pid_of smtp)
kill -USR1 "$sup"
held() { q status smtp 2>/dev/null | grep -q '^smtp: stopping'; }
wait_for 5 held
check "a stray USR1: the supervisor holds" held
kill -KILL "$old"
wait_for 30 back "$T/run/smtp.pid" "$old" smtp
check "... the hold ends by itself: the server killed meanwhile is back" back "$T/run/smtp.pid" "$old" smtp
check "... under the same supervisor" test "$(sup_pid smtp)" = "$sup"
q stop smtp >/dev/null 2>&1

# zap while the supervisor ends a dead server's group (a member that
# ignores TERM keeps it there a grace period), without a cgroup to catch
# strays: the restart that follows that end must not outlive the zap.
sed 's/^T = /cgroup = no\nT = /' "$T/qmailctl.conf" >"$T/nocg.conf"
tag=$$
add_service wedge <<SVC
run = sh -c "(trap '' TERM; exec sleep 10$tag) & exec sleep 20$tag"
probe = none
settle = 50
SVC
qn() { "$QMAILCTL" -f "$T/nocg.conf" "$@"; }
# wedge_left: the pids of the wedge's sleeps still alive (kept for the
# cleanup, which ends them by pid).
wedge_left() {
	for _p in /proc/[0-9]*; do
		tr '\0' ' ' <"$_p/cmdline" 2>/dev/null | grep -q "^sleep [12]0$tag \$" &&
			echo "${_p#/proc/}" && track_pid "${_p#/proc/}"
	done
	return 0
}
qn start wedge >"$T/out" 2>&1
is_rc $? 0 "a server with a member that ignores TERM starts"
kill -KILL "$(pid_of wedge)"
sleep 0.2       # the supervisor is now ending the rest of that group
qn zap wedge >"$T/out" 2>&1
is_rc $? 0 "zap during that end exits 0"
sed 's/^/# /' "$T/out"
check "... and nothing of the service runs any more" test -z "$(wedge_left)"
check "... nor is recorded" test -z "$(pidfiles_in "$T/run" | grep '^wedge')"
rm -f "$T/services/wedge"

# A supervisor that finds the service refused (its file broken or a
# program gone since start read it: a race start cannot close) tells
# its worker the exit code first, then why, and exits with it.
SUP=${QMAILCTL%/*}/qmailctl-supervise
QMAILCTL_CONF=$T/qmailctl.conf QMAILCTL_SUPERVISE_FD=3 "$SUP" nosuch 3>"$T/report" 2>/dev/null
is_rc $? 6 "the supervisor of a service with no file exits 6"
check "... telling its worker 'code 6', then why" sh -c \
	"sed -n 1p '$T/report' | grep -qx 'code 6' && sed -n 2p '$T/report' | grep -q '^failed .*nosuch'"
printf 'run = %s/nonexistent\nprobe = none\n' "$T" >"$T/services/gone"
QMAILCTL_CONF=$T/qmailctl.conf QMAILCTL_SUPERVISE_FD=3 "$SUP" gone 3>"$T/report" 2>/dev/null
is_rc $? 5 "... of a service whose program is gone: 5"
check "... 'code 5', then why" sh -c \
	"sed -n 1p '$T/report' | grep -qx 'code 5' && sed -n 2p '$T/report' | grep -q '^failed .*nonexistent is not installed'"
rm -f "$T/services/gone"

done_testing
