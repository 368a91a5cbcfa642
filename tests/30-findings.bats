#!/usr/bin/env bats
# Findings on the demos: exactly the ones each must produce, none it must not.
# Semantics: docs/cli.md "Terms".

setup() {
	load helpers/common
	require_bpf
	require_examples
	J="$BATS_TEST_TMPDIR/r.json"
}

teardown() {
	if [ -n "${BG:-}" ]; then
		kill "$BG" 2>/dev/null || true
	fi
}

count() {	# count FILTER over the report's findings
	jqr "$J" "[.findings[] | select($1)] | length"
}

@test "zombie_demo --exit: N zombie leaks, adopted and reaped by init or a subreaper; --check fails" {
	run_mptrace -q --check --json "$J" -- "$EX/zombie_demo" -n 3 --sleep 0.3 --exit
	[ "$status" -eq 3 ]
	no_sanitizer_report
	validate_report "$J"
	[ "$(count '.kind == "zombie"')" -eq 3 ]
	[ "$(count '.kind == "zombie" and .reason == "never_reaped_by_parent"')" -eq 3 ]
	parent=$(jqr "$J" '.processes[0].pid')
	[ "$(count ".kind == \"zombie\" and .parent_pid == $parent")" -eq 3 ]
	# the adopter is the kernel's choice; whoever reaped must be that adopter
	[ "$(count '.kind == "zombie" and .adopted_by != null')" -eq 3 ]
	[ "$(count '.kind == "zombie" and .reaped_by != null and .reaped_by != .adopted_by')" -eq 0 ]
	[ "$(jqr "$J" '[.processes[1:][] | select(.reap == "adopter" or .reap == null)] | length')" -eq 3 ]
	[ "$(count '.kind != "zombie"')" -eq 0 ]
	[ "$(jqr "$J" '.check.passed')" = false ]
	[[ "$stderr" == *"check FAILED: 3 zombies"* ]]
}

@test "zombie_demo --reap under the threshold: no findings, --check passes" {
	run_mptrace -q --check --json "$J" -- "$EX/zombie_demo" -n 3 --sleep 0.5 --reap
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.findings | length')" -eq 0 ]
	[ "$(jqr "$J" '[.processes[1:][] | select(.reap == "parent" and .zombie_ms >= 400)] | length')" -eq 3 ]
	[ "$(jqr "$J" '.check.passed')" = true ]
}

@test "zombie_demo --reap over the threshold: slow zombies, announced while they wait" {
	run_mptrace --json "$J" --zombie-threshold 300ms -- "$EX/zombie_demo" -n 2 --sleep 0.8 --reap
	[ "$status" -eq 0 ]
	[ "$(count '.kind == "zombie" and .reason == "slow"')" -eq 2 ]
	parent=$(jqr "$J" '.processes[0].pid')
	[ "$(count ".kind == \"zombie\" and .reaped_by == $parent")" -eq 2 ]
	# the stream flags each zombie when it passes the threshold, before its reap
	alert=$(grep -n "ZOMBIE for" <<<"$stderr" | head -1 | cut -d: -f1)
	reap=$(grep -n "reaped zombie_demo" <<<"$stderr" | head -1 | cut -d: -f1)
	[ -n "$alert" ] && [ -n "$reap" ] && [ "$alert" -lt "$reap" ]
	# the same run analysed with a higher threshold has none
	run_mptrace -q --json "$J" --zombie-threshold 2s -- "$EX/zombie_demo" -n 2 --sleep 0.8 --reap
	[ "$(count '.kind == "zombie"')" -eq 0 ]
}

@test "orphan_demo: one orphan, adopted by the process the child itself saw" {
	run_mptrace -q --json "$J" -- "$EX/orphan_demo"
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(count '.kind == "orphan"')" -eq 1 ]
	adopter=$(sed -n 's/.*adopted by \([0-9]*\).*/\1/p' <<<"$output" | head -1)
	[ -n "$adopter" ]
	[ "$(count ".kind == \"orphan\" and .adopted_by == $adopter")" -eq 1 ]
	child=$(jqr "$J" '.processes[1].pid')
	[ "$(jqr "$J" '.processes[1].orphaned_ms != null')" = true ]
	[ "$(jqr "$J" '.processes[1].adopted_by')" -eq "$adopter" ]
	# it exits after its parent, so it was never failed by its parent
	[ "$(count '.kind == "zombie" and .reason == "never_reaped_by_parent"')" -eq 0 ]
}

@test "a double-forked daemon is a leak; --kill-leaks kills it and says so" {
	run_mptrace -q --kill-leaks=0.5 --json "$J" -- sh -c 'setsid sh -c "sleep 40 &"; exit 0'
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(count '.kind == "leak" and .comm == "sleep" and .killed == true')" -eq 1 ]
	[ "$(count '.kind == "leak"')" -eq 1 ]
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep")][0].signal')" -eq 15 ]
	pid=$(jqr "$J" '[.processes[] | select(.comm == "sleep")][0].pid')
	run kill -0 "$pid"
	[ "$status" -ne 0 ]
	[[ "$stderr" == *"killed by mptrace (SIGTERM)"* ]]
}

@test "--check fails on a leaked sleep and names it, without waiting for it" {
	# (the sleep's output goes elsewhere so that bats does not wait for it)
	run_mptrace --check --json "$J" -- sh -c 'sleep 30 >/dev/null 2>&1 & exit 0'
	[ "$status" -eq 3 ]
	[[ "$stderr" == *"LEAK"*"sleep["* ]]
	[[ "$stderr" == *"check FAILED: 1 leak"* ]]
	[ "$(count '.kind == "leak" and .comm == "sleep"')" -eq 1 ]
	# it stopped when sh exited, not when the sleep did
	[ "$(jqr "$J" '.duration_ms < 15000')" = true ]
	kill "$(jqr "$J" '[.processes[] | select(.comm == "sleep")][0].pid')"
}

@test "--allow-leak lets a meant-to-outlive process pass the check" {
	run_mptrace -q --check --allow-leak 'sleep' --json "$J" -- sh -c 'sleep 5 >/dev/null 2>&1 & exit 0'
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"check passed"* ]]
	[ "$(count '.kind == "leak"')" -eq 0 ]
	kill "$(jqr "$J" '[.processes[] | select(.comm == "sleep")][0].pid')"
}

lock_case() {	# lock_case KIND TYPE
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 50 --lock="$1"
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" '.locks | length')" -eq 1 ]
	[ "$(jqr "$J" '.locks[0].type')" = "$2" ]
	# buyers queue on one lock: 3 of 4 wait, ~ delay*N*(N-1)/2 = 300 ms in all
	[ "$(jqr "$J" '.locks[0].waits')" -ge 3 ]
	[ "$(jqr "$J" '.locks[0].waiters | length')" -ge 3 ]
	parent=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" "[.locks[0].waiters[] | select(. == $parent)] | length")" -eq 0 ]
	total=$(jqr "$J" '.locks[0].total_ms | floor')
	[ "$total" -ge 200 ] && [ "$total" -le 450 ]
	[ "$(count '.kind == "lock"')" -eq 1 ]
	[ "$(jqr "$J" '.summary.lock_waits')" -eq "$(jqr "$J" '.locks[0].waits')" ]
	# the text names the lock once: "TYPE NAME", or the id (which starts with its type)
	label=$(jqr "$J" '.locks[0] | if .name then "\(.type) \(.name)" else .id end')
	[[ "$stderr" == *"LOCK     $label: "* ]]
	[[ "$stderr" == *" on $label, "* ]]
	[[ "$stderr" != *"$2 $2:"* ]]
}

@test "ticket_demo --lock=sem: waits on one futex in the semaphore's file" {
	lock_case sem futex
	[[ "$(jqr "$J" '.locks[0].name')" == /dev/shm/sem.* ]]
}

@test "ticket_demo --lock=mutex: one process-shared futex" {
	lock_case mutex futex
}

@test "ticket_demo --lock=flock: one flock on the ticket file" {
	lock_case flock flock
	[ "$(jqr "$J" '.locks[0].name')" != null ]
}

@test "ticket_demo --lock=fcntl: one POSIX record lock" {
	lock_case fcntl posix
}

@test "ticket_demo --lock=sysv: one System V semaphore" {
	lock_case sysv sysv_sem
}

@test "ticket_demo --lock=pimutex: one priority-inheritance futex" {
	lock_case pimutex futex
}

@test "ticket_demo --lock=none: no lock waits, and the demo oversells" {
	run_mptrace -q --json "$J" -- "$EX/ticket_demo" -n 4 --delay 50 --lock=none
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.locks | length')" -eq 0 ]
	[ "$(count '.kind == "lock"')" -eq 0 ]
	[[ "$output" == *"OVERSOLD"* ]]
}

@test "--check passes for ticket_demo; --check=locks fails on its lock" {
	run_mptrace -q --check -- "$EX/ticket_demo" -n 3 --delay 20
	[ "$status" -eq 0 ]
	run_mptrace -q --check=locks --check-exitcode 42 -- "$EX/ticket_demo" -n 3 --delay 20
	[ "$status" -eq 42 ]
	run_mptrace -q --no-locks --check=locks -- "$EX/ticket_demo" -n 3 --delay 20
	[ "$status" -eq 0 ]
}

@test "--junit writes well-formed JUnit with one case per check" {
	run_mptrace -q --check=zombies,leaks,orphans --junit "$BATS_TEST_TMPDIR/j.xml" -- "$EX/zombie_demo" -n 2 --sleep 0.2 --exit
	[ "$status" -eq 3 ]
	xmllint --noout "$BATS_TEST_TMPDIR/j.xml"
	[ "$(xmllint --xpath 'count(//testcase)' "$BATS_TEST_TMPDIR/j.xml")" -eq 4 ]
	[ "$(xmllint --xpath 'count(//testcase[@name="zombies"]/failure)' "$BATS_TEST_TMPDIR/j.xml")" -eq 1 ]
	[ "$(xmllint --xpath 'count(//testcase[@name="leaks"]/failure)' "$BATS_TEST_TMPDIR/j.xml")" -eq 0 ]
}

@test "GITHUB_ACTIONS=true prints findings as ::error annotations on stdout (stderr if a report is there)" {
	GITHUB_ACTIONS=true run_mptrace -q --check -- "$EX/zombie_demo" -n 2 --sleep 0.2 --exit
	[ "$status" -eq 3 ]
	[ "$(grep -c '^::error title=mptrace zombie::' <<<"$output")" -eq 2 ]
	# with the JSON report on stdout, they go to stderr and the JSON parses
	GITHUB_ACTIONS=true run_mptrace -q --check --json - -- "$EX/zombie_demo" -n 2 --sleep 0.2 --exit
	[ "$status" -eq 3 ]
	[ "$(jq -r '.findings | map(select(.kind == "zombie")) | length' <<<"$output")" -eq 2 ]
	[ "$(grep -c '^::error title=mptrace zombie::' <<<"$stderr")" -eq 2 ]
}

@test "SIGCHLD ignored: children are auto-reaped, not zombies" {
	run_mptrace -q --json "$J" -- "$PY" -c 'import os, signal, time
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
for _ in range(2):
    if os.fork() == 0:
        os._exit(0)
time.sleep(0.3)'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '[.processes[1:][] | select(.reap == "auto" and .reaped_by == null)] | length')" -eq 2 ]
	[ "$(count '.kind == "zombie"')" -eq 0 ]
}

@test "join waits: time blocked in wait() is measured per process" {
	# (dash's `wait` sleeps in sigsuspend, not in wait4: use a real waiter)
	run_mptrace -q --json "$J" -- "$PY" -c 'import os, time
pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    os._exit(0)
os.waitpid(pid, 0)'
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes[0].join_wait.count')" -ge 1 ]
	[ "$(jqr "$J" '.processes[0].join_wait.total_ms | floor')" -ge 250 ]
}

@test "daemon_demo: the daemon child is terminated by main, the worker joined" {
	run_mptrace -q --json "$J" -- "$EX/daemon_demo"
	[ "$status" -eq 0 ]
	main=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" "[.processes[] | select(.signal == 15 and .killed_by.pid == $main)] | length")" -eq 1 ]
	[ "$(jqr "$J" "[.processes[1:][] | select(.reap == \"parent\" and .reaped_by == $main)] | length")" -eq 2 ]
	[ "$(count '.kind == "leak" or .kind == "zombie"')" -eq 0 ]
}

@test "pool_demo: W workers, all joined, no findings" {
	run_mptrace -q --json "$J" -- "$EX/pool_demo" -w 3 -t 5
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.processes | length')" -eq 4 ]
	[ "$(jqr "$J" '.findings | length')" -eq 0 ]
	[ "$(jqr "$J" '.processes[0].join_wait.count')" -ge 1 ]
}
