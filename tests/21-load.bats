#!/usr/bin/env bats
# Loading the BPF object. mptrace hands libbpf a cut-down copy of the kernel's
# BTF for its CO-RE relocations (user/corebtf.c, for start-up time): every
# relocation must come out as it does against the whole BTF, or the programs
# would read the kernel's structures at the wrong offsets.

setup() {
	load helpers/common
	require_bpf
}

@test "CO-RE against the cut-down kernel BTF resolves every relocation as the whole BTF does" {
	run timeout 120 "$TOP/build/tests/corebtf_check"
	echo "$output"
	[ "$status" -eq 0 ]
	[[ "$output" == *"relocation outcomes, the same"* ]]
	# a few hundred: the programs' field reads, not a vacuous comparison
	[ "${output%% *}" -gt 100 ]
}

# The maps of a running mptrace, one line each: type, key and value size,
# entries, flags (from /proc/PID/fdinfo; the kernel's view, not libbpf's).
map_defs() {
	local fd
	for fd in /proc/"$1"/fd/*; do
		[ "$(readlink "$fd" 2>/dev/null)" = anon_inode:bpf-map ] || continue
		awk '/^(map_type|key_size|value_size|max_entries|map_flags):/ { printf "%s ", $2 }
		     END { print "" }' /proc/"$1"/fdinfo/"${fd##*/}"
	done | sort
}

# The maps of `mptrace -v OPTS -- sleep`, read once the command runs.
maps_of_run() {
	local pid i kid defs
	"$MPTRACE" -v "$@" -q -- sleep 120 >/dev/null 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	# the command is forked before the load and execs after it (seconds
	# in an emulated guest of make kernel-test)
	for i in $(seq 1200); do
		kid=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
		[ -n "$kid" ] && [ "$(cat /proc/${kid%% *}/comm 2>/dev/null)" = sleep ] && break
		sleep 0.05
	done
	defs=$(map_defs "$pid")
	kill -TERM "$pid"
	wait "$pid" || true
	printf '%s\n' "$defs"
}

@test "the maps made beside the BTF's cut are the ones libbpf makes from the object" {
	for opts in "" "--no-locks" "--ring-size 4 --no-stacks"; do
		# shellcheck disable=SC2086
		ours=$(maps_of_run $opts)
		cat "$BATS_TEST_TMPDIR/err"
		grep -Eq 'debug: ([0-9]+) of \1 maps made beside the BTF' "$BATS_TEST_TMPDIR/err"
		# shellcheck disable=SC2086
		theirs=$(MPTRACE_TEST_MAPS_BY_LIBBPF=1 maps_of_run $opts)
		! grep -q 'maps made beside' "$BATS_TEST_TMPDIR/err" || false
		echo "opts '$opts': ours / libbpf's"
		diff <(echo "$ours") <(echo "$theirs")
		# the object's 17 maps and libbpf's own (.bss, .rodata): not an empty list
		[ "$(echo "$ours" | wc -l)" -ge 17 ]
	done
}

@test "--no-locks: the lock tables are not allocated" {
	run maps_of_run --no-locks
	echo "$output"
	# the 16,384-entry lock table (hash, 4-byte key, 96-byte value) is 1 entry
	echo "$output" | grep -q '^1 4 96 1 0x0 $'
	! echo "$output" | grep -q '^1 4 96 16384 ' || false
	run maps_of_run
	echo "$output" | grep -q '^1 4 96 16384 0x0 $'
}
