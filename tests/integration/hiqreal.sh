#!/bin/sh
# shellcheck disable=SC2154 # tap_n, home, mail_id: set by tests/lib.sh
# hi-q in front of the real qmail: notqmail (tests/notqmail.sh, a private
# home below the build directory) run by the SHIPPED send and smtp
# service files, the smtp one with its commented-out "env =
# QMAILQUEUE=..." line switched on and pointed at this build's hi-q, and
# an "env = HIQ_CONF=..." naming a test hi-q.conf whose queue is the
# private home's qmail-queue.  The one filter is the shipped
# 10-spamc.example, Debian's spamc -E -x, mapped as its comment says to
# refuse spam (reject = 1), against a real spamd started through the
# shipped services/spamd on a free port.
#
# swaks sends two messages to qmail-smtpd: a clean one goes through spamc
# and qmail-queue and qmail-send delivers it to the test user's Maildir;
# the GTUBE one, sent while qmail-send is stopped, gets 554 after DATA,
# from hi-q's exit 82 with a "D" text, and never reaches the queue
# (qmail-qstat), nor the Maildir once qmail-send runs again.
#
# Without the notqmail tarball (or where it cannot be built), without
# swaks, or where spamd cannot start, every test is reported as skipped,
# with the reason.
. "$TESTS/lib.sh"

# The number of tests below: a skip reports each one.
PLANNED=24
notqmail_home
for _p in swaks tcpserver setuidgid multilog; do
	command -v "$_p" >/dev/null 2>&1 || skip_rest "no $_p here (tests/deps.sh)"
done
if why=$(spamd_missing); then skip_rest "$why"; fi

# qmail-smtpd runs hi-q as qmaild: everything hi-q reads must be
# readable by it.
chmod 755 "$T"
smtp_port=$(free_port) spamd_port=$(free_port)
E=$T/etc
HIQ=$BUILD/hi-q

qmail_fresh_home
qmail_test_user

# ---- the site: the shipped send, smtp and spamd, the site values changed ----

mkdir -p "$E/services" "$T/tcp"
cp "$TOP/services/send" "$TOP/services/spamd" "$E/services/"
cp "$TOP/services/tcp/smtp.rules" "$T/tcp/"
# The shipped smtp with its hi-q line switched on, and a second env line
# for the site file, as hi-q(8) says.
sed "s|^#env = QMAILQUEUE=/usr/local/sbin/hi-q\$|env = QMAILQUEUE=$HIQ\\
env = HIQ_CONF=$T/hi-q.conf|" "$TOP/services/smtp" >"$E/services/smtp"
set_keys "services=$E/services" "rundir=$T/run" \
	"path=$home/bin:/usr/local/bin:/usr/bin:/bin" "qmail=$home" "etc=$E" \
	"logdir=$T/log" "rules=$T/tcp" "ip=127.0.0.1" "default=send smtp spamd" \
	"smtp_port=$smtp_port" "spamd_port=$spamd_port" "spamd_children=1"
for _s in send smtp spamd; do
	mkdir -p "$T/log/$_s"
	chown qmaill "$T/log/$_s"
done

# hi-q's site file and its one filter: the shipped example, refusing spam.
mkdir "$T/hi-q.d"
cat >"$T/hi-q.conf" <<EOF
queue = $home/bin/qmail-queue
filters = $T/hi-q.d
timeout = 60
EOF
sed -e "s|-p 783\$|-p $spamd_port|" -e 's|^pass = 0 1$|reject = 1|' \
	"$TOP/services/hi-q.d/10-spamc.example" >"$T/hi-q.d/10-spamc"
check "the shipped smtp service carries the hi-q env line, commented out" \
	grep -qx "env = QMAILQUEUE=$HIQ" "$E/services/smtp"
check "the shipped 10-spamc.example runs spamc -E -x; its pass = 0 1 made reject = 1" \
	sh -c "grep -qx 'run = /usr/bin/spamc -E -x -p $spamd_port' '$T/hi-q.d/10-spamc' &&
		grep -qx 'reject = 1' '$T/hi-q.d/10-spamc'"

q cdb smtp >"$T/out" 2>&1
is_rc $? 0 "qmailctl cdb compiles the shipped smtp.rules"
if ! q start spamd >"$T/out" 2>&1; then
	sed 's/^/# /' "$T/out"
	skip_rest "spamd did not start here: $(tail -n 1 "$T/out")"
fi
ok "spamd starts through the shipped services/spamd on port $spamd_port"
q start send smtp >"$T/out" 2>&1
is_rc $? 0 "the shipped send and smtp start on the real qmail"
sed 's/^/# /' "$T/out"
smtp_pid=$(pid_of smtp)
check "... smtp's tcpserver has QMAILQUEUE=hi-q and HIQ_CONF in its environment" \
	sh -c "tr '\\0' '\\n' <'/proc/$smtp_pid/environ' | grep -qx 'QMAILQUEUE=$HIQ' &&
		tr '\\0' '\\n' <'/proc/$smtp_pid/environ' | grep -qx 'HIQ_CONF=$T/hi-q.conf'"

# smtp_log PATTERN: hi-q's line (through qmail-smtpd's stderr and the
# service's multilog) matches PATTERN (extended).
smtp_log() { grep -Eq "$1" "$T/log/smtp/current" 2>/dev/null; }
queue_empty() {
	"$home/bin/qmail-qstat" >"$T/qstat" 2>&1 &&
		grep -qx 'messages in queue: 0' "$T/qstat" &&
		grep -qx 'messages in queue but not yet preprocessed: 0' "$T/qstat"
}

# ---- a clean message: through spamc and qmail-queue to the Maildir ----

swaks_to qmtest@localhost hiqreal-clean --port "$smtp_port"
is_rc $? 0 "swaks: a clean message is accepted by qmail-smtpd with hi-q as its queue"
sed 's/^/# clean: /' "$T/swaks"
qp=$(sed -n 's/^<-  250 ok .* qp \([0-9][0-9]*\)$/\1/p' "$T/swaks")
check "... after DATA, 250 ok with a qp (${qp:-none}), the pid of the queue program" test -n "$qp"
check "... hi-q's log line: spamc passed it, qmail-queue exit 0, exit 0" \
	wait_for 5 smtp_log "hi-q: qp $qp: 10-spamc pass \\(exit 0\\) [0-9]+ ms, queue exit 0 [0-9]+ ms: exit 0\$"
check "qmail-send delivers it to the test user's Maildir" wait_for 15 delivered hiqreal-clean
check "... checked by spamd on the way (X-Spam-Status: No)" \
	sh -c "grep -q '^X-Spam-Status: No' '$T/home/qmtest/Maildir/new/'*"
check "... and the queue is empty again" wait_for 10 queue_empty

# ---- GTUBE: 554 at DATA, never queued ----

# With qmail-send stopped, a message qmail-queue took would stay in the
# queue for qmail-qstat to count.
q stop send >"$T/out" 2>&1
is_rc $? 0 "send stops, so that what is queued stays queued"
gtube='XJS*C4JDBQADN1.NSBN3*2IDNEN*GTUBE-STANDARD-ANTI-UBE-TEST-EMAIL*C.34X'
swaks_to qmtest@localhost hiqreal-gtube --port "$smtp_port" --body "$gtube"
rc=$?
sed 's/^/# gtube: /' "$T/swaks"
check "swaks: the GTUBE message is refused (swaks exit $rc)" test "$rc" != 0
# rcpt_then_554: RCPT got 250, DATA its 354, and the reply after the
# message's final dot is 554 with hi-q's text.
rcpt_then_554() {
	awk '
		/^ -> RCPT TO:/ { s = 1; next }
		s == 1 && /^<-  250 / { s = 2; next }
		s == 2 && /^ -> DATA$/ { s = 3; next }
		s == 3 && /^<-  354 / { s = 4; next }
		s == 4 && /^ -> \.$/ { s = 5; next }
		s == 5 && /^<\*\* 554 message refused by filter 10-spamc \(#5\.7\.1\)$/ { s = 6 }
		END { exit s != 6 }' "$T/swaks"
}
check "... with <** 554 after DATA: RCPT accepted, 354, the message, then 554 and hi-q's text" \
	rcpt_then_554
check "... hi-q's log line: spamc refused it (exit 1), qmail-queue never had the envelope" \
	wait_for 5 smtp_log "hi-q: qp [0-9]+: 10-spamc reject \\(exit 1\\) [0-9]+ ms, queue exit [0-9]+ [0-9]+ ms: exit 82 Dmessage refused by filter 10-spamc \\(#5\\.7\\.1\\)\$"
sed -n 's/^[^ ]* \(hi-q: \)/# smtp log: \1/p' "$T/log/smtp/current"
"$home/bin/qmail-qstat" >"$T/qstat" 2>&1
sed 's/^/# qstat: /' "$T/qstat"
check "qmail-qstat: no message in the queue, not even unprocessed" queue_empty
check "... nothing left in the queue's mess directory" \
	test -z "$(find "$home/queue/mess" -type f)"
# qmail-send, started again, delivers what is queued (its todo first),
# then a clean message sent after the GTUBE one; the GTUBE one is not
# among them.
q start send >"$T/out" 2>&1
is_rc $? 0 "send starts again"
swaks_to qmtest@localhost hiqreal-after --port "$smtp_port"
is_rc $? 0 "swaks: another clean message is accepted"
check "... and delivered" wait_for 15 delivered hiqreal-after
check "the Maildir holds the two clean messages only: no GTUBE" \
	sh -c "test \$(ls '$T/home/qmtest/Maildir/new' | wc -l) = 2 && ! grep -rq 'GTUBE' '$T/home/qmtest/Maildir'"

# ---- stop ----

pids="$(pid_of send) $smtp_pid $(pid_of spamd)"
q stop >"$T/out" 2>&1
is_rc $? 0 "send, smtp and spamd stop"
sed 's/^/# /' "$T/out"
left=
for _p in $pids; do alive "$_p" && left="$left $_p"; done
check "... none of their servers is alive${left:+ (alive:$left)}" test -z "$left"

[ "$tap_n" = "$PLANNED" ] || fail "PLANNED is $PLANNED, but $tap_n tests ran: correct it"
done_testing
