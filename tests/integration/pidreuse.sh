#!/bin/sh
# Pid reuse torture: a pid that qmailctl recorded is taken by an unrelated
# process, PIDREUSE_N times (default 100); then every command that reads a
# pidfile runs against it, and the bystander must never get a signal.
#
# How: start the service, crash it (KILL the server; the logger drains and
# exits), keep copies of the pidfiles it left, and put a signal recorder
# (fixtures/sigrec) on the recorded pid through /proc/sys/kernel/ns_last_pid.
# Then status, reload, flush, pause, cont, stop, zap (twice), restart and
# stop run, each against the pidfiles as the crash left them (restored
# before each, since a command that finds a stale pidfile removes it).
#
# The bystanders, round-robin:
#   plain    takes the server's pid, in the test's own group and session
#   group    takes the server's pid and leads a process group: the
#            recorded pgid is its number too
#   session  a session leader on the recorded sid (the worker's pid) with a
#            child on the server's pid leading its own group: pgid and sid
#            both match the pidfile; only the start time tells them apart
#   orphan   a session leader on the recorded sid, and in its session a
#            process group numbered like the recorded one whose leader has
#            exited (its pid is free again, as a crashed server's is): a
#            leaderless group that is not ours
#   logger   the session pair on the logger's pid
# each against a site that runs servers in cgroups (cgroup = auto, when
# cgroup v2 is writable here) and one with cgroup = no.
#
# The script runs under fixtures/subreaper, so that the crashed daemons'
# pids are reaped (and free again) at once: pid 1 may take a second or more.
if [ -z "${QMAILCTL_SUBREAPED:-}" ]; then
	QMAILCTL_SUBREAPED=1 exec "$FIXTURES/subreaper" sh "$0" "$@"
fi
. "$TESTS/lib.sh"

own_qmailctl

N=${PIDREUSE_N:-100}

if [ ! -w /proc/sys/kernel/ns_last_pid ]; then
	skip "pid reuse: /proc/sys/kernel/ns_last_pid is not writable (needs root); cycling $(cat /proc/sys/kernel/pid_max) pids per reuse would take minutes"
	done_testing
	exit
fi

make_site
sed 's/^rundir = run$/rundir = run2/' "$T/qmailctl.conf" >"$T/nocg.conf"
echo "cgroup = no" >>"$T/nocg.conf"
add_service victim <<'SVC'
description = a server whose pids get reused
run = sleep 1000
log = multilog t ${T}/log/victim
probe = none
settle = 0
# unsupervised: the crash must leave the dead server's pidfiles behind
restart = no
stop_timeout = 2
zap_grace = 50
reload_signal = HUP
flush_signal = ALRM
SVC
# The cgroup site's cgroups (qmailctl(8), CGROUPS), removed at exit if empty: a
# failed test must not leave them on the host.
cgsite="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/qmailctl/$(echo "$T/run" | tr / _)"
rm_cgroups() { [ -d "$cgsite" ] && { rmdir "$cgsite"/*/ "$cgsite" 2>/dev/null; }; return 0; }
trap 'rm_cgroups; cleanup' EXIT
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cgroot" ] && [ -w "$cgroot" ]; then
	note "cgroup v2 at $cgroot: half the runs use it"
else
	note "no writable cgroup v2: both sites use process groups"
fi

SITE_CONF=$T/qmailctl.conf SITE_RUN=$T/run
qs() { "$QMAILCTL" -f "$SITE_CONF" "$@" >>"$T/qout" 2>&1; }
# restore: the pidfiles as the crash left them (shell builtins only: this
# runs a thousand times).
restore() {
	printf '%s\n' "$saved_run" >"$SITE_RUN/victim.pid"
	printf '%s\n' "$saved_log" >"$SITE_RUN/victim.log.pid"
}
# really_free PID: no process has the pid (a zombie still holds it).
really_free() { test ! -e "/proc/$1"; }
# innocent_ok: every bystander is alive, not stopped, and recorded nothing.
innocent_ok() {
	[ ! -s "$T/rec" ] || return 1
	for _p in $innocents; do
		read -r _st <"/proc/$_p/stat" 2>/dev/null || return 1
		case ${_st##*) } in [ZXxT]*) return 1 ;; esac
	done
}

# Every command against the crash's pidfiles: NAME WANT-EXIT pairs.
# The second zap comes after the first has removed the crashed server's
# (empty) cgroup: then only the process group is left to go by.
COMMANDS="status:1 reload:7 flush:7 pause:7 cont:7 stop:0 zap:0 zap-again:0 restart:0"

got=0 tries=0 missed=0
: >"$T/bad" ; : >"$T/codes"
t0=$(date +%s)
while [ "$got" -lt "$N" ] && [ "$tries" -lt $((N * 3)) ]; do
	tries=$((tries + 1))
	i=$got
	case $((i % 2)) in
	0) SITE_CONF=$T/qmailctl.conf SITE_RUN=$T/run site=cgroup ;;
	1) SITE_CONF=$T/nocg.conf SITE_RUN=$T/run2 site=pgroup ;;
	esac
	case $((i / 2 % 5)) in
	0) kind=plain ;; 1) kind=group ;; 2) kind=session ;; 3) kind=orphan ;;
	4) kind="logger" ;;
	esac

	# A crash: the server dies, its logger drains; the pidfiles remain.
	qs start victim || { note "start failed: $(tail -n 1 "$T/qout")"; missed=$((missed + 1)); continue; }
	P=$(head -n 1 "$SITE_RUN/victim.pid")
	L=$(head -n 1 "$SITE_RUN/victim.log.pid")
	W=$(sed -n 's/^sid //p' "$SITE_RUN/victim.pid")
	saved_run=$(cat "$SITE_RUN/victim.pid")
	saved_log=$(cat "$SITE_RUN/victim.log.pid")
	kill -KILL "$P"
	if ! wait_for 5 really_free "$P" || ! wait_for 5 really_free "$L" ||
	    ! wait_for 5 really_free "$W"; then
		note "run $i: pids $P $L $W not free after 5 s"
		missed=$((missed + 1))
		continue
	fi

	# The bystanders take the recorded pids.
	: >"$T/rec"
	case $kind in
	plain) innocents=$("$FIXTURES/sigrec" -t 60 -p "$P" "$T/rec") ;;
	group) innocents=$("$FIXTURES/sigrec" -t 60 -g -p "$P" "$T/rec") ;;
	session) innocents=$("$FIXTURES/sigrec" -t 60 -s "$W" -g -p "$P" "$T/rec") ;;
	orphan) innocents=$("$FIXTURES/sigrec" -t 60 -s "$W" -g -x -p "$P" "$T/rec") ;;
	logger) innocents=$("$FIXTURES/sigrec" -t 60 -s "$W" -g -p "$L" "$T/rec") ;;
	esac
	rc=$?
	# The orphan group's leader has left; its pid must be free (not a
	# zombie), as a crashed server's is.
	[ "$kind" != orphan ] || [ "$rc" != 0 ] || wait_for 5 really_free "$P" || rc=1
	for _p in $innocents; do track_pid "$_p"; done
	if [ "$rc" != 0 ]; then
		# Another process on this host took the pid first: not a reuse
		# we made, try again with a fresh crash.
		for _p in $innocents; do kill -KILL "$_p" 2>/dev/null; done
		rm -f "$SITE_RUN"/victim.pid "$SITE_RUN"/victim.log.pid
		missed=$((missed + 1))
		continue
	fi

	# Every command, each against the crash's pidfiles.
	first_bad=""
	for c in $COMMANDS; do
		cmd=${c%:*} want=${c#*:}
		restore
		qs "${cmd%-again}" victim
		rc=$?
		[ "$rc" = "$want" ] || echo "$site $kind $cmd exit $rc want $want" >>"$T/codes"
		if [ -z "$first_bad" ] && ! innocent_ok; then
			first_bad=$cmd
		fi
	done
	qs stop victim
	innocent_ok || first_bad=${first_bad:-final stop}
	[ -n "$first_bad" ] &&
		echo "$site $kind: bystander $innocents (recorded pid $P, log $L, sid $W) hit after '$first_bad': $(tr '\n' ',' <"$T/rec")" >>"$T/bad"
	for _p in $innocents; do kill -KILL "$_p" 2>/dev/null; done
	for _p in $innocents; do wait_for 5 really_free "$_p"; done
	got=$((got + 1))
	echo "$site $kind" >>"$T/done"
done
took=$(( $(date +%s) - t0 ))

note "$got pid reuses in $tries tries ($missed missed: pid taken by another process first, or not freed) in ${took} s"
check "the recorded pid was reused by a bystander $N times ($got)" test "$got" -ge "$N"
for site in cgroup pgroup; do
	for kind in plain group session orphan logger; do
		n=$(grep -c "^$site $kind\$" "$T/done" 2>/dev/null)
		hit=$(grep -c "^$site $kind:" "$T/bad")
		if [ "$hit" = 0 ]; then
			ok "$site site, $kind bystander: never signalled, never stopped, alive ($n runs)"
		else
			fail "$site site, $kind bystander: signalled or stopped in $hit of $n runs"
			grep "^$site $kind:" "$T/bad" | head -n 3 | sed 's/^/# /'
		fi
	done
done
if [ -s "$T/codes" ]; then
	fail "every command exited as documented against a reused pid"
	sort "$T/codes" | uniq -c | head -n 20 | sed 's/^/# /'
else
	ok "every command exited as documented against a reused pid (status 1, reload/flush/pause/cont 7, stop/zap/restart 0)"
fi
check "nothing of the victim runs at the end" test ! -e "$T/run/victim.pid" -a ! -e "$T/run2/victim.pid"
done_testing
