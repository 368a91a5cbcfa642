#!/usr/bin/env bats
# The live view (--live, mptrace top) driven inside tmux: what the screen
# shows, keys, resize, the end banner, and the fallback without a terminal.
# Screens are polled with a deadline, never read after a fixed sleep.

setup() {
	load helpers/common
	load helpers/tmux
	require_bpf
	require_examples
	tmux_setup
	S=live
	RC="$BATS_TEST_TMPDIR/rc"
	ERR="$BATS_TEST_TMPDIR/err"
}

teardown() {
	tmux_teardown
	if [ -n "${BG:-}" ]; then
		kill "$BG" 2>/dev/null || true
		wait "$BG" 2>/dev/null || true
	fi
}

# start_view ARGS...: mptrace ARGS in a 120x40 tmux pane; its stderr (the
# report) goes to $ERR and its exit status to $RC when it ends.
start_view() {
	local q="" a
	for a in "$@"; do
		q+=" $(printf '%q' "$a")"
	done
	tmux -L "$SOCK" new-session -d -s "$S" -x 120 -y 40 \
		"cd $(printf '%q' "$TOP") && env TERM=xterm-256color LC_ALL=C.UTF-8 \
		 ASAN_OPTIONS=$ASAN_OPTIONS UBSAN_OPTIONS=$UBSAN_OPTIONS \
		 $(printf '%q' "$MPTRACE")$q 2>$(printf '%q' "$ERR"); echo \$? >$(printf '%q' "$RC"); sleep 600"
}

# wait_exit [SECS]: mptrace has ended; $rc is its exit status
wait_exit() {
	local deadline=$((SECONDS + ${1:-15}))
	while [ "$SECONDS" -lt "$deadline" ]; do
		if [ -s "$RC" ]; then
			rc=$(cat "$RC")
			return 0
		fi
		sleep 0.1
	done
	echo "mptrace did not end" >&2
	screen >&2
	return 1
}

# kill_left PIDS: the sleeps an interrupted command left running (pids we started)
kill_left() {
	[ -n "$1" ] && kill $1 2>/dev/null || true
}

no_sanitizer_in_err() {
	stderr=$(cat "$ERR") output="" no_sanitizer_report
}

@test "live: the tree with tree lines, the command's output; q leaves the view and tracing goes on" {
	start_view --live -- sh -c 'echo hello-from-the-command; sleep 30 & sleep 31 & wait'
	# (a shell's wait builtin polls with WNOHANG after SIGCHLD: no join wait)
	wait_screen '^ +[0-9]+ sleeping .* sh -c '
	wait_screen '^ +[0-9]+ sleeping .* ├─ sleep 30$'
	wait_screen '^ +[0-9]+ sleeping .* └─ sleep 31$'
	wait_screen 'PID STATE +TIME EXIT +LOCKED FLAG +COMMAND'
	wait_screen '^live 3  zombies 0  orphans 0'
	wait_screen '^hello-from-the-command$'
	# the children's command column is indented under their parent's
	sh_col=$(screen | grep -E '^ +[0-9]+ .* sh -c ' | awk '{ print index($0, "sh -c") }')
	kid_col=$(screen | grep -E '├─ sleep 30$' | awk '{ print index($0, "├─") }')
	[ "$kid_col" -eq "$sh_col" ]
	left=$(screen | awk '/─ sleep 3[01]$/ { print $1 }')
	keys q
	# the view is gone, the command runs on, the stream says so
	wait_screen '^hello-from-the-command$'
	local deadline=$((SECONDS + 10))
	until grep -q 'the live view is closed; tracing goes on' "$ERR" || [ "$SECONDS" -ge "$deadline" ]; do
		sleep 0.1
	done
	grep -q 'the live view is closed; tracing goes on' "$ERR"
	wait_gone 'q quit  space pause'
	[ ! -s "$RC" ]
	for p in $left; do kill -0 "$p"; done
	# ^C at the terminal now interrupts the command, as without mptrace
	keys C-c
	wait_exit
	[ "$rc" -eq 130 ]
	grep -q 'findings:' "$ERR"
	grep -q 'LEAK' "$ERR"
	no_sanitizer_in_err
	kill_left "$left"
}

@test "live: ^C asks before it interrupts the command; n keeps it running" {
	start_view --live -- sh -c 'sleep 30 & wait'
	wait_screen '└─ sleep 30$'
	keys C-c
	wait_screen 'interrupt the command \(SIGINT, as \^C\)\? y: yes'
	keys n
	wait_screen '^q quit  space pause'
	[ ! -s "$RC" ]
	left=$(screen | awk '/─ sleep 30$/ { print $1 }')
	keys C-c
	wait_screen 'interrupt the command'
	keys y
	wait_exit
	[ "$rc" -eq 130 ]
	no_sanitizer_in_err
	kill_left "$left"
}

@test "live: STATE is the kernel's task state: sleeping, running, stopped" {
	start_view --live -- sh -c 'sleep 30 & sh -c "while :; do :; done" & sleep 31 & wait'
	wait_screen '^ +[0-9]+ sleeping .*─ sleep 30$'
	wait_screen '^ +[0-9]+ running .*─ sh -c .while :; do :; done.$'
	wait_screen '^ +[0-9]+ sleeping .*─ sleep 31$'
	stopped=$(screen | awk '/─ sleep 31$/ { print $1 }')
	[ -n "$stopped" ]
	kill -STOP "$stopped"
	wait_screen "^ +$stopped stopped "
	kill -CONT "$stopped"
	wait_screen "^ +$stopped sleeping "
	left=$(screen | awk '/─ (sleep 3[01]|sh -c .while)/ { print $1 }')
	keys C-c y
	wait_exit
	kill_left "$left"
	no_sanitizer_in_err
}

@test "live: a lock wait names its lock and holder in the row and in the details (Enter); / takes a pid" {
	start_view --live -- "$EX/ticket_demo" -n 3 --delay 1500 --lock=flock
	wait_screen '^ +[0-9]+ lock wait .*[├└]─ \[waits flock ticket_demo-[^ ]* held by ticket_demo\[[0-9]+\]\] ' 15
	waiter=$(screen | awk '/ lock wait .*held by/ { print $1; exit }')
	keys / $waiter Enter
	wait_screen "filter: $waiter\$"
	keys G Enter
	wait_screen 'process details'
	wait_screen "ticket_demo\[$waiter\]"
	wait_screen 'waits on flock /[^ ]* held by ticket_demo\[[0-9]+\] for |lock waits: [0-9]+'
	keys x
	wait_gone 'process details'
	wait_screen 'the command ended: exit 0' 30
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	no_sanitizer_in_err
}

@test "live: the output pane grows into the rows the tree leaves free" {
	start_view --live -- sh -c 'seq 101 118; sleep 30'
	wait_screen '^118$'
	# all 18 lines, not only the last 4
	screen | grep -q '^101$'
	screen | grep -q '^110$'
	left=$(screen | awk '/─ sleep 30$/ { print $1 }')
	keys C-c y
	wait_exit
	kill_left "$left"
	no_sanitizer_in_err
}

@test "live: at the end the clock stops, and the report's duration is the trace's, not the banner's" {
	start_view --live -- sh -c 'sleep 0.3'
	wait_screen 'the command ended: exit 0'
	first=$(screen | grep -oE '^mptrace -- .*\[[0-9.]+[a-z]+\]' | head -n1)
	sleep 2.5
	[ "$(screen | grep -oE '^mptrace -- .*\[[0-9.]+[a-z]+\]' | head -n1)" = "$first" ]
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	ms=$(grep -oE 'in [0-9.]+ ms' "$ERR" | grep -oE '[0-9]+' | head -n1)
	# 2.5 s were spent on the banner: they are not the trace's
	[ "$ms" -lt 2500 ]
	no_sanitizer_in_err
}

@test "live: the header's findings count is the report's" {
	# 3 buyers, 2 of them wait on the one lock: one LOCK finding, not 2
	start_view --live -- "$EX/ticket_demo" -n 3 --delay 300 --lock=flock
	wait_screen 'the command ended: exit 0' 20
	n=$(screen | grep -oE 'findings [0-9]+' | grep -oE '[0-9]+')
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	[ "$n" -ge 1 ]
	[ "$(grep -cE '^  (ZOMBIE|ORPHAN|LEAK|LOCK|DEADLOCK) ' "$ERR")" -eq "$n" ]
	no_sanitizer_in_err
}

@test "live: zombie_demo's 5 zombies show as zombies, then reaped, then the banner" {
	start_view --live -- "$EX/zombie_demo" -n 5 --sleep 3 --reap
	wait_count '^ +[0-9]+ zombie .*[├└]─ .*zombie_demo' 5 5
	# the parent sleeps: it is not waiting for them
	wait_screen '^ +[0-9]+ sleeping .* [^├└]*zombie_demo -n 5'
	wait_screen '^live 1  zombies 5 '
	wait_count '^ +[0-9]+ reaped .*Z +[├└]─ .*zombie_demo' 5 10
	wait_screen 'the command ended: exit 0 after .*press q for the report'
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	[ "$(grep -c 'ZOMBIE' "$ERR")" -ge 5 ]
	no_sanitizer_in_err
}

@test "live: ticket_demo's buyers show lock waits while they queue" {
	start_view --live --exit-on-end -- "$EX/ticket_demo" -n 4 --delay 400 --lock=flock
	wait_screen '^ +[0-9]+ lock wait .*[├└]─ .*ticket_demo'
	wait_screen '^live [0-9]+ .* lock waits/s [0-9.]+ '
	# finished waits: time in the LOCKED column and the W flag
	wait_screen ' [0-9.]+(ms|s) W +[├└]─ .*ticket_demo'
	# --exit-on-end: no banner, the report at once
	wait_exit 20
	[ "$rc" -eq 0 ]
	grep -q 'LOCK' "$ERR"
	no_sanitizer_in_err
}

@test "live: join_demo's parent shows a join wait while it waits for its children" {
	start_view --live --exit-on-end -- "$EX/join_demo" --unit 1000
	wait_screen '^ +[0-9]+ join wait .* [^├└]*join_demo --unit 1000'
	wait_count '^ +[0-9]+ (running|sleeping|reaped|zombie) .*[├└]─ .*join_demo' 3
	wait_exit 20
	[ "$rc" -eq 0 ]
	no_sanitizer_in_err
}

@test "live: / filters by command, f shows findings only, space pauses, ? helps" {
	start_view --live -- sh -c 'sleep 0.1; sleep 30 & sleep 31.5 & wait'
	wait_screen '[├└]─ sleep 31.5$'
	wait_screen '[├└]─ sleep 30$'
	keys / 31.5
	wait_screen '^filter: 31.5_'
	keys Enter
	wait_screen '^mptrace -- sh -c .*filter: 31.5'
	wait_screen '└─ sleep 31.5$'
	wait_gone 'sleep 30$'
	# the ancestor stays, as context
	screen | grep -qE '^ +[0-9]+ [a-z ]+ .* sh -c '
	# Esc cancels an edit and keeps the filter there was
	keys / x y z Escape
	wait_screen '^mptrace -- sh -c .*filter: 31.5$'
	keys / C-u Enter
	wait_screen '[├└]─ sleep 30$'
	# findings only: a reaped sleep 0.1 has none, and nothing else has yet
	keys f
	wait_screen 'findings only'
	wait_screen 'no process with findings'
	keys f
	wait_screen '[├└]─ sleep 30$'
	keys Space
	wait_screen '  PAUSED'
	wait_screen 'space resume'
	keys Space
	wait_gone PAUSED
	wait_screen 'space pause'
	keys '?'
	wait_screen 'collapse / expand the selected'
	wait_screen 'q leaves the view; the command runs on'
	keys x
	wait_gone 'collapse / expand the selected'
	# collapse the command's subtree: two rows fold into it
	keys Home c
	wait_screen '\[\+[0-9]+\] sh -c '
	wait_gone 'sleep 30$'
	keys c
	wait_screen '[├└]─ sleep 30$'
	left=$(screen | awk '/─ sleep 3[01]/ { print $1 }')
	keys C-c y
	wait_exit
	[ "$rc" -eq 130 ]
	no_sanitizer_in_err
	kill_left "$left"
}

@test "live: a resized terminal is redrawn to its new size" {
	start_view --live -- sh -c 'sleep 30 & wait'
	wait_screen '└─ sleep 30$'
	tmux -L "$SOCK" resize-window -t "$S" -x 70 -y 15
	# the status line was there before the resize: wait for the redraw
	# that puts it last, on the 15-line screen
	local deadline=$((SECONDS + 10))
	until screen | tail -n 1 | grep -q '^q quit  space pause' && screen | grep -q '└─ sleep 30$'; do
		[ "$SECONDS" -lt "$deadline" ] || { screen >&2; return 1; }
		sleep 0.1
	done
	# every line fits, and the status line is the last one
	[ "$(screen | LC_ALL=C.UTF-8 wc -L)" -le 70 ]
	[ "$(screen | wc -l)" -eq 15 ]
	screen | tail -n 1 | grep -q '^q quit'
	screen | grep -q '└─ sleep 30$'
	tmux -L "$SOCK" resize-window -t "$S" -x 120 -y 40
	wait_screen 'row 1/2$'
	[ "$(screen | wc -l)" -eq 40 ]
	screen | tail -n 1 | grep -q '^q quit'
	left=$(screen | awk '/─ sleep 30$/ { print $1 }')
	keys C-c y
	wait_exit
	no_sanitizer_in_err
	kill_left "$left"
}

@test "top: the first frame has the existing tree; a new sh with two sleeps appears" {
	sleep 47.25 &
	BG=$!
	start_view top
	wait_screen '^mptrace top: the whole system'
	# the snapshot: pid 1 is a root, and our sleep is there already
	wait_screen '^ +1 (running|sleeping) '
	keys / 47.25 Enter
	wait_screen "^ +$BG sleeping .*sleep 47.25$"
	# / takes a pid too
	keys / C-u $BG Enter
	wait_screen "^ +$BG sleeping .*sleep 47.25$"
	keys / C-u s l e e p Space 1 Enter
	sh -c 'sleep 1 & sleep 1' &
	probe=$!
	# [1]: the polling greps' own command lines must not match the filter
	wait_count '[├└]─ sleep [1]$' 2 5
	wait "$probe"
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	# a view: no whole-system report on quit unless --report, nor a burst
	# of the stream
	! grep -q 'processes, .* threads, .* in .* ms' "$ERR" || false
	! grep -qE '^ *[0-9]+\.[0-9]{3} ' "$ERR" || false
	no_sanitizer_in_err
}

@test "top: a zombie from before it started shows as a zombie" {
	# sleep 0.2's parent execs a sleep that never reaps it: a zombie for 60 s
	sh -c 'sleep 0.2 & exec sleep 60' &
	BG=$!
	local z="" deadline=$((SECONDS + 10))
	until [ -n "$z" ] && [ "$(ps -o stat= -p "$z" 2>/dev/null | cut -c1)" = Z ]; do
		z=$(pgrep -P "$BG" -x sleep | head -n1)
		[ "$SECONDS" -lt "$deadline" ] || { echo "no zombie" >&2; return 1; }
		sleep 0.1
	done
	start_view top
	wait_screen '^mptrace top: the whole system'
	wait_screen '^live [0-9]+  zombies [1-9]'
	keys / $z Enter
	# (a zombie's argv is gone from /proc: its name in brackets)
	wait_screen "^ +$z zombie .* 0 .*\\[sleep\\]\$"
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	no_sanitizer_in_err
}

@test "top --report prints the report when the view closes" {
	start_view top --report
	wait_screen '^mptrace top: the whole system'
	keys q
	wait_exit
	[ "$rc" -eq 0 ]
	grep -qE '^[0-9]+ processes, [0-9]+ threads, .* in [0-9.]+ ms' "$ERR"
	no_sanitizer_in_err
}

@test "live without a terminal says so and falls back to the event stream" {
	run_mptrace --live -- sh -c 'sleep 0.1 & wait'
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[[ "$stderr" == *"--live needs a terminal on stdout: showing the event stream instead"* ]]
	[[ "$stderr" == *"exec sleep 0.1"* ]]
}
