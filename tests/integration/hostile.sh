#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# qmailctl against hostile input, through the real binary: configuration
# lines of 1 MB, NUL bytes, bytes that are not UTF-8, control characters,
# ${...} that looks recursive or multiplies, service names with / or ..,
# odd files in the service directory, 10,000 services, unsafe rundirs,
# pidfiles that are not files or not pidfiles, pidfiles naming pid 1,
# qmailctl itself, its caller or a stranger's process group, and probe
# peers that babble or say nothing.
#
# Every qmailctl call is bounded (timeout 20, or 60 for the 10,000
# services): a hang fails its test with exit 124 instead of stalling the
# run.  Elapsed times are checked only as correctness bounds.
#
# Decided here (for qmailctl.conf(5) to say too): configuration files are
# bytes.  A value that is not UTF-8 is passed to the program unchanged; a
# NUL byte, a line over 64 KB or a value over 64 KB once expanded is a
# configuration error naming FILE:LINE; a message shows a control
# character escaped, so it stays one line and no terminal obeys it.
#
# Not tested here: what core_faults.sh has (a symlinked pidfile for status
# and start, a symlinked or world-writable rundir for start, a stale
# pidfile naming a live stranger without a group); a FIFO given as the site
# config with -f (read as the caller asked: it blocks until written).
. "$TESTS/lib.sh"

make_site
add_plain_services

# qt ARGS: qmailctl on the test site, bounded.  qf CONF ARGS: another site.
qt() { timeout -k 5 20 "$QMAILCTL" -f "$T/qmailctl.conf" "$@"; }
qf() { _c=$1; shift; timeout -k 5 20 "$QMAILCTL" -f "$_c" "$@"; }
boot=$(cat /proc/sys/kernel/random/boot_id)
# big N CHAR: N bytes of CHAR.
big() { head -c "$1" /dev/zero | tr '\0' "$2"; }
one_line() { test "$(wc -l <"$1")" -eq 1; }
lacks() { ! grep -q "$@"; }
no_pidfile() {
	for _p in "$1"/*.pid; do [ -e "$_p" ] && return 1; done
	return 0
}
refused_port() { ! "$FIXTURES/client" 127.0.0.1 "$1" >/dev/null 2>&1; }
# site NAME [LINES]: $T/NAME.conf, the test site plus LINES (stdin).
site() { { cat "$T/qmailctl.conf"; cat; } >"$T/$1.conf"; }

# --- configuration bytes ------------------------------------------------

{ printf 'description = long\nrun = sleep '; big 1048576 a; echo; } \
	>"$T/services/long"
qt list long >"$T/out" 2>&1
is_rc $? 6 "a service file line of 1 MB: exit 6"
check "... naming FILE:LINE and the bound" grep -q \
	"^qmailctl: fatal: $T/services/long:2: line longer than 65536 bytes\$" "$T/out"
check "... in one line" one_line "$T/out"
rm "$T/services/long"
n=$(($(wc -l <"$T/qmailctl.conf") + 1))
{ printf 'junk = '; big 1048576 j; echo; } | site long
qf "$T/long.conf" status smtp >"$T/out" 2>&1
is_rc $? 6 "a site config line of 1 MB: exit 6"
check "... naming FILE:LINE" grep -q "long.conf:$n: line longer than" "$T/out"

printf 'run = sleep 1\000 0\n' >"$T/services/nul"
qt -n start nul >"$T/out" 2>&1
is_rc $? 6 "a NUL byte in a service file: exit 6"
check "... naming FILE:LINE" grep -q "services/nul:1: NUL byte" "$T/out"
rm "$T/services/nul"
printf 'x = a\000b\n' | site nul
qf "$T/nul.conf" status smtp >"$T/out" 2>&1
is_rc $? 6 "a NUL byte in the site config: exit 6"
check "... naming FILE:LINE" grep -q "nul.conf:$n: NUL byte" "$T/out"

# Not UTF-8: accepted as bytes, shown escaped (\xNN, as every byte that
# is not printable ASCII: the one escaper, msg.h), passed on unchanged.
word=$(printf 'x\377\303y')
printf 'description = caf\303\251 \377\376\nrun = echo %s\n' "$word" \
	>"$T/services/bytes"
qt -n start bytes >"$T/out" 2>&1
is_rc $? 0 "a value that is not UTF-8 is accepted (-n exits 0)"
check "... and -n shows the word's bytes, escaped" grep -qxF 'bytes: run: echo "x\xff\xc3y"' "$T/out"
qt list bytes >"$T/out" 2>&1
check "... list shows the description's bytes, escaped" grep -qF \
	'caf\xc3\xa9 \xff\xfe' "$T/out"
cat >"$T/services/bytes" <<SVC
run = sh -c "printf %s \\"\\\$1\\" >\${T}/argv; exec sleep 1000" - $word
probe = none
settle = 50
SVC
qt start bytes >"$T/out" 2>&1
is_rc $? 0 "a service whose argv is not UTF-8 starts"
check "... and its program got the bytes unchanged" \
	test "$(cat "$T/argv" 2>/dev/null)" = "$word"
qt stop bytes >/dev/null 2>&1
rm "$T/services/bytes"

# A control character in what a message quotes is shown escaped.
printf 'run = sleep 1\nr\033[2Jnu = x\n' >"$T/services/esc"
qt list esc >"$T/out" 2>&1
is_rc $? 6 "an escape sequence in a key: exit 6"
check "... shown escaped (\\x1b, the one escaper's form) in the message" \
	grep -qF "services/esc:2: unknown key 'r\\x1b[2Jnu'" "$T/out"
check "... with no raw ESC" lacks "$(printf '\033')" "$T/out"
rm "$T/services/esc"

# --- ${...} ---------------------------------------------------------------

printf 'a = ${b}\nb = ${a}\n' | site mutual
qf "$T/mutual.conf" status smtp >"$T/out" 2>&1
is_rc $? 6 "a = \${b}, b = \${a}: exit 6"
check "... b is not defined yet on a's line" grep -q \
	"mutual.conf:$n: undefined variable 'b'" "$T/out"
printf 'a = ${a}\n' | site self
qf "$T/self.conf" status smtp >"$T/out" 2>&1
is_rc $? 6 "a = \${a}: exit 6 (undefined)"
for v in '${${x}}' '${x' '${' '${}' 'a${uid:${x}}'; do
	printf 'run = echo %s\n' "$v" >"$T/services/dollar"
	qt -n start dollar >"$T/out" 2>&1
	rc=$?
	is_rc $rc 6 "run = echo $v: exit 6"
	[ "$rc" = 6 ] || sed 's/^/# /' "$T/out"
	check "... naming FILE:LINE" grep -q "services/dollar:1: " "$T/out"
done
# A value is inserted as it is, never expanded again.
printf 'lit = \\${smtp_port}\n' | site lit
printf 'run = echo ${lit}\n' >"$T/services/dollar"
qf "$T/lit.conf" -n start dollar >"$T/out" 2>&1
is_rc $? 0 "a value holding \${smtp_port} is inserted literally"
check "... -n shows the literal word" grep -qxF 'dollar: run: echo "\${smtp_port}"' "$T/out"
rm "$T/services/dollar"
# Expansion that doubles a value per line: 20 lines would be 16 MB a
# value, 40 a terabyte.  Refused at the first value over 64 KB.
{
	echo 'x0 = 0123456789abcdef'
	i=1
	while [ "$i" -le 20 ]; do
		echo "x$i = \${x$((i - 1))}\${x$((i - 1))}"
		i=$((i + 1))
	done
} | site doubling
qf "$T/doubling.conf" status smtp >"$T/out" 2>&1
is_rc $? 6 "a value doubled line after line: exit 6"
check "... at the first value over 64 KB" grep -q \
	"doubling.conf:$((n + 13)): longer than 65536 bytes once expanded" "$T/out"

# --- service names on the command line --------------------------------

printf 'run = touch %s/pwned\nprobe = none\n' "$T" >"$T/evil"
for name in ../evil ../services/smtp a/b .. . '' smtp/ /etc/passwd \
    "$(printf 'a\nb')"; do
	shown=$(printf '%s' "$name" | tr '\n' '?')
	qt start "$name" >"$T/out" 2>&1
	is_rc $? 2 "start '$shown': exit 2"
	check "... in one line" one_line "$T/out"
	check "... saying it is unknown" grep -q "unknown service" "$T/out"
done
check "... and nothing was started" no_pidfile "$T/run"
check "... nor run" test ! -e "$T/pwned"

# --- odd files in the service directory -------------------------------

long=$(big 65 a)
for f in ..x .hidden 'smtp~' smtp.dist 'sp ace' "$(printf 'new\nline')" \
    "$(printf 'esc\033')" "$long"; do
	printf 'run = touch %s/pwned\n' "$T" >"$T/services/$f"
done
mkfifo "$T/services/fifo1"
mkdir "$T/services/dir1"
ln -s "$T/nowhere" "$T/services/dangle"
qt list >"$T/out" 2>&1
is_rc $? 0 "list with odd files in the service directory exits 0"
check "... and shows only the real services" \
	test "$(grep -v '^	' "$T/out" | cut -f1 | tr '\n' ' ')" = "pop3 smtp "
for f in ..x .hidden 'smtp~' smtp.dist 'sp ace' "$long" fifo1 dir1 dangle; do
	qt start "$f" >"$T/out" 2>&1
	is_rc $? 2 "start '$f' (in the service directory, not a service): exit 2"
done
check "... none of them was run" test ! -e "$T/pwned"
for f in ..x .hidden 'smtp~' smtp.dist 'sp ace' "$(printf 'new\nline')" \
    "$(printf 'esc\033')" "$long" fifo1 dir1 dangle; do
	rm -rf "$T/services/$f"
done

# --- 10,000 services ----------------------------------------------------

mkdir -p "$T/big/services"
printf 'services = services\nrundir = run\ndefault = s00000\n' >"$T/big/qmailctl.conf"
awk -v dir="$T/big/services" 'BEGIN {
	for (i = 0; i < 10000; i++) {
		f = sprintf("%s/s%05d", dir, i)
		printf "description = service %d\nrun = sleep 1000\n", i >f
		printf "probe = none\nsettle = 50\n" >f
		close(f)
	}
}'
qb() { timeout -k 5 60 "$QMAILCTL" -f "$T/big/qmailctl.conf" "$@"; }
t0=$(date +%s)
qb list >"$T/out" 2>&1
is_rc $? 0 "list of 10,000 services exits 0"
check "... and lists 10,000" test "$(grep -vc '^	' "$T/out")" = 10000
note "list of 10,000 took $(($(date +%s) - t0)) s"
qb status >"$T/out" 2>&1
is_rc $? 3 "status of the default set among 10,000: exit 3 (stopped)"
# shellcheck disable=SC2046 # one word per service name, on purpose
qb status $(ls "$T/big/services") >"$T/out" 2>&1
is_rc $? 3 "status of all 10,000 by name: exit 3"
check "... one line each" test "$(grep -c ': stopped$' "$T/out")" = 10000
qb -n start s09999 >"$T/out" 2>&1
is_rc $? 0 "-n start of one of 10,000: exit 0"
check "... shows its argv" grep -qx 's09999: run: sleep 1000' "$T/out"
qb start s05000 >"$T/out" 2>&1
is_rc $? 0 "start of one of 10,000: exit 0"
qb status s05000 >/dev/null 2>&1
is_rc $? 0 "... it runs"
qb stop s05000 >/dev/null 2>&1
is_rc $? 0 "... and stops"
rm -rf "$T/big/services"

# --- rundirs that are not ours (core_faults.sh: start with a symlinked
# or a 0777 rundir) ------------------------------------------------------

sed "s|^rundir = run\$|rundir = rd|" "$T/qmailctl.conf" >"$T/rd.conf"
rd=$T/rd
try_rundir() {  # DESCRIPTION EXPECTED-EXIT PATTERN COMMAND
	_d=$1 _want=$2 _pat=$3; shift 3
	qf "$T/rd.conf" "$@" >"$T/out" 2>&1
	is_rc $? "$_want" "$_d: $* exits $_want"
	check "... saying why" grep -q "$_pat" "$T/out"
	check "... and nothing was started" refused_port "$smtp_port"
}
mkdir "$T/elsewhere2"
ln -s "$T/elsewhere2" "$rd"
for cmd in stop zap restart; do
	try_rundir "a symlinked rundir" 1 "refusing $rd: not a directory" "$cmd" smtp
done
check "... nothing was written where it points" test -z "$(ls "$T/elsewhere2")"
rm "$rd"
for mode in 0775 1777 0757; do
	mkdir "$rd" && chmod "$mode" "$rd"
	try_rundir "a rundir of mode $mode" 4 "refusing $rd: writable by" start smtp
	rmdir "$rd"
done
mkdir -m 0755 "$rd"
if chown nobody "$rd" 2>/dev/null; then
	try_rundir "a rundir owned by nobody" 4 "refusing $rd" start smtp
else
	skip "a rundir owned by another user (chown failed)"
fi
rmdir "$rd"
touch "$rd"
try_rundir "a rundir that is a file" 1 "not a directory" start smtp
rm "$rd"
mkdir -m 0755 "$rd"
ln -s "$T/lock-target" "$rd/smtp.lock"
try_rundir "a lock file that is a symlink" 1 "unable to lock" start smtp
check "... and its target was not created" test ! -e "$T/lock-target"
rm -rf "$rd"

# --- pidfiles that are not pidfiles ---------------------------------------

add_service pf <<'SVC'
run = sleep 1000
probe = none
settle = 50
stop_timeout = 5
SVC
mkdir -p "$T/run"
sleep 1000 &
innocent=$!
track_pid "$innocent"
printf '%s\nstart %s\nboot %s\n' "$innocent" "$(stat_field "$innocent" 22)" \
	"$boot" >"$T/innocent.pid"
cp "$T/innocent.pid" "$T/innocent.pid.orig"
pf=$T/run/pf.pid
for kind in fifo directory huge garbage device symlink; do
	rm -rf "$pf"
	case $kind in
	fifo) mkfifo "$pf" ;;
	directory) mkdir "$pf" ;;
	huge) { echo "$innocent"; big 1048576 1; } >"$pf" ;;
	garbage) printf 'hello\001\377 %s\n' "$innocent" >"$pf" ;;
	device) mknod "$pf" c 1 3 2>/dev/null || { skip "a device pidfile (mknod failed)"; continue; } ;;
	symlink) ln -s "$T/innocent.pid" "$pf" ;;
	esac
	qt status pf >"$T/out" 2>&1
	is_rc $? 4 "a pidfile that is a $kind: status exits 4 (unknown)"
	check "... saying it is not a pidfile" grep -q "is not a pidfile" "$T/out"
	qt stop pf >"$T/out" 2>&1
	is_rc $? 0 "... stop exits 0 at once (nothing recorded)"
	check "... and signals nothing" alive "$innocent"
	qt start pf >"$T/out" 2>&1
	rc=$?
	if [ "$kind" = directory ]; then
		is_rc $rc 1 "... start refuses: it cannot write its pidfile"
		check "... saying so" grep -q "Is a directory" "$T/out"
	else
		is_rc $rc 0 "... start proceeds"
		check "... with a regular pidfile" test -f "$pf" -a ! -L "$pf"
		check "... that names the new server" same_process "$pf"
		qt stop pf >/dev/null 2>&1
	fi
done
check "the pidfile a symlink pointed to is untouched" \
	cmp -s "$T/innocent.pid" "$T/innocent.pid.orig"
check "the process it names is alive" alive "$innocent"
rm -rf "$pf"

# --- pids that must never be signalled ------------------------------------

# strace, where there is one, shows that qmailctl never even opens pid 1.
# (LeakSanitizer cannot run under ptrace: off for that call in ASan builds.)
if command -v strace >/dev/null 2>&1; then
	st() {
		ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0 \
			strace -f -qq -e trace=kill,pidfd_open,pidfd_send_signal \
			-o "$T/strace" "$@"
	}
else
	st() { "$@"; }
fi
printf '1\nstart %s\nboot %s\n' "$(stat_field 1 22)" "$boot" >"$pf"
qt status pf >"$T/out" 2>&1
rc=$?
check "a pidfile naming pid 1 (its true start time): status is not 0" test "$rc" != 0
check "... nor says running" lacks running "$T/out"
st timeout -k 5 20 "$QMAILCTL" -f "$T/qmailctl.conf" stop pf >"$T/out" 2>&1
is_rc $? 0 "... stop exits 0"
sed 's/^/# /' "$T/out"
check "... saying it leaves pid 1 alone" grep -Eq "pid 1 .*(left alone|never|refus)" "$T/out"
if [ -f "$T/strace" ]; then
	check "... never opening or signalling pid 1" \
		lacks -E 'pidfd_open\(1,|kill\(-?1,' "$T/strace"
else
	skip "no strace: not watching the system calls"
fi
printf '1\nstart %s\nboot %s\n' "$(stat_field 1 22)" "$boot" >"$pf"
qt start pf >"$T/out" 2>&1
is_rc $? 0 "... start over it proceeds"
check "... under a pid of its own" test "$(head -n 1 "$pf")" != 1
qt stop pf >/dev/null 2>&1

# qmailctl's own pid, with its true start time: the shell writes its own
# identity, then execs qmailctl, which keeps both.
cat >"$T/self.sh" <<'EOF'
printf '%s\nstart %s\nboot %s\n' $$ \
	"$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)" \
	"$(cat /proc/sys/kernel/random/boot_id)" >"$1"
shift
exec "$@"
EOF
for cmd in stop start; do
	timeout -k 5 20 sh "$T/self.sh" "$pf" "$QMAILCTL" -f "$T/qmailctl.conf" \
		"$cmd" pf >"$T/out" 2>&1
	rc=$?
	sed 's/^/# /' "$T/out"
	is_rc $rc 0 "a pidfile naming qmailctl itself: $cmd exits 0 (not killed by its own worker)"
	case $cmd in
	stop) check "... leaving it alone" grep -Eq "left alone|never|refus" "$T/out" ;;
	start) check "... and starts the service" grep -q "pf: started" "$T/out" ;;
	esac
done
qt stop pf >/dev/null 2>&1

# The shell that runs qmailctl, with its true start time: it is qmailctl's
# caller, never a service qmailctl started.
cat >"$T/caller.sh" <<'EOF'
trap 'echo TERM >>"$2.got"' TERM
printf '%s\nstart %s\nboot %s\n' $$ \
	"$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)" \
	"$(cat /proc/sys/kernel/random/boot_id)" >"$1"
"$QMAILCTL" -f "$2" -t 2 stop pf
EOF
QMAILCTL=$QMAILCTL timeout -k 5 20 sh "$T/caller.sh" "$pf" "$T/qmailctl.conf" \
	>"$T/out" 2>&1
rc=$?
sed 's/^/# /' "$T/out"
is_rc $rc 0 "a pidfile naming qmailctl's calling shell: stop exits 0"
check "... and the shell got no signal" test ! -e "$T/qmailctl.conf.got"
rm -f "$pf"

# A stale record whose process group is now a stranger's.  The kernel
# reuses a pid only when no process has it as its pid, process group or
# session, so once the recorded leader's pid is someone else's, every
# process in a group of that number is someone else's too.  Without a
# cgroup (cgroup = no), stop and zap must not touch that group.
echo 'cgroup = no' | site nocg
add_service orphan <<'SVC'
run = sleep 1000
log = sh -c "cat >/dev/null; exec sleep 1000"
probe = none
settle = 50
stop_timeout = 2
zap_grace = 100
SVC
qf "$T/nocg.conf" start orphan >"$T/out" 2>&1
is_rc $? 0 "orphan (cgroup = no) starts"
server=$(pid_of orphan)
kill -KILL "$server"
wait_for 5 gone "$server"
leads_session() { [ "$(stat_field "$1" 6 2>/dev/null)" = "$1" ]; }
# stranger: a new session leader; orphan's pidfile now names it as a
# stale leader (start 1 is not its start time) with its group and session.
stranger() {
	setsid sleep 1000 &
	stranger=$!
	track_pid "$stranger"
	wait_for 5 leads_session "$stranger" || return 1
	[ "$(stat_field "$stranger" 5)" = "$stranger" ] || return 1
	printf '%s\nstart 1\nboot %s\npgid %s\nsid %s\n' "$stranger" "$boot" \
		"$stranger" "$stranger" >"$T/run/orphan.pid"
}
if stranger; then
	qf "$T/nocg.conf" stop orphan >"$T/out" 2>&1
	sed 's/^/# /' "$T/out"
	check "stop with a stale leader leaves the group now of its pid alone" \
		alive "$stranger"
else
	skip "setsid did not make a session leader here"
fi
if stranger; then
	qf "$T/nocg.conf" zap orphan >"$T/out" 2>&1
	is_rc $? 0 "zap with a stale leader exits 0 (it ends the logger)"
	sed 's/^/# /' "$T/out"
	check "... and leaves the group now of its pid alone" alive "$stranger"
else
	skip "setsid did not make a session leader here"
	skip "..."
fi
# A record from another boot (a rundir that is not on a tmpfs): none of
# its numbers means anything now, whatever start times say.  Its leader's
# pid is free here, and it names the stranger's group and session, with
# the stranger's own start time.
qf "$T/nocg.conf" start orphan >/dev/null 2>&1
server=$(pid_of orphan)
kill -KILL "$server"
wait_for 5 gone "$server"
if stranger; then
	free=4194000
	while [ -e "/proc/$free" ] && [ "$free" -gt 4193000 ]; do
		free=$((free - 1))
	done
	printf '%s\nstart %s\nboot 00000000-0000-0000-0000-000000000000\npgid %s\nsid %s\n' \
		"$free" "$(stat_field "$stranger" 22)" "$stranger" "$stranger" \
		>"$T/run/orphan.pid"
	qf "$T/nocg.conf" stop orphan >"$T/out" 2>&1
	sed 's/^/# /' "$T/out"
	check "stop with a record of another boot leaves the group of its numbers alone" \
		alive "$stranger"
else
	skip "setsid did not make a session leader here"
fi
qf "$T/nocg.conf" zap orphan >/dev/null 2>&1
rm "$T/services/orphan"

# --- probe peers that babble or say nothing -------------------------------

port=$(free_port)
for mode in flood drip mute lines; do
	if [ "$mode" = lines ]; then
		probe="smtp-starttls 127.0.0.1 $port"
	else
		probe="tcp 127.0.0.1 $port 220"
	fi
	printf 'run = %s/babbler %s %s 30\nprobe = %s\nstart_timeout = 4\n' \
		"$FIXTURES" "$mode" "$port" "$probe" >"$T/services/b$mode"
done
babble() {      # MODE EXPECTED-MESSAGE; start_timeout is 4 s
	t0=$(date +%s)
	qt start "b$1" >"$T/out" 2>&1
	rc=$?
	took=$(($(date +%s) - t0))
	sed 's/^/# /' "$T/out"
	is_rc $rc 1 "a peer that does '$1': start fails"
	check "... within start_timeout (4 s; took $took s)" test "$took" -le 14
	check "... saying why" grep -q "b$1: failed: not ready after .*$2" "$T/out"
	check "... and leaves nothing" no_pidfile "$T/run"
	check "... the peer is gone" refused_port "$port"
}
babble flood "greeting longer than 1024 bytes"
babble drip "timed out after .* waiting for greeting"
babble mute "timed out after .* waiting for greeting"
babble lines "reply to EHLO longer than 100 lines"
t0=$(date +%s)
qt -t 1 start bmute >"$T/out" 2>&1
is_rc $? 1 "-t 1 bounds a start whose peer says nothing"
check "... (took $(($(date +%s) - t0)) s)" test "$(($(date +%s) - t0))" -le 8
rm "$T/services/bflood" "$T/services/bdrip" "$T/services/bmute" "$T/services/blines"

# The sites' cgroups (CGROOT/qmailctl/RUNDIR_MANGLED/NAME, see cgroup.h)
# are empty now; rmdir removes only an empty cgroup.
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
for rundir in "$T/run" "$T/big/run"; do
	d=$cgroot/qmailctl/$(printf '%s' "$rundir" | tr / _)
	[ -n "$cgroot" ] && [ -d "$d" ] || continue
	for c in "$d"/*/; do [ -d "$c" ] && rmdir "$c" 2>/dev/null; done
	rmdir "$d" 2>/dev/null
done

done_testing
