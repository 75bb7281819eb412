#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site
# systemd: "qmailctl supervise NAME", the main process of qmail@.service,
# is the service's supervisor in the foreground: READY=1 only once a
# client is answered, STATUS= at a restart, STOPPING=1 and exit 0 on TERM;
# a failure said on stderr and in the exit code.  Below a delegated cgroup
# the server gets a cgroup of its own there and nothing is created
# outside it; on a host booted with systemd nothing is created outside a
# delegation at all.  The units pass systemd-analyze verify.
# Not tested here: a real systemd as the manager (this host has none).
. "$TESTS/lib.sh"

make_site
add_plain_services
# The server listens only a second after its exec: a READY=1 sent at the
# spawn would meet a refused connection.
add_service smtp <<'SVC'
run = sh -c "sleep 1; exec tcpserver -v -H -l 0 -R 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp"
log = multilog t ${T}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
backoff_max = 20
SVC
add_service once <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
probe = tcp 127.0.0.1 ${pop3_port} +OK
restart = no
SVC
add_service broken <<'SVC'
run = no-such-program-qmailctl
SVC

sink() {
	rm -f "$T/notify" "$T/notes"
	"$FIXTURES/notifysink" "$@" "$T/notify" >"$T/notes" 2>&1 &
	track_pid $!
	sinkpid=$!
	wait_for 5 test -S "$T/notify"
}
notes() { grep -c "$1" "$T/notes" 2>/dev/null; }
# fg NAME: the foreground supervisor of NAME, as systemd runs it.
fg() {
	NOTIFY_SOCKET=$T/notify "$QMAILCTL" -f "$T/qmailctl.conf" supervise "$1" \
	    >"$T/fg.out" 2>&1 &
	fgpid=$!
	track_pid $fgpid
}

# The units, with a qmailctl that exists (verify checks the Exec paths).
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze is not installed"
else
	mkdir "$T/units"
	sed "s|@SBINDIR@|$BUILD|g" "$TOP/init.d/qmail@.service" >"$T/units/qmail@.service"
	cp "$TOP/init.d/qmail.target" "$T/units/"
	(cd "$T/units" && systemd-analyze verify --man=no qmail@smtp.service \
	    qmail.target) >"$T/out" 2>&1
	is_rc $? 0 "systemd-analyze verify qmail@smtp.service qmail.target"
	check "... without a warning" test ! -s "$T/out"
	check "... and the unit is Type=notify, delegated" sh -c \
	    "grep -q '^Type=notify\$' '$T/units/qmail@.service' && grep -q '^Delegate=yes\$' '$T/units/qmail@.service'"
fi

# Up: READY=1 once the greeting comes, not at the exec.
sink -c "$smtp_port"
fg smtp
wait_for 15 grep -q 'READY=1' "$T/notes"
check "READY=1 is sent" grep -q '^READY=1|STATUS=up: tcpserver [0-9]*$' "$T/notes"
check "... when a client is answered at once (not at the exec)" grep -q '^answer: 220 ' "$T/notes"
check "STATUS= said starting first" test "$(head -n 1 "$T/notes")" = "STATUS=starting"
check "the main process is the supervisor" test "$(head -n 1 "$T/run/smtp.sup.pid")" = "$fgpid"
check "... named so for ps" grep -q '^qmailctl-superv' "/proc/$fgpid/comm"
check "status: up" sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' status smtp | grep -q '^smtp: up '"
# A shell's start does not start it twice, nor a second supervise.
q start smtp >"$T/out" 2>&1
is_rc $? 0 "qmailctl start on it exits 0"
check "... saying it runs" grep -q '^smtp: already running' "$T/out"
"$QMAILCTL" -f "$T/qmailctl.conf" supervise smtp >"$T/out" 2>&1
is_rc $? 1 "a second supervise exits 1"
check "... saying who runs it" grep -q "^smtp: failed: already running (qmailctl-supervise $fgpid)" "$T/out"

# A crash: STATUS= restarting, then up again, the unit never left.
old=$(pid_of smtp)
kill -KILL "$old"
wait_for 15 grep -q "^STATUS=restarting: [a-z]* $old killed by SIGKILL" "$T/notes"
check "a killed server: STATUS=restarting, with the reason" grep -q "^STATUS=restarting: [a-z]* $old killed by SIGKILL" "$T/notes"
wait_for 15 sh -c "sed -n '/^STATUS=restarting/,\$p' '$T/notes' | grep -q '^STATUS=up'"
check "... then STATUS=up again" sh -c "sed -n '/^STATUS=restarting/,\$p' '$T/notes' | grep -q '^STATUS=up'"
check "... by the same supervisor" alive "$fgpid"

# Stop: TERM to the main process, as systemctl stop (KillMode=mixed).
run=$(pid_of smtp) log=$(pid_of smtp log)
kill -TERM "$fgpid"
wait_for 20 gone "$fgpid"
wait "$fgpid"
is_rc $? 0 "TERM: the supervisor exits 0"
check "... having said STOPPING=1" grep -q '^STOPPING=1$' "$T/notes"
check "... server and logger gone" sh -c "[ -n '$run' ] && [ -n '$log' ] && ! kill -0 '$run' 2>/dev/null && ! kill -0 '$log' 2>/dev/null"
check "... no pidfile left" test -z "$(pidfiles_in "$T/run")"
kill "$sinkpid" 2>/dev/null

# restart = no: the service ends with the server, and says why.
sink
fg once
wait_for 15 grep -q 'READY=1' "$T/notes"
kill -KILL "$(pid_of once)"
wait_for 15 gone "$fgpid"
wait "$fgpid"
is_rc $? 1 "restart = no, the server killed: the supervisor exits 1"
check "... saying why on stderr (the journal)" grep -q '^once: failed: giving up: tcpserver [0-9]* killed by SIGKILL (restart = no)' "$T/fg.out"
check "... and to systemd" grep -q '^STATUS=failed: tcpserver [0-9]* killed by SIGKILL (restart = no)' "$T/notes"
check "status says failed" sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' status once | grep -q '^once: failed'"
q stop once >/dev/null 2>&1
kill "$sinkpid" 2>/dev/null

# A start that cannot be: the documented code, the reason, no READY=1.
sink
fg broken
wait_for 10 gone "$fgpid"
wait "$fgpid"
is_rc $? 5 "a program not installed: exits 5"
check "... saying so" grep -q '^broken: failed: no-such-program-qmailctl is not installed' "$T/fg.out"
check "... no READY=1" test "$(notes 'READY=1')" = 0
kill "$sinkpid" 2>/dev/null
"$QMAILCTL" -f "$T/qmailctl.conf" supervise >"$T/out" 2>&1
is_rc $? 2 "supervise without a name: usage (2)"
"$QMAILCTL" -f "$T/qmailctl.conf" supervise smtp pop3 >"$T/out" 2>&1
is_rc $? 2 "supervise with two names: usage (2)"

# A delegated cgroup (systemd's Delegate=yes marks it trusted.delegate=1):
# the server in CG/server, the supervisor and logger in CG/supervise, the
# place recorded for a shell's zap; nothing in qmailctl's own tree.
mnt=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
CG=${mnt:+$mnt/qmailctl-test-systemd-$$}
# where qmailctl's own tree keeps this site's cgroups (cgroup.h)
site_cg=$mnt/qmailctl/$(realpath "$T/run" | sed 's/%/%25/g; s/_/%5f/g; s/~/%7e/g; s|/|_|g')
# ... as a plain start shows, or the checks of its absence could not fail
if [ -n "$mnt" ] && [ -w "$mnt" ]; then
	q start pop3 >/dev/null 2>&1
	check "a plain start makes the site's cgroup where the checks look" test -d "$site_cg/pop3"
	q stop pop3 >/dev/null 2>&1
fi
if [ -z "$mnt" ] || ! mkdir "$CG" 2>/dev/null; then
	skip "no writable cgroup v2 here: the delegated cgroup is not tested"
elif ! "$FIXTURES/notifysink" -x "$CG" 2>"$T/out"; then
	rmdir "$CG"
	skip "cannot mark a cgroup delegated here: $(cat "$T/out")"
else
	sink -c "$pop3_port"
	sh -c 'echo $$ >"$1/cgroup.procs" && shift && exec "$@"' sh "$CG" \
	    env NOTIFY_SOCKET="$T/notify" "$QMAILCTL" -f "$T/qmailctl.conf" supervise pop3 \
	    >"$T/fg.out" 2>&1 &
	fgpid=$!
	track_pid $fgpid
	wait_for 15 grep -q 'READY=1' "$T/notes"
	check "delegated: READY=1" grep -q '^answer: +OK' "$T/notes"
	rel=${CG#"$mnt"}
	check "... the server in CG/server" grep -qx "0::$rel/server" "/proc/$(pid_of pop3)/cgroup"
	check "... the supervisor in CG/supervise" grep -qx "0::$rel/supervise" "/proc/$fgpid/cgroup"
	check "... the logger beside it" grep -qx "0::$rel/supervise" "/proc/$(pid_of pop3 log)/cgroup"
	check "... the place recorded in the rundir" grep -qx "$CG/server" "$T/run/pop3.cgroup"
	check "... nothing made in qmailctl's own tree" test ! -e "$site_cg/pop3"
	q -v zap pop3 >"$T/out" 2>&1
	is_rc $? 0 "a shell's zap of it exits 0"
	check "... through the recorded cgroup" grep -q "cgroup $CG/server" "$T/out"
	wait_for 15 gone "$fgpid"
	check "... the supervisor ended" gone "$fgpid"
	check "... the record and the server cgroup gone" test ! -e "$T/run/pop3.cgroup" -a ! -d "$CG/server"
	kill "$sinkpid" 2>/dev/null
	rmdir "$CG/server" "$CG/supervise" "$CG" 2>/dev/null
fi

# Booted with systemd (faked in a mount namespace of our own): the tree is
# systemd's, so a shell's start makes no cgroup outside a delegation.
if ! unshare -m true 2>/dev/null; then
	skip "unshare -m is not permitted here: the systemd-booted case is not tested"
else
	unshare -m sh -c 'mount -t tmpfs none /run && mkdir -p /run/systemd/system &&
	    exec "$@"' sh "$QMAILCTL" -v -f "$T/qmailctl.conf" start pop3 >"$T/out" 2>&1
	is_rc $? 0 "booted with systemd: a shell's start exits 0"
	check "... saying zap will use the process group" grep -q 'systemd owns the cgroup tree' "$T/out"
	check "... and no cgroup is made" test ! -e "$site_cg/pop3"
	q stop pop3 >/dev/null 2>&1
fi

done_testing
