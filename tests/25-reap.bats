#!/usr/bin/env bats
# Reaps are the kernel's truth: who released a zombie and when, in any pid
# namespace, never a WNOWAIT peek, never a ptracer's wait. Each case failed
# when reaps were read from the wait syscalls' return values.

setup() {
	load helpers/common
	require_bpf
	J="$BATS_TEST_TMPDIR/r.json"
}

teardown() {
	bg_teardown
}

# the children of process $1 in the report, oldest first, as "field field ..."
kids() {
	jqr "$J" "[.processes[] | select(.ppid == $1)] | sort_by(.start_ms) | .[$2].$3"
}

@test "pid namespace: a reap by a parent in the namespace is its parent's (unshare -fp)" {
	run_mptrace -q --check --json "$J" -- timeout 20 unshare -fp sh -c 'sleep 0.2; sleep 0.2; true'
	[ "$status" -eq 0 ] || { echo "status $status"; echo "$output"; false; }
	no_sanitizer_report
	# the two sleeps: reaped by sh, their parent, by its global pid
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep")] | length')" -eq 2 ]
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep" and .reap == "parent" and .reaped_by == .ppid and .adopted_by == null)] | length')" -eq 2 ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "zombie")] | length')" -eq 0 ]
}

@test "a waitid(WNOWAIT) peek is not a reap: the zombie stays one until the real wait" {
	cat > "$BATS_TEST_TMPDIR/peek.py" <<'EOF'
import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # reports it, reaps nothing
m = os.fork()                                        # a marker after the peek
if m == 0:
    os._exit(0)
os.waitpid(m, 0)
time.sleep(0.3)
os.waitpid(pid, 0)
EOF
	run_mptrace -q --json "$J" -- "$PY" "$BATS_TEST_TMPDIR/peek.py"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	root=$(jqr "$J" '.processes[0].pid')
	[ "$(kids "$root" 0 reap)" = parent ]
	[ "$(kids "$root" 0 reaped_by)" = "$root" ]
	# reaped after the marker was born and reaped, not at the peek before it
	[ "$(jqr "$J" "([.processes[] | select(.ppid == $root)] | sort_by(.start_ms)) as \$k | \$k[0].reaped_ms > \$k[1].reaped_ms")" = true ]
}

@test "under strace -f the tracer's wait is not the reap: the parent's is" {
	command -v strace >/dev/null || { echo "strace missing (scripts/install-deps.sh)"; false; }
	cat > "$BATS_TEST_TMPDIR/late.py" <<'EOF'
import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.1)                                      # it is a zombie now
m = os.fork()                                        # a marker
if m == 0:
    os._exit(0)
os.waitpid(m, 0)
time.sleep(0.2)
os.waitpid(pid, 0)
EOF
	run_mptrace -q --json "$J" -- strace -f -o /dev/null "$PY" "$BATS_TEST_TMPDIR/late.py"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	strace=$(jqr "$J" '.processes[0].pid')
	py=$(jqr "$J" "[.processes[] | select(.ppid == $strace and .comm == \"python3\")][0].pid")
	[ "$(kids "$py" 0 reap)" = parent ]
	[ "$(kids "$py" 0 reaped_by)" = "$py" ]
	[ "$(jqr "$J" "([.processes[] | select(.ppid == $py)] | sort_by(.start_ms)) as \$k | \$k[0].reaped_ms > \$k[1].reaped_ms")" = true ]
}

@test "an auto-reaped child is never adopted, even when its release comes after its parent's exit" {
	cat > "$BATS_TEST_TMPDIR/auto.py" <<'EOF'
import os, signal
signal.signal(signal.SIGCHLD, signal.SIG_IGN)
if os.fork() == 0:
    os._exit(0)
try:
    os.wait()     # SIGCHLD ignored: ECHILD once the kernel released the child
except ChildProcessError:
    pass
os._exit(0)       # long before the child's RCU-delayed release
EOF
	run_mptrace -q --check --json "$J" -- "$PY" "$BATS_TEST_TMPDIR/auto.py"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	root=$(jqr "$J" '.processes[0].pid')
	[ "$(kids "$root" 0 reap)" = auto ]
	[ "$(kids "$root" 0 adopted_by)" = null ]
	[ "$(kids "$root" 0 zombie_ms)" = 0 ]
}

@test "-p: mptrace waits for the untraced parent that reaps the target 1 s after its exit, and names it" {
	go="$BATS_TEST_TMPDIR/go"
	kid="$BATS_TEST_TMPDIR/kid"
	ev="$BATS_TEST_TMPDIR/ev.jsonl"
	# the parent (not traced) reaps its child a second after the child exits
	"$PY" -c '
import os, sys, time
go, kid = sys.argv[1], sys.argv[2]
def wait_go():
    while not os.path.exists(go):
        time.sleep(0.02)
c = os.fork()
if c == 0:
    wait_go()
    os._exit(5)
with open(kid + ".tmp", "w") as f:
    f.write(str(c))
os.rename(kid + ".tmp", kid)
wait_go()
time.sleep(1.0)
os.waitpid(c, 0)' "$go" "$kid" 3>&- &
	p=$!
	BG=$p
	timeout 30 bash -c 'until [ -s "$1" ]; do sleep 0.02; done' _ "$kid"
	c=$(cat "$kid")
	timeout 60 "$MPTRACE" -q --json "$J" --events-jsonl "$ev" -p "$c" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	m=$!
	BG="$p $m"
	timeout 30 bash -c 'until grep -q "\"type\":\"proc\"" "$1" 2>/dev/null; do sleep 0.05; done' _ "$ev"
	touch "$go"
	st=0
	wait "$m" || st=$?
	wait "$p"
	BG=
	[ "$st" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/err"; false; }
	validate_report "$J"
	[ "$(jqr "$J" ".processes[] | select(.pid == $c) | .exit_code")" -eq 5 ]
	# its reap, a second after its exit, by its parent
	[ "$(jqr "$J" ".processes[] | select(.pid == $c) | .reap")" = parent ]
	[ "$(jqr "$J" ".processes[] | select(.pid == $c) | .reaped_by")" -eq "$p" ]
	[ "$(jqr "$J" ".processes[] | select(.pid == $c) | .reaped_ms - .exit_ms >= 900")" = true ]
}

# A release the kernel never reports (docs/design.md "Releases that never
# come") is dropped on purpose here (MPTRACE_TEST_DROP_FREES drops every
# release record but the command's): the dead parent's list of children, as
# BPF took it at its death, says who reaped.
@test "a release never seen: a parent that reaped before it died is the reaper, not its adopter" {
	cat > "$BATS_TEST_TMPDIR/k.py" <<'PYEOF'
import os, sys, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.3)          # a zombie by now: the wait below never blocks
if sys.argv[1] == "reap":
    os.waitpid(pid, 0)
time.sleep(0.2)
PYEOF
	MPTRACE_TEST_DROP_FREES=1 run_mptrace -q --json "$J" -- sh -c '"$1" "$2" reap; true' sh "$PY" "$BATS_TEST_TMPDIR/k.py"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	no_sanitizer_report
	[[ "$stderr" == *"releases never seen"*"from a dead parent's list of children"* ]]
	parent=$(jqr "$J" '[.processes[] | select(.ppid == .ppid and (.argv | length) > 0 and (.argv[-1] == "reap"))][0].pid')
	kid=$(jqr "$J" "[.processes[] | select(.ppid == $parent)][0]")
	[ "$(jq -r .reap <<<"$kid")" = parent ] || { echo "$kid"; false; }
	[ "$(jq -r .reaped_by <<<"$kid")" -eq "$parent" ]
	[ "$(jq -r .adopted_by <<<"$kid")" = null ]
	# reaped at the parent's wait, 0.3 s after its exit (not at the parent's death)
	jq -e '.zombie_ms > 200 and .zombie_ms < 450' <<<"$kid" >/dev/null || { echo "$kid"; false; }
	[ "$(jqr "$J" '.findings | length')" -eq 0 ] || { jq -c .findings "$J"; false; }
}

@test "the wait that named a child times its reap, however many waits for another follow" {
	# 20 waits for another child overrun the reaper's ring of 8 wait
	# points before the release comes: only the point kept with the child
	# itself (its tracked entry) says when it was reaped, the moment its
	# parent's join wait ended
	cat > "$BATS_TEST_TMPDIR/k.py" <<'PYEOF'
import os, time
other = os.fork()
if other == 0:
    time.sleep(1)
    os._exit(0)
pid = os.fork()
if pid == 0:
    time.sleep(0.3)
    os._exit(0)
print(pid, flush=True)
os.waitpid(pid, 0)
for _ in range(20):
    os.waitpid(other, os.WNOHANG)
os.waitpid(other, 0)
PYEOF
	run_mptrace -q --events-jsonl "$BATS_TEST_TMPDIR/ev.jsonl" -- "$PY" "$BATS_TEST_TMPDIR/k.py"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	no_sanitizer_report
	kid=${output%%$'\n'*}
	ev="$BATS_TEST_TMPDIR/ev.jsonl"
	waited=$(jq -r "select(.type == \"wait\" and .target == $kid) | .t_ms" "$ev")
	reaped=$(jq -r "select(.type == \"free\" and .pid == $kid) | .reaped_ms" "$ev")
	[ -n "$waited" ] && [ "$reaped" = "$waited" ] || { grep -E '"(wait|free|exit)"' "$ev"; false; }
}

@test "a release never seen: a child its parent left behind is the adopter's, and still a finding" {
	cat > "$BATS_TEST_TMPDIR/k.py" <<'PYEOF'
import os, time
pid = os.fork()
if pid == 0:
    os._exit(0)
time.sleep(0.3)          # dies with a zombie it never reaped
PYEOF
	MPTRACE_TEST_DROP_FREES=1 run_mptrace -q --json "$J" -- sh -c '"$1" "$2"; sleep 3' sh "$PY" "$BATS_TEST_TMPDIR/k.py"
	[ "$status" -eq 0 ] || { echo "$stderr"; false; }
	no_sanitizer_report
	kid=$(jqr "$J" '[.processes[] | select(.comm == "python3" and (.execs | length) == 0)][0]')
	[ "$(jq -r .adopted_by <<<"$kid")" != null ] || { echo "$kid"; false; }
	[ "$(jq -r .reap <<<"$kid")" != parent ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "zombie" and .reason == "never_reaped_by_parent")] | length')" -eq 1 ] ||
		{ jq -c .findings "$J"; false; }
}

@test "releases never seen: bash's subshells, command substitutions and jobs read as without the loss" {
	W='for i in 1 2 3 4; do x=$(echo $i | tr 1 2); y=$( (sleep 0.01 &) ; echo z); done; (sleep 0.05 & wait); sleep 0.1 & sleep 0.2; wait'
	run_mptrace -q --json "$J.0" -- bash -c "$W"
	[ "$status" -eq 0 ]
	MPTRACE_TEST_DROP_FREES=1 run_mptrace -q --json "$J" -- bash -c "$W"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	# the same reapers and the same findings (the four sleeps their
	# subshells orphaned), process by process
	shape='[.processes[] | [.comm, .reap, (.parent != null)]], [.findings[] | [.kind, .reason]]'
	[ "$(jq -c "$shape" "$J.0")" = "$(jq -c "$shape" "$J")" ] ||
		{ diff <(jq -c "$shape" "$J.0") <(jq -c "$shape" "$J"); false; }
	[ "$(jqr "$J" '[.findings[] | select(.kind == "orphan")] | length')" -eq 4 ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "zombie")] | length')" -eq 0 ]
}
