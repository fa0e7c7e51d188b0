#!/usr/bin/env bash
# Runs the test suites and ends with one summary line CI can read:
#   "N passed, N failed, N skipped"
# usage: tests/run.sh BUILD_DIR [unit|interop|all]
#
# Unit tests are cmocka binaries in BUILD_DIR/tests; each cmocka test case counts once.
# Interop tests are tests/interop/t_*.sh; each prints "PASS: name", "FAIL: name: why" or
# "SKIP: name: why" lines, one per case.  A binary or script that dies without saying
# why counts as one failure: a crash is never silent.
set -u
build=${1:-build}
what=${2:-all}
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
export IKEGW_BUILD=$(cd "$top" && cd "$build" && pwd)
export IKEGW_TOP=$top

passed=0 failed=0 skipped=0
failures=()

run_unit() {
	local bin out rc p f s
	for bin in "$IKEGW_BUILD"/tests/test_*; do
		[ -x "$bin" ] || continue
		out=$(CMOCKA_MESSAGE_OUTPUT=stdout timeout 300 "$bin" 2>&1)
		rc=$?
		printf '%s\n' "$out"
		p=$(printf '%s\n' "$out" | sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		f=$(printf '%s\n' "$out" | sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' | tail -1)
		s=$(printf '%s\n' "$out" | sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' | tail -1)
		p=${p:-0} f=${f:-0} s=${s:-0}
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			echo "FAIL: ${bin##*/} exited with status $rc"
		fi
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		[ "$f" -gt 0 ] && failures+=("${bin##*/}")
	done
}

run_interop() {
	local t out rc p f s
	for t in "$top"/tests/interop/t_*.sh; do
		[ -f "$t" ] || continue
		echo "== ${t##*/}"
		out=$(timeout 600 bash "$t" 2>&1)
		rc=$?
		printf '%s\n' "$out"
		p=$(printf '%s\n' "$out" | grep -c '^PASS: ')
		f=$(printf '%s\n' "$out" | grep -c '^FAIL: ')
		s=$(printf '%s\n' "$out" | grep -c '^SKIP: ')
		if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
			f=1
			echo "FAIL: ${t##*/} exited with status $rc"
		fi
		passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))
		[ "$f" -gt 0 ] && failures+=("${t##*/}")
	done
}

case "$what" in
unit) run_unit ;;
interop) run_interop ;;
all) run_unit; run_interop ;;
*) echo "usage: $0 BUILD_DIR [unit|interop|all]" >&2; exit 2 ;;
esac

echo
[ ${#failures[@]} -gt 0 ] && echo "failing: ${failures[*]}"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
