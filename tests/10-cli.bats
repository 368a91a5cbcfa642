#!/usr/bin/env bats
# The command line: usage errors, exit statuses, messages (docs/cli.md).

setup() {
	load helpers/common
}

@test "--help prints usage with examples and exits 0" {
	run_mptrace --help
	[ "$status" -eq 0 ]
	[[ "$output" == *"usage: mptrace"* ]]
	[[ "$output" == *"Examples:"* ]]
	[[ "$output" == *"--check"* ]]
}

@test "--version prints the version" {
	run_mptrace --version
	[ "$status" -eq 0 ]
	[[ "$output" =~ ^mptrace\ [0-9]+\.[0-9]+ ]]
}

@test "no command: exit 2 and one line with a hint" {
	run_mptrace
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"no command"*"--help"* ]]
	[ -z "$output" ]
}

@test "unknown option: exit 2, one line naming it" {
	run_mptrace --frobnicate -- true
	[ "$status" -eq 2 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"--frobnicate"* ]]
}

@test "option without its value: exit 2" {
	run_mptrace -o
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"needs a value"* ]]
}

# usage_is STATUS MESSAGE: one line on stderr, exactly, nothing on stdout
usage_is() {
	[ "$status" -eq "$1" ]
	[ "$stderr" = "$2" ]
	[ -z "$output" ]
}

@test "a missing value is a usage error naming the option, not a file named '--'" {
	cd "$BATS_TEST_TMPDIR"
	run_mptrace -q --json -- true
	usage_is 2 "mptrace: option '--json' needs a value, not '--'; write --json=VALUE for a value that starts with '-' (try 'mptrace --help')"
	run_mptrace -o -- true
	usage_is 2 "mptrace: option '-o' needs a value, not '--'; write -oVALUE for a value that starts with '-' (try 'mptrace --help')"
	run_mptrace --events-jsonl -q -- true
	usage_is 2 "mptrace: option '--events-jsonl' needs a value, not '-q'; write --events-jsonl=VALUE for a value that starts with '-' (try 'mptrace --help')"
	run_mptrace -q --json
	usage_is 2 "mptrace: option '--json' needs a value (try 'mptrace --help')"
	run_mptrace -qo
	usage_is 2 "mptrace: option '-o' needs a value (try 'mptrace --help')"
	[ ! -e "$BATS_TEST_TMPDIR/--" ]
	[ ! -e "$BATS_TEST_TMPDIR/-q" ]
}

@test "long options are not abbreviated: --jso is refused with the option it begins" {
	cd "$BATS_TEST_TMPDIR"
	run_mptrace -q --jso -- true
	usage_is 2 "mptrace: unknown option '--jso': long options are not abbreviated; did you mean --json? (try 'mptrace --help')"
	run_mptrace --chec=zombies -- true
	usage_is 2 "mptrace: unknown option '--chec' (try 'mptrace --help')"
	[ ! -e "$BATS_TEST_TMPDIR/--" ]
}

@test "a value given to a flag: the option takes no value" {
	run_mptrace --version=1
	usage_is 2 "mptrace: option '--version' takes no value (try 'mptrace --help')"
	run_mptrace --live=yes -- true
	usage_is 2 "mptrace: option '--live' takes no value (try 'mptrace --help')"
	run_mptrace --no-locks=1 -- true
	usage_is 2 "mptrace: option '--no-locks' takes no value (try 'mptrace --help')"
}

@test "an optional value written as the next word before --: did you mean --opt=value?" {
	run_mptrace --check zombies -- true
	usage_is 2 "mptrace: option '--check' takes its value only after '=': did you mean --check=zombies?"
	run_mptrace --check zombies,locks -- true
	usage_is 2 "mptrace: option '--check' takes its value only after '=': did you mean --check=zombies,locks?"
	run_mptrace --kill-leaks 1 -- true
	usage_is 2 "mptrace: option '--kill-leaks' takes its value only after '=': did you mean --kill-leaks=1?"
	run_mptrace --colour never -- true
	usage_is 2 "mptrace: option '--colour' takes its value only after '=': did you mean --colour=never?"
}

@test "-p refuses a malformed pid list: trailing, leading or doubled commas" {
	for list in 1, ,1 1,,2 1,x; do
		# accepted, it would trace pid 1 until killed
		run --separate-stderr timeout 30 "$MPTRACE" -p "$list"
		usage_is 2 "mptrace: invalid value '$list' for -p: expected a comma-separated list of process ids (try 'mptrace --help')"
	done
}

@test "bad durations and lists are rejected with what was expected" {
	run_mptrace --zombie-threshold abc -- true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'abc'"*"--zombie-threshold"* ]]
	run_mptrace --lock-threshold=-1 -- true
	[ "$status" -eq 2 ]
	run_mptrace --check=zombies,bogus -- true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"'bogus'"* ]]
	run_mptrace --color=purple -- true
	[ "$status" -eq 2 ]
	run_mptrace --check-exitcode 0 -- true
	[ "$status" -eq 2 ]
	run_mptrace --interval 0.001 -- true
	[ "$status" -eq 2 ]
}

@test "a command that does not exist: 127 and one line" {
	run -127 --separate-stderr "$MPTRACE" -- /nonexistent/cmd
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"/nonexistent/cmd"* ]]
	run -127 --separate-stderr "$MPTRACE" -- no-such-command-anywhere
	[[ "$stderr" == *"command not found"* ]]
}

@test "a script whose #! interpreter does not exist: 127 (as a shell), one line saying so" {
	require_bpf
	printf '#!/nonexistent/interp\necho hi\n' > "$BATS_TEST_TMPDIR/s.sh"
	chmod +x "$BATS_TEST_TMPDIR/s.sh"
	run -127 --separate-stderr timeout 60 "$MPTRACE" -q -- "$BATS_TEST_TMPDIR/s.sh"
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"s.sh': cannot execute: its interpreter (the #! line) or loader was not found"* ]]
}

@test "a command that is not executable: 126 and one line" {
	f="$BATS_TEST_TMPDIR/notexec"
	echo 'echo hi' > "$f"
	chmod 644 "$f"
	run_mptrace -- "$f"
	[ "$status" -eq 126 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	run_mptrace -- /tmp
	[ "$status" -eq 126 ]
}

@test "-p with a pid that does not exist: exit 2" {
	run_mptrace -p 4194000
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"4194000"* ]]
	run_mptrace -p 12,abc
	[ "$status" -eq 2 ]
}

@test "two outputs on stdout are refused, naming both" {
	run_mptrace --json - --svg - -- true
	[ "$status" -eq 2 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"--json - and --svg - both ask for stdout"* ]]
	run_mptrace report -o - --events-jsonl - x.mpt
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"-o - and --events-jsonl - both ask for stdout"* ]]
}

@test "-p and a command together are refused" {
	run_mptrace -p 1 -- true
	[ "$status" -eq 2 ]
}

@test "-u with an unknown user: exit 2" {
	run_mptrace -u no-such-user-xyz -- true
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"no-such-user-xyz"* ]]
}

@test "--check takes its list only with =: '--check zombies' runs a command named zombies" {
	run -127 --separate-stderr "$MPTRACE" --check zombies
	[[ "$stderr" == *"'zombies'"* ]]
}

@test "report needs a file; a subcommand's usage error points at its own help" {
	run_mptrace report
	usage_is 2 "mptrace: report needs a recording: mptrace report FILE.mpt (try 'mptrace report --help')"
	run_mptrace top extra
	usage_is 2 "mptrace: mptrace top takes no command (try 'mptrace top --help')"
	run_mptrace report a.mpt b.mpt
	usage_is 2 "mptrace: unexpected argument 'b.mpt' after the recording (try 'mptrace report --help')"
}

@test "report takes options after the file, as any getopt_long program" {
	cd "$BATS_TEST_TMPDIR"
	f="$TOP/tests/fuzz/corpus/orphan_demo.mpt"
	run_mptrace report "$f" --json out.json -q
	[ "$status" -eq 0 ]
	[[ "$output" == *"events lost"* ]]
	validate_report out.json
	run_mptrace report -q "$f" --json
	usage_is 2 "mptrace: option '--json' needs a value (try 'mptrace report --help')"
	run_mptrace report --check zombies "$f"
	usage_is 2 "mptrace: option '--check' takes its value only after '=': did you mean --check=zombies?"
}

@test "report --help and top --help describe their subcommand" {
	run_mptrace report --help
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: mptrace report [OPTIONS] FILE.mpt" ]
	[[ "$output" != *"-u USER"* ]]
	run_mptrace top -h
	[ "$status" -eq 0 ]
	[ "${lines[0]}" = "usage: mptrace top [OPTIONS]" ]
	[[ "$output" == *"--interval"* ]]
}

@test "every long option in the option table is in --help and in the man page" {
	opts=$(sed -n '/^static const struct option longopts/,/^};/p' "$TOP/user/opts.c" |
		grep -o '{ "[a-z-]*"' | tr -d '{ "')
	[ "$(wc -w <<<"$opts")" -ge 20 ]
	run_mptrace --help
	help="$output"
	man=$(sed 's/\\-/-/g' "$TOP/docs/mptrace.1")
	for o in $opts; do
		grep -qE -- "--$o([^a-z-]|$)" <<<"$help" || { echo "--$o is not in --help" >&2; return 1; }
		grep -qE -- "--$o([^a-z-]|$)" <<<"$man" || { echo "--$o is not in the man page" >&2; return 1; }
	done
}

@test "without privileges: exit 1 and a hint to use sudo" {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to an unprivileged user"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$MPTRACE" -- /bin/true
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"sudo"* ]]
}

@test "a kernel without BTF: exit 1 and one line saying what mptrace needs" {
	require_bpf
	# /sys/kernel/btf hidden in a mount namespace of the test's own
	run --separate-stderr timeout 60 unshare -m sh -c \
		'mount -t tmpfs none /sys/kernel/btf && exec "$0" -q -- /bin/true' "$MPTRACE"
	[ "$status" -eq 1 ]
	[ -z "$output" ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"no BTF (/sys/kernel/btf/vmlinux)"*"CONFIG_DEBUG_INFO_BTF"* ]]
}

@test "-v -v shows libbpf's messages on stderr; without -v there are none" {
	require_bpf
	run_mptrace -q -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$stderr" != *libbpf:* ]]
	run_mptrace -v -v -q -- /bin/true
	[ "$status" -eq 0 ]
	[[ "$stderr" == *"libbpf: "* ]]
	[[ "$output" != *libbpf* ]]
}

@test "the suite has no negated command that cannot fail (set -e ignores '! cmd')" {
	# write `run ! cmd`, `! cmd || false`, or poll until the condition holds
	run grep -nE '^[[:space:]]*! ' "$TOP"/tests/*.bats "$TOP"/tests/helpers/*.bash
	bad=$(grep -v '|| false$' <<<"$output" || true)
	[ -z "$bad" ] || { echo "$bad" >&2; false; }
}
