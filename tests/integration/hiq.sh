#!/bin/sh
# hi-q: 0, 1 and 3 filters in front of a stand-in qmail-queue that records
# what it got (tests/fixtures/hiqqueue), with stand-in filters
# (tests/fixtures/hiqfilter): the exit code of each outcome, the message
# byte-exact (20 MB; NUL bytes and no final newline), the envelope
# unchanged, nothing queued on a refusal, no child left, no child holding
# the caller's fd 6 (tests/fixtures/qqclient hands the message over as
# qmail-smtpd does and would hang on it); then real spamc with a real
# spamd started through the shipped services/spamd.
#
# hi-q-spamlevel on its own too.  Real qmail-smtpd with QMAILQUEUE=hi-q:
# hiqreal.sh.
. "$TESTS/lib.sh"

HIQ=$BUILD/hi-q
F=$FIXTURES
Q=$T/q
D=$T/d
mkdir -p "$Q" "$D"

# site [TIMEOUT [QUEUE-ARGS...]]: hi-q.conf with the stand-in queue.
site() {
	_t=${1:-30}
	[ $# -gt 0 ] && shift
	{
		echo "queue = $F/hiqqueue $Q $*"
		echo "filters = $D"
		echo "timeout = $_t"
	} >"$T/hi-q.conf"
}
# filter NAME: its file comes on stdin.
filter() { cat >"$D/$1"; }
fresh() { rm -f "$D"/* "$Q"/* "$T"/*.pid "$T"/*.fds; site "$@"; }

# hiq MESSAGE ENVELOPE: hi-q run directly (no fd 6); $rc, $T/log.
hiq() {
	timeout -k 2 60 "$HIQ" -f "$T/hi-q.conf" <"$1" 1<"$2" 2>"$T/err"
	rc=$?
}
# qq MESSAGE ENVELOPE: hi-q run as qmail-smtpd runs it; $T/qq says
# "exit N" and "text ..." (or "hang").
qq() {
	"$F/qqclient" "$1" "$2" "$HIQ" -f "$T/hi-q.conf" >"$T/qq" 2>"$T/err"
}
queued() { test -f "$Q/message" && test -f "$Q/envelope"; }
nothing_queued() { test ! -e "$Q/message" && test ! -e "$Q/envelope"; }
# gone_all PIDFILE...: every process recorded is gone (not even a zombie).
gone_all() {
	for _p in "$@"; do
		[ -s "$_p" ] || return 1
		_pid=$(cat "$_p")
		kill -0 "$_pid" 2>/dev/null && return 1
	done
	return 0
}
# want_rc DESCRIPTION CODE: hi-q's exit ($rc) was CODE.
want_rc() { if [ "$rc" = "$2" ]; then ok "$1"; else fail "$1 (exit $rc, want $2)"; show_log; fi; }
one_line() { test "$(wc -l <"$T/err")" = 1; }
show_log() { sed 's/^/# log: /' "$T/err"; }

printf 'From: a@example.org\nTo: b@example.org\nSubject: hi\n\nhello\n' >"$T/msg"
printf 'a\000b\000\000c\r\nno final newline\000' >"$T/nul"
head -c 20971520 /dev/urandom >"$T/big"
printf 'Fa@example.org\000Tb@example.org\000Tc@example.org\000\000' >"$T/env"

# ---- 0 filters ----
fresh
hiq "$T/msg" "$T/env"
want_rc "0 filters: exit 0" 0
check "... the message queued byte-exact" cmp -s "$T/msg" "$Q/message"
check "... the envelope unchanged" cmp -s "$T/env" "$Q/envelope"
check "... one log line, with the size and the queue's exit" \
	grep -Eq "^hi-q: qp [0-9]+ size $(wc -c <"$T/msg"): queue exit 0 [0-9]+ ms: exit 0\$" "$T/err"
check "... the queue holds fds 0 1 2 and its own 6 only" test "$(cat "$Q/fds")" = "0 1 2 6"
check "... and it is gone" gone_all "$Q/pid"

fresh
hiq "$T/big" "$T/env"
check "0 filters, 20 MB: queued byte-exact" cmp -s "$T/big" "$Q/message"

# ---- 1 filter ----
fresh
filter 10-cat <<EOF
run = $F/hiqfilter -p $T/10.pid cat
EOF
hiq "$T/big" "$T/env"
want_rc "1 filter (cat), 20 MB: exit 0" 0
check "... byte-exact" cmp -s "$T/big" "$Q/message"
check "... the envelope unchanged" cmp -s "$T/env" "$Q/envelope"
check "... the filter's verdict in the one log line" \
	sh -c "grep -Eq ': 10-cat pass \(exit 0\) [0-9]+ ms, queue exit 0 [0-9]+ ms: exit 0$' '$T/err' && test \$(wc -l <'$T/err') = 1"
check "... filter and queue gone" gone_all "$T/10.pid" "$Q/pid"

fresh
filter 10-cat <<EOF
run = $F/hiqfilter cat
EOF
hiq "$T/nul" "$T/env"
check "1 filter, NUL bytes and no final newline: byte-exact" cmp -s "$T/nul" "$Q/message"

# ---- 3 filters, as qmail-smtpd hands the message over ----
fresh
filter 10-header <<EOF
run = $F/hiqfilter -p $T/10.pid -F $T/10.fds header "X-Filtered: yes"
EOF
filter 20-cat <<EOF
run = $F/hiqfilter -p $T/20.pid -F $T/20.fds cat
EOF
filter 30-exit <<EOF
run = $F/hiqfilter -p $T/30.pid -F $T/30.fds exit 0
EOF
# A disabled example, an editor's backup: not filters.
filter 40-reject.example <<EOF
run = $F/hiqfilter exit 1
reject = 1
EOF
cp "$D/40-reject.example" "$D/40-reject~"
qq "$T/msg" "$T/env"
check "3 filters via fd 0/1/6: exit 0, no text" test "$(cat "$T/qq")" = "exit 0"
{ echo "X-Filtered: yes"; cat "$T/msg"; } >"$T/want"
check "... the header added, the rest byte-exact" cmp -s "$T/want" "$Q/message"
check "... the envelope unchanged" cmp -s "$T/env" "$Q/envelope"
check "... each filter holds fds 0 1 2 only (not the caller's 6)" \
	test "$(cat "$T/10.fds" "$T/20.fds" "$T/30.fds")" = "0 1 20 1 20 1 2"
check "... the queue holds 0 1 2 and its own 6" test "$(cat "$Q/fds")" = "0 1 2 6"
check "... names with a dot or a ~ are not filters" \
	grep -Eq ': 10-header pass .*, 20-cat pass .*, 30-exit pass .*, queue exit 0 [0-9]+ ms: exit 0$' "$T/err"
check "... one log line" one_line
check "... every child gone" gone_all "$T/10.pid" "$T/20.pid" "$T/30.pid" "$Q/pid"

fresh
filter 10-cat <<EOF
run = $F/hiqfilter cat
EOF
filter 20-cat <<EOF
run = $F/hiqfilter cat
EOF
filter 30-cat <<EOF
run = $F/hiqfilter cat
EOF
qq "$T/big" "$T/env"
check "3 filters, 20 MB via fd 0/1/6: exit 0 and byte-exact" \
	sh -c "test \"\$(cat '$T/qq')\" = 'exit 0' && cmp -s '$T/big' '$Q/message'"

# ---- refusals ----
# refused DESC CODE TEXT-PATTERN LOG-PATTERN: after a run with the
# filters in $D, direct (CODE) and via fd 6 (82 and the text).
refused() {
	hiq "$T/msg" "$T/env"
	want_rc "$1: exit $2 without fd 6" "$2"
	check "... nothing queued" nothing_queued
	check "... the log says why" grep -Eq "$4" "$T/err"
	one_line || { fail "... one log line"; show_log; }
	rm -f "$Q"/*
	qq "$T/msg" "$T/env"
	if head -n 1 "$T/qq" | grep -qx 'exit 82' &&
	    sed -n 2p "$T/qq" | grep -Eq "^text $3"; then
		ok "... via fd 6: exit 82 and the reply text"
	else
		fail "... via fd 6: exit 82 and the reply text"
		sed 's/^/# qq: /' "$T/qq"
	fi
	check "... nothing queued" nothing_queued
}

fresh
filter 10-cat <<EOF
run = $F/hiqfilter -p $T/10.pid cat
EOF
# The verdict comes 300 ms after the queue has the whole message: only
# the envelope held back keeps it from being queued.
filter 20-spam <<EOF
run = $F/hiqfilter -p $T/20.pid late 1
reject = 1
EOF
filter 30-cat <<EOF
run = $F/hiqfilter -p $T/30.pid cat
EOF
refused "a reject code" 31 'Dmessage refused by filter 20-spam \(#5\.7\.1\)$' \
	': 10-cat pass \(exit 0\) [0-9]+ ms, 20-spam reject \(exit 1\) [0-9]+ ms, 30-cat (pass|killed).*: exit 31 \(message refused'
check "... every child gone" gone_all "$T/10.pid" "$T/20.pid" "$T/30.pid" "$Q/pid"

fresh
filter 10-spam <<EOF
run = $F/hiqfilter exit 1
reject = 1
reply = no spam here, thank you (#5.7.1)
EOF
qq "$T/msg" "$T/env"
check "a filter's own reply text reaches the sender" \
	grep -qx 'text Dno spam here, thank you (#5.7.1)' "$T/qq"

fresh
filter 10-grey <<EOF
run = $F/hiqfilter exit 3
defer = 3
EOF
refused "a defer code" 71 'Zmessage deferred by filter 10-grey \(#4\.7\.1\)$' \
	': 10-grey defer \(exit 3\) [0-9]+ ms'

fresh
filter 10-odd <<EOF
run = $F/hiqfilter exit 5
reject = 1
EOF
refused "a code it does not map" 71 'Ztemporary failure in mail filter 10-odd' \
	': 10-odd failed \(exit 5\) [0-9]+ ms'

fresh
filter 10-cat <<EOF
run = $F/hiqfilter -p $T/10.pid cat
EOF
filter 20-slow <<EOF
run = $F/hiqfilter -p $T/20.pid sleep 60
timeout = 0.3
EOF
refused "a filter past its timeout" 71 'Ztemporary failure in mail filter 20-slow' \
	': 10-cat pass \(exit 0\) [0-9]+ ms, 20-slow timeout [0-9]+ ms, queue'
check "... every child gone, the sleeper too" gone_all "$T/10.pid" "$T/20.pid" "$Q/pid"

fresh
filter 10-crash <<EOF
run = $F/hiqfilter -p $T/10.pid signal 11
EOF
refused "a filter killed by a signal" 71 'Ztemporary failure in mail filter 10-crash' \
	': 10-crash crashed \(signal 11\) [0-9]+ ms'

fresh
filter 10-gone <<EOF
run = $T/no-such-filter -x
EOF
refused "a filter that cannot start (on_failure = defer)" 71 \
	'Ztemporary failure in mail filter 10-gone' \
	": 10-gone failed \(unable to run $T/no-such-filter: No such file or directory\), queue not run: exit 71"

fresh
filter 10-gone <<EOF
run = $T/no-such-filter
on_failure = skip
EOF
filter 20-header <<EOF
run = $F/hiqfilter header "X-Filtered: yes"
EOF
hiq "$T/msg" "$T/env"
want_rc "a filter that cannot start, on_failure = skip: exit 0" 0
check "... the message passed on to the next filter" cmp -s "$T/want" "$Q/message"
check "... and the log says it was skipped" \
	grep -Eq ': 10-gone skipped \(unable to run .*\), 20-header pass' "$T/err"

fresh
filter 10-crash <<EOF
run = $F/hiqfilter signal 9
on_failure = skip
EOF
hiq "$T/msg" "$T/env"
want_rc "a filter that fails midway defers even with on_failure = skip" 71
check "... nothing queued" nothing_queued

fresh 0.5
filter 10-slow <<EOF
run = $F/hiqfilter -p $T/10.pid sleep 60
EOF
refused "the whole message's timeout" 52 'Ztimeout in the mail filters' \
	': 10-slow killed [0-9]+ ms, queue .*: exit 52, timeout after 500 ms'
check "... every child gone" gone_all "$T/10.pid" "$Q/pid"

# Once the envelope went in, the queue decides: no timeout ends it.
fresh 1
sed -i "s|^queue = .*|queue = $F/hiqqueue -s 2000 $Q|" "$T/hi-q.conf"
filter 10-cat <<EOF
run = $F/hiqfilter cat
EOF
hiq "$T/msg" "$T/env"
want_rc "a queue slow after it has the envelope, past the timeout: exit 0" 0
check "... and queued" queued

# hi-q never reads the message: with 20 MB through a filter, what hi-q
# has read (rchar of its one thread: /proc/PID/io adds the reaped
# children's) stays far below 1 MB, and its fd 0 is /dev/null while the
# queue works.
fresh
sed -i "s|^queue = .*|queue = $F/hiqqueue -s 2000 $Q|" "$T/hi-q.conf"
filter 10-cat <<EOF
run = $F/hiqfilter cat
EOF
"$HIQ" -f "$T/hi-q.conf" <"$T/big" 1<"$T/env" 2>"$T/err" &
hpid=$!
track_pid "$hpid"
wait_for 20 test -s "$Q/envelope.tmp"
rchar=$(sed -n 's/^rchar: //p' "/proc/$hpid/task/$hpid/io" 2>/dev/null)
fd0=$(readlink "/proc/$hpid/fd/0" 2>/dev/null)
wait "$hpid"; rc=$?
want_rc "20 MB through 1 filter, the queue slow to commit: exit 0" 0
check "... hi-q itself read ${rchar:-?} bytes, under 1 MB" test "${rchar:-99999999}" -lt 1048576
check "... its fd 0 is /dev/null by then ($fd0)" test "$fd0" = /dev/null
check "... and the message is queued byte-exact" cmp -s "$T/big" "$Q/message"

# ---- the queue's own verdict passes through ----
fresh
sed -i "s|^queue = .*|queue = $T/no-such-queue|" "$T/hi-q.conf"
filter 10-cat <<EOF
run = $F/hiqfilter -p $T/10.pid cat
EOF
hiq "$T/msg" "$T/env"
want_rc "a queue program that cannot start: exit 81" 81
check "... the log says why, once" grep -Eq ": 10-cat killed [0-9]+ ms, queue failed \(unable to run $T/no-such-queue: No such file or directory\): exit 81$" "$T/err"
# (killed maybe before it wrote its pidfile)
check "... the filter gone" sh -c "test ! -s '$T/10.pid' || ! kill -0 \$(cat '$T/10.pid') 2>/dev/null"

fresh 30 53
filter 10-cat <<EOF
run = $F/hiqfilter cat
EOF
hiq "$T/msg" "$T/env"
want_rc "the queue's exit code is hi-q's (53)" 53
fresh 30 82 '"Zqueue full (#4.3.0)"'
qq "$T/msg" "$T/env"
check "the queue's 82 and its text reach the caller" \
	test "$(cat "$T/qq")" = "exit 82
text Zqueue full (#4.3.0)"

fresh
printf 'Fa@example.org\000Tb@exam' >"$T/short"
hiq "$T/msg" "$T/short"
want_rc "an envelope cut short is passed as it is: the queue refuses it (54)" 54
check "... nothing queued" nothing_queued

# ---- stopped ----
fresh
filter 10-slow <<EOF
run = $F/hiqfilter -p $T/10.pid sleep 60
EOF
"$HIQ" -f "$T/hi-q.conf" <"$T/msg" 1<"$T/env" 2>"$T/err" &
hpid=$!
track_pid "$hpid"
wait_for 10 test -s "$T/10.pid"
kill -TERM "$hpid"
wait "$hpid"; rc=$?
want_rc "TERM: hi-q ends the message, exit 71" 71
check "... nothing queued, every child gone" \
	sh -c "test ! -e '$Q/message' && ! kill -0 \$(cat '$T/10.pid') 2>/dev/null && ! kill -0 \$(cat '$Q/pid') 2>/dev/null"

# ---- configuration ----
# bad_conf DESC PATTERN: hi-q exits 55 with one line, nothing started.
bad_conf() {
	hiq "$T/msg" "$T/env"
	want_rc "$1: exit 55" 55
	if one_line && grep -Eq "$2" "$T/err"; then ok "... in one line: $(cat "$T/err")"
	else fail "... in one line matching $2"; show_log; fi
	check "... the queue never ran" test ! -e "$Q/pid"
}
fresh
echo "timout = 5" >>"$T/hi-q.conf"
bad_conf "an unknown key" "^hi-q: fatal: $T/hi-q.conf:4: unknown key 'timout'$"
fresh
filter 10-x <<EOF
run = hiqfilter cat
EOF
bad_conf "a relative program" "^hi-q: fatal: $D/10-x:1: 'hiqfilter' is not an absolute path$"
fresh
filter 10-x <<EOF
run = $F/hiqfilter cat
pass = 0 1
reject = 1
EOF
bad_conf "a code in pass and reject" "^hi-q: fatal: $D/10-x: exit code 1 is in more than one of pass, reject and defer$"
fresh
filter 10-x <<EOF
run = $F/hiqfilter cat
timeout = soon
EOF
bad_conf "a bad timeout" "^hi-q: fatal: $D/10-x:2: bad number 'soon' for 'timeout'"
fresh
filter 10-x <<EOF
reject = 1
EOF
bad_conf "no run" "^hi-q: fatal: $D/10-x: no 'run'$"
fresh
filter 10-x <<EOF
run = $F/hiqfilter cat
EOF
chmod o+w "$D/10-x"
bad_conf "a filter file anyone may write" "^hi-q: fatal: $D/10-x: writable by everyone$"
fresh
chmod o+w "$D"
bad_conf "a filter directory anyone may write" "^hi-q: fatal: $D: writable by everyone$"
chmod o-w "$D"
fresh
rm "$T/hi-q.conf"
bad_conf "no site file" "^hi-q: fatal: $T/hi-q.conf: unable to open: No such file or directory$"
fresh
rmdir "$D"
bad_conf "no filter directory" "^hi-q: fatal: $D: unable to open directory: No such file or directory$"
mkdir "$D"
fresh
# usage CODE PATTERN ARGS...: hi-q ARGS exits CODE with one line.
usage() {
	_want=$1 _pat=$2; shift 2
	timeout 60 "$HIQ" "$@" <"$T/msg" 1<"$T/env" 2>"$T/err"; rc=$?
	want_rc "hi-q $*: exit $_want" "$_want"
	if one_line && grep -Eq "$_pat" "$T/err"; then ok "... in one line: $(cat "$T/err")"
	else fail "... in one line matching $_pat"; show_log; fi
}
u='; usage: hi-q \[-f CONF\]$'
usage 55 "^hi-q: fatal: unknown option -x$u" -x
usage 55 "^hi-q: fatal: -f needs a file$u" -f
usage 55 "^hi-q: fatal: no arguments are taken$u" -f "$T/hi-q.conf" extra
timeout 60 "$HIQ" -f "$T/hi-q.conf" <&- 1<"$T/env" 2>"$T/err"; rc=$?
want_rc "no fd 0: exit 54" 54
check "... saying so" grep -qx 'hi-q: fatal: no message on descriptor 0' "$T/err"
timeout 60 "$HIQ" -f "$T/hi-q.conf" <"$T/msg" >&- 2>"$T/err"; rc=$?
want_rc "no fd 1: exit 54" 54
check "... nothing queued" nothing_queued
HIQ_CONF=$T/hi-q.conf timeout 60 "$HIQ" <"$T/msg" 1<"$T/env" 2>"$T/err"
check "\$HIQ_CONF names the site file" queued

# ---- hi-q-spamlevel, the marker filter of green/yellow/red ----
SL=$BUILD/hi-q-spamlevel
printf 'Subject: x\r\nx-spam-level: *****\r\n\r\nX-Spam-Level: **********\000' >"$T/lvl"
"$SL" 5 <"$T/lvl" >"$T/out"; rc=$?
want_rc "hi-q-spamlevel 5: 5 stars in the header: exit 1" 1
check "... the message copied byte-exact" cmp -s "$T/lvl" "$T/out"
"$SL" 6 <"$T/lvl" >"$T/out"; rc=$?
want_rc "hi-q-spamlevel 6: the stars of the body do not count: exit 0" 0
"$SL" 1 <"$T/nul" >"$T/out"; rc=$?
want_rc "hi-q-spamlevel: no header field: exit 0" 0
check "... NUL bytes and no final newline copied byte-exact" cmp -s "$T/nul" "$T/out"
"$SL" 0 <"$T/msg" >"$T/out" 2>"$T/err"; rc=$?
want_rc "hi-q-spamlevel 0: usage, exit 100" 100

# ---- the man page lists every exit code hi-q/hiq.h defines ----
awk '/^\.Sh EXIT STATUS/ { f = 1; next } /^\.Sh / { f = 0 } f' "$TOP/man/hi-q.8" >"$T/exit"
codes=$(sed -n 's/^[[:space:]]*HIQ_[A-Z]* = \([0-9][0-9]*\),.*/\1/p' "$TOP/hi-q/hiq.h" | sort -un)
missing=
for c in $codes; do
	grep -Eq "^\.It.*(^|[^0-9])$c([^0-9]|\$)" "$T/exit" || missing="$missing $c"
done
list=$(echo "$codes" | tr '\n' ' ')
check "hi-q.8's EXIT STATUS has every code of hiq.h (${list% })" \
	sh -c "test -n '$codes' && test -z '$missing'"
[ -n "$missing" ] && note "no .It for:$missing"

# ---- under valgrind (memcheck): no error, no leak ----
# vg_hiq DESC CODE: hi-q under valgrind with the filters in $D.  A child
# whose exec fails exits at once with the parent's memory: not a leak.
vg_hiq() {
	valgrind -q --child-silent-after-fork=yes --leak-check=full --show-leak-kinds=all --errors-for-leak-kinds=all \
	    --error-exitcode=99 --log-file="$T/vg" \
	    "$HIQ" -f "$T/hi-q.conf" <"$T/msg" 1<"$T/env" 2>"$T/err"
	rc=$?
	if [ "$rc" = "$2" ] && [ ! -s "$T/vg" ]; then ok "$1 under valgrind: exit $2, nothing reported"
	else fail "$1 under valgrind (exit $rc, want $2)"; sed 's/^/# /' "$T/vg"; fi
}
case $BUILD in
*/san) skip "an ASan build cannot run under valgrind; ASan checks it" ;;
*)
	if ! command -v valgrind >/dev/null 2>&1; then
		skip "no valgrind"
	else
		fresh
		filter 10-header <<EOF
run = $F/hiqfilter header "X-Filtered: yes"
EOF
		filter 20-cat <<EOF
run = $F/hiqfilter cat
EOF
		vg_hiq "2 filters, queued" 0
		filter 30-spam <<EOF
run = $F/hiqfilter exit 1
reject = 1
reply = no (#5.7.1)
EOF
		vg_hiq "a reject" 31
		fresh
		filter 10-slow <<EOF
run = $F/hiqfilter sleep 60
timeout = 0.3
EOF
		filter 20-gone <<EOF
run = $T/no-such-filter
on_failure = skip
EOF
		vg_hiq "a timeout after a skip" 71
		echo "rnu = x" >"$D/10-slow"
		vg_hiq "a configuration error" 55
	fi
	;;
esac

# ---- real spamc, real spamd (the shipped services/spamd) ----
spamd_section() {
	if why=$(spamd_missing); then
		skip "$why"
		return
	fi
	port=$(free_port)
	mkdir -p "$T/services" "$T/logs" "$T/run"
	cp "$TOP/services/spamd" "$T/services/spamd"
	cat >"$T/qmailctl.conf" <<CONF
services = services
rundir = run
default = spamd
path = /usr/local/bin:/usr/bin:/bin
qmaill = root
logdir = $T/logs
spamd_user = debian-spamd
spamd_ip = 127.0.0.1
spamd_port = $port
spamd_children = 1
CONF
	if ! "$QMAILCTL" -f "$T/qmailctl.conf" start spamd >"$T/start" 2>&1; then
		skip "spamd did not start here: $(tail -n 1 "$T/start")"
		return
	fi
	ok "spamd started through the shipped services/spamd on port $port"
	gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
	printf 'From: a@example.org\nTo: b@example.org\nSubject: gtube\n\n%s\n' "$gtube" >"$T/gtube"

	fresh
	filter 10-spamc <<EOF
run = /usr/bin/spamc -E -x -p $port
reject = 1
EOF
	qq "$T/gtube" "$T/env"
	check "spamc, reject = 1: GTUBE refused, exit 82 with a D text (554)" \
		sh -c "head -n 1 '$T/qq' | grep -qx 'exit 82' && grep -q '^text D' '$T/qq'"
	check "... nothing queued" nothing_queued
	qq "$T/msg" "$T/env"
	check "... a clean message queued" queued
	check "... unmarked" sh -c "! grep -q '^X-Spam-Flag: YES' '$Q/message'"

	fresh
	filter 10-spamc <<EOF
run = /usr/bin/spamc -E -x -p $port
pass = 0 1
EOF
	qq "$T/gtube" "$T/env"
	check "spamc, pass = 0 1: GTUBE passed marked, exit 0" \
		sh -c "test \"\$(cat '$T/qq')\" = 'exit 0' && grep -q '^X-Spam-Flag: YES' '$Q/message'"
	check "... the envelope unchanged" cmp -s "$T/env" "$Q/envelope"

	# Green, yellow, red: the shipped examples, with hi-q-spamlevel.
	fresh
	sed "s|-p 783|-p $port|" "$TOP/services/hi-q.d/10-spamc.example" >"$D/10-spamc"
	sed "s|@SBINDIR@|$BUILD|" "$TOP/services/hi-q.d/20-spamlevel.example" >"$D/20-spamlevel"
	qq "$T/gtube" "$T/env"
	check "the shipped examples: GTUBE (red) refused with the reply text" \
		sh -c "grep -qx 'exit 82' '$T/qq' && grep -qx 'text Dmessage refused as spam (#5.7.1)' '$T/qq'"
	check "... nothing queued" nothing_queued
	qq "$T/msg" "$T/env"
	check "... a clean message (green) queued unmarked" \
		sh -c "test \"\$(cat '$T/qq')\" = 'exit 0' && ! grep -q '^X-Spam-Flag: YES' '$Q/message'"
	rm -f "$Q"/*
	sed 's/^\(run = .*hi-q-spamlevel\) 15$/\1 2000/' "$D/20-spamlevel" >"$T/x" && mv "$T/x" "$D/20-spamlevel"
	qq "$T/gtube" "$T/env"
	check "... under the red threshold, GTUBE (yellow) queued marked" \
		sh -c "test \"\$(cat '$T/qq')\" = 'exit 0' && grep -q '^X-Spam-Flag: YES' '$Q/message'"

	"$QMAILCTL" -f "$T/qmailctl.conf" stop spamd >"$T/stop" 2>&1
	check "spamd stopped" test "$?" = 0
	fresh
	filter 10-spamc <<EOF
run = /usr/bin/spamc -E -x -p $port
reject = 1
EOF
	qq "$T/msg" "$T/env"
	check "spamd down, spamc -x: temporary failure (82, Z text)" \
		sh -c "grep -qx 'exit 82' '$T/qq' && grep -q '^text Z' '$T/qq'"
	check "... nothing queued" nothing_queued
	check "... the log says spamc failed (exit 69)" grep -q '10-spamc failed (exit 69)' "$T/err"
	fresh
	filter 10-spamc <<EOF
run = /usr/bin/spamc -E -p $port
reject = 1
EOF
	qq "$T/msg" "$T/env"
	check "spamd down, spamc without -x: passed through unchanged" \
		sh -c "test \"\$(cat '$T/qq')\" = 'exit 0' && cmp -s '$T/msg' '$Q/message'"
}
spamd_section

done_testing
