#!/bin/sh
# valgrind-fetch.sh DIR: prints the path of a valgrind that knows
# pidfd_open(2), fetching one into DIR if need be; exits 1 saying why when
# it cannot.  Used by tests/integration/valgrind.sh.
#
# Debian 12's valgrind (3.19) answers ENOSYS to pidfd_open, so under it
# every qmailctl command that holds a process meets a refusal.  Debian
# 13's valgrind (3.24) knows the call and runs on Debian 12 as it is: its
# tools are static programs and its launcher needs glibc 2.34.  apt itself
# fetches the package, checking its signatures against the system's
# debian-archive-keyring, in an apt state of its own under DIR: the
# system's sources, package lists and package database are not touched,
# nothing is installed.  The package is unpacked under DIR/root, and
# DIR/valgrind runs it.
set -u

dir=${1:?usage: valgrind-fetch.sh DIR}
suite=${VALGRIND_SUITE:-trixie}
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
fail() { echo "valgrind-fetch: fatal: $*" >&2; exit 1; }

if [ -x "$dir/valgrind" ]; then
	echo "$dir/valgrind"
	exit 0
fi
command -v apt-get >/dev/null 2>&1 || fail "no apt-get: not a Debian system"
command -v dpkg-deb >/dev/null 2>&1 || fail "no dpkg-deb: not a Debian system"
[ -r "$keyring" ] || fail "$keyring: not readable (package debian-archive-keyring)"

rm -rf "$dir"
apt="$dir/apt"
trap 'rm -rf "$apt"' EXIT     # the apt state is only needed for the fetch
mkdir -p "$apt/lists/partial" "$apt/cache/archives/partial" "$apt/deb" ||
	fail "$apt: unable to create"
echo "deb [signed-by=$keyring] http://deb.debian.org/debian $suite main" \
	>"$apt/sources.list"
aptget() {
	apt-get -qq \
		-o Dir::Etc::SourceList="$apt/sources.list" \
		-o Dir::Etc::SourceParts=/dev/null \
		-o Dir::State::Lists="$apt/lists" \
		-o Dir::State::status=/dev/null \
		-o Dir::Cache="$apt/cache" \
		-o Debug::NoLocking=1 \
		-o Acquire::Languages=none \
		-o APT::Sandbox::User="$(id -un)" "$@" >"$apt/log" 2>&1
}
aptget update || fail "apt-get update of Debian $suite failed: $(tail -n 1 "$apt/log")"
(cd "$apt/deb" && aptget download valgrind) ||
	fail "apt-get download valgrind ($suite) failed: $(tail -n 1 "$apt/log")"
set -- "$apt"/deb/valgrind_*.deb
[ -f "$1" ] || fail "apt-get download left no valgrind package in $apt/deb"
dpkg-deb -x "$1" "$dir/root" || fail "dpkg-deb -x $1 failed"
[ -x "$dir/root/usr/bin/valgrind.bin" ] || fail "$1 has no usr/bin/valgrind.bin"

# The package's own /usr/bin/valgrind is a wrapper that sets debug-library
# paths and execs valgrind.bin; VALGRIND_LIB says where its tools are.
cat >"$dir/valgrind.tmp" <<EOF
#!/bin/sh
# valgrind from Debian $suite's ${1##*/}, unpacked by tests/valgrind-fetch.sh
VALGRIND_LIB='$dir/root/usr/libexec/valgrind' exec '$dir/root/usr/bin/valgrind.bin' "\$@"
EOF
chmod 755 "$dir/valgrind.tmp" || fail "$dir/valgrind.tmp: unable to write"
# A later Debian 13 valgrind may need a newer glibc than this system's.
if ! out=$("$dir/valgrind.tmp" -q /bin/true 2>&1); then
	fail "Debian $suite's valgrind does not run here: $(echo "$out" | head -n 1)"
fi
mv "$dir/valgrind.tmp" "$dir/valgrind" || fail "$dir/valgrind: unable to write"
echo "$dir/valgrind"
