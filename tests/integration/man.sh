#!/bin/sh
# The man pages: every man/*.[1-9] passes mandoc -Tlint -W warning, and
# qmailctl.8 has an EXIT STATUS section that lists every exit code
# qmailctl/transition.h defines.
. "$TESTS/lib.sh"

if ! command -v mandoc >/dev/null 2>&1; then
	skip "mandoc is not installed"
	done_testing
	exit
fi

n=0
for page in "$TOP"/man/*.[1-9]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	mandoc -Tlint -W warning "$page" >"$T/out" 2>&1
	rc=$?
	if [ "$rc" = 0 ] && [ ! -s "$T/out" ]; then
		ok "mandoc -Tlint -W warning ${page#"$TOP"/}"
	else
		fail "mandoc -Tlint -W warning ${page#"$TOP"/} (exit $rc)"
		sed 's/^/# /' "$T/out"
	fi
done
[ "$n" -gt 0 ] || skip "no man pages in man/"

page=$TOP/man/qmailctl.8
if [ ! -f "$page" ]; then
	skip "man/qmailctl.8 is not written yet"
else
	# The section, up to the next .Sh.
	awk '/^\.Sh EXIT STATUS/ { f = 1; next } /^\.Sh / { f = 0 } f' "$page" >"$T/exit"
	check "qmailctl.8 has an EXIT STATUS section" test -s "$T/exit"
	codes=$(sed -n 's/^[[:space:]]*[A-Z_]* = \([0-9][0-9]*\),.*/\1/p' \
	    "$TOP/qmailctl/transition.h" | sort -un)
	missing=
	for c in $codes; do
		grep -Eq "^\.It.*(^|[^0-9])$c([^0-9]|\$)" "$T/exit" || missing="$missing $c"
	done
	check "... with an item for every exit code of transition.h ($(echo "$codes" | tr '\n' ' ' | sed 's/ $//'))" \
		test -z "$missing"
	[ -n "$missing" ] && note "no .It for:$missing"
fi

done_testing
