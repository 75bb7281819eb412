#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# qmailctl-supervise links without OpenSSL: a running supervisor, of a
# plain or of a TLS service, maps no libssl or libcrypto; its TLS probes
# run in qmailctl (as qmailctl-probe) and still confirm a restart only
# when the service truly serves through TLS; a site name long enough to
# be hashed keeps its cgroup across restarts though the supervisor cannot
# hash; start refuses, leaving nothing, when the supervisor's program is
# not beside qmailctl.  Memory figures are bench/'s, not asserted here.
. "$TESTS/lib.sh"

make_site
chmod 755 "$T"          # stunnel, as nobody, reads its config and cert
smtps_port=$(free_port) pop3s_port=$(free_port)
printf 'smtps_port = %s\npop3s_port = %s\n' "$smtps_port" "$pop3s_port" \
	>>"$T/qmailctl.conf"
add_plain_services
add_tls_services
# the TLS services' program, a copy that the test can take away
mkdir -p "$T/bin"
cp "$FIXTURES/greeter" "$T/bin/greeter"
sed -i "s|^exec = .*|exec = $T/bin/greeter|" "$T/stunnel/"*.conf
for _s in smtp smtps pop3; do
	printf 'restart_limit = 1000 1\nbackoff_max = 20\n' >>"$T/services/$_s"
done
# the supervisor gives up waiting for a restarted smtps after 2 s
echo 'start_timeout = 2' >>"$T/services/smtps"
q cert "$T/cert.pem" >"$T/out" 2>&1 || sed 's/^/# /' "$T/out"
chmod 644 "$T/cert.pem"

sup_pid() { head -n 1 "$T/run/$1.sup.pid"; }
state_is() { q status "$1" 2>/dev/null | grep -q "^$1: $2"; }
# no_ssl NAME: NAME's supervisor maps neither library.
no_ssl() {
	_m=/proc/$(sup_pid "$1")/maps
	[ -r "$_m" ] && grep -q "${QMAILCTL%/*}/qmailctl-supervise" "$_m" &&
		! grep -q 'libssl\|libcrypto' "$_m"
}
rss() { awk '/^VmRSS/ { print $2 " kB" }' "/proc/$(sup_pid "$1")/status"; }
# back NAME OLD: NAME's server is a new process and the supervisor says up.
back() {
	_p=$(pid_of "$1" 2>/dev/null)
	[ -n "$_p" ] && [ "$_p" != "$2" ] && state_is "$1" up
}

q start smtp smtps pop3 >"$T/out" 2>&1
is_rc $? 0 "start smtp, smtps and pop3 (supervised)"
sed 's/^/# /' "$T/out"
for _s in smtp smtps pop3; do
	check "$_s: its supervisor maps no libssl or libcrypto" no_ssl "$_s"
	note "$_s: supervisor VmRSS $(rss "$_s")"
done
check "qmailctl itself links no OpenSSL" \
	sh -c "! ldd '$QMAILCTL' | grep -q 'libssl\|libcrypto'"
check "... its TLS plugin does (so the checks above can fail)" \
	sh -c "ldd '${QMAILCTL%/*}/qmailctl-tls.so' | grep -q libcrypto"

# The relay's own end: qmailctl run as qmailctl-probe -s, a request a
# line on stdin (probe_relay.h), a result for each.
ln -s "$QMAILCTL" "$T/bin/qmailctl-probe"
printf 'tls\t127.0.0.1\t%s\t5000\t+220\t\ntcp\t127.0.0.1\t%s\t2000\t+220\t\n' \
	"$smtps_port" "$(free_port)" | "$T/bin/qmailctl-probe" -s >"$T/out" 2>&1
is_rc $? 0 "qmailctl-probe -s answers two requests and exits 0 at EOF"
sed 's/^/# /' "$T/out"
check "... the first passed through TLS, saying what it negotiated" \
	sh -c "sed -n 1p '$T/out' | grep -q '^0 0 [-0-9]* TLSv1\.[23] [A-Z0-9_-]*\$'"
check "... the second failed, refused, with its reason" sh -c \
	"sed -n 2p '$T/out' | grep -q '^-1 1 ' && sed -n 3p '$T/out' | grep -q '^probe 127.0.0.1:[0-9]*: connection refused\$'"
printf 'tls 127.0.0.1\n' | "$T/bin/qmailctl-probe" -s >"$T/out" 2>&1
is_rc $? 2 "a request it cannot read is a usage error"
"$T/bin/qmailctl-probe" tls >"$T/out" 2>&1
is_rc $? 2 "so is anything but -s"

# A TLS restart confirmed through the relayed probe.
for _s in smtps pop3; do
	old=$(pid_of "$_s")
	kill -KILL "$old"
	wait_for 10 back "$_s" "$old"
	check "$_s: its server killed, the restart is confirmed up" back "$_s" "$old"
	check "... its supervisor still maps no OpenSSL" no_ssl "$_s"
done
s_client 'QUIT\r\n' -connect "127.0.0.1:$smtps_port" >"$T/out"
check "smtps answers an independent client through TLS" grep -q '^220 ' "$T/out"

# stunnel's program gone: tcpserver and stunnel run, but nothing serves,
# and the relayed probe must not say up (within its start_timeout).
mv "$T/bin/greeter" "$T/bin/greeter.away"
old=$(pid_of smtps)
kill -KILL "$old"
not_up() {
	_p=$(pid_of smtps 2>/dev/null)
	[ -n "$_p" ] && [ "$_p" != "$old" ] && q status smtps >"$T/st" 2>&1 &&
		! grep -q '^smtps: up' "$T/st" && grep -q 'probe 127.0.0.1' "$T/st"
}
wait_for 10 not_up
check "exec target missing: the restarted smtps is not confirmed up" not_up
sed 's/^/# /' "$T/st"
mv "$T/bin/greeter.away" "$T/bin/greeter"
q stop smtp smtps pop3 >"$T/out" 2>&1
is_rc $? 0 "stop smtp, smtps and pop3"

# qmailctl loads OpenSSL only where it uses it: not for a start whose
# certificate is remembered (the supervisor's relay probes through TLS),
# nor for status or stop; for check's TLS probe, yes.  ld.so's own
# record (LD_DEBUG=files) of the qmailctl process and its workers, not
# of the programs it starts, which write files of their own.
loads_crypto() {
	rm -f "$T"/ld.*
	sh -c 'echo $$ >"$0"; exec "$@"' "$T/ldpid" env LD_DEBUG=files \
		LD_DEBUG_OUTPUT="$T/ld" "$QMAILCTL" -f "$T/qmailctl.conf" "$@" \
		>"$T/out" 2>&1
	_rc=$?
	grep -q 'libcrypto' "$T/ld.$(cat "$T/ldpid")" && return 0
	[ "$_rc" -eq 0 ] && return 1
	sed 's/^/# /' "$T/out"
	return 2
}
for _c in "start smtps" "status smtps" "stop smtps"; do
	# shellcheck disable=SC2086 # the command's words
	loads_crypto $_c
	is_rc $? 1 "$_c: qmailctl loads no libcrypto"
done
q start smtps >/dev/null 2>&1
loads_crypto check smtps
is_rc $? 0 "check smtps, a probe through TLS: it loads libcrypto"
q stop smtps >/dev/null 2>&1

# A site whose cgroup name is hashed (its rundir, escaped, is longer than
# NAME_MAX): the supervisor gets the digest from qmailctl.
cgroot=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
long="$T/$(printf 'd%.0s' $(seq 150))/$(printf 'e%.0s' $(seq 150))"
mkdir -p "$long"
sed "s|^rundir = run|rundir = $long/run|" "$T/qmailctl.conf" >"$T/long.conf"
ql() { "$QMAILCTL" -f "$T/long.conf" "$@"; }
cg_of() { sed -n 's|^0::||p' "/proc/$1/cgroup"; }
ql start smtp >"$T/out" 2>&1
is_rc $? 0 "a site with a long rundir: start smtp"
cg=$(ql status --json smtp | sed -n 's/.*"cgroup":"\([^"]*\)".*/\1/p')
if [ -z "$cgroot" ] || [ -z "$cg" ]; then
	skip "no cgroup of qmailctl's here: no hashed site name to keep"
	skip "(same)"
else
	note "cgroup $cg"
	check "... its cgroup's site name is hashed" sh -c "echo '$cg' | grep -q '~[0-9a-f]\{32\}/smtp\$'"
	old=$(head -n 1 "$long/run/smtp.pid")
	kill -KILL "$old"
	back_long() {
		_p=$(head -n 1 "$long/run/smtp.pid" 2>/dev/null)
		[ -n "$_p" ] && [ "$_p" != "$old" ] && ql status smtp 2>/dev/null | grep -q '^smtp: up'
	}
	wait_for 10 back_long
	new=$(head -n 1 "$long/run/smtp.pid")
	check "... the restarted server is in that same cgroup" test "$cgroot$(cg_of "$new")" = "$cg"
fi
ql stop smtp >"$T/out" 2>&1
is_rc $? 0 "... stop"

# qmailctl alone, its supervisor's program not beside it: refused, exit 5.
cp "$QMAILCTL" "$T/bin/qmailctl"
"$T/bin/qmailctl" -f "$T/qmailctl.conf" start smtp >"$T/out" 2>&1
is_rc $? 5 "no qmailctl-supervise beside qmailctl: start exits 5"
check "... saying what is missing, where" grep -q "^smtp: failed: qmailctl-supervise is not installed beside qmailctl ($T/bin/qmailctl-supervise: " "$T/out"
check "... and nothing runs, nothing is recorded" test -z "$(pidfiles_in "$T/run")"
# A qmailctl-supervise beside it that the kernel cannot run (no format
# it knows): the spawn's own error, and nothing is left.
printf 'not a program\n' >"$T/bin/qmailctl-supervise"
chmod 755 "$T/bin/qmailctl-supervise"
"$T/bin/qmailctl" -f "$T/qmailctl.conf" start smtp >"$T/out" 2>&1
is_rc $? 1 "a qmailctl-supervise that cannot run: start exits 1"
check "... saying why" grep -q "^smtp: failed: unable to run qmailctl-supervise: Exec format error" "$T/out"
check "... and nothing runs, nothing is recorded" test -z "$(pidfiles_in "$T/run")"
rm -f "$T/bin/qmailctl-supervise"
# ... and no TLS plugin beside it: what needs OpenSSL fails, saying why;
# the plugin of another build is refused, not called.
"$T/bin/qmailctl" -f "$T/qmailctl.conf" cert "$T/nocert.pem" >"$T/out" 2>&1
is_rc $? 1 "no qmailctl-tls.so beside qmailctl: cert exits 1"
check "... saying what could not be loaded" grep -q "^qmailctl: fatal: cert: certificate $T/nocert.pem: unable to load TLS support: $T/bin/qmailctl-tls.so: cannot open shared object file" "$T/out"
check "... and writes nothing" test ! -e "$T/nocert.pem"
cp "$FIXTURES/tls_other.so" "$T/bin/qmailctl-tls.so"
"$T/bin/qmailctl" -f "$T/qmailctl.conf" cert "$T/nocert.pem" >"$T/out" 2>&1
is_rc $? 1 "another build's qmailctl-tls.so: cert exits 1"
check "... saying it is not this qmailctl's" grep -q "^qmailctl: fatal: cert: certificate $T/nocert.pem: unable to load TLS support: $T/bin/qmailctl-tls.so is not qmailctl [0-9.]*'s\$" "$T/out"
rm -f "$T/bin/qmailctl-tls.so"
# ... nor does it take over a service whose supervisor died: that one
# stays as it is, and status still says it is unsupervised.
q start smtp >/dev/null 2>&1
sup=$(sup_pid smtp) run=$(pid_of smtp)
kill -KILL "$sup"
wait_for 5 gone "$sup"
"$T/bin/qmailctl" -f "$T/qmailctl.conf" start smtp >"$T/out" 2>&1
is_rc $? 5 "... the same refusal for a service to take over"
check "... which runs on, and status says unsupervised" sh -c \
	"'$QMAILCTL' -f '$T/qmailctl.conf' status smtp | grep -q '^smtp: unsupervised (tcpserver $run '"
q stop smtp >/dev/null 2>&1
# The supervisor keeps no descriptor of its caller's but fds 0-2.
q start smtp 7>"$T/inherited" >/dev/null 2>&1
check "the supervisor did not inherit the caller's fd 7" sh -c \
	"ls -l /proc/$(sup_pid smtp)/fd | grep -q /dev/null && ! ls -l /proc/$(sup_pid smtp)/fd | grep -q '$T/inherited'"
q stop smtp >/dev/null 2>&1

check "nothing left running" site_empty
done_testing
