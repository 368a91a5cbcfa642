#!/bin/bash
# scripts/check-repeat.sh [RUNS]: the unit and bats suites RUNS times in a
# row (default 10) with a CPU hog beside them (a busy loop per CPU minus one,
# HOGS=N to choose), to find tests that depend on a quiet machine. Stops at
# the first failing run and keeps its TAP output. `make check-repeat`.
# HOG_NICE=19 runs the hogs at that nice level (they then take only what the
# rest of the machine leaves idle: every CPU stays busy).
set -u
runs=${1:-10}
hogs=${HOGS:-$(($(nproc) > 1 ? $(nproc) - 1 : 1))}
top=$(cd "$(dirname "$0")/.." && pwd)
logdir=$(mktemp -d /tmp/mptrace-repeat.XXXXXX)
pids=()

stop_hogs() {
	for p in "${pids[@]}"; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	pids=()
}
trap stop_hogs EXIT
trap 'exit 130' INT TERM

make -C "$top" --no-print-directory all san >/dev/null && make -C "$top" --no-print-directory unit >/dev/null || exit 1
for _ in $(seq "$hogs"); do
	nice -n "${HOG_NICE:-0}" bash -c 'while :; do :; done' &
	pids+=($!)
done
echo "check-repeat: $runs runs, $hogs CPU hog(s) at nice ${HOG_NICE:-0} (pids ${pids[*]}), logs in $logdir"
passed=0
for i in $(seq "$runs"); do
	start=$SECONDS
	log="$logdir/run-$i.tap"
	if (cd "$top" && make --no-print-directory unit && \
	    MPTRACE="$top/build/san/mptrace" MPTRACE_REQUIRE_BPF=1 bats --tap tests/) >"$log" 2>&1; then
		passed=$((passed + 1))
		echo "run $i: passed ($(grep -c '^ok' "$log") ok) in $((SECONDS - start)) s, load $(cut -d' ' -f1 /proc/loadavg)"
	else
		echo "run $i: FAILED in $((SECONDS - start)) s:"
		grep -A6 '^not ok' "$log" | head -40
		echo "check-repeat: $passed consecutive runs passed before run $i failed; log $log"
		exit 1
	fi
done
echo "check-repeat: $passed of $runs consecutive runs passed with $hogs CPU hog(s)"
rm -rf "$logdir"
