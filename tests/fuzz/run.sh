#!/usr/bin/env bash
# Runs every libFuzzer target for a fixed time on a scratch copy of its seed corpus.
#   usage: tests/fuzz/run.sh FUZZ_BIN_DIR SECONDS
# Target FUZZ_BIN_DIR/fuzz_<name> uses tests/fuzz/corpus/<name>/ as seeds; the copy keeps
# the repository's corpus small.  Prints each target's final exec-count line and exits
# non-zero when any target crashed (the crash input is kept in the scratch dir, named).
set -u
bindir=${1:?usage: $0 FUZZ_BIN_DIR SECONDS}
secs=${2:-60}
here=$(cd "$(dirname "$0")" && pwd)
export IKEGW_TOP="${IKEGW_TOP:-$(cd "$here/../.." && pwd)}" # targets load test data
scratch=$(mktemp -d "${TMPDIR:-/tmp}/ikegw-fuzz.XXXXXX")
status=0 ran=0

for bin in "$bindir"/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/artifacts"
	if [ -d "$here/corpus/$name" ]; then
		cp -r "$here/corpus/$name/." "$work/corpus/"
	fi
	"$bin" -max_total_time="$secs" -print_final_stats=1 \
		-artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/log" 2>&1
	rc=$?
	ran=$((ran + 1))
	line=$(grep -E '^(#[0-9]+[[:space:]]+DONE|Done [0-9]+ runs)' "$work/log" | tail -1)
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	echo "fuzz_$name: ${line:-no summary} (execs: ${execs:-?}, exit $rc)"
	if [ "$rc" -ne 0 ]; then
		status=1
		echo "fuzz_$name: CRASHED, inputs kept in $work/artifacts:" >&2
		ls "$work/artifacts" >&2
		grep -m5 -E 'ERROR|SUMMARY|runtime error' "$work/log" >&2
	fi
done

[ "$ran" -gt 0 ] || { echo "no fuzz_* binaries in $bindir" >&2; exit 1; }
[ "$status" -eq 0 ] && rm -rf "$scratch"
exit "$status"
