#!/bin/sh
# tools/test.sh - install missing build dependencies, build gatewayd from
# scratch and run the whole test suite.  The exit status is make check's
# (or the first failing step's).  .ci/run runs exactly this.
#
# usage: tools/test.sh [configure options]

top=$(cd "$(dirname "$0")/.." && pwd) || exit 1
cd "$top" || exit 1

step() {
	echo "== $*"
	"$@"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		echo "== FAILED (exit $rc): $*" >&2
		exit "$rc"
	fi
}

step tools/deps.sh
step autoreconf -fi
step ./configure "$@"
step make -j2

echo "== make check"
make check
rc=$?

# Each test program's own summary (Check's closing line), then a total.
passed=0
failed=0
for log in tests/*.log; do
	[ -f "$log" ] || continue
	summary=$(grep -E '^[0-9]+%: Checks: ' "$log" | tail -n 1)
	[ -n "$summary" ] || continue
	echo "$(basename "$log" .log): $summary"
	n=$(echo "$summary" | sed -n 's/.*Checks: \([0-9]*\).*/\1/p')
	f=$(echo "$summary" | sed -n 's/.*Failures: \([0-9]*\).*/\1/p')
	e=$(echo "$summary" | sed -n 's/.*Errors: \([0-9]*\).*/\1/p')
	passed=$((passed + n - f - e))
	failed=$((failed + f + e))
done

if [ "$rc" -ne 0 ]; then
	echo "== make check failed (exit $rc); the end of each failing log:" >&2
	shown=0
	for log in tests/*.log; do
		[ -f "$log" ] || continue
		trs=${log%.log}.trs
		if [ -f "$trs" ] && grep -q '^:test-result: PASS' "$trs"; then
			continue
		fi
		echo "---- $log" >&2
		tail -n 40 "$log" >&2
		shown=1
	done
	if [ "$shown" -eq 0 ] && [ -f test-suite.log ]; then
		echo "---- test-suite.log" >&2
		tail -n 40 test-suite.log >&2
	fi
fi
echo "tests: $passed passed, $failed failed"
exit "$rc"
