#!/bin/sh
# Daily operations: disable/enable (the marker, start without names and
# the init script skipping it, status and list showing it), check's usage
# errors as UNKNOWN, metrics (promtool check metrics, --textfile, the
# supervisor's restarts counter), and
# queue/stat, check's queue thresholds, flush's qmail-tcpok and metrics'
# queue against the real qmail tools (notqmail, built by tests/notqmail.sh).
#
# Not tested here: a queue of thousands of messages (qmail-qread's time),
# and the boot through systemd (the unit runs the same `qmailctl start`).
. "$TESTS/lib.sh"

make_site
add_plain_services
chmod 755 "$T"
echo "statedir = $T/state" >>"$T/qmailctl.conf"

# --- disable / enable ---

q disable pop3 >"$T/out" 2>&1; is_rc $? 0 "disable pop3 exits 0"
check "... says what start will do" grep -q '^pop3: disabled (.*pop3.disabled): start without service names' "$T/out"
check "... the marker is in the state directory" test -f "$T/state/pop3.disabled"
check "... which qmailctl made root's, mode 0755" test "$(stat -c '%U %a' "$T/state")" = "root 755"
check "... the marker is mode 0644" test "$(stat -c '%a' "$T/state/pop3.disabled")" = 644
check "... no temporary file is left" test "$(files_in "$T/state")" = pop3.disabled
check "... and the config is not edited" sh -c "! grep -q disabled '$T/qmailctl.conf' '$T/services/pop3'"
q disable pop3 >"$T/out" 2>&1; is_rc $? 0 "disable again exits 0"
check "... and says it already is" grep -q '^pop3: already disabled' "$T/out"

q status >"$T/out" 2>&1
check "status shows the word" grep -q '^pop3: stopped, disabled$' "$T/out"
check "... and not on smtp" grep -q '^smtp: stopped$' "$T/out"
q status --json pop3 >"$T/out" 2>&1
check "status --json has disabled:true" grep -q '"disabled":true' "$T/out"
q list >"$T/out" 2>&1
check "list shows it" grep -q '^pop3	stand-in POP3 (disabled)$' "$T/out"

q -v start >"$T/out" 2>&1; is_rc $? 0 "start without names exits 0"
check "... starts smtp" grep -q '^smtp: started' "$T/out"
check "... says (with -v) that it skipped pop3" grep -q '^pop3: disabled, skipped' "$T/out"
check "... and pop3 is not running" sh -c "q() { '$QMAILCTL' -f '$T/qmailctl.conf' \"\$@\"; }; q status pop3 >/dev/null; test \$? = 3"
q start pop3 >"$T/out" 2>&1; is_rc $? 0 "start pop3 (named) exits 0"
check "... says that it is disabled" grep -q '^pop3: disabled, but named on the command line' "$T/out"
check "... and starts it" grep -q '^pop3: started' "$T/out"
q status pop3 >"$T/out" 2>&1
check "status: up, disabled" grep -q '^pop3: up (.*), disabled$' "$T/out"
q stop >/dev/null 2>&1

# The boot: init.d/qmail runs `qmailctl start` without names (so does the
# systemd unit).
printf 'QMAILCTL_CONF=%s\nQMAILCTL=%s\n' "$T/qmailctl.conf" "$QMAILCTL" >"$T/default"
env -u QMAILCTL -u QMAILCTL_CONF QMAIL_DEFAULTS="$T/default" SYSTEMCTL_SKIP_REDIRECT=1 \
    sh "$TOP/init.d/qmail" start >"$T/out" 2>&1
is_rc $? 0 "init.d/qmail start exits 0"
check "... starts smtp but not the disabled pop3" sh -c "grep -q '^smtp: started' '$T/out' && ! grep -q '^pop3:' '$T/out'"
q stop >/dev/null 2>&1

q enable pop3 >"$T/out" 2>&1; is_rc $? 0 "enable pop3 exits 0"
check "... removes the marker" test ! -e "$T/state/pop3.disabled"
q enable pop3 >"$T/out" 2>&1
check "enable again: already enabled" grep -q '^pop3: already enabled' "$T/out"
q start >"$T/out" 2>&1
check "start without names starts pop3 again" grep -q '^pop3: started' "$T/out"
q stop >/dev/null 2>&1

q disable >"$T/out" 2>&1; is_rc $? 2 "disable without names: exit 2"
q disable nosuch >"$T/out" 2>&1; is_rc $? 2 "disable of an unknown service: exit 2"
q -q disable pop3 >"$T/out" 2>&1; is_rc $? 0 "-q disable exits 0"
check "... and prints nothing" test ! -s "$T/out"
q -q enable pop3 >/dev/null 2>&1
q -n disable smtp >"$T/out" 2>&1; is_rc $? 0 "-n disable exits 0"
check "... and writes nothing" test ! -e "$T/state/smtp.disabled"
# A state directory that others may write: its markers are not believed.
q disable smtp >/dev/null 2>&1
chmod 777 "$T/state"
q status smtp >"$T/out" 2>&1
check "a marker in a world-writable state directory is ignored, with a warning" \
    sh -c "grep -q 'warning: ignoring the disabled markers in $T/state' '$T/out' && grep -q '^smtp: stopped$' '$T/out'"
q disable pop3 >"$T/out" 2>&1; is_rc $? 4 "disable into that directory: exit 4"
check "... in one line" test "$(wc -l <"$T/out")" = 1
chmod 755 "$T/state"
q enable smtp >/dev/null 2>&1

# --- check's usage errors are UNKNOWN (3), a monitor reads 2 as CRITICAL ---

q check --bogus >"$T/out" 2>&1; is_rc $? 3 "check with an unknown option: exit 3"
q --bogus check >"$T/out" 2>&1; is_rc $? 3 "... also before the command"
q -t x check >"$T/out" 2>&1; is_rc $? 3 "check with a bad -t: exit 3"
q check nosuch >"$T/out" 2>&1; is_rc $? 3 "check of an unknown service: exit 3"
q --bogus status >"$T/out" 2>&1; is_rc $? 2 "the other commands still exit 2"

# --- metrics ---

q start smtp >/dev/null 2>&1
q disable pop3 >/dev/null 2>&1
# smtp's server killed once: its supervisor restarts it, and counts it.
kill -KILL "$(pid_of smtp)"
st_smtp() { "$QMAILCTL" -f "$T/qmailctl.conf" status --json smtp 2>/dev/null; }
restarted() { st_smtp | grep -q '"restarts":1,' && q status smtp 2>/dev/null | grep -q '^smtp: up '; }
check "smtp's server, killed, is restarted by its supervisor" wait_for 10 restarted
q metrics >"$T/prom" 2>"$T/err"; is_rc $? 0 "metrics exits 0"
check "... smtp's restart counted" grep -q '^qmailctl_service_restarts_total{service="smtp"} 1$' "$T/prom"
check "... pop3, never supervised: 0" grep -q '^qmailctl_service_restarts_total{service="pop3"} 0$' "$T/prom"
check "... a counter, with its HELP" sh -c "grep -q '^# TYPE qmailctl_service_restarts_total counter$' '$T/prom' && grep -q '^# HELP qmailctl_service_restarts_total ' '$T/prom'"
check "... smtp up" grep -q '^qmailctl_service_up{service="smtp"} 1$' "$T/prom"
check "... pop3 down" grep -q '^qmailctl_service_up{service="pop3"} 0$' "$T/prom"
check "... smtp's probe latency and uptime" sh -c "grep -q '^qmailctl_service_probe_seconds{service=\"smtp\"} [0-9.]*$' '$T/prom' && grep -q '^qmailctl_service_uptime_seconds{service=\"smtp\"} [0-9.]*$' '$T/prom'"
check "... pop3 disabled" grep -q '^qmailctl_service_disabled{service="pop3"} 1$' "$T/prom"
check "... HELP and TYPE once per family" test "$(grep -c '^# TYPE qmailctl_service_up gauge$' "$T/prom")" = 1
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$T/prom" >"$T/out" 2>&1
	is_rc $? 0 "promtool check metrics accepts it"
	sed 's/^/# /' "$T/out"
else
	skip "promtool is not installed (Debian package prometheus; tests/deps.sh)"
fi
mkdir "$T/textfile"
q metrics --textfile "$T/textfile" >"$T/out" 2>&1; is_rc $? 0 "metrics --textfile exits 0"
check "... writes DIR/qmailctl.prom, nothing else" test "$(files_in "$T/textfile")" = qmailctl.prom
check "... the same families" test "$(grep -c '^# TYPE' "$T/textfile/qmailctl.prom")" = "$(grep -c '^# TYPE' "$T/prom")"
check "... mode 0644" test "$(stat -c '%a' "$T/textfile/qmailctl.prom")" = 644
q metrics --textfile "$T/nosuch" >"$T/out" 2>&1; is_rc $? 1 "--textfile into a missing directory: exit 1"
check "... in one line" test "$(wc -l <"$T/out")" = 1
q status --textfile "$T/textfile" >"$T/out" 2>&1; is_rc $? 2 "--textfile with another command: exit 2"
# A certificate's expiry: seconds left, about 365 days for a new one.
q cert "$T/cert.pem" >/dev/null 2>&1
add_service certd <<SVC
run = \${fixtures}/greeter smtp
probe = none
cert = $T/cert.pem
SVC
q metrics certd >"$T/out" 2>&1
left=$(sed -n 's/^qmailctl_service_cert_expiry_seconds{service="certd"} //p' "$T/out")
check "metrics: a new certificate expires in about 365 days" \
    test "${left:-0}" -gt $((364 * 86400)) -a "${left:-0}" -le $((365 * 86400))
rm "$T/services/certd"
sed 's/^default = .*/default =/' "$T/qmailctl.conf" >"$T/empty.conf"
"$QMAILCTL" -f "$T/empty.conf" metrics >"$T/out" 2>&1
is_rc $? 0 "metrics of an empty default set: exit 0"
check "... and nothing printed" test ! -s "$T/out"
q stop >/dev/null 2>&1
q enable pop3 >/dev/null 2>&1

# --- queue: missing and broken tools (stand-ins, no qmail needed) ---

mkdir -p "$T/fake/bin"
echo "qmail = $T/fake" >>"$T/qmailctl.conf"
q queue >"$T/out" 2>&1; is_rc $? 5 "queue without qmail-qstat: exit 5"
check "... says where it looked" grep -q "qmail-qstat is not installed (in $T/fake/bin" "$T/out"
printf '#!/bin/sh\necho "hello, world"\n' >"$T/fake/bin/qmail-qstat"
chmod 755 "$T/fake/bin/qmail-qstat"
q queue >"$T/out" 2>&1; is_rc $? 1 "qmail-qstat saying garbage: exit 1"
check "... one line quoting it" sh -c "test \$(wc -l <'$T/out') = 1 && grep -q 'qmail-qstat: unexpected output: hello, world' '$T/out'"
printf '#!/bin/sh\necho "messages in queue: 3"\necho "messages in queue but not yet preprocessed: 1"\n' >"$T/fake/bin/qmail-qstat"
printf '#!/bin/sh\nprintf "2 Dex 2026 10:00:00 GMT  #12  300  <a@b> \\n"\n' >"$T/fake/bin/qmail-qread"
chmod 755 "$T/fake/bin/qmail-qread"
q queue >"$T/out" 2>&1; is_rc $? 1 "qmail-qread with a bad date: exit 1"
check "... one line quoting it" grep -q 'qmail-qread: unexpected output: 2 Dex 2026' "$T/out"
printf '#!/bin/sh\necho "fatal: unable to chdir: access denied"\nexit 111\n' >"$T/fake/bin/qmail-qread"
q queue >"$T/out" 2>&1; is_rc $? 4 "qmail-qread refused the queue: exit 4"
check "... in its own words" grep -q 'qmail-qread: fatal: unable to chdir: access denied' "$T/out"
printf '#!/bin/sh\nprintf "1 Jan 2020 00:00:00 GMT  #12  300  <a@b> \\n\\tremote\\tx@y\\n"\n' >"$T/fake/bin/qmail-qread"
q stat >"$T/out" 2>&1; is_rc $? 0 "stat with the stand-ins' output: exit 0"
check "... reads it" grep -q '^queue: 3 messages, 1 not yet preprocessed, oldest .* (#12, queued 2020-01-01 00:00:00 UTC)$' "$T/out"
q queue --json >"$T/out" 2>&1
check "queue --json" grep -q '"messages":3,"unpreprocessed":1,"listed":1,"oldest":{"id":12,"queued":1577836800,' "$T/out"
q queue smtp >"$T/out" 2>&1; is_rc $? 2 "queue takes no service names: exit 2"
printf '#!/bin/sh\nexec sleep 30\n' >"$T/fake/bin/qmail-qread"
q -t 0.3 queue >"$T/out" 2>&1; is_rc $? 1 "a qmail-qread that hangs is killed after -t: exit 1"
check "... and said so" grep -q 'qmail-qread: no result after 300 ms, killed' "$T/out"

# --- against the real qmail: notqmail in a private home ---

home=
if [ -f "$TOP/tests/notqmail.sh" ]; then
	home=$(sh "$TOP/tests/notqmail.sh" 2>"$T/nq.err")
	nq=$?
	[ "$nq" = 0 ] || { note "$(cat "$T/nq.err") $home"; home=; }
fi
if [ -z "$home" ] || [ ! -x "$home/bin/qmail-qstat" ]; then
	skip "notqmail build not available"
	done_testing
	exit
fi

domain=ops$$.invalid
dead=$(free_port)       # nothing listens: qmail-remote defers
sed -i "s|^qmail = .*|qmail = $home|; s|^path = .*|path = $home/bin:/usr/local/bin:/usr/bin:/bin|" "$T/qmailctl.conf"
add_service send <<SVC
description = the real qmail-send
run = qmail-start ./Maildir/
directory = $home
probe = none
settle = 200
stop_timeout = 30
flush_signal = ALRM
reload_signal = HUP
SVC
: >"$T/ids"
ours() { "$home/bin/qmail-qread" | grep -c "x@$domain"; }
mine() { [ "$(ours)" -ge "$1" ]; }
restore() {
	q stop send >/dev/null 2>&1
	# qmail-send is down: our messages go, by their ids, and our route.
	while read -r _id; do
		find "$home/queue" -type f -name "$_id" -delete
	done <"$T/ids"
	sed -i "/^$domain:/d" "$home/control/smtproutes" 2>/dev/null
}
trap 'restore; cleanup' EXIT

q queue --json >"$T/before" 2>&1; is_rc $? 0 "queue of the real qmail exits 0"
before=$(sed -n 's/.*"messages":\([0-9]*\),.*/\1/p' "$T/before")
todo() { for _f in "$home"/queue/todo/*; do [ -f "$_f" ] && echo "${_f##*/}"; done; return 0; }
todo | sort >"$T/todo.before"
for i in 1 2; do
	printf 'Subject: ops %s\n\nqueued by ops.sh\n' "$i" |
	    "$home/bin/qmail-inject" -f "ops@$domain" "x@$domain"
done
todo | sort | comm -13 "$T/todo.before" - >"$T/ids"
q queue >"$T/out" 2>&1
check "two injected messages are counted, not yet preprocessed (qmail-send is down)" \
    grep -q "^queue: $((before + 2)) messages, [2-9][0-9]* not yet preprocessed" "$T/out"
sed 's/^/# /' "$T/out"

echo "$domain:127.0.0.1:$dead" >>"$home/control/smtproutes"
q start send >"$T/out" 2>&1; is_rc $? 0 "start the real qmail-send"
wait_for 20 mine 2
check "qmail-qread lists them once qmail-send preprocessed them" mine 2
q queue --json >"$T/out" 2>&1
check "queue --json: an oldest message with an id and an age" grep -q '"oldest":{"id":[0-9]*,"queued":[0-9]*,"age":[0-9]*}' "$T/out"
sed 's/^/# /' "$T/out"

# check's thresholds: above N messages WARNING / CRITICAL.
cp "$T/qmailctl.conf" "$T/plain.conf"
echo "check_queue_warn = 1000000" >>"$T/qmailctl.conf"
q check send >"$T/out" 2>&1; is_rc $? 0 "check under the thresholds: OK"
check "... with a queue line and performance data" grep -q '^QMAILCTL OK - queue: .* | messages=[0-9]*;1000000;;0' "$T/out"
cp "$T/plain.conf" "$T/qmailctl.conf"
echo "check_queue_warn = 1" >>"$T/qmailctl.conf"
q check send >"$T/out" 2>&1; is_rc $? 1 "check above check_queue_warn: WARNING (1)"
check "... says which" grep -q '^QMAILCTL WARNING - queue: .*size above check_queue_warn = 1' "$T/out"
echo "check_queue_crit = 1" >>"$T/qmailctl.conf"
q check send >"$T/out" 2>&1; is_rc $? 2 "check above check_queue_crit: CRITICAL (2)"
cp "$T/plain.conf" "$T/qmailctl.conf"
echo "check_queue_age_crit = many" >>"$T/qmailctl.conf"
q check send >"$T/out" 2>&1
is_rc $? 6 "a threshold that is not a number is a configuration error, found at load: exit 6"
check "... naming FILE:LINE" grep -q "qmailctl.conf:[0-9]*: bad number 'many' for 'check_queue_age_crit'" "$T/out"
cp "$T/plain.conf" "$T/qmailctl.conf"
q check smtp >"$T/out" 2>&1
check "check of a service that is not the queue has no queue line" sh -c "! grep -q queue '$T/out'"

# flush: qmail-tcpok, then ALRM.
printf 'not a clear table' >"$home/queue/lock/tcpto"
q flush send >"$T/out" 2>&1; is_rc $? 0 "flush send exits 0"
check "... says it ran qmail-tcpok" grep -q "^send: cleared qmail-tcpto's table of unreachable hosts (qmail-tcpok)" "$T/out"
check "... then sent ALRM" grep -q '^send: sent SIGALRM to qmail-send [0-9]*$' "$T/out"
check "... and the table is clear (zeros only)" sh -c "test -z \"\$(tr -d '\\000' <'$home/queue/lock/tcpto')\""

# metrics with the queue.
q metrics send >"$T/prom" 2>"$T/err"; is_rc $? 0 "metrics send exits 0"
check "... the queue's size" grep -q '^qmailctl_queue_messages [0-9][0-9]*$' "$T/prom"
check "... and its oldest message's age" grep -q '^qmailctl_queue_oldest_message_age_seconds [0-9][0-9]*$' "$T/prom"
if command -v promtool >/dev/null 2>&1; then
	promtool check metrics <"$T/prom" >"$T/out" 2>&1
	is_rc $? 0 "promtool check metrics accepts it with the queue"
else
	skip "promtool is not installed"
fi

# An unreadable queue: qmail's queue is not for other users.
setpriv --reuid=nobody --regid=nogroup --clear-groups \
    "$QMAILCTL" -f "$T/qmailctl.conf" queue >"$T/out" 2>&1
is_rc $? 4 "queue as nobody: exit 4 (insufficient privilege)"
check "... in one line" test "$(wc -l <"$T/out")" = 1
sed 's/^/# /' "$T/out"

done_testing
