#!/bin/sh
# bench/run.sh: `make bench`.  Figures for a person to read, not a test: it
# never fails on a time.
#
#   A  (issue 3) plain smtp + pop3: qmailctl start/stop/status against a
#      hand-written init script (& + sleep 1, kill $(cat pidfile))
#   B  (issue 4) all five services, TLS included: start confirmed, check
#   C  (issue 5) zap of a qmail-send with N hung deliveries, against the
#      shell way (TERM, sleep 1, KILL, wait until the group is empty)
#   D  (issue 7) the peers on one smtps pipeline: runit, s6, daemontools,
#      start-stop-daemon, the naive script; what each claims and when the
#      service truly serves / is truly gone
#   E  hi-q's hand-off (bench/hiq.sh)
#   F  (issue 13) supervision: restart after a kill, the supervisor's cost
#   G  (issue 17) the five services under qmailctl and under the peer
#      supervisors: ports listening, truly serving, the claims, the stop
#
# Everything binds to 127.0.0.1 on ports found free at run time, below the
# ephemeral range (bench/port.c: why not tests/fixtures/freeport);
# every file lives in one temporary directory; every loop is bounded in
# count and in time; everything started is ended by pid or process group,
# on every exit path (trap), and the whole run is a child subreaper
# (bench/reaper.c) that reaps at once and ends by pid whatever is left.
#
# Environment: BENCH_ROUNDS (default 15), BENCH_ZAP_ROUNDS (default
# BENCH_ROUNDS/3, at least 3), BENCH_ZAP_N (default "100 1000 5000"),
# BENCH_SETTLE (send's settle in ms, default 20), BENCH_SUP_ROUNDS
# (section F's rounds, 10 s each, default 10), BENCH_G_ROUNDS (section
# G's rounds, default 10), BUILD (default build).
set -u

BUILD=${BUILD:-build}
top=$(pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
BENCH=$top/bench

if [ -z "${BENCH_W:-}" ]; then
	sh "$BENCH/deps.sh"
	W=$(mktemp -d /tmp/qmailctl-bench.XXXXXX) || exit 1
	if ! cc -O2 -o "$W/reaper" "$BENCH/reaper.c"; then
		echo "bench: fatal: unable to build bench/reaper.c" >&2
		rm -rf "$W"
		exit 1
	fi
	BENCH_W=$W BUILD=$BUILD exec "$W/reaper" -d "$W" sh "$0" "$@"
fi
W=$BENCH_W
# Everything this run starts descends from the reaper, our parent.
# shellcheck disable=SC2034 # read by bench/lib.sh
REAPER=$PPID

# shellcheck source=bench/lib.sh
. "$BENCH/lib.sh"
# shellcheck source=bench/peers.sh
. "$BENCH/peers.sh"
# shellcheck source=bench/supervision.sh
. "$BENCH/supervision.sh"
# shellcheck source=bench/fiveservice.sh
. "$BENCH/fiveservice.sh"
# shellcheck source=bench/startpath.sh
. "$BENCH/startpath.sh"
QMAILCTL=$BUILD/qmailctl
FIX=$BUILD/tests/fixtures

bench_cleanup() {
	trap '' INT TERM HUP PIPE
	# qmailctl's services, through qmailctl (by process group or cgroup,
	# which it then removes).
	for _c in "$W"/*/qmailctl.conf "$W"/*/*/qmailctl.conf; do
		[ -f "$_c" ] || continue
		_names=$(ls "${_c%/qmailctl.conf}/services" 2>/dev/null)
		# shellcheck disable=SC2086 # service names, one word each
		[ -n "$_names" ] && "$QMAILCTL" -q -f "$_c" zap $_names >/dev/null 2>&1
	done
	peers_cleanup
	supervision_cleanup
	fiveservice_cleanup
	# The naive scripts' servers, by their pidfiles.
	for _f in "$W"/*/naive/*.pid; do
		_p=$(pidfile_pid "$_f") && ours "$_p" && kill -KILL "$_p" 2>/dev/null
	done
	end_tracked
	rm -rf "$W"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

for _b in "$QMAILCTL" "$BUILD/pido" "$FIX/greeter" "$FIX/qmail-standin"; do
	[ -x "$_b" ] || { echo "bench: fatal: $_b is missing: run make tests" >&2; exit 1; }
done
for _c in tcpserver stunnel multilog openssl cc; do
	command -v "$_c" >/dev/null 2>&1 ||
		{ echo "bench: fatal: $_c is not installed (see bench/deps.sh)" >&2; exit 1; }
done

num() { case $1 in ''|*[!0-9]*) return 1 ;; esac; [ "$1" -ge "$2" ] && [ "$1" -le "$3" ]; }
ROUNDS=${BENCH_ROUNDS:-15}
num "$ROUNDS" 1 1000 || { echo "bench: fatal: BENCH_ROUNDS must be 1..1000" >&2; exit 2; }
_zr=$((ROUNDS / 3)); [ "$_zr" -lt 3 ] && _zr=3
ZAP_ROUNDS=${BENCH_ZAP_ROUNDS:-$_zr}
num "$ZAP_ROUNDS" 1 1000 || { echo "bench: fatal: BENCH_ZAP_ROUNDS must be 1..1000" >&2; exit 2; }
ZAP_N=${BENCH_ZAP_N:-100 1000 5000}
for _n in $ZAP_N; do
	num "$_n" 0 20000 || { echo "bench: fatal: BENCH_ZAP_N: each 0..20000" >&2; exit 2; }
done
SETTLE=${BENCH_SETTLE:-20}
num "$SETTLE" 0 10000 || { echo "bench: fatal: BENCH_SETTLE: 0..10000 ms" >&2; exit 2; }
G_ROUNDS=${BENCH_G_ROUNDS:-10}
num "$G_ROUNDS" 1 1000 || { echo "bench: fatal: BENCH_G_ROUNDS must be 1..1000" >&2; exit 2; }

mkdir -p "$W/res"
RACE=$W/race
# shellcheck disable=SC2046 # pkg-config's flags are words
if ! cc -O2 -o "$RACE" "$BENCH/race.c" $(pkg-config --cflags --libs openssl 2>/dev/null || echo -lssl -lcrypto) -lpthread; then
	echo "bench: fatal: unable to build bench/race.c" >&2
	exit 1
fi
cc -O2 -o "$W/port" "$BENCH/port.c" || { echo "bench: fatal: unable to build bench/port.c" >&2; exit 1; }

# port: a free port below the ephemeral range (see bench/port.c), never
# one this run has already taken.
port() {
	_i=0
	while [ "$_i" -lt 20 ]; do
		_pt=$("$W/port") || return 1
		if ! grep -qx "$_pt" "$W/ports" 2>/dev/null; then
			echo "$_pt" >>"$W/ports"
			echo "$_pt"
			return 0
		fi
		_i=$((_i + 1))
	done
	return 1
}
qm() { _conf=$1; shift; "$QMAILCTL" -f "$_conf" "$@"; }

# The certificate every TLS service uses (P-256: fast to make).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 365 \
	-subj /CN=bench.test -keyout "$W/cert.pem" -out "$W/cert.pem" >/dev/null 2>&1 ||
	{ echo "bench: fatal: openssl could not make a certificate" >&2; exit 1; }
chmod 600 "$W/cert.pem"

# stunnel_conf FILE GREETER-MODE [EXTRA-LINE]: an inetd-mode config as the
# shipped services/stunnel/*.conf, with the stand-in behind it.
stunnel_conf() {
	cat >"$1" <<EOF
foreground = yes
syslog = no
pid =
debug = warning
cert = $W/cert.pem
sslVersionMin = TLSv1.2
exec = $FIX/greeter
execArgs = greeter $2
${3:-}
EOF
}
stunnel_conf "$W/smtps.conf" smtp
stunnel_conf "$W/pop3s.conf" pop3
stunnel_conf "$W/pop3.conf" pop3 "protocol = pop3"

# site DIR: a qmailctl site config in DIR (services in DIR/services, rundir
# DIR/run, logs in DIR/log); more "key = value" lines on stdin.
site() {
	mkdir -p "$1/services" "$1/log"
	{
		echo "services = services"
		echo "rundir = run"
		echo "path = /usr/local/bin:/usr/bin:/bin"
		echo "fixtures = $FIX"
		echo "dir = $1"
		echo "W = $W"
		cat
	} >"$1/qmailctl.conf"
}

# pids_of CONF NAME...: every live process of the named services (server
# tree and logger), one a line, from qmailctl's pidfiles.
pids_of() {
	_d=${1%/qmailctl.conf}/run; shift
	for _n in "$@"; do
		_p=$(pidfile_pid "$_d/$_n.pid") && tree "$_p"
		pidfile_pid "$_d/$_n.log.pid"
	done
}

# pflags PID...: "-p PID" for race.
pflags() { for _p in "$@"; do printf ' -p %s' "$_p"; done; }

# failure WHAT FILE RC: counts a failed run of WHAT (a few words) and keeps
# the output (FILE) and exit status of the first one for the report.
failure() {
	_ff=$W/fail/$(printf '%s' "$1" | tr -c 'a-zA-Z0-9' _)
	mkdir -p "$W/fail"
	echo x >>"$_ff.n"
	[ -f "$_ff" ] && return 0
	case $3 in
	13[0-9]|14[0-9]|15[0-9]) _why="killed by signal $(($3 - 128))" ;;
	*) _why="exit $3" ;;
	esac
	{ echo "$1"; echo "$_why"; head -n 6 "$2" 2>/dev/null; } >"$_ff"
}
# show_failures: the failures counted since the last call.
show_failures() {
	for _f in "$W"/fail/*.n; do
		[ -f "$_f" ] || continue
		_ff=${_f%.n}
		if [ "$(wc -l <"$_ff")" -gt 2 ]; then _said=" said:"; else _said=", no output"; fi
		say "  $(head -n 1 "$_ff") failed $(wc -l <"$_f" | tr -d ' ') time(s); the first ($(sed -n 2p "$_ff"))$_said"
		sed -n '3,$s/^/    | /p' "$_ff"
		rm -f "$_f" "$_ff"
	done
}

# ensure_stopped CONF NAME...: a start is timed only from "not running":
# whatever an earlier failure left is zapped first (and counted).
ensure_stopped() {
	_conf=$1; shift
	"$QMAILCTL" -f "$_conf" status "$@" >/dev/null 2>&1
	[ $? = 3 ] && return 0
	"$QMAILCTL" -f "$_conf" status "$@" >"$W/es.out" 2>&1
	failure "a start found $* not stopped (zapped first)" "$W/es.out" 1
	"$QMAILCTL" -f "$_conf" zap "$@" >/dev/null 2>&1
}

# record_start PREFIX LINE: the claim, the truth, and which came first.
record_start() {
	_rc=$(kv rc "$2") _claim=$(kv claim "$2") _ready=$(kv ready "$2") _ok=$(kv claim_ok "$2")
	_acc=$(kv accept "$2")
	if [ "$_rc" = 0 ]; then put "$1.start" "$_claim"; else put "$1.start" NA; fi
	put "$1.ready" "$_ready"
	# First: the tool said "started" before the port even accepted the
	# connection that was then served.
	if [ "$_rc" = 0 ] && { [ "$_acc" = NA ] || lt "$_claim" "$_acc"; }; then
		put "$1.first" 1
	else
		put "$1.first" 0
	fi
	if [ "$_rc" = 0 ] && [ "$_ok" = 0 ]; then put "$1.refused" 1; else put "$1.refused" 0; fi
}
# record_stop PREFIX LINE
record_stop() {
	_rc=$(kv rc "$2")
	if [ "$_rc" = 0 ]; then put "$1.stop" "$(kv claim "$2")"; else put "$1.stop" NA; fi
	put "$1.gone" "$(kv gone "$2")"
	if [ "$(kv live "$2")" = 0 ]; then put "$1.unclean" 0; else put "$1.unclean" 1; fi
}
# firsts PREFIX: "claim first N/M, refused N/M".
firsts() {
	echo "claim first $(sum "$1.first")/$(count "$1.first"), refused $(sum "$1.refused")/$(count "$1.refused")"
}
# sum KEY: the sum of KEY's figures (counts of 0/1).
sum() { if [ -f "$W/res/$1" ]; then awk '{ n += $1 } END { print n + 0 }' "$W/res/$1"; else echo 0; fi; }

# ---------------------------------------------------------------------------
# A. plain services (issue 3)

setup_a() {
	A=$W/a
	a_smtp=$(port) a_pop3=$(port)
	site "$A" <<EOF
default = smtp pop3 send
smtp_port = $a_smtp
pop3_port = $a_pop3
EOF
	cat >"$A/services/smtp" <<'EOF'
description = stand-in qmail-smtpd behind tcpserver
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
log = multilog t ${dir}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
EOF
	cat >"$A/services/pop3" <<'EOF'
description = stand-in qmail-popup behind tcpserver
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
log = multilog t ${dir}/log/pop3
probe = tcp 127.0.0.1 ${pop3_port} +OK
EOF
	cat >"$A/services/send" <<EOF
description = stand-in qmail-send, no deliveries
run = \${fixtures}/qmail-standin -n 0
log = multilog t \${dir}/log/send
probe = none
settle = $SETTLE
EOF
	# The same site without cgroups: what putting each service in a
	# cgroup of its own costs.
	site "$W/a2" <<EOF
default = smtp pop3 send
smtp_port = $a_smtp
pop3_port = $a_pop3
cgroup = no
EOF
	cp "$A"/services/* "$W/a2/services/"
	# The hand-written init script: what "sleep and hope" looks like.
	mkdir -p "$A/naive/log"
	cat >"$A/naive/qmail" <<EOF
#!/bin/sh
# a hand-written /etc/init.d/qmail for smtp and pop3
case \$1 in
start)
	sh -c 'echo \$\$ >$A/naive/smtp.pid; exec tcpserver -v -H -l 0 -R 127.0.0.1 $a_smtp $FIX/greeter smtp' 2>&1 |
		multilog t $A/naive/log/smtp &
	sh -c 'echo \$\$ >$A/naive/pop3.pid; exec tcpserver -v -H -l 0 -R 127.0.0.1 $a_pop3 $FIX/greeter pop3' 2>&1 |
		multilog t $A/naive/log/pop3 &
	sleep 1
	echo "qmail: smtp pop3 started" ;;
stop)
	kill \$(cat $A/naive/smtp.pid) \$(cat $A/naive/pop3.pid)
	rm -f $A/naive/smtp.pid $A/naive/pop3.pid
	echo "qmail: smtp pop3 stopped" ;;
esac
EOF
}

a_targets() { echo "-t tcp,127.0.0.1,$a_smtp,220 -t tcp,127.0.0.1,$a_pop3,+OK"; }

# q_start KEY SITE NOTE / q_stop KEY SITE NOTE: qmailctl's confirmed start
# (stop) of smtp and pop3 on the site in directory SITE, timed and
# recorded under KEY; NOTE tells the site apart in a failure.  Stop first
# waits for the probes' sessions to end, so that it times the servers.
q_start() {
	# shellcheck disable=SC2046 # the flags split into words
	_l=$("$RACE" -T 5000 -C -o "$_out" $(a_targets) -- "$QMAILCTL" -f "$2/qmailctl.conf" start smtp pop3)
	record_start "$1" "$_l"
	[ "$(kv rc "$_l")" = 0 ] || failure "qmailctl start smtp pop3$3" "$_out" "$(kv rc "$_l")"
}
q_stop() {
	for _n in smtp pop3; do
		_p=$(pidfile_pid "$2/run/$_n.pid") && waitfor 5 no_children "$_p"
	done
	# shellcheck disable=SC2046
	_l=$("$RACE" -T 5000 -o "$_out" $(pflags $(pids_of "$2/qmailctl.conf" smtp pop3)) -- \
		"$QMAILCTL" -f "$2/qmailctl.conf" stop smtp pop3)
	record_stop "$1" "$_l"
	[ "$(kv rc "$_l")" = 0 ] || failure "qmailctl stop smtp pop3$3" "$_out" "$(kv rc "$_l")"
}

round_a() {
	_out=$W/a.out
	: >"$_out"
	ensure_stopped "$A/qmailctl.conf" smtp pop3 send
	q_start a.q "$A" ""
	_l=$("$RACE" -- "$QMAILCTL" -f "$A/qmailctl.conf" status smtp pop3)
	put a.q.status "$(kv claim "$_l")"
	q_stop a.q "$A" ""

	# The same without cgroups.
	ensure_stopped "$A/qmailctl.conf" smtp pop3 send
	ensure_stopped "$W/a2/qmailctl.conf" smtp pop3 send
	q_start a.q2 "$W/a2" " (cgroup = no)"
	q_stop a.q2 "$W/a2" " (cgroup = no)"

	# The demo's whole set: send's settle runs beside the probes.
	ensure_stopped "$W/a2/qmailctl.conf" smtp pop3 send
	ensure_stopped "$A/qmailctl.conf" smtp pop3 send
	_l=$("$RACE" -T 5000 -o "$_out" -- "$QMAILCTL" -f "$A/qmailctl.conf" start smtp pop3 send)
	if [ "$(kv rc "$_l")" = 0 ]; then put a.q3.start "$(kv claim "$_l")"; else put a.q3.start NA; fi
	for _n in smtp pop3; do
		_p=$(pidfile_pid "$A/run/$_n.pid") && waitfor 5 no_children "$_p"
	done
	_l=$("$RACE" -T 5000 -o "$_out" -- "$QMAILCTL" -f "$A/qmailctl.conf" stop smtp pop3 send)
	if [ "$(kv rc "$_l")" = 0 ]; then put a.q3.stop "$(kv claim "$_l")"; else put a.q3.stop NA; fi

	# The naive script.
	ensure_stopped "$A/qmailctl.conf" smtp pop3 send
	# shellcheck disable=SC2046
	_l=$("$RACE" -T 5000 -C -o "$_out" $(a_targets) -- sh "$A/naive/qmail" start)
	record_start a.n "$_l"
	_pids=""
	for _n in smtp pop3; do
		_p=$(pidfile_pid "$A/naive/$_n.pid") || continue
		waitfor 5 no_children "$_p"
		_pids="$_pids $(tree "$_p") $(logger_of "$_p")"
	done
	# shellcheck disable=SC2046,SC2086
	_l=$("$RACE" -T 5000 -o "$_out" $(pflags $_pids) -- sh "$A/naive/qmail" stop)
	record_stop a.n "$_l"
}

report_a() {
	say ""
	say "A. Plain services (issue 3): smtp + pop3 = tcpserver -H -l 0 -> stand-in greeter, multilog; tcp probes."
	say "   qmailctl against a hand-written init script: the pipelines put in the background, \`sleep 1\`;"
	say "   stop = \`kill \$(cat pidfile)\`.  Every time is in ms from the first fork (of the command)."
	say "   \"truly served\": an independent client, polling every 1 ms from that fork, got both greetings."
	say "   \"claim first\": rounds where the command said started before the ports accepted the"
	say "   connections that were then served; \"refused\": rounds where a client connecting the moment"
	say "   the command returned was not served.  qmailctl's site has cgroup = auto (the default)."
	row_head
	row "qmailctl start smtp pop3 (confirmed)" a.q.start
	row "  ... truly served" a.q.ready "$(firsts a.q)"
	row "  same, cgroup = no" a.q2.start
	row "    ... truly served" a.q2.ready "$(firsts a.q2)"
	row "naive start (& + sleep 1)" a.n.start
	row "  ... truly served" a.n.ready "$(firsts a.n)"
	row "qmailctl stop smtp pop3 (confirmed)" a.q.stop "alive at claim $(sum a.q.unclean)/$(count a.q.unclean)"
	row "  same, cgroup = no" a.q2.stop "alive at claim $(sum a.q2.unclean)/$(count a.q2.unclean)"
	row "naive stop: kill returned" a.n.stop "alive at claim $(sum a.n.unclean)/$(count a.n.unclean)"
	row "  ... all processes truly gone" a.n.gone
	row "qmailctl status smtp pop3" a.q.status
	row "qmailctl start smtp pop3 send (settle $SETTLE ms)" a.q3.start
	row "qmailctl stop smtp pop3 send" a.q3.stop
	say "  ratios (medians): start naive/qmailctl $(ratio "$(median a.n.start)" "$(median a.q.start)")," \
		"stop naive-truly-gone/qmailctl-confirmed $(ratio "$(median a.n.gone)" "$(median a.q.stop)")"
	say "  issue 3 targets: start < 30 ms, stop < 20 ms, status < 5 ms"
	show_failures
}

# ---------------------------------------------------------------------------
# B. all five services with TLS (issue 4)

setup_b() {
	B=$W/b
	b_smtp=$(port) b_smtps=$(port) b_pop3=$(port) b_pop3s=$(port)
	site "$B" <<EOF
default = send smtp smtps pop3 pop3s
smtp_port = $b_smtp
smtps_port = $b_smtps
pop3_port = $b_pop3
pop3s_port = $b_pop3s
EOF
	cat >"$B/services/send" <<EOF
description = stand-in qmail-send, no deliveries
run = \${fixtures}/qmail-standin -n 0
log = multilog t \${dir}/log/send
probe = none
settle = $SETTLE
EOF
	cat >"$B/services/smtp" <<'EOF'
description = stand-in qmail-smtpd behind tcpserver
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
log = multilog t ${dir}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
EOF
	for _s in smtps pop3 pop3s; do
		# shellcheck disable=SC2016 # ${...} is for qmailctl, not the shell
		case $_s in
		smtps) _probe='tls 127.0.0.1 ${smtps_port} 220' ;;
		pop3) _probe='pop3-stls 127.0.0.1 ${pop3_port}' ;;
		pop3s) _probe='tls 127.0.0.1 ${pop3s_port} +OK' ;;
		esac
		cat >"$B/services/$_s" <<EOF
description = stand-in behind tcpserver and stunnel
run = tcpserver -v -H -l 0 -R 127.0.0.1 \${${_s}_port} stunnel \${W}/$_s.conf
log = multilog t \${dir}/log/$_s
probe = $_probe
cert = \${W}/cert.pem
memory = 64m
EOF
	done
	# Is there a check command in this build?
	qm "$B/qmailctl.conf" check smtp >"$W/b.check" 2>&1
	case $? in
	2) if grep -qi 'unknown\|usage' "$W/b.check"; then b_check=no; else b_check=yes; fi ;;
	*) b_check=yes ;;
	esac
}

b_targets() {
	echo "-t tcp,127.0.0.1,$b_smtp,220 -t tls,127.0.0.1,$b_smtps,220" \
		"-t pop3-stls,127.0.0.1,$b_pop3 -t tls,127.0.0.1,$b_pop3s,+OK"
}

round_b() {
	_out=$W/b.out
	: >"$_out"
	ensure_stopped "$B/qmailctl.conf" send smtp smtps pop3 pop3s
	# shellcheck disable=SC2046
	_l=$("$RACE" -T 5000 -C -o "$_out" $(b_targets) -- "$QMAILCTL" -f "$B/qmailctl.conf" start)
	record_start b.q "$_l"
	[ "$(kv rc "$_l")" = 0 ] || failure "qmailctl start (all five)" "$_out" "$(kv rc "$_l")"
	for _i in 0 1 2 3; do put "b.r$_i" "$(kv "r$_i" "$_l")"; done
	if [ "$b_check" = yes ]; then
		: >"$W/b.chk"
		_l=$("$RACE" -T 10000 -o "$W/b.chk" -- "$QMAILCTL" -f "$B/qmailctl.conf" check)
		put b.check "$(kv claim "$_l")"
		put b.check.rc "$(kv rc "$_l")"
		[ "$(kv rc "$_l")" = 0 ] || failure "qmailctl check" "$W/b.chk" "$(kv rc "$_l")"
	fi
	_l=$("$RACE" -- "$QMAILCTL" -f "$B/qmailctl.conf" status)
	put b.status "$(kv claim "$_l")"
	for _n in smtp smtps pop3 pop3s; do
		_p=$(pidfile_pid "$B/run/$_n.pid") && waitfor 5 no_children "$_p"
	done
	# shellcheck disable=SC2046
	_l=$("$RACE" -T 5000 -o "$_out" $(pflags $(pids_of "$B/qmailctl.conf" send smtp smtps pop3 pop3s)) -- \
		"$QMAILCTL" -f "$B/qmailctl.conf" stop)
	record_stop b.q "$_l"
	[ "$(kv rc "$_l")" = 0 ] || failure "qmailctl stop (all five)" "$_out" "$(kv rc "$_l")"
}

report_b() {
	say ""
	say "B. All five services, TLS included (issue 4): send (stand-in, probe none, settle $SETTLE ms),"
	say "   smtp (plain), smtps and pop3s (tcpserver -> stunnel -> greeter, probe tls),"
	say "   pop3 (stunnel protocol = pop3, probe pop3-stls); P-256 self-signed certificate.  ms from the"
	say "   first fork; \"truly served\", \"claim first\", \"refused\": as in A, by TLS where the service is."
	row_head
	row "qmailctl start (all five, confirmed)" b.q.start
	row "  ... truly served (all four network services)" b.q.ready "$(firsts b.q)"
	row "      smtp  (plain greeting)" b.r0
	row "      smtps (TLS handshake + greeting)" b.r1
	row "      pop3  (greeting, STLS, handshake, NOOP)" b.r2
	row "      pop3s (TLS handshake + greeting)" b.r3
	row "qmailctl stop (all five, confirmed)" b.q.stop "alive at claim $(sum b.q.unclean)/$(count b.q.unclean)"
	row "qmailctl status (all five)" b.status
	if [ "$b_check" = yes ]; then
		row "qmailctl check (all five probes + cert checks)" b.check \
			"exit codes: $(sort "$W/res/b.check.rc" | uniq -c | awk '{ printf "%s%s x%s", s, $2, $1; s = ", " }')"
	else
		say "  qmailctl check: not measured: this build has no check command"
		sed -n '1s/^/    (it said: /p' "$W/b.check" | sed 's/$/)/'
	fi
	say "  issue 4 target: all five started and confirmed in at most 50 ms (median)"
	show_failures
}

# ---------------------------------------------------------------------------
# C. zap (issue 5)

setup_c() {
	C=$W/c
	site "$C" <<EOF
default = send
EOF
	c_seq=0
	mkdir -p "$C/naive"
}

# ready_log DIR: the stand-in's qmail-rspawn said its deliveries are in place.
ready_log() { grep -q 'deliveries ready' "$1/current" 2>/dev/null; }

# group_ours PGID: a live member of the group is one of ours.
group_ours() {
	for _m in $(procs | awk -v g="$1" '$4 == g && $2 != "Z" && $2 != "X" { print $1 }'); do
		ours "$_m" && return 0
	done
	return 1
}

# c_reset PGID: after a failed run, nothing of the stand-in may outlive its
# round: qmailctl zaps what it still records, and a group of ours that
# still has live members is killed whole.
c_reset() {
	[ -e "$C/run/send.pid" ] && qm "$C/qmailctl.conf" zap send >/dev/null 2>&1
	if [ -n "${1:-}" ] && [ "$(group_live "$1")" != 0 ] && group_ours "$1"; then
		kill -KILL "-$1" 2>/dev/null
		waitfor 30 group_empty "$1"
	fi
}

# zap_q N GRACE KEY [CGROUP]: qmailctl zap of a send with N hung deliveries.
zap_q() {
	site "$C" <<EOF
default = send
cgroup = ${4:-auto}
EOF
	c_seq=$((c_seq + 1))
	_log=$C/log/send-$c_seq
	cat >"$C/services/send" <<EOF
description = stand-in qmail-send with $1 hung qmail-remote
run = \${fixtures}/qmail-standin -n $1
log = multilog t $_log
probe = none
settle = $SETTLE
zap_grace = $2
EOF
	_what="qmailctl zap -n $1, zap_grace $2, cgroup = ${4:-auto}"
	qm "$C/qmailctl.conf" start send >"$W/c.out" 2>&1
	_rc=$?
	_g=$(pidfile_pid "$C/run/send.pid")
	if [ "$_rc" != 0 ] || ! waitfor 60 ready_log "$_log"; then
		failure "$_what: its start" "$W/c.out" "$_rc"
		c_reset "$_g"
		put "$3" NA
		return
	fi
	: >"$W/c.zap"
	_l=$("$RACE" -T 60000 -G "$_g" -o "$W/c.zap" -- "$QMAILCTL" -v -f "$C/qmailctl.conf" zap send)
	if [ "$(kv rc "$_l")" = 0 ]; then
		put "$3" "$(kv claim "$_l")"
	else
		put "$3" NA
		failure "$_what" "$W/c.zap" "$(kv rc "$_l")"
		c_reset "$_g"
	fi
	put "$3.gone" "$(kv gone "$_l")"
	if [ "$(kv live "$_l")" = 0 ]; then put "$3.unclean" 0; else put "$3.unclean" 1; fi
	[ -s "$W/c.how.${4:-auto}" ] || grep -i 'zapping' "$W/c.zap" | head -n 1 >"$W/c.how.${4:-auto}"
	grep -o 'zapped [0-9]* processes' "$W/c.zap" | head -n 1 | cut -d' ' -f2 >>"$W/res/$3.what"
}

# zap_shell N KEY: the same stand-in started by a shell in a process group of
# its own, ended the shell way.
zap_shell() {
	c_seq=$((c_seq + 1))
	_log=$C/log/send-$c_seq
	rm -f "$C/naive/send.pid"
	setsid sh -c "echo \$\$ >$C/naive/send.pid; exec $FIX/qmail-standin -n $1" 2>&1 |
		multilog t "$_log" &
	_m=$!
	if ! waitfor 60 ready_log "$_log" || ! _g=$(pidfile_pid "$C/naive/send.pid"); then
		put "$2" NA
		failure "shell zap -n $1: its start" "$_log/current" 1
		_g=$(head -n 1 "$C/naive/send.pid" 2>/dev/null) && c_reset "$_g"
		return
	fi
	track_pgid "$_g"
	: >"$W/c.out"
	_l=$("$RACE" -T 60000 -G "$_g" -o "$W/c.out" -- sh "$BENCH/shellzap.sh" "$_g")
	if [ "$(kv rc "$_l")" = 0 ]; then
		put "$2" "$(kv claim "$_l")"
	else
		put "$2" NA
		failure "shell zap -n $1" "$W/c.out" "$(kv rc "$_l")"
		c_reset "$_g"
	fi
	untrack
	put "$2.gone" "$(kv gone "$_l")"
	# The logger ends on EOF once the group is gone; then reap it.
	waitfor 10 dead "$_m" && wait "$_m" 2>/dev/null
}

round_c() {
	for _n in $ZAP_N; do
		zap_q "$_n" 100 "c.q100.$_n"
		zap_q "$_n" 0 "c.q0.$_n"
		zap_q "$_n" 0 "c.qg.$_n" no
		zap_shell "$_n" "c.sh.$_n"
	done
}

# zapnote KEY: what qmailctl said it zapped, and what was alive at its claim.
zapnote() {
	_what=$(sort -n "$W/res/$1.what" 2>/dev/null | uniq | tr '\n' '/' | sed 's,/$,,')
	echo "zapped ${_what:-?}; alive at claim $(sum "$1.unclean")/$(count "$1.unclean")"
}

report_c() {
	say ""
	say "C. zap (issue 5): a stand-in qmail-send (its own process group) with N qmail-remote children"
	say "   that ignore TERM; zap confirmed = no live (non-zombie) process left in the group.  The"
	say "   shell way: kill -TERM -- -PGID; sleep 1; kill -KILL -- -PGID; poll /proc until the group"
	say "   has no live process.  qmailctl's site uses cgroup = auto (cgroup.kill) unless marked."
	say "   ms, $ZAP_ROUNDS rounds."
	row_head
	for _n in $ZAP_N; do
		say "  N = $_n: a group of $((_n + 4)) (qmail-send, 3 helpers, $_n deliveries)"
		row "  qmailctl zap, zap_grace 100 (as shipped)" "c.q100.$_n" "$(zapnote "c.q100.$_n")"
		row "  qmailctl zap, zap_grace 0" "c.q0.$_n" "$(zapnote "c.q0.$_n")"
		row "  qmailctl zap, zap_grace 0, cgroup = no" "c.qg.$_n" "$(zapnote "c.qg.$_n")"
		row "  shell: TERM, sleep 1, KILL, wait for empty" "c.sh.$_n"
	done
	_lin=""
	for _n in $ZAP_N; do
		[ "$_n" -gt 0 ] || continue
		_lin="$_lin$(awk -v a="$(median "c.q0.$_n")" -v n="$_n" 'BEGIN { if (a == "NA") print " NA"; else printf " %.1f", a * 1000 / n }') (N=$_n),"
	done
	say "  linearity, zap_grace 0, ms per 1000 children:${_lin%,}"
	_lin=""
	for _n in $ZAP_N; do
		[ "$_n" -gt 0 ] || continue
		_lin="$_lin$(awk -v a="$(median "c.q100.$_n")" -v n="$_n" 'BEGIN { if (a == "NA") print " NA"; else printf " %.1f", (a - 100) * 1000 / n }') (N=$_n),"
	done
	say "  linearity, zap_grace 100, (ms - 100) per 1000 children:${_lin%,}"
	_lin=""
	for _n in $ZAP_N; do
		[ "$_n" -gt 0 ] || continue
		_lin="$_lin$(awk -v a="$(median "c.qg.$_n")" -v n="$_n" 'BEGIN { if (a == "NA") print " NA"; else printf " %.1f", a * 1000 / n }') (N=$_n),"
	done
	say "  linearity, zap_grace 0, cgroup = no, ms per 1000 children:${_lin%,}"
	for _h in auto no; do
		[ -s "$W/c.how.$_h" ] && say "  cgroup = $_h: qmailctl -v said: $(cat "$W/c.how.$_h")"
	done
	say "  issue 5 target: zap of 1000 hung children confirmed in under 250 ms, no worse than linear"
	show_failures
}

# ---------------------------------------------------------------------------

machine() {
	_model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	_deb=$(cat /etc/debian_version 2>/dev/null || echo '?')
	_ver() { dpkg-query -W -f '${Version}' "$1" 2>/dev/null || echo '-'; }
	say "machine: $(nproc) x ${_model:-unknown CPU}, Linux $(uname -r), Debian $_deb, $(awk '/MemTotal/ { printf "%d MB", $2 / 1024 }' /proc/meminfo)"
	say "versions: qmailctl $("$QMAILCTL" --version 2>/dev/null | head -n 1 | awk '{ print $NF }'), ucspi-tcp $(_ver ucspi-tcp), stunnel4 $(_ver stunnel4), runit $(_ver runit), s6 $(_ver s6), daemontools $(_ver daemontools), dpkg $(_ver dpkg)"
	_env=""
	[ -n "${BENCH_ZAP_ROUNDS:-}" ] && _env="$_env BENCH_ZAP_ROUNDS=$ZAP_ROUNDS"
	[ -n "${BENCH_ZAP_N:-}" ] && _env="$_env BENCH_ZAP_N='$ZAP_N'"
	[ -n "${BENCH_SETTLE:-}" ] && _env="$_env BENCH_SETTLE=$SETTLE"
	[ -n "${BENCH_SUP_ROUNDS:-}" ] && _env="$_env BENCH_SUP_ROUNDS=$F_ROUNDS"
	[ -n "${BENCH_G_ROUNDS:-}" ] && _env="$_env BENCH_G_ROUNDS=$G_ROUNDS"
	say "reproduce: make bench BENCH_ROUNDS=$ROUNDS$_env"
	say "rounds: $ROUNDS (zap: $ZAP_ROUNDS); times in ms; figures are medians with min, p90 and max."
	say "The whole run is a child subreaper that reaps exited processes at once, as init would."
	say "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows up as noise)"
}

t_begin=$(date +%s)
say "qmailctl benchmark (make bench) - figures to read, not a test"
machine

setup_a
setup_b
setup_c
setup_d
setup_g

# repeat N FUNCTION...: every FUNCTION once a round, N rounds.
# (Its variables are its own: the round functions use _n, _r and _f.)
repeat() {
	_rep_n=$1 _rep_i=0
	shift
	while [ "$_rep_i" -lt "$_rep_n" ]; do
		_rep_i=$((_rep_i + 1))
		for _rep_f in "$@"; do "$_rep_f"; done
	done
}

progress "bench: A+B: $ROUNDS rounds"
repeat "$ROUNDS" round_a round_b
report_a
report_b

progress "bench: C: $ZAP_ROUNDS rounds of N = $ZAP_N"
repeat "$ZAP_ROUNDS" round_c
report_c

progress "bench: D: $ROUNDS rounds of $D_TOOLS"
repeat "$ROUNDS" round_d
report_d

progress "bench: E: hi-q's hand-off"
say ""
say "E. hi-q (bench/hiq.sh)"
BUILD=$BUILD sh "$top/bench/hiq.sh" | while IFS= read -r _line; do say "$_line"; done

progress "bench: F: supervision, $ROUNDS rounds of $(f_tools)"
run_f
report_f

progress "bench: G: $G_ROUNDS rounds of $G_TOOLS"
repeat "$G_ROUNDS" round_g
report_g
progress "bench: G2: the start path, $SP_ROUNDS rounds"
run_sp
report_sp

say ""
say "run took $(( $(date +%s) - t_begin )) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
