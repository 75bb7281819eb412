#!/bin/sh
# qmailctl's paths under valgrind (memcheck): no error, no leak.
#
# Debian 12's valgrind (3.19) does not know pidfd_open(2): under it every
# path that holds a process (start, stop, status, zap, check ...) meets
# ENOSYS, and that is tested too: qmailctl must say it cannot work, not
# misreport a live service as dead.  Those paths are covered by the
# ASan/LeakSanitizer build instead (make check SANITIZE=1).
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
. "$TESTS/lib.sh"

if ! command -v valgrind >/dev/null 2>&1; then
	skip "valgrind is not installed"
	done_testing
	exit
fi
if grep -q __asan_init "$QMAILCTL"; then
	skip "an ASan build (SANITIZE=1) cannot run under valgrind; ASan checks it"
	done_testing
	exit
fi
make_site
add_plain_services
vg() {
	valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite,indirect \
		--trace-children=no "$QMAILCTL" -f "$T/qmailctl.conf" "$@" >"$T/out" 2>"$T/err"
}
clean() { ! grep -q '^==[0-9]*==' "$T/err"; }

vg list
is_rc $? 0 "list under valgrind: exit 0"
check "... no error, no leak" clean
vg -n start smtp pop3
is_rc $? 0 "-n start under valgrind: exit 0"
check "... no error, no leak" clean
vg cert "$T/cert.pem"
is_rc $? 0 "cert under valgrind: exit 0"
check "... no error, no leak" clean
printf 'run = sleep 1\nrnu = x\n' >"$T/services/typo"
vg start typo
is_rc $? 6 "a configuration error under valgrind: exit 6"
check "... no error, no leak" clean
rm "$T/services/typo"
vg start nosuch
is_rc $? 2 "an unknown service under valgrind: exit 2"
check "... no error, no leak" clean

q start smtp >/dev/null 2>&1
vg status smtp
rc=$?
if grep -q 'pidfd_open\|unhandled syscall\|syscall 434' "$T/err"; then
	is_rc $rc 4 "without pidfd_open (valgrind's ENOSYS), status exits 4 (unknown)"
	check "... saying why, not 'dead'" grep -q 'needs Linux 5.3' "$T/err"
	check "... while the service runs" same_process "$T/run/smtp.pid"
else
	is_rc $rc 0 "status under valgrind: exit 0"
	check "... no error, no leak" clean
fi
q stop smtp >/dev/null 2>&1
done_testing
