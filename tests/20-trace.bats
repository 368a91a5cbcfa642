#!/usr/bin/env bats
# Tracing real commands: the tree, exit statuses, JSON, filtering, modes.

setup() {
	load helpers/common
	require_bpf
	J="$BATS_TEST_TMPDIR/r.json"
}

teardown() {
	bg_teardown
}

@test "sh -c 'true; true' with builtins is one process, exit 0" {
	run_mptrace -q --json "$J" -- sh -c 'true; true'
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(jqr "$J" '.processes | length')" -eq 1 ]
	[ "$(jqr "$J" '.summary.execs')" -eq 1 ]
}

@test "two background sleeps: 3 processes, both reaped by sh, complete" {
	# (mptrace execs from a shell that wrote its pid: the command's reaper)
	run --separate-stderr timeout 180 bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$BATS_TEST_TMPDIR/pid" \
		"$MPTRACE" --json "$J" -- sh -c 'sleep 0.1 & sleep 0.2 & wait'
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
	# the command itself is reaped by mptrace, its parent
	[ "$(jqr "$J" '.processes[0].reap')" = parent ]
	[ "$(jqr "$J" '.processes[0].reaped_by')" -eq "$(cat "$BATS_TEST_TMPDIR/pid")" ]
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
	# (jq accepts empty input: check there is one document first)
	[ -n "$output" ]
	[ "$(jq -s 'length' <<<"$output")" -eq 1 ]
	[ "$(jq -r '.mode' <<<"$output")" = command ]
	[ "$(jq -r '.processes[0].argv[0]' <<<"$output")" = /bin/true ]
}

@test "-o - puts the stream and report on stdout, the command's stdout on stderr; no file named -" {
	cd "$BATS_TEST_TMPDIR"
	run --separate-stderr timeout 120 "$MPTRACE" -o - -- sh -c 'echo from-the-command-$((6*7))'
	[ "$status" -eq 0 ]
	[[ "$output" == *"1 process"*"events lost"* ]]
	[[ "$output" != *from-the-command-42* ]]
	[[ "$stderr" == *from-the-command-42* ]]
	[ ! -e "$BATS_TEST_TMPDIR/-" ]
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

@test "a child forked by a thread that is not the leader is its process's child" {
	# the fork record names the parent process by its leader's start time,
	# read through the forking thread's group_leader
	run_mptrace -q --json "$J" -- "$PY" -c 'import threading, subprocess
t = threading.Thread(target=lambda: subprocess.run(["true"])); t.start(); t.join()'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 2 ]
	[ "$(jqr "$J" '.processes[] | select(.comm == "true") | .parent')" = "$(jqr "$J" '.processes[0].id')" ]
	[ "$(jqr "$J" '.processes[] | select(.comm == "true") | .ppid')" -eq "$(jqr "$J" '.processes[0].pid')" ]
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

# A process with one child from before the attach; it forks a second child
# only once $1 exists (after the attach), then reaps both.
PFORK='import os, sys, time
go, ready = sys.argv[1], sys.argv[2]
def wait_go():
    while not os.path.exists(go):
        time.sleep(0.02)
c0 = os.fork()
if c0 == 0:
    wait_go()
    os._exit(0)
open(ready, "w").close()
wait_go()
c1 = os.fork()
if c1 == 0:
    os._exit(3)
os.waitpid(c1, 0)
os.waitpid(c0, 0)'

@test "-p PID,PID attaches to running processes; children forked after the attach are seen" {
	go="$BATS_TEST_TMPDIR/go"
	ev="$BATS_TEST_TMPDIR/ev.jsonl"
	"$PY" -c "$PFORK" "$go" "$BATS_TEST_TMPDIR/r1" 3>&- &
	a=$!
	"$PY" -c "$PFORK" "$go" "$BATS_TEST_TMPDIR/r2" 3>&- &
	b=$!
	BG="$a $b"
	timeout 30 bash -c 'until [ -e "$1" ] && [ -e "$2" ]; do sleep 0.02; done' _ \
		"$BATS_TEST_TMPDIR/r1" "$BATS_TEST_TMPDIR/r2"
	timeout 60 "$MPTRACE" -q --json "$J" --events-jsonl "$ev" -p "$a,$b" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	m=$!
	BG="$a $b $m"
	# attached: the snapshot of both trees is in the event lines
	timeout 30 bash -c 'until [ "$(grep -c "\"type\":\"proc\"" "$1" 2>/dev/null)" -ge 4 ]; do sleep 0.05; done' _ "$ev"
	touch "$go"
	st=0
	wait "$m" || st=$?
	BG="$a $b"
	[ "$st" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" '.mode')" = pid ]
	[ "$(jqr "$J" '.exit')" = null ]
	[ "$(jqr "$J" '.processes | length')" -eq 6 ]
	# the two roots and their first children were there before: seen late
	[ "$(jqr "$J" "[.processes[] | select(.seen_late)] | length")" -eq 4 ]
	for r in "$a" "$b"; do
		[ "$(jqr "$J" "[.processes[] | select(.pid == $r and .seen_late)] | length")" -eq 1 ]
		# the child forked after the attach: seen forking, its exit code and reap known
		[ "$(jqr "$J" "[.processes[] | select(.seen_late | not) | select(.exit_code == 3 and .reap == \"parent\" and .reaped_by == $r)] | length")" -eq 1 ]
		[ "$(jqr "$J" "[.processes[] | select(.seen_late and .exit_code == 0 and .reaped_by == $r)] | length")" -eq 1 ]
	done
}

@test "-u runs the command as that user, with its group and groups" {
	run_mptrace -q -u nobody -- sh -c 'id -u; id -g; id -G'
	[ "$status" -eq 0 ]
	want=$(printf '%s\n%s\n%s' "$(id -u nobody)" "$(id -g nobody)" "$(id -G nobody)")
	[ "$output" = "$want" ]
}

@test "when the command exits, live descendants are listed as running; --wait-all waits" {
	run_mptrace -q --json "$J" -- sh -c 'sleep 0.5 & exit 0'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes[1].exit_ms')" = null ]
	# the tree's line for the sleep says running (the LEAK text also has the word)
	grep -qE -- '(─|-) sleep\[[0-9]+\] sleep 0\.5 .*running' <<<"$stderr"
	run_mptrace -q --wait-all --json "$J" -- sh -c 'sleep 0.3 & exit 0'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes[1].exit_code')" -eq 0 ]
}

@test "no event is lost on a burst of 2,000 processes" {
	run_mptrace -q --json "$J" -- sh -c 'i=0; while [ $i -lt 2000 ]; do /bin/true & i=$((i+1)); done; wait'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.lost_events')" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 2001 ]
	# every one reaped by its parent, and no finding: a release the kernel
	# never reported (docs/design.md "Releases that never come") is read
	# from sh's waits or from its list of children at its death
	[ "$(jqr "$J" '[.processes[] | select(.reap == "parent")] | length')" -eq 2001 ] ||
		{ jq -c '[.processes[] | select(.reap != "parent")]' "$J"; echo "$stderr"; false; }
	[ "$(jqr "$J" '.findings | length')" -eq 0 ]
	[[ "$stderr" != *"never seen"* ]] || echo "# $(grep -o '[0-9]* releases* never seen.*' <<<"$stderr")" >&3
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

@test "--ring-size: a bigger ring holds a 2,000-process burst; a bad size is a usage error" {
	run_mptrace -q --ring-size 64 --json "$J" -- sh -c 'i=0; while [ $i -lt 2000 ]; do /bin/true & i=$((i+1)); done; wait'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.lost_events')" -eq 0 ]
	[ "$(jqr "$J" '.complete')" = true ]
	[ "$(jqr "$J" '.processes | length')" -eq 2001 ]
	run_mptrace -q --ring-size 3 -- /bin/true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--ring-size"*"power of two"* ]]
}

@test "--lock-threshold: waits shorter than it are not lock waits" {
	require_examples
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 3 --delay 100 --lock=flock
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.summary.lock_waits')" -ge 1 ]
	run_mptrace -q --lock-threshold 30s --json "$J" -- "$EX/ticket_demo" -n 3 --delay 100 --lock=flock
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.summary.lock_waits')" -eq 0 ]
	[ "$(jqr "$J" '.locks | length')" -eq 0 ]
}

@test "--color: always colours, never does not; auto follows the terminal, NO_COLOR and TERM" {
	esc=$'\e['
	run_mptrace -q --color=always -- /bin/true
	[[ "$stderr" == *"$esc"* ]]
	run_mptrace -q --color=never -- /bin/true
	[[ "$stderr" != *"$esc"* ]]
	# auto: a terminal (script(1) gives one) colours, unless NO_COLOR or TERM=dumb
	cmd="$(printf '%q' "$MPTRACE") -q -- /bin/true"
	out=$(TERM=xterm timeout 60 script -qec "$cmd" /dev/null)
	[[ "$out" == *"$esc"* ]]
	out=$(TERM=xterm NO_COLOR=1 timeout 60 script -qec "$cmd" /dev/null)
	[[ "$out" != *"$esc"* ]]
	[[ "$out" == *"1 process"* ]]
	out=$(TERM=dumb timeout 60 script -qec "$cmd" /dev/null)
	[[ "$out" != *"$esc"* ]]
	# on a pipe: no colour
	run_mptrace -q -- /bin/true
	[[ "$stderr" != *"$esc"* ]]
}

@test "-a traces a process started anywhere after the attach" {
	ev="$BATS_TEST_TMPDIR/ev.jsonl"
	timeout -s INT 120 "$MPTRACE" -q -a --json "$J" --events-jsonl "$ev" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	BG=$!
	# attached: the /proc snapshot is in the event lines
	timeout 60 bash -c 'until grep -q "\"type\":\"proc\"" "$1" 2>/dev/null; do sleep 0.05; done' _ "$ev"
	# unrelated to mptrace: not its child, started after the attach
	setsid sh -c 'exec sleep 0.321' &
	wait $!
	m=$(cat /proc/$BG/task/$BG/children)
	kill -INT $m
	st=0
	wait "$BG" || st=$?
	BG=
	[ "$st" -eq 0 ] || { echo "mptrace -a: status $st" >&2; cat "$BATS_TEST_TMPDIR/err" >&2; false; }
	[ "$(jqr "$J" '.mode')" = system ]
	# the kernel's view, as it happened: its fork, the exec and a clean exit
	sp=$(jq -s 'map(select(.type == "exec" and .argv == ["sleep", "0.321"])) | .[0].pid' "$ev")
	[ "$sp" -gt 1 ]
	jq -se --argjson p "$sp" 'any(.type == "fork" and .pid == $p and .thread == false)' "$ev"
	jq -se --argjson p "$sp" 'any(.type == "exit" and .pid == $p and .exit_code == 0)' "$ev"
	# the report has it, or (other jobs on the machine forked thousands since,
	# and -a keeps the newest reaped ones) counts it among the forgotten sleeps
	[ "$(jqr "$J" "[.processes[] | select(.pid == $sp and .argv == [\"sleep\", \"0.321\"] and .exit_code == 0 and (.seen_late | not))] | length")" -eq 1 ] ||
		[ "$(jqr "$J" '[.forgotten.by_comm[] | select(.comm == "sleep") | .processes] | add // 0')" -ge 1 ]
}

@test "a report that cannot be written: exit 1 (not the command's status), one line" {
	run_mptrace -q --json /dev/full -- sh -c 'exit 5'
	[ "$status" -eq 1 ]
	[ "$(grep -c '^mptrace: ' <<<"$stderr")" -eq 1 ]
	[[ "$stderr" == *"mptrace: cannot write the JSON report to '/dev/full': "* ]]
}

@test "-vv shows libbpf's messages; without -v there are none" {
	run_mptrace -q -vv -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"libbpf: loading object"* ]]
	run_mptrace -q -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$stderr" != *"libbpf:"* ]]
}
