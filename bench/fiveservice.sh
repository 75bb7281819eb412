# bench/fiveservice.sh: section G of the benchmark (issue 17), sourced by
# run.sh after section D (it uses D's helpers: have, d_name, mp).
#
# The issue's five-service peer workload, the same for every tool: send
# (the stand-in qmail-send), smtp and pop3 (tcpserver -> stand-in greeter),
# smtps and pop3s (tcpserver -> stunnel -> greeter), each logged by
# multilog.  For qmailctl and each peer supervisor (runsv under runsvdir,
# s6-supervise under s6-svscan, supervise under svscan: started here, the
# five services marked down, ended by pid in fiveservice_cleanup), a
# round times the start of all five while independent clients poll the
# four ports (race -t: TLS for smtps and pop3s), then the stop while the
# five servers' process trees are polled until none lives (race -p).
#   ports: the latest connect of the four sessions that were then served
#     (race's "accept": every port accepted);
#   serving: the latest first greeting of the four (race's "ready");
#   started / stopped: the command returned; early: it returned before
#     the ports accepted.
# shellcheck shell=sh

G_NAMES="send smtp smtps pop3 pop3s"
G_TOOLS="" G_SKIPPED=""

g_skip() { G_SKIPPED="$G_SKIPPED
  $1: not measured: $2"; }

# g_port TOOL NAME: the port of TOOL's service NAME.
g_port() { cat "$G/$1.$2.port"; }

# g_run TOOL NAME: the command line of service NAME's server.
g_run() {
	case $2 in
	send) echo "$FIX/qmail-standin -n 0" ;;
	smtp) echo "tcpserver -v -H -l 0 -R 127.0.0.1 $(g_port "$1" smtp) $FIX/greeter smtp" ;;
	pop3) echo "tcpserver -v -H -l 0 -R 127.0.0.1 $(g_port "$1" pop3) $FIX/greeter pop3" ;;
	smtps | pop3s) echo "tcpserver -v -H -l 0 -R 127.0.0.1 $(g_port "$1" "$2") stunnel $W/$2.conf" ;;
	esac
}

# g_svdirs TOOL DIR: the five service directories (run, log/run, down).
g_svdirs() {
	for _n in $G_NAMES; do
		mkdir -p "$2/$_n/log" "$G/$1/log/$_n"
		printf '#!/bin/sh\nexec 2>&1\nexec %s\n' "$(g_run "$1" "$_n")" >"$2/$_n/run"
		printf '#!/bin/sh\nexec multilog t %s\n' "$G/$1/log/$_n" >"$2/$_n/log/run"
		chmod 755 "$2/$_n/run" "$2/$_n/log/run"
		: >"$2/$_n/down"
	done
}

g_ports() {
	for _n in smtp smtps pop3 pop3s; do port >"$G/$1.$_n.port" || return 1; done
}

# g_root TOOL: the directory a peer's scanner runs on.
g_root() {
	case $1 in
	runit) echo "$G/runit/service" ;; s6) echo "$G/s6/scan" ;; dt) echo "$G/dt/service" ;;
	esac
}

# g_dirs TOOL: the five service directories of a peer.
g_dirs() {
	_gd=$(g_root "$1")
	for _n in $G_NAMES; do printf '%s ' "$_gd/$_n"; done
}

# g_known TOOL: the scanner runs a supervisor and a logger for all five.
g_known() {
	for _d in $(g_dirs "$1"); do
		case $1 in
		runit) sv status "$_d/log" 2>/dev/null | grep -q '^run:' || return 1 ;;
		s6) s6-svstat "$_d/log" 2>/dev/null | grep -q '^up' || return 1 ;;
		dt) svstat "$_d/log" 2>/dev/null | grep -q ': up ' || return 1 ;;
		esac
	done
}

# g_scanner TOOL SCANNER: TOOL's five service directories made and SCANNER
# started on them (its pid in _gs_pid); TOOL is measured once the scanner
# runs a logger for each.
g_scanner() {
	_gs_dir=$(g_root "$1")
	g_ports "$1" && g_svdirs "$1" "$_gs_dir"
	"$2" "$_gs_dir" </dev/null >/dev/null 2>&1 &
	_gs_pid=$!
	if waitfor 10 g_known "$1"; then G_TOOLS="$G_TOOLS $1"
	else g_skip "$(d_name "$1")" "$2 did not start the five loggers within 10 s"; fi
}

setup_g() {
	G=$W/g
	mkdir -p "$G"

	g_ports qmailctl
	site "$G/q" <<EOF
default = $G_NAMES
EOF
	cat >"$G/q/services/send" <<EOF
description = stand-in qmail-send, no deliveries
run = $(g_run qmailctl send)
log = multilog t \${dir}/log/send
probe = none
settle = $SETTLE
EOF
	for _n in smtp pop3 smtps pop3s; do
		case $_n in
		smtp) _probe="tcp 127.0.0.1 $(g_port qmailctl smtp) 220" _cert="" ;;
		pop3) _probe="tcp 127.0.0.1 $(g_port qmailctl pop3) +OK" _cert="" ;;
		smtps) _probe="tls 127.0.0.1 $(g_port qmailctl smtps) 220" _cert="cert = $W/cert.pem" ;;
		pop3s) _probe="tls 127.0.0.1 $(g_port qmailctl pop3s) +OK" _cert="cert = $W/cert.pem" ;;
		esac
		cat >"$G/q/services/$_n" <<EOF
run = $(g_run qmailctl "$_n")
log = multilog t \${dir}/log/$_n
probe = $_probe
$_cert
EOF
	done
	G_TOOLS=qmailctl

	# The scanners, each on the five directories (g_dirs), their pids kept
	# for fiveservice_cleanup.
	if have runsvdir && have sv; then
		g_scanner runit runsvdir && G_RUNSVDIR=$_gs_pid
	else
		g_skip runit "not installed (Debian package runit)"
	fi
	if have s6-svscan && have s6-svc && have s6-svwait && have s6-svstat; then
		g_scanner s6 s6-svscan && G_S6SVSCAN=$_gs_pid
	else
		g_skip s6 "not installed (Debian package s6)"
	fi
	if have svscan && have svc && have svstat; then
		g_scanner dt svscan && G_SVSCAN=$_gs_pid
	else
		g_skip daemontools "not installed (Debian package daemontools)"
	fi

	# The peers' start and stop of the five, as scripts (s6-svc takes one
	# directory; svc does not wait): every command at once, then the wait.
	for _t in s6 dt; do
		for _w in up down; do
			_c=$(echo "$_w" | cut -c1)
			{
				echo "#!/bin/sh"
				case $_t in
				s6)
					echo "for d in $(g_dirs s6); do s6-svc -$_c \$d || exit 1; done"
					echo "exec s6-svwait -$_c -t 7000 $(g_dirs s6)" ;;
				dt)
					echo "svc -$_c $(g_dirs dt) || exit 1"
					echo "# poll svstat until all five say $_w (at most 500 looks, 10 ms apart)"
					echo "i=0"
					echo "until [ \"\$(svstat $(g_dirs dt) | grep -c ': $_w ')\" = 5 ]; do"
					echo "	i=\$((i + 1)); [ \$i -ge 500 ] && exit 1"
					echo "	sleep 0.01"
					echo "done" ;;
				esac
			} >"$G/$_t.$_w"
		done
	done
}

g_cmd() {
	case $1.$2 in
	qmailctl.start) echo "$QMAILCTL -f $G/q/qmailctl.conf start" ;;
	qmailctl.stop) echo "$QMAILCTL -f $G/q/qmailctl.conf stop" ;;
	qmailctl.says) echo "qmailctl start / qmailctl stop (probes: tcp, tls; send's settle $SETTLE ms)" ;;
	runit.start) echo "sv -w 7 up $(g_dirs runit)" ;;
	runit.stop) echo "sv -w 7 down $(g_dirs runit)" ;;
	runit.says) echo "sv -w 7 up DIR x5 / sv -w 7 down DIR x5 (runsvdir running)" ;;
	s6.start) echo "sh $G/s6.up" ;;
	s6.stop) echo "sh $G/s6.down" ;;
	s6.says) echo "s6-svc -u each, s6-svwait -u -t 7000 all five / the same with -d (s6-svscan running)" ;;
	dt.start) echo "sh $G/dt.up" ;;
	dt.stop) echo "sh $G/dt.down" ;;
	dt.says) echo "svc -u all five, poll svstat every 10 ms until all up / the same with -d (svscan running)" ;;
	esac
}

# g_pid TOOL NAME: the server's pid as the tool records it.
g_pid() {
	case $1 in
	qmailctl) pidfile_pid "$G/q/run/$2.pid" ;;
	*) sup_pid "$1" "$(g_root "$1")/$2" ;;
	esac
}

g_targets() {
	echo "-t tcp,127.0.0.1,$(g_port "$1" smtp),220 -t tls,127.0.0.1,$(g_port "$1" smtps),220" \
		"-t tcp,127.0.0.1,$(g_port "$1" pop3),+OK -t tls,127.0.0.1,$(g_port "$1" pop3s),+OK"
}

round_g() {
	_out=$W/g.out
	for _tool in $G_TOOLS; do
		: >"$_out"
		# shellcheck disable=SC2086 # the names split into words
		[ "$_tool" = qmailctl ] && ensure_stopped "$G/q/qmailctl.conf" $G_NAMES
		_start=$(g_cmd "$_tool" start) _stop=$(g_cmd "$_tool" stop)
		# shellcheck disable=SC2046,SC2086 # the flags and command split into words
		_l=$("$RACE" -T 7000 -C -o "$_out" $(g_targets "$_tool") -- $_start)
		record_start "g.$_tool" "$_l"
		put "g.$_tool.ports" "$(kv accept "$_l")"
		g_lag "g.$_tool.lag" "$_l" claim ready
		[ "$(kv rc "$_l")" = 0 ] || failure "G: $(d_name "$_tool") start" "$_out" "$(kv rc "$_l")"
		_trees=""
		for _n in $G_NAMES; do
			_p=$(g_pid "$_tool" "$_n") || continue
			waitfor 5 no_children "$_p"
			_trees="$_trees $(tree "$_p")"
		done
		# daemontools' supervise reads no command for 1 s after a start.
		[ "$_tool" = dt ] && sleep 1
		if [ -z "$_trees" ]; then
			put "g.$_tool.stop" NA
			put "g.$_tool.gone" NA
			# shellcheck disable=SC2086
			$_stop >/dev/null 2>&1
			continue
		fi
		# shellcheck disable=SC2046,SC2086
		_l=$("$RACE" -T 7000 -o "$_out" $(pflags $_trees) -- $_stop)
		record_stop "g.$_tool" "$_l"
		g_lag "g.$_tool.stoplag" "$_l" claim gone
		[ "$(kv rc "$_l")" = 0 ] || failure "G: $(d_name "$_tool") stop" "$_out" "$(kv rc "$_l")"
		for _q in $_trees; do alive "$_q" && ours "$_q" && kill -KILL "$_q" 2>/dev/null; done
	done
}

# g_lag KEY LINE A B: one more figure for KEY: LINE's A minus its B (ms),
# NA when either is.  Taken per round, then the median: a difference of
# two medians mixes rounds.
g_lag() {
	put "$1" "$(awk -v a="$(kv "$3" "$2")" -v b="$(kv "$4" "$2")" 'BEGIN {
		if (a == "NA" || b == "NA") print "NA"; else printf "%.1f\n", a - b }')"
}

report_g() {
	say ""
	say "G. Five services beside the peers (issue 17): send (stand-in), smtp and pop3 (tcpserver ->"
	say "   greeter), smtps and pop3s (tcpserver -> stunnel -> greeter), all logged by multilog, under"
	say "   each tool.  \"ports\": the latest connect of the four sessions then served (all four listening);"
	say "   \"serving\": the latest first greeting (TLS for smtps and pop3s) of an independent client polling"
	say "   every 1 ms from the first fork; \"early\": rounds where the tool said started before the ports"
	say "   accepted.  \"gone\": no process of the five servers' trees alive.  ms, median (p90), $G_ROUNDS rounds."
	printf '  %-12s %15s %15s %15s %7s %15s %15s\n' tool ports serving "says started" early gone "says stopped"
	for _tool in $G_TOOLS; do
		printf '  %-12s %15s %15s %15s %7s %15s %15s\n' "$(d_name "$_tool")" \
			"$(mp "g.$_tool.ports")" "$(mp "g.$_tool.ready")" "$(mp "g.$_tool.start")" \
			"$(sum "g.$_tool.first")/$(count "g.$_tool.first")" \
			"$(mp "g.$_tool.gone")" "$(mp "g.$_tool.stop")"
	done
	# shellcheck disable=SC2086 # the tools split into words
	_fr=$(fastest g ready $G_TOOLS) _fg=$(fastest g gone $G_TOOLS)
	say "  issue 17 targets (ratios of medians; differences: the median of each round's):"
	say "    ports listening / runit's:          $(ratio "$(median g.qmailctl.ports)" "$(median g.runit.ports)")  (target <= 1.2x)"
	say "    truly serving / fastest peer's:     $(ratio "$(median g.qmailctl.ready)" "${_fr:-NA}")  (target <= 1.2x)"
	say "    says started - truly serving:       $(median g.qmailctl.lag) ms, early $(sum g.qmailctl.first)/$(count g.qmailctl.first)  (target <= 2 ms, never early)"
	say "    every process gone / fastest peer's: $(ratio "$(median g.qmailctl.gone)" "${_fg:-NA}")  (target <= 1.2x)"
	say "    says stopped - every process gone:  $(median g.qmailctl.stoplag) ms  (target <= 1 ms)"
	say "  commands:"
	for _tool in $G_TOOLS; do printf '    %-14s %s\n' "$(d_name "$_tool"):" "$(g_cmd "$_tool" says)"; done
	say "  notes: the peers' supervisor trees were running, the five marked down, their loggers up;"
	say "  qmailctl starts its supervisors and loggers within the timed start, and its stop waits for"
	say "  the loggers.  daemontools' stop is measured 1 s after its start (see D)."
	[ -n "$G_SKIPPED" ] && say "  left out:$G_SKIPPED"
	show_failures
}

# Ended by pid, as peers_cleanup does for D's supervisors.
fiveservice_cleanup() {
	[ -n "${G:-}" ] || return 0
	# shellcheck disable=SC2046 # the five directories
	[ -n "${G_RUNSVDIR:-}" ] && end_runsvdir "$G_RUNSVDIR" $(g_dirs runit)
	[ -n "${G_S6SVSCAN:-}" ] && end_s6svscan "$G_S6SVSCAN" "$(g_root s6)"
	if [ -n "${G_SVSCAN:-}" ]; then
		end_svscan "$G_SVSCAN"
		# shellcheck disable=SC2046 # the five directories
		end_supervise $(g_dirs dt)
	fi
	return 0
}
