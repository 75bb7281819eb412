#!/bin/sh
# redteam: a hostile local user and a careless administrator against
# root's qmailctl (issue 18).  Each section plays one class of attack and
# fails on a qmailctl that falls for it:
#
#   1. the rundir swapped through a parent that a user owns, while stop
#      waits for the service lock: a forged pidfile naming an innocent
#      process; status and check read through a user-writable parent
#   2. two sites whose rundirs map to one cgroup (X/a_b and X/a/b), and a
#      trailing slash that moves a site to another cgroup
#   3. a lock held by something that is not qmailctl, blamed on qmailctl;
#      lock files of removed services never removed
#   4. control bytes in config values and file names, shown by -n and list
#   5. a log directory of the logger's user, whose current becomes a
#      symlink to a file only root may read, a FIFO, or a FIFO with the
#      user's words in it, when a failing start quotes the log
#   6. a rules directory of the user's, with symlinks to a file of root's
#      planted at every temporary name tcprules might be handed
#   7. ESC, BEL and NUL in a server's greeting and log lines, shown by
#      check and by a failing start
#
# The hostile user is nobody (setpriv): it plants, root's qmailctl is the
# victim.  Without nobody those parts skip.
. "$TESTS/lib.sh"

make_site
ESC=$(printf '\033')
BEL=$(printf '\007')

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
have_nobody() { id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null && as_nobody true 2>/dev/null; }

# site_conf NAME RUNDIR: a site config $T/NAME.conf, the same services,
# rundir RUNDIR.
site_conf() {
	sed "s|^rundir = run\$|rundir = $2|" "$T/qmailctl.conf" >"$T/$1.conf"
}
qf() { _c=$1; shift; "$QMAILCTL" -f "$T/$_c.conf" "$@"; }

add_service victim <<'SVC'
run = sleep 1000
probe = none
settle = 10
stop_timeout = 2
SVC

# lock_holder FILE: a process that is not qmailctl holds flock(FILE); its
# pid in $holder (the shell execs sleep, which keeps the locked fd).
lock_holder() {
	sh -c 'exec 9>"$1" && flock 9 && exec sleep 60' sh "$1" &
	holder=$!
	track_pid "$holder"
	wait_for 5 grep -q "FLOCK .* $holder " /proc/locks
}
# opened_by_other FILE PID: a process other than PID has FILE open.
opened_by_other() {
	for _fd in /proc/[0-9]*/fd/*; do
		case $_fd in "/proc/$2/"*) continue ;; esac
		[ "$(readlink "$_fd" 2>/dev/null)" = "$1" ] && return 0
	done
	return 1
}

# innocent_forged DIR: starts an innocent process of root's that qmailctl
# never started ($innocent) and forges DIR/victim.pid naming it, with its
# real start time and boot id (world-readable).
innocent_forged() {
	sleep 300 &
	innocent=$!
	track_pid "$innocent"
	mkdir -p "$1"
	printf '%s\nstart %s\nboot %s\n' "$innocent" "$(stat_field "$innocent" 22)" \
		"$(cat /proc/sys/kernel/random/boot_id)" >"$1/victim.pid"
}
# stop_behind_lock SITE RUNDIR: a holder takes RUNDIR/victim.lock, then
# `stop victim` of SITE runs in the background ($stopper, output in
# $T/out) until it waits for the lock, or has ended already.
stop_behind_lock() {
	lock_holder "$2/victim.lock"
	qf "$1" -t 10 stop victim >"$T/out" 2>&1 &
	stopper=$!
	track_pid "$stopper"
	_lock=$2/victim.lock
	wait_for 10 waits_or_done
}
waits_or_done() { ! kill -0 "$stopper" 2>/dev/null || opened_by_other "$_lock" "$holder"; }

# --- 1. the rundir swapped through a user-owned parent ------------------

chmod 0755 "$T"
if have_nobody; then
	mkdir -p "$T/nob/run"
	innocent_forged "$T/forged"
	chown -R nobody "$T/nob" "$T/forged"
	chown root "$T/nob/run"
	site_conf nob "$T/nob/run"
	stop_behind_lock nob "$T/nob/run"
	as_nobody sh -c "mv '$T/nob/run' '$T/nob/run.old' && ln -s '$T/forged' '$T/nob/run'"
	check "the user swapped the rundir for a symlink to forged pidfiles" test -L "$T/nob/run"
	kill -KILL "$holder"
	wait "$stopper"
	rc=$?
	sed 's/^/# /' "$T/out"
	check "stop refuses (exit $rc)" test "$rc" != 0
	check "... saying why" grep -q "refusing $T/nob/run" "$T/out"
	check "... and never says stopped" sh -c "! grep -q stopped '$T/out'"
	check "the innocent process survives" alive "$innocent"

	# status and check read the same forged files: they refuse too.
	qf nob status victim >"$T/out" 2>&1
	is_rc $? 4 "status refuses a rundir whose parent a user owns (exit 4)"
	check "... saying why" grep -q "refusing $T/nob/run: $T/nob above it is owned by uid" "$T/out"
	check "... and never says running" sh -c "! grep -q running '$T/out'"
	qf nob check victim >"$T/out" 2>&1
	is_rc $? 3 "check refuses it (UNKNOWN, exit 3)"
	check "... in the plugin's form" grep -q "^QMAILCTL UNKNOWN - qmailctl: refusing $T/nob/run" "$T/out"
	kill -KILL "$innocent"
else
	skip "no user nobody to play the hostile user"
fi

# Past the check, the rundir is held open: even a swap that only root
# could make (simulated here) while stop waits is never seen, because
# every pidfile is opened relative to the descriptor, not by path.
mkdir -p "$T/held/run"
innocent_forged "$T/forged2"
site_conf held "$T/held/run"
stop_behind_lock held "$T/held/run"
check "stop waits for the lock" alive "$stopper"
mv "$T/held/run" "$T/held/run.old" && ln -s "$T/forged2" "$T/held/run"
kill -KILL "$holder"
wait "$stopper"
rc=$?
sed 's/^/# /' "$T/out"
check "stop after a swap during its lock wait reads the rundir it checked (exit $rc)" \
	grep -q "^victim: not running$" "$T/out"
check "... and the innocent process named by the swapped-in pidfile survives" alive "$innocent"
kill -KILL "$innocent"

# A parent writable by others (root's, not sticky) is as bad; a sticky
# one of root's (as /tmp) is fine.
mkdir -p "$T/ww/run" && chmod 0777 "$T/ww"
site_conf ww "$T/ww/run"
qf ww status victim >"$T/out" 2>&1
is_rc $? 4 "status refuses a rundir below a mode 0777 directory"
check "... saying why" grep -q "$T/ww above it is writable by group or others (mode 0777)" "$T/out"
qf ww start victim >"$T/out" 2>&1
is_rc $? 4 "start refuses it too (exit 4)"
mkdir -p "$T/sticky/run" && chmod 1777 "$T/sticky"
site_conf sticky "$T/sticky/run"
qf sticky status victim >"$T/out" 2>&1
is_rc $? 3 "a rundir below a sticky directory of root's is accepted (status 3)"
site_conf none "$T/none/run"
qf none status victim >"$T/out" 2>&1
is_rc $? 3 "a rundir whose parent does not exist: nothing runs (status 3)"

# --- 2. two sites, one cgroup --------------------------------------------

cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -n "$cgroot" ] && [ -w "$cgroot" ]; then
	mkdir -p "$T/x/a/b" "$T/x/a_b"
	site_conf ab "$T/x/a_b"
	site_conf a_b "$T/x/a/b"
	site_conf slash "$T/x/a_b/"
	qf ab start victim >"$T/out" 2>&1
	is_rc $? 0 "site X/a_b starts its service"
	qf a_b start victim >"$T/out" 2>&1
	is_rc $? 0 "site X/a/b starts the same service beside it (its own cgroup)"
	sed 's/^/# /' "$T/out"
	a=$(qf ab status --json victim | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
	b=$(qf a_b status --json victim | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
	note "cgroups: $a, $b"
	check "... the two cgroups differ" test -n "$a" -a -n "$b" -a "$a" != "$b"
	s=$(qf slash status --json victim | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
	check "rundir X/a_b/ (trailing slash) is the same site, the same cgroup" test "$s" = "$a"
	pb=$(head -n 1 "$T/x/a/b/victim.pid")
	qf ab zap victim >/dev/null 2>&1
	is_rc $? 0 "zap of site X/a_b"
	check "... leaves site X/a/b's service alone" alive "$pb"
	qf a_b stop victim >/dev/null 2>&1
	is_rc $? 0 "... which stops by itself"
else
	skip "cgroup v2 is not mounted writable here"
fi

# --- 3. locks ------------------------------------------------------------

# A lock held by a program that is not qmailctl is named, with what we
# waited (not "held for").
mkdir -p "$T/run"
lock_holder "$T/run/victim.lock"
q -t 0.3 start victim >"$T/out" 2>&1
is_rc $? 1 "start while another program holds the lock: exit 1"
sed 's/^/# /' "$T/out"
check "... names the holder (sleep $holder) and says it is not qmailctl" \
	grep -q "^victim: failed: $T/run/victim.lock is held by sleep (pid $holder), not by a qmailctl (waited [0-9]* ms)$" "$T/out"
kill -KILL "$holder"

# A qmailctl that holds it is named as one, with its pid.
add_service stubborn <<'SVC'
run = sh -c "trap '' TERM; while :; do sleep 1; done"
probe = none
settle = 10
stop_timeout = 3
SVC
q start stubborn >/dev/null 2>&1
q stop stubborn >/dev/null 2>&1 &
stopper=$!
track_pid "$stopper"
lock_taken() { ! flock -n "$1" true; }
wait_for 5 lock_taken "$T/run/stubborn.lock"
q -t 0.3 start stubborn >"$T/out" 2>&1
is_rc $? 1 "start while a stop holds the lock: exit 1"
check "... names the other qmailctl and its pid" \
	grep -q "^stubborn: failed: another qmailctl is acting on stubborn (pid [0-9]* holds $T/run/stubborn.lock; waited [0-9]* ms)$" "$T/out"
wait "$stopper"
q zap stubborn >/dev/null 2>&1
rm "$T/services/stubborn"

# The lock file of a service whose file is gone is removed by the next
# command that acts, unless someone holds it.
: >"$T/run/gone.lock"
: >"$T/run/held.lock"
lock_holder "$T/run/held.lock"
q stop victim >/dev/null 2>&1
check "a removed service's lock file is removed" test ! -e "$T/run/gone.lock"
check "... unless it is held" test -e "$T/run/held.lock"
check "... and a live service's lock stays" test -e "$T/run/victim.lock"
kill -KILL "$holder"

# --- 4. control bytes ----------------------------------------------------

# Config values and file names reach the terminal only escaped.
add_service ctl <<SVC
description = rings${BEL} and clears${ESC}[2J
run = sleep "1000${ESC}]0;title${BEL}"
directory = /tmp/${ESC}[31mred
probe = none
SVC
q -n start ctl >"$T/out" 2>&1
check "-n shows a service with control bytes in its values" grep -q 'would \(not \)\{0,1\}start' "$T/out"
check "... none of them raw" sh -c "! grep -q '[$ESC$BEL]' '$T/out'"
check "... the argv escaped" grep -q '^ctl: run: sleep "1000\\x1b\]0;title\\x07"$' "$T/out"
check "... the directory escaped" grep -q '^ctl: run: directory /tmp/\\x1b\[31mred, ' "$T/out"
q list ctl >"$T/out" 2>&1
check "list shows them escaped too" grep -q 'rings\\x07 and clears\\x1b\[2J' "$T/out"
check "... none raw" sh -c "! grep -q '[$ESC$BEL]' '$T/out'"
rm "$T/services/ctl"
# A program whose file name holds control bytes: status names it escaped.
ln -s "$(command -v sleep)" "$T/sl${ESC}[2Jeep"
add_service ctlprog <<SVC
run = \${T}/sl${ESC}[2Jeep 1000
probe = none
settle = 10
SVC
q start ctlprog >"$T/out" 2>&1
is_rc $? 0 "a program with control bytes in its file name starts"
q status ctlprog >"$T/out" 2>&1
check "... status names it escaped" grep -q '^ctlprog: up (sl\\x1b\[2Jeep [0-9]* up ' "$T/out"
check "... never raw" sh -c "! grep -q '[$ESC]' '$T/out'"
q stop ctlprog >/dev/null 2>&1
rm "$T/services/ctlprog"
# A service name from the command line that is no file: named, escaped.
q status "no${ESC}[2Jsuch" >"$T/out" 2>&1
is_rc $? 2 "an unknown service name with control bytes: exit 2"
check "... named escaped" grep -q "unknown service 'no\\\\x1b\[2Jsuch'" "$T/out"
check "... never raw" sh -c "! grep -q '[$ESC]' '$T/out'"

# --- 5. the log directory is the logger's user's ------------------------

# multilog runs as its own account (qmaill; here nobody), which owns the
# log directory, so that account may put anything at current.  Here the
# logger is the hostile user's own: as it starts (after qmailctl noted
# where current stood), it replaces current with what $T/plant says: a
# symlink to a file of root's that only root may read, a FIFO, or a FIFO
# that another process of the user's holds open with words of its own in
# it; then it reads its input away.  The server fails once the plant is there,
# and the failing start quotes the log.
# Guards multilog.c's open_current(): without O_NOFOLLOW root prints the
# secret's last line, without O_NONBLOCK it hangs opening the FIFO (no
# writer), without its fstat (a regular file) it quotes the planted words
# as the server's.
# Not tested: a hard link to root's file (fs.protected_hardlinks = 1 on
# Debian forbids the user to make one).
if have_nobody; then
	mkdir -p "$T/bin" "$T/log/red"
	chown nobody "$T/log/red"
	printf 'root:$6$redteam-secret:19000:0:99999:7:::\n' >"$T/secret"
	chmod 600 "$T/secret"
	cat >"$T/bin/multilog" <<EOF
#!/bin/sh
# the hostile user's logger: plants current, then reads its input away
cd "\$2" || exit 111
rm -f current
case \$(cat "$T/plant") in
link) ln -s "$T/secret" current ;;
fifo) mkfifo current ;;
words) mv .fifo current ;;
esac
exec cat >/dev/null
EOF
	cat >"$T/bin/leaver" <<'EOF'
#!/bin/sh
# a server that fails once the logger has planted $1 (2 s at most)
n=0
while [ ! -L "$1" ] && [ ! -p "$1" ] && [ "$n" -lt 200 ]; do
	n=$((n + 1)); sleep 0.01
done
echo "red is leaving" >&2
exit 3
EOF
	chmod 755 "$T/bin/multilog" "$T/bin/leaver"
	# end_lock_holders FILE: a hung start's worker (it left timeout's
	# group with setsid) is found by the lock it holds, ended by its group.
	end_lock_holders() {
		_ino=$(stat -c %i "$1") || return
		for _p in $(awk -v i=":$_ino" 'substr($6, length($6) - length(i) + 1) == i { print $5 }' /proc/locks); do
			kill -KILL "-$_p" 2>/dev/null
		done
	}
	add_service red <<'SVC'
run = ${T}/bin/leaver ${T}/log/red/current
log = setuidgid nobody ${T}/bin/multilog t ${T}/log/red
probe = none
settle = 3000
SVC
	for plant in link fifo words; do
		echo "$plant" >"$T/plant"
		case $plant in
		link) what="a symlink to root's secret" ;;
		fifo) what="a FIFO" ;;
		words) what="a FIFO holding its own words"
			as_nobody sh -c 'cd "$1" && mkfifo .fifo && exec 3<>.fifo &&
				echo "planted words" >&3 && exec sleep 60' sh "$T/log/red" &
			words=$!
			track_pid "$words"
			wait_for 5 grep -q '^sleep$' "/proc/$words/comm" ;;
		esac
		timeout -k 2 20 "$QMAILCTL" -f "$T/qmailctl.conf" start red >"$T/out" 2>&1
		rc=$?
		[ "$rc" = 124 ] && end_lock_holders "$T/run/red.lock"
		sed 's/^/# /' "$T/out"
		check "the log user planted current as $what: start does not hang" test "$rc" != 124
		is_rc "$rc" 1 "... it reports the server's failure (exit 1)"
		check "... saying so" grep -q "^red: failed: " "$T/out"
		case $plant in
		link) check "... the log user did plant the link" test -L "$T/log/red/current" ;;
		*) check "... the log user did plant the FIFO" test -p "$T/log/red/current" ;;
		esac
		check "... root quotes nothing from it" sh -c "! grep -q '(log:' '$T/out'"
		check "... neither the user's words" sh -c "! grep -q 'planted words' '$T/out'"
		check "... and never root's secret" sh -c "! grep -q redteam-secret '$T/out'"
	done
	kill -KILL "$words"
	rm "$T/services/red"
else
	skip "no user nobody to play the log user"
fi

# --- 6. a planted temporary name in the rules directory -----------------

# A rules directory of the hostile user's (as vpopmail's would be), mode
# 0755, so qmailctl accepts it.  The user plants symlinks to a file of
# root's at every name tcprules might be handed: FILE.tmp, FILE.cdb.tmp,
# and the names of qmailctl's own temporary file (.FILE.cdb.PID.0.tmp)
# for the next pids.
# Guards cdb.c's make_tmp() (a name of its own, O_EXCL | O_NOFOLLOW): a
# qmailctl that hands tcprules FILE.tmp has root write through the link.
if have_nobody; then
	mkdir -p "$T/hr"
	printf '127.:allow\n:deny\n' >"$T/hr/r.rules"
	chown nobody "$T/hr"
	chmod 0755 "$T/hr"
	echo precious >"$T/victim"
	add_service hr <<'SVC'
run = tcpserver -H -l 0 -R -x ${T}/hr/r.cdb 127.0.0.1 1 ${fixtures}/greeter smtp
SVC
	# perl (Debian's essential perl-base): one process plants them all.
	as_nobody perl -e '
		my ($dir, $victim) = @ARGV;
		open(my $f, "<", "/proc/sys/kernel/ns_last_pid") or die "ns_last_pid: $!";
		my $last = <$f>;
		chomp $last;
		symlink($victim, "$dir/$_") or die "$_: $!"
			for qw(r.tmp r.cdb.tmp .r.cdb.tmp r.rules.tmp);
		symlink($victim, "$dir/.r.cdb.$_.0.tmp") for $last + 1 .. $last + 2000;
	' "$T/hr" "$T/victim"
	check "the user planted FILE.tmp as a symlink to root's file" test -L "$T/hr/r.tmp"
	q -v cdb hr >"$T/out" 2>&1
	is_rc $? 1 "cdb in a rules directory the user owns: refused, exit 1"
	sed 's/^/# /' "$T/out"
	# Its owner could swap even qmailctl's own O_EXCL file for a symlink
	# while tcprules runs (seen: root's file overwritten), so an owner
	# other than root is refused, as for the rundir.
	check "... saying who owns it" grep -q "refusing rules directory $T/hr: owned by uid $(id -u nobody)" "$T/out"
	check "... root's file is untouched" test "$(cat "$T/victim")" = precious
	check "... no database was built" test ! -e "$T/hr/r.cdb"
	check "... the planted links are left as they were" sh -c "test -L '$T/hr/r.tmp' && test -L '$T/hr/.r.cdb.tmp'"
	# The rules source a symlink to a root-only file, in a root-owned
	# directory: tcprules would echo its first line back.
	mkdir -p "$T/hs"
	printf 'root:$6$redteam-secret:19000:0:99999:7:::\n' >"$T/secret-rules"
	chmod 600 "$T/secret-rules"
	ln -s "$T/secret-rules" "$T/hs/r.rules"
	add_service hs <<'SVC'
run = tcpserver -H -l 0 -R -x ${T}/hs/r.cdb 127.0.0.1 1 ${fixtures}/greeter smtp
SVC
	q cdb hs >"$T/out" 2>&1
	is_rc $? 1 "cdb of a rules source that is a symlink: exit 1"
	check "... nothing of the linked file is shown" sh -c "! grep -q 'redteam-secret' '$T/out'"
	rm "$T/services/hs"
	rm "$T/services/hr"
else
	skip "no user nobody to own the rules directory"
fi

# --- 7. control bytes a server sends ------------------------------------

# A server of the test's own behind tcpserver, once per connection: it
# logs an ESC sequence (stderr, to multilog) and greets with a NUL, an
# ESC sequence and a BEL.  check and a failing start show them escaped.
# Guards the probe's greeting kept whole and escaped, NUL included
# (probe.c, item 5: else "greeting ''"), the (log: ...) hint escaped
# (multilog.c's last_line(), item 4), and the one writer (msg.c).
red_port=$(free_port)
echo "red_port = $red_port" >>"$T/qmailctl.conf"
mkdir -p "$T/bin" "$T/log/rude"
printf '#!/bin/sh\nprintf "\\033]0;owned\\007\\033[2J rude was here\\n" >&2\nprintf "\\000\\033[2J\\007 rude\\r\\n"\n' >"$T/bin/rude"
chmod 755 "$T/bin/rude"
add_service rude <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 ${red_port} ${T}/bin/rude
log = multilog t ${T}/log/rude
probe = none
settle = 200
SVC
# no_raw FILE: no raw ESC, BEL or NUL in FILE.
no_raw() { ! grep -q "[$ESC$BEL]" "$1" && tr -d '\000' <"$1" | cmp -s - "$1"; }
q start rude >"$T/out" 2>&1
is_rc $? 0 "a server that greets with control bytes starts (no probe yet)"
sed -i 's/^probe = none$/probe = tcp 127.0.0.1 ${red_port} 220/' "$T/services/rude"
q check rude >"$T/out" 2>&1
is_rc $? 2 "check expecting 220 of it: CRITICAL (exit 2)"
sed 's/^/# /' "$T/out" | tr -d '\000'
check "... the greeting escaped, NUL included" \
	grep -qF "rude: probe 127.0.0.1:$red_port: greeting '\\x00\\x1b[2J\\x07 rude' does not start with '220'" "$T/out"
check "... no raw ESC, BEL or NUL reaches the terminal" no_raw "$T/out"
q stop rude >/dev/null 2>&1
timeout 30 "$QMAILCTL" -f "$T/qmailctl.conf" -t 2 start rude >"$T/out" 2>&1
is_rc $? 1 "start of it, expecting 220: fails (exit 1)"
sed 's/^/# /' "$T/out" | tr -d '\000'
check "... the greeting escaped, NUL included" \
	grep -qF "greeting '\\x00\\x1b[2J\\x07 rude' does not start with '220'" "$T/out"
check "... the server's log line escaped" \
	grep -qF '(log: \x1b]0;owned\x07\x1b[2J rude was here)' "$T/out"
check "... no raw ESC, BEL or NUL reaches the terminal" no_raw "$T/out"

done_testing
