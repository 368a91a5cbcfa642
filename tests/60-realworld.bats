#!/usr/bin/env bats
# Real software nobody here wrote, under `mptrace --check --json`: the gate
# must pass correct programs (no false alarms), pass their own exit status
# through, lose nothing, and every finding it lists must be true.
# What --check says on each, and why: docs/ci.md "Real software".

setup() {
	load helpers/common
	require_bpf
	J="$BATS_TEST_TMPDIR/r.json"
	T="$BATS_TEST_TMPDIR"
}

# findings_true REPORT [THRESHOLD_MS]: every zombie, orphan and leak finding agrees with
# the facts: the report's own times, and /proc for what it says still runs
# (checked right after mptrace returned).
findings_true() {
	"$PY" - "$1" "${2:-1000}" <<'PYEOF'
import json, os, sys
r = json.load(open(sys.argv[1]))
threshold = float(sys.argv[2])
procs = {p["id"]: p for p in r["processes"]}
root = r["processes"][0]
bad = []

def alive(p):
    try:
        with open("/proc/%d/stat" % p["pid"]) as f:
            return f.read().split(") ")[-1][0] != "Z"
    except OSError:
        return False

for f in r["findings"]:
    k = f["kind"]
    if k in ("lock", "deadlock"):
        continue
    p = procs[f["id"]]
    par = procs.get(p["parent"])
    if k == "leak":
        if p["exit_ms"] is None:
            ok = alive(p) or f["killed"]
        else:
            ok = p["exit_ms"] - root["exit_ms"] > 100 or f["killed"]
    elif k == "orphan":
        ok = (par is not None and par["exit_ms"] is not None and
              p["orphaned_ms"] == par["exit_ms"] and
              (p["exit_ms"] is None or p["exit_ms"] >= par["exit_ms"]))
    elif k == "zombie":
        if f["reason"] == "unreaped_at_end":
            ok = p["reaped_ms"] is None
        elif f["reason"] == "never_reaped_by_parent":
            ok = par is not None and par["exit_ms"] >= p["exit_ms"] and p["reap"] != "parent"
        else:
            ok = p["zombie_counted_ms"] > threshold
    else:
        ok = False
    if not ok:
        bad.append(f["message"])
for m in bad:
    print("untrue finding:", m)
sys.exit(1 if bad else 0)
PYEOF
}

# gate_ok [THRESHOLD_MS]: the check passed, nothing was lost, the command's
# own status came through, and what was found is true.
gate_ok() {
	echo "$stderr" | grep -E '^  (ZOMBIE|ORPHAN|LEAK) ' || true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"check passed"* ]]
	[ "$(jqr "$J" '.complete')" = true ]
	[ "$(jqr "$J" '.lost_events')" -eq 0 ]
	[ "$(jqr "$J" '.exit.code')" -eq 0 ]
	findings_true "$J" "${1:-1000}"
}

cpython_mp() {
	[ -f /usr/lib/python3.11/test/_test_multiprocessing.py ] || {
		echo "libpython3.11-testsuite is missing: scripts/install-deps.sh" >&2
		return 1
	}
	# A Pool reaps its exited workers from a thread that polls every 0.1 s;
	# on a loaded CI machine that poll can come over 1 s late, a true slow
	# zombie by the default threshold (seen once at load 22 on 2 vCPUs).
	run_mptrace -q --check --zombie-threshold 5s --json "$J" -- "$PY" -m test \
		"test_multiprocessing_$1" -m WithProcessesTestPool -m WithProcessesTestQueue
	[[ "$output" == *"Tests result: SUCCESS"* ]]
	gate_ok 5000
	# the pools' workers and the suite's helpers were all seen
	[ "$(jqr "$J" '.summary.processes')" -ge 10 ]
}

@test "CPython test_multiprocessing_fork (Pool, Queue) passes the gate" {
	cpython_mp fork
}

@test "CPython test_multiprocessing_forkserver (Pool, Queue) passes the gate" {
	cpython_mp forkserver
}

@test "CPython test_multiprocessing_spawn (Pool, Queue) passes the gate" {
	cpython_mp spawn
}

# The issue's acceptance: a spawn Pool (its resource_tracker outlives the
# main process by a few ms and is reaped by a lazy pid 1) passes; a sleep
# left behind fails, named. The grace is raised so that a loaded CI machine
# cannot make the tracker late.
@test "a spawn Pool passes --check; the same with a sleep left behind fails naming it" {
	pool="import multiprocessing as mp; mp.set_start_method('spawn'); p = mp.Pool(2); p.map(abs, range(4)); p.close(); p.join()"
	run_mptrace -q --check --leak-grace=2s --json "$J" -- "$PY" -c "$pool"
	gate_ok
	tracker='.processes[] | select(.argv | join(" ") | test("resource_tracker"))'
	[ "$(jqr "$J" "[$tracker] | length")" -eq 1 ]
	[ "$(jqr "$J" "$tracker | .exit_code")" -eq 0 ]
	run_mptrace -q --check --leak-grace=2s --kill-leaks=0.5s --json "$J" -- \
		sh -c "$PY -c \"$pool\"; sleep 30 & exit 0"
	[ "$status" -eq 3 ]
	[ "$(jqr "$J" '[.findings[] | select(.kind == "leak")] | map(.comm) | join(",")')" = sleep ]
	[[ "$stderr" == *"LEAK     sleep["* ]]
	findings_true "$J"
}

@test "make -j4 of a small C project passes the gate" {
	mkdir -p "$T/proj"
	for i in $(seq 24); do
		printf 'int f%d(int x) { return x * %d; }\n' "$i" "$i" > "$T/proj/f$i.c"
	done
	printf 'int main(void) { return 0; }\n' > "$T/proj/main.c"
	cat > "$T/proj/Makefile" <<'EOF'
SRCS := $(wildcard *.c)
prog: $(SRCS:.c=.o)
	$(CC) -o $@ $^
%.o: %.c
	$(CC) -O1 -c -o $@ $<
EOF
	run_mptrace -q --check --json "$J" -- make -s -j4 -C "$T/proj"
	gate_ok
	[ -x "$T/proj/prog" ]
	[ "$(jqr "$J" '[.processes[] | select(.comm == "cc1")] | length')" -eq 25 ]
}

@test "xargs -P4 passes the gate; a failing item's status comes through" {
	run_mptrace -q --check --json "$J" -- sh -c 'seq 40 | xargs -P4 -n1 sh -c "sleep 0.0\$((\$1 % 5))" _'
	gate_ok
	[ "$(jqr "$J" '[.processes[] | select(.comm == "sleep")] | length')" -eq 40 ]
	run_mptrace -q --check --json "$J" -- sh -c 'seq 8 | xargs -P4 -n1 sh -c "exit \$((\$1 == 5))" _'
	[ "$status" -eq 123 ]	# xargs: some command failed
	[ "$(jqr "$J" '.exit.code')" -eq 123 ]
	[[ "$stderr" == *"check passed"* ]]
}

@test "pytest -n 2 (pytest-xdist) passes the gate; a failing test's status comes through" {
	"$PY" -c 'import xdist' 2>/dev/null || {
		echo "python3-pytest-xdist is missing: scripts/install-deps.sh" >&2
		return 1
	}
	cat > "$T/test_rw.py" <<'EOF'
import subprocess, pytest

@pytest.mark.parametrize("i", range(8))
def test_child(i):
    out = subprocess.run(["sh", "-c", "echo $$"], capture_output=True, text=True, check=True)
    assert out.stdout.strip().isdigit()
EOF
	cd "$T"
	run_mptrace -q --check --json "$J" -- "$PY" -m pytest -p no:cacheprovider -n 2 -q test_rw.py
	[[ "$output" == *"8 passed"* ]]
	gate_ok
	echo 'def test_fails(): assert False' > "$T/test_bad.py"
	run_mptrace -q --check --json "$J" -- "$PY" -m pytest -p no:cacheprovider -n 2 -q test_bad.py
	[ "$status" -eq 1 ]
	[ "$(jqr "$J" '.exit.code')" -eq 1 ]
	[[ "$stderr" == *"check passed"* ]]
	findings_true "$J"
}
