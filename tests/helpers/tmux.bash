# A tmux server of the test's own, for tests that need a real terminal:
# `load helpers/tmux` after helpers/common; tmux_setup in setup(),
# tmux_teardown in teardown(). Screens are polled with a deadline, never read
# after a fixed sleep. Sockets are named mptrace-live-PID-N after the test's
# shell, so tests/setup_suite.bash can tell one that was not cleaned up.

tmux_setup() {
	command -v tmux >/dev/null || skip "tmux is not installed"
	SOCK="mptrace-live-$$-${BATS_TEST_NUMBER}"
	S=t
}

tmux_teardown() {
	tmux -L "$SOCK" kill-server 2>/dev/null || true
	rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCK"
}

# tmux_shell: an interactive root bash, no rc files, in a 100x30 pane
tmux_shell() {
	tmux -L "$SOCK" new-session -d -s "$S" -x 100 -y 30 \
		"env -i PATH=$(printf '%q' "$PATH") HOME=/root TERM=xterm-256color LC_ALL=C.UTF-8 \
		 ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS PS1='root# ' bash --norc --noprofile"
	tmux -L "$SOCK" set -g status off
}

screen() {
	tmux -L "$SOCK" capture-pane -p -t "$S"
}

# poll_screen SECS MESSAGE CMD...: until CMD succeeds, or fail with MESSAGE
# and the last screen
poll_screen() {
	local deadline=$((SECONDS + $1)) msg=$2

	shift 2
	while [ "$SECONDS" -lt "$deadline" ]; do
		"$@" && return 0
		sleep 0.1
	done
	echo "$msg" >&2
	screen >&2
	return 1
}

screen_has() { screen | grep -qE -- "$1"; }
screen_lacks() { ! screen | grep -qE -- "$1"; }
screen_count_ge() { [ "$(screen | grep -cE -- "$1")" -ge "$2" ]; }

# wait_screen ERE [SECS]: until the screen matches (grep -E)
wait_screen() { poll_screen "${2:-15}" "the screen never matched: $1" screen_has "$1"; }

# wait_gone ERE [SECS]: until the screen no longer matches (a bare
# `! screen | grep` would not fail the test: set -e ignores a negated command)
wait_gone() { poll_screen "${2:-10}" "the screen still matches: $1" screen_lacks "$1"; }

# wait_count ERE N [SECS]: until at least N lines match
wait_count() { poll_screen "${3:-10}" "fewer than $2 lines matched: $1" screen_count_ge "$1" "$2"; }

keys() {
	tmux -L "$SOCK" send-keys -t "$S" "$@"
}

# type_line TEXT: TEXT and Enter, as typed into the pane's shell
type_line() {
	keys -l "$1"
	keys Enter
}
