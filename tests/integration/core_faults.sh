#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# qmailctl core, when things go wrong: failed starts leave nothing behind,
# stale pidfiles never get an innocent process signalled, concurrent runs
# are serialised, bad input is refused before anything is done.
. "$TESTS/lib.sh"

make_site
add_plain_services

nothing_left() {
	# No pidfile, and no process of ours in any group the test saw.
	test -z "$(pidfiles_in "$T/run")"
}

# A server that exits at once.
add_service quick <<'SVC'
run = sh -c "echo quick is leaving >&2; exit 3"
log = multilog t ${T}/log/quick
probe = none
settle = 2000
SVC
q start quick >"$T/out" 2>&1
is_rc $? 1 "a server that exits at once: start exits 1"
sed 's/^/# /' "$T/out"
check "... and says how it exited" grep -q '^quick: failed: sh [0-9]* exited 3' "$T/out"
check "... with the last line its logger got" grep -q '(log: quick is leaving)' "$T/out"
check "... and leaves no pidfile" nothing_left
# The shipped services run multilog under setuidgid: the tail is found too.
sed -i 's|^log = multilog|log = setuidgid root multilog|' "$T/services/quick"
q start quick >"$T/out" 2>&1
is_rc $? 1 "the same with setuidgid before multilog: exit 1"
check "... and the logger's last line still comes back" grep -q '(log: quick is leaving)' "$T/out"

# The port is already in use: tcpserver's own message comes back.
"$FIXTURES/../../pido" "$T/holder.pid" tcpserver -H -l 0 -R 127.0.0.1 "$smtp_port" true &
holder=$!
track_pid "$holder"
wait_for 5 "$FIXTURES/client" 127.0.0.1 "$smtp_port" >/dev/null 2>&1 || true
q start smtp >"$T/out" 2>&1
is_rc $? 1 "port already in use: start exits 1"
sed 's/^/# /' "$T/out"
check "... with tcpserver's message" grep -q 'unable to bind' "$T/out"
check "... and leaves no pidfile" nothing_left
kill "$holder"; wait "$holder" 2>/dev/null

# The program behind tcpserver is missing: tcpserver would run and drop
# every connection, so it is found before anything is started (exit 5).
add_service nodaemon <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 ${smtp_port} /nonexistent/qmail-smtpd
probe = tcp 127.0.0.1 ${smtp_port} 220
start_timeout = 1
SVC
q start nodaemon >"$T/out" 2>&1
is_rc $? 5 "daemon behind tcpserver missing: start exits 5"
sed 's/^/# /' "$T/out"
check "... naming it" grep -qx "nodaemon: failed: tcpserver's program /nonexistent/qmail-smtpd is not installed" "$T/out"
check "... and nothing was started" nothing_left
check "... the port is free" sh -c "! '$FIXTURES/client' 127.0.0.1 $smtp_port >/dev/null 2>&1"

# A program that is not installed: exit 5, nothing started.
add_service missing <<'SVC'
run = no-such-daemon-qmailctl
SVC
q start missing >"$T/out" 2>&1
is_rc $? 5 "a program that is not installed: exit 5"
check "... named in the message" grep -q "no-such-daemon-qmailctl is not installed" "$T/out"

# The worst result wins, and the good service is started anyway.
q start smtp missing >"$T/out" 2>&1
is_rc $? 5 "start of a good and a missing service exits with the worse code"
check "... and the good one was started" same_process "$T/run/smtp.pid"
q stop smtp >/dev/null 2>&1

# A stale pidfile naming a live, unrelated process.
sleep 1000 &
innocent=$!
track_pid "$innocent"
printf '%s\nstart 1\nboot %s\n' "$innocent" "$(cat /proc/sys/kernel/random/boot_id)" >"$T/run/pop3.pid"
q status pop3 >"$T/out"
is_rc $? 1 "status with a stale pidfile exits 1 (dead, pidfile remains)"
check "... and says the pid is another process now" grep -q 'stale pidfile, pid' "$T/out"
q stop pop3 >"$T/out" 2>&1
is_rc $? 0 "stop with a stale pidfile exits 0"
check "... the unrelated process is alive" alive "$innocent"
check "... the stale pidfile is gone" test ! -e "$T/run/pop3.pid"
printf '%s\nstart 1\n' "$innocent" >"$T/run/pop3.pid"
q start pop3 >"$T/out" 2>&1
is_rc $? 0 "start over a stale pidfile proceeds"
check "... the unrelated process is still alive" alive "$innocent"
check "... and pop3 runs under a new pid" test "$(pid_of pop3)" != "$innocent"
printf '1\nstart 0\n' >"$T/run/smtp.pid"
q stop smtp >/dev/null 2>&1
is_rc $? 0 "a pidfile naming pid 1 is stale, never signalled"
q stop pop3 >/dev/null 2>&1

# A pidfile that is a symlink is not followed.
ln -s /proc/self/stat "$T/run/smtp.pid"
q status smtp >"$T/out"
is_rc $? 4 "status with a symlink for a pidfile exits 4 (unknown)"
q start smtp >/dev/null 2>&1
is_rc $? 0 "start replaces a symlinked pidfile"
check "... with a regular file" test -f "$T/run/smtp.pid" -a ! -L "$T/run/smtp.pid"
q stop smtp >/dev/null 2>&1

# Two concurrent starts: exactly one tcpserver.
q start smtp >"$T/c1" 2>&1 &
c1=$!
q start smtp >"$T/c2" 2>&1 &
c2=$!
wait "$c1"; r1=$?
wait "$c2"; r2=$?
check "two concurrent starts both exit 0" test "$r1$r2" = 00
check "... one started, the other found it running" \
	test "$(cat "$T/c1" "$T/c2" | grep -c started)" = 1 -a "$(cat "$T/c1" "$T/c2" | grep -c 'already running')" = 1
n=$(grep -l "tcpserver.*$smtp_port" /proc/[0-9]*/cmdline 2>/dev/null | wc -l)
check "... and exactly one tcpserver listens on the port ($n)" test "$n" = 1
q stop smtp >/dev/null 2>&1

# A server that ignores TERM: stop times out, says zap exists.
add_service stubborn <<'SVC'
run = sh -c "trap '' TERM; exec sleep 1000"
probe = none
settle = 50
stop_timeout = 0.3
SVC
q start stubborn >/dev/null 2>&1
spid=$(pid_of stubborn)
q stop stubborn >"$T/out" 2>&1
is_rc $? 1 "stop of a server ignoring TERM exits 1 after stop_timeout"
sed 's/^/# /' "$T/out"
check "... names the survivor by what runs (sh exec'd sleep) and the zap command" grep -q "sleep $spid still running after .*qmailctl zap stubborn" "$T/out"
check "... never claims it stopped" sh -c "! grep -q stopped '$T/out'"
check "... and the pidfile still records it" same_process "$T/run/stubborn.pid"
q -t 0.2 stop stubborn >/dev/null 2>&1
is_rc $? 1 "-t bounds the wait too"
kill -KILL "$spid"
wait_for 5 gone "$spid"
q stop stubborn >/dev/null 2>&1
is_rc $? 0 "once it is gone, stop clears its pidfile"

# -t bounds a start whose probe never answers.
add_service silent <<'SVC'
run = sleep 1000
probe = tcp 127.0.0.1 ${pop3_port} +OK
SVC
q -t 0.3 start silent >"$T/out" 2>&1
is_rc $? 1 "-t 0.3: a probe that never answers fails the start"
check "... saying it was not ready" grep -q 'silent: failed: not ready after' "$T/out"
check "... and leaves nothing" nothing_left

# Bad input is refused before anything is done.
q start smtp nosuch >"$T/out" 2>&1
is_rc $? 2 "an unknown service: exit 2"
check "... with a one-line message" grep -q "^qmailctl: fatal: unknown service 'nosuch'" "$T/out"
check "... and nothing was started" nothing_left
q frobnicate >/dev/null 2>&1
is_rc $? 2 "an unknown command: exit 2"
q -x start >/dev/null 2>&1
is_rc $? 2 "an unknown option: exit 2"
printf 'run = sleep 1\nrnu = x\n' >"$T/services/typo"
q start smtp typo >"$T/out" 2>&1
is_rc $? 6 "an unknown key: exit 6"
check "... naming FILE:LINE" grep -q "^qmailctl: fatal: $T/services/typo:2: unknown key 'rnu'" "$T/out"
check "... and smtp was not started" nothing_left
printf 'run = sleep "1\n' >"$T/services/typo"
q start typo >"$T/out" 2>&1
is_rc $? 6 "an unterminated quote: exit 6"
check "... naming FILE:LINE" grep -q "$T/services/typo:1: unterminated quote" "$T/out"
rm "$T/services/typo"
q -f "$T/nonexistent.conf" status >/dev/null 2>&1
is_rc $? 6 "a missing site config: exit 6"

# The service survives its starter's session ending.
(setsid sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' start smtp >/dev/null; kill -KILL 0") 2>/dev/null
check "a service outlives the session that started it" same_process "$T/run/smtp.pid"
q stop smtp >/dev/null 2>&1

# A rundir that is a symlink or writable by others is refused.
rm -rf "$T/run"
mkdir "$T/elsewhere"
ln -s "$T/elsewhere" "$T/run"
q start smtp >"$T/out" 2>&1
is_rc $? 1 "a symlinked rundir is refused"
check "... and nothing was started there" test -z "$(ls "$T/elsewhere")"
rm "$T/run"
mkdir -m 0777 "$T/run"
q start smtp >"$T/out" 2>&1
is_rc $? 4 "a world-writable rundir is refused (exit 4)"
check "... and nothing was started" nothing_left

done_testing
