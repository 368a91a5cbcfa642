#!/usr/bin/env bats
# The Python multiprocessing lessons (examples/python) under mptrace: the
# kernel's view of Lock, zombies, orphans, daemons, Pool and Queues.

setup() {
	load helpers/common
	require_bpf
	[ -x "$PY" ] || skip "python3 is not installed"
	P="$TOP/examples/python"
	J="$BATS_TEST_TMPDIR/r.json"
}

count() {
	jqr "$J" "[.findings[] | select($1)] | length"
}

@test "python ticket.py: buyers queue on one multiprocessing.Lock (a semaphore file)" {
	# (300 ms holds: the 4 buyers start well within the first one's hold,
	# even on a loaded machine, so 3 of them queue)
	run_mptrace -q --json "$J" -- "$PY" "$P/ticket.py" -n 4 --delay 300
	[ "$status" -eq 0 ]
	validate_report "$J"
	# the Lock is the lock waited on longest (a buyer preempted while it
	# holds a shared Value's own lock can add a short second one)
	l='.locks | max_by(.total_ms)'
	[[ "$(jqr "$J" "$l.name")" == /dev/shm/sem.* ]]
	[ "$(jqr "$J" "$l.waiters | length")" -eq 3 ]
	# a semaphore used as a lock (contention), each wait with a stack whose
	# innermost named frame is the libc call, called from the Lock's C code
	[ "$(jqr "$J" "$l.class")" = semaphore ]
	[ "$(jqr "$J" "$l.contended")" = true ]
	id=$(jqr "$J" "$l.id")
	w="[.longest_lock_waits[] | select(.lock == \"$id\")]"
	[ "$(jqr "$J" "$w | length")" -ge 3 ]
	# (the interpreter's own frames above it are named when its build
	# exports them: Debian's python3 keeps _multiprocessing's static)
	[ "$(jqr "$J" "[$w[] | select(.class == \"semaphore\" and ([.stack[]? | select(.symbol)] | .[0].symbol == \"sem_wait\" and length >= 2))] | length")" -eq "$(jqr "$J" "$w | length")" ]
	[[ "$stderr" == *"in sem_wait ← "* ]]
	run_mptrace -q --json "$J" -- "$PY" "$P/ticket.py" -n 4 --delay 50 --no-lock
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" '.locks | length')" -eq 0 ]
}

@test "python zombie.py --exit: children never joined become zombie leaks" {
	run_mptrace -q --json "$J" -- "$PY" "$P/zombie.py" -n 3 --sleep 0.3 --exit
	[ "$status" -eq 0 ]
	[ "$(count '.kind == "zombie" and .reason == "never_reaped_by_parent"')" -eq 3 ]
	[ "$(count '.kind == "leak" or .kind == "orphan"')" -eq 0 ]
}

@test "python orphan.py: one orphan, adopted" {
	run_mptrace -q --json "$J" -- "$PY" "$P/orphan.py"
	[ "$status" -eq 0 ]
	[ "$(count '.kind == "orphan" and .adopted_by != null')" -eq 1 ]
}

@test "python daemon.py: the daemon child is terminated by the parent, no leak" {
	run_mptrace -q --json "$J" -- "$PY" "$P/daemon.py"
	[ "$status" -eq 0 ]
	main=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" "[.processes[] | select(.signal == 15 and .killed_by.pid == $main)] | length")" -eq 1 ]
	[ "$(count '.kind == "leak" or .kind == "zombie"')" -eq 0 ]
}

@test "python pool.py: W workers, closed and joined, nothing left behind; --check=locks passes" {
	run_mptrace -q --check=locks --json "$J" -- "$PY" "$P/pool.py" -w 3 -t 6
	[ "$status" -eq 0 ] || { echo "$stderr" | tail -30; false; }
	validate_report "$J"
	[ "$(jqr "$J" '.processes | length')" -eq 4 ]
	[ "$(count '.')" -eq 0 ]
	# the workers queue on the task queue's lock while its holder reads the
	# pipe: a queue, not contention
	[ "$(jqr "$J" '[.locks[] | select(.contended)] | length')" -eq 0 ]
}

# The Pool's own threads wait on private semaphores and condition variables
# (Condition, Event, SimpleQueue, the GIL): waits of their kind, with their
# frames, and no lock finding.
pool_waits() {	# pool_waits START-METHOD
	# a file: spawn's children import the main module again
	cat > "$BATS_TEST_TMPDIR/pool.py" <<PYEOF
import multiprocessing as mp, time
def f(x):
    time.sleep(0.05)
    return x * x
if __name__ == '__main__':
    mp.set_start_method('$1')
    with mp.Pool(3) as p:
        print(sum(p.map(f, range(12), chunksize=1)))
PYEOF
	# (beside a CPU hog, waits whose holder or waiter was kept off the CPU
	# are waits for the CPU, not contention: findings.md)
	run_mptrace -q --check=locks --json "$J" -- "$PY" "$BATS_TEST_TMPDIR/pool.py"
	[ "$status" -eq 0 ] || { echo "$stderr" | tail -30; false; }
	validate_report "$J"
	main=$(jqr "$J" '.processes[0].pid')
	# the main process's long waits: conditions, named by process and place
	[ "$(jqr "$J" "[.locks[] | select(.waiters == [$main] and .class == \"condition\" and .contended == false and (.label | startswith(\"condition in python3 (\")))] | length")" -ge 1 ]
	[ "$(jqr "$J" "[.locks[] | select(.waiters == [$main] and .contended)] | length")" -eq 0 ]
	[ "$(jqr "$J" "[.locks[] | select(.label | test(\"futex:pid\"))] | length")" -eq 0 ]
	# with symbolized frames: the libc call under a CPython function
	[ "$(jqr "$J" "[.longest_lock_waits[] | select(.pid == $main and .class == \"condition\" and ([.stack[] | select(.symbol)] | length >= 3) and ([.stack[].symbol] | any(. == \"sem_wait\" or . == \"sem_clockwait\" or . == \"sem_timedwait\" or . == \"pthread_cond_timedwait\" or . == \"pthread_cond_wait\")))] | length")" -ge 1 ]
	[ "$(count ".kind == \"lock\" and (.lock | startswith(\"futex:pid$main:\"))")" -eq 0 ]
	# among them Python's own Condition/Event waits: a semaphore at the C
	# level, that signals
	[ "$(jqr "$J" "[.longest_lock_waits[] | select(.pid == $main and .class == \"condition\" and ([.stack[]?.symbol | select(. != null)] | any(startswith(\"sem_\"))))] | length")" -ge 1 ]
}

@test "python Pool (fork): --check=locks passes; the main process's waits are conditions with frames" {
	pool_waits fork
}

@test "python Pool (spawn): the same" {
	pool_waits spawn
}

@test "python producer_consumer.py and joinable_queue.py: no zombies, no leaks" {
	run_mptrace -q --json "$J" -- "$PY" "$P/producer_consumer.py"
	[ "$status" -eq 0 ]
	[ "$(count '.kind != "lock"')" -eq 0 ]
	run_mptrace -q --json "$J" -- "$PY" "$P/joinable_queue.py"
	[ "$status" -eq 0 ]
	[ "$(count '.kind != "lock"')" -eq 0 ]
	[ "$(jqr "$J" '[.processes[] | select(.signal == 15)] | length')" -ge 1 ]
}

@test "python deadlock.py: two multiprocessing.Locks in opposite orders: a deadlock over inferred holders, killed" {
	# default options but the kill; the demo's own timeout (60 s) must not
	# be what ends it (timeout: a regression of the kill fails, not hangs)
	MPTRACE_TEST_TIMEOUT=40 run_mptrace --on-deadlock=kill --json "$J" -- "$PY" "$P/deadlock.py" --timeout 60
	[ "$status" -ne 124 ]	# (137: the command itself was killed, with the tree)
	no_sanitizer_report
	validate_report "$J"
	[ "$(count '.kind == "deadlock"')" -eq 1 ] || { echo "$stderr" | tail -30; false; }
	d='[.findings[] | select(.kind == "deadlock")][0]'
	[ "$(jqr "$J" "$d.cycle | length")" -eq 2 ]
	# both children, each waiting on the semaphore the other holds, as inferred
	main=$(jqr "$J" '.processes[0].pid')
	[ "$(jqr "$J" "[$d.cycle[] | select(.pid != $main and .holder_inferred)] | length")" -eq 2 ]
	[ "$(jqr "$J" "$d.cycle[0].waits_on == $d.cycle[1].holds and $d.cycle[1].waits_on == $d.cycle[0].holds")" = true ]
	[ "$(jqr "$J" "$d.cycle[0].waits_on != $d.cycle[1].waits_on")" = true ]
	# the message names both processes and both semaphores by their names
	# (Python removes the name it gave at once: the file's own name, then)
	msg=$(jqr "$J" "$d.message")
	for pid in $(jqr "$J" "$d.cycle[].pid"); do
		[[ "$msg" == *"held by python3[$pid] (inferred)"* ]]
	done
	for id in $(jqr "$J" "$d.cycle[].waits_on"); do
		name=$(jqr "$J" ".locks[] | select(.id == \"$id\") | .name")
		[[ "$name" == /dev/shm/sem.* ]]
		[[ "$msg" == *"semaphore $name held by "*" (inferred)"* ]]
	done
	# the stream said so, and the kill ended it: the demo never reached
	# its own timeout (it would have printed so and exited 1)
	[[ "$stderr" == *"DEADLOCK "*"(inferred)"* ]]
	[[ "$output" != *"both stuck after"* ]]
	[ "$(jqr "$J" '[.processes[] | select(.killed_by.comm == "mptrace")] | length')" -ge 2 ]
	[ "$(jqr "$J" '.duration_ms < 30000')" = true ]
	# the waits carry the inferred holder too
	[ "$(jqr "$J" '[.longest_lock_waits[] | select(.holder_inferred and .holder != null)] | length')" -eq 2 ]
}

@test "python join.py: joined late the children overlap, joined early they run one after another" {
	# children in fork order, each reaped by main, which waited in join() 3 times
	kids='[.processes[] | select(.parent == 1)] | sort_by(.start_ms)'
	run_mptrace -q --json "$J" -- "$PY" "$P/join.py" --serial --unit 100
	[ "$status" -eq 0 ]
	validate_report "$J"
	[ "$(jqr "$J" "$kids | length")" -eq 3 ]
	[ "$(jqr "$J" "$kids | map(.reaped_by == $(jqr "$J" '.processes[0].pid')) | all")" = true ]
	[ "$(jqr "$J" '.processes[0].join_wait.count')" -eq 3 ]
	# serial: each child starts after the one before has exited
	[ "$(jqr "$J" "$kids | [.[1].start_ms >= .[0].exit_ms, .[2].start_ms >= .[1].exit_ms] | all")" = true ]
	# parallel: the third starts while the first (1 unit = 400 ms) still runs
	run_mptrace -q --json "$J" -- "$PY" "$P/join.py" --unit 400
	[ "$status" -eq 0 ]
	[ "$(jqr "$J" "$kids | length")" -eq 3 ]
	[ "$(jqr "$J" '.processes[0].join_wait.count')" -eq 3 ]
	[ "$(jqr "$J" "$kids | .[2].start_ms < .[0].exit_ms")" = true ]
}
