# lib.sh: the harness every integration test sources.
#
# - T is a fresh temporary directory; every path a test uses lives in it.
# - ok/fail/check/skip print TAP lines that tests/run.sh counts.
# - free_port gives a 127.0.0.1 port the kernel says is free now.
# - wait_for bounds every wait in time and in count; no bare sleeps.
# - track_pid/track_pgid record what a test started, and cleanup ends it by
#   pid or process group on every exit path, failures included.
# shellcheck shell=sh

set -u
: "${QMAILCTL:?run through tests/run.sh}" "${PIDO:?}" "${FIXTURES:?}"

T=$(mktemp -d /tmp/qmailctl-test.XXXXXX) || exit 1
tap_n=0
tap_failed=0

ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $*"; }
fail() { tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1)); echo "not ok $tap_n - $*"; }
skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $*"; }
# check DESCRIPTION COMMAND...: passes when COMMAND succeeds.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else fail "$_d"; fi; }
# check_rc DESCRIPTION EXPECTED COMMAND...: passes when COMMAND exits EXPECTED.
check_rc() {
	_d=$1 _want=$2; shift 2
	"$@"; _rc=$?
	if [ "$_rc" = "$_want" ]; then ok "$_d"; else fail "$_d (exit $_rc, want $_want)"; fi
}
# note TEXT: a diagnostic line (TAP comment).
note() { echo "# $*"; }

free_port() { "$FIXTURES/freeport"; }

# wait_for SECONDS COMMAND...: runs COMMAND until it succeeds, backing off
# from 2 ms to 100 ms; gives up after SECONDS or 2000 tries.
wait_for() {
	_limit=$1; shift
	_end=$(( $(date +%s) + _limit + 1 ))
	_delay=0.002 _tries=0
	while ! "$@"; do
		_tries=$((_tries + 1))
		if [ "$_tries" -ge 2000 ] || [ "$(date +%s)" -ge "$_end" ]; then
			return 1
		fi
		sleep "$_delay"
		case $_delay in
		0.002) _delay=0.01 ;;
		0.01) _delay=0.05 ;;
		*) _delay=0.1 ;;
		esac
	done
}

alive() { kill -0 "$1" 2>/dev/null && ! grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; }
gone() { ! alive "$1"; }

track_pid() { echo "pid $1" >>"$T/.tracked"; }
track_pgid() { echo "pgid $1" >>"$T/.tracked"; }

# Ends everything the test started: services through qmailctl's own rundir
# pidfiles (by process group), then tracked pids and groups.  Never by name.
# kill_supervisors: SIGKILL to every live qmailctl-supervise of the test's
# sites, by their pidfiles: before the elements, or they are restarted.
kill_supervisors() {
	for _f in "$T"/*/run/*.sup.pid "$T"/run/*.sup.pid; do
		same_process "$_f" && kill -KILL "$(head -n 1 "$_f")" 2>/dev/null
	done
	return 0
}

cleanup() {
	kill_supervisors
	for _f in "$T"/*/run/*.pid "$T"/run/*.pid; do
		same_process "$_f" || continue
		_pid=$(head -n 1 "$_f")
		_pgid=$(sed -n 's/^pgid //p' "$_f")
		[ -n "$_pgid" ] && [ "$_pgid" -gt 1 ] && kill -KILL "-$_pgid" 2>/dev/null
		[ -n "$_pid" ] && [ "$_pid" -gt 1 ] && kill -KILL "$_pid" 2>/dev/null
	done
	if [ -f "$T/.tracked" ]; then
		while read -r _kind _id; do
			case $_kind in
			pid) kill -KILL "$_id" 2>/dev/null ;;
			pgid) kill -KILL "-$_id" 2>/dev/null ;;
			esac
		done <"$T/.tracked"
	fi
	rm -rf "$T"
}
trap 'cleanup' EXIT
trap 'exit 1' INT TERM HUP

# done_testing: ends the script with the right status.
done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" = 0 ]
}

# same_process PIDFILE: true when the pidfile's pid is alive and has the
# start time the pidfile recorded (field 22 of /proc/PID/stat).
same_process() {
	_pid=$(head -n 1 "$1" 2>/dev/null) || return 1
	_start=$(sed -n 's/^start //p' "$1")
	[ -n "$_pid" ] && [ -r "/proc/$_pid/stat" ] || return 1
	[ "$(sed 's/.*) //' "/proc/$_pid/stat" | cut -d' ' -f20)" = "$_start" ]
}

# make_site: a site config in $T with an empty service directory, rundir
# $T/run and log directories under $T/log.  Variables: fixtures, T, the
# ports smtp_port and pop3_port (free now).
make_site() {
	mkdir -p "$T/services" "$T/log"
	smtp_port=$(free_port) pop3_port=$(free_port)
	cat >"$T/qmailctl.conf" <<CONF
services = services
rundir = run
default = smtp pop3
path = /usr/local/bin:/usr/bin:/bin
fixtures = $FIXTURES
T = $T
smtp_port = $smtp_port
pop3_port = $pop3_port
CONF
}

# add_service NAME: the service file comes on stdin.
add_service() { cat >"$T/services/$1"; }

# The standard stand-in services: smtp and pop3 behind the real tcpserver,
# logged by the real multilog.
add_plain_services() {
	add_service smtp <<'SVC'
description = stand-in SMTP
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
log = multilog t ${T}/log/smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
	add_service pop3 <<'SVC'
description = stand-in POP3
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
log = multilog t ${T}/log/pop3
probe = tcp 127.0.0.1 ${pop3_port} +OK
SVC
}

# add_send_standin [KEY-LINE...]: send as the stand-in qmail-send
# (fixtures/qmail-standin: a group of itself and three helpers, no
# deliveries), logged by multilog, confirmed by staying up; each
# KEY-LINE is appended ("restart_limit = 1000 1").
add_send_standin() {
	# shellcheck disable=SC2016 # ${...}: qmailctl's variables, not sh's
	{
		echo 'run = ${fixtures}/qmail-standin -n 0'
		echo 'log = multilog t ${T}/log/send'
		echo 'probe = none'
		echo 'settle = 50'
		for _l in "$@"; do echo "$_l"; done
	} >"$T/services/send"
}

# TLS services as the shipped ones run them: tcpserver drops to
# nobody/nogroup, then runs stunnel in inetd mode with the stand-in greeter
# behind it.  Everything they read below $T must be readable by nobody
# (chmod 755 "$T"); the configs go in $T/stunnel.
# stunnel_conf NAME GREETER-MODE CERT [EXTRA-LINE]: the stunnel config.
stunnel_conf() {
	mkdir -p "$T/stunnel"
	cat >"$T/stunnel/$1.conf" <<EOF
; stunnel 5, inetd mode, run by tcpserver once per connection
foreground = yes
syslog = no
pid =
debug = warning
cert = $3
; as the shipped configs: a CA list, so stunnel 5.68 logs no error per connection
CAfile = $3
${4:-}
exec = $FIXTURES/greeter
execArgs = greeter $2 mail.example.org
EOF
}

# tls_service NAME PORT-VAR PROBE [CERT]: the service file.
tls_service() {
	_cert=${4:-'${T}/cert.pem'}
	add_service "$1" <<SVC
description = $1 behind stunnel, as nobody
run = tcpserver -v -R -H -l 0 -u \${uid:nobody} -g \${gid:nogroup} 127.0.0.1 \${$2} stunnel \${T}/stunnel/$1.conf
log = multilog t \${T}/log/$1
probe = $3
cert = $_cert
SVC
}

# bye_server NAME: $T/bye/NAME, a per-connection program that greets
# ("220 NAME"), and on the first line it reads (a probe's QUIT) appends
# the first line of the service NAME's state file, as it is then, to
# $T/bye/NAME.at-quit, and says goodbye: what the supervisor had
# recorded when the probe said goodbye.  $T/bye is writable by all: the
# program may run as nobody (behind stunnel).
bye_server() {
	mkdir -p "$T/bye"
	chmod 1777 "$T/bye"
	cat >"$T/bye/$1" <<EOF
#!/bin/sh
echo "220 $1"
read -r _line
head -n 1 "$T/run/$1.state" >>"$T/bye/$1.at-quit"
echo "221 bye"
EOF
	chmod 755 "$T/bye/$1"
}

# bye_check NAME WHAT: starts NAME, whose program is bye_server NAME's,
# and checks that its probe's QUIT came once the service was recorded
# up; then stops it.
bye_check() {
	q start "$1" >"$T/out" 2>&1
	is_rc $? 0 "$2: started"
	wait_for 5 test -s "$T/bye/$1.at-quit"
	check "... the probe's QUIT came after the supervisor recorded it up" \
		test "$(cat "$T/bye/$1.at-quit")" = "state up"
	q stop "$1" >/dev/null 2>&1
}

# add_tls_services: smtps, pop3 (STLS required) and pop3s as the shipped
# ones, on the ports in the site's smtps_port, pop3_port and pop3s_port,
# with the certificate $T/cert.pem.
add_tls_services() {
	stunnel_conf smtps smtp "$T/cert.pem"
	stunnel_conf pop3 pop3 "$T/cert.pem" "protocol = pop3"
	stunnel_conf pop3s pop3 "$T/cert.pem"
	tls_service smtps smtps_port 'tls 127.0.0.1 ${smtps_port} 220'
	tls_service pop3 pop3_port 'pop3-stls 127.0.0.1 ${pop3_port}'
	tls_service pop3s pop3s_port 'tls 127.0.0.1 ${pop3s_port} +OK'
}

# s_client LINES ARGS...: openssl s_client, bounded, LINES (printf's
# format) on stdin: an independent TLS client.
s_client() {
	_in=$1; shift
	printf "$_in" | timeout 10 openssl s_client -quiet "$@" 2>/dev/null
}

# own_qmailctl: this run's own copy of qmailctl, and of the supervisor
# and the TLS plugin beside it, in $T: other builds in the tree may
# replace the binaries under a long test (exit 126, "Permission denied").
own_qmailctl() {
	cp "$QMAILCTL" "$T/qmailctl" &&
		cp "${QMAILCTL%/*}/qmailctl-supervise" "$T/qmailctl-supervise" &&
		cp "${QMAILCTL%/*}/qmailctl-tls.so" "$T/qmailctl-tls.so" &&
		QMAILCTL=$T/qmailctl
}

# q ARGS: qmailctl on the test site.
q() { "$QMAILCTL" -f "$T/qmailctl.conf" "$@"; }

# pid_of NAME [log]: the pid recorded for a service element.
pid_of() {
	if [ "${2:-}" = log ]; then head -n 1 "$T/run/$1.log.pid"; else head -n 1 "$T/run/$1.pid"; fi
}

# stat_field PID N: field N of /proc/PID/stat (N >= 3, counted as in proc(5)).
stat_field() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f$(($2 - 2)); }

# is_rc GOT WANT DESCRIPTION: for a command whose output was redirected:
#     q start smtp >"$T/out" 2>&1; is_rc $? 0 "start exits 0"
is_rc() {
	if [ "$1" = "$2" ]; then ok "$3"; else fail "$3 (exit $1, want $2)"; fi
}

# group_live PGID: how many live (not zombie) processes are in the group.
# The fixtures' names have no spaces, so /proc/PID/stat splits cleanly.
group_live() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v g="$1" '$5 == g && $3 != "Z" && $3 != "X" { n++ } END { print n + 0 }'
}

# pidfiles_in DIR / files_in DIR: the names in DIR (pidfiles only / every
# name, dotfiles included), one a line, by glob rather than ls.
pidfiles_in() { for _f in "$1"/*.pid; do [ -e "$_f" ] && echo "${_f##*/}"; done; return 0; }
files_in() { for _f in "$1"/* "$1"/.[!.]* "$1"/..?*; do [ -e "$_f" ] && echo "${_f##*/}"; done; return 0; }

# make_marked_site [LINE]: make_site with smtp, pop3 and a stand-in send
# (LINE added to its service file), the daemons run from copies in $T/bin
# so that every process of the site names $T in its command line: that is
# how fixtures/psite finds them, never by a shared program's name.
make_marked_site() {
	make_site
	mkdir "$T/bin"
	cp "$FIXTURES/greeter" "$FIXTURES/qmail-standin" "$T/bin/"
	sed -i "s|^fixtures = .*|fixtures = $T/bin|" "$T/qmailctl.conf"
	add_plain_services
	add_service send <<SVC
description = stand-in qmail-send
run = \${fixtures}/qmail-standin -n 0 -r \${T}/record
log = multilog t \${T}/log/send
probe = none
settle = 20
${1:-}
SVC
}

# The processes of a marked site (see make_marked_site), found by $T in
# their command lines: all of them; those that are qmailctl itself (its
# workers, or an element not yet exec'd); the rest, the daemons.
site() { PSITE_MARK="$T/" "$FIXTURES/psite"; }
qmailctls() { site | awk '$6 == "qmailctl"'; }
no_qmailctl() { test -z "$(qmailctls)"; }
daemons() { site | awk '$6 != "qmailctl"'; }
site_empty() { test -z "$(site)"; }

# site_roles: "ROLE PID" for every server and logger of the site.  A server
# is a listener: a tcpserver with the service's port that leads its group
# (a session's tcpserver child does not), or the stand-in's qmail-send.
# (Paths reach awk through the environment: an argument naming $T would
# make awk a process of the site.)
site_roles() {
	daemons | SP=" $smtp_port " PP=" $pop3_port " LD="$T/log/" awk '
		$6 == "tcpserver" && $1 == $3 && index($0, ENVIRON["SP"]) { print "smtp", $1 }
		$6 == "tcpserver" && $1 == $3 && index($0, ENVIRON["PP"]) { print "pop3", $1 }
		$6 == "qmail-send" && $1 == $3 { print "send", $1 }
		$6 == "multilog" && index($0, ENVIRON["LD"]) {
			n = split($0, w, "/"); print "log-" w[n], $1 }'
}

# ---- the real qmail (tests/notqmail.sh) and real spamd ----

# skip_rest REASON: reports every test of the script's plan ($PLANNED)
# not yet run as skipped, with REASON, and ends the script.
skip_rest() {
	while [ "$tap_n" -lt "$PLANNED" ]; do skip "$1"; done
	done_testing
	exit
}

# notqmail_home: $home is the private qmail home tests/notqmail.sh built
# (once per build directory); where it cannot be built, skip_rest says why.
notqmail_home() {
	home=$(sh "$TESTS/notqmail.sh" 2>"$T/nq.err")
	case $? in
	0) ;;
	77) skip_rest "${home#notqmail: skip: }" ;;
	*) skip_rest "notqmail did not build: $(tail -n 1 "$T/nq.err")" ;;
	esac
}

# qmail_fresh_home: nothing of an earlier run stays queued in $home (the
# home is this build's own; no qmail-send of it runs: lib.sh's cleanup
# ended the last one), and no smtproutes of an earlier run is left.
qmail_fresh_home() {
	for _d in mess info local remote bounce todo intd pid; do
		find "$home/queue/$_d" -type f -delete
	done
	rm -f "$home/control/smtproutes"
}

# qmail_test_user: the test user qmtest, a uid ($mail_id) with no passwd
# entry, known to qmail-lspawn through $home's users/assign, delivering to
# the Maildir $T/home/qmtest/Maildir.
qmail_test_user() {
	mail_id=64321
	mkdir -p "$T/home/qmtest/Maildir/new" "$T/home/qmtest/Maildir/cur" \
		"$T/home/qmtest/Maildir/tmp"
	chown -R "$mail_id:$mail_id" "$T/home/qmtest"
	chmod 700 "$T/home/qmtest"
	printf '=qmtest:qmtest:%s:%s:%s:::\n.\n' "$mail_id" "$mail_id" "$T/home/qmtest" \
		>"$home/users/assign"
	"$home/bin/qmail-newu" >"$T/out" 2>&1 || note "qmail-newu: $(cat "$T/out")"
}

# set_keys KEY=VALUE...: $T/qmailctl.conf is the shipped qmailctl.conf
# with those values.
set_keys() {
	cp "$TOP/services/qmailctl.conf" "$T/qmailctl.conf"
	for _kv in "$@"; do
		sed -i "s|^${_kv%%=*} = .*|${_kv%%=*} = ${_kv#*=}|" "$T/qmailctl.conf"
		grep -q "^${_kv%%=*} = ${_kv#*=}\$" "$T/qmailctl.conf" ||
			note "the shipped qmailctl.conf has no key ${_kv%%=*}"
	done
}

# swaks_to RCPT SUBJECT ARGS...: one message into the site, bounded; the
# transcript in $T/swaks.
swaks_to() {
	_to=$1 _subj=$2; shift 2
	timeout 20 swaks --server 127.0.0.1 --to "$_to" --from sender@localhost \
		--helo localhost --header "Subject: $_subj" "$@" >"$T/swaks" 2>&1
}
# in_maildir: every message in qmtest's Maildir; delivered SUBJECT: one
# with that subject is there.
in_maildir() { cat "$T/home/qmtest/Maildir/new/"* "$T/home/qmtest/Maildir/cur/"* 2>/dev/null; }
delivered() { test "$(in_maildir | grep -c "^Subject: $1\$")" = 1; }

# spamd_missing: true, saying why on stdout, when Debian's spamd cannot
# run here (not installed, or no user to drop root to).
spamd_missing() {
	if [ ! -x /usr/sbin/spamd ] || [ ! -x /usr/bin/spamc ]; then
		echo "spamd or spamc is not installed"
	elif ! id debian-spamd >/dev/null 2>&1; then
		echo "no user debian-spamd for spamd to drop root to"
	else
		return 1
	fi
}
