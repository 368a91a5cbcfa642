# Run once around every bats run (the whole suite or one file): nothing the
# tests or the demos create may stay in /tmp or /dev/shm after it.
#
# Only the names mptrace's tests and demos make are looked at, and only the
# ones that appeared during this run and stay: other runs of the suite on the
# same machine make the same names for a few seconds (their tests clean up
# after themselves), so an entry counts only if it is still there 10 s later.
# The tests give each demo TMPDIR=$BATS_TEST_TMPDIR (helpers/common.bash),
# which bats removes; what a test puts in /tmp itself, it must remove.
mptrace_leftovers() {
	local g
	# (deadlock_demo makes a folder; older versions left plain files)
	for g in /tmp/deadlock_demo-*; do
		[ -d "$g" ] && printf '%s\n' "$g"
	done
	for g in /tmp/ticket_demo-* /tmp/mpt-nobody.* /dev/shm/sem.ticket_demo-*; do
		[ -e "$g" ] && printf '%s\n' "$g"
	done
	# tests/40-live.bats's tmux sockets are named mptrace-live-PID-N after
	# the test's shell: one whose shell is gone was not cleaned up
	for g in /tmp/tmux-"$(id -u)"/mptrace-live-*; do
		[ -e "$g" ] || continue
		g=${g##*/mptrace-live-}
		kill -0 "${g%%-*}" 2>/dev/null || printf '%s\n' "/tmp/tmux-$(id -u)/mptrace-live-$g"
	done
	true
}

setup_suite() {
	export MPTRACE_LEFTOVERS_BEFORE="$BATS_RUN_TMPDIR/leftovers.before"
	mptrace_leftovers | sort >"$MPTRACE_LEFTOVERS_BEFORE"
}

teardown_suite() {
	local new
	new=$(mptrace_leftovers | sort | comm -13 "$MPTRACE_LEFTOVERS_BEFORE" -)
	[ -z "$new" ] && return 0
	sleep 10
	new=$(mptrace_leftovers | sort | comm -12 - <(printf '%s\n' "$new"))
	if [ -n "$new" ]; then
		echo "left behind by this run (tests/setup_suite.bash):" >&2
		echo "$new" >&2
		return 1
	fi
}
