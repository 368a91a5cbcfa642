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

@test "report needs a file" {
	run_mptrace report
	[ "$status" -eq 2 ]
	run_mptrace top extra
	[ "$status" -eq 2 ]
}

@test "without privileges: exit 1 and a hint to use sudo" {
	[ "$(id -u)" = 0 ] || skip "needs root to switch to an unprivileged user"
	command -v setpriv >/dev/null || skip "setpriv (util-linux) is missing"
	run --separate-stderr setpriv --reuid=65534 --regid=65534 --clear-groups "$MPTRACE" -- /bin/true
	[ "$status" -eq 1 ]
	[ "${#stderr_lines[@]}" -eq 1 ]
	[[ "$stderr" == *"sudo"* ]]
}
