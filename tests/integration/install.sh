#!/bin/sh
# make install and make uninstall into a DESTDIR, as a package build runs
# them: the exact file list with its modes, twice in a row; an edited
# config file survives a second install (the new version goes beside it as
# FILE.dist) and an uninstall, which removes everything else it installed.
# The log directories of the default services, for the loggers' user.
# The binaries are already built: make runs with -o all.
. "$TESTS/lib.sh"

R=$T/root
# mk TARGET [VAR=VALUE ...]: make in the tree, into $R unless told.
mk() {
	(cd "$TOP" && make -s -o all DESTDIR="$R" PREFIX=/usr BUILD="$BUILD" "$@") >"$T/out" 2>&1
}
show() { sed 's/^/# /' "$T/out"; }
files() { (cd "$R" && find . ! -type d -printf '%m %p\n' | sort); }
dir_modes() { (cd "$R" && find . -mindepth 1 -type d -printf '%m %p\n' | sort); }

# What install must lay out: the fixed names, and what is in the tree's
# man/ and services/ by the patterns install documents.
expected() {
	{
		echo "755 ./usr/sbin/qmailctl"
		echo "755 ./usr/sbin/qmailctl-supervise"
		echo "644 ./usr/sbin/qmailctl-tls.so"
		echo "755 ./usr/sbin/pido"
		echo "755 ./usr/sbin/hi-q"
		echo "755 ./usr/sbin/hi-q-spamlevel"
		echo "644 ./etc/qmailctl/hi-q.conf"
		for _s in "$TOP"/services/hi-q.d/*; do
			[ -f "$_s" ] && echo "644 ./etc/qmailctl/hi-q.d/${_s##*/}"
		done
		for _m in "$TOP"/man/*.[1-9]; do
			[ -f "$_m" ] && echo "644 ./usr/share/man/man${_m##*.}/${_m##*/}"
		done
		echo "755 ./etc/init.d/qmail"
		echo "644 ./usr/lib/systemd/system/qmail.target"
		echo "644 ./usr/lib/systemd/system/qmail@.service"
		echo "644 ./etc/default/qmail"
		echo "644 ./etc/qmailctl/qmailctl.conf"
		for _s in "$TOP"/services/*; do
			_n=${_s##*/}
			case $_n in *[!A-Za-z0-9_-]*) continue ;; esac
			[ -f "$_s" ] && echo "644 ./etc/qmailctl/services/$_n"
		done
		for _s in "$TOP"/services/stunnel/*.conf; do
			[ -f "$_s" ] && echo "644 ./etc/qmailctl/stunnel/${_s##*/}"
		done
		for _s in "$TOP"/services/tcp/*.rules; do
			[ -f "$_s" ] && echo "644 ./etc/tcp/${_s##*/}"
		done
	} | sort
}
expected >"$T/expected"

# The files SPEC.md says a package installs must be in the tree.
for _f in man/qmailctl.8 man/pido.8 man/qmailctl.conf.5 services/qmailctl.conf \
    services/send services/smtp services/smtps services/pop3 services/pop3s; do
	check "the tree has $_f (SPEC: files a package installs)" test -f "$TOP/$_f"
done

mk install; is_rc $? 0 "make install exits 0"
files >"$T/got"
check "it lays out exactly the expected files, with their modes" cmp -s "$T/expected" "$T/got"
diff "$T/expected" "$T/got" | sed 's/^/# /'
check "every directory it made is 755" test -z "$(dir_modes | grep -v '^755 ')"
check "qmailctl is the one built" cmp -s "$BUILD/qmailctl" "$R/usr/sbin/qmailctl"
check "the config files are the tree's" cmp -s "$TOP/services/smtp" "$R/etc/qmailctl/services/smtp"
sed "s|@SBINDIR@|/usr/sbin|g" "$TOP/init.d/qmail" >"$T/qmail"
check "the init script is the tree's with SBINDIR in it" cmp -s "$T/qmail" "$R/etc/init.d/qmail"
check "no private key directory or certificate is made" \
	test -z "$(find "$R" -name '*.pem' -o -name private -o -name '*key*')"

mk install; is_rc $? 0 "make install again exits 0"
files >"$T/got"
check "... and the list and modes are the same" cmp -s "$T/expected" "$T/got"
check "... no .dist for files nobody edited" test -z "$(find "$R" -name '*.dist')"
check "... and it says nothing was kept" test "$(grep -c 'kept' "$T/out")" = 0

# An edited config file is kept; the new version goes beside it.
echo "# edited here" >>"$R/etc/qmailctl/services/smtp"
cp "$R/etc/qmailctl/services/smtp" "$T/edited"
echo "ENABLED=no" >>"$R/etc/default/qmail"
echo junk >"$R/usr/sbin/pido"
echo "# edited here" >>"$R/etc/init.d/qmail"
mk install; is_rc $? 0 "make install over edited files exits 0"
show
check "the edited service file is kept" cmp -s "$T/edited" "$R/etc/qmailctl/services/smtp"
check "... the new one is beside it as .dist" cmp -s "$TOP/services/smtp" "$R/etc/qmailctl/services/smtp.dist"
check "... and install says so" grep -qx "install: kept edited $R/etc/qmailctl/services/smtp; new version in $R/etc/qmailctl/services/smtp.dist" "$T/out"
check "the edited defaults file is kept too" grep -q '^ENABLED=no' "$R/etc/default/qmail"
check "... with its .dist" test -f "$R/etc/default/qmail.dist"
check "a program is replaced" cmp -s "$BUILD/pido" "$R/usr/sbin/pido"
check "the init script is replaced (its settings live in /etc/default/qmail)" cmp -s "$T/qmail" "$R/etc/init.d/qmail"
check "exactly two .dist files" test "$(find "$R" -name '*.dist' | wc -l)" = 2

mk uninstall; is_rc $? 0 "make uninstall exits 0"
show
(cd "$R" && find . ! -type d | sort) >"$T/left"
printf '%s\n' ./etc/default/qmail ./etc/qmailctl/services/smtp >"$T/want"
check "it leaves the two edited files and nothing else" cmp -s "$T/want" "$T/left"
diff "$T/want" "$T/left" | sed 's/^/# /'
check "... and says it kept them" test "$(grep -c '^uninstall: kept edited ' "$T/out")" = 2
check "... the edited one as it was" cmp -s "$T/edited" "$R/etc/qmailctl/services/smtp"
mk uninstall; is_rc $? 0 "make uninstall again exits 0"

# Where the unit goes: systemd's search path for /usr and /usr/local, the
# administrator's directory for any other PREFIX.
rm -rf "$R"
mk install PREFIX=/usr/local; is_rc $? 0 "make install PREFIX=/usr/local"
check "... puts the unit in /usr/local/lib/systemd/system" test -f "$R/usr/local/lib/systemd/system/qmail@.service"
check "... and the programs in /usr/local/sbin" test -x "$R/usr/local/sbin/qmailctl"
check "... which the unit runs" grep -q '^ExecStart=/usr/local/sbin/qmailctl ' "$R/usr/local/lib/systemd/system/qmail@.service"
rm -rf "$R"
mk install PREFIX=/opt/qmailctl; is_rc $? 0 "make install PREFIX=/opt/qmailctl"
check "... puts the unit in /etc/systemd/system" test -f "$R/etc/systemd/system/qmail@.service"

# ---- the log directories of the default services ----
L=$R/var/log/qmail
C=$R/etc/qmailctl/qmailctl.conf
owners() { for _n in send smtp smtps pop3 pop3s; do stat -c '%U %a' "$1/$_n"; done | sort -u; }
rm -rf "$R"
mk install; is_rc $? 0 "make install into an empty root"
show
check "it makes LOGDIR/NAME for each default service (logdir, default of qmailctl.conf)" \
	sh -c "for n in send smtp smtps pop3 pop3s; do test -d '$L/'\$n || exit 1; done"
if getent passwd qmaill >/dev/null; then
	check "... owned by qmaill, mode 755" test "$(owners "$L")" = "qmaill 755"
	check "... and says so" grep -qx "install: $L/send/ (log directory, owned by qmaill)" "$T/out"
else
	check "... owned by root, mode 755: there is no user qmaill" test "$(owners "$L")" = "root 755"
	check "... and says what to run once qmaill exists" grep -q "^install: user qmaill does not exist yet: .* run: chown qmaill $L/" "$T/out"
fi
mk install; is_rc $? 0 "make install again"
check "... says nothing of the log directories, which exist" sh -c "! grep -q 'log director' '$T/out'"

rm -rf "$L"
sed -i 's/^qmaill = .*/qmaill = nosuchuser-qmailctl/' "$C"
mk install; is_rc $? 0 "make install when the loggers' user does not exist: exit 0"
show
check "... the log directories are made, owned by root" test "$(owners "$L")" = "root 755"
check "... and it says what to run once the user exists" grep -qx \
	"install: user nosuchuser-qmailctl does not exist yet: once qmail's users are made (qmail's INSTALL.ids), run: chown nosuchuser-qmailctl $L/send $L/smtp $L/smtps $L/pop3 $L/pop3s" "$T/out"

rm -rf "$L"
sed -i -e 's/^qmaill = .*/qmaill = nobody/' -e 's|^logdir = .*|logdir = /srv/qlog|' \
	-e 's/^default = .*/default = send smtp/' "$C"
mk install; is_rc $? 0 "make install with the site's own logdir, default and qmaill"
check "... makes those of the site's default services under its logdir" \
	sh -c "test -d '$R/srv/qlog/send' && test -d '$R/srv/qlog/smtp' && test ! -e '$R/srv/qlog/pop3' && test ! -e '$L'"
check "... owned by the site's qmaill" test "$(stat -c %U "$R/srv/qlog/send")" = nobody
chown root "$R/srv/qlog/smtp"
chmod 700 "$R/srv/qlog/smtp"
mk install
check "an existing log directory is left as it is" test "$(stat -c '%U %a' "$R/srv/qlog/smtp")" = "root 700"
echo log >"$R/srv/qlog/smtp/current"
mk uninstall; is_rc $? 0 "make uninstall"
show
check "... removes an empty log directory" test ! -e "$R/srv/qlog/send"
check "... keeps one with logs in it, and says so" sh -c \
	"test -f '$R/srv/qlog/smtp/current' && grep -qx 'uninstall: kept $R/srv/qlog/smtp/ (not empty: logs)' '$T/out'"

if command -v shellcheck >/dev/null 2>&1; then
	shellcheck "$TOP/init.d/install.sh" >"$T/out" 2>&1
	is_rc $? 0 "shellcheck init.d/install.sh"
	show
else
	skip "shellcheck is not installed"
fi

done_testing
