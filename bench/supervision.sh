# bench/supervision.sh: section F of the benchmark (issue 13), sourced by
# run.sh after section D, whose pipelines and supervisors it reuses.
#
# For qmailctl and for each peer supervisor D set up (runit's runsv,
# s6-supervise, daemontools' supervise), on the same smtps pipeline:
#   - SIGKILL of the long-running server (up more than 1 s: every peer
#     waits a second before it respawns something that died young) to the
#     moment an independent TLS client gets the greeting again (race -k);
#   - for qmailctl, SIGKILL to the moment `qmailctl status` says up again;
#   - the supervisor's VmRSS, and its context switches over 10 s of idle
#     (voluntary + involuntary: each is a wakeup);
#   - on a second service per tool whose server writes N numbered lines
#     (seq, paced by the pipe), the logger stopped (TERM) and restarted
#     F_LOGGER times while it writes: lines missing from the log, and
#     lines in it twice.
# shellcheck shell=sh

F_LINES=300000
F_LOGGER=5
# Each round waits 10 s (see round_f): fewer rounds than the others.
F_ROUNDS=${BENCH_SUP_ROUNDS:-10}

# f_tools: the tools of D that are supervisors (ssd and the naive script
# restart nothing).
f_tools() {
	# shellcheck disable=SC2153 # D_TOOLS: set by peers.sh's setup_d
	for _t in $D_TOOLS; do
		case $_t in qmailctl | runit | s6 | dt) printf '%s ' "$_t" ;; esac
	done
}

# f_sup TOOL: the pid of the process that supervises the smtps server.
f_sup() {
	case $1 in
	qmailctl) pidfile_pid "$D/q/run/smtps.sup.pid" ;;
	*) _fp=$(d_pid "$1") && sed 's/.*) //' "/proc/$_fp/stat" | cut -d' ' -f2 ;;
	esac
}

f_serves() { "$RACE" -T 200 -t "tls,127.0.0.1,$(d_port "$1"),220" -- true | grep -q ' ready=[0-9]'; }

# f_up TOOL: the smtps service up and serving, as D left it down.
f_up() {
	_cmd=$(d_cmd "$1" start)
	# shellcheck disable=SC2086 # the command splits into words
	$_cmd >/dev/null 2>&1
	waitfor 10 f_serves "$1"
}

f_down() {
	_cmd=$(d_cmd "$1" stop)
	# shellcheck disable=SC2086
	$_cmd >/dev/null 2>&1
}

# A round: one kill per tool, each of a server up longer than the tool's
# window for "it died young" (runsv, s6-supervise and supervise: 1 s;
# qmailctl: 10 s, after which a restart is at once again), so that every
# tool restarts at once.  qmailctl's server is killed once a round: timed
# to truly serving in even rounds, to status saying up in odd ones.
F_ROUND=0
round_f() {
	F_ROUND=$((F_ROUND + 1))
	sleep 10.1
	for _tool in $F_TOOLS; do
		_p=$(d_pid "$_tool") || { put "f.$_tool.back" NA; continue; }
		if [ "$_tool" = qmailctl ] && [ $((F_ROUND % 2)) = 1 ]; then
			f_status_time "$_p"
			continue
		fi
		_l=$("$RACE" -T 7000 -t "tls,127.0.0.1,$(d_port "$_tool"),220" -k "$_p")
		put "f.$_tool.back" "$(kv ready "$_l")"
	done
	for _tool in $F_TOOLS; do waitfor 5 f_serves "$_tool"; done
}

# f_status_time PID: kill qmailctl's server PID, time until status says up
# with a new server.
f_status_time() {
	_t0=$(date +%s%N)
	kill -KILL "$1"
	if waitfor 7 f_status_up "$1"; then
		put f.qmailctl.status "$(awk -v a="$_t0" -v b="$(date +%s%N)" 'BEGIN { printf "%.1f", (b - a) / 1e6 }')"
	else
		put f.qmailctl.status NA
	fi
}

f_status_up() {
	"$QMAILCTL" -f "$D/q/qmailctl.conf" status smtps 2>/dev/null | grep -q '^smtps: up ' &&
		[ "$(d_pid qmailctl)" != "$1" ]
}

# rss_kb PID, switches PID: from /proc/PID/status; private_kb PID: the
# pages of PID's alone (no shared libc page counted), from smaps_rollup.
rss_kb() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\) kB/\1/p' "/proc/$1/status" 2>/dev/null; }
private_kb() {
	awk '/^Private_(Clean|Dirty):/ { n += $2 } END { print n + 0 }' "/proc/$1/smaps_rollup" 2>/dev/null
}
switches() {
	awk '/^(voluntary|nonvoluntary)_ctxt_switches:/ { n += $2 } END { print n + 0 }' "/proc/$1/status" 2>/dev/null
}

# f_idle: RSS and wakeups of every supervisor, all idle at once, 10 s.
f_idle() {
	for _tool in $F_TOOLS; do
		_s=$(f_sup "$_tool") || continue
		echo "$_tool $_s $(switches "$_s")"
	done >"$W/f.idle"
	sleep 10
	while read -r _tool _s _before; do
		put "f.$_tool.rss" "$(rss_kb "$_s")"
		put "f.$_tool.private" "$(private_kb "$_s")"
		put "f.$_tool.wakeups" "$(( $(switches "$_s") - _before ))"
	done <"$W/f.idle"
}

# ---- lines lost across logger restarts ----

# f_count_dir DIR TOOL: a service whose server writes F_LINES numbers.
f_count_dir() {
	mkdir -p "$1/log" "$F/$2/count"
	printf '#!/bin/sh\nexec sh -c "seq 1 %s; exec sleep 100000"\n' "$F_LINES" >"$1/run"
	printf '#!/bin/sh\nexec multilog s16000000 %s\n' "$F/$2/count" >"$1/log/run"
	chmod 755 "$1/run" "$1/log/run"
	: >"$1/down"
}

setup_f() {
	F=$W/f
	F_TOOLS=$(f_tools)
	mkdir -p "$F"
	site "$F/q" <<EOF
EOF
	mkdir -p "$F/qmailctl/count"
	cat >"$F/q/services/count" <<EOF
run = sh -c "seq 1 $F_LINES; exec sleep 100000"
log = multilog s16000000 $F/qmailctl/count
probe = none
settle = 20
EOF
	for _tool in $F_TOOLS; do
		case $_tool in
		runit) f_count_dir "$D/runit/service/count" runit ;;
		s6) f_count_dir "$D/s6/scan/count" s6
			s6-svscanctl -a "$D/s6/scan" 2>/dev/null ;;
		dt) f_count_dir "$D/dt/service/count" dt ;;
		esac
	done
}

f_count_svc() {
	case $1 in
	runit) echo "$D/runit/service/count" ;;
	s6) echo "$D/s6/scan/count" ;;
	dt) echo "$D/dt/service/count" ;;
	esac
}

# f_count_known TOOL: the tool's scanner has picked up the count service.
f_count_known() {
	case $1 in
	runit) sv status "$(f_count_svc runit)" >/dev/null 2>&1 ;;
	s6) s6-svstat "$(f_count_svc s6)" >/dev/null 2>&1 ;;
	dt) svok "$(f_count_svc dt)" ;;
	esac
}

# f_count_up TOOL / f_count_down TOOL: the count service's server.
f_count_up() {
	case $1 in
	qmailctl) "$QMAILCTL" -f "$F/q/qmailctl.conf" start count >/dev/null 2>&1 ;;
	runit) sv up "$(f_count_svc runit)" >/dev/null 2>&1 ;;
	s6) s6-svc -u "$(f_count_svc s6)" ;;
	dt) svc -u "$(f_count_svc dt)" ;;
	esac
}
f_count_down() {
	case $1 in
	qmailctl) "$QMAILCTL" -f "$F/q/qmailctl.conf" stop count >/dev/null 2>&1 ;;
	runit) sv down "$(f_count_svc runit)" >/dev/null 2>&1 ;;
	s6) s6-svc -d "$(f_count_svc s6)" ;;
	dt) svc -d "$(f_count_svc dt)" ;;
	esac
}

# f_count_logger TOOL: the count service's logger pid.
f_count_logger() {
	case $1 in
	qmailctl) pidfile_pid "$F/q/run/count.log.pid" ;;
	*) sup_pid "$1" "$(f_count_svc "$1")/log" ;;
	esac
}

f_numbers() { cat "$F/$1/count/"@* "$F/$1/count/current" 2>/dev/null | grep -E '^[0-9]+$'; }
f_all_in() { [ "$(f_numbers "$1" | tail -n 1)" = "$F_LINES" ]; }
f_new_logger() { _nl=$(f_count_logger "$1") && [ "$_nl" != "$2" ]; }

f_loss() {
	for _tool in $F_TOOLS; do
		if [ "$_tool" != qmailctl ] && ! waitfor 10 f_count_known "$_tool"; then
			put "f.$_tool.lost" NA
			continue
		fi
		f_count_up "$_tool"
		_i=0
		while [ "$_i" -lt "$F_LOGGER" ]; do
			_lg=$(f_count_logger "$_tool") || waitfor 5 f_count_logger "$_tool" >/dev/null
			_lg=$(f_count_logger "$_tool") || break
			kill -TERM "$_lg" 2>/dev/null
			waitfor 5 f_new_logger "$_tool" "$_lg"
			_i=$((_i + 1))
		done
		if waitfor 30 f_all_in "$_tool"; then
			f_numbers "$_tool" >"$W/f.got"
			_uniq=$(sort -un "$W/f.got" | wc -l)
			put "f.$_tool.lost" "$((F_LINES - _uniq))"
			put "f.$_tool.dup" "$(( $(wc -l <"$W/f.got") - _uniq ))"
		else
			put "f.$_tool.lost" NA
			note_f "$_tool: the last of $F_LINES lines never reached the log within 30 s"
		fi
		put "f.$_tool.restarts" "$_i"
		f_count_down "$_tool"
	done
}

F_NOTES=""
note_f() { F_NOTES="$F_NOTES
  $1"; }

run_f() {
	setup_f
	for _tool in $F_TOOLS; do f_up "$_tool" || note_f "$(d_name "$_tool"): smtps did not come up"; done
	repeat "$F_ROUNDS" round_f
	f_idle
	f_loss
	for _tool in $F_TOOLS; do f_down "$_tool"; done
}

report_f() {
	say ""
	say "F. Supervision (issue 13): the smtps pipeline of D under each supervisor.  \"back\": SIGKILL of"
	say "   tcpserver (up over 1 s) to an independent TLS client's 220 greeting (race -k: clients start"
	say "   once the old server is gone).  ms, median (p90), $F_ROUNDS rounds (qmailctl: half); ratio of"
	say "   medians to the fastest peer.  RSS: the supervisor's VmRSS; private: of that, the pages"
	say "   no other process shares (libc's shared pages are in RSS); wakeups: its context switches"
	say "   in 10 s idle."
	say "   lines lost / twice: $F_LINES numbered lines written through the pipe while the logger"
	say "   was stopped (TERM) and restarted $F_LOGGER times."
	# shellcheck disable=SC2086 # the tools split into words
	_fast=$(fastest f back $F_TOOLS)
	printf '  %-14s %15s %11s %9s %10s %9s %9s %8s\n' tool back /fastest "RSS kB" "private kB" wakeups lost twice
	for _tool in $F_TOOLS; do
		printf '  %-14s %15s %11s %9s %10s %9s %9s %8s\n' "$(d_name "$_tool")" \
			"$(mp "f.$_tool.back")" "$(ratio "$(median "f.$_tool.back")" "${_fast:-NA}")" \
			"$(median "f.$_tool.rss")" "$(median "f.$_tool.private")" "$(median "f.$_tool.wakeups")" \
			"$(median "f.$_tool.lost")" "$(median "f.$_tool.dup")"
	done
	say "  qmailctl: SIGKILL to \"qmailctl status\" saying up again (a new pid): $(mp f.qmailctl.status) ms"
	say "  every server killed had been up over 10 s (qmailctl restarts at once after 10 s up, the peers"
	say "  after 1 s; sooner, qmailctl backs off from 100 ms and the peers wait 1 s)."
	# shellcheck disable=SC2086
	_rs=$(fastest f rss $F_TOOLS)
	say "  issue 13 targets: back within 1.2x the fastest peer (here $(ratio "$(median f.qmailctl.back)" "${_fast:-NA}")),"
	say "  0 lines lost (here $(median f.qmailctl.lost)), no idle wakeups (here $(median f.qmailctl.wakeups)),"
	say "  RSS at most about runsv's (here $(median f.qmailctl.rss) kB against $(median f.runit.rss) kB, private"
	say "  $(median f.qmailctl.private) kB against $(median f.runit.private) kB; smallest peer's RSS ${_rs:-NA} kB)."
	say "  notes: qmailctl's \"back\" includes its own probe of the restarted service before it calls it up"
	say "  (the client may be served before that); the peers restart without confirming."
	[ -n "$F_NOTES" ] && say "  left out or odd:$F_NOTES"
	return 0
}

# After peers_cleanup: runsvdir and s6-svscan have ended every service of
# theirs, count's too; svscan is gone, so the supervise of count it would
# have restarted is told to exit here.
supervision_cleanup() {
	[ -n "${F:-}" ] || return 0
	[ -f "$F/q/qmailctl.conf" ] && "$QMAILCTL" -q -f "$F/q/qmailctl.conf" zap count >/dev/null 2>&1
	case " ${F_TOOLS:-} " in
	*" dt "*) end_supervise "$(f_count_svc dt)" ;;
	esac
	return 0
}
