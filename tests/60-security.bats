#!/usr/bin/env bats
# Safe as root: what the traced command gets, and what it cannot make
# mptrace do (docs/security.md).

setup() {
	load helpers/common
	load helpers/tmux
	require_bpf
	D="$BATS_TEST_TMPDIR"
}

teardown() {
	[ -z "${SOCK:-}" ] || tmux_teardown
	# what a failed test may have left running (pids it started)
	[ -z "${LEFT:-}" ] || kill $LEFT 2>/dev/null || true
	[ -z "${NOBODY_DIR:-}" ] || rm -rf "$NOBODY_DIR"
}

# fds_of ARGS...: the descriptors a traced sh sees, as one line "0 1 2 ..."
# (bats's own 3 and 4 are closed first; what the caller passes on, here or
# from the environment, is the caller's business and reaches the command)
# (ls's own descriptor on the directory it lists is left out)
LIST_FDS='ls -l /proc/self/fd | awk '"'"'$NF !~ "^/proc/[0-9]+/fd$" && $9 ~ /^[0-9]+$/ { print $9 }'"'"' | sort -n | tr "\n" " "'
fds_of() {
	"$MPTRACE" "$@" -- sh -c "$LIST_FDS" 3>&- 4>&- 2>"$D/err"
}

@test "fds: the command inherits none of mptrace's descriptors" {
	base=$(sh -c "$LIST_FDS" 3>&- 4>&-)
	fds=$(fds_of -q -o "$D/out.txt" --events-jsonl "$D/ev.jsonl" --record "$D/r.mpt" \
		--json "$D/r.json" --junit "$D/j.xml" --svg "$D/t.svg" --perfetto "$D/p.json")
	echo "without mptrace: $base; with: $fds" >&2
	cat "$D/err" >&2
	mfd=$(comm -13 <(tr ' ' '\n' <<<"$base" | sort) <(tr ' ' '\n' <<<"$fds" | sort) | grep .)
	# MPTRACE_FD (documented, docs/ci.md) is the only one mptrace adds
	[ "$(printf '%s\n' "$mfd" | grep -c .)" -eq 1 ]
	[ "$mfd" -ge 100 ]
	[ "$("$MPTRACE" -q -- sh -c 'echo $MPTRACE_FD' 3>&- 4>&-)" = "$mfd" ]
	[ "$(comm -23 <(tr ' ' '\n' <<<"$base" | sort) <(tr ' ' '\n' <<<"$fds" | sort) | grep -c .)" -eq 0 ]
}

@test "fds: -u nobody gets 0 1 2 and MPTRACE_FD, not even root's inherited ones" {
	fds=$(fds_of -q -u nobody -o "$D/out.txt" --events-jsonl "$D/ev.jsonl" 5>/dev/null 7>"$D/x")
	echo "fds: $fds" >&2
	cat "$D/err" >&2
	mfd=$(tr ' ' '\n' <<<"$fds" | awk '$1 > 2')
	[ "$(printf '%s\n' "$mfd" | grep -c .)" -eq 1 ]
	[[ "$fds" == "0 1 2 $mfd " ]]
	[ "$mfd" -ge 100 ]
}

@test "outputs: a symbolic link is refused with one line, exit 1, the target untouched" {
	echo secret > "$D/victim"
	for opt in -o --events-jsonl --record --json --junit --svg --perfetto; do
		rm -f "$D/link"
		ln -s "$D/victim" "$D/link"
		run_mptrace -q "$opt" "$D/link" -- true
		echo "$opt: $status $stderr" >&2
		[ "$status" -eq 1 ]
		[ "$(printf '%s\n' "$stderr" | grep -c .)" -eq 1 ]
		[[ "$stderr" == *"symbolic link"* ]]
		[ "$(cat "$D/victim")" = secret ]
	done
	# a replay's outputs too
	"$MPTRACE" -q --record "$D/ok.mpt" -- true
	run_mptrace report --json "$D/link" "$D/ok.mpt"
	[ "$status" -eq 1 ]
	[[ "$stderr" == *"symbolic link"* ]]
	[ "$(cat "$D/victim")" = secret ]
}

@test "outputs: the early path check creates nothing; a refused run leaves no file" {
	run_mptrace -q --json "$D/a.json" --junit "$D/a.xml" --svg "$D/a.svg" \
		--perfetto "$D/a.pf" -o "$D/nodir/x" -- true
	[ "$status" -eq 2 ]
	[ ! -e "$D/a.json" ] && [ ! -e "$D/a.xml" ] && [ ! -e "$D/a.svg" ] && [ ! -e "$D/a.pf" ]
	# while the command runs, the reports written at the end do not exist yet
	run_mptrace -q --json "$D/b.json" -- sh -c "test -e '$D/b.json' && echo early; true"
	[ "$status" -eq 0 ]
	[[ "$output" != *early* ]]
	[ -s "$D/b.json" ]
}

@test "outputs: new files are 0644 less the umask, recordings 0600" {
	(umask 022 && "$MPTRACE" -q -o "$D/o.txt" --json "$D/r.json" --record "$D/r.mpt" -- true)
	[ "$(stat -c %a "$D/o.txt")" = 644 ]
	[ "$(stat -c %a "$D/r.json")" = 644 ]
	[ "$(stat -c %a "$D/r.mpt")" = 600 ]
	(umask 027 && "$MPTRACE" -q --svg "$D/t.svg" -- true)
	[ "$(stat -c %a "$D/t.svg")" = 640 ]
	# an existing recording is narrowed: argv can carry secrets
	rm -f "$D/r.mpt" && touch "$D/r.mpt" && chmod 644 "$D/r.mpt"
	"$MPTRACE" -q --record "$D/r.mpt" -- true
	[ "$(stat -c %a "$D/r.mpt")" = 600 ]
}

# --- -u USER: a session (and, on a terminal, a pty) of the command's own ---

@test "-u: no terminal on stdin: new session, no pty, the user's environment, pipes work" {
	printf 'a\nb\nc\n' >"$D/in"
	out=$("$MPTRACE" -q -u nobody -- sh -c \
		'tty; id -un; echo "$HOME $USER $LOGNAME $SHELL"; ps -o sid= -o pgid= -p $$; echo $$' \
		</dev/null 2>"$D/err")
	cat "$D/err" >&2
	echo "$out" >&2
	read -r -a ids <<<"$(sed -n 4p <<<"$out")"
	[ "$(sed -n 1p <<<"$out")" = "not a tty" ]
	[ "$(sed -n 2p <<<"$out")" = nobody ]
	pw=$(getent passwd nobody)
	IFS=: read -r _ _ _ _ _ home shell <<<"$pw"
	[ "$(sed -n 3p <<<"$out")" = "$home nobody nobody $shell" ]
	# the command leads its own session and process group
	[ "${ids[0]}" = "$(sed -n 5p <<<"$out")" ]
	[ "${ids[1]}" = "${ids[0]}" ]
	# a pipe in and a pipe out, as any command
	[ "$("$MPTRACE" -q -u nobody -- cat <"$D/in" | wc -l)" -eq 3 ]
}

@test "-u: a signal to mptrace reaches the command's whole group" {
	"$MPTRACE" -q -u nobody -- sh -c 'sleep 30 & echo $!; wait' </dev/null >"$D/kid" 2>"$D/err" &
	bg=$!
	for _ in $(seq 100); do [ -s "$D/kid" ] && break; sleep 0.1; done
	kid=$(cat "$D/kid")
	LEFT="$bg $kid"
	kill -TERM $bg
	timeout 20 tail --pid=$bg -f /dev/null
	# the background sleep shared the command's group: it got SIGTERM too
	# (dead: gone, or a zombie until its adopter reaps it)
	timeout 10 bash -c 'while [ -e /proc/$0 ] && [ "$(cut -d" " -f3 /proc/$0/stat 2>/dev/null)" != Z ]; do sleep 0.1; done' "$kid"
}

@test "-u on a terminal: TIOCSTI cannot push keys into the caller's root shell" {
	tmux_setup
	tmux_shell
	wait_screen '^root#'
	# nobody must reach the helper, wherever the checkout is (a 0700 home)
	NOBODY_DIR=$(mktemp -d /tmp/mpt-nobody.XXXXXX)
	chmod 0755 "$NOBODY_DIR"
	install -m 0755 "$TOP/build/tests/tiocsti" "$NOBODY_DIR/tiocsti"
	type_line "$(printf '%q' "$MPTRACE") -q -u nobody -- $(printf '%q' "$NOBODY_DIR/tiocsti") 'touch $D/pwned'; echo done-\$?"
	wait_screen '^done-[0-9]+'
	# whatever was pushed, the shell has read it before this line's output
	type_line 'echo mark-$((40 + 2))'
	wait_screen '^mark-42'
	screen >&2
	wait_screen 'tiocsti: '
	[ ! -e "$D/pwned" ]
}

@test "-u on a terminal: its own pty, keys relayed (^C), window size forwarded" {
	tmux_setup
	tmux_shell
	wait_screen '^root#'
	type_line 'tty'
	wait_screen '^/dev/pts/[0-9]+'
	mine=$(screen | grep -E '^/dev/pts/[0-9]+' | head -1)
	type_line "$(printf '%q' "$MPTRACE") -q -u nobody -- sh -c 'echo \"in=\$(tty) \$USER\"; trap \"echo size=\\\$(stty size)\" WINCH; while :; do sleep 0.1; done'; echo done-\$?"
	wait_screen '^in=/dev/pts/[0-9]+ nobody'
	theirs=$(screen | grep -E '^in=' | sed 's/^in=//; s/ .*//')
	[ "$theirs" != "$mine" ]
	tmux -L "$SOCK" resize-window -t "$S" -x 90 -y 25
	wait_screen '^size=25 90'
	# ^C typed on the terminal reaches the command through its pty
	keys C-c
	wait_screen '^(\^C)?done-130'
}

@test "-u with --live: the command's output is in the view's pane" {
	tmux_setup
	tmux_shell
	wait_screen '^root#'
	type_line "$(printf '%q' "$MPTRACE") --live -u nobody -- sh -c 'echo \"out-of-\$(id -un)\"; sleep 60' 2>$D/err; echo done-\$?"
	wait_screen '^out-of-nobody$'
	# q closes the view; tracing goes on, and ^C at the terminal (which
	# reaches mptrace only: the command has a session of its own) is passed
	# on to the command's process group
	keys q
	for _ in $(seq 150); do grep -q 'live view is closed' "$D/err" && break; sleep 0.1; done
	grep -q 'live view is closed' "$D/err"
	keys C-c
	wait_screen '^(\^C)?done-130'
}

# --- test markers: traced code writes them ---

@test "markers: a flood is capped and counted, live and replayed; the replay stays quick" {
	run_mptrace -q --record "$D/m.mpt" --json "$D/m.json" -- bash -c '
		for i in $(seq 10300); do
			printf "begin t%d\n" $i >&"$MPTRACE_FD"
			[ $((i % 1000)) -ne 0 ] || /bin/true
			printf "end t%d\n" $i >&"$MPTRACE_FD"
		done'
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[ "$(jqr "$D/m.json" '.test_markers_dropped')" -eq 300 ]
	[[ "$stderr" == *"300 test markers ignored (over 10000 kept)"* ]]
	run timeout 120 "$MPTRACE" report --json "$D/r.json" "$D/m.mpt"
	[ "$status" -eq 0 ]
	[[ "$output" == *"300 test markers ignored"* ]]
	[ "$(jqr "$D/r.json" '.test_markers_dropped')" -eq 300 ]
	validate_report "$D/r.json"
	# the trues forked inside t1000 .. t10000 are named by them
	[ "$(jqr "$D/r.json" '[.processes[] | select(.comm == "true") | .test] | join(",")')" = \
		"t1000,t2000,t3000,t4000,t5000,t6000,t7000,t8000,t9000,t10000" ]
}

# --- who sent a signal: the siginfo says, not the task that ran ---

@test "signals: alarm and a fault are the kernel's, named so in text and JSON" {
	run_mptrace --json "$D/a.json" -- "$PY" -c 'import signal, time; signal.alarm(1); time.sleep(5)'
	[ "$status" -eq 142 ]
	no_sanitizer_report
	validate_report "$D/a.json"
	[ "$(jqr "$D/a.json" '.processes[0].killed_by | "\(.kind) \(.reason) \(.pid) \(.signal)"')" = "kernel timer null 14" ]
	[[ "$stderr" == *"signal SIGALRM from the kernel (timer)"* ]]
	[[ "$stderr" == *"killed by SIGALRM from the kernel (timer)"* ]]
	run_mptrace -q --json "$D/s.json" -- "$PY" -c 'import ctypes; ctypes.string_at(0)'
	[ "$status" -eq 139 ]
	validate_report "$D/s.json"
	[ "$(jqr "$D/s.json" '.processes[0].killed_by | "\(.kind) \(.reason) \(.comm)"')" = "kernel fault null" ]
	[[ "$stderr" == *"killed by SIGSEGV"*"from the kernel (fault)"* ]]
}

@test "signals: SIGPIPE is the kernel's (broken pipe), not the writer's own" {
	run_mptrace --json "$D/p.json" --svg "$D/p.svg" --perfetto "$D/p.pf" -- sh -c 'yes | head -1'
	[ "$status" -eq 0 ]
	validate_report "$D/p.json"
	[ "$(jqr "$D/p.json" '.processes[] | select(.comm == "yes") | .killed_by | "\(.kind) \(.reason) \(.pid)"')" = "kernel broken pipe null" ]
	[[ "$stderr" == *"signal SIGPIPE from the kernel (broken pipe)"* ]]
	[[ "$stderr" != *"SIGPIPE from yes"* ]]
	grep -q 'SIGPIPE from the kernel (broken pipe)' "$D/p.svg"
	[ "$(jq -r '[.traceEvents[] | select(.cat == "signal") | .args | "\(.kind) \(.reason)"] | unique | join(",")' "$D/p.pf")" = "kernel broken pipe" ]
}

@test "signals: kill names its sender, traced or not" {
	run_mptrace -q --json "$D/k.json" -- sh -c 'sleep 5 & kill -TERM $!; wait'
	validate_report "$D/k.json"
	sh_pid=$(jqr "$D/k.json" '.processes[0].pid')
	[ "$(jqr "$D/k.json" '.processes[1].killed_by | "\(.kind) \(.pid) \(.comm) \(.reason)"')" = "process $sh_pid sh null" ]
	# from outside the tree: this test's own shell
	"$MPTRACE" -q --json "$D/u.json" -- sh -c "echo \$\$ >'$D/pid'; exec sleep 30" 2>"$D/err" &
	bg=$!
	LEFT=$bg
	for _ in $(seq 100); do [ -s "$D/pid" ] && break; sleep 0.1; done
	kill -TERM "$(cat "$D/pid")"
	wait $bg || true
	validate_report "$D/u.json"
	[ "$(jqr "$D/u.json" '.processes[0].killed_by | "\(.kind) \(.pid) \(.reason)"')" = "process $BASHPID null" ]
	grep -q "killed by SIGTERM from .*\[$BASHPID\]" "$D/err"
}

# --- text from the traced code, escaped where a terminal would act on it ---

@test "escapes: C1 controls and bidi overrides in argv never reach the stream, SVG or JSON raw" {
	c1=$(printf '\xc2\x9b')		# U+009B: CSI to xterm
	rlo=$(printf '\xe2\x80\xae')	# U+202E: right-to-left override
	lri=$(printf '\xe2\x81\xa6')	# U+2066: left-to-right isolate
	run_mptrace --json "$D/e.json" --svg "$D/e.svg" --junit "$D/e.xml" -- \
		sh -c 'exit 0' "a${c1}31mb" "admin${rlo}txt.exe" "x${lri}y"
	[ "$status" -eq 0 ]
	no_sanitizer_report
	[[ "$stderr" == *'a\xc2\x9b31mb'* ]]
	[[ "$stderr" == *'admin\xe2\x80\xaetxt.exe'* ]]
	[[ "$stderr" == *'x\xe2\x81\xa6y'* ]]
	! grep -q "$c1\|$rlo\|$lri" <<<"$stderr" || false
	! grep -q "$c1\|$rlo\|$lri" "$D/e.svg" "$D/e.xml" "$D/e.json" || false
	grep -q 'admin\\xe2\\x80\\xaetxt.exe' "$D/e.svg"
	grep -q 'admin\\u202etxt.exe' "$D/e.json"
	# the JSON string is still the same string
	[ "$(jqr "$D/e.json" '.command[4]')" = "admin${rlo}txt.exe" ]
	validate_report "$D/e.json"
}
