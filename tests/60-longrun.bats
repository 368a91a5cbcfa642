#!/usr/bin/env bats
# Runs for days (issue 11): -a forgets reaped processes, deep fork chains
# make small reports.

setup() {
	load helpers/common
	require_bpf
	T="$BATS_TEST_TMPDIR"
	J="$T/r.json"
	[ -x "$TOP/build/bench/forkstorm" ] || { echo "build/bench missing: run make" >&2; return 1; }
}

teardown() {
	if [ -n "${MP:-}" ]; then
		kill -INT "$MP" 2>/dev/null || true
		wait "$MP" 2>/dev/null || true
	fi
}

@test "-a forgets: 12,000 short processes, at most 8,192 reaped ones kept, all counted by comm" {
	"$MPTRACE" -a -q --json "$J" --events-jsonl "$T/ev.jsonl" 2>"$T/err" &
	MP=$!
	# armed once the /proc snapshot is in the event lines
	timeout 60 sh -c "until [ -s '$T/ev.jsonl' ]; do sleep 0.1; done"
	# a comm of its own: other storms may run on this machine
	cp "$TOP/build/bench/forkstorm" "$T/fgt$$"
	timeout 120 "$T/fgt$$" 12000
	kill -INT "$MP"
	timeout 120 tail --pid="$MP" -f /dev/null
	wait "$MP" || { cat "$T/err" >&2; false; }
	MP=
	! grep -qE 'ERROR: AddressSanitizer|runtime error:' "$T/err" || false
	validate_report "$J"
	forgot=$(jqr "$J" '[.forgotten.by_comm[] | select(.comm == "fgt'$$'") | .processes] | add')
	kept=$(jqr "$J" '[.processes[] | select(.comm == "fgt'$$'")] | length')
	reaped=$(jqr "$J" '[.processes[] | select(.comm == "fgt'$$'" and .reap != null)] | length')
	echo "forgotten $forgot, kept $kept ($reaped reaped), complete $(jqr "$J" .complete)"
	[ "$forgot" -ge $((12000 - 8192)) ]
	[ "$reaped" -le 8192 ]
	# the storm's 12,000 children and the storm itself, unless records were lost
	[ "$(jqr "$J" .complete)" = false ] || [ $((forgot + kept)) -eq 12001 ]
	[ "$(jqr "$J" '.forgotten.processes')" -ge "$forgot" ]
	grep -q 'reaped processes forgotten (only counted), most: ' "$T/err"
}

@test "a 3,000-deep fork chain: the text report folds it, small; every link is in the JSON" {
	run_mptrace -q --json "$J" -- "$TOP/build/bench/forkchain" 3000
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(jqr "$J" '.processes | length')" -eq 3001 ]
	[[ "$stderr" == *"more links of this fork chain, each the only child of the one before: forkchain"* ]]
	# unfolded, 3 bytes of indent per level made this 14 MB
	[ "${#stderr}" -lt 1000000 ]
}

@test "-a after a ring overflow: processes whose exits were lost are found gone, not left running" {
	"$MPTRACE" -a -q --no-locks --no-stacks --ring-size 1 --json "$J" --events-jsonl "$T/ev.jsonl" \
		2>"$T/err" &
	MP=$!
	timeout 60 sh -c "until [ -s '$T/ev.jsonl' ]; do sleep 0.1; done"
	# 40 sleepers of a comm of their own, in the model as running
	cp /bin/sleep "$T/gone$$"
	pids=()
	for i in $(seq 40); do "$T/gone$$" 600 & pids+=($!); done
	timeout 60 sh -c "until [ \$(grep -c '\"comm\":\"gone$$\"' '$T/ev.jsonl') -ge 40 ]; do sleep 0.1; done"
	# mptrace stops reading: the storm fills the 1 MiB ring, the sleepers'
	# exits that follow are dropped
	kill -STOP "$MP"
	timeout 120 "$TOP/build/bench/forkstorm" 20000
	kill "${pids[@]}"
	wait "${pids[@]}" 2>/dev/null || true
	# their releases come an RCU grace period after the reap: dropped too
	# while the ring stays full (else a release alone ends them, exit unknown)
	sleep 1
	kill -CONT "$MP"
	# reconciled after the loss: a "gone" record each (events, as they come)
	timeout 60 sh -c "until [ \$(grep -c '\"type\":\"gone\"' '$T/ev.jsonl') -ge 40 ]; do sleep 0.2; done"
	kill -INT "$MP"
	timeout 120 tail --pid="$MP" -f /dev/null
	wait "$MP" || { cat "$T/err" >&2; false; }
	MP=
	! grep -qE 'ERROR: AddressSanitizer|runtime error:' "$T/err" || false
	validate_report "$J"
	[ "$(jqr "$J" .complete)" = false ]
	[ "$(jqr "$J" .lost_events)" -gt 0 ]
	# every sleeper: gone, or its exit made it in; none left running
	running=$(jqr "$J" '[.processes[] | select(.comm == "gone'$$'" and .exit_code == null and .signal == null and (.gone | not))] | length')
	gone=$(jqr "$J" '[.processes[] | select(.comm == "gone'$$'" and .gone)] | length')
	echo "sleepers gone $gone, left running $running; gone_processes $(jqr "$J" .gone_processes)"
	[ "$running" -eq 0 ]
	[ "$gone" -ge 1 ]
	[ "$(jqr "$J" .gone_processes)" -ge "$gone" ]
	# what is alive is not: this test's shell
	[ "$(jqr "$J" '[.processes[] | select(.pid == '$$' and .gone)] | length')" -eq 0 ]
	grep -q "processes found gone whose exit or release was among them" "$T/err"
}
