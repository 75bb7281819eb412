#!/bin/sh
# shellcheck disable=SC2154 # smtp_port, pop3_port: set by make_site (tests/lib.sh)
# qmailctl cdb: tcprules databases built from their sources with the real
# tcprules, found from tcpserver's -x or the rules key; a broken source
# fails and leaves the old database in place; a running tcpserver reads
# the new database at its next connection.
#
# Not tested: a tcprules that hangs (the timeout kills it), and that two
# builds of one database never interleave (only that both succeed).
. "$TESTS/lib.sh"

make_site
mkdir -p "$T/tcp"
# smtp: the database from -x, clustered the ways getopt allows.
add_service smtp <<'SVC'
run = tcpserver -vHRl0 -x${T}/tcp/smtp.cdb 127.0.0.1 ${smtp_port} ${fixtures}/greeter smtp
probe = tcp 127.0.0.1 ${smtp_port} 220
SVC
# smtp2 shares smtp's database.
add_service smtp2 <<'SVC'
run = tcpserver -v -H -l 0 -R -x ${T}/tcp/smtp.cdb 127.0.0.1 1 ${fixtures}/greeter smtp
SVC
# pop3: the rules key, no -x.
add_service pop3 <<'SVC'
run = tcpserver -v -H -l 0 -R 127.0.0.1 ${pop3_port} ${fixtures}/greeter pop3
rules = ${T}/tcp/pop3.rules
SVC
# rel: a relative -x is taken in the service's directory, as tcpserver does.
add_service rel <<'SVC'
run = tcpserver -H -l 0 -x tcp/rel.cdb 127.0.0.1 1 ${fixtures}/greeter smtp
directory = ${T}
SVC
add_service send <<'SVC'
run = sleep 100000
SVC
cat >"$T/tcp/smtp.rules" <<'RULES'
# who may connect
127.:allow,RELAYCLIENT=""
:deny
RULES
printf '127.0.0.1:allow\n:deny\n' >"$T/tcp/pop3.rules"
printf ':allow\n' >"$T/tcp/rel.rules"

# The database is readable by all whatever our umask: tcpserver reads it
# after it has become its -u user.
(umask 077 && q cdb smtp) >"$T/out" 2>&1
is_rc $? 0 "cdb smtp exits 0"
check "... and says what it built from what" \
	grep -qx "smtp: rebuilt $T/tcp/smtp.cdb from $T/tcp/smtp.rules" "$T/out"
TCPREMOTEIP=127.0.0.1 tcprulescheck "$T/tcp/smtp.cdb" >"$T/check" 2>&1
check "tcprulescheck finds the allow rule for 127.0.0.1" grep -q '^allow connection' "$T/check"
check "... with its environment" grep -q 'RELAYCLIENT=' "$T/check"
TCPREMOTEIP=10.0.0.1 tcprulescheck "$T/tcp/smtp.cdb" >"$T/check" 2>&1
check "... and the deny rule for others" grep -q '^deny connection' "$T/check"
check "the database is mode 644 under umask 077" test "$(stat -c %a "$T/tcp/smtp.cdb")" = 644
no_tmp() { test -z "$(files_in "$T/tcp" | grep '\.tmp$')"; }
check "no temporary file is left" no_tmp

q cdb pop3 >"$T/out" 2>&1
is_rc $? 0 "cdb with a rules key exits 0"
check "... builds NAME.cdb beside NAME.rules" \
	grep -qx "pop3: rebuilt $T/tcp/pop3.cdb from $T/tcp/pop3.rules" "$T/out"
TCPREMOTEIP=127.0.0.1 tcprulescheck "$T/tcp/pop3.cdb" >"$T/check" 2>&1
check "... a working one" grep -q '^allow connection' "$T/check"
q cdb rel >"$T/out" 2>&1
is_rc $? 0 "cdb with a relative -x exits 0"
check "... and builds it in the service's directory" test -s "$T/tcp/rel.cdb"

q cdb send >"$T/out" 2>&1
is_rc $? 0 "a service without rules: exit 0"
check "... says so" grep -qx "send: no tcprules database" "$T/out"

q cdb smtp smtp2 >"$T/out" 2>&1
is_rc $? 0 "two services sharing a database, at once: exit 0"
check "... both report it rebuilt" test "$(grep -c "rebuilt $T/tcp/smtp.cdb" "$T/out")" = 2
TCPREMOTEIP=127.0.0.1 tcprulescheck "$T/tcp/smtp.cdb" >"$T/check" 2>&1
check "... and it works" grep -q '^allow connection' "$T/check"

# A syntax error: exit 1, tcprules' own words with the line, the old
# database untouched.
cp "$T/tcp/smtp.cdb" "$T/old.cdb"
cp "$T/tcp/smtp.rules" "$T/good.rules"
printf '10.:bogus\n' >>"$T/tcp/smtp.rules"
q cdb smtp >"$T/out" 2>"$T/err"
is_rc $? 1 "a syntax error in the rules: exit 1"
sed 's/^/# /' "$T/err"
check "... tcprules' message with FILE:LINE" \
	grep -qx "smtp: failed: tcprules $T/tcp/smtp.rules:4: unable to parse this line: 10.:bogus" "$T/err"
check "... the old database is kept unchanged" cmp -s "$T/old.cdb" "$T/tcp/smtp.cdb"
check "... and no temporary file is left" no_tmp
cp "$T/good.rules" "$T/tcp/smtp.rules"

mv "$T/tcp/pop3.rules" "$T/pop3.rules"
q cdb pop3 >"$T/out" 2>"$T/err"
is_rc $? 1 "a missing source: exit 1"
check "... says which" grep -q "^pop3: failed: unable to open $T/tcp/pop3.rules: No such file" "$T/err"
mv "$T/pop3.rules" "$T/tcp/pop3.rules"

q cdb send smtp pop3 >"$T/out" 2>&1
is_rc $? 0 "several services: exit 0"
check "... one line each" test "$(wc -l <"$T/out")" = 3

sed 's|^path = .*|path = /nonexistent|' "$T/qmailctl.conf" >"$T/nopath.conf"
"$QMAILCTL" -f "$T/nopath.conf" cdb smtp >"$T/out" 2>"$T/err"
is_rc $? 5 "tcprules not in the service's PATH: exit 5"
check "... says so" grep -q "^smtp: failed: tcprules is not installed (not found in /nonexistent)" "$T/err"

# The live service reads the new database at its next connection.
q start smtp >"$T/out" 2>&1
is_rc $? 0 "smtp starts with its database"
spid=$(pid_of smtp)
"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >"$T/greet" 2>&1
check "... and greets 127.0.0.1" grep -q '^220 ' "$T/greet"
printf '127.:deny\n:allow\n' >"$T/tcp/smtp.rules"
q cdb smtp >"$T/out" 2>&1
is_rc $? 0 "cdb of a running service exits 0"
"$FIXTURES/client" 127.0.0.1 "$smtp_port" QUIT >"$T/greet" 2>&1
is_rc $? 1 "... and the next connection from 127.0.0.1 is closed before a greeting"
check "... by the same tcpserver" test "$(pid_of smtp)" = "$spid"
q stop smtp >/dev/null 2>&1

# cdb takes the service lock: it waits (bounded) for a start in progress.
if command -v flock >/dev/null 2>&1; then
	flock -o "$T/run/smtp.lock" sleep 5 </dev/null >/dev/null 2>&1 &
	lockpid=$!
	track_pid "$lockpid"
	wait_for 5 sh -c "! flock -n '$T/run/smtp.lock' true"
	q -t 0.3 cdb smtp >"$T/out" 2>"$T/err"
	is_rc $? 1 "cdb while another program holds the service's lock: exit 1"
	check "... says who holds it, not blaming qmailctl" grep -q "^smtp: failed: $T/run/smtp.lock is held by flock (pid $lockpid), not by a qmailctl" "$T/err"
	kill "$lockpid" 2>/dev/null
else
	skip "flock(1) is not installed"
fi

done_testing
