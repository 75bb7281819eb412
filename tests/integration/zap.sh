#!/bin/sh
# send and zap: a wedged qmail-send with a thousand hung deliveries goes
# down whole; nothing outside the group is ever touched; the control
# signals reach the recorded process.
. "$TESTS/lib.sh"

make_site
add_plain_services
N=1000
add_service send <<SVC
description = stand-in qmail-send with $N hung qmail-remote
run = \${fixtures}/qmail-standin -n $N -r \${T}/record
log = multilog t \${T}/log/send
probe = none
settle = 100
stop_timeout = 0.5
zap_grace = 100
reload_signal = HUP
flush_signal = ALRM
SVC

# start_wedged N: start send and wait until its N deliveries are in place.
# The log keeps earlier runs' lines: wait for one more "ready" line.
ready_lines() { cat "$T"/log/send/* 2>/dev/null | grep -c "deliveries ready"; }
more_ready() { test "$(ready_lines)" -gt "$_seen"; }
start_wedged() {
	_seen=$(ready_lines)
	q start send >"$T/out" 2>&1 || { sed 's/^/# /' "$T/out"; return 1; }
	wait_for 20 more_ready
}

check "send starts" start_wedged $N
leader=$(pid_of send)
check "qmail-send leads a group of itself, 3 helpers and $N deliveries" \
	test "$(group_live "$leader")" = $((N + 4))

# The control signals reach the recorded process.
: >"$T/record"
q reload send >"$T/out" 2>&1
is_rc $? 0 "reload exits 0"
check "... and says what it sent to whom" grep -q "sent SIGHUP to qmail-send $leader" "$T/out"
q flush send >/dev/null 2>&1
is_rc $? 0 "flush exits 0"
wait_for 5 grep -q ALRM "$T/record"
check "qmail-send got HUP then ALRM" test "$(tr '\n' ' ' <"$T/record")" = "HUP ALRM "
q pause send >/dev/null 2>&1
is_rc $? 0 "pause exits 0"
check "pause stopped qmail-send" test "$(stat_field "$leader" 3)" = T
remote=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$leader" '$5 == g && $2 == "(qmail-remote)" { print $1; exit }')
check "... and its deliveries" test "$(stat_field "$remote" 3)" = T
q cont send >/dev/null 2>&1
is_rc $? 0 "cont exits 0"
wait_for 5 grep -q CONT "$T/record"
check "cont resumed qmail-send (it recorded CONT)" grep -q CONT "$T/record"
check "... and its deliveries" test "$(stat_field "$remote" 3)" != T

# restart of send leaves the services that feed the queue alone.
q start smtp >/dev/null 2>&1
smtp=$(pid_of smtp)

# stop cannot stop a qmail-send waiting on hung deliveries.
q stop send >"$T/out" 2>&1
is_rc $? 1 "stop send times out with exit 1"
sed 's/^/# /' "$T/out"
check "... and points at zap" grep -q "qmailctl zap send" "$T/out"
check "... qmail-send is still recorded and alive" same_process "$T/run/send.pid"

# zap takes it all down.
q zap send >"$T/out" 2>&1
is_rc $? 0 "zap send exits 0"
sed 's/^/# /' "$T/out"
check "zap reports what it killed, the $N TERM-proof deliveries by KILL" \
	grep -Eq "^send: zapped 10[0-9][0-9] processes \($N by KILL\)" "$T/out"
check "no live process is left in the group" test "$(group_live "$leader")" = 0
check "the delivery we looked at is gone" gone "$remote"
check "no pidfile is left" test ! -e "$T/run/send.pid" -a ! -e "$T/run/send.log.pid"
q status send >/dev/null
is_rc $? 3 "status after zap exits 3"
check "smtp, which feeds the queue, was never touched" same_process "$T/run/smtp.pid"
check "... same pid" test "$(pid_of smtp)" = "$smtp"

# The control commands on a stopped service: exit 7.
for c in reload flush pause cont; do
	q $c send >/dev/null 2>&1
	is_rc $? 7 "$c of a stopped service exits 7"
done

# A group whose leader died: still zapped, member by member.
sed -i "s/-n $N/-n 5/" "$T/services/send"
start_wedged 5
leader=$(pid_of send)
# an unsupervised crash: the supervisor dies first (else it ends the
# group and restarts; tests/integration/supervise.sh)
kill -KILL "$(head -n 1 "$T/run/send.sup.pid")"
kill -KILL "$leader"
wait_for 5 gone "$leader"
check "the leader is dead, its helpers and deliveries live on" test "$(group_live "$leader")" -ge 6
q status send >"$T/out"
is_rc $? 1 "status: dead with a pidfile (exit 1)"
q -v zap send >"$T/out" 2>&1
is_rc $? 0 "zap of a leaderless group exits 0"
sed 's/^/# /' "$T/out"
check "... and leaves no live member" test "$(group_live "$leader")" = 0

# An unrelated process behind a recycled-looking pidfile is never touched.
sleep 1000 &
innocent=$!
track_pid "$innocent"
printf '%s\nstart 12\nboot %s\npgid %s\n' "$innocent" "$(cat /proc/sys/kernel/random/boot_id)" "$innocent" >"$T/run/send.pid"
q zap send >"$T/out" 2>&1
is_rc $? 0 "zap with a stale pidfile exits 0"
check "... and the unrelated process survives" alive "$innocent"
for c in reload flush pause cont; do
	q $c send >/dev/null 2>&1
	is_rc $? 7 "$c with a stale pidfile exits 7, nothing signalled"
done
check "... and it still survives, not stopped" test "$(stat_field "$innocent" 3)" = S

# stop -k escalates to zap after the timeout.
start_wedged 5
leader=$(pid_of send)
q stop -k send >"$T/out" 2>&1
is_rc $? 0 "stop -k of a wedged send exits 0"
check "... saying it zapped" grep -q "zapping (-k)" "$T/out"
check "... and nothing of the group lives" test "$(group_live "$leader")" = 0

# A delivery that left the group with setsid(): a child of this send's
# qmail-rspawn that leads a session of its own.
escaped_of() {
	_rspawn=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$1" '$2 == "(qmail-rspawn)" && $5 == g { print $1 }')
	[ -n "$_rspawn" ] && cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$_rspawn" '$4 == p && $6 == $1 { print $1 }' 
}
sed -i "s/-n 5/-n 5 -e/" "$T/services/send"
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cgroot" ] && [ -w "$cgroot" ]; then
	start_wedged 5
	leader=$(pid_of send)
	esc=$(escaped_of "$leader")
	check "one delivery escaped its group (pid $esc)" test -n "$esc"
	q -v status send >"$T/st"
	check "status -v says the server is in a cgroup" grep -q '^send: in cgroup /' "$T/st"
	q status --json send >"$T/st"
	check "status --json names the cgroup" grep -q '"cgroup":"/' "$T/st"
	q -v zap send >"$T/out" 2>&1
	is_rc $? 0 "with a cgroup, zap exits 0"
	sed 's/^/# /' "$T/out"
	check "... and the escaped delivery is gone too" gone "$esc"
else
	skip "cgroup v2 is not mounted writable here"
fi

# stop of a server whose child left its group (setsid) and ignores TERM:
# the server exits on TERM, the child lives on.  (issue 18, item 9)
add_service esc <<'SVC'
run = ${fixtures}/escaper ${T}/esc.child
log = multilog t ${T}/log/esc
probe = none
settle = 50
stop_timeout = 0.5
SVC
# start_esc: starts esc; its escaped child's pid in $esc.
start_esc() {
	rm -f "$T/esc.child"
	q start esc >"$T/out" 2>&1 || { sed 's/^/# /' "$T/out"; return 1; }
	wait_for 5 test -s "$T/esc.child" && esc=$(cat "$T/esc.child") && track_pid "$esc"
}
if [ -n "$cgroot" ] && [ -w "$cgroot" ]; then
	check "esc starts, its child escapes the group" start_esc
	server=$(pid_of esc)
	q stop esc >"$T/out" 2>&1
	is_rc $? 1 "with a cgroup, stop of a server whose child ignores TERM exits 1"
	sed 's/^/# /' "$T/out"
	check "... naming the process left (pid $esc) and the cgroup" \
		grep -q "but 1 process still in its cgroup /.*(pid $esc); 'qmailctl zap esc' kills the whole cgroup" "$T/out"
	check "... not the server's pid, which is gone" sh -c "! grep -q 'escaper $server still running' '$T/out'"
	q zap esc >/dev/null 2>&1
	is_rc $? 0 "... and zap ends it"
	check "... the child is gone" gone "$esc"
else
	skip "cgroup v2 is not mounted writable here"
fi
printf 'cgroup = no\n' >>"$T/qmailctl.conf"
start_wedged 5
leader=$(pid_of send)
esc=$(escaped_of "$leader")
track_pid "$esc"
q -v status send >"$T/st"
check "without a cgroup, status -v says only the process group is reached" \
	grep -q "^send: in process group $leader (no cgroup" "$T/st"
q status --json send >"$T/st"
check "... and status --json has no cgroup" grep -q '"cgroup":null' "$T/st"
q zap send >"$T/out" 2>&1
is_rc $? 1 "without a cgroup, zap of a group with an escaped process exits 1"
sed 's/^/# /' "$T/out"
check "... and names it as escaped" grep -q "left the process group with setsid().*pid $esc" "$T/out"
check "... the rest of the group is gone" test "$(group_live "$leader")" = 0
kill -KILL "$esc"

# Without a cgroup the escaped child is out of every group of ours: stop
# must not say "stopped" while it lives, and names it.
check "esc starts without a cgroup" start_esc
q stop esc >"$T/out" 2>&1
is_rc $? 1 "without a cgroup, stop of a server whose child escaped exits 1"
sed 's/^/# /' "$T/out"
check "... names the escaped child (pid $esc)" \
	grep -q "left its process group with setsid() and still runs (pid $esc)" "$T/out"
check "... and does not say stopped" sh -c "! grep -q 'stopped' '$T/out'"
check "... the child is alive (stop is TERM only)" alive "$esc"
kill -KILL "$esc"
q status esc >/dev/null 2>&1
is_rc $? 3 "... the server's pidfiles are gone (status 3)"
rm "$T/services/esc"

# restart send, the Life-with-qmail way: only send restarts.
sed -i "s/-n 5 -e/-n 0/" "$T/services/send"
q start send >/dev/null 2>&1
old=$(pid_of send)
q restart send >"$T/out" 2>&1
is_rc $? 0 "restart send exits 0"
check "... with a new qmail-send" test "$(pid_of send)" != "$old"
check "... while smtp, which feeds the queue, kept running" test "$(pid_of smtp)" = "$smtp"
q stop send smtp >/dev/null 2>&1
is_rc $? 0 "a send with no hung delivery stops within stop_timeout"
done_testing
