#!/bin/bash
# Runs inside the kernel-test guest (see run.sh and init), as root, chrooted
# into the host's root: mptrace from this repository's build against the C
# demos, a fork storm, every finding kind, --check, record/replay and the
# bats files named by mpt.bats= on the kernel command line. TAP lines name
# the guest's kernel; they go to the console and to /run/results/tap.
# A test that needs an optional kernel feature says so in its name, and
# expects what docs/kernels.md says of a kernel without it.
repo=$1
kv=$(uname -r)
tap=/run/results/tap
n=0
: > "$tap"
emit() { printf '%s\n' "$*" | tee -a "$tap"; }
ok() { n=$((n + 1)); emit "ok $n - $kv: $*"; }
notok() { n=$((n + 1)); emit "not ok $n - $kv: $*"; }
# check NAME CMD...: one TAP line; on failure CMD's trace goes to the log
check() {
	local name=$1 log=/tmp/kt-check.log t0=$SECONDS
	shift
	if (set -x; "$@") > "$log" 2>&1; then
		ok "$name"
	else
		notok "$name"
		sed 's/^/#   /' "$log" | tail -n 40 | tee -a "$tap"
	fi
	emit "#   ($((SECONDS - t0)) s)"
}

cd "$repo" || exit 1
if [ -f /run/results/cmd ]; then	# KT_CMD (run.sh): one command, for debugging
	timeout 600 bash /run/results/cmd > /run/results/out 2>&1
	echo "# guest done: KT_CMD exited $?" >> /run/results/out
	exit 0
fi
export M=$repo/build/mptrace EX=$repo/build/examples J=/tmp/kt.json
bats_files=${KT_BATS:-}
t_make_demo() {	# the README's first command, as on the host (the build is up to date)
	local out
	out=$(make -C "$repo" demo 2>&1) && echo "$out" && grep -q '[;,] 0 events lost' <<<"$out"
}
t_ci_gate() {	# docs/ci.md: --check names the test that leaked a process
	mpt -q --check --kill-leaks=0.5 --json "$J" -- bats "$repo/examples/ci/leaky.bats"
	[ $? = 3 ] && [ "$(count '.kind == "leak" and (.test // "" | test("leaks a server"))')" = 1 ] &&
		[ "$(count '.kind == "leak"')" = 1 ]
}

check "BTF at /sys/kernel/btf/vmlinux" test -r /sys/kernel/btf/vmlinux

# What the kernel has, read from its BTF independently of mptrace: the
# report's "features" must agree.
btf=/tmp/kt-btf.txt
bpftool btf dump file /sys/kernel/btf/vmlinux > "$btf" 2>/dev/null
btf_has() { grep -q "^\[[0-9]*\] $1 '$2'" "$btf"; }
if btf_has STRUCT file_lock_core; then
	k_holders=true
elif btf_has TYPEDEF btf_trace_flock_lock_inode; then
	# before 6.9 the holder is read from struct file_lock itself
	k_holders=true
else
	k_holders=false
fi
emit "# $kv: BTF says file lock holders can be known: $k_holders"
# futex2 (6.7), from the system call itself: ENOSYS (38) on a kernel without
timeout 120 python3 "$repo/scripts/kernel-test/futex2.py"
case $? in
0) k_futex2=true ;;
38) k_futex2=false ;;
*) k_futex2=unknown ;;
esac
emit "# $kv: futex_wait(2) and futex_wake(2) exist: $k_futex2"

mpt() { timeout 300 "$M" "$@"; }
jqr() { jq -r "$2" "$1"; }
count() { jqr "$J" "[.findings[] | select($1)] | length"; }

t_basic() {
	mpt -q --json "$J" -- sh -c 'sleep 0.1 & wait; exit 3'
	[ $? = 3 ] && [ "$(jqr "$J" '.processes | length')" = 2 ] &&
		[ "$(jqr "$J" '.lost_events')" = 0 ] && [ "$(jqr "$J" '.complete')" = true ]
}
t_features() {
	mpt -q --json "$J" -- true &&
		[ "$(jqr "$J" '.features.lock_waits')" = true ] &&
		[ "$(jqr "$J" '.features.file_lock_holders')" = "$k_holders" ] &&
		[ "$(jqr "$J" '.features.futex2')" = "$k_futex2" ] &&
		[ "$(jqr "$J" '.lost_events')" = 0 ] && [ "$(jqr "$J" '.complete')" = true ]
}
t_says_missing() {	# a missing feature is said once on stderr; a present one not at all
	local want=1
	[ "$k_holders" = true ] && want=0
	mpt -q -- true 2> /tmp/kt.err || { cat /tmp/kt.err; return 1; }
	cat /tmp/kt.err
	[ "$(grep -c 'cannot tell who holds a file lock' /tmp/kt.err)" = "$want" ]
}
t_futex2() {	# a futex_wait(2) sleep is a futex lock wait; without futex2, ENOSYS
	if [ "$k_futex2" = true ]; then
		mpt -q --json "$J" -- python3 "$repo/scripts/kernel-test/futex2.py" &&
			[ "$(jqr "$J" '[.locks[] | select(.type == "futex" and .waits >= 1)] | length')" = 1 ]
	else
		[ "$k_futex2" = false ]
	fi
}
t_storm() {
	mpt -q --json "$J" -- "$repo/build/bench/forkstorm" 2000 &&
		[ "$(jqr "$J" '.lost_events')" = 0 ] &&
		[ "$(jqr "$J" '.processes | length')" = 2001 ] &&
		[ "$(jqr "$J" '[.processes[] | select(.reap == "parent")] | length')" = 2001 ]
}
t_ticket() {	# t_ticket LOCK TYPE
	# 200 ms in the lock: the buyers overlap even on a loaded emulated machine
	mpt -q --json "$J" -- "$EX/ticket_demo" -n 3 --delay 200 --lock="$1" &&
		[ "$(jqr "$J" '.processes | length')" = 4 ] &&
		[ "$(jqr "$J" '.locks | length')" = 1 ] &&
		[ "$(jqr "$J" '.locks[0].type')" = "$2" ] &&
		[ "$(jqr "$J" '.locks[0].waits')" -ge 2 ] &&
		[ "$(count '.kind == "lock"')" = 1 ]
}
t_holder() {	# t_holder LOCK TYPE: the waits name the holder iff the kernel lets them
	local want=0
	t_ticket "$1" "$2" || return 1
	[ "$k_holders" = true ] && want=1
	[ "$(jqr "$J" '.locks[0].holders | length > 0 | if . then 1 else 0 end')" = "$want" ]
}
t_zombie_exit() {
	mpt -q --check --json "$J" -- "$EX/zombie_demo" -n 2 --sleep 0.3 --exit
	[ $? = 3 ] && [ "$(count '.kind == "zombie" and .reason == "never_reaped_by_parent"')" = 2 ]
}
t_zombie_slow() {
	mpt -q --json "$J" --zombie-threshold 300ms -- "$EX/zombie_demo" -n 2 --sleep 0.8 --reap &&
		[ "$(count '.kind == "zombie" and .reason == "slow"')" = 2 ]
}
t_zombie_end() {
	mpt -q --json "$J" -- sh -c 'sh -c "sleep 0.1 & exec sleep 10" & sleep 6'
	[ "$(count '.kind == "zombie" and .reason == "unreaped_at_end"')" = 1 ]
}
t_orphan() {
	mpt -q --json "$J" -- "$EX/orphan_demo" && [ "$(count '.kind == "orphan"')" -ge 1 ]
}
t_leak() {
	mpt -q --check --kill-leaks=0.5 --json "$J" -- sh -c 'sleep 30 >/dev/null 2>&1 & exit 0'
	[ $? = 3 ] && [ "$(count '.kind == "leak" and .killed == true')" = 1 ]
}
t_deadlock() {	# t_deadlock KIND
	mpt -q --check=deadlocks --json "$J" -- "$EX/deadlock_demo" --kind "$1" --timeout 4
	[ $? = 3 ] && [ "$(count '.kind == "deadlock"')" = 1 ]
}
t_deadlock_unseen() {	# without file lock holders: no deadlock finding, as documented
	mpt -q --json "$J" -- "$EX/deadlock_demo" --kind flock --timeout 4 2> /tmp/kt.err
	cat /tmp/kt.err
	grep -q 'cannot tell who holds a file lock' /tmp/kt.err &&
		[ "$(count '.kind == "deadlock"')" = 0 ] && [ "$(count '.kind == "lock"')" -ge 1 ]
}
t_clean_check() {
	mpt -q --check=zombies,orphans,leaks,deadlocks -- "$EX/pool_demo" -w 2 -t 4
}
t_demos() {
	local d
	for d in "join_demo" "daemon_demo" "queue_demo -p 1 -c 1 -n 3"; do
		# shellcheck disable=SC2086
		mpt -q --json "$J" -- "$EX"/$d || return 1
		[ "$(jqr "$J" '.lost_events')" = 0 ] && [ "$(jqr "$J" '.complete')" = true ] || return 1
	done
}
t_replay() {
	local s
	mpt -q --check --record /tmp/kt.mpt --json /tmp/kt.live.json -- "$EX/zombie_demo" -n 2 --sleep 0.3 --exit
	s=$?
	"$M" report -q --check --json /tmp/kt.rep.json /tmp/kt.mpt
	[ $? = "$s" ] && [ "$s" = 3 ] && diff /tmp/kt.live.json /tmp/kt.rep.json
}

check "mptrace loads and traces sh with a background child (exit 3, 2 processes, 0 lost)" t_basic
check "the report's features agree with the kernel (file_lock_holders=$k_holders, futex2=$k_futex2)" t_features
check "a missing feature is said once on stderr (file_lock_holders=$k_holders)" t_says_missing
check "futex_wait(2) sleep: one futex lock (needs futex2: $k_futex2; without it the call is ENOSYS)" t_futex2
check "fork storm of 2,000 children: lost_events 0, all reaped by the parent" t_storm
check "ticket_demo --lock=sem: one futex lock finding" t_ticket sem futex
check "ticket_demo --lock=mutex: one futex lock finding" t_ticket mutex futex
check "ticket_demo --lock=sysv: one sysv_sem lock finding" t_ticket sysv sysv_sem
check "ticket_demo --lock=flock: waits carry the holder iff file_lock_holders ($k_holders)" t_holder flock flock
check "ticket_demo --lock=fcntl: waits carry the holder iff file_lock_holders ($k_holders)" t_holder fcntl posix
check "zombie finding never_reaped_by_parent; --check exits 3" t_zombie_exit
check "zombie finding slow" t_zombie_slow
check "zombie finding unreaped_at_end" t_zombie_end
check "orphan finding" t_orphan
check "leak finding, killed by --kill-leaks; --check exits 3" t_leak
if [ "$k_holders" = true ]; then
	check "deadlock finding for two flocks (needs file_lock_holders)" t_deadlock flock
else
	check "no deadlock finding for two flocks: the kernel lacks file_lock_holders (docs/kernels.md)" t_deadlock_unseen
fi
check "deadlock finding for two process-shared mutexes" t_deadlock mutex
check "--check passes on pool_demo" t_clean_check
check "join_demo, daemon_demo, queue_demo: complete, 0 lost" t_demos
check "record -> report: identical JSON and --check status" t_replay
check "make demo: the ticket demo, traced, 0 events lost" t_make_demo
check "CI gate: --check fails on the bats test that leaks, and names it" t_ci_gate

# bats_file FILE: its TAP lines, renumbered and named with the kernel
bats_file() {
	local f=$1 out=/tmp/kt-bats.tap rc l
	timeout -k 20 900 bats --tap "tests/$f" > "$out" 2>&1
	rc=$?
	while IFS= read -r l; do
		case $l in
		"ok "*) l=${l#ok }; ok "$f: ${l#* }" ;;
		"not ok "*) l=${l#not ok }; notok "$f: ${l#* }" ;;
		"#"*) emit "#   $l" ;;
		esac
	done < "$out"
	if [ "$rc" != 0 ] && ! grep -q '^not ok' "$out"; then
		notok "$f: bats ran to the end (status $rc)"
		{ tail -n 20 "$out"; ls -l /dev/fd/ /dev/fd; grep -E ' /(proc|dev|tmp) ' /proc/mounts; } 2>&1 |
			sed 's/^/#   /' | tee -a "$tap"
	fi
}
if [ -n "$bats_files" ]; then
	export MPTRACE=$M MPTRACE_REQUIRE_BPF=1 TMPDIR=/tmp
	for f in ${bats_files//,/ }; do
		bats_file "$f"
	done
fi
emit "# guest done: $n tests"
