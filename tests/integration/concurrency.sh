#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# Concurrency: CONC_LOOPS (default 8) loops run random start, stop,
# restart, zap and status on the same services (smtp, pop3, send) for
# CONC_SECONDS (default 60), each loop at most CONC_MAX_OPS commands.
#
# Meanwhile a sampler looks every 100 ms: never two servers (or two
# loggers) of one service.  A server is a listener: a tcpserver with the
# service's port in its command line that leads its own process group (a
# session's tcpserver child, between fork and exec, does not), or the
# stand-in qmail-send's main process.  /proc is read in pid order, so an
# old server seen just before it exits and its successor seen later in the
# same scan would look like two: a suspected pair counts only if both are
# still alive when looked at again after the scan.
#
# After the run: every transition exited 0 or failed clearly on the lock
# (qmailctl(8): the second waits, bounded, or fails saying who holds it);
# status never said "unknown"; every live process of the site is in a
# process group that a pidfile names; and the final stop leaves nothing.
#
# The site's processes are found by the test's directory in their command
# line (fixtures/psite), never by the name of a shared program.
. "$TESTS/lib.sh"

own_qmailctl

SECS=${CONC_SECONDS:-60}
LOOPS=${CONC_LOOPS:-8}
MAXOPS=${CONC_MAX_OPS:-20000}
SEED=${CONC_SEED:-$$}

make_marked_site
SERVICES="smtp pop3 send"

sampler() {
	_end=$(( $(date +%s) + SECS + 60 ))
	_samples=0
	while [ ! -e "$T/stop-sampling" ] && [ "$(date +%s)" -lt "$_end" ]; do
		site_roles >"$T/sample"
		_samples=$((_samples + 1))
		for _role in $(cut -d' ' -f1 "$T/sample" | sort | uniq -d); do
			_pids=$(awk -v r="$_role" '$1 == r { print $2 }' "$T/sample")
			_all=1
			for _p in $_pids; do alive "$_p" || _all=0; done
			if [ "$_all" = 1 ]; then
				echo "$_role: $(echo $_pids) alive at once" >>"$T/violations"
			else
				echo "$_role" >>"$T/transient"
			fi
		done
		sleep 0.1
	done
	echo "$_samples" >"$T/samples"
}

# stuck_report FILE: for each "PROGRAM PID still running after" in FILE,
# what that process is doing now: its state, signal masks, kernel wait.
stuck_report() {
	sed -n 's/.* \([0-9][0-9]*\) still running after.*/\1/p' "$1" |
		while read -r _p; do
			echo "  $_p now: $(grep -E '^(State|SigPnd|ShdPnd|SigBlk|SigIgn|SigCgt):' \
				"/proc/$_p/status" 2>/dev/null | tr -s '\t\n' '  ')wchan $(cat "/proc/$_p/wchan" 2>/dev/null)"
		done
}

# loop K: random commands on random non-empty sets of the services until
# the time is up or MAXOPS have run.  Each line of $T/rc.K: "OP RC".
loop() {
	_k=$1
	awk -v seed=$((SEED + _k)) -v n="$MAXOPS" 'BEGIN {
		srand(seed)
		split("start stop restart zap status", ops, " ")
		split("smtp pop3 send", svc, " ")
		for (i = 0; i < n; i++) {
			m = 1 + int(rand() * 7); line = ops[1 + int(rand() * 5)]
			for (b = 0; b < 3; b++) if (int(m / 2 ^ b) % 2) line = line " " svc[b + 1]
			print line
		}
	}' >"$T/plan.$_k"
	_end=$(( $(date +%s) + SECS ))
	while read -r _op _svcs; do
		[ "$(date +%s)" -lt "$_end" ] || break
		q "$_op" $_svcs >"$T/out.$_k" 2>&1
		_rc=$?
		echo "$_op $_rc" >>"$T/rc.$_k"
		case $_op:$_rc in
		status:0|status:1|status:3|*:0) ;;
		*) { echo "loop $_k: $_op $_svcs exited $_rc:"; cat "$T/out.$_k"
			stuck_report "$T/out.$_k"; } >>"$T/unexpected" ;;
		esac
	done <"$T/plan.$_k"
}

# On every exit path: the loops, then whatever of the site still runs
# (lib.sh's cleanup goes by pidfiles), then lib.sh's cleanup.
kill_site() {
	for _p in $loop_pids; do kill -KILL "$_p" 2>/dev/null; done
	wait_for 10 no_qmailctl
	for _p in $(site | awk '{ print $1 }'); do kill -KILL "$_p" 2>/dev/null; done
}
# The site's cgroups (qmailctl(8), CGROUPS), removed at exit if empty: a
# failed test must not leave them on the host.
cgsite="$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/qmailctl/$(echo "$T/run" | tr / _)"
rm_cgroups() { [ -d "$cgsite" ] && { rmdir "$cgsite"/*/ "$cgsite" 2>/dev/null; }; return 0; }
loop_pids=""
trap 'kill_site; rm_cgroups; cleanup' EXIT

note "seed $SEED (CONC_SEED to replay the same commands), $LOOPS loops for $SECS s"
: >"$T/violations"; : >"$T/transient"; : >"$T/unexpected"
sampler &
sampler_pid=$!
track_pid "$sampler_pid"
k=0
t0=$(date +%s)
while [ "$k" -lt "$LOOPS" ]; do
	k=$((k + 1))
	loop "$k" &
	loop_pids="$loop_pids $!"
	track_pid "$!"
done
for p in $loop_pids; do wait "$p"; done
took=$(( $(date +%s) - t0 ))
touch "$T/stop-sampling"
wait "$sampler_pid"

cat "$T"/rc.* >"$T/rc"
total=$(wc -l <"$T/rc")
summary=$(awk '{ n[$1]++; if ($2 != 0) bad[$1 "=" $2]++ } END {
	for (o in n) printf "%s %d, ", o, n[o]
	for (b in bad) printf "[exit %s: %d] ", b, bad[b] }' "$T/rc")
note "$total commands in $took s: $summary"
note "$(cat "$T/samples") samples, $(sort "$T/transient" | uniq -c | tr '\n' ' ' | tr -s ' ') transient pairs (one of them gone when looked at again)"
check "the loops ran at least $((LOOPS * 10)) commands ($total)" test "$total" -ge $((LOOPS * 10))
if [ -s "$T/violations" ]; then
	fail "never two servers or two loggers of one service alive at once"
	sort "$T/violations" | uniq -c | head -n 5 | sed 's/^/# /'
else
	ok "never two servers or two loggers of one service alive at once"
fi
check "status never said unknown (exit 4)" sh -c "! grep -q '^status 4' '$T/rc'"
lock_waits=$(grep -c 'another qmailctl is acting' "$T/unexpected")
note "transitions that gave up waiting for the lock: $lock_waits"
if grep -v -e '^loop .* exited 1:$' -e 'another qmailctl is acting' "$T/unexpected" | grep -q .; then
	fail "every transition exited 0, or failed saying the lock was held"
	head -n 12 "$T/unexpected" | sed 's/^/# /'
else
	ok "every transition exited 0, or failed saying the lock was held"
fi

wait_for 20 no_qmailctl
check "no qmailctl of the site is left running" no_qmailctl
recorded() {
	for _f in "$T"/run/*.pid; do
		[ -e "$_f" ] && same_process "$_f" && head -n 1 "$_f"
	done
}
recorded >"$T/recorded"
daemons | F="$T/recorded" awk 'BEGIN { while ((getline p < ENVIRON["F"]) > 0) rec[p] = 1 }
	!($3 in rec) { print }' >"$T/unrecorded"
if [ -s "$T/unrecorded" ]; then
	fail "every live process of the site is in a group a pidfile names"
	sed 's/^/# /' "$T/unrecorded" | head -n 5
else
	ok "every live process of the site is in a group a pidfile names ($(daemons | wc -l) processes)"
fi
q stop $SERVICES >"$T/out" 2>&1
is_rc $? 0 "the final stop exits 0"
check "... and leaves no process of the site" site_empty
check "... and no pidfile" test -z "$(pidfiles_in "$T/run")"
done_testing
