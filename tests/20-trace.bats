#!/usr/bin/env bats
# Tracing real commands: the tree, exit statuses, JSON, filtering, modes.

setup() {
	load helpers/common
	require_bpf
	J="$BATS_TEST_TMPDIR/r.json"
}

teardown() {
	if [ -n "${BG:-}" ]; then
		kill "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
}

@test "sh -c 'true; true' with builtins is one process, exit 0" {
	run_mptrace -q --json "$J" -- sh -c 'true; true'
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(jqr "$J" '.processes | length')" -eq 1 ]
	[ "$(jqr "$J" '.summary.execs')" -eq 1 ]
}

@test "two background sleeps: 3 processes, both reaped by sh, complete" {
	run_mptrace --json "$J" -- sh -c 'sleep 0.1 & sleep 0.2 & wait'
	[ "$status" -eq 0 ]
	no_sanitizer_report
	validate_report "$J"
	[ "$(jqr "$J" '.processes | length')" -eq 3 ]
	sh_pid=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep")] | length')" -eq 2 ]
	[ "$(jqr "$J" "[.processes[] | select(.comm == \"sleep\" and .reap == \"parent\" and .reaped_by == $sh_pid and .parent == 1)] | length")" -eq 2 ]
	[ "$(jqr "$J" '.complete')" = true ]
	[ "$(jqr "$J" '.lost_events')" -eq 0 ]
	[ "$(jqr "$J" '.exit.code')" -eq 0 ]
	[ "$(jqr "$J" '.processes[0].reaped_by')" -ne "$sh_pid" ]
	# the stream saw it happen
	[[ "$stderr" == *"fork"* ]]
	[[ "$stderr" == *"exec sleep 0.1"* ]]
	[[ "$stderr" == *"reaped sleep["* ]]
}

@test "a 3-level tree keeps fork lineage" {
	run_mptrace -q --json "$J" -- sh -c 'sh -c "sleep 0.01 & wait" & wait'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '[.processes[] | [.id, .parent]] | tostring')" = "[[1,null],[2,1],[3,2]]" ]
	[ "$(jqr "$J" '.processes[2].comm')" = sleep ]
	[[ "$stderr" == *"└─ sleep["* || "$stderr" == *'`- sleep['* ]]
}

@test "exit status is the command's" {
	run_mptrace -q -- sh -c 'exit 7'
	[ "$status" -eq 7 ]
	no_sanitizer_report
}

@test "killed by a signal: 128+N, the stream and tree show it" {
	run_mptrace --json "$J" -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	[[ "$stderr" == *"SIGKILL"* ]]
	[ "$(jqr "$J" '.exit.signal')" -eq 9 ]
	[ "$(jqr "$J" '.exit.code')" = null ]
	[ "$(jqr "$J" '.processes[0].signal')" -eq 9 ]
	[ "$(jqr "$J" '.processes[0].exit_code')" = null ]
	validate_report "$J"
}

@test "who killed whom: killed_by names the sender" {
	run_mptrace -q --json "$J" -- sh -c 'sleep 5 & kill -TERM $!; wait'
	[ "$status" -eq 0 ]
	sh_pid=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" '.processes[1].signal')" -eq 15 ]
	[ "$(jqr "$J" '.processes[1].killed_by.pid')" -eq "$sh_pid" ]
	[[ "$stderr" == *"killed by SIGTERM from sh[$sh_pid]"* ]]
}

@test "mptrace's stdout carries only the command's output" {
	run_mptrace -- sh -c 'echo hello; /bin/echo world'
	[ "$status" -eq 0 ]
	[ "$output" = "$(printf 'hello\nworld')" ]
}

@test "-q: no event stream, only the tree and summary" {
	run_mptrace -q -- sh -c '/bin/true'
	[ "$status" -eq 0 ]
	[[ "$stderr" != *" exec "* ]]
	[[ "$stderr" == *"0 events lost"* ]]
	# the tree is the first line: no empty line before it (stderr a pipe, as in a CI log)
	first=$("$MPTRACE" -q -- sh -c '/bin/true' 2>&1 >/dev/null | head -n 1)
	[[ "$first" == sh\[* ]]
}

@test "-o FILE takes the stream and the report; stderr stays empty" {
	run_mptrace -o "$BATS_TEST_TMPDIR/out.txt" -- /bin/true
	[ "$status" -eq 0 ]
	[ -z "$stderr" ]
	grep -q "exec /bin/true" "$BATS_TEST_TMPDIR/out.txt"
	grep -q "1 process" "$BATS_TEST_TMPDIR/out.txt"
}

@test "--json - writes the report on stdout" {
	run_mptrace -q --json - -- /bin/true
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.mode == "command"'
}

@test "a report on stdout stays parseable: the command's stdout goes to stderr" {
	# zombie_demo prints a line per child on stdout
	timeout 120 "$MPTRACE" -q --json - -- "$EX/zombie_demo" -n 2 --sleep 0.2 \
		2>"$BATS_TEST_TMPDIR/err" | "$PY" -m json.tool >"$BATS_TEST_TMPDIR/out.json"
	[ "$(jqr "$BATS_TEST_TMPDIR/out.json" '.exit.code')" -eq 0 ]
	grep -q "forked child" "$BATS_TEST_TMPDIR/err"
	# every line of --events-jsonl - parses; the command's words are on stderr
	# (the argv in the events says 6*7, the command prints 42)
	run --separate-stderr timeout 120 "$MPTRACE" -q --events-jsonl - -- sh -c 'echo from-the-command-$((6*7)); sleep 0.05 & wait'
	[ "$status" -eq 0 ]
	[ "${#lines[@]}" -ge 4 ]
	"$PY" -c 'import json, sys; [json.loads(l) for l in sys.stdin]' <<<"$output"
	[[ "$output" != *from-the-command-42* ]]
	[[ "$stderr" == *from-the-command-42* ]]
	# without an output on stdout, the command's stdout is untouched
	run --separate-stderr timeout 120 "$MPTRACE" -q --json "$J" -- echo from-the-command
	[ "$output" = from-the-command ]
}

@test "any bytes in argv keep the JSON valid; long argv is truncated and says so" {
	long=$(printf 'x%.0s' $(seq 1500))
	run_mptrace -q --json "$J" -- /bin/echo $'a\x01b' $'\xff\xfe' $'tab\there' "$long"
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" '.processes[0].argv[1]')" = $'a\x01b' ]
	[ "$(jqr "$J" '.processes[0].execs[0].truncated')" = true ]
	[ "$(jqr "$J" '.processes[0].argv[2]')" = $'\uFFFD\uFFFD' ]
}

@test "filtering is in the kernel: a busy unrelated process is not in the report" {
	bash -c 'while :; do /bin/true; done' &
	BG=$!
	run_mptrace -q --json "$J" -- sh -c 'sleep 0.3; exit 0'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 2 ]
	[ "$(jqr "$J" '[.processes[] | select(.comm == "true")] | length')" -eq 0 ]
}

@test "threads are counted per process, not drawn as processes" {
	run_mptrace -q --json "$J" -- "$PY" -c 'import threading
ts = [threading.Thread(target=lambda: None) for _ in range(3)]
[t.start() for t in ts]; [t.join() for t in ts]'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 1 ]
	[ "$(jqr "$J" '.processes[0].threads')" -eq 4 ]
	[ "$(jqr "$J" '.summary.threads')" -eq 4 ]
}

@test "SIGTERM to mptrace is forwarded; the report is still printed" {
	"$MPTRACE" -q --json "$J" -- sleep 30 2>"$BATS_TEST_TMPDIR/err" &
	BG=$!
	for _ in $(seq 100); do
		pgrep -P "$BG" -x sleep >/dev/null && break
		sleep 0.05
	done
	kill -TERM "$BG"
	st=0
	wait "$BG" || st=$?
	BG=
	[ "$st" -eq 143 ]
	[ "$(jqr "$J" '.exit.signal')" -eq 15 ]
	grep -q "killed by SIGTERM" "$BATS_TEST_TMPDIR/err"
}

@test "-p attaches to a running process and its children" {
	# the sleeps outlast mptrace's start on a loaded machine (seconds)
	sh -c 'sleep 3 & sleep 4; wait' &
	BG=$!
	sleep 0.1
	run_mptrace -q --json "$J" -p "$BG"
	BG=
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" '.mode')" = pid ]
	[ "$(jqr "$J" '.exit')" = null ]
	[ "$(jqr "$J" '[.processes[] | select(.seen_late)] | length')" -ge 2 ]
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep" and .exit_code == 0)] | length')" -eq 2 ]
}

@test "-u runs the command as that user" {
	run_mptrace -q -u nobody -- id -u
	[ "$status" -eq 0 ]
	[ "$output" = 65534 ]
}

@test "when the command exits, live descendants are listed as running; --wait-all waits" {
	run_mptrace -q --json "$J" -- sh -c 'sleep 0.5 & exit 0'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes[1].exit_ms')" = null ]
	[[ "$stderr" == *"running"* ]]
	run_mptrace -q --wait-all --json "$J" -- sh -c 'sleep 0.3 & exit 0'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes[1].exit_code')" -eq 0 ]
}

@test "no event is lost on a burst of 2,000 processes" {
	run_mptrace -q --json "$J" -- sh -c 'i=0; while [ $i -lt 2000 ]; do /bin/true & i=$((i+1)); done; wait'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.lost_events')" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 2001 ]
	[ "$(jqr "$J" '[.processes[] | select(.reap == "parent")] | length')" -eq 2001 ]
}

@test "the ticket demo: 1 parent + N buyers, all reaped by the parent" {
	require_examples
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 20
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" '.processes | length')" -eq 5 ]
	parent=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" "[.processes[1:][] | select(.reap == \"parent\" and .reaped_by == $parent and .parent == 1)] | length")" -eq 4 ]
}

@test "an output path that cannot be written is refused before the command runs" {
	run_mptrace -q --json /nonexistent/dir/r.json -- sh -c 'echo ran'
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"/nonexistent/dir/r.json"* ]]
	[ -z "$output" ]
}

@test "--events-jsonl: every event is one JSON object per line" {
	run_mptrace -q --events-jsonl "$BATS_TEST_TMPDIR/ev.jsonl" -- sh -c 'sleep 0.05 & wait'
	[ "$status" -eq 0 ]
	"$PY" - "$BATS_TEST_TMPDIR/ev.jsonl" <<'PYEOF'
import json, sys
types = [json.loads(line)["type"] for line in open(sys.argv[1])]
assert types.count("fork") == 1 and types.count("exec") == 2, types
assert types.count("exit") == 2 and types[-1] == "end", types
PYEOF
}
