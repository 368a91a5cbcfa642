#!/usr/bin/env bats
# A suite with one test that leaks a process: `mptrace --check` names it.

setup() {
	load mptrace
	mptrace_begin_test
}

teardown() {
	mptrace_end_test
}

@test "a clean test" {
	run sh -c 'sleep 0.05 & wait'
	[ "$status" -eq 0 ]
}

@test "a test that leaks a server" {
	# (fd 3 is bats' own output: a background job must close it)
	sleep 30 >/dev/null 2>&1 3>&- &
	true
}

@test "another clean test" {
	/bin/true
}
