#!/bin/sh
# deps.sh: installs the Debian packages that the build, the tests and the
# demo need, when they are missing.  As root it runs apt-get; otherwise it
# prints the exact command and fails, so nothing half-works.
set -u

missing=""
need() { missing="$missing $1"; }
have() { command -v "$1" >/dev/null 2>&1; }

have cc || need gcc
have make || need make
have pkg-config || need pkg-config
pkg-config --exists openssl 2>/dev/null || need libssl-dev
have openssl || need openssl
have tcpserver || need ucspi-tcp
have stunnel4 || have stunnel || need stunnel4
have multilog || need daemontools
have mandoc || need mandoc
have shellcheck || need shellcheck
# tests/notqmail.sh builds notqmail, whose "make man" runs nroff; the
# real-qmail tests talk to it with swaks and python3's poplib.
have nroff || need groff-base
have swaks || need swaks
have python3 || need python3
have promtool || need prometheus      # promtool check metrics (ops.sh)
# hi-q's tests run real spamc against a real spamd (hiq.sh, hiqreal.sh).
[ -x /usr/sbin/spamd ] || need spamd
have spamc || need spamc

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "deps: fatal: missing packages:$missing; as root run:" >&2
	echo "    apt-get install -y --no-install-recommends$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the list is ours and must split into words
apt-get update -qq >/dev/null &&
	apt-get install -y -qq --no-install-recommends $missing >/dev/null ||
	{ echo "deps: fatal: apt-get install$missing failed" >&2; exit 1; }
