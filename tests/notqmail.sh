#!/bin/sh
# notqmail.sh: builds notqmail (the public-domain successor of qmail 1.03)
# for the tests that run the real qmail-send, qmail-smtpd, qmail-popup and
# qmail-pop3d (tests/integration/realqmail.sh, and hi-q in front of
# qmail-smtpd: hiqreal.sh).
#
#   BUILD=build sh tests/notqmail.sh
#
# The source is ../shared/notqmail/notqmail-*.tar.gz beside the tree (or
# the file NOTQMAIL_TARBALL names).  It is built in BUILD/notqmail with a
# PRIVATE home, BUILD/notqmail/qmail, written into conf-qmail before the
# build: every program and script has that path compiled in, so /var/qmail
# is never touched.  What this changes on the machine outside BUILD is
# qmail's users and groups, created first as its INSTALL.ids.md says (they
# must exist when qmail is compiled: their uids are compiled in).
#
# Built once per build directory: a stamp records the tarball's checksum
# and the home, and a later run with the same ones does nothing.
#
# Prints the qmail home on stdout and exits 0 when it is ready.  Exits 77
# (the "skipped" code of automake's test harness) with one line
# "notqmail: skip: REASON" when it cannot be built here (no tarball, not
# root, no compiler); 1 with "notqmail: fatal: ..." when the build failed,
# naming the log.  Quiet otherwise: the build's output goes to the log.
set -u

top=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
dir=$BUILD/notqmail
home=$dir/qmail
log=$dir/build.log

skip() { echo "notqmail: skip: $*"; exit 77; }
fatal() { echo "notqmail: fatal: $*" >&2; exit 1; }

tarball=${NOTQMAIL_TARBALL:-}
if [ -z "$tarball" ]; then
	for _f in "$top"/../shared/notqmail/notqmail-*.tar.gz; do
		[ -f "$_f" ] && tarball=$_f
	done
fi
[ -n "$tarball" ] ||
	skip "no notqmail tarball (../shared/notqmail/notqmail-*.tar.gz; NOTQMAIL_TARBALL names another)"
[ -f "$tarball" ] || skip "no notqmail tarball $tarball"
[ "$(id -u)" = 0 ] || skip "not root: qmail's users and its make setup need root"
for _p in cc make nroff useradd groupadd sha256sum; do
	command -v "$_p" >/dev/null 2>&1 || skip "no $_p here (tests/deps.sh installs what the tests need)"
done
case $home in
*[!A-Za-z0-9/._+-]*) skip "the build directory $BUILD has characters qmail's build cannot take" ;;
esac

# qmail's users (qmailq, qmails, the mail user) must reach the home.
_p=$BUILD
while [ -n "$_p" ] && [ "$_p" != / ]; do
	if [ -e "$_p" ] && [ -z "$(find "$_p" -maxdepth 0 -perm -o+x)" ]; then
		skip "$_p is not searchable by other users: qmail's users could not reach a home below $BUILD"
	fi
	_p=${_p%/*}
done

want="$(sha256sum <"$tarball" | cut -d' ' -f1) $home"
ready() {
	[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$want" ] &&
		[ -x "$home/bin/qmail-send" ]
}
if ready; then
	echo "$home"
	exit 0
fi

# qmail's groups and users (INSTALL.ids.md), system accounts without a
# home or a login shell.  Another test suite may be making them at the
# same moment: an add that fails is fine if the name exists afterwards.
group() {
	getent group "$1" >/dev/null && return 0
	groupadd -r "$1" >/dev/null 2>&1
	getent group "$1" >/dev/null || fatal "unable to add group $1 (groupadd -r $1)"
}
user() {
	getent passwd "$1" >/dev/null && return 0
	useradd -r -M -s /usr/sbin/nologin -g "$2" -d "$3" "$1" >/dev/null 2>&1
	getent passwd "$1" >/dev/null ||
		fatal "unable to add user $1 (useradd -r -M -s /usr/sbin/nologin -g $2 -d $3 $1)"
}
group nofiles
group qmail
user alias nofiles /var/qmail/alias
for _u in qmaild qmaill qmailp; do user "$_u" nofiles /var/qmail; done
for _u in qmailq qmailr qmails; do user "$_u" qmail /var/qmail; done

mkdir -p "$dir" || fatal "unable to make $dir"
# One build at a time in a build directory.
exec 9>"$dir/lock" || fatal "unable to open $dir/lock"
if command -v flock >/dev/null 2>&1; then
	flock -w 300 9 || fatal "$dir/lock is held by another build for 300 s"
fi
if ready; then
	echo "$home"
	exit 0
fi

rm -rf "$dir/src" "$home" "$dir/stamp" || fatal "unable to clean $dir"
mkdir "$dir/src" || fatal "unable to make $dir/src"
: >"$log"
tar -xzf "$tarball" -C "$dir/src" >>"$log" 2>&1 || fatal "unable to unpack $tarball (see $log)"
src=
for _d in "$dir"/src/*/; do
	[ -f "$_d/conf-qmail" ] && src=${_d%/}
done
[ -n "$src" ] || fatal "$tarball holds no conf-qmail: not a qmail source"

# The private home is conf-qmail's first line; the rest is its comment.
if ! { echo "$home"; sed 1d "$src/conf-qmail"; } >"$src/conf-qmail.new" ||
	! mv "$src/conf-qmail.new" "$src/conf-qmail"; then
	fatal "unable to write $src/conf-qmail"
fi
(cd "$src" && make it man && make setup check) >>"$log" 2>&1 ||
	fatal "the build failed: see the end of $log"
[ -x "$home/bin/qmail-send" ] || fatal "make setup made no $home/bin/qmail-send (see $log)"
# control/me and its friends, for a host named localhost.
(cd "$src" && ./config-fast localhost) >>"$log" 2>&1 || fatal "config-fast failed (see $log)"
echo "$want" >"$dir/stamp" || fatal "unable to write $dir/stamp"
echo "$home"
