# bench/lib.sh: helpers of the benchmark (sourced by bench/run.sh).
#
# - W is the work directory; every file the benchmark makes lives in it.
# - Every wait is bounded in time and in count (waitfor), never a bare sleep.
# - What the benchmark starts is ended by pid or process group in
#   bench_cleanup, never by name, and only after checking that the process
#   is ours (ours: it descends from the reaper); the reaper ends by pid what
#   is left.
# - Figures are collected one value a line in $W/res/KEY and summarised by
#   awk (median, min, p90, max).
# shellcheck shell=sh

# ---- waiting ----

# waitfor SECONDS COMMAND...: runs COMMAND until it succeeds, backing off
# from 2 ms to 50 ms; gives up after SECONDS or 1000 tries.
waitfor() {
	_wf_limit=$1; shift
	_wf_end=$(( $(date +%s) + _wf_limit + 1 ))
	_wf_delay=0.002 _wf_tries=0
	while ! "$@"; do
		_wf_tries=$((_wf_tries + 1))
		if [ "$_wf_tries" -ge 1000 ] || [ "$(date +%s)" -ge "$_wf_end" ]; then
			return 1
		fi
		sleep "$_wf_delay"
		case $_wf_delay in
		0.002) _wf_delay=0.01 ;;
		*) _wf_delay=0.05 ;;
		esac
	done
}

# ---- processes (read from /proc; comm may hold spaces, so cut at ") ") ----

# procs: "pid state ppid pgrp" for every process.
procs() {
	cat /proc/[0-9]*/stat 2>/dev/null | sed 's/ (.*) / /' | cut -d' ' -f1-4
}

# alive PID: running, not a zombie.
alive() {
	_st=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
	[ -n "$_st" ] && [ "$_st" != Z ] && [ "$_st" != X ]
}

dead() { ! alive "$1"; }

# tree PID: PID and its live descendants, one a line.
tree() {
	procs | awk -v r="$1" '
		$2 != "Z" && $2 != "X" { pp[$1] = $3; all[n++] = $1 }
		END {
			keep[r] = 1; print r
			do {
				c = 0
				for (i = 0; i < n; i++) {
					p = all[i]
					if (!(p in keep) && (pp[p] in keep)) { keep[p] = 1; print p; c = 1 }
				}
			} while (c)
		}'
}

# children PID: how many live children PID has (tcpserver: open sessions).
children() {
	procs | awk -v p="$1" '$3 == p && $2 != "Z" { n++ } END { print n + 0 }'
}
no_children() { [ "$(children "$1")" = 0 ]; }

# group_live PGID: live members of a process group.
group_live() {
	procs | awk -v g="$1" '$4 == g && $2 != "Z" && $2 != "X" { n++ } END { print n + 0 }'
}
group_empty() { [ "$(group_live "$1")" = 0 ]; }

# logger_of PID: the process that reads the pipe PID writes to (its fd 1).
logger_of() {
	_pipe=$(readlink "/proc/$1/fd/1" 2>/dev/null) || return 1
	case $_pipe in pipe:*) ;; *) return 1 ;; esac
	for _fd0 in /proc/[0-9]*/fd/0; do
		[ "$(readlink "$_fd0" 2>/dev/null)" = "$_pipe" ] || continue
		_p=${_fd0#/proc/}; _p=${_p%%/*}
		[ "$_p" != "$1" ] && alive "$_p" && { echo "$_p"; return 0; }
	done
	return 1
}

# pidfile_pid FILE: the first line of a pidfile, if it names a live process.
pidfile_pid() {
	_pp=$(head -n 1 "$1" 2>/dev/null) || return 1
	case $_pp in ''|*[!0-9]*) return 1 ;; esac
	alive "$_pp" && echo "$_pp"
}

# ours PID: PID descends from the reaper that runs the benchmark, so it is
# one of the benchmark's processes and not an unrelated one that reused a
# pid we once knew.
ours() {
	_o=$1 _i=0
	while [ "$_i" -lt 64 ]; do
		_o=$(sed 's/.*) //' "/proc/$_o/stat" 2>/dev/null | cut -d' ' -f2)
		[ -n "$_o" ] || return 1
		[ "$_o" = "$REAPER" ] && return 0
		[ "$_o" -gt 1 ] || return 1
		_i=$((_i + 1))
	done
	return 1
}

# track_pgid PGID: a process group of ours (its leader is ours) to end on
# exit if still there; untrack: the groups tracked are gone.
track_pgid() { echo "$1" >"$W/.tracked"; }
untrack() { rm -f "$W/.tracked"; }

# end_tracked: KILL the tracked group, if its leader is still ours.
end_tracked() {
	[ -f "$W/.tracked" ] || return 0
	_g=$(cat "$W/.tracked")
	[ -n "$_g" ] && alive "$_g" && ours "$_g" && kill -KILL "-$_g" 2>/dev/null
	untrack
}

# ---- race output: "rc=0 claim=12.3 ready=10.1 ..." ----

# kv KEY LINE: the value of KEY in a race line.
kv() {
	for _kv in $2; do
		case $_kv in "$1="*) echo "${_kv#*=}"; return 0 ;; esac
	done
	echo NA
}

# put KEY VALUE: one more figure for KEY.
put() { echo "$2" >>"$W/res/$1"; }

# lt A B: A < B (numbers; NA is never less).
lt() { [ "$1" != NA ] && [ "$2" != NA ] && awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'; }

# count KEY: how many figures KEY has.
count() { if [ -f "$W/res/$1" ]; then wc -l <"$W/res/$1" | tr -d ' '; else echo 0; fi; }

# summary KEY: "median min p90 max n na" of the numbers in $W/res/KEY.
summary() {
	if [ ! -s "$W/res/$1" ]; then
		echo "NA NA NA NA 0 0"
		return
	fi
	{ grep -v '^NA$' "$W/res/$1" | sort -n; grep -c '^NA$' "$W/res/$1"; } | awk '
		{ v[n++] = $1 }
		END {
			na = v[--n]
			if (n == 0) { print "NA NA NA NA 0 " na; exit }
			med = n % 2 ? v[(n - 1) / 2] : (v[n / 2 - 1] + v[n / 2]) / 2
			k = int(0.9 * n + 0.999999); if (k < 1) k = 1
			printf "%.1f %.1f %.1f %.1f %d %d\n", med, v[0], v[k - 1], v[n - 1], n, na
		}'
}

median() { summary "$1" | cut -d' ' -f1; }

# fastest SECTION KEY TOOL...: the lowest median of SECTION.TOOL.KEY among
# the peers (every TOOL but qmailctl), or nothing.
fastest() {
	_fs=$1 _fk=$2; shift 2
	for _ft in "$@"; do
		[ "$_ft" = qmailctl ] && continue
		median "$_fs.$_ft.$_fk"
	done | grep -v NA | sort -n | head -n 1
}

# ratio A B: A / B as "12x" (or "0.5x"), or "-".
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a == "NA" || b == "NA" || b + 0 == 0) { print "-"; exit }
		r = a / b
		if (r >= 10) printf "%.0fx\n", r; else printf "%.1fx\n", r
	}'
}

# ---- printing ----

# row LABEL KEY [NOTE]: one table line: median, min, p90, max of KEY.
row() {
	# shellcheck disable=SC2046 # six numbers, six words
	set -- "$1" "$2" "${3:-}" $(summary "$2")
	_note=$3
	[ "$9" != 0 ] && _note="$_note${_note:+; }$9 of $(( $8 + $9 )) never"
	printf '  %-46s %8s %8s %8s %8s%s\n' "$1" "$4" "$5" "$6" "$7" "${_note:+  $_note}"
}

row_head() {
	printf '  %-46s %8s %8s %8s %8s\n' ms median min p90 max
}

say() { printf '%s\n' "$*"; }
progress() { printf '%s\n' "$*" >&2; }
