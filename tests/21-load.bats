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
