#!/bin/sh
# init.d/qmail driven for real against a test site, through a defaults
# file; its LSB header accepted by insserv or update-rc.d without touching
# the real system; shellcheck; the systemd unit through systemd-analyze.
#
# Not tested here: the script's handing of start, stop and restart to
# systemctl and qmail.target on a host booted with systemd (this one is
# not), and the plain-line fallback without init-functions.
. "$TESTS/lib.sh"

make_site
add_plain_services
script=$TOP/init.d/qmail

# defaults [LINE ...]: the defaults file: the test site and qmailctl, and
# the lines given.
defaults() {
	{
		echo "QMAILCTL_CONF=$T/qmailctl.conf"
		echo "QMAILCTL=$QMAILCTL"
		for _l in "$@"; do echo "$_l"; done
	} >"$T/default"
}
# init ACTION [SERVICE ...]: the script, with nothing of ours in its
# environment but the defaults file's name.
init() {
	env -u QMAILCTL -u QMAILCTL_CONF QMAIL_DEFAULTS="$T/default" \
	    sh "$script" "$@" >"$T/out" 2>"$T/err"
}
# show: what the last command said.
show() { sed 's/^/# /' "$T/out" "$T/err"; }
st() { q status "$1" >/dev/null 2>&1; echo $?; }

defaults ENABLED=yes

init start; is_rc $? 0 "start exits 0"
show
check "start shows qmailctl's own lines" grep -q '^smtp: started (tcpserver' "$T/out"
check "... for every default service" grep -q '^pop3: started (tcpserver' "$T/out"
check "... and ends with one summary line" test "$(tail -n 1 "$T/out")" = "qmail start: default services."
check "both services really run" test "$(st smtp)$(st pop3)" = 00
init status; is_rc $? 0 "status of running services exits 0"
check "status shows qmailctl's lines" grep -q '^pop3: up (tcpserver' "$T/out"
init start; is_rc $? 0 "start when running exits 0"
check "... and says so" grep -q '^smtp: already running' "$T/out"
init stop; is_rc $? 0 "stop exits 0"
check "stop stopped both" test "$(st smtp)$(st pop3)" = 33
init status; is_rc $? 3 "status of stopped services exits 3"
check "... and shows them stopped" grep -q '^smtp: stopped' "$T/out"

init start smtp; is_rc $? 0 "start smtp exits 0"
check "start smtp started smtp only" test "$(st smtp)$(st pop3)" = 03
check "... and the summary names it" test "$(tail -n 1 "$T/out")" = "qmail start: smtp."
init start nosuch; is_rc $? 2 "an unknown service: qmailctl's exit 2 passes through"
check "... with qmailctl's message" grep -q "unknown service 'nosuch'" "$T/err"

spid=$(pid_of smtp)
init try-restart pop3; is_rc $? 0 "try-restart of a stopped service exits 0"
check "... and does not start it" test "$(st pop3)" = 3
check "... and says it left it" grep -q '^pop3: not running, left as it is' "$T/out"
init try-restart; is_rc $? 0 "try-restart of the default set exits 0"
check "... restarted the running smtp" test "$(pid_of smtp)" != "$spid"
check "... and left pop3 stopped" test "$(st pop3)" = 3

init bogus; is_rc $? 2 "an unknown action exits 2"
check "... with a usage line on stderr" grep -q '^Usage: .*{start|stop|restart|force-reload|reload|try-restart|status|zap} \[SERVICE \.\.\.\]' "$T/err"
check "... and nothing on stdout" test ! -s "$T/out"
init; is_rc $? 2 "no action exits 2"

if "$QMAILCTL" -f "$T/qmailctl.conf" zap nosuch 2>&1 | grep -q "unknown command"; then
	skip "zap not implemented yet"
else
	init zap smtp; is_rc $? 0 "zap smtp exits 0"
	check "... and smtp is gone" test "$(st smtp)" = 3
fi
q stop smtp pop3 >/dev/null 2>&1

# reload when stopped: LSB's 7, from qmailctl.
"$QMAILCTL" -f "$T/qmailctl.conf" reload >"$T/probe" 2>&1
if grep -q "unknown command 'reload'" "$T/probe"; then
	skip "reload not implemented yet"
else
	init reload; is_rc $? 7 "reload when stopped exits 7"
	show
fi
init force-reload; is_rc $? 0 "force-reload when stopped exits 0 (reloads the running ones only)"
check "... and starts nothing" test "$(st smtp)$(st pop3)" = 33

# QMAILCTL_OPTS reaches qmailctl.
defaults ENABLED=yes 'QMAILCTL_OPTS="-n"'
init start smtp; is_rc $? 0 "start with QMAILCTL_OPTS=-n exits 0"
check "... qmailctl got -n: it shows the plan" grep -q '^smtp: run: tcpserver' "$T/out"
check "... and started nothing" test "$(st smtp)" = 3

# ENABLED=no: start does nothing; stop and status still work.
defaults ENABLED=no
init start; is_rc $? 0 "start with ENABLED=no exits 0"
check "... says why" grep -q "ENABLED=no in $T/default" "$T/out"
check "... and starts nothing" test "$(st smtp)$(st pop3)" = 33
init restart smtp; is_rc $? 0 "restart with ENABLED=no exits 0"
check "... and starts nothing" test "$(st smtp)" = 3
q start smtp >/dev/null 2>&1
spid=$(pid_of smtp)
init try-restart; is_rc $? 0 "try-restart works with ENABLED=no"
check "... restarting the running smtp" test "$(pid_of smtp)" != "$spid"
check "... and not starting pop3" test "$(st pop3)" = 3
init status smtp; is_rc $? 0 "status works with ENABLED=no"
init stop smtp; is_rc $? 0 "stop works with ENABLED=no"
check "... and stops" test "$(st smtp)" = 3
defaults ENABLED=maybe
init start; is_rc $? 6 "ENABLED neither yes nor no: start exits 6"

# QMAILCTL from the environment, when the defaults file does not set it.
echo "QMAILCTL_CONF=$T/qmailctl.conf" >"$T/default"
QMAILCTL=$QMAILCTL QMAIL_DEFAULTS="$T/default" sh "$script" status smtp >"$T/out" 2>&1
is_rc $? 3 "QMAILCTL may come from the environment"
echo "QMAILCTL=$T/nonexistent" >>"$T/default"
init start; is_rc $? 5 "qmailctl not installed: start exits 5"
init status; is_rc $? 4 "qmailctl not installed: status exits 4"

# The installed script and unit name the installed qmailctl.
(cd "$TOP" && make -s -o all install DESTDIR="$T/root" PREFIX=/usr BUILD="$BUILD") >"$T/install.out" 2>&1
is_rc $? 0 "make install into a DESTDIR"
check "the installed script runs /usr/sbin/qmailctl" grep -q 'QMAILCTL=${QMAILCTL:-/usr/sbin/qmailctl}' "$T/root/etc/init.d/qmail"
check "the installed unit runs /usr/sbin/qmailctl supervise" grep -q '^ExecStart=/usr/sbin/qmailctl .* supervise %i$' "$T/root/usr/lib/systemd/system/qmail@.service"
check "... and the target is installed" test -f "$T/root/usr/lib/systemd/system/qmail.target"
check "no @placeholder@ is left in them" test -z "$(grep -l '@[A-Z]*@' "$T/root/etc/init.d/qmail" "$T/root/usr/lib/systemd/system/qmail@.service" "$T/root/etc/default/qmail")"

# The LSB header, as insserv and update-rc.d read it.
header() { sed -n "/^### BEGIN INIT INFO/,/^### END INIT INFO/s/^# $1: *//p" "$script"; }
check "the header provides qmail" test "$(header Provides)" = qmail
check "... starts after \$local_fs \$remote_fs \$network \$syslog" \
	test "$(header Required-Start)" = '$local_fs $remote_fs $network $syslog'
check "... stops before them" test "$(header Required-Stop)" = '$local_fs $remote_fs $network $syslog'
check "... runs in 2 3 4 5, stops in 0 1 6" test "$(header Default-Start)/$(header Default-Stop)" = "2 3 4 5/0 1 6"

insserv=
for _i in "$(command -v insserv 2>/dev/null)" /sbin/insserv /usr/sbin/insserv /usr/lib/insserv/insserv; do
	[ -n "$_i" ] && [ -x "$_i" ] && { insserv=$_i; break; }
done
before=$(ls -d /etc/rc?.d/* 2>/dev/null)
if [ -n "$insserv" ] && [ -f /etc/insserv.conf ]; then
	# -n: a dry run; -p, -o, -i: our directories, not the system's.
	mkdir -p "$T/ins/over" "$T/ins/dep"
	"$insserv" -n -s -p "$T/root/etc/init.d" -o "$T/ins/over" -i "$T/ins/dep" \
	    -c /etc/insserv.conf qmail >"$T/out" 2>"$T/err"
	is_rc $? 0 "insserv -n accepts the installed script"
	show
	check "... starting it in 2 3 4 5" grep -q '^S:[0-9]*:2 3 4 5:qmail$' "$T/out"
	check "... stopping it in 0 1 6" grep -q '^K:[0-9]*:0 1 6:qmail$' "$T/out"
elif command -v update-rc.d >/dev/null 2>&1 && [ ! -x /sbin/openrc ]; then
	# Without insserv (and OpenRC), update-rc.d makes the links itself,
	# under DPKG_ROOT; with it set, it does not call systemctl either.
	DPKG_ROOT="$T/root" update-rc.d qmail defaults >"$T/out" 2>"$T/err"
	is_rc $? 0 "update-rc.d defaults accepts the installed script (DPKG_ROOT)"
	show
	check "... linking it to start in 2 3 4 5" test "$(cd "$T/root/etc" && ls rc[2345].d/S[0-9][0-9]qmail | wc -l)" = 4
	check "... and to stop in 0 1 6" test "$(cd "$T/root/etc" && ls rc[016].d/K[0-9][0-9]qmail | wc -l)" = 3
	DPKG_ROOT="$T/root" update-rc.d qmail remove >"$T/out" 2>"$T/err"
	is_rc $? 0 "update-rc.d remove"
	check "... removes the links" test -z "$(find "$T/root/etc" -type l -name '*qmail')"
else
	skip "neither insserv nor update-rc.d (without OpenRC) to try the header with"
fi
check "the real /etc/rc?.d were not touched" test "$(ls -d /etc/rc?.d/* 2>/dev/null)" = "$before"

if command -v shellcheck >/dev/null 2>&1; then
	shellcheck "$script" >"$T/out" 2>"$T/err"
	is_rc $? 0 "shellcheck init.d/qmail"
	check "... says nothing" test ! -s "$T/out" -a ! -s "$T/err"
	show
else
	skip "shellcheck is not installed"
fi

# The unit, with a qmailctl that exists (verify checks the Exec paths).
if ! command -v systemd-analyze >/dev/null 2>&1; then
	skip "systemd-analyze is not installed"
else
	printf '[Service]\nType=oneshot\nExecStart=/bin/true\n' >"$T/probe.service"
	if ! systemd-analyze verify --man=no "$T/probe.service" >"$T/out" 2>"$T/err"; then
		show
		skip "systemd-analyze verify cannot run here"
	else
		sed "s|@SBINDIR@|$BUILD|g" "$TOP/init.d/qmail@.service" >"$T/qmail@.service"
		cp "$TOP/init.d/qmail.target" "$T/qmail.target"
		(cd "$T" && systemd-analyze verify --man=no qmail@smtp.service qmail.target) >"$T/out" 2>"$T/err"
		is_rc $? 0 "systemd-analyze verify qmail@smtp.service qmail.target"
		check "... without a warning" test ! -s "$T/out" -a ! -s "$T/err"
		show
	fi
fi

done_testing
