#!/bin/sh
# bench/hiq.sh: hi-q's cost, in figures for a person (not a test, never
# fails on a time).  Run after `make tests`: sh bench/hiq.sh
#
#   - messages per second handed over as qmail-smtpd does it
#     (tests/fixtures/qqclient: three pipes, fd 6 read to its end, wait)
#     to the stand-in queue directly, and to hi-q with 0, 1 and 3 cat-like
#     filters in front of it; the ratio for 0 filters, and the time each
#     filter stage adds;
#   - the peak resident size of hi-q and its stages with a 1 MB and a
#     50 MB message, which should not differ: hi-q never holds the message.
#
# Everything lives in one temporary directory; every loop is bounded by
# BENCH_HIQ_N (messages per run, default 500).
set -u

BUILD=${BUILD:-build}
top=$(pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
F=$BUILD/tests/fixtures
HIQ=$BUILD/hi-q
N=${BENCH_HIQ_N:-500}
for _p in "$HIQ" "$F/qqclient" "$F/hiqqueue" "$F/hiqfilter" /usr/bin/time; do
	[ -x "$_p" ] || { echo "bench: fatal: no $_p: run make tests" >&2; exit 1; }
done
W=$(mktemp -d /tmp/qmailctl-bench-hiq.XXXXXX) || exit 1
trap 'rm -rf "$W"' EXIT
trap 'exit 1' INT TERM HUP

mkdir -p "$W/q" "$W/d0" "$W/d1" "$W/d3"
printf 'From: a@example.org\nTo: b@example.org\nSubject: bench\n\n' >"$W/msg"
head -c 4000 /dev/zero | tr '\0' 'x' | fold -w 76 >>"$W/msg"
printf 'Fa@example.org\000Tb@example.org\000\000' >"$W/env"
for _d in 1 3; do
	_i=0
	while [ "$_i" -lt "$_d" ]; do
		_i=$((_i + 1))
		echo "run = $F/hiqfilter cat" >"$W/d$_d/$_i-cat"
	done
done
for _d in 0 1 3; do
	printf 'queue = %s %s\nfilters = %s\n' "$F/hiqqueue" "$W/q" \
	    "$W/d$_d" >"$W/hi-q.$_d.conf"
done

now_us() { date +%s%6N; }
# rate LABEL PROGRAM...: N messages through PROGRAM; prints the rate and
# sets $us (microseconds per message).
rate() {
	_label=$1; shift
	_t0=$(now_us)
	"$F/qqclient" -n "$N" "$W/msg" "$W/env" "$@" >"$W/out" 2>/dev/null
	_t1=$(now_us)
	us=$(( (_t1 - _t0) / N ))
	[ "$us" -gt 0 ] || us=1
	printf '%-28s %6d msg/s  %6d us/msg  (%s)\n' "$_label" \
	    $((1000000 / us)) "$us" "$(tr '\n' ' ' <"$W/out" | sed 's/ $//')"
}

echo "hi-q: $N messages of $(wc -c <"$W/msg") bytes each, as qmail-smtpd hands them over"
rate "stand-in queue directly" "$F/hiqqueue" "$W/q"; direct=$us
rate "hi-q, 0 filters" "$HIQ" -f "$W/hi-q.0.conf"; h0=$us
rate "hi-q, 1 filter" "$HIQ" -f "$W/hi-q.1.conf"; h1=$us
rate "hi-q, 3 filters" "$HIQ" -f "$W/hi-q.3.conf"; h3=$us
echo "hi-q with 0 filters: $((100 * direct / h0))% of the direct rate (target: 90%)"
echo "each filter stage adds about $(( (h3 - h0) / 3 )) us (1 filter: $((h1 - h0)) us)"

# peak SIZE-MB: the largest resident size (kB, GNU time's %M: hi-q or
# one of its stages, whichever is largest) while a message of SIZE MB
# goes through 1 filter.
peak() {
	head -c "$(($1 * 1048576))" /dev/zero >"$W/big"
	/usr/bin/time -f %M -o "$W/rss" "$HIQ" -f "$W/hi-q.1.conf" \
	    <"$W/big" 1<"$W/env" 2>/dev/null
	echo "peak resident size with a $1 MB message: $(cat "$W/rss") kB"
}
peak 1
peak 50
