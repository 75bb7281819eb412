#!/bin/sh
# run.sh: make fuzz.  Runs each libFuzzer target (built by make into
# FUZZ_DIR) for its share of FUZZ_SECONDS, from the corpus it kept last
# time plus the seeds (seeds.sh) and the regression inputs; prints each
# target's executions and the total.  Exits 1 if a target found something:
# the input is in FUZZ_DIR/crashes/TARGET/, the report in FUZZ_DIR/TARGET.log.
# FUZZ_FLAGS adds libFuzzer options (e.g. -jobs=2 -workers=2).
set -u

dir=${FUZZ_DIR:-build/fuzz}
secs=${FUZZ_SECONDS:-60}
targets="conf pidfile hiq"
here=$(dirname "$0")

set -- $targets
each=$((secs / $#))
[ "$each" -ge 1 ] || each=1

sh "$here/seeds.sh" "$dir/seeds" || exit 1
total=0 rc=0
for t in $targets; do
	mkdir -p "$dir/corpus/$t" "$dir/crashes/$t"
	log=$dir/$t.log
	# conf: room for the shipped site config and a service file in one
	# input; pidfile: twice what a pidfile may be (PIDFILE_MAX).
	case $t in conf|hiq) max=8192 ;; *) max=1024 ;; esac
	regress=$here/regress/$t
	[ -d "$regress" ] || regress=
	# shellcheck disable=SC2086 # FUZZ_FLAGS is a list of options
	"$dir/fuzz_$t" -max_total_time="$each" -timeout=10 -max_len="$max" \
		-print_final_stats=1 -dict="$here/$t.dict" \
		-artifact_prefix="$dir/crashes/$t/" ${FUZZ_FLAGS:-} \
		"$dir/corpus/$t" "$dir/seeds/$t" ${regress:+"$regress"} \
		>"$log" 2>&1
	r=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" |
		awk '{ n += $1 } END { print n + 0 }')
	total=$((total + execs))
	echo "fuzz: $t: $execs executions in $each s, corpus of" \
		"$(ls "$dir/corpus/$t" | wc -l) inputs"
	if [ "$r" != 0 ]; then
		echo "fuzz: $t: FOUND SOMETHING (exit $r): see $log; input:"
		ls "$dir/crashes/$t" | sed "s|^|    $dir/crashes/$t/|"
		rc=1
	fi
done
echo "fuzz: $total executions in all"
exit "$rc"
