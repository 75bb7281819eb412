#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# qmailctl core: services by name, start/stop/restart/status with confirmed
# transitions, against the real tcpserver and multilog with stand-in daemons.
. "$TESTS/lib.sh"

make_site
add_plain_services
add_service send <<'SVC'
description = stand-in qmail-send
run = sleep 100000
log = multilog t ${T}/log/send
directory = ${T}
env = QMAILQUEUE=/bin/true
env = GREETING=hello world
memory = 50000000
settle = 100
SVC

# -n and list change nothing.
q -n start smtp >"$T/plan" 2>&1
is_rc $? 0 "-n start exits 0"
check "-n shows the exact argv" grep -q "smtp: run: tcpserver -v -H -l 0 -R 127.0.0.1 $smtp_port $FIXTURES/greeter smtp" "$T/plan"
check "-n shows the pidfiles" grep -q "pidfile $T/run/smtp.pid" "$T/plan"
check "-n shows the probe" grep -q "probe tcp 127.0.0.1:$smtp_port" "$T/plan"
check "-n started nothing" test ! -e "$T/run/smtp.pid"
check "... and says it would start, having run start's checks" grep -qx "smtp: would start" "$T/plan"

# -n runs the checks start would run, and exits as start would.
add_service absent <<'SVC'
run = qmailctl-no-such-program
probe = none
SVC
q -n start absent >"$T/plan" 2>&1
is_rc $? 5 "-n start of a service whose program is missing: exit 5, as start"
check "... says so, and that it would not start" sh -c "grep -q 'absent: failed: run: program qmailctl-no-such-program is not installed' '$T/plan' &&
	grep -qx 'absent: would not start: exit 5, as start would exit' '$T/plan'"
add_service nodir <<SVC
run = sleep 1000
directory = $T/no-such-directory
probe = none
SVC
q -n start nodir >"$T/plan" 2>&1
is_rc $? 1 "-n start of a service whose directory is missing: exit 1, as start"
check "... with start's own reason" grep -q "nodir: failed: directory $T/no-such-directory: No such file or directory" "$T/plan"
q start nodir >"$T/out" 2>&1
is_rc $? 1 "... and start itself exits 1 too"
rm "$T/services/absent" "$T/services/nodir"
q list >"$T/list"
check "list names every service" test "$(grep -c '^[a-z]' "$T/list")" = 3

# start: confirmed, recorded, serving.
q start smtp pop3 send >"$T/out" 2>&1
is_rc $? 0 "start smtp pop3 send exits 0"
cat "$T/out" | sed 's/^/# /'
check "start reports each service with its pids" \
	test "$(grep -c 'started (.* [0-9]*, multilog [0-9]*)' "$T/out")" = 3
check "smtp's pidfile names a live tcpserver" same_process "$T/run/smtp.pid"
check "smtp's logger pidfile names a live multilog" same_process "$T/run/smtp.log.pid"
spid=$(pid_of smtp)
check "the recorded pid is tcpserver itself" grep -qx tcpserver "/proc/$spid/comm"
"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >"$T/greet"
check "an independent client gets the smtp greeting" grep -q '^220 ' "$T/greet"
"$FIXTURES/client" 127.0.0.1 "$pop3_port" QUIT >"$T/greet"
check "an independent client gets the pop3 greeting" grep -q '^+OK' "$T/greet"

# How the elements run.
lpid=$(pid_of smtp log)
check "the server leads its own process group" test "$(stat_field "$spid" 5)" = "$spid"
check "the logger is not in the server's group" test "$(stat_field "$lpid" 5)" != "$spid"
check "server and logger share a session" test "$(stat_field "$spid" 6)" = "$(stat_field "$lpid" 6)"
check "that session is not the starter's" test "$(stat_field "$spid" 6)" != "$(stat_field $$ 6)"
sendpid=$(pid_of send) sendlog=$(pid_of send log)
check "the server's stdin is /dev/null" test "$(readlink "/proc/$sendpid/fd/0")" = /dev/null
check "the server's stdout feeds the logger's stdin" \
	test "$(readlink "/proc/$sendpid/fd/1")" = "$(readlink "/proc/$sendlog/fd/0")"
check "the server's stderr goes to the logger too" \
	test "$(readlink "/proc/$sendpid/fd/2")" = "$(readlink "/proc/$sendlog/fd/0")"
check "no other descriptor leaked into the server" \
	test "$(ls "/proc/$sendpid/fd" | wc -l)" = 3
wait_for 5 grep -q 'tcpserver: status' "$T/log/smtp/current"
check "the logger got the server's output" grep -q 'tcpserver: status' "$T/log/smtp/current"
tr '\0' '\n' <"/proc/$sendpid/environ" >"$T/env"
check "the environment is PATH and the env lines only" \
	test "$(sort "$T/env" | tr '\n' ' ')" = "GREETING=hello world PATH=/usr/local/bin:/usr/bin:/bin QMAILQUEUE=/bin/true "
check "the working directory is 'directory'" test "$(readlink "/proc/$sendpid/cwd")" = "$T"
check "memory sets the data limit (softlimit -m)" \
	grep -q '^Max data size  *50000000 ' "/proc/$sendpid/limits"
check "the pidfile records start time and boot id" grep -q '^start [0-9]' "$T/run/send.pid"

# status.
q status smtp pop3 send >"$T/st"
is_rc $? 0 "status of running services exits 0"
check "status shows smtp running with its pid" grep -q "^smtp: up (tcpserver $spid up .*, multilog $lpid up " "$T/st"
q status --json smtp >"$T/json"
check "status --json names the state and the pids" \
	grep -q "\"name\":\"smtp\".*\"state\":\"running\".*\"pid\":$spid" "$T/json"
check_rc "pop3=yes status selects pop3 only" 0 sh -c "pop3=yes '$QMAILCTL' -f '$T/qmailctl.conf' status >'$T/sel'"
check "... and prints one line, for pop3" test "$(cut -d: -f1 "$T/sel")" = pop3

# start when running is a no-op.
q start smtp >"$T/out" 2>&1
is_rc $? 0 "start of a running service exits 0"
check "... says so, and keeps the same pid" grep -q "already running (tcpserver $spid)" "$T/out"

# restart gives new pids.
ppid=$(pid_of pop3)
q restart pop3 >"$T/out" 2>&1
is_rc $? 0 "restart exits 0"
check "restart ran a new, confirmed server" test "$(pid_of pop3)" != "$ppid"
check "... and the old one is gone" gone "$ppid"

# stop: confirmed, nothing left.
q stop smtp pop3 send >"$T/out" 2>&1
is_rc $? 0 "stop exits 0"
check "stop reports each service stopped" test "$(grep -c 'stopped in' "$T/out")" = 3
check "the server has exited" gone "$spid"
check "the logger has exited" gone "$lpid"
check "no pidfile remains" test -z "$(pidfiles_in "$T/run")"
q status smtp pop3 send >/dev/null
is_rc $? 3 "status of stopped services exits 3"
q stop smtp >"$T/out" 2>&1
is_rc $? 0 "stop of a stopped service exits 0"
check "... and says it was not running" grep -q '^smtp: not running' "$T/out"

done_testing
