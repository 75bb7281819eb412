#!/bin/sh
# qmailctl log [-f] [-n N]: the last lines of each service's multilog log,
# written by the real multilog (lines fed through `multilog t DIR`), with
# the stamps compared against the real tai64nlocal's output in another
# time zone; -n, the rotated files read when current holds too few, two
# services interleaved by time, -f seeing appended lines and surviving
# rotations (multilog with a small s), also without inotify, SIGTERM and
# SIGINT ending it with 0, and so does its pipe's reader going; the
# options after log against the global ones before it; bad input (no log
# line, a logger that is not multilog, a missing or symlinked directory,
# a symlinked, FIFO, hard-linked or foreign current, a planted rotated
# file, garbage in current), each one line and its exit code; and status
# -v's last log line.
#
# -f without inotify runs under fixtures/nosignal -i (a seccomp filter).
#
# Not tested: that the follower does not spin (that would be a timing
# assertion).
. "$TESTS/lib.sh"

make_site
add_plain_services
export TZ=Asia/Tokyo
# feed NAME LINE...: each LINE through its own run of the real multilog.
feed() {
	_n=$1; shift
	for _l in "$@"; do printf '%s\n' "$_l" | multilog t "$T/log/$_n"; done
}
# texts FILE: the lines of FILE without their "NAME: " prefix and stamp.
texts() { sed 's/^[a-z0-9]*: //; s/^[0-9-]* [0-9:.]* //' "$1"; }
lines_of() { wc -l <"$1" | tr -d ' '; }

feed smtp "smtp one" "smtp two"
feed pop3 "pop3 three"
feed smtp "smtp four"
feed pop3 "pop3 five" "pop3 six"

# --- one service: as tai64nlocal shows it ---
q log smtp >"$T/out" 2>"$T/err"; is_rc $? 0 "log smtp exits 0"
tai64nlocal <"$T/log/smtp/current" >"$T/want"
check "... prints current as tai64nlocal does (TZ=$TZ), no prefix" cmp -s "$T/out" "$T/want"
check "... and nothing on stderr" test ! -s "$T/err"
check "... the stamp is in local time, not UTC" sh -c "! TZ=UTC tai64nlocal <'$T/log/smtp/current' | cmp -s - '$T/out'"
q log -n 1 smtp >"$T/out"
check "-n 1: the last line only" test "$(texts "$T/out")" = "smtp four"
q log -n 0 smtp >"$T/out"; is_rc $? 0 "-n 0 exits 0"
check "... and prints nothing" test ! -s "$T/out"
q log smtp -n 2 >"$T/out"
check "-n after the service name works too" test "$(lines_of "$T/out")" = 2
QMAILCTL_CONF="$T/qmailctl.conf" "$QMAILCTL" log -n 2 smtp >"$T/out"
check "the site from \$QMAILCTL_CONF, log -n 2" test "$(lines_of "$T/out")" = 2

# --- several services: prefixed, interleaved by their stamps ---
q log smtp pop3 >"$T/out"; is_rc $? 0 "log smtp pop3 exits 0"
check "... lines interleaved by time" test "$(texts "$T/out" | tr '\n' ,)" = \
	"smtp one,smtp two,pop3 three,smtp four,pop3 five,pop3 six,"
check "... each prefixed with its service" test "$(cut -d: -f1 "$T/out" | tr '\n' ,)" = \
	"smtp,smtp,pop3,smtp,pop3,pop3,"
check "... stamps as tai64nlocal shows them" grep -qx "pop3: $(tai64nlocal <"$T/log/pop3/current" | tail -n 1)" "$T/out"
q log >"$T/out"
check "no names: the default set (smtp pop3)" test "$(lines_of "$T/out")" = 6
q log -n 1 smtp pop3 >"$T/out"
check "-n 1 of two: the last line of each" test "$(texts "$T/out" | tr '\n' ,)" = "smtp four,pop3 six,"

# --- rotated files: read when current holds fewer lines than -n ---
mkdir -p "$T/log/big"
add_service big <<'SVC'
run = /bin/true
log = multilog t s4096 n20 ${T}/log/big
SVC
seq 1 300 | sed 's/^/big line /' | multilog t s4096 n20 "$T/log/big"
nrot=$(find "$T/log/big" -name '@*.s' | wc -l)
check "multilog rotated (s4096): $nrot rotated files" test "$nrot" -ge 2
q log -n 150 big >"$T/out"; is_rc $? 0 "log -n 150 big exits 0"
cat "$T/log/big"/@*.s "$T/log/big/current" | tai64nlocal | tail -n 150 >"$T/want"
check "... the last 150 lines, from the rotated files and current" cmp -s "$T/out" "$T/want"
q log -n 100000 big >"$T/out"
check "-n more than there are: every line, in order" test "$(texts "$T/out" | tr '\n' ,)" = \
	"$(seq 1 300 | sed 's/^/big line /' | tr '\n' ,)"

# --- the options after log against those before it ---
q -n log smtp >"$T/out" 2>&1; is_rc $? 2 "-n before log (the dry run): exit 2"
check "... saying where -n N goes" grep -q 'log has no dry run: its -n N (lines) goes after log' "$T/out"
q log -n x smtp >"$T/out" 2>&1; is_rc $? 2 "-n x: exit 2"
check "... naming the range" grep -q -- '-n after log takes a number of lines, from 0 to 1000000' "$T/out"
q log -n -1 smtp >"$T/out" 2>&1; is_rc $? 2 "-n -1: exit 2"
q log --json smtp >"$T/out" 2>&1; is_rc $? 2 "--json with log: exit 2"
q log -v smtp >"$T/out" 2>&1; is_rc $? 2 "a global option after log: exit 2"
q log nosuch >"$T/out" 2>&1; is_rc $? 2 "an unknown service: exit 2"
q status -v smtp >"$T/out" 2>&1
check "other commands' options still come after their command" grep -q '^smtp: stopped$' "$T/out"

# --- -f: appended lines, across rotation, until TERM or INT ---
"$QMAILCTL" -f "$T/qmailctl.conf" log -f -n 1 smtp pop3 >"$T/fout" 2>"$T/ferr" &
fpid=$!; track_pid "$fpid"
check "-f prints the tail first" wait_for 10 grep -q '^pop3: .* pop3 six$' "$T/fout"
feed smtp "smtp appended"
check "-f sees a line multilog appends" wait_for 10 grep -q '^smtp: .* smtp appended$' "$T/fout"
feed pop3 "pop3 appended"
check "... in the other service too" wait_for 10 grep -q '^pop3: .* pop3 appended$' "$T/fout"
kill -TERM "$fpid"; wait "$fpid"; is_rc $? 0 "-f ends with 0 on SIGTERM"
check "... having printed each line once" test "$(lines_of "$T/fout")" = 4
check "... and nothing on stderr" test ! -s "$T/ferr"

"$QMAILCTL" -f "$T/qmailctl.conf" log -f -n 0 big >"$T/fout" 2>"$T/ferr" &
fpid=$!; track_pid "$fpid"
# -n 0 prints nothing: the follower is ready once it shows a mark fed
# after it started (fed again until it does).
mark_seen() { feed big "mark"; grep -q ' mark$' "$T/fout"; }
check "-f -n 0: what comes after it started" wait_for 10 mark_seen
check "... and none of the 300 lines before" sh -c "! grep -q 'big line' '$T/fout'"
before=$(find "$T/log/big" -name '@*.s' | wc -l)
seq 1 200 | sed 's/^/rot line /' | multilog t s4096 n20 "$T/log/big"
after=$(find "$T/log/big" -name '@*.s' | wc -l)
note "rotated files before $before, after $after (n20 keeps 20 at most)"
check "-f across rotations: all 200 lines" wait_for 10 sh -c "test \$(grep -c 'rot line' '$T/fout') -ge 200"
check "... each once, in order" test "$(grep 'rot line' "$T/fout" | tr '\n' , | sed 's/[0-9-]* [0-9:.]* //g')" = \
	"$(seq 1 200 | sed 's/^/rot line /' | tr '\n' ,)"
kill -INT "$fpid"; wait "$fpid"; is_rc $? 0 "-f ends with 0 on SIGINT"
check "... nothing on stderr" test ! -s "$T/ferr"
# Without inotify (fixtures/nosignal -i makes inotify_init1 fail with
# ENOSYS): -f looks every second, and still sees lines and a rotation.
if "$FIXTURES/nosignal" -i true 2>"$T/err"; then
	"$FIXTURES/nosignal" -i "$QMAILCTL" -f "$T/qmailctl.conf" log -f -n 0 big >"$T/fout" 2>"$T/ferr" &
	fpid=$!; track_pid "$fpid"
	check "without inotify: -f sees what comes" wait_for 20 mark_seen
	seq 1 100 | sed 's/^/slow line /' | multilog t s4096 n20 "$T/log/big"
	check "... across rotations, all 100 lines" wait_for 20 sh -c "test \$(grep -c 'slow line' '$T/fout') = 100"
	kill -TERM "$fpid"; wait "$fpid"; is_rc $? 0 "... SIGTERM ends it with 0"
	check "... nothing on stderr" test ! -s "$T/ferr"
else
	skip "no seccomp filter here ($(cat "$T/err")): -f without inotify"
fi

# A symlink planted as current while -f runs: said once, never read; a
# current multilog makes again is followed.
echo "root's secret" >"$T/secret"
"$QMAILCTL" -f "$T/qmailctl.conf" log -f -n 1 pop3 >"$T/fout" 2>"$T/ferr" &
fpid=$!; track_pid "$fpid"
check "-f on pop3 started" wait_for 10 grep -q 'pop3 appended$' "$T/fout"
mv "$T/log/pop3/current" "$T/log/pop3/@400000006571a1b2000000aa.s"
ln -s "$T/secret" "$T/log/pop3/current"
check "... a planted symlink current: one line on stderr" \
	wait_for 10 grep -qx "pop3: failed: $T/log/pop3/current is a symbolic link: not followed" "$T/ferr"
rm "$T/log/pop3/current"
feed pop3 "pop3 again"
check "... a new current of multilog's: followed" wait_for 10 grep -q 'pop3 again$' "$T/fout"
kill -TERM "$fpid"; wait "$fpid"; is_rc $? 0 "... and SIGTERM still ends it with 0"
check "... the symlink said once, the secret never shown" sh -c \
	"test \$(wc -l <'$T/ferr') = 1 && ! grep -q secret '$T/fout'"

timeout 20 sh -c "'$QMAILCTL' -f '$T/qmailctl.conf' log -f -n 3 smtp | head -n 1 >'$T/out'"
is_rc $? 0 "-f into a pipe whose reader goes: ends (with 0), no hang"
check "... having given the reader its line" test "$(lines_of "$T/out")" = 1

# --- bad input: one line, the documented code ---
add_service nolog <<'SVC'
run = /bin/true
SVC
q log nolog >"$T/out" 2>&1; is_rc $? 6 "a service without a log line: exit 6"
check "... in one line naming its file" sh -c "test \$(wc -l <'$T/out') = 1 && grep -q '^nolog: failed: no log line in $T/services/nolog' '$T/out'"
add_service notml <<'SVC'
run = /bin/true
log = /bin/cat
SVC
q log notml >"$T/out" 2>&1; is_rc $? 6 "a logger that is not multilog: exit 6"
check "... says so" grep -q '^notml: failed: its logger is not multilog (/bin/cat)' "$T/out"
add_service gone <<'SVC'
run = /bin/true
log = multilog t ${T}/log/gone
SVC
q log gone >"$T/out" 2>&1; is_rc $? 1 "a missing log directory: exit 1"
check "... one line with the path and why" sh -c "test \$(wc -l <'$T/out') = 1 && grep -qx 'gone: failed: unable to open log directory $T/log/gone: No such file or directory' '$T/out'"
q log smtp gone >"$T/out" 2>"$T/err"; is_rc $? 1 "with a good service beside it: still exit 1"
check "... and the good one's lines shown" grep -q '^smtp: .* smtp four$' "$T/out"

echo "root's secret" >"$T/secret"
echo "elsewhere" | multilog t "$T/elsewhere"
ln -s "$T/elsewhere" "$T/log/gone"
q log gone >"$T/out" 2>&1; is_rc $? 1 "a symlinked log directory: exit 1"
check "... not followed" grep -q "^gone: failed: unable to open log directory $T/log/gone: " "$T/out"
rm "$T/log/gone"
# A symlink on the way to it, in a directory others may write: not
# followed either (one in a directory only root may change would be).
mkdir -m 1777 "$T/pub"
ln -s "$T/log" "$T/pub/logs"
sed "s|\${T}/log/gone|$T/pub/logs/smtp|" "$T/services/gone" >"$T/services/via"
q log via >"$T/out" 2>&1; is_rc $? 1 "a log directory behind a symlink in a public directory: exit 1"
check "... the symlink not followed" grep -q "^via: failed: unable to open log directory $T/pub/logs/smtp: Not a directory" "$T/out"
chmod 755 "$T/pub"
q log via >"$T/out" 2>&1; is_rc $? 0 "... the same symlink in a directory only root may change is followed"
rm -r "$T/pub" "$T/services/via"

add_service bad <<'SVC'
run = /bin/true
log = setuidgid nobody multilog t ${T}/log/bad
SVC
mkdir -p "$T/log/bad"
ln -s "$T/secret" "$T/log/bad/current"
q log bad >"$T/out" 2>&1; is_rc $? 1 "a symlinked current: exit 1"
check "... one line: not followed" sh -c "test \$(wc -l <'$T/out') = 1 && grep -qx 'bad: failed: $T/log/bad/current is a symbolic link: not followed' '$T/out'"
check "... and the secret is not shown" sh -c "! grep -q secret '$T/out'"
rm "$T/log/bad/current"; mkfifo "$T/log/bad/current"
timeout 20 "$QMAILCTL" -f "$T/qmailctl.conf" log bad >"$T/out" 2>&1; is_rc $? 1 "a FIFO current: exit 1, no hang"
check "... not a regular file" grep -qx "bad: failed: $T/log/bad/current is not a regular file: not read" "$T/out"
rm "$T/log/bad/current"; ln "$T/secret" "$T/log/bad/current"
q log bad >"$T/out" 2>&1; is_rc $? 1 "a hard-linked current: exit 1"
check "... says its links" grep -q "^bad: failed: $T/log/bad/current has 2 links: not read" "$T/out"
rm "$T/log/bad/current"
printf '@400000006571a1b2000000aa by nobody\n' >"$T/log/bad/current"
chown nobody "$T/log/bad/current"
q log bad >"$T/out" 2>&1; is_rc $? 0 "a current of the logger's user (nobody): read"
chown daemon "$T/log/bad/current"
q log bad >"$T/out" 2>&1; is_rc $? 1 "a current of another user: exit 1"
check "... names the owner rule" grep -qx "bad: failed: $T/log/bad/current is owned by uid $(id -u daemon), not by nobody or root: not read" "$T/out"
chown root "$T/log/bad/current"
ln -s "$T/secret" "$T/log/bad/@400000006571a1b2000000aa.s"
q log -n 5 bad >"$T/out" 2>&1; is_rc $? 1 "a symlink planted as a rotated file: exit 1"
check "... refused, and current still shown" sh -c "grep -q 'bad/@400000006571a1b2000000aa.s is a symbolic link' '$T/out' && grep -q 'by nobody' '$T/out' && ! grep -q secret '$T/out'"
rm "$T/log/bad/@400000006571a1b2000000aa.s"

{
	printf 'no stamp at all\n'
	printf '@4000zzzz not a stamp\n'
	printf '@400000006571a1b2000000aa \033[31mred\007 and a NUL:\000.\n'
	head -c 6000 /dev/zero | tr '\0' y; printf '\n'
	printf 'no newline at the end'
} >"$T/log/bad/current"
q log bad >"$T/out" 2>"$T/err"; is_rc $? 0 "garbage in current: exit 0"
check "... a line without a stamp as it is" grep -qx 'no stamp at all' "$T/out"
check "... a broken stamp as it is" grep -qx '@4000zzzz not a stamp' "$T/out"
check "... control bytes escaped, none raw" sh -c "grep -q ' \\\\x1b\\[31mred\\\\x07 and a NUL:\\\\x00\\.$' '$T/out' && ! grep -q \"\$(printf '\\033')\" '$T/out'"
check "... an over-long line cut" grep -qx 'y\{4000\}' "$T/out"
check "... with one warning line naming the file" sh -c "test \$(wc -l <'$T/err') = 1 && grep -qx 'bad: warning: $T/log/bad/current: a line of more than 4000 bytes, shown cut there' '$T/err'"
check "... the last line without its newline shown" test "$(tail -n 1 "$T/out")" = "no newline at the end"
head -c 20000 /dev/urandom >"$T/log/bad/current"
q log -n 1000 bad >"$T/out" 2>"$T/err"; is_rc $? 0 "binary current: exit 0, no crash"
check "... nothing raw reaches the terminal" sh -c "! LC_ALL=C grep -q '[^ -~]' '$T/out'"

# --- status -v: the last log line through the same reader ---
q -v status smtp >"$T/out" 2>&1
check "status -v shows the last log line" grep -qx 'smtp: last log line: smtp appended' "$T/out"
q status smtp >"$T/out" 2>&1
check "... status without -v does not" sh -c "! grep -q 'last log line' '$T/out'"

done_testing
