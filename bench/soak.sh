#!/usr/bin/env bash
# bench/soak.sh: does mptrace run for days? `make bench` runs it after
# bench/run.sh (BENCH_SOAK=0 skips it). Not a test: it measures.
#
# For each long-running mode (top in tmux, -a, -p) it starts mptrace, then
# forks SOAK_N short-lived processes (forkstorm, in chunks of 10,000) and
# samples mptrace's RSS and CPU every 10 s. Then the idle CPU over
# SOAK_IDLE seconds, without and with a standing zombie. Then a fork chain
# SOAK_CHAIN deep in command mode: its text report, and `mptrace report` of
# its recording; and command mode with SOAK_CMD_N processes.
#
# Output: a Markdown table on stdout (docs/performance.md holds one run)
# and an SVG plot of RSS against processes forked, written to SOAK_SVG.
#
# Environment:
#   SOAK_N=1000000     processes forked per mode
#   SOAK_SECS=600      at most this long per mode (the count reached is reported)
#   SOAK_MODES="top a p"  (empty: only the chain and command mode)
#   SOAK_IDLE=60       seconds of each idle CPU measurement
#   SOAK_SETTLE=10     seconds after the storm before the idle measurement (the
#                      live view's rows of the storm's last processes linger 6 s)
#   SOAK_CHAIN=100000  depth of the fork chain (0 skips it)
#   SOAK_CMD_N=1000000 processes of the command-mode run (0 skips it)
#   SOAK_SVG=docs/img/soak.svg
#   SOAK_SAMPLES=path  keep the samples (mode secs forked rss_kb cpu_ticks)
#   MPTRACE=path       the mptrace to measure (default: build/mptrace)
set -euo pipefail

. "$(dirname -- "${BASH_SOURCE[0]}")/paths.sh"
N=${SOAK_N:-1000000}
SECS=${SOAK_SECS:-600}
MODES=${SOAK_MODES-top a p}	# SOAK_MODES= (empty): none
IDLE=${SOAK_IDLE:-60}
SETTLE=${SOAK_SETTLE:-10}
CHAIN=${SOAK_CHAIN:-100000}
CMD_N=${SOAK_CMD_N:-1000000}
SVG=${SOAK_SVG:-$root/docs/img/soak.svg}
CHUNK=10000
TICK=$(getconf CLK_TCK)

die() { printf 'soak: %s\n' "$*" >&2; exit 1; }
say() { printf '%s\n' "$*"; }

for v in N SECS IDLE SETTLE CHAIN CMD_N; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "SOAK_$v must be a whole number, not '${!v}'"
done
((N >= CHUNK)) || die "SOAK_N must be at least $CHUNK"
((EUID == 0)) || die "run it as root: mptrace loads BPF programs (sudo make bench)"
[[ -x $MPTRACE ]] || die "$MPTRACE is missing: build it first (make bench does)"
for b in forkstorm forkchain; do
	[[ -x $BIN/$b ]] || die "$BIN/$b is missing: build it first (make bench does)"
done
for t in awk python3; do
	command -v "$t" >/dev/null || die "$t is missing"
done
[[ $MODES != *top* ]] || command -v tmux >/dev/null || die "tmux is missing (Debian: apt-get install -y tmux)"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/mptrace-soak.XXXXXX")
MP=
SESSION=
ZOMBIE=
cleanup() {
	[[ -z $ZOMBIE ]] || kill "$ZOMBIE" 2>/dev/null || true
	[[ -z $SESSION ]] || tmux kill-session -t "$SESSION" 2>/dev/null || true
	if [[ -n $MP ]]; then
		kill -INT "$MP" 2>/dev/null || true
		timeout 60 tail --pid="$MP" -f /dev/null 2>/dev/null || kill -KILL "$MP" 2>/dev/null || true
	fi
	rm -rf -- "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || echo 0; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0; }

# wait_armed FILE PID: mptrace has taken its /proc snapshot (event lines)
wait_armed() {
	local i
	for ((i = 0; i < 3000; i++)); do
		[[ -s $1 ]] && return 0
		kill -0 "$2" 2>/dev/null || die "mptrace exited before it was armed: $(tail -n 3 "$tmp/err")"
		sleep 0.1
	done
	die "mptrace was not armed after 300 s: $(tail -n 3 "$tmp/err")"
}

# idle_cpu PID: percent of one CPU over IDLE seconds
idle_cpu() {
	local a b
	a=$(cpu_ticks "$1")
	sleep "$IDLE"
	b=$(cpu_ticks "$1")
	awk -v a="$a" -v b="$b" -v t="$TICK" -v s="$IDLE" 'BEGIN { printf "%.2f", (b - a) * 100 / t / s }'
}

# sampler PID MODE: every 10 s, "mode secs forked rss_kb cpu_ticks" into samples
sampler() {
	local t0=$SECONDS
	while kill -0 "$1" 2>/dev/null; do
		printf '%s %s %s %s %s\n' "$2" $((SECONDS - t0)) "$(cat "$tmp/forked" 2>/dev/null || echo 0)" \
			"$(rss_kb "$1")" "$(cpu_ticks "$1")" >>"$tmp/samples"
		sleep 10
	done
}

# The storm: a shell that waits for the go (so that -p can attach to it
# first), then forks up to N processes in chunks of 10,000 for at most SECS
# seconds, and notes mptrace's RSS after the first 10,000.
cat >"$tmp/storm.sh" <<'EOF2'
# storm.sh FIFO MPTRACE_PID N SECS CHUNK FORKSTORM DIR
read -r _ <"$1"
t0=$SECONDS done=0
while [ $done -lt "$3" ] && [ $((SECONDS - t0)) -lt "$4" ]; do
	"$6" "$5" || exit 1
	done=$((done + $5))
	echo $done >"$7/forked"
	if [ $done -eq "$5" ]; then
		sleep 2
		# -p starts mptrace after this shell: its pid is in a file
		mp=$2; [ "$mp" != 0 ] || mp=$(cat "$7/mp.pid")
		awk '/^VmRSS:/ { print $2 }' "/proc/$mp/status" >"$7/r10k"
	fi
done
echo $((SECONDS - t0)) >"$7/secs"
read -r _ <"$1"	# alive until measured: -p ends when its tree is gone
EOF2

# idle MODE PID: idle CPU without, then with, a standing zombie
idle() {
	if [[ $1 == p ]]; then	# it sees its own tree only: nothing to idle on
		IDLE0[$1]=- IDLEZ[$1]=-
		return
	fi
	IDLE0[$1]=$(idle_cpu "$2")
	# sleep 0 exits at once; the sleep 600 that execs over sh never reaps it
	sh -c 'sleep 0 & exec sleep 600' &
	ZOMBIE=$!
	sleep 2
	IDLEZ[$1]=$(idle_cpu "$2")
	kill "$ZOMBIE" 2>/dev/null || true
	wait "$ZOMBIE" 2>/dev/null || true
	ZOMBIE=
}

declare -A R10K RSSN RSS0 FORKED SECS_USED IDLE0 IDLEZ IDLES

run_mode() {
	local mode=$1 pid spid driver
	rm -f "$tmp/go" "$tmp/forked" "$tmp/r10k" "$tmp/secs" "$tmp/ev.jsonl" "$tmp/mp.pid"
	mkfifo "$tmp/go"
	echo 0 >"$tmp/forked"
	case $mode in
	top)
		SESSION=mptrace-soak-$$
		tmux new-session -d -s "$SESSION" -x 160 -y 48 \
			"exec $MPTRACE top --events-jsonl $tmp/ev.jsonl 2>$tmp/err"
		sleep 1
		pid=$(tmux list-panes -t "$SESSION" -F '#{pane_pid}')
		;;
	a)
		"$MPTRACE" -a -q --events-jsonl "$tmp/ev.jsonl" -o /dev/null 2>"$tmp/err" &
		pid=$!
		;;
	esac
	if [[ $mode == p ]]; then
		bash "$tmp/storm.sh" "$tmp/go" 0 "$N" "$SECS" "$CHUNK" "$BIN/forkstorm" "$tmp" &
		driver=$!
		"$MPTRACE" -p "$driver" -q --events-jsonl "$tmp/ev.jsonl" -o /dev/null 2>"$tmp/err" &
		pid=$!
		echo "$pid" >"$tmp/mp.pid"
	fi
	MP=$pid
	wait_armed "$tmp/ev.jsonl" "$pid"
	rm -f "$tmp/ev.jsonl"	# only the sign it was armed; /tmp stays small
	RSS0[$mode]=$(rss_kb "$pid")
	# the machine is shared: the CPU of this same wait before the storm
	# is the baseline the idle figures after it compare with
	if [[ $mode == p ]]; then
		IDLES[$mode]=-
	else
		IDLES[$mode]=$(idle_cpu "$pid")
	fi
	if [[ $mode != p ]]; then
		bash "$tmp/storm.sh" "$tmp/go" "$pid" "$N" "$SECS" "$CHUNK" "$BIN/forkstorm" "$tmp" &
		driver=$!
	fi
	sampler "$pid" "$mode" &
	spid=$!
	echo go >"$tmp/go"
	while [[ ! -s $tmp/secs ]]; do
		kill -0 "$driver" 2>/dev/null || die "the storm failed under $mode"
		sleep 1
	done
	sleep 2
	FORKED[$mode]=$(<"$tmp/forked")
	SECS_USED[$mode]=$(<"$tmp/secs")
	R10K[$mode]=$(<"$tmp/r10k")
	RSSN[$mode]=$(rss_kb "$pid")
	sleep "$SETTLE"
	idle "$mode" "$pid"
	kill "$spid" 2>/dev/null || true
	wait "$spid" 2>/dev/null || true
	echo done >"$tmp/go"
	wait "$driver" 2>/dev/null || true
	if [[ $mode == top ]]; then
		tmux kill-session -t "$SESSION" 2>/dev/null || true
		SESSION=
	else
		kill -INT "$pid" 2>/dev/null || true
	fi
	timeout 120 tail --pid="$pid" -f /dev/null || kill -KILL "$pid" 2>/dev/null || true
	MP=
}

say "mptrace soak: $(date -u '+%Y-%m-%d %H:%M UTC'); $(uname -sr), $(nproc) CPUs; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
say "mptrace: $MPTRACE ($("$MPTRACE" --version 2>&1 | head -n 1)); N=$N, at most $SECS s a mode, idle windows $IDLE s, $SETTLE s after the storm"
say ""
: >"$tmp/samples"
for m in $MODES; do
	run_mode "$m"
done

mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
pc() { [[ $1 == - ]] && echo - || echo "$1%"; }
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%+.1f%%", (a - b) * 100 / b; else print "?" }'; }

if [[ -n $MODES ]]; then
	say "| mode | processes forked | s | RSS at start | after 10,000 | after all | all vs 10,000 | CPU before the storm | idle CPU after | after, a zombie standing |"
	say "|---|---|---|---|---|---|---|---|---|---|"
	for m in $MODES; do
		name=$m
		[[ $m == top ]] && name="mptrace top (tmux)" || name="mptrace -$m -q"
		say "| $name | ${FORKED[$m]} | ${SECS_USED[$m]} | $(mb "${RSS0[$m]}") MB | $(mb "${R10K[$m]}") MB | $(mb "${RSSN[$m]}") MB | $(pct "${RSSN[$m]}" "${R10K[$m]}") | $(pc "${IDLES[$m]}") | $(pc "${IDLE0[$m]}") | $(pc "${IDLEZ[$m]}") |"
	done
	say ""
fi

if ((CHAIN)); then
	/usr/bin/time -f '%e %M' -o "$tmp/t.live" "$MPTRACE" -q --record "$tmp/chain.mpt" \
		-o "$tmp/chain.txt" -- "$BIN/forkchain" "$CHAIN" || die "the fork chain failed"
	/usr/bin/time -f '%e %M' -o "$tmp/t.rep" "$MPTRACE" report -q "$tmp/chain.mpt" >"$tmp/rep.txt" ||
		die "mptrace report of the chain failed"
	# GNU time puts "Command exited with non-zero status N" first, if so
	read -r lsec lkb < <(tail -n 1 "$tmp/t.live")
	read -r rsec rkb < <(tail -n 1 "$tmp/t.rep")
	say "fork chain $CHAIN deep (command mode): live run ${lsec} s, peak RSS $(mb "$lkb") MB, text report $(stat -c %s "$tmp/chain.txt") bytes; recording $(stat -c %s "$tmp/chain.mpt") bytes; \`mptrace report\` ${rsec} s, peak RSS $(mb "$rkb") MB, text report $(stat -c %s "$tmp/rep.txt") bytes"
	rm -f "$tmp/chain.mpt" "$tmp/chain.txt" "$tmp/rep.txt"
fi
if ((CMD_N)); then
	/usr/bin/time -f '%e %M' -o "$tmp/t.cmd" "$MPTRACE" -q -o "$tmp/cmd.txt" -- "$BIN/forkstorm" "$CMD_N" ||
		say "(the command-mode run exited $?: $(head -n 1 "$tmp/t.cmd"))"
	read -r csec ckb < <(tail -n 1 "$tmp/t.cmd")
	[[ -e $tmp/cmd.txt ]] || : >"$tmp/cmd.txt"
	say "command mode, forkstorm $CMD_N: ${csec} s, peak RSS $(mb "$ckb") MB, text report $(stat -c %s "$tmp/cmd.txt") bytes ($(grep -o '^[0-9]* processes' "$tmp/cmd.txt" || echo '? processes'))"
	rm -f "$tmp/cmd.txt"
fi

# RSS against processes forked, one line per mode
if [[ -n $MODES ]]; then
	mkdir -p -- "$(dirname -- "$SVG")"
	python3 "$here/soak_plot.py" "$tmp/samples" "$SVG"
	[[ -z ${SOAK_SAMPLES:-} ]] || cp -- "$tmp/samples" "$SOAK_SAMPLES"
	say ""
	say "RSS every 10 s against processes forked: $SVG"
fi
