#!/bin/sh
# bench/shellzap.sh PGID: how a shell script ends a wedged qmail-send and
# its hung deliveries: TERM to the group, a second's grace, KILL, then poll
# /proc until no live (non-zombie) process is left in the group (at most
# 1000 looks, 10 ms apart).  Exits 0 when the group is empty.
# (bash's "kill -TERM -- -PGID"; dash's kill takes no "--", so "-PGID".)
set -u
g=$1
kill -TERM "-$g" 2>/dev/null
sleep 1
kill -KILL "-$g" 2>/dev/null
i=0
while [ "$i" -lt 1000 ]; do
	n=$(cat /proc/[0-9]*/stat 2>/dev/null | sed 's/ (.*) / /' |
		awk -v g="$g" '$4 == g && $2 != "Z" && $2 != "X" { n++ } END { print n + 0 }')
	[ "$n" = 0 ] && exit 0
	sleep 0.01
	i=$((i + 1))
done
exit 1
