#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# shellcheck disable=SC2016 # ${...} in service files is qmailctl's
# Adoption: the supervisor SIGKILLed, mail still served; `start` puts the
# running service under a new supervisor without restarting it (same
# server and logger pids, the same log pipe); that supervisor restarts
# what exits later, and stop and zap treat the service as any other.  What
# cannot be adopted (a logger killed while unsupervised, a server whose
# stdout and stderr are not the pipe, a logger reading another pipe) is
# restarted, and start says so; a probe that fails after the takeover
# takes nothing down.  Plain tcp, the send stand-in and TLS (stunnel).
# Not tested here: a kernel without pidfd_getfd or a ptrace policy that
# refuses it (the same path as a pipe end that is not one).
. "$TESTS/lib.sh"

make_site
add_plain_services
# A TLS service as the shipped ones (tcpserver as nobody, stunnel): its
# config and certificate are read by nobody.
chmod 755 "$T"
smtps_port=$(free_port)
printf 'smtps_port = %s\nhostname = mail.example.org\n' "$smtps_port" >>"$T/qmailctl.conf"
stunnel_conf smtps smtp "$T/cert.pem"
tls_service smtps smtps_port 'tls 127.0.0.1 ${smtps_port} 220'
q -q cert "$T/cert.pem" >/dev/null 2>&1
chgrp nogroup "$T/cert.pem" && chmod 640 "$T/cert.pem"
mkdir "$T/bin"
# A stand-in server that logs numbered lines, each of them "PID N".
cat >"$T/bin/counter" <<'EOF'
#!/bin/sh
i=0
while [ "$i" -lt 100000 ]; do
	i=$((i + 1))
	echo "$$ $i"
	sleep 0.01
done
EOF
chmod 755 "$T/bin/counter"
add_service count <<'SVC'
run = ${T}/bin/counter
log = multilog ${T}/log/count
probe = none
settle = 50
SVC
add_send_standin
# Neither its stdout nor its stderr is the log pipe: the server cannot be adopted.
add_service deaf <<'SVC'
run = sh -c "exec sleep 100000 >/dev/null 2>&1"
log = multilog ${T}/log/deaf
probe = none
settle = 50
SVC

sup_pid() { head -n 1 "$T/run/$1.sup.pid" 2>/dev/null; }
pipe_of() { readlink "/proc/$1/fd/$2"; }
greets() { "$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT 2>/dev/null | grep -q '^220 '; }
is_up() { q status "$1" 2>/dev/null | grep -q "^$1: up "; }
# kill_sup NAME: SIGKILL to NAME's supervisor, and wait until it is gone.
kill_sup() {
	_s=$(sup_pid "$1")
	kill -KILL "$_s"
	wait_for 5 gone "$_s"
}
all_gone() { for _p in "$@"; do [ -n "$_p" ] && gone "$_p" || return 1; done; }
# new_pid PIDFILE OLD: PIDFILE names a live process, and not OLD.
new_pid() { same_process "$1" && [ "$(head -n 1 "$1")" != "$2" ]; }
# orphan_and_start NAME: NAME started, its pids in run and log, its
# supervisor killed, then start again, its output in $T/out and shown;
# returns start's exit status.
orphan_and_start() {
	q start "$1" >/dev/null 2>&1
	run=$(pid_of "$1") log=$(pid_of "$1" log)
	kill_sup "$1"
	q start "$1" >"$T/out" 2>&1
	_rc=$?
	sed 's/^/# /' "$T/out"
	return $_rc
}
# numbers PID: the numbers of PID's lines in count's log, in order.
numbers() { cat "$T"/log/count/@* "$T/log/count/current" 2>/dev/null | awk -v p="$1" '$1 == p { print $2 }'; }
# gapless PID: PID's numbers are 1, 2, 3 ... with none lost or repeated.
gapless() { numbers "$1" | awk '$1 != NR { bad = 1 } END { exit bad || NR == 0 }'; }
logged() { numbers "$1" | grep -q .; }

q start smtp count send >"$T/out" 2>&1
is_rc $? 0 "start smtp count send exits 0"
sed 's/^/# /' "$T/out"
for s in smtp count send; do
	eval "old_sup_$s=\$(sup_pid $s) run_$s=\$(pid_of $s) log_$s=\$(pid_of $s log)"
done
# shellcheck disable=SC2154 # set by the eval above
pipe=$(pipe_of "$run_smtp" 2)      # tcpserver logs on its stderr

# --- the supervisors killed: what they kept runs on ------------------------
kill_sup smtp; kill_sup count; kill_sup send
# shellcheck disable=SC2154 # set by the eval above
check "the supervisors are gone" all_gone "$old_sup_smtp" "$old_sup_count" "$old_sup_send"
check "supervisor killed: an independent client still gets the greeting" greets
q status smtp >"$T/st" 2>&1
is_rc $? 0 "status exits 0"
sed 's/^/# /' "$T/st"
check "... says unsupervised, with the pids" grep -q "^smtp: unsupervised (tcpserver $run_smtp up .*, multilog $log_smtp up " "$T/st"
check "... and that start puts it back under one" grep -q "'qmailctl start' puts it under one" "$T/st"
count_mid=$(numbers "$run_count" | tail -n 1)

# --- start adopts: nothing restarted --------------------------------------
q start smtp count send >"$T/out" 2>&1
is_rc $? 0 "start of the unsupervised services exits 0"
sed 's/^/# /' "$T/out"
check "... says it adopted them" grep -q "^smtp: adopted by qmailctl-supervise [0-9]* (tcpserver $run_smtp, multilog $log_smtp), ready in " "$T/out"
check "... and restarted nothing" test -z "$(grep restarted "$T/out")"
for s in smtp count send; do
	eval "o=\$old_sup_$s r=\$run_$s l=\$log_$s"
	check "$s: a new supervisor runs" same_process "$T/run/$s.sup.pid"
	check "$s: ... not the old one" test "$(sup_pid $s)" != "$o"
	check "$s: the server's pid is unchanged" test "$(pid_of $s)" = "$r"
	check "$s: ... the same process" same_process "$T/run/$s.pid"
	check "$s: the logger's pid is unchanged" test "$(pid_of $s log)" = "$l"
	check "$s: status says up" is_up "$s"
done
sup=$(sup_pid smtp)
check "the server still writes the same pipe" test "$(pipe_of "$run_smtp" 2)" = "$pipe"
check "the new supervisor holds that pipe" test "$(pipe_of "$sup" 2)" = "$pipe"
check "... as the logger reads it" test "$(pipe_of "$log_smtp" 0)" = "$pipe"
check "ps shows which service it keeps" test "$(tr '\0' ' ' <"/proc/$sup/cmdline")" = "qmailctl-supervise smtp "
check "it sleeps (no timer while nothing happens)" \
	test "$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$sup/status")" = S
greets
check "mail is served" greets
q start smtp >"$T/out" 2>&1
check "a second start says it is already running" grep -q "^smtp: already running (tcpserver $run_smtp)" "$T/out"

# --- the new supervisor restarts what exits --------------------------------
# The logger first, by TERM (multilog writes out what it read, then
# exits): the new one reads the pipe the new supervisor recovered.
# shellcheck disable=SC2154
kill -TERM "$log_count"
log_back() { [ "$(pid_of count log 2>/dev/null)" != "$log_count" ] && same_process "$T/run/count.log.pid" && is_up count; }
check "count: the adopted logger stopped: the new supervisor restarts it" wait_for 10 log_back
check "count: ... on the same pipe, which the server still writes" test "$(pipe_of "$(pid_of count log)" 0)" = "$(pipe_of "$run_count" 1)"
check "count: ... the server was not restarted" test "$(pid_of count)" = "$run_count"
log_count=$(pid_of count log)
kill -KILL "$run_count"
newer() { [ "$(pid_of count 2>/dev/null)" != "$run_count" ] && same_process "$T/run/count.pid" && is_up count; }
check "count: the server killed: the new supervisor restarts it" wait_for 10 newer
new_count=$(pid_of count)
check "count: the restarted server's lines reach the log" wait_for 10 logged "$new_count"
check "count: the old server's lines, across the adoption and the logger's restart, are all there, once, in order" gapless "$run_count"
check "... more of them than when the supervisor died" test "$(numbers "$run_count" | tail -n 1)" -gt "${count_mid:-0}"
check "count: the logger was not restarted with it" test "$(pid_of count log)" = "$log_count"
check "count: the restarted server is the supervisor's child" test "$(stat_field "$new_count" 4)" = "$(sup_pid count)"
kill -KILL "$run_smtp"
smtp_back() { [ "$(pid_of smtp 2>/dev/null)" != "$run_smtp" ] && same_process "$T/run/smtp.pid" && is_up smtp; }
check "smtp: the server killed: restarted" wait_for 10 smtp_back
check "... and serving" greets
q status smtp >"$T/st" 2>&1
sed 's/^/# /' "$T/st"
check "status: how an adopted server exited is not known, and says so" \
	grep -q "last unexpected exit: tcpserver $run_smtp exited (status unknown: adopted, not our child)" "$T/st"
q check smtp >"$T/ck" 2>&1
is_rc $? 1 "check: WARNING after the restart, as for any service"

# --- stop and zap of adopted services -------------------------------------
sup=$(sup_pid smtp) slog=$(pid_of smtp log)
q stop smtp count >"$T/out" 2>&1
is_rc $? 0 "stop of adopted services exits 0"
sed 's/^/# /' "$T/out"
check "... the supervisor has exited" gone "$sup"
check "... the logger too" gone "$slog"
check "... and the count server" gone "$new_count"
check "nothing of smtp or count is left in the run directory" \
	test -z "$(files_in "$T/run" | grep -E '^(smtp|count)' | grep -v lock)"
sup=$(sup_pid send) spid=$(pid_of send)
q zap send >"$T/out" 2>&1
is_rc $? 0 "zap of an adopted service exits 0"
sed 's/^/# /' "$T/out"
check "... its supervisor, server and logger are gone" all_gone "$sup" "$spid" "$log_send"
sleep 1
check "... and nothing came back" test -z "$(pidfiles_in "$T/run" | grep send)"

# --- what cannot be adopted is restarted, and said so ----------------------
q start smtp >/dev/null 2>&1
run=$(pid_of smtp) log=$(pid_of smtp log)
kill_sup smtp
kill -KILL "$log"
wait_for 5 gone "$log"
# (no connection now: tcpserver's log line would meet a pipe nobody reads)
q start smtp >"$T/out" 2>&1
is_rc $? 0 "a logger killed while unsupervised: start exits 0"
sed 's/^/# /' "$T/out"
check "... says the logger was restarted, and why" grep -q "^smtp: logger restarted: multilog $log had exited\$" "$T/out"
check "... the server was not restarted" test "$(pid_of smtp)" = "$run"
check "... a new logger runs" new_pid "$T/run/smtp.log.pid" "$log"
check "... on the server's pipe" test "$(pipe_of "$(pid_of smtp log)" 0)" = "$(pipe_of "$run" 2)"
: >"$T/log/smtp/current"
check "... and mail is served" greets
connected() { grep -q 'tcpserver: ok' "$T/log/smtp/current"; }
check "... a line the server wrote since reaches the new logger" wait_for 10 connected
check "status says up" is_up smtp

orphan_and_start deaf
is_rc $? 0 "a server whose stdout and stderr are not the pipe: start exits 0"
check "... says the server was restarted, and why" grep -q "^deaf: server restarted: its pipe could not be recovered: fd 2 of sleep $run is not the write end of a pipe\$" "$T/out"
check "... the old server is gone" gone "$run"
check "... a new one runs" new_pid "$T/run/deaf.pid" "$run"
# With the supervisor gone nothing wrote the pipe: the logger saw EOF.
check "... and the logger, which saw EOF when the supervisor died, too" grep -q "^deaf: logger restarted: multilog $log had exited\$" "$T/out"
check "... the new logger reads the new supervisor's pipe" test "$(pipe_of "$(pid_of deaf log)" 0)" = "$(pipe_of "$(sup_pid deaf)" 2)"
check "status says up" is_up deaf
# The same server, but a child of it keeps the pipe open: the logger
# outlives the supervisor and is kept; the server is restarted on its pipe.
add_service mute <<'SVC'
run = sh -c "sleep 100000 & exec sleep 100000 >/dev/null 2>&1"
log = multilog ${T}/log/mute
probe = none
settle = 50
SVC
orphan_and_start mute
is_rc $? 0 "a server that is not the pipe's writer, a logger that is still read: start exits 0"
check "... says the server was restarted, and why" grep -q "^mute: server restarted: its pipe could not be recovered: fd 2 of sleep $run is not the write end of a pipe\$" "$T/out"
check "... and only the server" test -z "$(grep 'logger restarted' "$T/out")"
check "... the old server is gone" gone "$run"
check "... the logger was kept" test "$(pid_of mute log)" = "$log"
check "... the supervisor holds the logger's pipe" test "$(pipe_of "$(sup_pid mute)" 2)" = "$(pipe_of "$log" 0)"
child=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v p="$(pid_of mute)" '$4 == p && $3 != "Z" { print $1; exit }')
check "... and the new server's child writes it" test "$(pipe_of "$child" 1)" = "$(pipe_of "$log" 0)"
check "status says up" is_up mute
q stop mute >"$T/out" 2>&1
is_rc $? 0 "stop mute exits 0"

# A server that writes into another pipe than its logger reads (bash's
# process substitution puts a cat between them): the server's pipe wins.
if [ -x /bin/bash ]; then
	add_service other <<'SVC'
run = bash -c "exec > >(exec cat) 2>&1; exec sleep 100000"
log = multilog ${T}/log/other
probe = none
settle = 50
SVC
	orphan_and_start other
	is_rc $? 0 "a logger reading another pipe than the server writes: start exits 0"
	check "... says the logger was restarted, and why" grep -q "^other: logger restarted: its pipe could not be recovered: multilog $log reads another pipe than sleep $run writes\$" "$T/out"
	check "... the server was kept" test "$(pid_of other)" = "$run"
	check "... the new logger reads the server's pipe" test "$(pipe_of "$(pid_of other log)" 0)" = "$(pipe_of "$run" 1)"
	q stop other >/dev/null 2>&1
else
	skip "no /bin/bash for a server that writes another pipe"
fi

# A probe that no longer answers once adopted: start says so, but what
# runs is not taken down for it.
cp "$T/services/smtp" "$T/smtp.orig"
q start smtp >/dev/null 2>&1
run=$(pid_of smtp)
kill_sup smtp
printf 'probe = tcp 127.0.0.1 ${smtp_port} 999\nstart_timeout = 1\n' >>"$T/services/smtp"
sed -i '/^probe = tcp 127.0.0.1 ${smtp_port} 220$/d' "$T/services/smtp"
q start smtp >"$T/out" 2>&1
is_rc $? 1 "adopted, but the probe does not answer: start exits 1"
sed 's/^/# /' "$T/out"
check "... and says so" grep -q "^smtp: failed: under a new qmailctl-supervise [0-9]*, but not ready after " "$T/out"
check "... the server was not taken down" same_process "$T/run/smtp.pid"
check "... nor restarted" test "$(pid_of smtp)" = "$run"
check "... the new supervisor keeps it" same_process "$T/run/smtp.sup.pid"
check "... status says starting" sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' status smtp | grep -q '^smtp: starting '"
cp "$T/smtp.orig" "$T/services/smtp"
q stop smtp >/dev/null 2>&1

# --- a TLS service (tcpserver as nobody, stunnel) --------------------------
tls_greets() { s_client 'QUIT\r\n' -connect "127.0.0.1:$smtps_port" | grep -q '^220 '; }
q start smtps >"$T/out" 2>&1
is_rc $? 0 "start smtps exits 0"
run=$(pid_of smtps) log=$(pid_of smtps log)
kill_sup smtps
check "smtps: supervisor killed: an independent TLS client still gets the greeting" tls_greets
q start smtps >"$T/out" 2>&1
is_rc $? 0 "smtps: start adopts it"
sed 's/^/# /' "$T/out"
check "... server and logger not restarted" grep -q "^smtps: adopted by qmailctl-supervise [0-9]* (tcpserver $run, multilog $log), ready in " "$T/out"
check "... status says up" is_up smtps
kill -KILL "$run"
tls_back() { [ "$(pid_of smtps 2>/dev/null)" != "$run" ] && same_process "$T/run/smtps.pid" && is_up smtps; }
check "smtps: the server killed: restarted" wait_for 10 tls_back
check "... and serving TLS" tls_greets
check "... the logger kept" test "$(pid_of smtps log)" = "$log"

# -t bounds the takeover's wait too: a probe that no longer answers is
# waited for -t, not start_timeout, and the service stays supervised.
sed 's/^probe = .*/probe = tcp 127.0.0.1 ${pop3_port} +OK/; s/smtp_port/pop3_port/g; s/greeter smtp/greeter pop3/; s|log/smtp|log/mute|' \
	"$T/services/smtp" >"$T/services/mute"
q start mute >/dev/null 2>&1
run=$(pid_of mute)
kill_sup mute
printf 'probe = tcp 127.0.0.1 ${pop3_port} 999\nstart_timeout = 30\n' >>"$T/services/mute"
sed -i '/^probe = tcp 127.0.0.1 ${pop3_port} +OK$/d' "$T/services/mute"
q -t 1 start mute >"$T/out" 2>&1
is_rc $? 1 "-t 1, the probe no longer answering: start exits 1"
sed 's/^/# /' "$T/out"
check "... the service taken over all the same, not ready within -t" grep -q "^mute: failed: under a new qmailctl-supervise [0-9]*, but not ready after [0-9]* ms: " "$T/out"
check "... its new supervisor runs" same_process "$T/run/mute.sup.pid"
check "... and the server was not restarted" test "$(pid_of mute)" = "$run"

q stop smtp deaf smtps mute >"$T/out" 2>&1
is_rc $? 0 "stop exits 0"
check "nothing is left in the run directory" test -z "$(pidfiles_in "$T/run")"

done_testing
