#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# What qmailctl reads of the peer programs, and what they leave for root to
# read: the logger's own error when it fails, the (log: ...) hint (only
# this start's lines, escaped, never through a symlink or a FIFO planted
# in the log directory), tcpserver's -x database and program checked
# before anything is started, and cdb's temporary file in a rules
# directory that someone else could write.
#
# Not tested: a current file owned by the logger's user (multilog runs as
# root here; peers_test covers the owner rule).
. "$TESTS/lib.sh"

make_site
add_plain_services

# --- lines tcpserver or a chain-loader would refuse: found at load ---
add_service badopt <<'SVC'
description = tcpserver would print its usage and exit 100
run = tcpserver -vZ 127.0.0.1 1 true
SVC
q status badopt >"$T/out" 2>&1
is_rc $? 6 "a run line tcpserver would refuse: exit 6 when loaded"
check "... with FILE:LINE and tcpserver's complaint" grep -qx \
	"qmailctl: fatal: $T/services/badopt:2: run: tcpserver: unknown option -Z" "$T/out"
printf 'run = sleep 1\nlog = setuidgid qmaill\n' >"$T/services/badopt"
q status badopt >"$T/out" 2>&1
is_rc $? 6 "a log line whose chain-loader lacks a program: exit 6"
check "... says which line" grep -qx \
	"qmailctl: fatal: $T/services/badopt:2: log: setuidgid: no program to run" "$T/out"
rm "$T/services/badopt"

# --- elements named as what runs, the configured argv with -v ---
mkdir -p "$T/log/named"
add_service named <<'SVC'
run = ${fixtures}/qmail-standin -n 0 -r ${T}/record
log = setuidgid root multilog t ${T}/log/named
probe = none
settle = 20
SVC
q start named >"$T/out" 2>&1
is_rc $? 0 "a stand-in qmail-start behind setuidgid'd multilog starts"
sed 's/^/# /' "$T/out"
check "... the logger named multilog, not setuidgid" grep -Eq "^named: started \((qmail-standin|qmail-send) [0-9]+, multilog [0-9]+\)" "$T/out"
# qmail-start becomes qmail-send, as the stand-in renames itself.
wait_for 5 sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' status named | grep -q '(qmail-send '"
q -v status named >"$T/out" 2>&1
sed 's/^/# /' "$T/out"
check "status names what runs now: qmail-send and multilog" grep -q "^named: up (qmail-send [0-9]* up .*, multilog [0-9]* up " "$T/out"
check "... -v shows the configured argv of each" sh -c "grep -qx 'named: log: setuidgid root multilog t $T/log/named' '$T/out' &&
	grep -qx 'named: run: $FIXTURES/qmail-standin -n 0 -r $T/record' '$T/out'"
q stop named >/dev/null 2>&1

# --- the logger checked before start (issue 14, item 5) ---
add_service nolog <<'SVC'
run = sh -c "echo status: exiting >&2; exec sleep 1000"
log = multilog t ${T}/log/missing/nolog
probe = none
settle = 2000
SVC
q start nolog >"$T/out" 2>&1
is_rc $? 6 "a log directory whose parent is missing: start exits 6, before anything runs"
sed 's/^/# /' "$T/out"
check "... saying which, and where multilog would make it" grep -qx \
	"nolog: failed: log directory $T/log/missing/nolog is missing, and so is its parent $T/log/missing, where multilog would make it" "$T/out"
check "... and nothing is left" test -z "$(pidfiles_in "$T/run")"

mkdir -p "$T/log/acct"
add_service acct <<'SVC'
run = sh -c "echo status: exiting >&2; exec sleep 1000"
log = setuidgid qmailctl-no-such-user multilog t ${T}/log/acct
probe = none
settle = 2000
SVC
q start acct >"$T/out" 2>&1
is_rc $? 6 "setuidgid with an unknown account: start exits 6, before anything runs"
sed 's/^/# /' "$T/out"
check "... naming the account" grep -qx \
	"acct: failed: logger: account qmailctl-no-such-user does not exist (setuidgid qmailctl-no-such-user)" "$T/out"

mkdir -p "$T/log/rootonly"
chmod 700 "$T/log/rootonly"
add_service rootonly <<'SVC'
run = sh -c "exec sleep 1000"
log = setuidgid nobody multilog t ${T}/log/rootonly
probe = none
settle = 200
SVC
q start rootonly >"$T/out" 2>&1
is_rc $? 6 "a log directory the logger's account may not write: start exits 6"
sed 's/^/# /' "$T/out"
check "... naming the directory and the account" grep -q \
	"rootonly: failed: log directory $T/log/rootonly is not writable by the logger's account nobody" "$T/out"

# --- the logger's own error (issue 14, item 1) ---
# What no check before start can see: another multilog holds the
# directory's lock.  The logger's own words are the reason.
mkdir -p "$T/log/locked"
: >"$T/log/locked/lock"
sh -c 'exec 9>"$1"; flock -x 9; exec sleep 30' sh "$T/log/locked/lock" &
lockpid=$!
n=0     # until the lock is held: at most 2 s
while [ $n -lt 200 ] && flock -n "$T/log/locked/lock" true 2>/dev/null; do
	n=$((n + 1)); sleep 0.01; done
add_service locked <<'SVC'
run = sh -c "echo status: exiting >&2; exec sleep 1000"
log = multilog t ${T}/log/locked
probe = none
settle = 2000
SVC
# A line left by an earlier run must not be shown as this start's.
printf '@400000006571a1b2c3d4e5f6 status: exiting\n' >"$T/log/locked/current"
q start locked >"$T/out" 2>&1
is_rc $? 1 "a logger that fails at once: start exits 1"
sed 's/^/# /' "$T/out"
check "... in multilog's own words, naming the logger" grep -qx \
	"locked: failed: logger multilog [0-9]* exited 111: multilog: fatal: unable to lock directory $T/log/locked: temporary failure" "$T/out"
check "... and no stale (log: ...) line of an earlier run" sh -c "! grep -q '(log:' '$T/out'"
check "... and nothing is left" test -z "$(pidfiles_in "$T/run")"
kill "$lockpid" 2>/dev/null
wait "$lockpid" 2>/dev/null

# --- the (log: ...) hint (issue 14 item 2, issue 18 items 3 and 4) ---
mkdir -p "$T/bin"
printf '#!/bin/sh\nprintf "\\033]0;owned\\007\\033[2J cleared\\n" >&2\nexit 3\n' >"$T/bin/noisy"
# A logger that is multilog by its argv but writes nothing: what is in
# current is only what the test planted there.
printf '#!/bin/sh\nexec cat >/dev/null\n' >"$T/bin/multilog"
chmod 755 "$T/bin/noisy" "$T/bin/multilog"
add_service bytes <<'SVC'
run = ${T}/bin/noisy
log = multilog t ${T}/log/bytes
probe = none
settle = 2000
SVC
q start bytes >"$T/out" 2>&1
is_rc $? 1 "a server that writes control bytes and exits: start exits 1"
sed 's/^/# /' "$T/out"
check "... no raw ESC or BEL reaches the terminal" sh -c "! grep -q \"$(printf '[\033\007]')\" '$T/out'"
check "... they arrive escaped" grep -qF '(log: \x1b]0;owned\x07\x1b[2J cleared)' "$T/out"

# The logger's user owns its directory: it can plant anything as current.
printf 'root:$6$secret-hash:19000:0:99999:7:::\n' >"$T/shadow"
chmod 600 "$T/shadow"
add_service planted <<'SVC'
run = sh -c "echo planted is leaving >&2; exit 3"
log = ${T}/bin/multilog t ${T}/log/planted
probe = none
settle = 2000
SVC
mkdir -p "$T/log/planted"
ln -s "$T/shadow" "$T/log/planted/current"
q start planted >"$T/out" 2>&1
note "exit $?"
sed 's/^/# /' "$T/out"
check "a symlinked current: root does not print what it names" sh -c "! grep -q 'secret-hash' '$T/out'"
rm -f "$T/log/planted/current"
mkfifo "$T/log/planted/current"
timeout 20 "$QMAILCTL" -f "$T/qmailctl.conf" start planted >"$T/out" 2>&1
rc=$?
sed 's/^/# /' "$T/out"
check "a FIFO current: start does not hang on it" test "$rc" != 124
check "... and gives no hint from it" sh -c "! grep -q '(log:' '$T/out'"

# --- tcpserver's -x database and program, before start (issue 14 item 3) ---
mkdir -p "$T/tcp"
cp "$FIXTURES/greeter" "$T/bin/greeter"
add_service nocdb <<'SVC'
run = tcpserver -H -l 0 -R -x ${T}/tcp/nocdb.cdb 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
q start nocdb >"$T/out" 2>&1
is_rc $? 6 "tcpserver's -x database missing: start exits 6"
sed 's/^/# /' "$T/out"
check "... with its path, at once" grep -q "^nocdb: failed: tcpserver -x $T/tcp/nocdb.cdb: No such file or directory" "$T/out"
check "... nothing was started" test -z "$(pidfiles_in "$T/run")"
add_service relprog <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 ${smtp_port} ./bin/no-greeter smtp
directory = ${T}
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
q start relprog >"$T/out" 2>&1
is_rc $? 5 "a relative program missing in the service's directory: exit 5"
check "... with its path there" grep -q "^relprog: failed: tcpserver's program $T/./bin/no-greeter is not installed" "$T/out"
sed -i 's|no-greeter|greeter|' "$T/services/relprog"
q start relprog >"$T/out" 2>&1
is_rc $? 0 "... and once it is there, the service starts"
q stop relprog >/dev/null 2>&1
add_service pathprog <<'SVC'
run = tcpserver -H -l 0 -R 127.0.0.1 ${smtp_port} qmailctl-no-such-smtpd
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
q start pathprog >"$T/out" 2>&1
is_rc $? 5 "a program not in the service's PATH: exit 5"
check "... says where it was looked for" grep -q "^pathprog: failed: tcpserver's program qmailctl-no-such-smtpd is not installed (not found in /usr/local/bin:/usr/bin:/bin)" "$T/out"

# --- cdb in a rules directory (issue 18 item 6) ---
add_service rules <<'SVC'
run = tcpserver -H -l 0 -R -x ${T}/rules/r.cdb 127.0.0.1 1 ${fixtures}/greeter smtp
SVC
mkdir -p "$T/rules"
printf '127.:allow\n:deny\n' >"$T/rules/r.rules"
echo "precious" >"$T/victim"
ln -s "$T/victim" "$T/rules/r.tmp"
q cdb rules >"$T/out" 2>&1
is_rc $? 0 "cdb with a symlink planted at FILE.tmp: exit 0"
check "... the symlink's target is untouched" test "$(cat "$T/victim")" = precious
check "... the database is a real new cdb" sh -c "test -f '$T/rules/r.cdb' && ! test -L '$T/rules/r.cdb'"
check "... the planted link is left alone" test -L "$T/rules/r.tmp"
check "... no temporary file of ours is left" test -z "$(files_in "$T/rules" | grep -v '^r\.\(rules\|cdb\|tmp\)$')"
chmod 777 "$T/rules"
cp "$T/rules/r.cdb" "$T/old.cdb"
q cdb rules >"$T/out" 2>&1
is_rc $? 1 "a rules directory writable by others: exit 1"
check "... refused, saying why" grep -q "^rules: failed: refusing rules directory $T/rules: writable by group or others" "$T/out"
check "... the database untouched" cmp -s "$T/old.cdb" "$T/rules/r.cdb"
chmod 1777 "$T/rules"
rm -f "$T/rules/r.tmp"
# In a sticky directory anyone may plant a name: nobody plants FILE.tmp.
if id nobody >/dev/null 2>&1 && command -v setpriv >/dev/null &&
    chmod 755 "$T" && setpriv --reuid=nobody --regid=nogroup --clear-groups \
    ln -s "$T/victim" "$T/rules/r.tmp" 2>/dev/null; then
	q cdb rules >"$T/out" 2>&1
	is_rc $? 0 "a sticky root-owned rules directory, nobody's FILE.tmp symlink planted: exit 0"
	check "... root did not write through nobody's link" test "$(cat "$T/victim")" = precious
	check "... and the database was rebuilt" grep -q "^rules: rebuilt $T/rules/r.cdb" "$T/out"
else
	q cdb rules >"$T/out" 2>&1
	is_rc $? 0 "a sticky root-owned rules directory: exit 0"
	skip "nobody's planted link" "no user nobody or setpriv"
	skip "... and the database was rebuilt" "no user nobody or setpriv"
fi
chmod 755 "$T/rules"

done_testing
