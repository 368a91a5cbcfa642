#!/usr/bin/env bash
# beside.sh MPTRACE [OPTION...] -- COMMAND [ARG...]: run COMMAND untraced while
# MPTRACE [OPTION...] traces something else (a sleep), to measure what a
# running mptrace costs the processes it does not trace: its scheduler hooks
# run for every process on the system and return early for untracked ones.
# With -a in the options, MPTRACE traces the whole system, COMMAND included.
# bench/run.sh's "untraced" and "untraced-all" variants.
set -euo pipefail

mpt=()
while (($#)) && [[ $1 != -- ]]; do
	mpt+=("$1")
	shift
done
(($# >= 2)) || { echo "usage: beside.sh MPTRACE [OPTION...] -- COMMAND [ARG...]" >&2; exit 2; }
shift

dir=$(mktemp -d "${TMPDIR:-/tmp}/mptrace-beside.XXXXXX")
mkfifo "$dir/ready"
pid=
finish() {
	if [[ -n $pid ]]; then
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf -- "$dir"
}
trap finish EXIT
if [[ " ${mpt[*]} " == *" -a "* ]]; then
	# -a traces everything: armed once its first event is written
	"${mpt[@]}" -q --events-jsonl "$dir/ev" >/dev/null 2>&1 &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		/bin/true
		[[ -s $dir/ev ]] && break
		sleep 0.05
	done
	[[ -s $dir/ev ]] || { echo "beside.sh: ${mpt[*]} did not start tracing in 30 s" >&2; exit 1; }
else
	# The traced sleep runs only once mptrace's programs are attached: its
	# first word through the fifo says the tracing is armed.
	"${mpt[@]}" -q -- sh -c 'echo armed >"$1"; exec sleep 3600' sh "$dir/ready" >/dev/null 2>&1 &
	pid=$!
	exec 3<>"$dir/ready"
	read -r -t 30 -u 3 _ || { echo "beside.sh: ${mpt[*]} did not start tracing in 30 s" >&2; exit 1; }
	exec 3<&-
fi
set +e
"$@"
st=$?
set -e
exit "$st"
