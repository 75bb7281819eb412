#!/bin/sh
# shellcheck disable=SC2154 # smtp_port: set by make_site (tests/lib.sh)
# Supervision: qmailctl-supervise restarts what exits unasked, holds the
# log pipe, backs off and gives up; stop and zap bring nothing back.
. "$TESTS/lib.sh"

make_site
add_plain_services

q start smtp >"$T/out" 2>&1
is_rc $? 0 "start smtp (supervised by default) exits 0"
cat "$T/out" | sed 's/^/# /'
check "the supervisor's pidfile names a live process" same_process "$T/run/smtp.sup.pid"
sup=$(head -n 1 "$T/run/smtp.sup.pid")
check "ps shows which service it keeps" test "$(tr '\0' ' ' <"/proc/$sup/cmdline")" = "qmailctl-supervise smtp "
spid=$(pid_of smtp) lpid=$(pid_of smtp log)
check "the supervisor is the server's parent" test "$(stat_field "$spid" 4)" = "$sup"
check "the supervisor is the logger's parent" test "$(stat_field "$lpid" 4)" = "$sup"
check "the supervisor leads a session of its own" test "$(stat_field "$sup" 6)" = "$sup"
q status smtp >"$T/st"; cat "$T/st" | sed 's/^/# /'

done_testing
