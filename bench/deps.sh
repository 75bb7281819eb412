#!/bin/sh
# bench/deps.sh: installs, when missing and running as root, the Debian
# packages the benchmark compares qmailctl with: runit (sv, runsvdir), s6
# (s6-svscan, s6-svc), daemontools (svscan, supervise, svc, svstat; it also
# gives multilog), and what the pipelines need: ucspi-tcp (tcpserver),
# stunnel4, openssl; and linux-perf (perf: section G2's tracepoints).
# start-stop-daemon is part of dpkg.  None of these
# packages starts a daemon when installed (runit-run, runit-init and
# daemontools-run would: they are not installed).
#
# Not root: prints the command and goes on; the benchmark leaves out the
# peers that are missing and says so.
set -u

missing=""
need() { case " $missing " in *" $1 "*) ;; *) missing="$missing $1" ;; esac; }
have() { command -v "$1" >/dev/null 2>&1; }

for c in sv runsvdir runsv; do have $c || need runit; done
for c in s6-svscan s6-svc s6-svok s6-svstat; do have $c || need s6; done
for c in svscan supervise svc svstat svok multilog; do have $c || need daemontools; done
have tcpserver || need ucspi-tcp
have stunnel || have stunnel4 || need stunnel4
have openssl || need openssl
have cc || need gcc
have perf || need linux-perf

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "bench: missing packages:$missing; to have them, as root run:" >&2
	echo "    apt-get install -y --no-install-recommends$missing" >&2
	exit 0
fi
echo "bench: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # the list is ours and must split into words
apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1 || {
	apt-get update -qq >/dev/null 2>&1
	apt-get install -y -qq --no-install-recommends $missing >/dev/null 2>&1
} || echo "bench: apt-get install$missing failed; going on without" >&2
exit 0
