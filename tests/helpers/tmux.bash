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

# wait_screen ERE [SECS]: until the screen matches (grep -E), or fail
# showing the last screen.
wait_screen() {
	local deadline=$((SECONDS + ${2:-15}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if screen | grep -qE -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "the screen never matched: $1" >&2
	screen >&2
	return 1
}

# wait_gone ERE [SECS]: until the screen no longer matches (a bare
# `! screen | grep` would not fail the test: set -e ignores a negated command)
wait_gone() {
	local deadline=$((SECONDS + ${2:-10}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if ! screen | grep -qE -- "$1"; then
			return 0
		fi
		sleep 0.1
	done
	echo "the screen still matches: $1" >&2
	screen >&2
	return 1
}

# wait_count ERE N [SECS]: until at least N lines match
wait_count() {
	local deadline=$((SECONDS + ${3:-10}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ "$(screen | grep -cE -- "$1")" -ge "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "fewer than $2 lines matched: $1" >&2
	screen >&2
	return 1
}

keys() {
	tmux -L "$SOCK" send-keys -t "$S" "$@"
}

# type_line TEXT: TEXT and Enter, as typed into the pane's shell
type_line() {
	keys -l "$1"
	keys Enter
}
