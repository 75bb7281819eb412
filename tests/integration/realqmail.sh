#!/bin/sh
# shellcheck disable=SC2154 # tap_n: set by tests/lib.sh
# The real qmail: notqmail (tests/notqmail.sh builds it once per build
# directory, with a private home below it) run by the SHIPPED service
# files, with only the site values changed in a test site config: ports,
# rundir, log, rules and etc directories, qmail's home, a certificate from
# "qmailctl cert".  The stunnel configs are the shipped ones with their
# absolute paths (which stunnel, not qmailctl, reads) pointed at the test's.
#
# Mail in over SMTP and SMTPS (swaks) is delivered by qmail-send to the
# Maildir of a test user (users/assign, no passwd entry) and read back
# over POP3S and over POP3 after STLS (python3's poplib), checked by a
# checkpassword of the tests' own (fixtures/checkpw), setuid root in a
# directory only qmaild may enter, as the install guide has it.  Then
# qmail-remote hangs on a server of the test's that never answers
# (control/smtproutes): stop gives up with the zap hint, zap ends every
# process of qmail-send's group and cgroup, the messages stay queued, and
# after start and flush they go to a real qmail-smtpd of the test's.
#
# Without the notqmail tarball (or where it cannot be built), or without
# swaks or python3, every test is reported as skipped, with the reason.
. "$TESTS/lib.sh"

# The number of tests below: a skip reports each one.
PLANNED=34
notqmail_home
for _p in swaks python3 openssl stunnel tcpserver setuidgid multilog; do
	command -v "$_p" >/dev/null 2>&1 || skip_rest "no $_p here (tests/deps.sh)"
done

chmod 755 "$T"
smtp_port=$(free_port) smtps_port=$(free_port) pop3_port=$(free_port)
pop3s_port=$(free_port) hang_port=$(free_port) good_port=$(free_port)
E=$T/etc

# ---- qmail's private home: an empty queue, this test's control files ----

qmail_fresh_home
# The test user, known to checkpw through its own list too.
qmail_test_user

# ---- the site: the shipped files, the site values changed ----

mkdir -p "$E/services" "$E/stunnel" "$T/tcp" "$T/rbin"
for _s in send smtp smtps pop3 pop3s; do cp "$TOP/services/$_s" "$E/services/"; done
for _s in smtps pop3 pop3s; do
	sed -e "s|/var/qmail/rbin/|$T/rbin/|g" -e "s|/var/qmail/|$home/|g" \
		-e "s|/etc/qmailctl/|$E/|g" "$TOP/services/stunnel/$_s.conf" \
		>"$E/stunnel/$_s.conf"
done
cp "$TOP"/services/tcp/*.rules "$T/tcp/"
set_keys "services=$E/services" "rundir=$T/run" \
	"path=$home/bin:/usr/local/bin:/usr/bin:/bin" "qmail=$home" "etc=$E" \
	"logdir=$T/log" "rules=$T/tcp" "ip=127.0.0.1" \
	"smtp_port=$smtp_port" "smtps_port=$smtps_port" \
	"pop3_port=$pop3_port" "pop3s_port=$pop3s_port"
for _s in send smtp smtps pop3 pop3s; do
	mkdir -p "$T/log/$_s"
	chown qmaill "$T/log/$_s"
done
# checkpassword as the install guide sets it up: setuid root, in a
# directory only qmaild may enter.
cp "$FIXTURES/checkpw" "$T/rbin/checkpassword"
chmod 4755 "$T/rbin/checkpassword"
echo "qmtest secret $mail_id $mail_id $T/home/qmtest" >"$T/rbin/checkpassword.users"
chmod 600 "$T/rbin/checkpassword.users"
chown qmaild "$T/rbin"
chmod 500 "$T/rbin"

q cert >"$T/out" 2>&1
is_rc $? 0 "qmailctl cert makes the services' certificate"
sed 's/^/# /' "$T/out"
q cdb >"$T/out" 2>&1
is_rc $? 0 "qmailctl cdb compiles the shipped rules"

q start >"$T/out" 2>&1
is_rc $? 0 "the shipped send, smtp, smtps, pop3, pop3s start on the real qmail"
sed 's/^/# /' "$T/out"
check "... each confirmed" test "$(grep -c ': started (' "$T/out")" = 5
send_pid=$(pid_of send)
check "send's recorded server is qmail-send (qmail-start exec'd it)" \
	test "$(cat "/proc/$send_pid/comm" 2>/dev/null)" = qmail-send

q check >"$T/out" 2>&1
is_rc $? 0 "check: every shipped service OK on the real qmail"
sed 's/^/# /' "$T/out"
check "... the certificate cert made has the 365 days cert said" \
	grep -q "^QMAILCTL OK - smtps ready in .*, cert expires in 365 days\$" "$T/out"

# ---- mail in over SMTP and SMTPS, delivered by qmail-send ----

swaks_to qmtest@localhost realqmail-smtp --port "$smtp_port"
is_rc $? 0 "swaks delivers a message over SMTP to the real qmail-smtpd"
swaks_to qmtest@localhost realqmail-smtps --port "$smtps_port" --tls-on-connect
is_rc $? 0 "swaks delivers one over SMTPS (--tls-on-connect)"
grep -i 'tls started\|TLS.*cipher' "$T/swaks" | sed 's/^/# /'
check "qmail-send delivers the SMTP one to the test user's Maildir" \
	wait_for 10 delivered realqmail-smtp
check "... and the SMTPS one" wait_for 10 delivered realqmail-smtps
check "... by qmail-local (Delivered-To), through qmail-queue" \
	sh -c "test \"\$(cat '$T/home/qmtest/Maildir/new/'* | grep -c '^Delivered-To: qmtest@localhost')\" = 2 &&
		cat '$T/home/qmtest/Maildir/new/'* | grep -q '(qmail [0-9]* invoked from network)'"

# ---- read back over POP3S and over POP3 after STLS ----

cat >"$T/pop.py" <<'PY'
# pop.py pop3s|stls PORT: logs in as qmtest, prints "count N" and the
# Subject lines of every message.
import poplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
if sys.argv[1] == "pop3s":
    p = poplib.POP3_SSL("127.0.0.1", int(sys.argv[2]), context=ctx, timeout=10)
else:
    p = poplib.POP3("127.0.0.1", int(sys.argv[2]), timeout=10)
    p.stls(ctx)
p.user("qmtest")
p.pass_("secret")
n = p.stat()[0]
print("count", n)
for i in range(1, n + 1):
    for line in p.retr(i)[1]:
        if line.lower().startswith(b"subject:"):
            print(line.decode("ascii", "replace"))
p.quit()
PY
# pop_both MODE PORT: the session lists both messages.  qmail-pop3d lists
# a message only once its mtime is before the current second: retried.
pop_both() {
	timeout 15 python3 "$T/pop.py" "$1" "$2" >"$T/pop" 2>&1 &&
		grep -qx 'count 2' "$T/pop"
}
check "POP3S: checkpw lets qmtest in, qmail-pop3d lists both messages" \
	wait_for 5 pop_both pop3s "$pop3s_port"
sed 's/^/# pop3s: /' "$T/pop"
check "... and both are read back" sh -c \
	"grep -qx 'Subject: realqmail-smtp' '$T/pop' && grep -qx 'Subject: realqmail-smtps' '$T/pop'"
check "POP3 after STLS: the same two messages" wait_for 5 pop_both stls "$pop3_port"
sed 's/^/# stls: /' "$T/pop"
check "... read back" sh -c \
	"grep -qx 'Subject: realqmail-smtp' '$T/pop' && grep -qx 'Subject: realqmail-smtps' '$T/pop'"
"$FIXTURES/client" 127.0.0.1 "$pop3_port" "USER qmtest" "PASS secret" >"$T/plain" 2>&1
sed 's/^/# plain pop3: /' "$T/plain"
check "POP3 without STLS: the greeting, then no session (USER is not answered)" \
	sh -c "test \"\$(wc -l <'$T/plain')\" = 1 && ! sed 1d '$T/plain' | grep -q '^+OK'"
timeout 15 python3 - "$pop3s_port" >"$T/bad" 2>&1 <<'PY'
import poplib, ssl, sys
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
p = poplib.POP3_SSL("127.0.0.1", int(sys.argv[1]), context=ctx, timeout=10)
p.user("qmtest")
try:
    p.pass_("wrong")
    print("logged in")
except poplib.error_proto as e:
    print("refused", e)
PY
check "a wrong password is refused (checkpw exits 1)" grep -q '^refused' "$T/bad"

# ---- qmail-remote hung on a server that never answers ----

# hang: accepts every connection and says nothing for 50 s.
setsid tcpserver -v -R -H -l 0 127.0.0.1 "$hang_port" sleep 50 2>"$T/hang.log" &
hang=$!
track_pgid "$hang"
track_pid "$hang"
check "a server that never answers listens" wait_for 5 grep -q 'status: 0/' "$T/hang.log"
echo "hang.test:127.0.0.1:$hang_port" >"$home/control/smtproutes"
chmod 644 "$home/control/smtproutes"

pgid=$(stat_field "$send_pid" 5)
cgroup=$(q status --json send | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
note "send: pgid $pgid, cgroup '${cgroup:-none}'"
# remotes: the qmail-remote processes in qmail-send's process group.
remotes() {
	cat /proc/[0-9]*/stat 2>/dev/null |
		awk -v g="$pgid" '$5 == g && $2 == "(qmail-remote)" && $3 != "Z" { n++ } END { print n + 0 }'
}
two_remotes() { test "$(remotes)" = 2 && grep -q 'status: 2/' "$T/hang.log"; }
swaks_to one@hang.test realqmail-hang-1 --port "$smtp_port"
r1=$?
swaks_to two@hang.test realqmail-hang-2 --port "$smtp_port"
is_rc "$r1$?" 00 "two messages for hang.test queued over SMTP"
check "two qmail-remote processes, connected and hung" wait_for 10 two_remotes
group_pids=$(cat /proc/[0-9]*/stat 2>/dev/null | awk -v g="$pgid" '$5 == g { printf "%s ", $1 }')
note "send's group: $group_pids"

q -t 2 stop send >"$T/out" 2>&1
is_rc $? 1 "stop send gives up (exit 1) while qmail-remote hangs"
sed 's/^/# /' "$T/out"
check "... and says that zap kills the group" grep -q "still running after .*'qmailctl zap send'" "$T/out"

q zap send >"$T/out" 2>&1
is_rc $? 0 "zap send exits 0"
sed 's/^/# /' "$T/out"
check "... no live process left in qmail-send's process group" test "$(group_live "$pgid")" = 0
left=
for _p in $group_pids; do alive "$_p" && left="$left $_p"; done
check "... none of the pids seen in it is alive${left:+ (alive:$left)}" test -z "$left"
cgroup_empty() {
	[ -z "$cgroup" ] || [ ! -e "$cgroup/cgroup.procs" ] || [ ! -s "$cgroup/cgroup.procs" ]
}
check "... and its cgroup holds no process" cgroup_empty
"$home/bin/qmail-qstat" >"$T/qstat" 2>&1
sed 's/^/# /' "$T/qstat"
check "the two messages are still in the queue (qmail-qstat)" \
	grep -qx 'messages in queue: 2' "$T/qstat"

# ---- start, flush: delivered to a server that answers ----

# good: a real qmail-smtpd of the test's own whose queue program keeps
# each message in $T/got (the message on fd 0, then the envelope on fd 1).
mkdir "$T/got"
cat >"$T/keep" <<EOF
#!/bin/sh
cat >"$T/got/.m\$\$" && cat <&1 >"$T/got/env.\$\$" && mv "$T/got/.m\$\$" "$T/got/msg.\$\$"
EOF
chmod 755 "$T/keep"
RELAYCLIENT="" QMAILQUEUE=$T/keep setsid tcpserver -v -R -H -l 0 127.0.0.1 \
	"$good_port" "$home/bin/qmail-smtpd" 2>"$T/good.log" &
good=$!
track_pgid "$good"
track_pid "$good"
wait_for 5 grep -q 'status: 0/' "$T/good.log" || note "the second qmail-smtpd is not listening"
echo "hang.test:127.0.0.1:$good_port" >"$home/control/smtproutes"

q start send >"$T/out" 2>&1
is_rc $? 0 "start send again"
sed 's/^/# /' "$T/out"
pgid2=$(stat_field "$(pid_of send)" 5)
q flush send >"$T/out" 2>&1
is_rc $? 0 "flush send"
got_both() {
	grep -qx 'Subject: realqmail-hang-1' "$T"/got/msg.* 2>/dev/null &&
		grep -qx 'Subject: realqmail-hang-2' "$T"/got/msg.* 2>/dev/null
}
check "both queued messages are delivered to the server that answers" wait_for 15 got_both
queue_empty() {
	"$home/bin/qmail-qstat" >"$T/qstat" 2>&1 && grep -qx 'messages in queue: 0' "$T/qstat"
}
check "... and leave the queue" wait_for 10 queue_empty

q stop >"$T/out" 2>&1
is_rc $? 0 "every service stops"
sed 's/^/# /' "$T/out"
check "... qmail-send's new group with it" test "$(group_live "$pgid2")" = 0

[ "$tap_n" = "$PLANNED" ] || fail "PLANNED is $PLANNED, but $tap_n tests ran: correct it"
done_testing
