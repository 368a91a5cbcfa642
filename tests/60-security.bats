#!/usr/bin/env bats
# Safe as root: what the traced command gets, and what it cannot make
# mptrace do (docs/security.md).

setup() {
	load helpers/common
	require_bpf
	D="$BATS_TEST_TMPDIR"
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
