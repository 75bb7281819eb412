#!/bin/sh
# pido: the pidfile holds the exec'd program's own pid, is written
# atomically, never follows a symlink, and every exit code is as documented.
. "$TESTS/lib.sh"

d=$T/run
mkdir -m 0755 "$d"

# The recorded pid is the running program's pid.
"$PIDO" "$d/p.pid" sleep 60 &
bg=$!
track_pid "$bg"
wait_for 5 test -s "$d/p.pid"
check "pidfile's first line is the pid of the exec'd program" \
	test "$(head -n 1 "$d/p.pid")" = "$bg"
wait_for 5 grep -qx sleep "/proc/$bg/comm"
check "that pid is running the program (comm is sleep)" grep -qx sleep "/proc/$bg/comm"
check "the recorded start time matches /proc/PID/stat" same_process "$d/p.pid"
check "the recorded boot id is this boot's" \
	grep -qx "boot $(cat /proc/sys/kernel/random/boot_id)" "$d/p.pid"
check "no temporary file is left after success" \
	test "$(ls -A "$d")" = "p.pid"
kill "$bg"; wait "$bg" 2>/dev/null

# A symlink planted at PIDFILE is replaced, its target untouched.
echo precious >"$T/target"
ln -s "$T/target" "$d/link.pid"
"$PIDO" "$d/link.pid" true
check_rc "pido over a planted symlink succeeds" 0 test -f "$d/link.pid"
check "the symlink was replaced by a regular file" test ! -L "$d/link.pid"
check "the symlink's target is untouched" test "$(cat "$T/target")" = precious

# Exit codes, and every error is one line in the one format.
# fails_with DESCRIPTION RC PATTERN COMMAND...: COMMAND exits RC and says
# exactly one line on stderr, which matches the grep -E PATTERN.
fails_with() {
	_d=$1 _want=$2 _pat=$3; shift 3
	"$@" 2>"$T/err"; _rc=$?
	if [ "$_rc" = "$_want" ]; then ok "$_d"; else fail "$_d (exit $_rc, want $_want)"; fi
	_n=$(wc -l <"$T/err")
	if [ "$_n" = 1 ] && grep -Eq "$_pat" "$T/err"; then
		ok "... in one line: $(cat "$T/err")"
	else
		fail "... in one line matching $_pat ($_n lines)"
		sed 's/^/# /' "$T/err"
	fi
}
usage='; usage: pido \[-s \| -g\] PIDFILE PROGRAM \[ARG \.\.\.\]$'
fails_with "no arguments: usage, exit 100" 100 "^pido: fatal: no PIDFILE$usage" "$PIDO"
fails_with "PIDFILE but no PROGRAM: exit 100" 100 "^pido: fatal: no PROGRAM$usage" "$PIDO" "$d/x.pid"
fails_with "-s and -g together: exit 100" 100 "^pido: fatal: -s and -g exclude each other$usage" \
	"$PIDO" -s -g "$d/x.pid" true
fails_with "unknown option: exit 100" 100 "^pido: fatal: unknown option -z$usage" \
	"$PIDO" -z "$d/x.pid" true
fails_with "missing directory: exit 111" 111 \
	"^pido: fatal: unable to open directory $T/nodir: No such file or directory$" \
	"$PIDO" "$T/nodir/x.pid" true
check "... and no pidfile" test ! -e "$T/nodir/x.pid"
check "... and no pidfile written" test ! -e "$d/x.pid"
fails_with "program not found: exit 127" 127 \
	"^pido: fatal: unable to run /nonexistent/prog: No such file or directory$" \
	"$PIDO" "$d/nf.pid" /nonexistent/prog
check "... and its pidfile is removed" test ! -e "$d/nf.pid"
fails_with "program not in PATH: exit 127" 127 \
	"^pido: fatal: unable to run no-such-program-qmailctl: No such file or directory$" \
	"$PIDO" "$d/nf.pid" no-such-program-qmailctl
printf 'not a program\n' >"$T/plain"
chmod 0644 "$T/plain"
fails_with "program not executable: exit 126" 126 \
	"^pido: fatal: unable to run $T/plain: Permission denied$" \
	"$PIDO" "$d/ne.pid" "$T/plain"
check "... and its pidfile is removed" test ! -e "$d/ne.pid"
no_tmp() {
	for _f in "$1"/.*tmp* "$1"/*tmp*; do [ -e "$_f" ] && return 1; done
	return 0
}
check "no temporary file is left after failures" no_tmp "$d"
check_rc "the program's exit code passes through" 3 "$PIDO" "$d/rc.pid" sh -c 'exit 3'
check "options after PROGRAM belong to PROGRAM" \
	test "$("$PIDO" "$d/o.pid" echo -s -g)" = "-s -g"

# -s and -g really change the session / process group.
"$PIDO" -s "$d/s.pid" sh -c 'cut -d" " -f5,6 /proc/$$/stat >"$0"; echo $$ >>"$0"' "$T/s.out"
# shellcheck disable=SC2046 # three numbers, split on purpose
set -- $(head -n 1 "$T/s.out") $(sed -n 2p "$T/s.out")
check "-s: the program leads its own session" test "$2" = "$3"
check "-s: and its own process group" test "$1" = "$3"
"$PIDO" -g "$d/g.pid" sh -c 'cut -d" " -f5,6 /proc/$$/stat >"$0"; echo $$ >>"$0"' "$T/g.out"
# shellcheck disable=SC2046 # three numbers, split on purpose
set -- $(head -n 1 "$T/g.out") $(sed -n 2p "$T/g.out")
check "-g: the program leads its own process group" test "$1" = "$3"
check "-g: but stays in the caller's session" test "$2" = "$(cut -d' ' -f6 /proc/$$/stat)"
check "-g: the pidfile records the new group" grep -qx "pgid $3" "$d/g.pid"

# Unsafe directories are refused, sticky ones of ours accepted.
mkdir "$T/ww" && chmod 0777 "$T/ww"
fails_with "world-writable non-sticky directory: exit 111" 111 \
	"^pido: fatal: refusing directory $T/ww \\(writable by group or others and not a sticky directory of ours\\)$" \
	"$PIDO" "$T/ww/x.pid" true
check "... and nothing was written there" test -z "$(ls -A "$T/ww")"
mkdir "$T/gw" && chmod 0775 "$T/gw"
fails_with "group-writable directory: exit 111" 111 "^pido: fatal: refusing directory $T/gw " \
	"$PIDO" "$T/gw/x.pid" true
mkdir "$T/st" && chmod 1777 "$T/st"
check_rc "sticky world-writable directory we own: accepted" 0 "$PIDO" "$T/st/x.pid" true
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	mkdir "$T/other" && chmod 1777 "$T/other" && chown nobody "$T/other"
	fails_with "sticky directory owned by someone else: exit 111" 111 \
		"^pido: fatal: refusing directory $T/other " "$PIDO" "$T/other/x.pid" true
else
	skip "sticky directory of another owner (needs root and user nobody)"
fi

# A PIDFILE that names no file is a usage error, found before anything
# is written (it used to be exit 111, "unable to rename ... to : Device or
# resource busy", after the temporary file was made).
fails_with "an empty PIDFILE: exit 100" 100 "^pido: fatal: PIDFILE is empty; usage: " "$PIDO" "" true
mkdir "$T/dirs" && cd "$T/dirs" || exit 1
for name in ./ . .. "$T/dirs/" "$T/dirs/."; do
	fails_with "PIDFILE '$name': exit 100" 100 "^pido: fatal: PIDFILE '.*' names a directory, not a file; usage: " \
		"$PIDO" "$name" true
done
mkdir "$T/dirs/sub"
fails_with "PIDFILE naming an existing directory: exit 100" 100 \
	"^pido: fatal: PIDFILE 'sub' is a directory, not a file; usage: " "$PIDO" sub true
check "... and nothing was written" test "$(ls -A "$T/dirs")" = sub
cd "$T" || exit 1

# A reader never sees a partial pidfile while writers race.
i=0
while [ $i -lt 100 ]; do "$PIDO" "$d/race.pid" true; i=$((i + 1)); done &
writer=$!
track_pid "$writer"
bad=0 reads=0
while alive "$writer" && [ $reads -lt 5000 ]; do
	reads=$((reads + 1))
	line=$(head -n 1 "$d/race.pid" 2>/dev/null) || continue
	case $line in ''|*[!0-9]*) bad=$((bad + 1)) ;; esac
done
wait "$writer"
check "no reader saw a partial pidfile in $reads reads" test "$bad" = 0

done_testing
