#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# Faults: qmailctl killed with SIGKILL at random points of start, stop,
# restart and zap, FAULTS_N times (default 200; the delay is uniform in 0
# to FAULTS_MAXMS ms, default 30, half that for stop and zap); then FAULTS_ZAP_N times
# (default 40) mid-zap of a wedged qmail-send whose deliveries ignore TERM,
# with and without a cgroup; and a read-only or full run directory.
#
# After each kill the next qmailctl must find a consistent state: every
# pidfile parses, status never says "unknown", one command recovers (start
# exits 0 and everything runs, recorded and answering; or stop exits 0, or
# zap after it, and nothing of the site is left), and no process of the
# site is one that no pidfile accounts for.
#
# "Killed" takes three forms, in turn (fixtures/killer):
#   main     the qmailctl we ran; its workers, in sessions of their own,
#            finish the transition (qmailctl(8): an interrupted qmailctl
#            never abandons a transition half done)
#   workers  it and its workers, mid-transition
#   tree     those and any element between fork and exec
# The next command runs once no qmailctl of the site is left (a worker of
# a killed main may still be finishing; it holds the service's lock).
#
# The site's processes are found by the test's unique directory in their
# command line (fixtures/psite): the stand-in daemons run from copies in
# $T/bin, the loggers write under $T/log.  Never by a shared program's name.
. "$TESTS/lib.sh"

own_qmailctl

N=${FAULTS_N:-200}
N2=${FAULTS_ZAP_N:-40}
MAXMS=${FAULTS_MAXMS:-30}

make_marked_site "stop_timeout = 5"
SERVICES="smtp pop3 send"
add_service wedged <<'SVC'
description = stand-in qmail-send with 5 hung deliveries
run = ${fixtures}/qmail-standin -n 5 -r ${T}/record.wedged
log = multilog t ${T}/log/wedged
probe = none
settle = 20
stop_timeout = 0.2
zap_grace = 30
# unsupervised: the crashes below leave an orphaned group for the next
# command to find (a supervisor would end it and restart)
restart = no
SVC


# (Paths reach awk through the environment or stdin where a scan may run
# beside it: an argument naming $T would make awk a process of the site.)

# bad_pidfiles: names every pidfile that is not a whole pidfile (a pid
# line, a start line, a boot line).
bad_pidfiles() {
	set -- "$T"/run/*.pid
	[ -e "$1" ] || return 0
	awk 'FNR == 1 { seen[FILENAME] = 1; if ($0 !~ /^[1-9][0-9]*$/) bad[FILENAME] = 1 }
		/^start [0-9]+$/ { st[FILENAME] = 1 }
		/^boot [0-9a-f-]+$/ { bt[FILENAME] = 1 }
		END { for (i = 1; i < ARGC; i++) { f = ARGV[i]
			if (!seen[f] || bad[f] || !st[f] || !bt[f]) { n = split(f, w, "/"); print w[n] } } }' "$@"
}

# recorded: the pids of live processes the pidfiles name, start time
# checked (as same_process does), one a line.
recorded() {
	set -- "$T"/run/*.pid
	[ -e "$1" ] || return 0
	# elements only: the supervisors (NAME.sup.pid) are not of the site
	awk 'FILENAME ~ /\.sup\.pid$/ { next } FNR == 1 { pid[FILENAME] = $0 } /^start / { start[FILENAME] = $2 }
		END { for (f in pid) { p = pid[f]; line = ""
			if (p !~ /^[0-9]+$/ || (getline line < ("/proc/" p "/stat")) <= 0) continue
			sub(/.*\) /, "", line); split(line, x, " ")
			if (x[1] != "Z" && x[20] == start[f]) print p } }' "$@"
}

# unrecorded: daemons of the site whose process group no pidfile names:
# a recorded server leads its group (tcpserver's sessions, qmail-send's
# helpers are in it), a recorded logger leads another.
unrecorded() {
	recorded >"$T/recorded"
	daemons | F="$T/recorded" awk '
		BEGIN { while ((getline p < ENVIRON["F"]) > 0) rec[p] = 1 }
		!($3 in rec) { print }'
}


# --- A read-only or full run directory -------------------------------------

# On every exit path: whatever of the site still runs (lib.sh's cleanup
# goes by pidfiles, and a failed test may have lost them), the mounts,
# then lib.sh's cleanup.
kill_site() {
	wait_for 10 no_qmailctl
	for _p in $(site | awk '{ print $1 }'); do kill -KILL "$_p" 2>/dev/null; done
}
# The site's cgroups (qmailctl(8), CGROUPS), removed at exit if empty: a
# failed test must not leave them on the host.
cgsite="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/qmailctl/$(echo "$T/run" | tr / _)"
rm_cgroups() { [ -d "$cgsite" ] && { rmdir "$cgsite"/*/ "$cgsite" 2>/dev/null; }; return 0; }
mounted=""
unmount_all() { for _m in $mounted; do umount "$_m" 2>/dev/null; done; }
trap 'kill_supervisors; kill_site; rm_cgroups; unmount_all; cleanup' EXIT

# rundir_site NAME: a second site config, same services, rundir $T/NAME.
rundir_site() {
	sed "s|^rundir = run\$|rundir = $T/$1|" "$T/qmailctl.conf" >"$T/$1.conf"
	mkdir -p "$T/$1"
}
# q_at NAME ARGS: qmailctl on that site.
q_at() { _s=$1; shift; "$QMAILCTL" -f "$T/$_s.conf" "$@"; }
# refused_cleanly NAME WHAT: start exited non-zero with a message naming
# the run directory; nothing of the site runs; no pidfile, no temp file.
refused_cleanly() {
	_s=$1 _what=$2 _rc=$3
	sed 's/^/# /' "$T/out"
	if [ "$_rc" = 0 ]; then fail "$_what: start fails (exit $_rc)"; else ok "$_what: start fails (exit $_rc)"; fi
	check "... saying why, naming the run directory" grep -q "$T/$_s.*$4" "$T/out"
	check "... nothing of the site was left running" site_empty
	check "... no pidfile or temporary file in the run directory" \
		test -z "$(files_in "$T/$_s" | grep -v -e '^fill$' -e '\.lock$')"
}

rundir_site ro
if mount -t tmpfs -o ro,mode=0755,size=64k qmailctl-test "$T/ro" 2>"$T/mount.err"; then
	mounted="$T/ro"
	q_at ro start smtp send >"$T/out" 2>&1
	refused_cleanly ro "a read-only run directory" $? "Read-only file system"
	umount "$T/ro" && mounted=""

	# A full one: 4 kB of tmpfs, all taken.
	rundir_site full
	mount -t tmpfs -o mode=0755,size=4k qmailctl-test "$T/full" && mounted="$T/full"
	dd if=/dev/zero of="$T/full/fill" bs=4096 count=1 2>/dev/null
	q_at full start smtp send >"$T/out" 2>&1
	refused_cleanly full "a full run directory" $? "No space left on device"
	umount "$T/full" && mounted=""

	# Room for one pidfile only: the logger's is written, the server's is
	# not; the logger must be taken down and its pidfile removed.
	rundir_site half
	mount -t tmpfs -o mode=0755,size=8k qmailctl-test "$T/half" && mounted="$T/half"
	dd if=/dev/zero of="$T/half/fill" bs=4096 count=1 2>/dev/null
	q_at half start smtp >"$T/out" 2>&1
	refused_cleanly half "a run directory with room for one pidfile" $? "No space left on device"
	umount "$T/half" && mounted=""
else
	skip "read-only and full run directories: unable to mount a tmpfs here ($(cat "$T/mount.err"))"
fi

# --- SIGKILL at random points ----------------------------------------------

: >"$T/fail"
# problem WHAT: notes a broken property for run $i, with what was killed.
problem() { echo "$1|run $i: $mode-kill of '$op' ($(cat "$T/killed")): $2" >>"$T/fail"; }

state=stopped si=0 xi=0
killed_mid=0 finished=0 zap_needed=0 leftover_ms_max=0
t0=$(date +%s)
i=0
while [ "$i" -lt "$N" ]; do
	i=$((i + 1))
	# Every kind of kill for every transition, in turn.
	if [ "$state" = stopped ]; then
		op=start si=$((si + 1)) m=$si
	else
		xi=$((xi + 1)) m=$((xi / 3))
		case $((xi % 3)) in 0) op=stop ;; 1) op=zap ;; 2) op=restart ;; esac
	fi
	case $((m % 3)) in 0) mode=main ;; 1) mode=workers ;; 2) mode=tree ;; esac
	# stop and zap take a few ms here, start and restart tens.
	case $op in stop|zap) ms=$((MAXMS / 2)) ;; *) ms=$MAXMS ;; esac
	"$FIXTURES/killer" "$ms" "$mode" "$QMAILCTL" -f "$T/qmailctl.conf" \
		"$op" $SERVICES >"$T/k.out" 2>&1
	grep -E '^(killed|exited) ' "$T/k.out" >"$T/killed"
	case $(cat "$T/killed") in
	killed*) killed_mid=$((killed_mid + 1)); echo "$mode-kill/$op" >>"$T/coverage" ;;
	*) finished=$((finished + 1)) ;;
	esac

	# A worker of a killed main finishes its transition first.
	w0=$(date +%s%N)
	wait_for 15 no_qmailctl || problem leftover "qmailctl still running 15 s after the kill: $(qmailctls | tr '\n' ';')"
	w=$(( ($(date +%s%N) - w0) / 1000000 ))
	[ "$w" -gt "$leftover_ms_max" ] && leftover_ms_max=$w

	# What the next qmailctl finds.
	bad=$(bad_pidfiles)
	[ -z "$bad" ] || problem pidfile "pidfiles that do not parse: $bad"
	q status $SERVICES >"$T/st" 2>&1
	rc=$?
	[ "$rc" != 4 ] || problem status "status says unknown: $(tr '\n' ';' <"$T/st")"

	# One command recovers.
	case $op in
	start|restart) fix=start ;;
	*) fix=stop ;;
	esac
	q "$fix" $SERVICES >"$T/fix" 2>&1
	rc=$?
	if [ "$rc" != 0 ] && [ "$fix" = stop ]; then
		zap_needed=$((zap_needed + 1))
		q zap $SERVICES >>"$T/fix" 2>&1
		rc=$?
	fi
	[ "$rc" = 0 ] || problem recover "$fix exits $rc: $(tr '\n' ';' <"$T/fix")"

	if [ "$fix" = start ]; then
		state=running
		site_roles >"$T/roles"
		counts=$(cut -d' ' -f1 "$T/roles" | LC_ALL=C sort | uniq -c | tr -s ' ' | tr '\n' ',')
		[ "$counts" = " 1 log-pop3, 1 log-send, 1 log-smtp, 1 pop3, 1 send, 1 smtp," ] ||
			problem servers "servers and loggers after start: $counts"
		[ "$(recorded | wc -l)" = 6 ] || problem servers "not every element is recorded after start: $(ls "$T/run")"
		"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >/dev/null 2>&1 &&
			"$FIXTURES/client" 127.0.0.1 "$pop3_port" QUIT >/dev/null 2>&1 ||
			problem servers "smtp or pop3 does not answer after start"
		un=$(unrecorded)
		[ -z "$un" ] || problem orphan "processes no pidfile accounts for: $(echo "$un" | tr '\n' ';')"
	else
		state=stopped
		left=$(site)
		[ -z "$left" ] || problem orphan "left after $fix: $(echo "$left" | tr '\n' ';')"
		[ -z "$(pidfiles_in "$T/run")" ] || problem pidfile "pidfiles left after $fix: $(pidfiles_in "$T/run" | tr '\n' ' ')"
		# The next run starts from a clean slate even if this one failed.
		[ -z "$left" ] || { q zap $SERVICES >/dev/null 2>&1; state=stopped; }
	fi
done
took=$(( $(date +%s) - t0 ))
q stop $SERVICES >/dev/null 2>&1

note "$N runs in $took s: $killed_mid killed mid-transition, $finished finished before the kill; zap needed after a failed stop $zap_needed times; orphaned workers took up to $leftover_ms_max ms to finish"
report() {
	_n=$(grep -c "^$1|" "$T/fail")
	if [ "$_n" = 0 ]; then
		ok "$2 (all $N runs)"
	else
		fail "$2: broken in $_n of $N runs"
		grep "^$1|" "$T/fail" | head -n 3 | cut -d'|' -f2- | sed 's/^/# /'
	fi
}
note "killed mid-transition: $(LC_ALL=C sort "$T/coverage" | uniq -c | awk '{ printf "%s %s, ", $2, $1 }')"
check "most kills landed mid-transition ($killed_mid of $N)" test "$killed_mid" -ge $((N / 2))
report leftover "a worker of a killed qmailctl finishes (or dies) within 15 s"
report pidfile "every pidfile a kill leaves parses (pid, start, boot), and stop leaves none"
report status "status after a kill never says unknown"
report recover "one command recovers: start, or stop (zap if stop fails), exits 0"
report servers "after start: one server and one logger per service, recorded and answering"
report orphan "no process of the site that no pidfile accounts for; nothing left after stop"

# --- A command killed before its transition began ---------------------------
# A worker whose qmailctl is killed finishes its transition (qmailctl(8):
# never abandoned half done).  But one still waiting for the service's
# lock has begun nothing, and nobody waits for it any more: if it begins
# later, it overtakes whatever the administrator ran after the kill.  Seen
# in the loop above when the next command is not held back: `qmailctl
# start` killed in its first 3 ms, then `qmailctl stop` exits 0 ("not
# running"), then the orphaned start starts the service (5 of 150 tries).
# Here the order is forced: the lock is held while start is killed.
( exec 9>"$T/run/smtp.lock"; flock -x 9; : >"$T/locked"; exec sleep 30 ) &
locker=$!
track_pid "$locker"
wait_for 5 test -e "$T/locked"
# (not through q: $! must be qmailctl itself, not a subshell)
"$QMAILCTL" -f "$T/qmailctl.conf" start smtp >"$T/out" 2>&1 &
starter=$!
# its worker is waiting for the lock: two qmailctl processes of the site
wait_for 5 test "$(qmailctls | wc -l)" = 2
kill -KILL "$starter"
wait "$starter" 2>/dev/null
q status smtp >/dev/null 2>&1
is_rc $? 3 "smtp is stopped when the start waiting for its lock is killed"
kill -KILL "$locker"
wait "$locker" 2>/dev/null
wait_for 15 no_qmailctl
sed 's/^/# /' "$T/out"
q status smtp >/dev/null 2>&1
is_rc $? 3 "... and the killed start does not begin later, when the lock is free"
q stop smtp >/dev/null 2>&1

# --- SIGKILL mid-zap of a wedged qmail-send ---------------------------------
# zap TERMs the group, waits zap_grace, KILLs the rest: a kill between the
# two, or in the middle of a process-group walk (cgroup = no), leaves a
# group whose leader may be gone.  One zap must end it all.

remotes() { daemons | awk '$6 == "qmail-remote"' | wc -l; }
: >"$T/fail2"
problem2() { echo "$1|run $j ($cg): $mode-kill of '$op' ($(cat "$T/killed")): $2" >>"$T/fail2"; }
killed2=0
t0=$(date +%s)
j=0
while [ "$j" -lt "$N2" ]; do
	j=$((j + 1))
	case $((j % 3)) in 0) mode=main ;; 1) mode=workers ;; 2) mode=tree ;; esac
	case $((j / 3 % 2)) in 0) op=zap ;; 1) op="stop -k" ;; esac
	sed -i '/^cgroup = /d' "$T/qmailctl.conf"
	if [ $((j % 2)) = 0 ]; then cg="cgroup = no"; echo "$cg" >>"$T/qmailctl.conf"; else cg="cgroup = auto"; fi
	q start wedged >"$T/out" 2>&1 || problem2 start "start exits non-zero: $(tr '\n' ';' <"$T/out")"
	wait_for 5 test "$(remotes)" = 5 || problem2 start "the 5 deliveries did not appear"
	"$FIXTURES/killer" 60 "$mode" "$QMAILCTL" -f "$T/qmailctl.conf" $op wedged >"$T/k.out" 2>&1
	grep -E '^(killed|exited) ' "$T/k.out" >"$T/killed"
	grep -q '^killed' "$T/killed" && killed2=$((killed2 + 1))
	wait_for 15 no_qmailctl || problem2 leftover "qmailctl still running 15 s after the kill"
	bad=$(bad_pidfiles)
	[ -z "$bad" ] || problem2 pidfile "pidfiles that do not parse: $bad"
	q status wedged >"$T/st" 2>&1
	[ $? != 4 ] || problem2 status "status says unknown: $(tr '\n' ';' <"$T/st")"
	q zap wedged >"$T/fix" 2>&1 || problem2 recover "zap exits $?: $(tr '\n' ';' <"$T/fix")"
	left=$(site)
	[ -z "$left" ] || { problem2 recover "left after zap: $(echo "$left" | tr '\n' ';')"; q zap wedged >/dev/null 2>&1; }
done
took=$(( $(date +%s) - t0 ))
sed -i '/^cgroup = /d' "$T/qmailctl.conf"
note "$N2 runs of zap and stop -k on a wedged send in $took s, $killed2 killed mid-transition"
report2() {
	_n=$(grep -c "^$1|" "$T/fail2")
	if [ "$_n" = 0 ]; then
		ok "$2 (all $N2 runs)"
	else
		fail "$2: broken in $_n of $N2 runs"
		grep "^$1|" "$T/fail2" | head -n 3 | cut -d'|' -f2- | sed 's/^/# /'
	fi
}
report2 start "wedged send: starts with its 5 hung deliveries"
report2 leftover "wedged send: a worker of a killed zap finishes within 15 s"
report2 pidfile "wedged send: every pidfile a killed zap leaves parses"
report2 status "wedged send: status after a killed zap never says unknown"
report2 recover "wedged send: one zap after a killed zap exits 0 and leaves no process, deliveries included"

# --- A crashed qmail-send: its leader and its logger gone, deliveries alive --
# What a crash of qmail-send (or an OOM kill of it and multilog) leaves: a
# group without its leader, still holding hung deliveries.  The pidfile is
# the only record of that group (its pgid and session): neither stop nor
# start may throw the record away while members live (stop saying "not
# running", start clearing "leftovers" and running a second qmail-send
# beside the old deliveries), and zap must end them.
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cgroot" ] && [ -w "$cgroot" ]; then
	# The simplest crash: server and logger die, nothing of the group is
	# left.  stop clears the pidfiles; the server's cgroup must go too,
	# or every crash leaves an empty cgroup behind for good.
	q start smtp >/dev/null 2>&1
	check "smtp runs in a cgroup of its own" test -d "$cgsite/smtp"
	kill -KILL "$(pid_of smtp)" "$(pid_of smtp log)"
	wait_for 5 site_empty
	q stop smtp >"$T/out" 2>&1
	is_rc $? 0 "after a crash of smtp and its logger, stop exits 0"
	check "... and removes the crashed server's empty cgroup" test ! -d "$cgsite/smtp"
else
	skip "crash and cgroup: no writable cgroup v2 here"
fi
# old_group: live processes of the crashed server's group.
old_group() { daemons | awk -v g="$P" '$3 == g' | wc -l; }
for cg in "cgroup = auto" "cgroup = no"; do
	for first in stop start; do
		sed -i '/^cgroup = /d' "$T/qmailctl.conf"
		echo "$cg" >>"$T/qmailctl.conf"
		q start wedged >/dev/null 2>&1
		wait_for 5 test "$(remotes)" = 5
		P=$(pid_of wedged) L=$(pid_of wedged log)
		track_pgid "$P"
		kill -KILL "$P" "$L"
		wait_for 5 gone "$P"; wait_for 5 gone "$L"
		check "($cg, then $first) a crash kills qmail-send and multilog, its group lives on ($(old_group) processes)" \
			test "$(old_group)" -ge 6
		q "$first" wedged >"$T/out" 2>&1
		rc=$?
		sed 's/^/# /' "$T/out"
		if [ "$rc" = 0 ]; then
			check "($cg) $first exits 0 only when the old group is gone" test "$(old_group)" = 0
		else
			check "($cg) $first fails, points at zap, keeps the record" \
				sh -c "grep -q 'qmailctl zap wedged' '$T/out' && test -e '$T/run/wedged.pid'"
		fi
		q zap wedged >"$T/out" 2>&1
		is_rc $? 0 "($cg) zap after that exits 0"
		sed 's/^/# /' "$T/out"
		check "($cg) ... and no process of the old group is left ($(old_group))" test "$(old_group)" = 0
		kill -KILL "-$P" 2>/dev/null
		q zap wedged >/dev/null 2>&1
		wait_for 5 site_empty
	done
done
sed -i '/^cgroup = /d' "$T/qmailctl.conf"

tmp=$(files_in "$T/run" | grep -c '\.tmp$')
note "temporary pidfiles left in the run directory by killed spawns: $tmp"
check "nothing of the site is left at the end" site_empty
if [ -n "$cgroot" ]; then
	check "no cgroup of the site is left after the final stop ($(files_in "$cgsite" | grep -v '^cgroup\.' | grep -v '^[a-z]*\.[a-z]' | tr '\n' ' '))" test ! -d "$cgsite"
fi
done_testing
