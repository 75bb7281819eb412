#!/bin/sh
# run.sh: runs every unit test (tests/unit/*.c, built) and every integration
# test (tests/integration/*.sh), each printing TAP lines, and ends with one
# line: "N passed, N failed, N skipped".  Exits 1 if anything failed.
set -u

BUILD=${BUILD:-build}
top=$(pwd)
case $BUILD in /*) ;; *) BUILD=$top/$BUILD ;; esac
export BUILD
export QMAILCTL="$BUILD/qmailctl" PIDO="$BUILD/pido"
export FIXTURES="$BUILD/tests/fixtures" TESTS="$top/tests" TOP="$top"

# One script may run at most this long; a hung test is a failed test.
SCRIPT_LIMIT=${SCRIPT_LIMIT:-300}

passed=0 failed=0 skipped=0
out=$(mktemp)
trap 'rm -f "$out"' EXIT

run_one() {
	name=$1; shift
	t0=$(date +%s)
	timeout -k 5 "$SCRIPT_LIMIT" "$@" >"$out" 2>&1
	rc=$?
	took=$(( $(date +%s) - t0 ))
	p=$(grep '^ok ' "$out" | grep -vc '# SKIP')
	s=$(grep '^ok ' "$out" | grep -c '# SKIP')
	f=$(grep -c '^not ok ' "$out")
	sed "s|^|$name: |" "$out"
	# how long each script took, for whoever keeps the suite short
	echo "$name: # took $took s"
	if [ "$rc" != 0 ] && [ "$f" = 0 ]; then
		echo "$name: not ok - exited $rc without reporting a failure"
		f=1
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
}

for t in "$BUILD"/tests/unit/*; do
	[ -x "$t" ] || continue
	run_one "unit/${t##*/}" "$t"
done
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	case ${ONLY:-} in ""|*"$(basename "$t" .sh)"*) ;; *) continue ;; esac
	run_one "${t#tests/}" sh "$t"
done

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
