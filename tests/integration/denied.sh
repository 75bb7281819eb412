#!/bin/sh
# When the kernel refuses qmailctl's signals: a security policy that denies
# them (EPERM), or a system without pidfd_send_signal(2) (ENOSYS, as under
# valgrind).  qmailctl says so at once, in one line, with its exit code,
# and leaves the services as they were: it never waits out a timeout for a
# signal it could not send, and never falls back to a bare pid.
#
# fixtures/nosignal puts qmailctl under a seccomp filter that makes the
# refusal; it is inherited by the workers.  The site runs without cgroups,
# so that zap needs signals too, but for the last test: cgroup.kill is not
# a signal a policy refuses.
. "$TESTS/lib.sh"

make_marked_site "reload_signal = HUP"
echo "cgroup = no" >>"$T/qmailctl.conf"
# Unsupervised: what is refused here is qmailctl's signals to the elements
# (and zap's cgroup.kill without any); a supervisor would be one more
# process whose signals are refused, and one that zap cannot end.
echo "restart = no" >>"$T/qmailctl.conf"

# ---- not root: a command that acts says that it must run as root ----
# (not that the run directory is "writable by a user other than" the
# caller's uid, which is what the owner check made of it)
if command -v setuidgid >/dev/null 2>&1 && getent passwd nobody >/dev/null; then
	chmod 755 "$T"
	nobody=$(id -u nobody)
	for cmd in start stop zap; do
		setuidgid nobody "$QMAILCTL" -f "$T/qmailctl.conf" "$cmd" smtp >"$T/out" 2>"$T/err"
		is_rc $? 4 "$cmd as uid $nobody: exit 4 (insufficient privilege)"
		check "... one line: qmailctl must run as root" test "$(cat "$T/err")" = \
			"qmailctl: fatal: $cmd: qmailctl must run as root (this is uid $nobody)"
	done
	check "... and no run directory was made" test ! -e "$T/run"
	setuidgid nobody "$QMAILCTL" -f "$T/qmailctl.conf" status smtp >"$T/out" 2>&1
	is_rc $? 3 "status needs no root: exit 3, not running"
else
	skip "no setuidgid or no user nobody: qmailctl as an ordinary user"
fi
if ! "$FIXTURES/nosignal" true 2>"$T/err"; then
	skip "no seccomp filter here: $(cat "$T/err")"
	done_testing
	exit
fi
# deny [-a] ARGS: qmailctl under the filter; output in $T/out, $T/err.
deny() {
	_all=
	[ "$1" = -a ] && { _all=-a; shift; }
	# shellcheck disable=SC2086 # _all is empty or one option
	"$FIXTURES/nosignal" $_all "$QMAILCTL" -f "$T/qmailctl.conf" "$@" \
		>"$T/out" 2>"$T/err"
}
show() { sed 's/^/# /' "$T/out" "$T/err"; }

q start smtp pop3 send >"$T/out" 2>&1
is_rc $? 0 "start smtp pop3 send (without the filter)"
before="$(pid_of smtp) $(pid_of pop3) $(pid_of send)"
untouched() {
	test "$(pid_of smtp) $(pid_of pop3) $(pid_of send)" = "$before" &&
		same_process "$T/run/smtp.pid" && same_process "$T/run/pop3.pid" &&
		same_process "$T/run/send.pid" &&
		! grep -q '^State:.*T' "/proc/$(pid_of send)/status"
}

# ---- no pidfd_send_signal at all: refused before anything is done ----
for cmd in stop restart zap reload flush pause cont; do
	deny -a "$cmd" smtp send
	is_rc $? 1 "$cmd without pidfd_send_signal: refused, exit 1"
	check "... one line, saying why" test "$(cat "$T/err")" = \
		"qmailctl: fatal: $cmd: unable to signal through a pidfd (pidfd_send_signal: Function not implemented): refusing to signal by bare pid"
done
check "... and every service was left as it was" untouched
deny -a status
is_rc $? 0 "status needs no signal: exit 0 without pidfd_send_signal"
deny -a check smtp pop3
is_rc $? 0 "nor does check: exit 0"

# ---- a policy that refuses real signals (signal 0 passes) ----
deny stop smtp
is_rc $? 1 "stop, TERM refused: exit 1"
show
check "... the reason, on the server" grep -qx \
	"smtp: failed: unable to send SIGTERM to tcpserver $(pid_of smtp): Operation not permitted" "$T/err"
check "... at once, not after waiting out the stop timeout" \
	sh -c "! grep -q 'still running after' '$T/err'"
check "... smtp left running, its pidfiles in place" untouched

deny restart pop3
is_rc $? 1 "restart, TERM refused: exit 1, nothing started twice"
check "... pop3 left running" untouched

deny reload send
is_rc $? 1 "reload, HUP refused: exit 1 (not 7: the server is running)"
# The stand-in names itself qmail-send, as qmail-start's exec of it does.
check "... saying so" grep -qx \
	"send: failed: unable to send SIGHUP to qmail-send $(pid_of send): Operation not permitted" "$T/err"

deny pause send
is_rc $? 1 "pause, STOP refused: exit 1, not 'sent to 0 processes'"
check "... saying so" grep -q \
	"^send: failed: unable to send SIGSTOP to every process of the group (sent to 0): Operation not permitted" "$T/err"
check "... send not stopped" untouched

# zap: TERM, then KILL, refused to every process of the group.
deny zap smtp
rc=$?
is_rc $rc 1 "zap without a cgroup, KILL refused: exit 1"
show
check "... saying KILL was refused, not 'uninterruptible sleep'" grep -q \
	"^smtp: failed: [0-9]* process.* of the group still running: unable to send SIGKILL: Operation not permitted" "$T/err"

q stop smtp pop3 send >/dev/null 2>&1

# With a cgroup (where the kernel kills one with cgroup.kill), zap does
# not depend on signals.
sed -i '/^cgroup = no$/d' "$T/qmailctl.conf"
q start smtp >/dev/null 2>&1
q -v status smtp >"$T/out" 2>&1
if grep -q "in cgroup" "$T/out" && [ -e "$(sed -n 's/^smtp: in cgroup //p' "$T/out")/cgroup.kill" ]; then
	leader=$(pid_of smtp)
	deny zap smtp
	is_rc $? 0 "zap of a server in a cgroup, every signal refused: exit 0 (cgroup.kill)"
	show
	check "... the server is gone" gone "$leader"
else
	skip "no cgroup with cgroup.kill here"
fi
q stop smtp >/dev/null 2>&1
done_testing
