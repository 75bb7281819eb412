# bench/startpath.sh: where the time of `qmailctl start` goes (issue 17),
# sourced by run.sh after fiveservice.sh, on section G's five services.
#
# A round records one start of the five under perf (kernel tracepoints:
# fork, exec and exit of every process of the start's tree, and the
# flock, bind and connect calls), without the slowing of strace: a few
# microseconds an event.  Once the start has returned, qmailctl's
# pidfiles name each service's supervisor, server and logger; the fork
# event of a supervisor (spawned by its worker) names its worker.  Then, per service,
# every phase is the moment (ms from the exec of `qmailctl start`) of:
#   worker    the worker of that service forked
#   lock      its flock() on the service's lock returned
#   checks    it spawned the supervisor: the checks before a start
#             (observe, leftovers, programs, preflight, cgroup) are done;
#             "helpers": processes the worker forked meanwhile (the
#             access checks as another uid, a stunnel check), and their
#             lifetimes added up
#   sup exec  the supervisor (qmailctl-supervise NAME) exec'd
#   log exec  the logger exec'd
#   run fork  the server forked (after the logger's exec was confirmed)
#   run exec  the server exec'd
#   bind      the server's bind(): its port exists
#   probe     the supervisor's first connect() to it (none for send)
#   stunnel   the first stunnel exec'd below the server (TLS services)
#   greeter   the first greeter exec'd below the server
#   ready     the worker exited (the supervisor said ready)
# and "returned", when `qmailctl start` exited.
# With them, the CPU time of every process of the start's tree (the
# scheduler's sched_stat_runtime), added up by what each process is:
#   worker      the worker and the children it forked for its checks
#   supervisor  qmailctl-supervise (from its fork, before its exec too)
#   logger      the logger (from its fork: pidfile, exec, multilog's start)
#   server      the server itself, likewise (tcpserver, the stand-in)
#   below       every process below the server: for a probed service the
#               probe's connection (tcpserver's child: stunnel, the
#               greeter); for send, the stand-in's children
#   relay       the TLS probes' client (qmailctl-probe, OpenSSL)
# and the start's own process (main), and all of it (total).  On a
# machine of two cores the start's work is the floor of its time: total
# over two.
#
# Then the stop of the five, recorded system-wide (the supervisors,
# servers and loggers are no children of `qmailctl stop`), from its exec:
#   worker    the worker forked (the workers are forked in the order of
#             the names, which is how each is known)
#   lock      its flock() returned
#   term      it sent TERM to the supervisor (through a pidfd)
#   relay     the supervisor sent TERM on to the server
#   run exit  the server exited
#   gone      the last process of the server's tree (as it was before the
#             stop) exited
#   log exit  the logger exited (its fsync on the way)
#   sup exit  the supervisor exited
#   ready     the worker exited
# and "returned", when `qmailctl stop` exited.
# shellcheck shell=sh

SP_ROUNDS=${BENCH_PATH_ROUNDS:-5}
SP_EVENTS=sched:sched_process_fork,sched:sched_process_exec,sched:sched_process_exit,sched:sched_stat_runtime,syscalls:sys_exit_flock,syscalls:sys_enter_bind,syscalls:sys_enter_connect
SP_PHASES="worker lock checks sup_exec log_exec run_fork run_exec bind probe stunnel greeter ready"
SP_KINDS="worker supervisor logger server below relay"
SP_STOP_EVENTS=sched:sched_process_fork,sched:sched_process_exec,sched:sched_process_exit,syscalls:sys_exit_flock,syscalls:sys_enter_pidfd_send_signal,syscalls:sys_enter_kill
SP_STOP_PHASES="worker lock term relay run_exit gone log_exit sup_exit ready"
SP_WHY=""

# sp_usable: perf can record the tracepoints here (root, tracefs).
sp_usable() {
	have perf || { SP_WHY="perf is not installed (Debian package linux-perf)"; return 1; }
	perf record -q -o "$W/sp.try" -e "$SP_EVENTS" -- true >/dev/null 2>"$W/sp.err" ||
		{ SP_WHY="perf cannot record tracepoints here: $(head -n 1 "$W/sp.err")"; return 1; }
}

# sp_map: "ROLE PID NAME" for the five services as the pidfiles say.
sp_map() {
	for _n in $G_NAMES; do
		for _r in sup run log; do
			case $_r in sup) _f=$_n.sup.pid ;; run) _f=$_n.pid ;; log) _f=$_n.log.pid ;; esac
			_p=$(pidfile_pid "$G/q/run/$_f") && echo "$_r $_p $_n"
		done
		_p=$(pidfile_pid "$G/q/run/$_n.pid") && tree "$_p" | sed "s/.*/tree & $_n/"
	done
}

round_sp() {
	# shellcheck disable=SC2086 # the names split into words
	ensure_stopped "$G/q/qmailctl.conf" $G_NAMES
	perf record -q -o "$W/sp.data" -e "$SP_EVENTS" -- \
		"$QMAILCTL" -f "$G/q/qmailctl.conf" start >"$W/sp.out" 2>&1
	_rc=$?
	sp_map >"$W/sp.map"
	for _n in smtp smtps pop3 pop3s; do
		_p=$(pidfile_pid "$G/q/run/$_n.pid") && waitfor 5 no_children "$_p"
	done
	# The stop's pid, for its exec keeps it: the trace is system-wide.
	# shellcheck disable=SC2016 # $$ and $@ are the inner shell's
	perf record -a -q -o "$W/sp.stop.data" -e "$SP_STOP_EVENTS" -- \
		sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$W/sp.top" \
		"$QMAILCTL" -f "$G/q/qmailctl.conf" stop >"$W/sp.out" 2>&1 ||
		failure "start-path: perf record -a ... qmailctl stop" "$W/sp.out" $?
	if [ "$_rc" != 0 ]; then
		failure "start-path: perf record ... qmailctl start" "$W/sp.out" "$_rc"
		return
	fi
	perf script -i "$W/sp.data" -F pid,time,event,trace 2>/dev/null >"$W/sp.txt"
	sp_phases "$W/sp.map" "$W/sp.txt" | while read -r _k _v; do put "sp.$_k" "$_v"; done
	perf script -i "$W/sp.stop.data" -F pid,time,event,trace 2>/dev/null >"$W/sp.txt"
	sp_stop_phases "$W/sp.map" "$W/sp.txt" "$(cat "$W/sp.top")" |
		while read -r _k _v; do put "sp.stop.$_k" "$_v"; done
}

# sp_stop_phases MAP TRACE PID: "NAME.PHASE MS" lines of the stop whose
# pid is PID, and "returned MS".
sp_stop_phases() {
	awk -v top="$3" -v names="$G_NAMES" '
	FNR == NR { if ($1 == "tree") intree[$2] = $3; else { role[$2] = $1; name[$2] = $3 }
		if ($1 == "sup") sup[$3] = $2; if ($1 == "run") run[$3] = $2
		if ($1 == "log") lg[$3] = $2; next }
	{
		pid = $1; t = $2 + 0; ev = $3
		if (t0 == "" && ev ~ /sched_process_exec/ && pid == top) t0 = t
		if (t0 == "") next
		ms = (t - t0) * 1000
		if (ev ~ /sched_process_fork/ && pid == top) {
			c = $0; sub(/.*child_pid=/, "", c); c += 0
			nw++; worker[c] = nw; wname[nw] = c; forked[c] = ms
		} else if (ev ~ /sched_process_exit/) {
			exited[pid] = ms
			if (pid in intree && (!(intree[pid] in gone) || ms > gone[intree[pid]]))
				gone[intree[pid]] = ms
		} else if (ev ~ /sys_exit_flock/) {
			if ((pid in worker) && !(pid in locked)) locked[pid] = ms
		} else if (ev ~ /pidfd_send_signal/ && / sig: 0x0000000f/) {
			if (!(pid in termed)) termed[pid] = ms
		} else if (ev ~ /sys_enter_kill/ && / sig: 0x0000000f/) {
			if (!(pid in termed)) termed[pid] = ms
		}
	}
	function out(k, v) { if (v != "") printf "%s %.2f\n", k, v }
	END {
		n = split(names, nm, " ")
		for (i = 1; i <= n; i++) {
			w = wname[i]; s = sup[nm[i]]
			if (w == "") continue
			out(nm[i] ".worker", forked[w]); out(nm[i] ".lock", locked[w])
			out(nm[i] ".term", termed[w]); out(nm[i] ".relay", termed[s])
			out(nm[i] ".run_exit", exited[run[nm[i]]]); out(nm[i] ".gone", gone[nm[i]])
			out(nm[i] ".log_exit", exited[lg[nm[i]]]); out(nm[i] ".sup_exit", exited[s])
			out(nm[i] ".ready", exited[w])
		}
		out("returned", exited[top])
	}' "$1" "$2"
}

# sp_phases MAP TRACE: "NAME.PHASE MS" lines, and "returned MS".
sp_phases() {
	awk '
	FNR == NR { if ($1 == "tree") next
		role[$2] = $1; name[$2] = $3; if ($1 == "sup") sup[$3] = $2
		if ($1 == "run") run[$3] = $2; next }
	{
		pid = $1; t = $2 + 0; ev = $3
		if (t0 == "" && ev ~ /sched_process_exec/) { t0 = t; top = pid }
		if (t0 == "") next
		ms = (t - t0) * 1000
		if (ev ~ /sched_process_fork/) {
			c = $0; sub(/.*child_pid=/, "", c); c += 0
			parent[c] = pid; forked[c] = ms
			if (pid == top) worker[c] = 1
			else if (pid in worker) { helper[c] = pid; lastfork[pid] = ms }
		} else if (ev ~ /sched_process_exec/) {
			f = $0; sub(/.*filename=/, "", f); sub(/ .*/, "", f)
			execd[pid] = ms
			if (f ~ /\/stunnel$/ && !(pid in exe)) exe[pid] = "stunnel"
			else if (f ~ /\/greeter$/) exe[pid] = "greeter"
		} else if (ev ~ /sched_process_exit/) {
			exited[pid] = ms
			if (pid == top) returned = ms
		} else if (ev ~ /sys_exit_flock/) {
			if ((pid in worker) && !(pid in locked)) locked[pid] = ms
		} else if (ev ~ /sched_stat_runtime/) {
			r = $0; sub(/.*runtime=/, "", r); cpu[pid] += r / 1e6
		} else if (ev ~ /sys_enter_bind/) {
			if (!(pid in bound)) bound[pid] = ms
		} else if (ev ~ /sys_enter_connect/ && / addrlen: 0x00000010/) {
			if (!(pid in connected)) connected[pid] = ms
		}
	}
	# under SERVER PID: is PID the server or below it?
	function under(s, p, i) {
		for (i = 0; i < 64 && p != ""; i++) { if (p == s) return 1; p = parent[p] }
		return 0
	}
	function first(s, what, p, best) {
		best = ""
		for (p in exe)
			if (exe[p] == what && under(s, p) && (best == "" || execd[p] < best)) best = execd[p]
		return best
	}
	# kind P: what process P of the start is, and its service in svc_of.
	function kind(p, q, i) {
		svc_of = ""
		if (p == top) return "main"
		if ((p in role) && role[p] != "tree") {
			svc_of = name[p]
			return role[p] == "sup" ? "supervisor" : role[p] == "log" ? "logger" : "server"
		}
		q = p
		for (i = 0; i < 64 && q != ""; i++) {
			if ((q in role) && role[q] == "run") { svc_of = name[q]; return "below" }
			if ((q in role) && role[q] == "sup") { svc_of = name[q]; return "relay" }
			if (q in wsvc) { svc_of = wsvc[q]; return "worker" }
			q = parent[q]
		}
		return "other"
	}
	function out(k, v) { if (v != "") printf "%s %.2f\n", k, v }
	END {
		for (n in sup)
			if (parent[sup[n]] in worker) wsvc[parent[sup[n]]] = n
		for (p in cpu) {
			k = kind(p); total += cpu[p]
			if (svc_of != "") { used[svc_of "." k] += cpu[p]; used["all." k] += cpu[p] }
			else used[k] += cpu[p]
		}
		for (k in used) out("cpu." k, used[k])
		out("cpu.total", total)
		for (n in sup) {
			s = sup[n]; w = parent[s]
			if (!(w in worker)) continue
			out(n ".worker", forked[w]); out(n ".lock", locked[w])
			out(n ".checks", forked[s]); out(n ".sup_exec", execd[s])
			nh = 0; life = 0
			for (h in helper) if (helper[h] == w && h != s && forked[h] < forked[s]) {
				nh++; if (h in exited) life += exited[h] - forked[h]
			}
			out(n ".helpers", nh); out(n ".helper_ms", life)
			for (p in role) if (name[p] == n && role[p] == "log") out(n ".log_exec", execd[p])
			r = run[n]
			if (r != "") {
				out(n ".run_fork", forked[r]); out(n ".run_exec", execd[r])
				out(n ".bind", bound[r]); out(n ".stunnel", first(r, "stunnel"))
				out(n ".greeter", first(r, "greeter"))
			}
			out(n ".probe", connected[s]); out(n ".ready", exited[w])
		}
		out("returned", returned)
	}' "$1" "$2"
}

# sp_table PREFIX PHASES [COLUMNS]: a row per phase, a column per service
# (or per word of COLUMNS).
sp_table() {
	_cols=${3:-$G_NAMES}
	printf '  %-10s' phase
	for _n in $_cols; do printf ' %8s' "$_n"; done
	echo
	for _ph in $2; do
		printf '  %-10s' "$_ph" | tr _ ' '
		for _n in $_cols; do printf ' %8s' "$(median "sp.$1$_n.$_ph")"; done
		echo
	done
}

run_sp() {
	if ! sp_usable; then return; fi
	repeat "$SP_ROUNDS" round_sp
}

report_sp() {
	say ""
	say "G2. Where the start of the five goes (issue 17): \`qmailctl start\` of G's five under perf's"
	say "   tracepoints (fork, exec, exit, flock, bind, connect), ms from its exec, median of"
	say "   $SP_ROUNDS rounds.  worker: forked; lock: flock returned; checks: it spawned the"
	say "   supervisor (observe, leftovers, programs, preflight, cgroup done); helpers: processes it"
	say "   forked for those checks (access as another uid), how many / their ms added up; sup exec:"
	say "   qmailctl-supervise exec'd; log exec, run fork, run exec: the logger, the server; bind: the"
	say "   server's bind(); probe: the supervisor's first connect(); stunnel, greeter: the first exec'd"
	say "   below the server; ready: the worker exited (its supervisor said ready)."
	if [ -n "$SP_WHY" ]; then
		say "  not measured: $SP_WHY"
		return
	fi
	sp_table "" "$SP_PHASES helpers helper_ms"
	say "  qmailctl start returned: $(median sp.returned) ms"
	say "  CPU time of the start's processes (sched_stat_runtime), ms, median: worker: the worker"
	say "  and its checks' children; supervisor, logger, server: each"
	say "  from its fork; below: every process below the server (the probe's connection: stunnel,"
	say "  greeter; send: the stand-in's children); relay: the TLS probes' client (qmailctl-probe)."
	say "  On two cores, total / 2 is the floor of the start."
	sp_table cpu. "$SP_KINDS" "$G_NAMES all"
	say "  main (qmailctl start itself): $(median sp.cpu.main) ms; total: $(median sp.cpu.total) ms"
	say "  The stop of the five (perf -a), ms from the exec of qmailctl stop: worker forked; lock;"
	say "  term: it sent TERM to the supervisor; relay: the supervisor sent it on to the server;"
	say "  run exit; gone: the last of the server's tree exited; log exit; sup exit; ready: the"
	say "  worker exited."
	sp_table stop. "$SP_STOP_PHASES"
	say "  qmailctl stop returned: $(median sp.stop.returned) ms"
	show_failures
}
