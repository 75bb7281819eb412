#!/bin/sh
# install.sh: "make install" and "make uninstall", laid out as a package.
#
#   sh init.d/install.sh install|uninstall
#
# The Makefile runs it from the top of the tree with DESTDIR, SBINDIR,
# MANDIR, SYSCONFDIR, UNITDIR and BUILD in the environment.  A script, not
# make recipes, because both targets walk one list of files with one rule
# per kind of file, and that is easier to read (and to shellcheck) here.
#
# Two kinds of file:
#
# prog  programs, man pages, /etc/init.d/qmail and the systemd unit.  They
#       hold no settings (those live in /etc/default/qmail, or a "systemctl
#       edit qmail" drop-in) and only work with the qmailctl they came with:
#       install replaces them, uninstall removes them.
# conf  /etc/qmailctl/..., /etc/tcp/*.rules and /etc/default/qmail: the
#       administrator's once installed.  install never overwrites one that
#       differs from what it would install: it puts the new version beside
#       it as FILE.dist and says so.  uninstall removes those still as
#       installed and the .dist files, keeps the edited ones and says so.
#
# Directories are made 0755 when missing; existing ones are left as they
# are.  Nothing here makes private key directories or certificates.
#
# install also makes the log directory of each default service,
# LOGDIR/NAME, when it is missing: logdir, default and qmaill are read
# from the installed qmailctl.conf (as plain values, never run).  It is
# chowned to the loggers' user (qmaill) where that user exists; where it
# does not exist yet, install says what to run once it does (a package,
# built with DESTDIR where the user may not exist, chowns them in its
# postinst).  uninstall removes only those that are empty: logs are not
# ours to delete.
set -u
umask 022

die() { echo "install: fatal: $*" >&2; exit 1; }

# path NAME VALUE: VALUE is usable as the path NAME (and in sed below).
path() {
	case $2 in
	/*) ;;
	"") die "$1 is not set (run make install)" ;;
	*) [ "$1" = BUILD ] || die "$1=$2 is not an absolute path" ;;
	esac
	case $2 in
	*[\|\&\\]*) die "$1=$2: | & and \\ are not allowed" ;;
	esac
}
: "${DESTDIR=}"
path SBINDIR "${SBINDIR:-}"
path MANDIR "${MANDIR:-}"
path SYSCONFDIR "${SYSCONFDIR:-}"
path UNITDIR "${UNITDIR:-}"
path BUILD "${BUILD:-}"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/qmailctl-install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM HUP PIPE

# The boot files with the installed paths in them.
for _f in qmail qmail@.service qmail.target qmail.default; do
	sed -e "s|@SBINDIR@|$SBINDIR|g" -e "s|@SYSCONFDIR@|$SYSCONFDIR|g" \
	    "init.d/$_f" >"$tmp/$_f" || die "unable to make $tmp/$_f"
done

# hi-q's example filters name hi-q-spamlevel where it is installed.
mkdir -p "$tmp/hi-q.d" || die "unable to make $tmp/hi-q.d"
for _f in services/hi-q.d/*; do
	[ -f "$_f" ] || continue
	sed -e "s|@SBINDIR@|$SBINDIR|g" "$_f" >"$tmp/hi-q.d/${_f##*/}" ||
	    die "unable to make $tmp/hi-q.d/${_f##*/}"
done

# each FUNCTION: calls FUNCTION KIND MODE SOURCE TARGET for every file.
each() {
	"$1" prog 0755 "$BUILD/qmailctl" "$SBINDIR/qmailctl"
	"$1" prog 0755 "$BUILD/qmailctl-supervise" "$SBINDIR/qmailctl-supervise"
	# qmailctl's OpenSSL, which it loads from beside itself (tls_plugin.h)
	"$1" prog 0644 "$BUILD/qmailctl-tls.so" "$SBINDIR/qmailctl-tls.so"
	"$1" prog 0755 "$BUILD/pido" "$SBINDIR/pido"
	"$1" prog 0755 "$BUILD/hi-q" "$SBINDIR/hi-q"
	"$1" prog 0755 "$BUILD/hi-q-spamlevel" "$SBINDIR/hi-q-spamlevel"
	for _m in man/*.[1-9]; do
		[ -f "$_m" ] || continue
		"$1" prog 0644 "$_m" "$MANDIR/man${_m##*.}/${_m##*/}"
	done
	"$1" prog 0755 "$tmp/qmail" "$SYSCONFDIR/init.d/qmail"
	"$1" prog 0644 "$tmp/qmail@.service" "$UNITDIR/qmail@.service"
	"$1" prog 0644 "$tmp/qmail.target" "$UNITDIR/qmail.target"
	"$1" conf 0644 "$tmp/qmail.default" "$SYSCONFDIR/default/qmail"
	"$1" conf 0644 services/qmailctl.conf "$SYSCONFDIR/qmailctl/qmailctl.conf"
	for _s in services/*; do
		# service files: the names qmailctl takes as services
		case ${_s#services/} in
		*[!A-Za-z0-9_-]*) continue ;;
		esac
		[ -f "$_s" ] || continue
		"$1" conf 0644 "$_s" "$SYSCONFDIR/qmailctl/$_s"
	done
	"$1" conf 0644 services/hi-q.conf "$SYSCONFDIR/qmailctl/hi-q.conf"
	for _s in "$tmp"/hi-q.d/*; do
		[ -f "$_s" ] || continue
		"$1" conf 0644 "$_s" "$SYSCONFDIR/qmailctl/hi-q.d/${_s##*/}"
	done
	for _s in services/stunnel/*.conf; do
		[ -f "$_s" ] || continue
		"$1" conf 0644 "$_s" "$SYSCONFDIR/qmailctl/stunnel/${_s##*/}"
	done
	# where the shipped qmailctl.conf's "rules" points, and tcpserver -x
	for _s in services/tcp/*.rules; do
		[ -f "$_s" ] || continue
		"$1" conf 0644 "$_s" "$SYSCONFDIR/tcp/${_s##*/}"
	done
}

put() {
	_to=$DESTDIR$4
	mkdir -p -- "${_to%/*}" || die "unable to make ${_to%/*}"
	if [ "$1" = conf ] && [ -e "$_to" ]; then
		if cmp -s -- "$3" "$_to"; then
			# as installed; a .dist of the same text says nothing new
			if [ -f "$_to.dist" ] && cmp -s -- "$3" "$_to.dist"; then
				rm -f -- "$_to.dist"
			fi
			return 0
		fi
		install -m "$2" -- "$3" "$_to.dist" ||
		    die "unable to install $_to.dist"
		echo "install: kept edited $_to; new version in $_to.dist"
		return 0
	fi
	install -m "$2" -- "$3" "$_to" || die "unable to install $_to"
	echo "install: $_to"
}

remove() {
	_to=$DESTDIR$4
	if [ "$1" = conf ] && [ -f "$_to.dist" ]; then
		rm -f -- "$_to.dist" && echo "uninstall: removed $_to.dist"
	fi
	[ -e "$_to" ] || [ -L "$_to" ] || return 0
	if [ "$1" = conf ] && ! cmp -s -- "$3" "$_to"; then
		echo "uninstall: kept edited $_to"
		return 0
	fi
	rm -f -- "$_to" && echo "uninstall: removed $_to"
}

# conf_value KEY: KEY's value in the installed qmailctl.conf ("key =
# value", the last one wins), or nothing.  A value is used only if it is
# literal: one with ${...} in it is qmailctl's to expand, not ours.
conf_value() {
	[ -f "$site_conf" ] || return 0
	sed -n "s/^[[:space:]]*$1[[:space:]]*=[[:space:]]*//p" "$site_conf" |
		tail -n 1 | sed 's/[[:space:]]*$//'
}
site_conf=$DESTDIR$SYSCONFDIR/qmailctl/qmailctl.conf

# log_dirs: LOGDIR/NAME for every default service, one a line; says why
# on stderr and prints nothing when the site's values cannot be used.
log_dirs() {
	_logdir=$(conf_value logdir) _default=$(conf_value default)
	case $_logdir$_default in
	*'$'*) echo "install: logdir or default in $site_conf uses \${...}: make the log directories yourself" >&2; return 0 ;;
	esac
	case $_logdir in
	/*) ;;
	*) echo "install: no absolute logdir in $site_conf: make the log directories yourself" >&2; return 0 ;;
	esac
	for _n in $_default; do
		case $_n in *[!A-Za-z0-9_-]*) continue ;; esac
		echo "$_logdir/$_n"
	done
}

# make_log_dirs: the missing log directories, for the loggers' user.
make_log_dirs() {
	_user=$(conf_value qmaill)
	case $_user in ""|*'$'*|*[!A-Za-z0-9._-]*) _user=qmaill ;; esac
	_made=""
	for _d in $(log_dirs); do
		[ -e "$DESTDIR$_d" ] && continue
		mkdir -p -- "$DESTDIR$_d" || die "unable to make $DESTDIR$_d"
		if getent passwd "$_user" >/dev/null 2>&1; then
			chown -- "$_user" "$DESTDIR$_d" ||
			    die "unable to chown $_user $DESTDIR$_d"
			echo "install: $DESTDIR$_d/ (log directory, owned by $_user)"
		else
			echo "install: $DESTDIR$_d/ (log directory, owned by root)"
			_made="$_made $DESTDIR$_d"
		fi
	done
	if [ -n "$_made" ]; then
		echo "install: user $_user does not exist yet: once qmail's users are made (qmail's INSTALL.ids), run: chown $_user$_made"
	fi
}

# remove_log_dirs: the log directories, and LOGDIR, if empty.
remove_log_dirs() {
	_d=
	for _d in $(log_dirs 2>/dev/null); do
		[ -d "$DESTDIR$_d" ] || continue
		if rmdir -- "$DESTDIR$_d" 2>/dev/null; then
			echo "uninstall: removed $DESTDIR$_d/"
		else
			echo "uninstall: kept $DESTDIR$_d/ (not empty: logs)"
		fi
	done
	if [ -n "$_d" ] && rmdir -- "$DESTDIR${_d%/*}" 2>/dev/null; then
		echo "uninstall: removed $DESTDIR${_d%/*}/"
	fi
	return 0
}

case ${1:-} in
install)
	if [ ! -x "$BUILD/qmailctl" ] || [ ! -x "$BUILD/qmailctl-supervise" ] ||
	    [ ! -f "$BUILD/qmailctl-tls.so" ] ||
	    [ ! -x "$BUILD/pido" ] || [ ! -x "$BUILD/hi-q" ]; then
		die "no $BUILD/qmailctl, $BUILD/qmailctl-supervise, $BUILD/qmailctl-tls.so, $BUILD/pido or $BUILD/hi-q: run make first"
	fi
	each put
	make_log_dirs
	if [ -z "$DESTDIR" ]; then
		echo "install: next: edit $SYSCONFDIR/qmailctl/qmailctl.conf and the services, run \"qmailctl cdb\", then enable ONE of: \"systemctl daemon-reload; systemctl enable qmail\" (systemd) or \"update-rc.d qmail defaults\" (sysvinit)"
	fi
	;;
uninstall)
	# before the site config that names them goes
	remove_log_dirs
	each remove
	# our own directories, once empty; the shared ones stay
	for _d in "$SYSCONFDIR/qmailctl/services" "$SYSCONFDIR/qmailctl/stunnel" \
	    "$SYSCONFDIR/qmailctl/hi-q.d" "$SYSCONFDIR/qmailctl" "$SYSCONFDIR/tcp"; do
		rmdir -- "$DESTDIR$_d" 2>/dev/null && echo "uninstall: removed $DESTDIR$_d/"
	done
	: # a directory left in place is not a failure
	;;
*)
	echo "usage: sh init.d/install.sh install|uninstall" >&2
	exit 2
	;;
esac
