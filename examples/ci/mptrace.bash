# mptrace's bats helper: names each test for `mptrace --check`, so that a
# process leaked by a test is reported against that test (JUnit included).
#
#   setup()    { load /path/to/mptrace; mptrace_begin_test; }
#   teardown() { mptrace_end_test; }
#
# Two marks, for processes of every kind: MPTRACE_TEST in the environment
# (found by mptrace in the kernel at each exec) and begin/end markers on the
# socket mptrace passes as MPTRACE_FD (for processes that fork without exec).

mptrace_begin_test() {
	export MPTRACE_TEST="${BATS_TEST_DESCRIPTION:-$BATS_TEST_NAME}"
	if [ -n "${MPTRACE_FD:-}" ]; then
		printf 'begin %s\n' "$MPTRACE_TEST" >&"$MPTRACE_FD" 2>/dev/null || true
	fi
}

mptrace_end_test() {
	if [ -n "${MPTRACE_FD:-}" ] && [ -n "${MPTRACE_TEST:-}" ]; then
		printf 'end %s\n' "$MPTRACE_TEST" >&"$MPTRACE_FD" 2>/dev/null || true
	fi
	unset MPTRACE_TEST
}
