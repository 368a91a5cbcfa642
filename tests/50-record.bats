#!/usr/bin/env bats
# Record and replay (.mpt), `mptrace report`, damaged files, and the visual
# outputs: SVG timeline (rendered in Chromium), Perfetto JSON, event lines.
# docs/file-format.md, docs/visual.md.

setup() {
	load helpers/common
	T="$BATS_TEST_TMPDIR"
	VIS="$TOP/tests/helpers/visual.py"
	CORPUS="$TOP/tests/fuzz/corpus"
}

# live_and_replay NAME MPTRACE-OPTIONS... -- COMMAND...: records a live run
# with --json, replays it with the same options; $T/NAME.{mpt,live.json,rep.json}
live_and_replay() {
	local name="$1" opts=()
	shift
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	run_mptrace -q "${opts[@]}" --record "$T/$name.mpt" --json "$T/$name.live.json" -- "$@"
	no_sanitizer_report
	live_status=$status
	[ -s "$T/$name.mpt" ]
	run_mptrace report -q "${opts[@]}" --json "$T/$name.rep.json" "$T/$name.mpt"
	no_sanitizer_report
	[ "$status" -eq "$live_status" ]
	diff "$T/$name.live.json" "$T/$name.rep.json"
}

# flip FILE OFFSET: xor one byte of FILE with 0x5a
flip() {
	"$PY" - "$1" "$2" <<'PYEOF'
import sys
p, at = sys.argv[1], int(sys.argv[2])
d = bytearray(open(p, "rb").read())
d[at] ^= 0x5a
open(p, "wb").write(d)
PYEOF
}

header_len() {
	"$PY" -c 'import struct,sys; print(struct.unpack_from("<I", open(sys.argv[1], "rb").read(), 12)[0])' "$1"
}

@test "record -> report: identical JSON for a shell with a background child" {
	require_bpf
	live_and_replay sh -- sh -c 'sleep 0.1 & wait; exit 5'
	[ "$live_status" -eq 5 ]
	validate_report "$T/sh.rep.json"
}

@test "record -> report: identical JSON for ticket_demo (lock waits)" {
	require_bpf
	require_examples
	live_and_replay ticket -- "$EX/ticket_demo" --delay 30
	[ "$(jqr "$T/ticket.rep.json" '.summary.lock_waits')" -gt 0 ]
}

@test "record -> report: identical JSON for pool_demo" {
	require_bpf
	require_examples
	live_and_replay pool -- "$EX/pool_demo" -w 3 -t 6 --work 20
}

@test "record -> report: identical JSON and exit status for zombie_demo with --check" {
	require_bpf
	require_examples
	live_and_replay zombie --check --zombie-threshold 100ms -- "$EX/zombie_demo" -n 3 --sleep 0.3
	[ "$live_status" -eq 3 ]
	[ "$(jqr "$T/zombie.rep.json" '[.findings[] | select(.kind == "zombie")] | length')" -eq 3 ]
}

@test "record -> report: identical JSON for orphan_demo, join_demo, daemon_demo" {
	require_bpf
	require_examples
	live_and_replay orphan -- "$EX/orphan_demo" --sleep 0.1
	# (and facts of their own, not only mptrace agreeing with itself)
	[ "$(jqr "$T/orphan.rep.json" '[.findings[] | select(.kind == "orphan")] | length')" -eq 1 ]
	live_and_replay join -- "$EX/join_demo" --unit 50
	p=$(jqr "$T/join.rep.json" '.processes[0].pid')
	[ "$(jqr "$T/join.rep.json" "[.processes[1:][] | select(.reaped_by != $p)] | length")" -eq 0 ]
	[ "$(jqr "$T/join.rep.json" '.processes[0].join_wait.count')" -ge 1 ]
	live_and_replay daemon -- "$EX/daemon_demo" --unit 50
	[ "$(jqr "$T/daemon.rep.json" '[.processes[] | select(.signal == 15)] | length')" -eq 1 ]
}

@test "record -> report: identical JSON for queue_demo and deadlock_demo (deadlock records)" {
	require_bpf
	require_examples
	live_and_replay queue -- "$EX/queue_demo"
	live_and_replay deadlock --deadlock-after 0.3 --on-deadlock=kill -- "$EX/deadlock_demo"
	# semaphore holders inferred from the recorded mappings, the same on replay
	[ -x "$PY" ] || return 0
	live_and_replay pydeadlock --on-deadlock=kill -- "$PY" "$TOP/examples/python/deadlock.py" --timeout 60
	[ "$(jqr "$T/pydeadlock.rep.json" '[.findings[] | select(.kind == "deadlock") | .cycle[] | select(.holder_inferred)] | length')" -eq 2 ]
}

@test "record -> report: identical JSON with --kill-leaks (the kills are recorded)" {
	require_bpf
	live_and_replay kill --kill-leaks=0.2 -- sh -c 'sleep 5 & exit 0'
	[ "$(jqr "$T/kill.rep.json" '.findings[] | select(.kind == "leak") | .killed')" = true ]
}

@test "report prints the same tree, summary and findings as the live run" {
	require_bpf
	require_examples
	run_mptrace -q -o "$T/live.txt" --record "$T/z.mpt" -- "$EX/zombie_demo" -n 2 --sleep 0.2
	run_mptrace report -q -o "$T/rep.txt" --zombie-threshold 1s "$T/z.mpt"
	[ "$status" -eq 0 ]
	diff "$T/live.txt" "$T/rep.txt"
	# the tree and summary of 1 parent + 2 children, not just the argv
	grep -qE '^3 processes, 3 threads, 1 exec in .* 0 events lost' "$T/rep.txt"
	run_mptrace report -q --no-fold -o "$T/rep.txt" "$T/z.mpt"
	[ "$(grep -cE '[├└`|][─-] ?zombie_demo\[[0-9]+\] ' "$T/rep.txt")" -eq 2 ]
}

@test "report exits 128+N for a command killed by signal N, like the live run" {
	require_bpf
	run_mptrace -q --record "$T/k.mpt" -- sh -c 'kill -9 $$'
	[ "$status" -eq 137 ]
	run_mptrace report -q "$T/k.mpt"
	[ "$status" -eq 137 ]
	# the committed recording of a SIGTERM'd child: the root exits 0
	run_mptrace report -q "$CORPUS/signal.mpt"
	[ "$status" -eq 0 ]
}

@test "report re-applies analysis options: a lower --zombie-threshold finds the zombies" {
	require_bpf
	require_examples
	run_mptrace -q --record "$T/z.mpt" -- "$EX/zombie_demo" -n 3 --sleep 0.3
	[ "$status" -eq 0 ]
	run_mptrace report -q --json "$T/a.json" "$T/z.mpt"
	[ "$(jqr "$T/a.json" '.findings | length')" -eq 0 ]
	run_mptrace report -q --check --zombie-threshold 100ms --json "$T/b.json" "$T/z.mpt"
	[ "$status" -eq 3 ]
	[ "$(jqr "$T/b.json" '[.findings[] | select(.kind == "zombie")] | length')" -eq 3 ]
	run_mptrace report -q --check --check-exitcode 42 --zombie-threshold 100ms "$T/z.mpt"
	[ "$status" -eq 42 ]
}

@test "report streams the events unless -q, and --events-jsonl matches the live lines" {
	require_bpf
	run_mptrace -q --events-jsonl "$T/live.jsonl" --record "$T/s.mpt" -- sh -c 'sleep 0.05 & wait'
	run_mptrace report --events-jsonl "$T/rep.jsonl" "$T/s.mpt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"exec sleep 0.05"* ]]
	diff "$T/live.jsonl" "$T/rep.jsonl"
	"$PY" "$VIS" jsonl "$T/rep.jsonl"
}

@test "--events-jsonl: every line parses, one per event, the last is the end" {
	require_bpf
	run_mptrace -q --events-jsonl "$T/e.jsonl" -- sh -c 'for i in 1 2 3; do sleep 0.01 & done; wait'
	[ "$status" -eq 0 ]
	"$PY" "$VIS" jsonl "$T/e.jsonl"
	[ "$(jq -s '[.[] | select(.type == "fork")] | length' "$T/e.jsonl")" -eq 3 ]
	[ "$(tail -n 1 "$T/e.jsonl" | jq -r .type)" = end ]
}

@test "a 20,000-process fork storm records in under 40 bytes per event and replays identically" {
	require_bpf
	[ -x "$TOP/build/bench/forkstorm" ] || { echo "build/bench/forkstorm missing: run make" >&2; return 1; }
	run_mptrace -q --record "$T/storm.mpt" --json "$T/live.json" -- "$TOP/build/bench/forkstorm" 20000
	[ "$status" -eq 0 ]
	run_mptrace report -q --events-jsonl "$T/storm.jsonl" --json "$T/rep.json" "$T/storm.mpt"
	[ "$status" -eq 0 ]
	diff "$T/live.json" "$T/rep.json"
	events=$(wc -l < "$T/storm.jsonl")
	bytes=$(stat -c %s "$T/storm.mpt")
	echo "# $bytes bytes for $events events: $((bytes / events)) bytes/event" >&3
	# what a sanitized mptrace drops is counted as lost and makes the
	# report incomplete, never silently missing
	lost=$(jqr "$T/live.json" '.lost_events')
	[ "$events" -ge 60000 ]
	if [ "$lost" -eq 0 ]; then
		[ "$(jqr "$T/live.json" '.complete')" = true ]
		[ "$(jqr "$T/live.json" '.processes | length')" -eq 20001 ]
	else
		[ "$(jqr "$T/live.json" '.complete')" = false ]
	fi
	[ $((bytes / events)) -lt 40 ]
}

@test "truncated recording: replays the complete blocks, says what was lost, report incomplete" {
	require_bpf
	run_mptrace -q --record "$T/t.mpt" -- sh -c 'exit 4'
	size=$(stat -c %s "$T/t.mpt")
	head -c $((size - 5)) "$T/t.mpt" > "$T/cut.mpt"
	run_mptrace report -q --json "$T/cut.json" "$T/cut.mpt"
	no_sanitizer_report
	[ "$status" -eq 1 ]	# damaged input never exits 0
	[[ "$stderr" == *"'$T/cut.mpt' is truncated"*"records lost"*"incomplete"* ]]
	[ "$(jqr "$T/cut.json" '.complete')" = false ]
	run_mptrace report -q --check "$T/cut.mpt"
	[ "$status" -eq 3 ]
	# only the header left: no records at all, still a (empty, incomplete) report
	head -c "$(header_len "$T/t.mpt")" "$T/t.mpt" > "$T/hdr.mpt"
	run_mptrace report -q "$T/hdr.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"no end record"* ]]
}

@test "corrupted block: one error line naming the byte offset, exit 1" {
	cp "$CORPUS/ticket_demo.mpt" "$T/bad.mpt"
	h=$(header_len "$T/bad.mpt")
	flip "$T/bad.mpt" $((h + 60))
	run_mptrace report "$T/bad.mpt"
	no_sanitizer_report
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"cannot read the recording"*"block at byte $h: CRC32 mismatch"* ]]
	[ -z "$output" ]
}

@test "corrupted header, unknown version, garbage, empty and missing files: exit 1 with a reason" {
	cp "$CORPUS/sh_sleep.mpt" "$T/h.mpt"
	flip "$T/h.mpt" 70
	run_mptrace report "$T/h.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"header CRC32 mismatch at byte"* ]]
	cp "$CORPUS/sh_sleep.mpt" "$T/v.mpt"
	flip "$T/v.mpt" 8
	run_mptrace report "$T/v.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"format version"*"at byte 8 is not supported"* ]]
	head -c 4096 /dev/urandom > "$T/g.mpt"
	run_mptrace report "$T/g.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"not an mptrace recording"* ]]
	: > "$T/e.mpt"
	run_mptrace report "$T/e.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"empty file"* ]]
	run_mptrace report "$T/none.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"'$T/none.mpt'"* ]]
	no_sanitizer_report
}

@test "report needs no root: the committed recordings replay as nobody" {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to nobody"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) missing"
	d=$(mktemp -d /tmp/mpt-nobody.XXXXXX)
	cp "$CORPUS"/*.mpt "$d/"
	chmod 644 "$d"/*.mpt
	mkdir "$d/out"
	chown nobody "$d/out"
	chmod 755 "$d"
	# nobody must reach the binary, wherever the checkout is (a 0700 home)
	install -m 0755 "$MPTRACE" "$d/mptrace"
	n=0
	for f in "$d"/*.mpt; do
		# as root first: what nobody must get too
		run --separate-stderr "$MPTRACE" report -q --json - "$f"
		want_status=$status want=$output
		[ -n "$want" ] || { echo "$f: no JSON as root: $stderr" >&2; rm -rf "$d"; return 1; }
		run --separate-stderr setpriv --reuid=nobody --regid=nogroup --clear-groups \
			"$d/mptrace" report -q --json - --svg "$d/out/$(basename "$f").svg" "$f"
		[ "$status" -eq "$want_status" ] || { echo "$f: status $status, as root $want_status: $stderr" >&2; rm -rf "$d"; return 1; }
		[ "$output" = "$want" ] || { echo "$f: JSON differs from root's" >&2; rm -rf "$d"; return 1; }
		[ -s "$d/out/$(basename "$f").svg" ] || { echo "$f: no SVG" >&2; rm -rf "$d"; return 1; }
		n=$((n + 1))
	done
	rm -rf "$d"
	[ "$n" -ge 6 ]
}

@test "--svg: well-formed, the same bytes live and on report, rendered by Chromium" {
	require_bpf
	require_examples
	run_mptrace -q --svg "$T/live.svg" --record "$T/k.mpt" -- "$EX/ticket_demo" --delay 30
	[ "$status" -eq 0 ]
	run_mptrace report -q --svg "$T/rep.svg" "$T/k.mpt"
	cmp "$T/live.svg" "$T/rep.svg"
	"$PY" "$VIS" svg "$T/rep.svg"
	grep -q '<title>mptrace: ' "$T/rep.svg"
	grep -q '#e15759' "$T/rep.svg"		# lock waits drawn
	command -v chromium >/dev/null || skip "chromium missing (apt-get install chromium)"
	prof=$(mktemp -d)
	chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --screenshot="$T/k.png" --window-size=1400,260 \
		"file://$T/rep.svg" >/dev/null 2>&1 || true
	rm -rf "$prof"
	[ -s "$T/k.png" ]
	[ "$(stat -c %s "$T/k.png")" -gt 10000 ]
	"$PY" "$VIS" png "$T/k.png" 5
}

# render SVG PNG HEIGHT: Chromium's picture of an SVG
render() {
	local prof
	prof=$(mktemp -d)
	timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
		--disable-background-networking --disable-component-update --disable-sync \
		--user-data-dir="$prof" --screenshot="$2" --window-size=1400,"$3" \
		"file://$1" >/dev/null 2>&1 || true
	rm -rf "$prof"
	[ -s "$2" ]
}

@test "--svg and --perfetto show a deadlock: members marked, the cycle as arrows, waiter -> holder; Chromium draws the arrows" {
	require_bpf
	require_examples
	run_mptrace -q --on-deadlock=kill --deadlock-after 300ms --svg "$T/d.svg" \
		--perfetto "$T/d.json" -- "$EX/deadlock_demo" --kind flock --timeout 20
	no_sanitizer_report
	"$PY" "$VIS" svg "$T/d.svg"
	grep -q '1 deadlock</tspan>' "$T/d.svg"
	[ "$(grep -o '<rect class="deadlock"' "$T/d.svg" | wc -l)" -eq 2 ]
	[ "$(grep -c '<g class="deadlock-arrow">' "$T/d.svg")" -eq 2 ]
	[ "$(grep -c '<g class="holder-arrow">' "$T/d.svg")" -eq 2 ]
	# Perfetto: a DEADLOCK slice per member, the cycle and the holders as flows
	"$PY" "$VIS" perfetto "$T/d.json" deadlock holder
	[ "$(jq '[.traceEvents[] | select(.cat == "deadlock" and .ph == "X")] | length' "$T/d.json")" -eq 2 ]
	[ "$(jq '[.traceEvents[] | select(.cat == "deadlock" and .ph == "s")] | length' "$T/d.json")" -eq 2 ]
	[ "$(jq '[.traceEvents[] | select(.cat == "holder" and .ph == "s")] | length' "$T/d.json")" -eq 2 ]
	command -v chromium >/dev/null || skip "chromium missing (apt-get install chromium)"
	# the same picture without the cycle's arrows: the arrows are what differs,
	# drawn in the deadlock colour and not hidden by anything drawn over them
	grep -v '<g class="deadlock-arrow">' "$T/d.svg" >"$T/d-noarrows.svg"
	render "$T/d.svg" "$T/d.png" 200
	render "$T/d-noarrows.svg" "$T/d-noarrows.png" 200
	"$PY" "$VIS" png "$T/d.png" 5
	"$PY" "$VIS" colour "$T/d.png" ff0040 400
	"$PY" "$VIS" colour "$T/d.png" ff0040 60 "$T/d-noarrows.png"
}

@test "--svg stays small for 2,000 processes: plain siblings fold into one row" {
	require_bpf
	[ -x "$TOP/build/bench/forkstorm" ] || { echo "build/bench/forkstorm missing: run make" >&2; return 1; }
	run_mptrace -q --svg "$T/s.svg" -- "$TOP/build/bench/forkstorm" 2000
	[ "$status" -eq 0 ]
	"$PY" "$VIS" svg "$T/s.svg"
	grep -q 'more children that exited 0 and were reaped' "$T/s.svg"
	[ "$(grep -o '<g><title>' "$T/s.svg" | wc -l)" -lt 10 ]
	[ "$(stat -c %s "$T/s.svg")" -lt 300000 ]
}

@test "--perfetto: trace-event JSON with tracks, slices, instants and fork flows" {
	require_bpf
	require_examples
	run_mptrace -q --perfetto "$T/p.json" --record "$T/p.mpt" -- "$EX/ticket_demo" --delay 30
	[ "$status" -eq 0 ]
	"$PY" "$VIS" perfetto "$T/p.json" process lock join fork exec zombie
	[ "$(jq '[.traceEvents[] | select(.ph == "M" and .name == "process_name")] | length' "$T/p.json")" -eq 6 ]
	run_mptrace report -q --perfetto "$T/p2.json" "$T/p.mpt"
	cmp "$T/p.json" "$T/p2.json"
}

@test "--perfetto and --svg on the committed recordings (no root): signals, leaks, orphans" {
	for f in "$CORPUS"/*.mpt; do
		n=$(basename "$f" .mpt)
		run_mptrace report -q --perfetto "$T/$n.json" --svg "$T/$n.svg" "$f"
		no_sanitizer_report
		"$PY" "$VIS" perfetto "$T/$n.json"
		"$PY" "$VIS" svg "$T/$n.svg"
	done
	"$PY" "$VIS" perfetto "$T/signal.json" signal
	grep -q 'finding: leak' "$T/leak_killed.svg"
	grep -q 'orphaned at' "$T/orphan_demo.svg"
}
