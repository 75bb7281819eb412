#!/bin/sh
# seeds.sh DIR: writes the starting corpus of each fuzz target into
# DIR/conf, DIR/pidfile and DIR/hiq (made if missing; what is there is kept, so a
# corpus grows from run to run).
#
# conf: the shipped site config and every shipped service file, each alone
# and each after the site config (as "SITE %% SERVICE", see fuzz_conf.c),
# every run/log/probe line alone (for the splitter), and the hand-written
# edge cases of tests/fuzz/seeds/conf.  pidfile: a pidfile as qmailctl
# writes it for this very shell, and tests/fuzz/seeds/pidfile.
set -eu

out=${1:?usage: seeds.sh DIR}
top=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out/conf" "$out/pidfile" "$out/hiq"

# The shipped site names qmail's users, which a build host rarely has:
# root stands in for them, so that ${uid:qmaild} succeeds and the
# service files are parsed to the end.
site=$top/services/qmailctl.conf
sed -E 's/^(qmaild|nofiles|qmaill|spamd_user) = .*/\1 = root/' "$site" \
	>"$out/conf/shipped-site"
for f in "$top"/services/*; do
	[ -f "$f" ] && [ "$f" != "$site" ] || continue
	name=${f##*/}
	cp "$f" "$out/conf/shipped-$name"
	{ cat "$out/conf/shipped-site"; printf '%%%%\n'; cat "$f"; } \
		>"$out/conf/shipped-site+$name"
	n=0
	grep -E '^(run|log|probe) *=' "$f" | while IFS= read -r line; do
		n=$((n + 1))
		printf '%s' "${line#*= }" >"$out/conf/shipped-$name-line$n"
	done
done
cp "$top"/tests/fuzz/seeds/conf/* "$out/conf/"

start=$(sed 's/.*) //' /proc/$$/stat | cut -d' ' -f20)
printf '%s\nstart %s\nboot %s\npgid %s\nsid %s\n' "$$" "$start" \
	"$(cat /proc/sys/kernel/random/boot_id)" "$$" "$$" >"$out/pidfile/live"
cp "$top"/tests/fuzz/seeds/pidfile/* "$out/pidfile/"
# hiq: hi-q's shipped site file and examples, and the hand-written cases.
cp "$top"/tests/fuzz/seeds/hiq/* "$out/hiq/"
