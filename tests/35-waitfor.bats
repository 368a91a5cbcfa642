#!/usr/bin/env bats
# Who blocks whom: lock holders, the wait-for graph, deadlocks, and leaks
# pinned to the test that made them.

setup() {
	load helpers/common
	require_bpf
	require_examples
	J="$BATS_TEST_TMPDIR/r.json"
}

teardown() {
	if [ -n "${BG:-}" ]; then
		kill "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
}

# holders_match: every lock wait names a holder, and that holder is a buyer
# that, by the demo's own log, held the lock when the wait began.
holders_match() {
	"$PY" - "$J" "$BATS_TEST_TMPDIR/demo.out" "${1:-0}" <<'PYEOF'
import json, re, sys
r = json.load(open(sys.argv[1]))
held = {}
for line in open(sys.argv[2]):
    m = re.match(r"buyer (\d+): lock acquired at (\d+) ms, released at (\d+) ms", line)
    if m:
        held[int(m.group(1))] = (int(m.group(2)), int(m.group(3)))
waits = r["longest_lock_waits"]
assert len(waits) >= 3, waits
# The demo's clock starts after its exec, later still on a loaded machine:
# measure the offset instead of assuming it. A wait ends when its waiter
# acquires the lock, which the demo logs on its own clock.
acq = {pid: a for pid, (a, _) in held.items()}
offs = sorted(w["start_ms"] + w["wait_ms"] - acq[w["pid"]] for w in waits if w["pid"] in acq)
assert offs, (waits, held)
off = offs[len(offs) // 2]
# 100 ms holds, 30 ms either way for scheduling: a wait matches one holder
misses = []
for w in waits:
    h = w["holder"]
    if h not in held or h == w["pid"] or \
       not held[h][0] + off - 30 <= w["start_ms"] <= held[h][1] + off + 30:
        misses.append((w, held.get(h), off))
assert len(misses) <= int(sys.argv[3]), ("holders wrong", misses, held)
PYEOF
}

@test "holders: flock waits name the buyer holding the lock (kernel feature file_lock_holders)" {
	needs_kernel_feature file_lock_holders
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=flock
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/demo.out"
	holders_match
}

@test "holders: fcntl (POSIX) waits name the buyer holding the lock (kernel feature file_lock_holders)" {
	needs_kernel_feature file_lock_holders
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=fcntl
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/demo.out"
	holders_match
}

@test "holders: a process-shared pthread mutex names its owner" {
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=mutex
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/demo.out"
	holders_match
	[ "$(jqr "$J" '.locks[0].holders | length')" -ge 1 ]
}

@test "holders: a priority-inheritance mutex names its owner from the futex word" {
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=pimutex
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/demo.out"
	holders_match
}

@test "holders: a System V semaphore names the last process that took it" {
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=sysv
	[ "$status" -eq 0 ]
	echo "$output" > "$BATS_TEST_TMPDIR/demo.out"
	# a guess, not the kernel's word: a waiter that enters semop while the
	# first buyer's semop has not returned yet sees the previous one
	holders_match 1
}

@test "semaphores have no owner: the waker is recorded instead" {
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=sem
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '[.longest_lock_waits[] | select(.holder == null and .waker != null)] | length')" -ge 3 ]
	# (the semaphore: the lock with the most waits; a load spike can add others)
	[ "$(jqr "$J" '.locks | max_by(.waits) | .wakers | length')" -ge 2 ]
}

deadlock_case() {	# deadlock_case KIND LOCKTYPE
	run_mptrace --check=deadlocks --on-deadlock=kill --json "$J" -- "$EX/deadlock_demo" --kind "$1" --timeout 20
	[ "$status" -eq 3 ] || { echo "status $status"; echo "$output"; echo "$stderr" | tail -30; false; }
	no_sanitizer_report
	validate_report "$J"
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 1 ]
	d='[.findings[] | select(.kind == "deadlock")][0]'
	[ "$(jqr "$J" "$d.cycle | length")" -eq 2 ]
	# each waits on what the other holds, and the two locks differ
	[ "$(jqr "$J" "$d.cycle[0].waits_on == $d.cycle[1].holds and $d.cycle[1].waits_on == $d.cycle[0].holds")" = true ]
	[ "$(jqr "$J" "$d.cycle[0].waits_on != $d.cycle[1].waits_on")" = true ]
	[ "$(jqr "$J" "[$d.cycle[].waits_on | startswith(\"$2:\")] | all")" = true ]
	# the stream said so when it happened, naming both processes
	line=$(grep "DEADLOCK" <<<"$stderr" | head -1)
	for pid in $(jqr "$J" "$d.cycle[].pid"); do
		[[ "$line" == *"[$pid]"* ]]
	done
	# broken by the kill: well before the demo's own 20 s timeout
	[ "$(jqr "$J" '.duration_ms < 10000')" = true ]
	# (a member whose lock an earlier kill freed may finish before its own)
	[ "$(jqr "$J" '[.processes[] | select(.killed_by.comm == "mptrace")] | length')" -ge 1 ] ||
		{ jq -c '.processes[] | {pid, comm, signal, killed_by}' "$J"; false; }
	[[ "$stderr" == *"check FAILED: 1 deadlock"* ]]
}

@test "deadlock: two flocks taken in opposite orders (kernel feature file_lock_holders)" {
	needs_kernel_feature file_lock_holders
	deadlock_case flock flock
}

@test "deadlock: two OFD locks taken in opposite orders (kernel feature file_lock_holders)" {
	needs_kernel_feature file_lock_holders
	deadlock_case fcntl ofd
}

@test "deadlock: two process-shared mutexes taken in opposite orders" {
	deadlock_case mutex futex
}

# bpf_find_vma() fails (EBUSY) when another BPF program used it on the CPU a
# moment before: another mptrace tracing at the same time. The test switches
# it off (MPTRACE_TEST_NO_FIND_VMA) so that user space must key each shared
# futex from the waiter's /proc/PID/maps.
@test "no key from BPF (another tracer busy): a shared semaphore is still one lock, a mutex deadlock still a cycle" {
	export MPTRACE_TEST_NO_FIND_VMA=1
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 100 --lock=sem
	[ "$status" -eq 0 ]
	no_sanitizer_report
	# every buyer's waits on one lock keyed by the semaphore's file, none by process
	[ "$(jqr "$J" '[.locks[] | select(.id | startswith("futex:pid"))] | length')" -eq 0 ]
	[ "$(jqr "$J" '[.locks[] | select(.id | test("^futex:[0-9]+:[0-9]+\\+0$"))] | length')" -eq 1 ]
	[ "$(jqr "$J" '[.longest_lock_waits[].pid] | unique | length')" -ge 2 ]
	[ "$(jqr "$J" '[.longest_lock_waits[].lock] | unique | length')" -eq 1 ]
	# named as BPF's path walk names it: the name the program gave
	parent=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" '.locks[0].name')" = "/dev/shm/sem.ticket_demo-$parent" ]
	deadlock_case mutex futex
}

@test "deadlock: two System V semaphores of one set taken in opposite orders" {
	# each semaphore of a set is a lock of its own (sysv_sem:SEMID:NUM)
	deadlock_case sysv sysv_sem
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")][0].cycle | map(.waits_on | split(":")[1]) | unique | length')" -eq 1 ]
}

# A parent holding a flock, and its child b that wants it.
FLOCK_KID='import fcntl, os, sys, time
f = open(sys.argv[1], "w")
fcntl.flock(f, fcntl.LOCK_EX)
b = os.fork()
if b == 0:
    fcntl.flock(open(sys.argv[1], "w"), fcntl.LOCK_EX)
    os._exit(0)
'

@test "deadlock through a child wait: a parent holding a lock waits for the child that wants it" {
	# (no timeout of its own: the time limit fails a regression of the kill)
	MPTRACE_TEST_TIMEOUT=60 run_mptrace -q --check=deadlocks --on-deadlock=kill --json "$J" -- "$PY" -c \
		"$FLOCK_KID"'os.waitpid(b, 0)' "$BATS_TEST_TMPDIR/lockfile"
	[ "$status" -eq 3 ]
	d='[.findings[] | select(.kind == "deadlock")][0]'
	[ "$(jqr "$J" "$d.cycle[0].waits_on")" = children ]
	[ "$(jqr "$J" "$d.cycle[1].waits_on | startswith(\"flock:\")")" = true ]
	[ "$(jqr "$J" "$d.cycle[1].holds")" = exit ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "leak")] | length')" -eq 0 ]
}

@test "no false deadlock: a parent waiting for one child is not waiting for the other, which wants its lock (kernel feature file_lock_holders)" {
	needs_kernel_feature file_lock_holders
	# b waits for the parent's flock while the parent waits for a alone
	# (waitpid(a)): no cycle. Read as a wait for any child, it is one.
	MPTRACE_TEST_TIMEOUT=60 run_mptrace -q --check=deadlocks --deadlock-after 200ms --json "$J" \
		--events-jsonl "$BATS_TEST_TMPDIR/ev.jsonl" -- "$PY" -c "$FLOCK_KID"'
a = os.fork()
if a == 0:
    time.sleep(1.5)
    os._exit(0)
os.waitpid(a, 0)
fcntl.flock(f, fcntl.LOCK_UN)
os.waitpid(b, 0)' "$BATS_TEST_TMPDIR/lockfile"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 0 ]
	# the parent's join wait was seen, and for a alone
	a=$(jqr "$J" '.processes[2].pid')
	[ "$(jq -s "[.[] | select(.type == \"wait\" and .target == $a)] | length" "$BATS_TEST_TMPDIR/ev.jsonl")" -ge 1 ] ||
		{ grep '"wait"' "$BATS_TEST_TMPDIR/ev.jsonl"; false; }
}

# Three processes in a ring of flocks: each takes its own file, tells the
# parent, waits for the go, then wants the next one's. A bystander sleeps.
RING='import fcntl, os, subprocess, sys
d = sys.argv[1]
paths = [os.path.join(d, "ring%d" % i) for i in range(3)]
for p in paths:
    open(p, "w").close()
bystander = subprocess.Popen(["sleep", "60"])
ready_r, ready_w = os.pipe()
go_r, go_w = os.pipe()
kids = []
for i in range(3):
    pid = os.fork()
    if pid == 0:
        mine, nxt = open(paths[i], "w"), open(paths[(i + 1) % 3], "w")
        fcntl.flock(mine, fcntl.LOCK_EX)
        os.write(ready_w, b"r")
        os.read(go_r, 1)
        fcntl.flock(nxt, fcntl.LOCK_EX)
        os._exit(0)
    kids.append(pid)
n = 0
while n < 3:
    n += len(os.read(ready_r, 3))
os.write(go_w, b"ggg")
for k in kids:
    os.waitpid(k, 0)
bystander.wait()'

@test "deadlock: a cycle of 3 processes; --on-deadlock=kill ends the cycle, then the rest of the tree" {
	MPTRACE_TEST_TIMEOUT=90 run_mptrace -q --check=deadlocks --on-deadlock=kill --deadlock-after 300ms \
		--json "$J" -- "$PY" -c "$RING" "$BATS_TEST_TMPDIR"
	[ "$status" -eq 3 ]
	validate_report "$J"
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 1 ]
	"$PY" - "$J" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1]))
d = [f for f in r["findings"] if f["kind"] == "deadlock"][0]
c = d["cycle"]
assert len(c) == 3, c
for i, m in enumerate(c):
    assert m["waits_on"] == c[(i + 1) % 3]["holds"], c
    assert m["waits_on"].startswith("flock:"), c
assert len({m["waits_on"] for m in c}) == 3, c
procs = {p["pid"]: p for p in r["processes"]}
# mptrace SIGKILLs the members one after another: a member whose lock is
# freed by an earlier kill may get it and finish first. None is left stuck.
killed = [m for m in c if procs[m["pid"]]["signal"] == 9 and
          procs[m["pid"]]["killed_by"]["comm"] == "mptrace"]
assert killed, [procs[m["pid"]] for m in c]
for m in c:
    p = procs[m["pid"]]
    assert p["exit_ms"] is not None and (p in [procs[k["pid"]] for k in killed] or p["exit_code"] == 0), p
# the rest of the tree: the bystander ends too, by mptrace
sl = [p for p in r["processes"] if p["comm"] == "sleep"]
assert len(sl) == 1 and sl[0]["signal"] == 9 and sl[0]["killed_by"]["comm"] == "mptrace", sl
# what mptrace itself killed makes no zombie, orphan or leak finding
assert not [f for f in r["findings"] if f["kind"] in ("zombie", "orphan", "leak")], r["findings"]
PYEOF
	# long before the bystander's 60 s
	[ "$(jqr "$J" '.duration_ms < 30000')" = true ]
}

@test "--on-deadlock=stop stops the tree for a debugger" {
	"$MPTRACE" -q --on-deadlock=stop --deadlock-after 300ms --json "$J" -- "$EX/deadlock_demo" --kind flock --timeout 30 \
		>/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	BG=$!
	stopped=""
	for _ in $(seq 100); do
		stopped=$(ps -o pid=,stat= --ppid "$(pgrep -P "$BG" -x deadlock_demo | head -1)" 2>/dev/null | awk '$2 ~ /^T/ {print $1}')
		[ "$(echo "$stopped" | grep -c .)" -eq 2 ] && break
		sleep 0.1
	done
	[ "$(echo "$stopped" | grep -c .)" -eq 2 ]
	grep -q "stopped (SIGSTOP)" "$BATS_TEST_TMPDIR/err"
	# a debugger would look now; then the test ends it
	root=$(pgrep -P "$BG" -x deadlock_demo | head -1)
	kill -KILL $stopped "$root"
	wait "$BG" || true
	BG=
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 1 ]
}

@test "--on-deadlock=report leaves the demo to its own timeout" {
	run_mptrace -q --json "$J" --deadlock-after 300ms -- "$EX/deadlock_demo" --kind flock --timeout 1.5
	[ "$status" -eq 1 ]
	[[ "$output" == *"deadlock: both stuck"* ]]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 1 ]
}

@test "a deadlock the kernel breaks (POSIX record locks, EDEADLK) is not a finding" {
	run_mptrace -q --check=deadlocks --json "$J" -- "$EX/deadlock_demo" --kind posix --timeout 20
	[ "$status" -eq 0 ] || { echo "$output"; echo "$stderr" | tail -20; false; }
	[[ "$output" == *"kernel said EDEADLK"* ]]
	[[ "$output" == *"no deadlock left"* ]]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 0 ]
	# the one that got EDEADLK gave up (3); the other then took both (0)
	[ "$(jqr "$J" '[.processes[1:][] | .exit_code] | sort | join(",")')" = "0,3" ]
	# (the other's wait may end before it ever sleeps: not asserted)
}

@test "no deadlock when the locks are taken in the same order" {
	run_mptrace -q --check=deadlocks --json "$J" -- "$EX/deadlock_demo" --kind mutex --ordered --timeout 5
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "deadlock")] | length')" -eq 0 ]
}

@test "no false deadlock: the ticket demo queues but never cycles" {
	for k in flock fcntl mutex sem; do
		run_mptrace -q --check=deadlocks --deadlock-after 50ms -- "$EX/ticket_demo" -n 4 --delay 100 --lock=$k
		[ "$status" -eq 0 ]
	done
}

@test "no false deadlock: producers and consumers on semaphores" {
	run_mptrace -q --check=deadlocks --deadlock-after 50ms -- "$EX/queue_demo" -p 2 -c 2 -n 8
	[ "$status" -eq 0 ]
	run_mptrace -q --check=deadlocks --deadlock-after 50ms -- "$EX/queue_demo" --joinable
	[ "$status" -eq 0 ]
}

@test "lock chains: a long wait shows who held the lock" {
	run_mptrace -q -- "$EX/ticket_demo" -n 3 --delay 50 --lock=flock
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"longest lock waits:"* ]]
	[[ "$stderr" == *"held by ticket_demo["* ]]
}

@test "a leaking bats test is named as the failing JUnit test case" {
	command -v bats >/dev/null
	run_mptrace -q --check --kill-leaks=0.2 --junit "$BATS_TEST_TMPDIR/j.xml" --json "$J" -- bats "$TOP/examples/ci/leaky.bats"
	[ "$status" -eq 3 ]
	xmllint --noout "$BATS_TEST_TMPDIR/j.xml"
	[ "$(xmllint --xpath 'count(//testcase[@classname="mptrace.tests"])' "$BATS_TEST_TMPDIR/j.xml")" -eq 1 ]
	[ "$(xmllint --xpath 'string(//testcase[@classname="mptrace.tests"]/@name)' "$BATS_TEST_TMPDIR/j.xml")" = "a test that leaks a server" ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "leak")][0].test')" = "a test that leaks a server" ]
}

@test "a leaking pytest test is named as the failing JUnit test case" {
	"$PY" -c 'import pytest' 2>/dev/null || { [ -z "${MPTRACE_REQUIRE_BPF:-}" ] && skip "python3-pytest is not installed"; false; }
	cd "$TOP/examples/ci"
	run_mptrace -q --check --kill-leaks=0.2 --junit "$BATS_TEST_TMPDIR/j.xml" -- "$PY" -m pytest -q -p no:cacheprovider test_leaky.py
	[ "$status" -eq 3 ]
	xmllint --noout "$BATS_TEST_TMPDIR/j.xml"
	[ "$(xmllint --xpath 'string(//testcase[@classname="mptrace.tests"]/@name)' "$BATS_TEST_TMPDIR/j.xml")" = "test_leaky.py::test_leaks_a_server" ]
}

@test "markers without the environment: a forked child is attributed by time" {
	run_mptrace -q --check --json "$J" -- bash -c '
		printf "begin quiet one\n" >&$MPTRACE_FD; /bin/true; printf "end quiet one\n" >&$MPTRACE_FD
		printf "begin noisy one\n" >&$MPTRACE_FD; ( sleep 5 >/dev/null 2>&1 & ); printf "end noisy one\n" >&$MPTRACE_FD'
	[ "$status" -eq 3 ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "leak")][0].test')" = "noisy one" ]
	kill "$(jqr "$J" '[.findings[] | select(.kind == "leak")][0].pid')"
}
